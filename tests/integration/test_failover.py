"""Failover and tier fallback through a real waitress server and faulty fake backends.

Each fake fault must make the request move on to another endpoint when one
can serve it, and otherwise end in a clear JSON error (502, 504, 429) that
names what was tried and carries the request id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from fakes import (
    Behaviour,
    FakeBackend,
    drop,
    endpoint,
    error,
    hang,
    invalid_json,
    make_config,
    no_choices,
    rate_limited,
    refused_url,
    stall_after_headers,
    trickle,
    truncated,
)

NO_RULE_PROMPT = "What is the capital of France?"  # routed by the catch-all rule "pin" below
TIERS = ("fast", "balanced", "deep")
FALLBACK = {"fast": ["balanced", "deep"], "balanced": ["deep", "fast"], "deep": ["balanced", "fast"]}


def chats(*backends: FakeBackend) -> int:
    return sum(len(b.chats()) for b in backends)


@pytest.fixture
def pair(fake_backend: Callable[..., FakeBackend], trio: SimpleNamespace) -> SimpleNamespace:
    """Two fast endpoints (``bad`` is tried first) plus the trio's balanced and deep."""
    return SimpleNamespace(bad=fake_backend("fast-bad"), good=fake_backend("fast-good"),
                           balanced=trio.balanced, deep=trio.deep)


def pair_config(pair: SimpleNamespace, bad: Any = None, **sections: Any) -> Any:
    bad_entry = bad if bad is not None else endpoint(pair.bad, priority=2)
    return make_config({"fast": [bad_entry, endpoint(pair.good, priority=1)],
                        "balanced": [pair.balanced], "deep": [pair.deep]}, **sections)


