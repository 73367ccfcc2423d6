"""The backend fault matrix, on real sockets, for ``/chat`` and non-streamed ``/v1``.

Every fault is injected by a fake backend that is the preferred endpoint of
the ``fast`` tier. With a healthy second endpoint in that tier the request
fails over and succeeds; alone (no tier fallback) it ends in a clear JSON
error carrying the request id: 502 (or 504 past the overall deadline), and
429 for rate limits. The 429 rules (cool-down from ``Retry-After``, default
5 s, capped at 60 s; no health penalty; not cleared by a probe; shortest
wait when every candidate cools) and the leak census (threads, file
descriptors, Octoroute's own sockets) close the file.
"""

from __future__ import annotations

import json
import math
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from fakes import (
    Behaviour,
    Exchange,
    FakeBackend,
    endpoint,
    error,
    invalid_json,
    make_config,
    no_choices,
    rate_limited,
    refused_url,
    trickle,
    truncated,
)
from faultkit import Census, oversized, settled

ATTEMPT_TIMEOUT_S = 0.5  # seconds; one attempt on the fast tier, so stalls end quickly
MAX_RESPONSE_BYTES = 4096  # bytes; server.max_response_bytes for every test here
PROMPT = "hi there"  # casual and short: the rule table sends it to the fast tier
REQUEST_ID = "fault-matrix-1"


def _hold_until_client_leaves(ex: Exchange, gate: threading.Event) -> None:
    """Block until the client hangs up (Octoroute gave up) or ``gate`` opens, then close."""
    ex.backend.track(gate)
    conn = ex.handler.connection
    while not gate.wait(0.01):
        try:
            conn.settimeout(0)
            if conn.recv(1, socket.MSG_PEEK) == b"":
                break
        except BlockingIOError:
            continue
        except OSError:
            break
    ex.drop()


def silent() -> Behaviour:
    """Accept the request and never answer (until the client gives up)."""
    def run(ex: Exchange) -> None:
        _hold_until_client_leaves(ex, threading.Event())
    return run


def headers_then_silent() -> Behaviour:
    """Send a 200's status line and headers, then nothing (until the client gives up)."""
    def run(ex: Exchange) -> None:
        h = ex.handler
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.flush()
        _hold_until_client_leaves(ex, threading.Event())
    return run


@dataclass(frozen=True)
class Fault:
    behaviour: Callable[[], Behaviour] | None  # None: nothing listens (connection refused)
    outcome: str  # octoroute_endpoint_requests_total{outcome} of the faulty endpoint
    alone_status: int  # what the client gets when no other endpoint can serve
    health_penalty: bool = True  # counts toward unhealthy_after


FAULTS: dict[str, Fault] = {
    "connection_refused": Fault(None, "connect_error", 502),
    "accepts_never_answers": Fault(silent, "timeout", 502),
    "headers_then_stall": Fault(headers_then_silent, "timeout", 502),
    "trickles_body": Fault(lambda: trickle(0.05), "timeout", 502),
    "http_500": Fault(lambda: error(500), "http_error", 502),
    "http_502": Fault(lambda: error(502), "http_error", 502),
    "http_503": Fault(lambda: error(503), "http_error", 502),
    "http_429_retry_after": Fault(lambda: rate_limited("2"), "rate_limited", 429, False),
    "http_429_no_retry_after": Fault(lambda: rate_limited(None), "rate_limited", 429, False),
    "invalid_json": Fault(invalid_json, "bad_response", 502),
    "json_without_choices": Fault(no_choices, "bad_response", 502),
    "truncated_body": Fault(truncated, "bad_response", 502),
    "larger_than_max_response_bytes": Fault(lambda: oversized(2 * MAX_RESPONSE_BYTES), "bad_response", 502),
}
APIS = ("chat", "openai")


def bad_entry(fault: Fault, bad: FakeBackend, **keys: Any) -> dict[str, Any]:
    if fault.behaviour is None:
        return endpoint(refused_url(), **{"id": "fast-bad", **keys})
    bad.chat_default = fault.behaviour()
    return endpoint(bad, **keys)


def config(fast: list[dict[str, Any]], others: list[FakeBackend], **sections: Any) -> Any:
    balanced, deep = others
    routing = {"tier_fallback": False, **sections.pop("routing", {})}
    server = {"max_response_bytes": MAX_RESPONSE_BYTES, **sections.pop("server", {})}
    timeouts = {"fast": ATTEMPT_TIMEOUT_S, **sections.pop("timeouts", {})}
    return make_config({"fast": fast, "balanced": [balanced], "deep": [deep]}, routing=routing,
                       server=server, timeouts=timeouts, **sections)


