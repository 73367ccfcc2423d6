"""Streamed ``/v1/chat/completions`` through the production waitress server, on real sockets.

The fake backends write each server-sent event only when the test releases
it and record when they wrote it, so "not buffered" is proved causally: the
client must see chunk ``k`` while chunk ``k + 1`` has not been written yet
(it is released only after chunk ``k`` was observed), and the delay from the
backend's write to the client's read is bounded (one-sided, generously).
Failover before the first body byte, cuts and stalls after it, client
disconnects, metrics, in-flight accounting and thread hygiene are covered
for both chunked and close-delimited backends. A raw-socket backend that
trickles one byte per 100 ms inside an event (or goes silent) shows that a
client's hang-up and ``timeouts.stream_total_seconds`` end such streams.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest

from fakes import (
    DONE_EVENT,
    FRAMINGS,
    FakeBackend,
    ManualClock,
    SSEScript,
    delta_event,
    delta_events,
    endpoint,
    error,
    make_config,
    stream,
)

TEXTS = ["Hel", "lo", ", wor", "ld", "!"]
HELLO = [{"role": "user", "content": "hi there"}]  # the casual_short rule: tier fast
RELAY_BOUND_S = 1.0  # seconds; generous upper bound from a backend's write to the client's read
STEP_TIMEOUT_S = 5.0  # seconds; a client read that waits longer than this fails the test
STOP_WAIT_S = 15.0  # seconds; bound on waiting for threads to exit after everything stopped
STREAM_END = "stream end"  # the log line Octoroute writes when a stream ends, whatever way


def trio_config(trio: SimpleNamespace, *, fast: list[Any] | None = None, **sections: Any) -> Any:
    return make_config({"fast": fast if fast is not None else [trio.fast],
                        "balanced": [trio.balanced], "deep": [trio.deep]}, **sections)


def stream_body(**fields: Any) -> dict[str, Any]:
    return {"model": "auto", "messages": HELLO, "stream": True, **fields}


def dechunk(raw: bytes) -> tuple[bytes, bool]:
    """The data of a (possibly partial) chunked body, and whether its last chunk arrived."""
    out: list[bytes] = []
    pos = 0
    while True:
        eol = raw.find(b"\r\n", pos)
        if eol < 0:
            return b"".join(out), False
        size = int(raw[pos:eol].split(b";")[0], 16)
        if size == 0:
            return b"".join(out), True
        start = eol + 2
        if len(raw) < start + size + 2:
            out.append(raw[start:start + size])
            return b"".join(out), False
        out.append(raw[start:start + size])
        pos = start + size + 2


class RawStream:
    """``POST /v1/chat/completions`` over a plain socket: every byte seen as it arrives."""

    def __init__(self, live: Any, body: dict[str, Any], headers: dict[str, str] | None = None,
                 *, read_head: bool = True) -> None:
        parts = urlsplit(live.url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=STEP_TIMEOUT_S)
        payload = json.dumps(body).encode()
        head = ["POST /v1/chat/completions HTTP/1.1", f"Host: {parts.netloc}",
                "Content-Type: application/json", "Accept: text/event-stream",
                f"Content-Length: {len(payload)}"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        self._raw = b""
        self.status = 0
        self.headers: dict[str, str] = {}
        self.closed_at: float | None = None
        if read_head:
            self.read_head()

    def read_head(self) -> None:
        while b"\r\n\r\n" not in self._raw:
            self._recv()
        header_block, self._raw = self._raw.split(b"\r\n\r\n", 1)
        status_line, *lines = header_block.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines)}

    def _recv(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError(f"connection closed; got {self._raw[-300:]!r}")
        self._raw += data

    @property
    def chunked(self) -> bool:
        return self.headers.get("transfer-encoding", "").lower() == "chunked"

    def body(self) -> tuple[bytes, bool]:
        """The body so far, and whether it is complete."""
        if self.chunked:
            return dechunk(self._raw)
        length = int(self.headers.get("content-length", "-1"))
        return self._raw, 0 <= length <= len(self._raw)

    def read_through(self, prefix: bytes) -> tuple[float, bytes]:
        """Read until the body holds ``len(prefix)`` bytes; (time it did, the body then)."""
        while len(self.body()[0]) < len(prefix):
            self._recv()
        return time.monotonic(), self.body()[0]

    def read_to_end(self) -> bytes:
        while not self.body()[1]:
            self._recv()
        return self.body()[0]

    def close(self) -> None:
        self.closed_at = time.monotonic()
        self.sock.close()

    def __enter__(self) -> RawStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def events(body: bytes) -> list[bytes]:
    """The ``data:`` payloads of an SSE body, in order."""
    return [e[len(b"data: "):] for e in body.split(b"\n\n") if e.startswith(b"data: ")]


def one_end(logwatch: Any) -> dict[str, Any]:
    (fields,) = logwatch.fields(STREAM_END)
    return fields


def test_stream_with_the_sdk_yields_each_delta_before_the_next_is_written(trio, serve, logwatch):
    script = SSEScript(delta_events(TEXTS), framing="chunked")
    trio.fast.enqueue(script.behaviour())
    live = serve(trio_config(trio))
    client = live.openai(timeout=STEP_TIMEOUT_S)
    script.release(0)
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=HELLO, stream=True)
    assert raw.headers["X-Octoroute-Endpoint"] == "fast-1"
    chunks = iter(raw.parse())
    latencies = []
    for k, text in enumerate(TEXTS):
        chunk = next(chunks)
        seen = time.monotonic()
        assert chunk.choices[0].delta.content == text
        # Causal: chunk k+1 (or [DONE]) is released only below, after chunk k was seen.
        assert script.written() == k + 1
        latencies.append(seen - (script.written_at[k] or 0.0))
        script.release(k + 1)
    assert list(chunks) == []  # [DONE] ends the iteration
    assert chunk.choices[0].finish_reason == "stop"
    print(f"sdk relay latencies ms: {[round(x * 1000, 2) for x in latencies]}")
    # Chunk 0 was written before the request was routed (it includes the SDK's set-up); each
    # later chunk was released while the client waited for it: that is the relay's own delay.
    assert max(latencies[1:]) < RELAY_BOUND_S
    assert one_end(logwatch)["outcome"] == "completed"


@pytest.mark.parametrize("framing", FRAMINGS)
def test_raw_relay_is_byte_exact_and_unbuffered_for_each_backend_framing(trio, serve, logwatch, framing):
    script = SSEScript(delta_events(TEXTS), framing=framing)
    trio.fast.enqueue(script.behaviour())
    live = serve(trio_config(trio))
    script.release(0)
    latencies = []
    with RawStream(live, stream_body(), {"X-Request-ID": "raw-stream-1"}) as rs:
        assert rs.status == 200
        h = rs.headers
        assert h["content-type"].startswith("text/event-stream")
        assert h["cache-control"] == "no-cache"
        assert h["x-accel-buffering"] == "no"
        assert h["x-octoroute-tier"] == "fast"
        assert h["x-octoroute-endpoint"] == "fast-1"
        assert h["x-octoroute-strategy"] == "rule"
        assert h["x-request-id"] == "raw-stream-1"
        assert "content-length" not in h and rs.chunked  # waitress streams it, nothing buffers it whole
        expected = b""
        for k, chunk in enumerate(script.chunks):
            expected += chunk
            seen, body = rs.read_through(expected)
            assert body == expected  # exactly chunk k so far: chunk k+1 is not written yet
            assert script.written() == k + 1
            latencies.append(seen - (script.written_at[k] or 0.0))
            if k + 1 < len(script.chunks):
                script.release(k + 1)
        assert rs.read_to_end() == script.body
    print(f"{framing} raw relay latencies ms: {[round(x * 1000, 2) for x in latencies]}")
    assert max(latencies) < RELAY_BOUND_S
    end = one_end(logwatch)
    assert end["outcome"] == "completed"
    assert end["bytes"] == len(script.body)


def test_stream_request_is_forwarded_unchanged_except_model_and_the_cap(trio, serve):
    trio.fast.enqueue(stream(delta_events(TEXTS)))
    live = serve(trio_config(trio))
    body = stream_body(stream_options={"include_usage": True}, max_tokens=1000, temperature=0.2,
                       x_custom={"a": 1})
    with RawStream(live, body) as rs:
        rs.read_to_end()
    (received,) = trio.fast.chats()
    assert received.json == {**body, "model": trio.fast.model, "max_tokens": 256}
    assert received.headers["accept"] == "text/event-stream"


# --- failover before the first body byte ---------------------------------------

@pytest.fixture
def pair(fake_backend: Callable[..., FakeBackend], trio: SimpleNamespace) -> SimpleNamespace:
    """Two fast endpoints, ``bad`` tried first, with the trio's balanced and deep."""
    return SimpleNamespace(bad=fake_backend("fast-bad"), good=fake_backend("fast-good"), trio=trio)


