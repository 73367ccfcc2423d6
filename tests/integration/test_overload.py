"""Overload: chat slots refuse at once, and operators' routes never queue behind them.

``server.max_in_flight`` (default ``threads - 4``) chat requests may run at
once; the next one gets 429 with ``Retry-After`` and a JSON error
immediately, never an unbounded queue. While every slot is held by a slow
generation (non-streamed, or a stream that has sent its first chunk), the
routes an operator or Prometheus polls — ``/health``, ``/models`` and
``/metrics`` — still answer within 100 ms on a real socket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from fakes import FakeBackend, SSEScript, brain_says, delayed, delta_events, make_config

THREADS = 6  # waitress workers; the default max_in_flight is then 2
SLOTS = THREADS - 4
REFUSAL_BOUND_S = 1.0  # seconds; a refused chat must come back faster than this
OPERATOR_BOUND_S = 0.100  # seconds; best of a few /health, /models, /metrics calls
REPEATS = 5  # tries per operator route; the best one is held to the bound
CHAT_BODY = {"prompt": "hi there"}
OPENAI_BODY = {"model": "auto", "messages": [{"role": "user", "content": "hi there"}]}


@pytest.fixture
def fast(fake_backend: Callable[..., FakeBackend]) -> FakeBackend:
    return fake_backend("fast-1")


@pytest.fixture
def live(fast: FakeBackend, fake_backend: Callable[..., FakeBackend], serve: Any) -> Any:
    config = make_config({"fast": [fast], "balanced": [fake_backend("balanced-1")],
                          "deep": [fake_backend("deep-1")]}, server={"threads": THREADS})
    assert config.server.max_in_flight is None and config.server.chat_slots == SLOTS
    return serve(config)


class Holder:
    """Client threads whose requests stay in flight until the test lets the backend go."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.results: list[Any] = []
        self._lock = threading.Lock()  # guards results

    def run(self, fn: Callable[[], Any]) -> None:
        def body() -> None:
            try:
                out = fn()
            except Exception as exc:  # reported by join()
                out = exc
            with self._lock:
                self.results.append(out)
        t = threading.Thread(target=body, name="test-overload-client", daemon=True)
        t.start()
        self.threads.append(t)

    def join(self, timeout: float = 15.0) -> list[Any]:
        for t in self.threads:
            t.join(timeout)
        assert not any(t.is_alive() for t in self.threads), "a held request never finished"
        return self.results


@pytest.fixture
def holder() -> Iterator[Holder]:
    h = Holder()
    yield h


def timed(fn: Callable[[], requests.Response]) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    resp = fn()
    return time.perf_counter() - started, resp


def assert_refused_at_once(live: Any) -> None:
    """Both chat APIs, streamed or not: 429 + Retry-After + JSON error, well under a second."""
    attempts = [lambda: live.post("/chat", json=CHAT_BODY),
                lambda: live.post("/v1/chat/completions", json=OPENAI_BODY),
                lambda: live.post("/v1/chat/completions", json={**OPENAI_BODY, "stream": True})]
    for attempt in attempts:
        seconds, resp = timed(attempt)
        assert resp.status_code == 429, resp.text
        assert seconds < REFUSAL_BOUND_S, seconds
        assert int(resp.headers["Retry-After"]) >= 1
        err = resp.json()["error"]
        assert err["type"] == "rate_limit_error" and err["code"] == "overloaded"
        assert "max_in_flight" in err["message"]
        assert err["request_id"] == resp.headers["X-Request-ID"]
    assert live.metric("octoroute_rejected_requests_total", reason="overloaded") == len(attempts)


def assert_operator_routes_are_fast(live: Any) -> None:
    for path in ("/health", "/models", "/metrics", "/v1/models"):
        best = float("inf")
        for _ in range(REPEATS):
            seconds, resp = timed(lambda path=path: live.get(path))
            assert resp.status_code == 200, (path, resp.text)
            best = min(best, seconds)
        assert best < OPERATOR_BOUND_S, f"{path}: best of {REPEATS} took {best * 1000:.1f} ms"