def call(live: Any, api: str, *, request_id: str = REQUEST_ID) -> requests.Response:
    headers = {"X-Request-ID": request_id}
    if api == "chat":
        return live.post("/chat", json={"prompt": PROMPT}, headers=headers)
    return live.post("/v1/chat/completions", headers=headers,
                     json={"model": "auto", "messages": [{"role": "user", "content": PROMPT}]})


def served_by(resp: requests.Response, api: str) -> str:
    assert resp.status_code == 200, resp.text
    if api == "chat":
        return str(resp.json()["endpoint"])
    assert resp.json()["choices"][0]["message"]["content"], resp.text
    return resp.headers["X-Octoroute-Endpoint"]


def json_error(resp: requests.Response, status: int, request_id: str = REQUEST_ID) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert "Traceback" not in resp.text
    err = resp.json()["error"]
    assert err["message"] and err["type"]
    assert err["request_id"] == request_id == resp.headers["X-Request-ID"]
    return dict(err)


@pytest.fixture
def cast(fake_backend: Callable[..., FakeBackend]) -> dict[str, FakeBackend]:
    return {name: fake_backend(name) for name in ("fast-bad", "fast-good", "balanced-1", "deep-1")}


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_fails_over_to_the_healthy_endpoint(name: str, api: str, cast: dict[str, FakeBackend],
                                                  serve: Any) -> None:
    fault = FAULTS[name]
    live = serve(config([bad_entry(fault, cast["fast-bad"], priority=2),
                         endpoint(cast["fast-good"], priority=1)],
                        [cast["balanced-1"], cast["deep-1"]]))
    resp = call(live, api)
    assert served_by(resp, api) == "fast-good"
    if api == "chat":
        assert resp.json()["attempts"] == 2 and resp.json()["warnings"] == []
    assert len(cast["fast-good"].chats()) == 1
    if fault.behaviour is not None:
        assert len(cast["fast-bad"].chats()) == 1  # never re-sent: it may have started generating
    assert live.metric("octoroute_endpoint_requests_total", endpoint="fast-bad",
                       outcome=fault.outcome) == 1
    assert live.metric("octoroute_endpoint_requests_total", endpoint="fast-good",
                       outcome="success") == 1
    bad = live.models()["fast-bad"]
    assert bad["healthy"] is True  # one failure is below unhealthy_after (3)
    assert bad["consecutive_failures"] == (1 if fault.health_penalty else 0)
    assert bad["last_error"]
    assert (bad["cooldown_seconds"] > 0) == (fault.outcome == "rate_limited")


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_alone_is_a_clear_json_error_with_the_request_id(name: str, api: str,
                                                               cast: dict[str, FakeBackend],
                                                               serve: Any) -> None:
    fault = FAULTS[name]
    live = serve(config([bad_entry(fault, cast["fast-bad"])], [cast["balanced-1"], cast["deep-1"]]))
    resp = call(live, api)
    err = json_error(resp, fault.alone_status)
    assert [a["endpoint"] for a in err["attempts"]] == ["fast-bad"]
    assert err["attempts"][0]["outcome"] == fault.outcome
    if fault.alone_status == 429:
        assert err["type"] == "rate_limit_error" and err["code"] == "rate_limited"
        assert int(resp.headers["Retry-After"]) >= 1
    else:
        assert err["type"] == "upstream_error" and err["code"] == "upstream_failed"
        assert err["attempts"][0]["error"] and "fast-bad" in err["message"]
    assert not cast["balanced-1"].chats() and not cast["deep-1"].chats()
    assert live.metric("octoroute_endpoint_requests_total", endpoint="fast-bad",
                       outcome=fault.outcome) == 1
    route = "/chat" if api == "chat" else "/v1/chat/completions"
    assert live.metric("octoroute_http_responses_total", route=route, status=str(fault.alone_status)) == 1


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("name", ["accepts_never_answers", "headers_then_stall", "trickles_body"])
def test_stall_past_the_overall_deadline_is_504(name: str, api: str, cast: dict[str, FakeBackend],
                                                serve: Any) -> None:
    fault = FAULTS[name]
    live = serve(config([bad_entry(fault, cast["fast-bad"])], [cast["balanced-1"], cast["deep-1"]],
                        timeouts={"fast": 5.0}, server={"request_timeout_seconds": 0.5}))
    err = json_error(call(live, api), 504)
    assert err["code"] == "deadline_exceeded"
    assert [a["outcome"] for a in err["attempts"]] == ["timeout"]