def pair_config(pair: SimpleNamespace, **sections: Any) -> Any:
    return trio_config(pair.trio, fast=[endpoint(pair.bad, priority=2), endpoint(pair.good, priority=1)],
                       **sections)


def test_http_error_before_streaming_fails_over_to_the_next_endpoint(pair, serve, logwatch):
    pair.bad.enqueue(error(500))
    good = SSEScript(delta_events(TEXTS), release=True)
    pair.good.enqueue(good.behaviour())
    live = serve(pair_config(pair))
    client = live.openai()
    raw = client.chat.completions.with_raw_response.create(model="fast", messages=HELLO, stream=True)
    texts = [c.choices[0].delta.content for c in raw.parse()]
    assert texts == TEXTS
    assert raw.headers["X-Octoroute-Endpoint"] == "fast-good"
    assert len(pair.bad.chats()) == 1
    assert one_end(logwatch)["outcome"] == "completed"
    models = live.models()
    assert models["fast-bad"]["consecutive_failures"] == 1
    assert models["fast-good"]["consecutive_failures"] == 0
    assert live.metric("octoroute_endpoint_requests_total", endpoint="fast-bad", outcome="http_error") == 1


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_headers_then_no_body_byte_within_the_attempt_timeout_fails_over(pair, serve, logwatch, framing):
    stalled = SSEScript(delta_events(TEXTS), framing=framing)  # chunk 0 is never released
    pair.bad.enqueue(stalled.behaviour())
    pair.good.enqueue(stream(delta_events(TEXTS)))
    live = serve(pair_config(pair, timeouts={"fast": 0.5}))
    started = time.monotonic()
    with RawStream(live, stream_body(model="fast")) as rs:
        headers_at = time.monotonic()
        assert rs.status == 200
        assert rs.headers["x-octoroute-endpoint"] == "fast-good"
        assert events(rs.read_to_end())[-1] == b"[DONE]"
    assert stalled.headers_sent.is_set() and stalled.written() == 0
    assert stalled.peer_closed.wait(STEP_TIMEOUT_S), "the stalled upstream connection was not closed"
    print(f"{framing}: failover after headers-only stall took {headers_at - started:.3f}s (limit 0.5s)")
    assert headers_at - started < 0.5 + 2.0
    assert live.metric("octoroute_endpoint_requests_total", endpoint="fast-bad", outcome="timeout") == 1
    assert one_end(logwatch)["outcome"] == "completed"