FAULTS: dict[str, tuple[Behaviour, str]] = {
    "http_500": (error(500), "http_error"),
    "http_502": (error(502), "http_error"),
    "http_503": (error(503), "http_error"),
    "http_404": (error(404, "model not found"), "http_error"),
    "invalid_json": (invalid_json(), "bad_response"),
    "no_choices": (no_choices(), "bad_response"),
    "truncated_body": (truncated(), "bad_response"),
    "accept_then_close": (drop(), "*"),  # the outcome label is an implementation choice
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_on_first_endpoint_fails_over_within_the_tier(pair, serve, fault):
    behaviour, outcome = FAULTS[fault]
    pair.bad.chat_default = behaviour
    live = serve(pair_config(pair))
    resp = live.chat("hi there")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["endpoint"] == "fast-good"
    assert body["tier"] == "fast" and body["warnings"] == []
    assert body["attempts"] == 2
    assert len(pair.bad.chats()) == 1  # a generation that may have started is never re-sent
    assert len(pair.good.chats()) == 1
    bad = live.models()["fast-bad"]
    assert bad["consecutive_failures"] == 1 and bad["last_error"]
    assert bad["healthy"] is True  # one failure is not unhealthy_after (3)
    if outcome != "*":
        assert live.metric("octoroute_endpoint_requests_total", endpoint="fast-bad",
                           outcome=outcome) == 1
    assert live.metric("octoroute_endpoint_requests_total", endpoint="fast-good",
                       outcome="success") == 1
    assert live.metric("octoroute_model_invocations_total", tier="fast") == 2


def test_connection_refused_fails_over(pair, serve):
    live = serve(pair_config(pair, bad=endpoint(refused_url(), id="fast-refused", priority=2)))
    resp = live.chat("hi there")
    assert resp.status_code == 200, resp.text
    assert resp.json()["endpoint"] == "fast-good"
    assert live.models()["fast-refused"]["consecutive_failures"] == 1
    assert live.metric("octoroute_endpoint_requests_total", endpoint="fast-refused",
                       outcome="connect_error") == 1


def test_hung_endpoint_times_out_and_fails_over(pair, serve):
    pair.bad.chat_default = hang()
    live = serve(pair_config(pair, timeouts={"fast": 0.5}))
    started = time.monotonic()
    resp = live.chat("hi there")
    elapsed = time.monotonic() - started
    assert resp.status_code == 200, resp.text
    assert resp.json()["endpoint"] == "fast-good"
    assert live.metric("octoroute_endpoint_requests_total", endpoint="fast-bad", outcome="timeout") == 1
    assert elapsed < 5.0


@pytest.mark.parametrize("retry_after", ["2", None])
def test_rate_limited_endpoint_cools_down_without_health_penalty(pair, serve, retry_after):
    pair.bad.chat_default = rate_limited(retry_after)
    live = serve(pair_config(pair))
    assert live.chat("hi there").json()["endpoint"] == "fast-good"
    bad = live.models()["fast-bad"]
    assert bad["consecutive_failures"] == 0 and bad["healthy"] is True
    expected = 2.0 if retry_after else 5.0
    assert 0 < bad["cooldown_seconds"] <= expected
    # While it cools down it is not sent anything.
    assert live.chat("hi there").json()["endpoint"] == "fast-good"
    assert len(pair.bad.chats()) == 1


def test_every_candidate_rate_limited_is_429_with_the_shortest_retry_after(pair, serve):
    pair.bad.chat_default = rate_limited("7")
    pair.good.chat_default = rate_limited("3")
    live = serve(pair_config(pair))
    resp = live.chat("hi there", model="fast")  # explicit tier: no fallback
    assert resp.status_code == 429, resp.text
    assert resp.headers["Retry-After"] == "3"
    err = resp.json()["error"]
    assert err["type"] == "rate_limit_error"
    assert err["request_id"] == resp.headers["X-Request-ID"]


def test_higher_priority_is_tried_first(fake_backend, trio, serve):
    low, high, mid = fake_backend("p1"), fake_backend("p3"), fake_backend("p2")
    config = make_config({"fast": [endpoint(low, priority=1), endpoint(high, priority=3),
                                   endpoint(mid, priority=2)],
                          "balanced": [trio.balanced], "deep": [trio.deep]})
    live = serve(config)
    for _ in range(5):
        assert live.chat("hi there").json()["endpoint"] == "p3"
    assert chats(low, mid) == 0

    for b in (low, high, mid):
        b.chat_default = error(500)
    resp = live.chat("hi there", model="fast")
    assert resp.status_code == 502
    tried = [a["endpoint"] for a in resp.json()["error"]["attempts"]]
    assert tried == ["p3", "p2", "p1"]


def test_max_attempts_per_tier_is_respected(fake_backend, trio, serve):
    fast = [fake_backend(f"fast-{i}", chat=error(500)) for i in range(4)]
    config = make_config({"fast": fast, "balanced": [trio.balanced], "deep": [trio.deep]},
                         routing={"max_attempts": 2, "tier_fallback": False})
    live = serve(config)
    resp = live.chat("hi there")
    assert resp.status_code == 502
    assert len(resp.json()["error"]["attempts"]) == 2
    assert chats(*fast) == 2
    assert chats(trio.balanced, trio.deep) == 0


def test_max_attempts_then_next_tier(fake_backend, trio, serve):
    fast = [fake_backend(f"fast-{i}", chat=error(500)) for i in range(3)]
    config = make_config({"fast": fast, "balanced": [trio.balanced], "deep": [trio.deep]},
                         routing={"max_attempts": 2})
    live = serve(config)
    body = live.chat("hi there").json()
    assert body["tier"] == "balanced"
    assert body["attempts"] == 3
    assert chats(*fast) == 2


@pytest.mark.parametrize("tier", TIERS)
def test_tier_fallback_prefers_the_next_larger_model(trio, serve, tier):
    getattr(trio, tier).chat_default = error(500)
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                         routing={"rules": [{"name": "pin", "tier": tier}]})
    live = serve(config)
    resp = live.chat(NO_RULE_PROMPT)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    to = FALLBACK[tier][0]
    assert body["routed_tier"] == tier
    assert body["tier"] == to
    assert any("fell back" in w and to in w for w in body["warnings"])
    assert live.metric("octoroute_tier_fallbacks_total", from_tier=tier, to_tier=to) == 1
    assert live.metric("octoroute_requests_total", tier=to, strategy="rule") == 1


