"""``POST /chat`` end to end: waitress on a real socket, fake OpenAI servers behind it.

Covers the rule table's routes and the response fields, what is forwarded
upstream, explicit models, the router-brain strategies (hybrid, llm, tool)
and their failures, request ids, error shapes, logs and the seed's metrics.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fakes import (
    FakeBackend,
    answer,
    brain_says,
    delayed,
    endpoint,
    error,
    make_config,
    refused_url,
    sample,
    tool_call,
)

# No rule decides this one: question_answer, far fewer than 200 tokens (the scorer says fast).
NO_RULE_PROMPT = "What is the capital of France?"
# The scorer cannot read this one (low confidence): hybrid asks the brain.
UNSURE_PROMPT = ("Kuinka voin parantaa puutarhani maaperää ennen ensi kevään istutuksia, kun savimaa on "
                 "tiivistä ja vesi jää seisomaan sateen jälkeen?")


def trio_config(trio: SimpleNamespace, **sections: Any) -> Any:
    return make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                       **sections)


def served_by(trio: SimpleNamespace) -> dict[str, int]:
    """How many ordinary (non-router) chat requests each fake received."""
    return {t: len(getattr(trio, t).chats()) for t in ("fast", "balanced", "deep")}


# --- rules and response fields ----------------------------------------------

RULE_CASES = [
    # prompt, extra request fields, tier, rule, task type
    ("hi there", {}, "fast", "casual_short", "casual_chat"),
    ("Tell me about tides", {"importance": "high", "task_type": "question_answer"}, "deep",
     "high_importance", "question_answer"),
    ("Look at these numbers", {"task_type": "deep_analysis"}, "deep", "deep_analysis", "deep_analysis"),
    ("Something about the sea", {"task_type": "creative_writing"}, "deep", "creative_writing",
     "creative_writing"),
    ("fix this loop for me", {"task_type": "code"}, "balanced", "code", "code"),
    ("x" * 4100, {"task_type": "code"}, "deep", "code_long", "code"),  # 1025 tokens
    ("q" * 800, {"task_type": "question_answer"}, "balanced", "medium_question_answer",
     "question_answer"),  # exactly 200 tokens
    ("s" * 8188, {"task_type": "document_summary"}, "balanced", "medium_document_summary",
     "document_summary"),  # exactly 2047 tokens
]


@pytest.mark.parametrize(("prompt", "fields", "tier", "rule", "task_type"), RULE_CASES,
                         ids=[c[3] for c in RULE_CASES])
def test_each_seed_rule_routes_to_its_tier_with_every_response_field(
        trio, serve, prompt, fields, tier, rule, task_type):
    # The seed's table, kept as rules_preset = "seed".
    live = serve(trio_config(trio, routing={"rules_preset": "seed"}))
    resp = live.chat(prompt, **fields)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    backend: FakeBackend = getattr(trio, tier)
    assert body["response"] == f"answer from {backend.name}"
    assert body["model_used"] == backend.model
    assert body["tier"] == tier
    assert body["routed_tier"] == tier
    assert body["endpoint"] == backend.name
    assert body["routing_strategy"] == "rule"
    assert body["rule"] == rule
    assert body["task_type"] == task_type
    assert body["token_count"] == 7  # the fake's usage.completion_tokens
    assert isinstance(body["processing_time_ms"], (int, float)) and body["processing_time_ms"] >= 0
    assert body["request_id"] == resp.headers["X-Request-ID"]
    assert body["warnings"] == []
    assert body["routing_confidence"] == 1.0 and body["routing_reason"] == f"rule {rule} matched"
    assert resp.headers["X-Octoroute-Rule"] == rule
    assert served_by(trio) == {t: int(t == tier) for t in ("fast", "balanced", "deep")}


DEFAULT_CASES = [
    # prompt, extra request fields, tier, rule, task type: the default preset and the scorer
    ("hi there", {}, "fast", "casual_short", "casual_chat"),
    ("Tell me about tides", {"importance": "high", "task_type": "question_answer"}, "deep",
     "high_importance", "question_answer"),
    ("Look at these numbers", {"task_type": "deep_analysis"}, "deep", "scorer", "deep_analysis"),
    ("Something about the sea", {"task_type": "creative_writing"}, "fast", "scorer", "creative_writing"),
    ("fix this loop for me", {"task_type": "code"}, "balanced", "scorer", "code"),
    ("Prove that there are infinitely many primes", {}, "deep", "scorer", "reasoning"),
]


@pytest.mark.parametrize(("prompt", "fields", "tier", "rule", "task_type"), DEFAULT_CASES,
                         ids=[f"{c[3]}-{c[4]}" for c in DEFAULT_CASES])
def test_default_preset_and_scorer_route_with_their_reason(trio, serve, prompt, fields, tier, rule,
                                                           task_type):
    live = serve(trio_config(trio))
    resp = live.chat(prompt, **fields)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["tier"], body["routing_strategy"], body["rule"], body["task_type"]) == (
        tier, "rule", rule, task_type)
    assert 0 < body["routing_confidence"] <= 1 and body["routing_reason"]
    assert prompt.lower() not in body["routing_reason"].lower()
    assert resp.headers["X-Octoroute-Rule"] == rule
    assert float(resp.headers["X-Octoroute-Confidence"]) == body["routing_confidence"]
    assert resp.headers["X-Octoroute-Reason"] == body["routing_reason"]


def test_task_type_is_inferred_and_reported(trio, serve):
    live = serve(trio_config(trio))
    body = live.chat("Write a python function that reverses a list").json()
    assert body["task_type"] == "code"
    assert body["tier"] == "balanced"


def test_token_count_is_estimated_when_the_backend_reports_no_usage(fake_backend, trio, serve):
    trio.fast.chat_default = answer("a" * 40, tokens=None)
    live = serve(trio_config(trio))
    body = live.chat("hi there").json()
    assert body["response"] == "a" * 40
    assert body["token_count"] == 10  # 40 characters // 4


# --- what is forwarded upstream --------------------------------------------

def test_forwarded_body_and_authorization(trio, serve):
    config = make_config(
        {"fast": [endpoint(trio.fast, temperature=0.3, max_tokens=100, api_key_env="FAST_KEY")],
         "balanced": [trio.balanced], "deep": [trio.deep]},
        env={"FAST_KEY": "sekrit-123"})
    live = serve(config)
    prompt = "hi there, how is it going"
    assert live.chat(prompt).status_code == 200
    assert live.chat(prompt, temperature=1.5, max_tokens=5000).status_code == 200
    assert live.chat(prompt, max_tokens=40).status_code == 200
    assert live.chat("Something", task_type="code").status_code == 200  # -> balanced

    first, second, third = trio.fast.chats()
    assert first.json["model"] == trio.fast.model
    assert first.json["messages"] == [{"role": "user", "content": prompt}]
    assert first.json["temperature"] == 0.3  # the endpoint's default
    assert first.json["max_tokens"] == 100  # the endpoint's cap when the client sends none
    assert second.json["temperature"] == 1.5
    assert second.json["max_tokens"] == 100  # capped
    assert third.json["max_tokens"] == 40
    for r in (first, second, third):
        assert r.headers["authorization"] == "Bearer sekrit-123"
    (plain,) = trio.balanced.chats()
    assert "authorization" not in plain.headers
    assert plain.json["temperature"] == 0.7  # the documented default


def test_client_authorization_header_is_not_forwarded(trio, serve):
    live = serve(trio_config(trio))
    resp = live.chat("hi there", headers={"Authorization": "Bearer client-key"})
    assert resp.status_code == 200
    (received,) = trio.fast.chats()
    assert "authorization" not in received.headers


# --- explicit model ---------------------------------------------------------

@pytest.mark.parametrize(("model", "tier"), [
    ("deep", "deep"), ("deep_120b", "deep"), ("fast_8b", "fast"), ("balanced_30b", "balanced"),
    ("balanced-1", "balanced"),  # an endpoint id
])
def test_explicit_model_skips_routing(trio, serve, model, tier):
    live = serve(trio_config(trio))
    body = live.chat("hi there", model=model).json()  # the rules would say fast
    assert body["routing_strategy"] == "explicit"
    assert body["tier"] == tier and body["routed_tier"] == tier
    assert body["endpoint"] == getattr(trio, tier).name
    assert served_by(trio)[tier] == 1


def test_model_auto_routes(trio, serve):
    live = serve(trio_config(trio))
    body = live.chat("hi there", model="auto").json()
    assert body["routing_strategy"] == "rule" and body["tier"] == "fast"


def test_unknown_model_is_404_with_the_valid_list(trio, serve):
    live = serve(trio_config(trio))
    resp = live.chat("hi there", model="gpt-17")
    assert resp.status_code == 404
    err = resp.json()["error"]
    assert err["param"] == "model"
    assert "gpt-17" in err["message"]
    assert {"fast", "balanced", "deep", "deep_120b", "fast-1", "balanced-1", "deep-1"} <= set(err["valid"])
    assert err["request_id"] == resp.headers["X-Request-ID"]
    assert served_by(trio) == {"fast": 0, "balanced": 0, "deep": 0}


# --- strategies and the router brain -----------------------------------------

def test_rule_strategy_without_a_rule_match_is_decided_by_the_scorer(trio, serve):
    # Was: "default" strategy on default_tier. The scorer now always has a verdict.
    live = serve(trio_config(trio, routing={"strategy": "rule", "default_tier": "deep"}))
    body = live.chat(NO_RULE_PROMPT).json()
    assert (body["routing_strategy"], body["rule"]) == ("rule", "scorer")
    assert body["tier"] == "fast" and body["routed_tier"] == "fast"
    live = serve(trio_config(trio, routing={"strategy": "rule", "default_tier": "deep"}))
    body = live.chat(UNSURE_PROMPT).json()  # unsure, but `rule` never asks the brain
    assert (body["routing_strategy"], body["rule"]) == ("rule", "scorer")
    assert body["routing_confidence"] < 0.5 and "cannot tell" in body["routing_reason"]
    assert all(not getattr(trio, t).brain_questions() for t in ("fast", "balanced", "deep"))


def test_hybrid_asks_the_brain_only_when_the_scorer_is_unsure(trio, serve):
    trio.balanced.brain_default = brain_says("DEEP")
    live = serve(trio_config(trio, routing={"strategy": "hybrid", "router_tier": "balanced"}))
    ruled = live.chat("hi there").json()
    assert ruled["routing_strategy"] == "rule" and ruled["tier"] == "fast"
    assert trio.balanced.brain_questions() == []
    sure = live.chat(NO_RULE_PROMPT).json()  # no rule, but the scorer is sure
    assert sure["routing_strategy"] == "rule" and sure["tier"] == "fast"
    assert trio.balanced.brain_questions() == []

    body = live.chat(UNSURE_PROMPT).json()
    assert body["routing_strategy"] == "llm"
    assert body["tier"] == "deep" and body["routed_tier"] == "deep"
    assert body["warnings"] == []
    (question,) = trio.balanced.brain_questions()
    assert question.json["model"] == trio.balanced.model
    assert question.json["temperature"] == 0
    assert 0 < question.json["max_tokens"] <= 64
    assert "tools" not in question.json
    assert UNSURE_PROMPT in question.user_text
    assert served_by(trio) == {"fast": 2, "balanced": 0, "deep": 1}
    again = live.chat(UNSURE_PROMPT).json()  # the brain's answer is cached for a repeated prompt
    assert again["routing_strategy"] == "llm" and again["tier"] == "deep"
    assert len(trio.balanced.brain_questions()) == 1


def test_brain_question_truncates_a_long_prompt(trio, serve):
    live = serve(trio_config(trio, routing={"strategy": "llm"}))
    prompt = "tell me " + "z" * 5000 + " TAILMARKER"
    assert live.chat(prompt).status_code == 200
    (question,) = trio.balanced.brain_questions()
    assert "z" * 400 in question.user_text
    assert "TAILMARKER" not in question.user_text
    assert len(question.user_text) < 2500


@pytest.mark.parametrize(("said", "tier"), [
    ("DEEP", "deep"), ("  fast.", "fast"), ("**Balanced**", "balanced"), ("FAST_8B", "fast"),
    ("deep_120b\n", "deep"),
])
def test_llm_strategy_follows_the_brain(trio, serve, said, tier):
    trio.balanced.brain_default = brain_says(said)
    live = serve(trio_config(trio, routing={"strategy": "llm"}))
    body = live.chat("hi there").json()  # a rule would say fast; llm asks anyway
    assert body["routing_strategy"] == "llm"
    assert body["tier"] == tier
    assert len(trio.balanced.brain_questions()) == 1


def test_the_brains_tokens_are_counted_apart_from_the_requests(trio, serve):
    trio.balanced.brain_default = brain_says("deep")  # its usage: 3 in, 1 out
    live = serve(trio_config(trio, routing={"strategy": "llm"}))
    assert live.chat("hi there").json()["tier"] == "deep"
    assert live.metric("octoroute_router_brain_tokens_total", endpoint="balanced-1", direction="in") == 3
    assert live.metric("octoroute_router_brain_tokens_total", endpoint="balanced-1", direction="out") == 1
    # The client's own request is counted where it was served, the brain's call is not added there.
    assert live.metric("octoroute_tokens_total", tier="balanced", endpoint="balanced-1", direction="in") == 0
    trio.balanced.brain_default = answer("fast", tokens=None)  # no usage: estimated from the texts
    assert live.chat("what is the capital of Peru?").json()["tier"] == "fast"
    (_, question) = trio.balanced.brain_questions()
    estimated_in = live.metric("octoroute_router_brain_tokens_total", endpoint="balanced-1", direction="in")
    assert estimated_in == 3 + len(question.user_text) // 4  # the seed's estimate: characters // 4


@pytest.mark.parametrize("said", ["I'd rather not say", "FAST or DEEP", "", "quick"])
def test_unusable_brain_answer_falls_back_to_default_tier(trio, serve, said):
    trio.fast.brain_default = brain_says(said)
    live = serve(trio_config(trio, routing={"strategy": "llm", "router_tier": "fast",
                                            "default_tier": "deep"}))
    resp = live.chat(NO_RULE_PROMPT)
    assert resp.status_code == 200
    body = resp.json()
    assert body["routing_strategy"] == "default"
    assert body["tier"] == "deep"
    assert len(body["warnings"]) == 1 and "deep" in body["warnings"][0]
    assert live.metric("octoroute_router_brain_failures_total", reason="unusable") == 1
    assert live.metric("octoroute_requests_total", tier="deep", strategy="default") == 1


@pytest.mark.parametrize("down", ["http_503", "refused"])
def test_brain_down_falls_back_to_default_tier(fake_backend, trio, serve, down):
    if down == "refused":
        router_endpoints: list[Any] = [endpoint(refused_url(), id="fast-down")]
    else:
        trio.fast.brain_default = error(503)
        router_endpoints = [trio.fast]
    config = make_config({"fast": router_endpoints, "balanced": [trio.balanced], "deep": [trio.deep]},
                         routing={"strategy": "llm", "router_tier": "fast", "default_tier": "balanced"})
    live = serve(config)
    resp = live.chat(NO_RULE_PROMPT)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["routing_strategy"] == "default"
    assert body["tier"] == "balanced"
    assert body["warnings"] and "balanced" in body["warnings"][0]
    assert live.metric("octoroute_router_brain_failures_total", reason="unavailable") == 1
    # The router call's failure counts toward that endpoint's health.
    router_id = "fast-down" if down == "refused" else "fast-1"
    assert live.models()[router_id]["consecutive_failures"] == 1


def test_brain_timeout_falls_back_quickly(trio, serve):
    gate = threading.Event()
    trio.balanced.brain_default = delayed(gate, brain_says("DEEP"))
    live = serve(trio_config(trio, routing={"strategy": "llm", "router_timeout_seconds": 0.5,
                                            "default_tier": "fast"}))
    started = time.monotonic()
    resp = live.chat(NO_RULE_PROMPT)
    elapsed = time.monotonic() - started
    gate.set()
    assert resp.status_code == 200
    body = resp.json()
    assert body["routing_strategy"] == "default" and body["tier"] == "fast"
    assert body["warnings"]
    assert live.metric("octoroute_router_brain_failures_total", reason="timeout") == 1
    assert elapsed < 5.0


def test_tool_strategy_forces_the_tool_and_reads_the_call(trio, serve):
    trio.balanced.brain_default = tool_call("deep")
    live = serve(trio_config(trio, routing={"strategy": "tool"}))
    body = live.chat("hi there").json()
    assert body["routing_strategy"] == "tool"
    assert body["tier"] == "deep"
    (question,) = trio.balanced.brain_questions()
    tools = question.json["tools"]
    assert [t["function"]["name"] for t in tools] == ["select_tier"]
    params = tools[0]["function"]["parameters"]
    assert set(params["properties"]["tier"]["enum"]) == {"fast", "balanced", "deep"}
    assert question.json["tool_choice"] == {"type": "function", "function": {"name": "select_tier"}}
    assert question.json["temperature"] == 0


def test_tool_strategy_accepts_a_text_answer(trio, serve):
    trio.balanced.brain_default = brain_says("FAST")
    live = serve(trio_config(trio, routing={"strategy": "tool"}))
    body = live.chat(NO_RULE_PROMPT).json()
    assert body["routing_strategy"] == "tool"
    assert body["tier"] == "fast"


def test_tool_strategy_with_a_bogus_tool_call_uses_default(trio, serve):
    trio.balanced.brain_default = tool_call("enormous")
    live = serve(trio_config(trio, routing={"strategy": "tool", "default_tier": "deep"}))
    body = live.chat(NO_RULE_PROMPT).json()
    assert body["routing_strategy"] == "default" and body["tier"] == "deep"
    assert body["warnings"]
    assert live.metric("octoroute_router_brain_failures_total", reason="unusable") == 1


# --- metrics ------------------------------------------------------------------

def test_seed_metrics_count_requests_invocations_and_routing_time(trio, serve):
    live = serve(trio_config(trio))
    for _ in range(2):
        assert live.chat("hi there").status_code == 200
    assert live.chat("fix it", task_type="code").status_code == 200
    text = live.metrics_text()
    assert sample(text, "octoroute_requests_total", tier="fast", strategy="rule") == 2
    assert sample(text, "octoroute_requests_total", tier="balanced", strategy="rule") == 1
    assert sample(text, "octoroute_requests_total", tier="deep", strategy="rule") == 0
    assert sample(text, "octoroute_model_invocations_total", tier="fast") == 2
    assert sample(text, "octoroute_model_invocations_total", tier="balanced") == 1
    assert sample(text, "octoroute_routing_duration_ms_count", strategy="rule") == 3
    bounds = {float(s.labels["le"]) for family in text_string_to_metric_families(text)
              for s in family.samples
              if s.name == "octoroute_routing_duration_ms_bucket" and s.labels["strategy"] == "rule"}
    assert min(bounds) == 0.1 and max(bounds - {float("inf")}) == 1000.0
    assert sample(text, "octoroute_routing_duration_ms_bucket", strategy="rule", le="+Inf") == 3
    assert sample(text, "octoroute_in_flight_requests") == 0
    assert sample(text, "octoroute_endpoint_latency_seconds_count", endpoint="fast-1") == 2


def test_request_duration_histogram_observes_chat_requests(trio, serve):
    """``octoroute_request_duration_seconds`` is exported, so it must be fed."""
    live = serve(trio_config(trio))
    assert live.chat("hi there").status_code == 200
    assert live.metric("octoroute_request_duration_seconds_count", route="/chat") == 1


# --- errors, request ids, logs ---------------------------------------------

def assert_json_error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    err = resp.json()["error"]
    assert err["message"] and err["type"]
    assert err["request_id"] == resp.headers["X-Request-ID"]
    return err


def test_unknown_route_is_404_json(trio, serve):
    live = serve(trio_config(trio))
    err = assert_json_error(live.get("/nope"), 404)
    assert "/chat" in err["message"]


def test_wrong_method_is_405_json(trio, serve):
    live = serve(trio_config(trio))
    resp = live.get("/chat")
    assert_json_error(resp, 405)
    assert "POST" in resp.headers["Allow"]


def test_oversized_body_is_413_json(trio, serve):
    live = serve(trio_config(trio, server={"max_body_bytes": 1000}))
    resp = live.post("/chat", json={"prompt": "p" * 2000})
    err = assert_json_error(resp, 413)
    assert "1000" in err["message"]
    assert served_by(trio) == {"fast": 0, "balanced": 0, "deep": 0}


def test_unsupported_content_type_is_415_json(trio, serve):
    live = serve(trio_config(trio))
    resp = live.post("/chat", data=b'{"prompt": "hi"}', headers={"Content-Type": "text/plain"})
    assert_json_error(resp, 415)


def test_body_without_content_type_or_as_curl_form_is_accepted(trio, serve):
    live = serve(trio_config(trio))
    form = live.post("/chat", data=b'{"prompt": "hi there"}',
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 200, form.text
    bare = live.post("/chat", data=b'{"prompt": "hi there"}')
    assert bare.status_code == 200, bare.text


def test_invalid_json_and_unknown_field_are_400_naming_the_problem(trio, serve):
    live = serve(trio_config(trio))
    assert_json_error(live.post("/chat", data=b"{nope", headers={"Content-Type": "application/json"}), 400)
    err = assert_json_error(live.post("/chat", json={"prompt": "hi", "imporance": "high"}), 400)
    assert err["param"] == "imporance"
    assert "importance" in err["message"]


def test_valid_request_id_is_echoed(trio, serve):
    live = serve(trio_config(trio))
    rid = "client-Req_1.2-" + "a" * 100
    resp = live.chat("hi there", headers={"X-Request-ID": rid})
    assert resp.headers["X-Request-ID"] == rid
    assert resp.json()["request_id"] == rid
    err = live.get("/nope", headers={"X-Request-ID": rid})
    assert err.headers["X-Request-ID"] == rid
    assert err.json()["error"]["request_id"] == rid


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "semi;colon", "quote\"d", "slash/ed"])
def test_invalid_request_id_is_replaced(trio, serve, bad):
    live = serve(trio_config(trio))
    resp = live.chat("hi there", headers={"X-Request-ID": bad})
    rid = resp.headers["X-Request-ID"]
    assert rid != bad
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,128}", rid)
    assert resp.json()["request_id"] == rid


def test_prompt_text_never_reaches_logs_at_info(trio, serve, caplog):
    trio.fast.enqueue(error(500))  # a failed attempt logs a warning too
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]})
    live = serve(config)
    secret = "zebra-quokka-7731 hi there"
    caplog.set_level(logging.INFO, logger="octoroute")
    assert live.chat(secret, model="fast_8b").status_code == 502  # explicit tier, one endpoint
    assert live.chat(secret).status_code == 200
    assert live.chat(secret, model="nope").status_code == 404
    live.settle()  # access lines are logged once their responses have been sent
    records = [r for r in caplog.records if r.name.startswith("octoroute")]
    assert any(r.levelno == logging.WARNING for r in records)  # the failed attempt
    access = [r for r in records if r.name == "octoroute.access"]
    assert len(access) == 3  # one line per request
    for r in records:
        everything = r.getMessage() + repr(getattr(r, "fields", None)) + repr(r.args)
        assert "zebra-quokka" not in everything, (r.name, everything)
    assert any(getattr(r, "fields", {}).get("prompt_chars") == len(secret) for r in access)


def test_every_log_line_of_a_request_carries_its_request_id(trio, serve):
    from octoroute.logs import RequestIdFilter

    seen: list[tuple[str, str, dict[str, Any]]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append((record.name, record.request_id, dict(getattr(record, "fields", {}) or {})))

    handler = Collect(level=logging.DEBUG)
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("octoroute")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        trio.fast.enqueue(error(500))  # logs a failed attempt, then falls back
        live = serve(trio_config(trio))
        resp = live.chat("hi there", headers={"X-Request-ID": "trace-me-1"})
        live.settle()  # the access line follows the response
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert resp.status_code == 200
    mine = [s for s in seen if s[0] in ("octoroute.access", "octoroute.dispatch")]
    assert {s[0] for s in mine} == {"octoroute.access", "octoroute.dispatch"}
    assert all(s[1] == "trace-me-1" for s in mine), mine
    (access,) = [s[2] for s in mine if s[0] == "octoroute.access"]
    assert access["status"] == 200
    assert access["strategy"] == "rule" and access["tier"] == "balanced"
    assert access["endpoint"] == "balanced-1" and access["attempts"] == 2
    assert access["prompt_chars"] == len("hi there") and access["duration_ms"] >= 0


def test_default_importance_comes_from_config(trio, serve):
    live = serve(trio_config(trio, routing={"default_importance": "high"}))
    body = live.chat("Tell me about tides", task_type="question_answer").json()
    assert body["importance"] == "high" and body["tier"] == "deep"
    body = live.chat("Tell me about tides", task_type="question_answer", importance="low").json()
    assert body["importance"] == "low" and body["routing_strategy"] == "rule" and body["tier"] == "fast"


def test_brain_tries_another_endpoint_of_the_router_tier(fake_backend, trio, serve):
    second = fake_backend("balanced-2", brain=brain_says("DEEP"))
    trio.balanced.brain_default = error(500)
    config = make_config({"fast": [trio.fast],
                          "balanced": [endpoint(trio.balanced, priority=2), second],
                          "deep": [trio.deep]},
                         routing={"strategy": "llm"})
    live = serve(config)
    body = live.chat(NO_RULE_PROMPT).json()
    assert body["routing_strategy"] == "llm" and body["tier"] == "deep"
    assert body["warnings"] == []
    assert len(trio.balanced.brain_questions()) == 1 and len(second.brain_questions()) == 1


def test_router_brain_respects_the_overall_request_deadline(trio, serve):
    """The request deadline bounds the router call too, not just router_timeout_seconds."""
    gate = threading.Event()
    trio.balanced.brain_default = delayed(gate, brain_says("DEEP"))
    live = serve(trio_config(trio, routing={"strategy": "llm", "router_timeout_seconds": 10},
                             server={"request_timeout_seconds": 0.5}, timeouts={"balanced": 4}))
    started = time.monotonic()
    resp = live.chat(NO_RULE_PROMPT)
    elapsed = time.monotonic() - started
    gate.set()
    assert resp.status_code in (200, 504), resp.text
    assert elapsed < 2.5, f"a 0.5 s request deadline took {elapsed:.1f} s"


def test_concurrent_requests_are_served_in_parallel(trio, serve):
    from concurrent.futures import ThreadPoolExecutor

    from fakes import barrier

    n = 6
    together = threading.Barrier(n)
    trio.fast.chat_default = barrier(together, answer(), timeout=5.0)
    live = serve(trio_config(trio, server={"threads": n + 4, "max_in_flight": n}))
    with ThreadPoolExecutor(n) as pool:
        responses = list(pool.map(lambda i: live.chat(f"hi there {i}"), range(n)))
    assert [r.status_code for r in responses] == [200] * n, [r.text for r in responses]
    assert len({r.json()["request_id"] for r in responses}) == n
    assert live.metric("octoroute_in_flight_requests") == 0
    assert live.models()["fast-1"]["in_flight"] == 0


def test_chunked_body_over_the_limit_is_413(trio, serve):
    live = serve(trio_config(trio, server={"max_body_bytes": 1000}))

    def chunks():
        yield b'{"prompt": "'
        for _ in range(20):
            yield b"p" * 100
        yield b'"}'

    resp = live.post("/chat", data=chunks(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413, resp.text
    assert resp.json()["error"]["request_id"] == resp.headers["X-Request-ID"]