def test_stream_that_ends_before_its_first_byte_fails_over(pair, serve):
    pair.bad.enqueue(SSEScript([], framing="close", end="eof", release=True).behaviour())
    pair.good.enqueue(stream(delta_events(TEXTS)))
    live = serve(pair_config(pair))
    with RawStream(live, stream_body(model="fast")) as rs:
        assert rs.headers["x-octoroute-endpoint"] == "fast-good"
        assert rs.read_to_end().endswith(DONE_EVENT)
    assert live.models()["fast-bad"]["consecutive_failures"] == 1


def test_every_endpoint_failing_before_the_first_byte_is_a_json_error(pair, serve):
    pair.bad.enqueue(error(500))
    pair.good.enqueue(error(503))
    live = serve(pair_config(pair))
    client = live.openai()
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="fast", messages=HELLO, stream=True)
    assert caught.value.status_code == 502
    assert caught.value.code == "upstream_failed"
    assert caught.value.response.headers["content-type"].startswith("application/json")
    assert [a["endpoint"] for a in caught.value.body["attempts"]] == ["fast-bad", "fast-good"]
    assert live.metric("octoroute_in_flight_requests") == 0
    assert {m["in_flight"] for m in live.models().values()} == {0}


@pytest.mark.parametrize("limit", [{"timeouts": {"fast": 0.5, "stream_idle": 5.0}},
                                   {"server": {"request_timeout_seconds": 0.5}}],
                         ids=["attempt_timeout", "request_timeout"])
def test_long_generation_is_not_cut_by_first_byte_or_request_limits(trio, serve, logwatch, limit):
    script = SSEScript(delta_events(TEXTS))
    script.flow(every=0.2)  # about 1 s in all, twice the 0.5 s limit
    trio.fast.enqueue(script.behaviour())
    live = serve(trio_config(trio, **limit))
    with RawStream(live, stream_body()) as rs:
        assert rs.read_to_end() == script.body
    end = one_end(logwatch)
    assert end["outcome"] == "completed"
    assert end["duration_ms"] > 500.0


# --- after the first byte: cuts, stalls, disconnects ---------------------------

CUTS = [  # backend framing, how it ends, the outcome Octoroute must report
    ("chunked", "cut", "backend_error"),  # connection closed inside chunked encoding
    ("chunked", "eof", "incomplete"),  # a clean last chunk, but no [DONE]
    ("close", "eof", "incomplete"),  # close-delimited: a cut looks like a clean end
    ("http10", "cut", "incomplete"),
]