@pytest.mark.parametrize("tier", TIERS)
def test_tier_fallback_order_when_everything_fails(trio, serve, tier):
    for t in TIERS:
        getattr(trio, t).chat_default = error(500)
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                         routing={"rules": [{"name": "pin", "tier": tier}]})
    live = serve(config)
    resp = live.chat(NO_RULE_PROMPT)
    assert resp.status_code == 502
    attempts = resp.json()["error"]["attempts"]
    assert [a["tier"] for a in attempts] == [tier, *FALLBACK[tier]]


def test_no_tier_fallback_when_disabled(trio, serve):
    trio.fast.chat_default = error(500)
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                         routing={"tier_fallback": False})
    live = serve(config)
    resp = live.chat("hi there")
    assert resp.status_code == 502
    assert chats(trio.balanced, trio.deep) == 0


def test_explicit_tier_fails_over_within_the_tier_only(pair, serve):
    pair.bad.chat_default = error(500)
    live = serve(pair_config(pair))
    body = live.chat("hi there", model="fast").json()
    assert body["endpoint"] == "fast-good" and body["routing_strategy"] == "explicit"

    pair.good.chat_default = error(500)
    resp = live.chat("hi there", model="fast")
    assert resp.status_code == 502
    assert {a["endpoint"] for a in resp.json()["error"]["attempts"]} == {"fast-bad", "fast-good"}
    assert chats(pair.balanced, pair.deep) == 0


def test_explicit_endpoint_is_tried_alone(pair, serve):
    pair.bad.chat_default = error(500)
    live = serve(pair_config(pair))
    resp = live.chat("hi there", model="fast-bad")
    assert resp.status_code == 502
    assert [a["endpoint"] for a in resp.json()["error"]["attempts"]] == ["fast-bad"]
    assert chats(pair.good, pair.balanced, pair.deep) == 0
    # And an explicit low-priority endpoint is used even though a higher one exists.
    assert live.chat("hi there", model="fast-good").json()["endpoint"] == "fast-good"


def test_healthy_fallback_tiers_come_before_unhealthy_endpoints_of_the_chosen_tier(trio, serve):
    trio.fast.probe_default = error(500)
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                         health={"unhealthy_after": 1})
    live = serve(config)
    live.runtime.health.check_once()
    assert live.models()["fast-1"]["healthy"] is False
    body = live.chat("hi there").json()
    assert body["routed_tier"] == "fast" and body["tier"] == "balanced"
    assert body["warnings"]
    assert chats(trio.fast) == 0


def test_unhealthy_chosen_tier_is_tried_after_healthy_fallbacks_fail(trio, serve):
    trio.fast.probe_default = error(500)
    trio.balanced.chat_default = error(500)
    trio.deep.chat_default = error(500)
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                         health={"unhealthy_after": 1})
    live = serve(config)
    live.runtime.health.check_once()
    body = live.chat("hi there").json()
    assert body["endpoint"] == "fast-1"
    assert body["attempts"] == 3
    assert live.models()["fast-1"]["healthy"] is True  # one success marks it healthy again


def test_all_unhealthy_are_still_tried(trio, serve):
    for t in TIERS:
        getattr(trio, t).probe_default = error(503)
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                         health={"unhealthy_after": 1})
    live = serve(config)
    live.runtime.health.check_once()
    assert not any(m["healthy"] for m in live.models().values())
    resp = live.chat("hi there")
    assert resp.status_code == 200, resp.text
    assert resp.json()["endpoint"] == "fast-1"


def test_all_fail_is_502_naming_what_was_tried(trio, serve):
    for t in TIERS:
        getattr(trio, t).chat_default = error(500, f"{t} exploded")
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]})
    live = serve(config)
    resp = live.chat("hi there", headers={"X-Request-ID": "req-502"})
    assert resp.status_code == 502
    assert resp.headers["X-Request-ID"] == "req-502"
    err = resp.json()["error"]
    assert err["request_id"] == "req-502"
    assert err["type"] == "upstream_error"
    for name in ("fast-1", "balanced-1", "deep-1"):
        assert name in err["message"]
    assert "fast exploded" in err["message"]
    assert [a["endpoint"] for a in err["attempts"]] == ["fast-1", "balanced-1", "deep-1"]
    assert all(a["outcome"] == "http_error" for a in err["attempts"])
    assert "Traceback" not in resp.text