# --- rate limits ----------------------------------------------------------------

@pytest.mark.parametrize(("retry_after", "cooldown"), [("3", 3.0), (None, 5.0), ("3600", 60.0)],
                         ids=["retry_after_3", "absent_default_5", "retry_after_3600_capped_60"])
@pytest.mark.parametrize("api", APIS)
def test_429_cools_the_endpoint_down_for_retry_after_without_a_health_penalty(
        retry_after: str | None, cooldown: float, api: str, cast: dict[str, FakeBackend],
        serve: Any) -> None:
    bad = cast["fast-bad"]
    bad.chat_default = rate_limited(retry_after)
    live = serve(config([endpoint(bad)], [cast["balanced-1"], cast["deep-1"]],
                        health={"unhealthy_after": 1}))
    resp = call(live, api)
    json_error(resp, 429)
    # The client is told the wait Octoroute itself will observe: capped like the cool-down.
    assert int(resp.headers["Retry-After"]) == math.ceil(cooldown)
    state = live.models()["fast-bad"]
    assert cooldown - 1.0 < state["cooldown_seconds"] <= cooldown
    # unhealthy_after = 1: a single counted failure would have marked it down.
    assert state["healthy"] is True and state["consecutive_failures"] == 0
    assert live.metric("octoroute_endpoint_up", endpoint="fast-bad") == 1
    assert live.metric("octoroute_endpoint_requests_total", endpoint="fast-bad",
                       outcome="rate_limited") == 1


def test_repeated_429s_never_make_an_endpoint_unhealthy(cast: dict[str, FakeBackend], serve: Any) -> None:
    bad = cast["fast-bad"]
    bad.chat_default = rate_limited("0")  # no cool-down: every request tries it again
    live = serve(config([endpoint(bad, priority=2), endpoint(cast["fast-good"])],
                        [cast["balanced-1"], cast["deep-1"]], health={"unhealthy_after": 2}))
    for _ in range(5):
        assert served_by(call(live, "chat"), "chat") == "fast-good"
    assert len(bad.chats()) == 5
    state = live.models()["fast-bad"]
    assert state["healthy"] is True and state["consecutive_failures"] == 0


@pytest.mark.parametrize("api", APIS)
def test_a_health_probe_does_not_clear_a_cool_down(api: str, cast: dict[str, FakeBackend],
                                                   serve: Any) -> None:
    bad = cast["fast-bad"]
    bad.chat_default = rate_limited("30")
    live = serve(config([endpoint(bad)], [cast["balanced-1"], cast["deep-1"]]))
    json_error(call(live, api), 429)
    results = {r.endpoint: r.ok for r in live.runtime.health.check_once(force=True)}
    assert results["fast-bad"] is True  # the probe itself succeeds: the server is up
    assert len(bad.probes()) == 1
    state = live.models()["fast-bad"]
    assert 25.0 < state["cooldown_seconds"] <= 30.0
    resp = call(live, api, request_id="after-probe")
    err = json_error(resp, 429, "after-probe")
    assert err["attempts"] == []  # still cooling: not even tried
    assert len(bad.chats()) == 1
    assert 25 <= int(resp.headers["Retry-After"]) <= 30


@pytest.mark.parametrize("api", APIS)
def test_every_candidate_cooling_is_429_with_the_shortest_retry_after(
        api: str, fake_backend: Callable[..., FakeBackend], cast: dict[str, FakeBackend],
        serve: Any) -> None:
    slow = fake_backend("fast-a", chat=rate_limited("7"))
    quick = fake_backend("fast-b", chat=rate_limited("3"))
    live = serve(config([endpoint(slow), endpoint(quick)], [cast["balanced-1"], cast["deep-1"]]))
    first = call(live, api)
    err = json_error(first, 429)
    assert sorted(a["endpoint"] for a in err["attempts"]) == ["fast-a", "fast-b"]
    assert first.headers["Retry-After"] == "3"
    # Both are cooling now: refused at once, nobody is sent anything.
    second = call(live, api, request_id="both-cooling")
    err = json_error(second, 429, "both-cooling")
    assert err["attempts"] == []
    assert 2 <= int(second.headers["Retry-After"]) <= 3
    assert len(slow.chats()) == 1 and len(quick.chats()) == 1
    models = live.models()
    assert models["fast-a"]["cooldown_seconds"] > models["fast-b"]["cooldown_seconds"] > 0