@pytest.mark.parametrize(("framing", "end", "outcome"), CUTS, ids=[f"{c[0]}-{c[1]}" for c in CUTS])
def test_cut_after_the_first_byte_ends_with_an_error_event(trio, serve, logwatch, framing, end, outcome):
    script = SSEScript(delta_events(TEXTS[:2]), framing=framing, end=end, release=True)
    trio.fast.enqueue(script.behaviour())
    live = serve(trio_config(trio))
    with RawStream(live, stream_body(), {"X-Request-ID": "cut-1"}) as rs:
        assert rs.status == 200
        body = rs.read_to_end()
    assert body.startswith(script.body)
    payloads = events(body)
    assert b"[DONE]" not in payloads
    err = json.loads(payloads[-1])["error"]
    assert set(err) >= {"message", "type", "param", "code", "request_id"}
    assert err["request_id"] == "cut-1"
    assert err["code"] == {"backend_error": "stream_interrupted", "incomplete": "stream_incomplete"}[outcome]
    assert body == script.body + b"data: " + payloads[-1] + b"\n\n"  # nothing after the error event
    assert one_end(logwatch)["outcome"] == outcome
    assert logwatch.wait_for("stream from fast-1 interrupted: " + err["message"])
    assert live.metric("octoroute_stream_interruptions_total", endpoint="fast-1", reason=outcome) == 1
    assert live.metric("octoroute_streams_total", outcome=outcome) == 1
    assert live.metric("octoroute_streams_total", outcome="completed") == 0
    fast = live.models()["fast-1"]
    assert fast["consecutive_failures"] == 1
    assert fast["last_error"]
    assert fast["in_flight"] == 0


def test_sdk_raises_api_error_when_the_stream_is_cut(trio, serve):
    trio.fast.enqueue(stream(delta_events(TEXTS[:2]), end="cut"))
    live = serve(trio_config(trio))
    client = live.openai()
    got = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in client.chat.completions.create(model="auto", messages=HELLO, stream=True):
            got.append(chunk.choices[0].delta.content)
    assert got == TEXTS[:2]
    assert "mid-stream" in caught.value.message
    assert caught.value.code == "stream_interrupted"


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_cut_inside_an_event_still_ends_with_a_parseable_error_event(trio, serve, framing):
    """A backend dying halfway through an event must not glue Octoroute's error onto its fragment."""
    complete = delta_events(TEXTS[:2])
    fragment = delta_events(TEXTS[2:3])[0][:25]  # 'data: {"id": "chatcmpl-s'
    trio.fast.enqueue(stream([*complete, fragment], framing=framing, end="cut"))
    live = serve(trio_config(trio))
    got = []
    with pytest.raises(openai.APIError) as caught:  # not a JSONDecodeError from a glued line
        for chunk in live.openai().chat.completions.create(model="auto", messages=HELLO, stream=True):
            got.append(chunk.choices[0].delta.content)
    assert got == TEXTS[:2]
    assert caught.value.code in ("stream_interrupted", "stream_incomplete")
    trio.fast.enqueue(stream([*complete, fragment], framing=framing, end="cut"))
    with RawStream(live, stream_body()) as rs:  # the same cut, seen as bytes
        body = rs.read_to_end()
    for event in body.split(b"\n\n")[:-1]:
        assert event.startswith(b"data: ")
        json.loads(event[len(b"data: "):])  # every event the client sees is whole JSON


def test_done_then_a_cut_is_still_a_completed_stream(trio, serve, logwatch):
    """After ``[DONE]`` the answer is whole: a backend dropping the connection then is no failure."""
    script = SSEScript([*delta_events(TEXTS), DONE_EVENT], framing="chunked", end="cut", release=True)
    trio.fast.enqueue(script.behaviour())
    live = serve(trio_config(trio))
    with RawStream(live, stream_body()) as rs:
        body = rs.read_to_end()
    assert events(body)[-1] == b"[DONE]", f"an event was sent after [DONE]: {body[-200:]!r}"
    assert body == script.body
    assert one_end(logwatch)["outcome"] == "completed"
    assert live.models()["fast-1"]["consecutive_failures"] == 0
    assert live.metric("octoroute_stream_interruptions_total", endpoint="fast-1",
                       reason="backend_error") is None


def test_done_quoted_inside_an_answer_does_not_truncate_it(trio, serve, logwatch):
    """An answer about SSE quotes the marker: it is content, the stream goes on to its own [DONE]."""
    texts = ["End a stream with ", "data: [DONE]\n\n", " on a line of its own.", " That is all."]
    trio.fast.enqueue(stream(delta_events(texts)))
    live = serve(trio_config(trio))
    client = live.openai()
    got = [c.choices[0].delta.content for c in client.chat.completions.create(
        model="auto", messages=HELLO, stream=True)]
    assert got == texts
    assert one_end(logwatch)["outcome"] == "completed"


SEPARATORS = {"crlf": b"\r\n\r\n", "cr": b"\r\r", "lf-crlf": b"\n\r\n", "mixed": None}