def test_slow_generations_fill_every_slot_then_429_and_operator_routes_stay_fast(
        live: Any, fast: FakeBackend, holder: Holder) -> None:
    gate = threading.Event()
    fast.chat_default = delayed(gate)
    holder.run(lambda: live.chat("hi there"))
    holder.run(lambda: requests.post(live.url + "/v1/chat/completions", json=OPENAI_BODY, timeout=15))
    assert fast.wait_for(lambda r: r.is_chat, count=SLOTS), "the slow generations never arrived"
    assert live.metric("octoroute_in_flight_requests") == SLOTS

    assert_refused_at_once(live)
    assert_operator_routes_are_fast(live)
    assert live.models()["fast-1"]["in_flight"] == SLOTS
    assert len(fast.chats()) == SLOTS  # refused requests never reached a backend

    gate.set()
    results = holder.join()
    assert sorted(r.status_code for r in results) == [200] * SLOTS, results
    assert live.metric("octoroute_in_flight_requests") == 0
    assert live.chat("hi there").status_code == 200  # the slots are free again


def test_slow_streams_fill_every_slot_then_429_and_operator_routes_stay_fast(
        live: Any, fast: FakeBackend, holder: Holder) -> None:
    scripts = [SSEScript(delta_events(["one", " two", " three"])) for _ in range(SLOTS)]
    fast.enqueue(*(s.behaviour() for s in scripts))
    first_chunks: list[threading.Event] = []

    def open_stream(seen: threading.Event) -> tuple[int, bytes]:
        with requests.post(live.url + "/v1/chat/completions", json={**OPENAI_BODY, "stream": True},
                           stream=True, timeout=15) as resp:
            chunks = resp.iter_content(chunk_size=None)
            received = next(chunks)
            seen.set()
            return resp.status_code, received + b"".join(chunks)

    for script in scripts:
        seen = threading.Event()
        first_chunks.append(seen)
        script.release(0)  # the first delta goes out: the stream is committed and slow from here
        holder.run(lambda seen=seen: open_stream(seen))
    for seen in first_chunks:
        assert seen.wait(10), "a stream's first chunk never reached its client"
    assert live.metric("octoroute_in_flight_requests") == SLOTS

    assert_refused_at_once(live)
    assert_operator_routes_are_fast(live)
    assert all(s.written() == 1 for s in scripts)  # still mid-generation throughout

    for s in scripts:
        s.release_all()
    results = holder.join()
    assert [status for status, _ in results] == [200] * SLOTS
    for _, body in results:
        assert body.rstrip().endswith(b"data: [DONE]"), body
    # A relay gives its slot back in close(), just after the client has read [DONE].
    deadline = time.monotonic() + 5.0
    while live.metric("octoroute_in_flight_requests") != 0:
        assert time.monotonic() < deadline, "the streams' slots were never given back"
        time.sleep(0.01)
    assert live.chat("hi there").status_code == 200


@pytest.mark.parametrize("path", ["/chat", "/v1/chat/completions"])
def test_a_refused_request_is_refused_before_asking_the_router_brain(
        path: str, fast: FakeBackend, fake_backend: Callable[..., FakeBackend], serve: Any,
        holder: Holder) -> None:
    """Under ``llm`` routing, an over-limit request must not first spend a brain call (a GPU
    request on the router tier, up to router_timeout_seconds) only to be refused afterwards."""
    brain = fake_backend("balanced-1", brain=brain_says("FAST"))
    live = serve(make_config({"fast": [fast], "balanced": [brain], "deep": [fake_backend("deep-1")]},
                             server={"threads": THREADS}, routing={"strategy": "llm",
                                                                   "router_timeout_seconds": 3.0}))
    gate = threading.Event()
    fast.chat_default = delayed(gate)
    # Distinct prompts: the router caches the brain's answer per prompt.
    for i in range(SLOTS):
        holder.run(lambda i=i: live.chat(f"hi there, number {i}"))
    assert fast.wait_for(lambda r: r.is_chat, count=SLOTS)
    asked = len(brain.brain_questions())
    assert asked == SLOTS

    slow_brain = threading.Event()
    brain.enqueue_brain(delayed(slow_brain, brain_says("FAST")))
    unblock = threading.Timer(2 * REFUSAL_BOUND_S, slow_brain.set)  # never leave it hanging
    unblock.daemon = True
    unblock.start()
    body = CHAT_BODY if path == "/chat" else OPENAI_BODY
    seconds, resp = timed(lambda: live.post(path, json=body))
    assert resp.status_code == 429, resp.text
    assert len(brain.brain_questions()) == asked, "the refused request was routed by the brain first"
    assert seconds < REFUSAL_BOUND_S, seconds
    gate.set()
    holder.join()