@pytest.mark.parametrize("retry_after", ["2.4", "0.3"])
def test_the_429_message_states_the_same_wait_as_the_retry_after_header(
        retry_after: str, cast: dict[str, FakeBackend], serve: Any) -> None:
    """A fractional Retry-After from a backend: the message must not say 2s (or 0s) while the
    header says 3 (or 1)."""
    cast["fast-bad"].chat_default = rate_limited(retry_after)
    live = serve(config([endpoint(cast["fast-bad"])], [cast["balanced-1"], cast["deep-1"]]))
    resp = call(live, "chat")
    err = json_error(resp, 429)
    assert resp.headers["Retry-After"] == str(math.ceil(float(retry_after)))
    assert f"retry after {resp.headers['Retry-After']}s" in err["message"], err["message"]


# --- a backend that ignores "stream": true ---------------------------------------

def test_stream_request_answered_with_plain_json_is_not_corrupted(cast: dict[str, FakeBackend],
                                                                  serve: Any) -> None:
    """Some servers ignore ``stream``: the client must get a parseable answer, not JSON + SSE."""
    live = serve(config([endpoint(cast["fast-good"])], [cast["balanced-1"], cast["deep-1"]]))
    resp = live.post("/v1/chat/completions", json={
        "model": "auto", "stream": True, "messages": [{"role": "user", "content": PROMPT}]})
    assert resp.status_code == 200, resp.text
    if resp.headers["Content-Type"].startswith("application/json"):
        assert json.loads(resp.text)["choices"], resp.text  # one JSON document, nothing appended
    else:
        assert resp.text.rstrip().endswith("data: [DONE]"), resp.text


# --- leaks ------------------------------------------------------------------------

LEAK_FAULTS = ["connection_refused", "accepts_never_answers", "headers_then_stall", "trickles_body",
               "http_500", "http_503", "invalid_json", "json_without_choices", "truncated_body",
               "larger_than_max_response_bytes"]
LEAK_ROUNDS = 2  # batches after the warm-up
LEAK_TOLERANCE = 2  # threads, descriptors or sockets of slack (a keep-alive socket closing late)


def test_faulty_requests_leak_no_threads_sockets_or_sessions(fake_backend: Callable[..., FakeBackend],
                                                             cast: dict[str, FakeBackend],
                                                             serve: Any) -> None:
    """One faulty endpoint per fault, all ahead of a good one; a batch hits every fault."""
    bads = {name: fake_backend(f"leak-{k}") for k, name in enumerate(LEAK_FAULTS)}
    entries = [bad_entry(FAULTS[name], b, id=f"leak-{k}", priority=2)
               for k, (name, b) in enumerate(bads.items())]
    live = serve(config([*entries, endpoint(cast["fast-good"], priority=1)],
                        [cast["balanced-1"], cast["deep-1"]],
                        routing={"max_attempts": len(entries) + 1},
                        health={"unhealthy_after": 1000}))
    ports = [b.port for b in bads.values()] + [c.port for c in cast.values()]

    def take() -> Census:
        return Census.take(live.server.port, ports)

    def batch() -> None:
        for api in APIS:
            resp = call(live, api)
            assert served_by(resp, api) == "fast-good"
            if api == "chat":
                assert resp.json()["attempts"] == len(entries) + 1

    batch()  # warm-up: pools, probe threads and keep-alive connections settle to steady state
    live.session.close()
    baseline = settled(take, take(), 0, timeout=1.0)
    for _ in range(LEAK_ROUNDS):
        batch()
    live.session.close()
    after = settled(take, baseline, LEAK_TOLERANCE)
    assert after.threads <= baseline.threads + LEAK_TOLERANCE, (baseline, after)
    assert after.fds <= baseline.fds + LEAK_TOLERANCE, (baseline, after)
    assert after.router_sockets <= baseline.router_sockets + LEAK_TOLERANCE, (baseline, after)
    # Every faulty exchange closed its connection: none is parked in a pool.
    assert live.models()["fast-good"]["in_flight"] == 0
    assert all(m["in_flight"] == 0 for m in live.models().values())
    sent = sum(len(b.chats()) for b in bads.values() if b.chats())
    assert sent == (len(entries) - 1) * (LEAK_ROUNDS + 1) * len(APIS)  # all but the refused one