@pytest.mark.parametrize("sep", SEPARATORS.values(), ids=SEPARATORS.keys())
def test_every_event_separator_the_spec_allows_is_relayed_whole(trio, serve, logwatch, sep):
    seps = [sep] * 6 if sep is not None else [b"\r\r", b"\n\n", b"\r\n\r\n", b"\n\r\n", b"\r\n\n", b"\r\r"]
    chunks = [c[:-2] + s for c, s in zip([*delta_events(TEXTS), DONE_EVENT], seps, strict=True)]
    script = SSEScript(chunks, framing="chunked", end="eof", release=True)
    trio.fast.enqueue(script.behaviour())
    live = serve(trio_config(trio))
    with RawStream(live, stream_body()) as rs:
        body = rs.read_to_end()
    assert body == script.body
    assert one_end(logwatch)["outcome"] == "completed"
    assert live.models()["fast-1"]["consecutive_failures"] == 0


def test_done_without_the_optional_space_completes(trio, serve, logwatch):
    """SSE makes the space after ``data:`` optional; ``data:[DONE]`` ends a stream all the same."""
    chunks = [c.replace(b"data: ", b"data:") for c in delta_events(TEXTS)] + [b"data:[DONE]\n\n"]
    script = SSEScript(chunks, framing="chunked", end="eof", release=True)
    trio.fast.enqueue(script.behaviour())
    live = serve(trio_config(trio))
    with RawStream(live, stream_body()) as rs:
        body = rs.read_to_end()
    assert body == script.body, f"Octoroute added to a complete stream: {body[len(script.body):]!r}"
    assert one_end(logwatch)["outcome"] == "completed"
    assert live.models()["fast-1"]["consecutive_failures"] == 0


def test_stall_past_stream_idle_ends_with_an_error_event(trio, serve, logwatch):
    script = SSEScript(delta_events(TEXTS), released=2)  # then nothing: chunk 2 is never released
    trio.fast.enqueue(script.behaviour())
    live = serve(trio_config(trio, timeouts={"stream_idle": 0.5}))
    with RawStream(live, stream_body()) as rs:
        rs.read_through(script.chunks[0] + script.chunks[1])
        body = rs.read_to_end()
        ended = time.monotonic()
    stalled_for = ended - (script.written_at[1] or 0.0)
    print(f"stall cut {stalled_for:.3f}s after the last chunk (stream_idle 0.5s)")
    assert stalled_for < 0.5 + 2.0
    err = json.loads(events(body)[-1])["error"]
    assert err["code"] == "stream_interrupted"
    assert "0.5" in err["message"]
    assert b"[DONE]" not in body
    assert script.peer_closed.wait(STEP_TIMEOUT_S), "the stalled upstream connection was not closed"
    assert script.written() == 2
    assert one_end(logwatch)["outcome"] == "backend_error"
    assert live.metric("octoroute_stream_interruptions_total", endpoint="fast-1", reason="backend_error") == 1
    assert live.models()["fast-1"]["consecutive_failures"] == 1


def test_client_disconnect_closes_upstream_and_frees_the_worker(trio, serve, logwatch):
    script = SSEScript(delta_events([f"t{i} " for i in range(400)]))
    trio.fast.enqueue(script.behaviour())
    live = serve(trio_config(trio, server={"threads": 1}))  # a leaked worker would block /models
    script.release(0)
    rs = RawStream(live, stream_body())
    rs.read_through(script.chunks[0])
    rs.close()
    script.flow(every=0.02)  # the backend keeps generating, as a real one would
    assert script.peer_closed.wait(STEP_TIMEOUT_S), "the upstream connection stayed open"
    assert script.peer_closed_at is not None and rs.closed_at is not None
    after = script.peer_closed_at - rs.closed_at
    written_after = sum(1 for t in script.written_at if t is not None and t > rs.closed_at)
    print(f"upstream closed {after:.3f}s after the client hung up; {written_after} chunk(s) written since")
    assert after < 2.0
    assert script.written() < len(script.chunks)
    assert one_end(logwatch)["outcome"] == "client_disconnected"
    assert live.models()["fast-1"]["in_flight"] == 0  # answered: the only worker is free again
    assert live.metric("octoroute_streams_total", outcome="client_disconnected") == 1
    assert live.metric("octoroute_stream_interruptions_total", endpoint="fast-1",
                       reason="backend_error") is None
    assert live.models()["fast-1"]["consecutive_failures"] == 0
    assert live.metric("octoroute_in_flight_requests") == 0


def test_client_gone_before_the_first_byte_releases_everything(trio, serve, logwatch):
    """The client hangs up while Octoroute waits for the backend: the relay is closed unstarted."""
    script = SSEScript(delta_events(TEXTS))
    trio.fast.enqueue(script.behaviour())
    live = serve(trio_config(trio))
    rs = RawStream(live, stream_body(), read_head=False)
    assert script.headers_sent.wait(STEP_TIMEOUT_S)
    rs.close()
    script.flow(every=0.02)
    assert script.peer_closed.wait(STEP_TIMEOUT_S), "the upstream connection stayed open"
    assert one_end(logwatch)["outcome"] == "client_disconnected"
    assert live.models()["fast-1"]["in_flight"] == 0
    assert live.metric("octoroute_in_flight_requests") == 0
    assert live.runtime.slots.in_use == 0


