"""``POST /chat`` under every strategy, with the real 270M model as router brain.

A 270M model often answers the routing question badly. Whatever it says, the
request must succeed: a usable answer routes (strategy ``llm``/``tool``), an
unusable one or a failed brain call goes to ``default_tier`` (llm, tool) or
the scorer's tier (hybrid) with a warning and a count in
``octoroute_router_brain_failures_total``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from e2e_support import MAX_TOKENS, TIERS, Octoroute, Servers, main_config, metric_value
from octoroute.routing import brain

pytestmark = pytest.mark.e2e

StartOctoroute = Callable[[dict[str, Any]], Octoroute]
# No rule decides a short question_answer; the scorer is sure of it (fast).
NO_RULE = {"prompt": "What is the capital of France?", "task_type": "question_answer"}
# The scorer cannot read this one (low confidence): under hybrid the brain must decide.
UNSURE = {"prompt": "Kuinka voin parantaa puutarhani maaperää ennen ensi kevään istutuksia, kun savimaa "
                    "on tiivistä ja vesi jää seisomaan sateen jälkeen?"}


def brain_calls(router: Octoroute) -> float:
    """Attempts on the router tier's endpoints: every brain call is one (or more)."""
    text = router.metrics()
    return sum(metric_value(text, "octoroute_endpoint_requests_total", endpoint=e)
               for e in ("balanced-a", "balanced-b"))


def assert_answered(body: dict[str, Any]) -> None:
    assert isinstance(body["response"], str)
    assert body["model_used"] == "gemma"
    assert body["tier"] in TIERS
    assert body["endpoint"] in ("fast-a", "balanced-a", "balanced-b", "deep-b")
    assert 0 < body["token_count"] <= MAX_TOKENS
    assert body["token_count_estimated"] is False  # llama.cpp reports usage
    assert body["attempts"] == 1


def assert_brain_outcome(router: Octoroute, body: dict[str, Any], strategy: str,
                         failures_before: float) -> None:
    """Usable answer: routed by the brain. Unusable: default tier (llm, tool) or the scorer's
    tier (hybrid), a warning, one failure counted."""
    failures = router.metric("octoroute_router_brain_failures_total")
    if body["routing_strategy"] == strategy:
        assert body["routed_tier"] in TIERS
        assert not any("router brain" in w for w in body["warnings"]), body["warnings"]
        assert failures == failures_before
        assert body["rule"] is None
    elif strategy == "llm" and body["routing_strategy"] == "rule":  # hybrid's fallback
        assert body["rule"] == "scorer"
        assert any("router brain" in w and "scorer's tier" in w for w in body["warnings"]), body
        assert failures == failures_before + 1
    else:
        assert body["routing_strategy"] == "default", body
        assert body["routed_tier"] == "balanced"  # routing.default_tier
        assert any("router brain" in w and "default tier balanced" in w for w in body["warnings"]), body
        assert failures == failures_before + 1
        assert body["rule"] is None


def test_rule_strategy_routes_without_the_brain(servers: Servers, octoroute: StartOctoroute) -> None:
    router = octoroute(main_config(servers, strategy="rule"))

    casual = router.chat("hi there!")
    assert_answered(casual)
    assert (casual["routing_strategy"], casual["rule"], casual["tier"]) == ("rule", "casual_short", "fast")
    assert casual["endpoint"] == "fast-a"

    unmatched = router.chat(**NO_RULE)  # no rule: the scorer decides (was: default_tier)
    assert_answered(unmatched)
    assert (unmatched["routing_strategy"], unmatched["rule"]) == ("rule", "scorer")
    assert unmatched["tier"] == "fast"
    assert unmatched["endpoint"] == "fast-a"
    assert unmatched["warnings"] == []
    assert brain_calls(router) == 0


@pytest.mark.parametrize("strategy", ["llm", "tool"])
def test_brain_strategies_route_every_request(servers: Servers, octoroute: StartOctoroute,
                                              strategy: str) -> None:
    router = octoroute(main_config(servers, strategy=strategy))
    before = router.metric("octoroute_router_brain_failures_total")

    body = router.chat(**NO_RULE)

    assert_answered(body)
    assert_brain_outcome(router, body, strategy, before)
    assert body["routing_time_ms"] > 10  # a real model call, not a table lookup
    answered_on_balanced = body["endpoint"].startswith("balanced")
    assert brain_calls(router) == 1 + answered_on_balanced
    assert router.metric("octoroute_requests_total", strategy=body["routing_strategy"]) == 1


def test_hybrid_asks_the_brain_only_when_the_scorer_is_unsure(servers: Servers,
                                                               octoroute: StartOctoroute) -> None:
    router = octoroute(main_config(servers, strategy="hybrid"))

    ruled = router.chat("hi there!")
    assert_answered(ruled)
    assert (ruled["routing_strategy"], ruled["tier"]) == ("rule", "fast")
    assert brain_calls(router) == 0
    sure = router.chat(**NO_RULE)
    assert (sure["routing_strategy"], sure["tier"]) == ("rule", "fast")
    assert brain_calls(router) == 0

    before = router.metric("octoroute_router_brain_failures_total")
    asked = router.chat(**UNSURE)
    assert_answered(asked)
    assert_brain_outcome(router, asked, "llm", before)
    assert brain_calls(router) >= 1


def test_a_brain_that_times_out_falls_back_to_the_default_tier(servers: Servers,
                                                               octoroute: StartOctoroute) -> None:
    # 10 ms is far less than even a 270M model needs to answer: the brain call always times out.
    router = octoroute(main_config(servers, strategy="llm", routing={"router_timeout_seconds": 0.01}))

    body = router.chat(**NO_RULE)

    assert_answered(body)
    assert body["routing_strategy"] == "default"
    assert body["tier"] == "balanced"
    assert any("router brain timeout" in w for w in body["warnings"]), body["warnings"]
    assert router.metric("octoroute_router_brain_failures_total", reason="timeout") == 1
    assert router.metric("octoroute_requests_total", tier="balanced", strategy="default") == 1


def test_a_brain_answer_that_repeats_the_question_is_unusable(servers: Servers) -> None:
    question = brain.build_question(NO_RULE["prompt"], task_type="question_answer", importance="normal",
                                    tokens=7)
    payload = brain.question_payload("gemma", question, use_tool=False)
    data = requests.post(servers.a.base_url + "/chat/completions", json=payload, timeout=120).json()
    answer = data["choices"][0]["message"]["content"] or ""
    if not answer.startswith(question.split("\n", 1)[0]):
        pytest.skip(f"the model did not repeat the question this time: {answer!r}")

    assert brain.answer_tier(data)[0] is None, f"{answer!r} was read as a decision"