def test_overall_deadline_is_504(trio, serve):
    trio.fast.chat_default = hang()
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                         server={"request_timeout_seconds": 0.5})
    live = serve(config)
    started = time.monotonic()
    resp = live.chat("hi there")
    elapsed = time.monotonic() - started
    assert resp.status_code == 504, resp.text
    err = resp.json()["error"]
    assert err["request_id"] == resp.headers["X-Request-ID"]
    assert [a["endpoint"] for a in err["attempts"]] == ["fast-1"]
    assert chats(trio.balanced, trio.deep) == 0
    assert elapsed < 5.0


def test_backend_400_is_not_retried_and_not_a_health_failure(pair, serve):
    pair.bad.chat_default = error(400, "context length exceeded")
    live = serve(pair_config(pair))
    resp = live.chat("hi there")
    assert resp.status_code == 502, resp.text
    err = resp.json()["error"]
    assert "context length exceeded" in err["message"]
    assert err["request_id"] == resp.headers["X-Request-ID"]
    assert len(pair.bad.chats()) == 1
    assert chats(pair.good, pair.balanced, pair.deep) == 0
    assert live.models()["fast-bad"]["consecutive_failures"] == 0


def test_failures_on_real_requests_mark_an_endpoint_unhealthy(trio, serve):
    trio.fast.chat_default = error(500)
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                         health={"unhealthy_after": 2})
    live = serve(config)
    for _ in range(2):
        assert live.chat("hi there").json()["tier"] == "balanced"
    fast = live.models()["fast-1"]
    assert fast["healthy"] is False and fast["consecutive_failures"] == 2
    assert live.metric("octoroute_endpoint_up", endpoint="fast-1", tier="fast") == 0
    # Now it is skipped while healthy endpoints elsewhere can serve.
    assert live.chat("hi there").json()["tier"] == "balanced"
    assert len(trio.fast.chats()) == 2


def test_explicit_unhealthy_endpoint_is_still_tried(trio, serve):
    trio.fast.probe_default = error(500)
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                         health={"unhealthy_after": 1})
    live = serve(config)
    live.runtime.health.check_once()
    body = live.chat("hi there", model="fast-1").json()
    assert body["endpoint"] == "fast-1" and body["routing_strategy"] == "explicit"
    assert live.models()["fast-1"]["healthy"] is True


def test_headers_then_stall_times_out_and_fails_over(pair, serve):
    pair.bad.chat_default = stall_after_headers()
    live = serve(pair_config(pair, timeouts={"fast": 0.5}))
    started = time.monotonic()
    resp = live.chat("hi there")
    elapsed = time.monotonic() - started
    assert resp.status_code == 200, resp.text
    assert resp.json()["endpoint"] == "fast-good"
    assert live.metric("octoroute_endpoint_requests_total", endpoint="fast-bad", outcome="timeout") == 1
    assert elapsed < 5.0


def test_trickling_body_is_bounded_by_the_attempt_timeout(pair, serve):
    """Each byte arrives well within the read timeout; the whole answer takes ~4 s."""
    pair.bad.chat_default = trickle(0.02)
    live = serve(pair_config(pair, timeouts={"fast": 0.5}))
    started = time.monotonic()
    resp = live.chat("hi there")
    elapsed = time.monotonic() - started
    assert resp.status_code == 200, resp.text
    assert resp.json()["endpoint"] == "fast-good"
    assert elapsed < 2.5, f"a 0.5 s attempt timeout took {elapsed:.1f} s"


def test_connect_timeout_is_bounded_by_the_attempt_timeout(pair, blackhole, serve):
    """A host that never answers SYNs must cost one attempt timeout, not several."""
    config = pair_config(pair, bad=endpoint(blackhole.url, id="fast-hole", priority=2),
                         timeouts={"fast": 1.0}, server={"request_timeout_seconds": 2.5})
    live = serve(config)
    started = time.monotonic()
    resp = live.chat("hi there")
    elapsed = time.monotonic() - started
    assert live.models()["fast-hole"]["consecutive_failures"] == 1
    assert resp.status_code == 200, f"{resp.text} after {elapsed:.1f} s"
    assert resp.json()["endpoint"] == "fast-good"