# --- accounting ------------------------------------------------------------------

def test_completed_stream_metrics_and_log_line(trio, serve, logwatch):
    trio.fast.enqueue(stream(delta_events(TEXTS)))
    live = serve(trio_config(trio))
    assert live.metric("octoroute_streams_total", outcome="completed") == 0
    with RawStream(live, stream_body(), {"X-Request-ID": "done-1"}) as rs:
        body = rs.read_to_end()
    end = one_end(logwatch)
    assert end["outcome"] == "completed"
    assert end["bytes"] == len(body)
    assert 0 <= end["first_byte_ms"] <= end["duration_ms"]
    assert end["endpoint"] == "fast-1"
    assert live.metric("octoroute_streams_total", outcome="completed") == 1
    assert live.metric("octoroute_stream_duration_seconds_count", tier="fast") == 1
    assert live.metric("octoroute_stream_first_byte_seconds_count", tier="fast") == 1
    assert live.metric("octoroute_requests_total", tier="fast", strategy="rule") == 1
    assert live.metric("octoroute_in_flight_requests") == 0
    assert live.models()["fast-1"]["in_flight"] == 0




def test_streaming_endpoint_is_in_flight_and_skipped_by_health_rounds(trio, serve, logwatch):
    script = SSEScript(delta_events(TEXTS))
    trio.fast.enqueue(script.behaviour())
    clock = ManualClock()
    # The clock jumps an hour mid-stream: past the default timeouts.stream_total_seconds.
    live = serve(trio_config(trio, timeouts={"stream_total_seconds": 86400.0}), clock=clock)
    script.release(0)
    with RawStream(live, stream_body()) as rs:
        rs.read_through(script.chunks[0])
        models = live.models()
        assert [models[i]["in_flight"] for i in ("fast-1", "balanced-1", "deep-1")] == [1, 0, 0]
        assert live.metric("octoroute_in_flight_requests") == 1
        clock.advance(3600.0)  # every endpoint is due by time: only "in flight" can skip one
        results = {r.endpoint: r.ok for r in live.runtime.health.check_once()}
        assert results == {"fast-1": None, "balanced-1": True, "deep-1": True}
        assert trio.fast.probes() == []
        script.release_all()
        assert rs.read_to_end() == script.body
    assert one_end(logwatch)["outcome"] == "completed"
    assert live.models()["fast-1"]["in_flight"] == 0
    clock.advance(3600.0)
    assert {r.endpoint: r.ok for r in live.runtime.health.check_once()}["fast-1"] is True
    assert len(trio.fast.probes()) == 1


def test_streams_leave_no_threads_behind(fake_backend, serve, logwatch):
    """Normal, cut, stalled and abandoned streams; then everything stops and no thread remains."""
    before = threading.active_count()
    fast, balanced, deep = fake_backend("fast-1"), fake_backend("balanced-1"), fake_backend("deep-1")
    live = serve(make_config({"fast": [fast], "balanced": [balanced], "deep": [deep]},
                             timeouts={"stream_idle": 0.5}))
    stalled = SSEScript(delta_events(TEXTS), released=1)  # then silence past stream_idle
    abandoned = SSEScript(delta_events(TEXTS))
    fast.enqueue(stream(delta_events(TEXTS)), stream(delta_events(TEXTS)),
                 stream(delta_events(TEXTS), end="cut"), stalled.behaviour(), abandoned.behaviour())
    client = live.openai()
    assert [c.choices[0].delta.content for c in client.chat.completions.create(
        model="auto", messages=HELLO, stream=True)] == TEXTS
    for _ in range(3):
        with RawStream(live, stream_body()) as rs:
            rs.read_to_end()
    abandoned.release(0)
    rs = RawStream(live, stream_body())
    rs.read_through(abandoned.chunks[0])
    rs.close()
    abandoned.flow(every=0.02)
    ends = logwatch.fields(STREAM_END, count=5)
    assert [e["outcome"] for e in ends] == ["completed", "completed", "backend_error", "backend_error",
                                            "client_disconnected"]
    live.stop()
    for b in (fast, balanced, deep):
        b.stop()
    give_up = time.monotonic() + STOP_WAIT_S
    while threading.active_count() > before and time.monotonic() < give_up:
        threading.Event().wait(0.05)  # bounded wait for exiting threads, not synchronisation
    leftover = [t.name for t in threading.enumerate()]
    assert threading.active_count() <= before, f"threads left behind: {leftover}"


