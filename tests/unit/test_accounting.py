"""``octoroute.api.accounting``: the stream's usage tap, estimates, fallback codes."""

from __future__ import annotations

import json
from typing import Any

from octoroute.api.accounting import (
    UsageTap,
    account,
    brain_verdict,
    estimate_tokens,
    failures,
    fallback_reason,
    messages_chars,
    with_usage_requested,
)
from octoroute.backends.failover import Attempt
from octoroute.routing.router import Decision
from octoroute.stats import Stats

from fakes import delta_event, endpoint, make_config, sse_event

USAGE_CHUNK = sse_event({"id": "c", "object": "chat.completion.chunk", "choices": [],
                         "usage": {"prompt_tokens": 12, "completion_tokens": 34, "total_tokens": 46}})


def decision(tier: str = "fast", **fields: Any) -> Decision:
    return Decision(tier, "rule", "casual_chat", True, "normal", 3, **fields)


def test_estimates_round_up_and_count_text_parts() -> None:
    assert [estimate_tokens(n) for n in (0, 1, 4, 5)] == [0, 1, 1, 2]
    messages = [{"role": "system", "content": "abcd"},
                {"role": "user", "content": [{"type": "text", "text": "efgh"},
                                             {"type": "image_url", "image_url": {"url": "x" * 99}}]},
                "not a message"]
    assert messages_chars(messages) == 8


def test_include_usage_is_added_unless_the_client_asked() -> None:
    body, asked = with_usage_requested({"stream": True, "stream_options": {"other": 1}})
    assert body["stream_options"] == {"other": 1, "include_usage": True} and not asked
    body, asked = with_usage_requested({"stream": True, "stream_options": {"include_usage": False}})
    assert body["stream_options"] == {"include_usage": True} and not asked
    original = {"stream": True, "stream_options": {"include_usage": True}}
    body, asked = with_usage_requested(original)
    assert body is original and asked


def test_the_tap_drops_the_usage_only_chunk_when_the_client_did_not_ask() -> None:
    tap = UsageTap(strip=True)
    first = delta_event("Hello", role=True) + delta_event(" world", finish="stop")
    assert tap(first) == first
    assert tap(USAGE_CHUNK + b"data: [DONE]\n\n") == b"data: [DONE]\n\n"
    assert tap.usage == (12, 34) and tap.answer_chars == len("Hello world")


def test_the_tap_keeps_the_usage_chunk_for_a_client_that_asked() -> None:
    tap = UsageTap(strip=False)
    events = delta_event("hi") + USAGE_CHUNK
    assert tap(events) == events and tap.usage == (12, 34)


def test_the_tap_keeps_a_chunk_that_has_choices_and_usage() -> None:
    """Some servers put usage on the last content chunk: that chunk is content, never dropped."""
    tap = UsageTap(strip=True)
    event = sse_event({"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 2}})
    assert tap(event) == event and tap.usage == (1, 2)


def test_the_tap_ignores_null_usage_and_text_that_only_mentions_usage() -> None:
    tap = UsageTap(strip=True)
    mention = delta_event('the JSON key \\"usage\\": {} is documented')
    null = sse_event({"choices": [{"index": 0, "delta": {"content": "a"}}], "usage": None})
    assert tap(mention + null) == mention + null and tap.usage is None


def test_the_tap_handles_crlf_events_and_a_partial_tail() -> None:
    tap = UsageTap(strip=True)
    crlf = USAGE_CHUNK.replace(b"\n", b"\r\n")
    assert tap(crlf + b"data: [DONE]\r\n\r\n") == b"data: [DONE]\r\n\r\n" and tap.usage == (12, 34)


def test_failures_read_attempts_and_their_dicts() -> None:
    attempts = [Attempt("deep-1", "deep", "timeout", "slow", 1.0),
                Attempt("deep-2", "deep", "success", None, 0.1)]
    assert failures(attempts) == [("deep-1", "deep", "timeout")]
    assert failures([a.as_dict() for a in attempts]) == [("deep-1", "deep", "timeout")]


def test_fallback_reasons() -> None:
    timeout = [("deep-1", "deep", "timeout")]
    assert fallback_reason(decision("deep"), "balanced", timeout) == "tier_fallback:timeout"
    assert fallback_reason(decision("deep"), "balanced", []) == "tier_fallback:unavailable"
    assert fallback_reason(decision("deep"), "deep", [("deep-1", "deep", "http_error")]) \
        == "endpoint_failover:http_error"
    assert fallback_reason(decision("fast", brain="failed"), "fast", []) == "brain_failed"
    assert fallback_reason(decision("fast"), "fast", []) is None
    assert fallback_reason(decision("deep"), None, timeout) is None  # failed, not a fallback


def test_brain_verdicts() -> None:
    assert brain_verdict(decision("fast")) is None
    assert brain_verdict(decision("deep", brain="answered", scorer_tier="deep")) == "agreed"
    assert brain_verdict(decision("deep", brain="cached", scorer_tier="fast")) == "disagreed"
    assert brain_verdict(decision("fast", brain="failed", scorer_tier="fast")) == "failed"


def test_account_estimates_without_usage_and_records_the_decision() -> None:
    cfg = make_config({"fast": [endpoint("http://127.0.0.1:9/v1", id="fast-1")],
                       "balanced": [endpoint("http://127.0.0.1:9/v1", id="balanced-1")],
                       "deep": [endpoint("http://127.0.0.1:9/v1", id="deep-1")]})
    stats = Stats(cfg.endpoints)
    fast = cfg.endpoints[0]
    assert account(stats, api="chat", request_id="r1", decision=decision(rule="scorer", reason="short"),
                   endpoint=fast, attempts=[], usage=None, prompt_chars=9, answer_chars=40,
                   duration_s=0.5, status=200, prompt="the prompt") == (3, 10, True)
    assert account(stats, api="openai", request_id="r2", decision=decision("deep"), endpoint=None,
                   attempts=[{"endpoint": "deep-1", "tier": "deep", "outcome": "timeout"}], usage=None,
                   prompt_chars=9, answer_chars=0, duration_s=1.0, status=504) == (0, 0, False)
    total = stats.snapshot()["windows"]["total"]
    assert (total["tokens_estimated"], total["errors"]) == (13, 1)
    assert total["by_endpoint"]["deep-1"]["errors"] == 1
    newest, oldest = stats.decisions()
    assert (newest["status"], newest["endpoint"], newest["tier"]) == (504, None, "deep")
    assert (oldest["rule"], oldest["reason"], oldest["estimated"]) == ("scorer", "short", True)
    assert oldest["api"] == "chat"
    assert json.dumps(stats.decisions())  # plain JSON