def test_completed_streams_hand_their_backend_connection_to_the_next_request(trio, serve, logwatch,
                                                                            monkeypatch):
    """The relay stops at [DONE]; the chunked body's end is read afterwards, so the next
    request (streamed or not) reuses the connection instead of opening another."""
    # The fake writes the end right after [DONE], but shares this process's GIL: allow it time.
    monkeypatch.setattr("octoroute.api.streaming.FINISH_SECONDS", 5.0)
    for _ in range(3):
        trio.fast.enqueue(stream(delta_events(TEXTS)))
    live = serve(trio_config(trio))
    for i in range(3):
        with RawStream(live, stream_body(), {"X-Request-ID": f"reuse-{i}"}) as rs:
            rs.read_to_end()
        logwatch.wait_for("stream end", count=i + 1)
    assert live.chat("hi there").status_code == 200
    assert trio.fast.connections_accepted == 1


# --- trickling and silent backends: hang-ups and the total deadline ------------------

TRICKLE_EVERY_S = 0.1  # seconds between two bytes of the event that never ends
RELEASE_BOUND_S = 1.0  # seconds; from a client's hang-up to its worker, slot and backend connection freed
FIRST_EVENT = delta_event("Hel", role=True)
ENDLESS_EVENT = delta_event("lo" * 10_000)  # trickled a byte at a time: never whole


class TrickleBackend:
    """A raw-socket SSE backend: one whole event, then the next one byte per ``every`` seconds.

    With ``every=None`` it goes silent after the first event instead. Either
    way the second event never ends, so nothing reaches the client after the
    first and only a hang-up or a deadline can end the stream. Every POST
    gets this answer; ``closed_at`` records when each connection was closed
    by Octoroute, seen at once (the server waits on the socket, not a timer).
    """

    def __init__(self, every: float | None) -> None:
        self._every = every
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"
        self._stop = threading.Event()
        self._cv = threading.Condition()  # guards accepted, trickled and closed_at
        self.accepted = 0
        self.trickled = 0  # bytes of the endless event sent, all connections
        self.closed_at: list[float] = []
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._start(self._accept, "test-trickle-accept")

    def _start(self, target: Callable[..., None], name: str, *args: Any) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(t)
        t.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._cv:
                self.accepted += 1
                self._conns.append(conn)
            self._start(self._serve, "test-trickle-conn", conn)

    def _read_request(self, conn: socket.socket) -> bool:
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = conn.recv(65536)
            if not data:
                return False
            buf += data
        head, _, body = buf.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            data = conn.recv(65536)
            if not data:
                return False
            body += data
        return True

    def _serve(self, conn: socket.socket) -> None:
        try:
            if not self._read_request(conn):
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n" % (len(FIRST_EVENT), FIRST_EVENT))
            for k in range(len(ENDLESS_EVENT)):
                # NOTE: the pacing is the fault itself; the wait also watches for Octoroute's close.
                readable, _, _ = select.select([conn], [], [], self._every or TRICKLE_EVERY_S)
                if self._stop.is_set():
                    return
                if readable and not conn.recv(1, socket.MSG_PEEK):
                    self._closed()
                    return
                if self._every is not None:
                    conn.sendall(b"1\r\n%s\r\n" % ENDLESS_EVENT[k:k + 1])
                    with self._cv:
                        self.trickled += 1
                        self._cv.notify_all()
        except OSError:
            self._closed()
        finally:
            conn.close()

    def _closed(self) -> None:
        with self._cv:
            self.closed_at.append(time.monotonic())
            self._cv.notify_all()

    def wait_closed(self, count: int, timeout: float = STEP_TIMEOUT_S) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: len(self.closed_at) >= count, timeout)

    def wait_trickled(self, count: int, timeout: float = STEP_TIMEOUT_S) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: self.trickled >= count, timeout)

    def stop(self) -> None:
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
        except OSError:
            pass
        self._listener.close()
        with self._cv:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self._threads:
            t.join(STOP_WAIT_S)


@pytest.fixture
def trickle_backend() -> Iterator[Callable[[float | None], TrickleBackend]]:
    started: list[TrickleBackend] = []

    def start(every: float | None) -> TrickleBackend:
        backend = TrickleBackend(every)
        started.append(backend)
        return backend
    yield start
    for backend in started:
        backend.stop()


def trickle_config(backend: TrickleBackend, trio: SimpleNamespace, **sections: Any) -> Any:
    return trio_config(trio, fast=[endpoint(backend.base_url, id="trickle-1", name="m")], **sections)


TRICKLE_MODES = {"trickling": TRICKLE_EVERY_S, "silent": None}


@pytest.mark.parametrize("every", TRICKLE_MODES.values(), ids=TRICKLE_MODES.keys())
def test_a_hang_up_releases_worker_slot_and_backend_within_a_second(trickle_backend, trio, serve,
                                                                    logwatch, every):
    backend = trickle_backend(every)
    live = serve(trickle_config(backend, trio, server={"threads": 2}))  # one worker for others
    rs = RawStream(live, stream_body())
    rs.read_through(FIRST_EVENT)
    if every is not None:
        assert backend.wait_trickled(3)  # inside the endless event
    assert live.runtime.slots.in_use == 1
    rs.close()
    assert backend.wait_closed(1), "the backend connection stayed open"
    assert rs.closed_at is not None
    backend_released = backend.closed_at[0] - rs.closed_at
    end = one_end(logwatch)
    live.settle(timeout=RELEASE_BOUND_S)  # the worker is back (bounded poll, fails after the bound)
    worker_released = time.monotonic() - rs.closed_at
    print(f"{'silent' if every is None else 'trickling'}: backend connection closed "
          f"{backend_released * 1000:.0f} ms and the worker idle {worker_released * 1000:.0f} ms "
          "after the client hung up")
    assert backend_released < RELEASE_BOUND_S
    assert worker_released < RELEASE_BOUND_S + 0.1  # the settle poll's own granularity
    assert end["outcome"] == "client_disconnected"
    assert end["endpoint"] == "trickle-1"
    assert live.runtime.slots.in_use == 0
    assert live.models()["trickle-1"]["in_flight"] == 0
    assert live.models()["trickle-1"]["consecutive_failures"] == 0
    assert live.metric("octoroute_streams_total", outcome="client_disconnected") == 1
    assert live.runtime.watchdog.watching() == 0


@pytest.mark.parametrize("every", TRICKLE_MODES.values(), ids=TRICKLE_MODES.keys())
def test_the_total_deadline_ends_a_never_ending_event_with_a_stream_timeout_event(
        trickle_backend, trio, serve, logwatch, every):
    backend = trickle_backend(every)
    live = serve(trickle_config(backend, trio, timeouts={"stream_total_seconds": 1.0}))
    started = time.monotonic()
    with RawStream(live, stream_body(), {"X-Request-ID": "endless-1"}) as rs:
        body = rs.read_to_end()
    took = time.monotonic() - started
    print(f"{'silent' if every is None else 'trickling'}: cut after {took:.3f}s "
          "(timeouts.stream_total_seconds 1s)")
    assert 1.0 <= took < 1.0 + 1.0
    first, error_payload = events(body)  # the half-sent event is not relayed
    assert body.startswith(FIRST_EVENT) and first == FIRST_EVENT[len(b"data: "):-2]
    err = json.loads(error_payload)["error"]
    assert err["code"] == "stream_timeout"
    assert err["request_id"] == "endless-1"
    assert "timeouts.stream_total_seconds" in err["message"]
    assert b"[DONE]" not in body
    assert backend.wait_closed(1), "the backend connection stayed open"
    end = one_end(logwatch)
    assert end["outcome"] == "stream_timeout"
    assert logwatch.wait_for("stream from trickle-1 cut: " + err["message"])
    assert live.metric("octoroute_streams_total", outcome="stream_timeout") == 1
    assert live.runtime.slots.in_use == 0
    trickle = live.models()["trickle-1"]
    assert trickle["in_flight"] == 0
    assert trickle["consecutive_failures"] == 0  # a long answer is not a sick endpoint


def test_many_trickling_streams_whose_clients_left_do_not_lock_others_out(trickle_backend, trio, serve,
                                                                          logwatch):
    """Twelve such streams used to hold every chat slot for good: everyone else got 429."""
    backend = trickle_backend(TRICKLE_EVERY_S)
    slots = 12
    live = serve(trickle_config(backend, trio, server={"threads": slots + 4, "max_in_flight": slots}))
    for round_ in range(2):
        streams = [RawStream(live, stream_body(), read_head=False) for _ in range(slots)]
        for rs in streams:
            rs.read_head()
        assert [rs.status for rs in streams] == [200] * slots  # no 429: the last round's slots are free
        for rs in streams:
            rs.read_through(FIRST_EVENT)
        assert live.runtime.slots.in_use == slots
        for rs in streams:
            rs.close()
        ends = logwatch.fields(STREAM_END, count=slots * (round_ + 1))
        assert backend.wait_closed(slots * (round_ + 1))
        assert {e["outcome"] for e in ends} == {"client_disconnected"}
        assert live.runtime.slots.in_use == 0
    assert live.metric("octoroute_streams_total", outcome="client_disconnected") == 2 * slots
    assert live.models()["trickle-1"]["in_flight"] == 0
    other = live.post("/v1/chat/completions", json={"model": "balanced", "messages": HELLO})
    assert other.status_code == 200, other.text  # a chat slot for everyone else too
