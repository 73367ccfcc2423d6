"""The SSE relay (octoroute/api/streaming.py) against a fake upstream, no sockets.

The fake upstream returns scripted reads and, once the script runs out,
blocks like a silent backend until ``abort()``, so the tests show what ends
a stream: its framing, ``[DONE]``, the total deadline, a client gone, or an
abort from another thread. Linear time is shown by counting the bytes the
event splitter searches, not by timing.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from octoroute.api import streaming
from octoroute.api.streaming import EventSplitter, StreamEnd, StreamRelay, done_end, is_done_event
from octoroute.api.watchdog import StreamWatchdog
from octoroute.errors import BackendError

BLOCK_LIMIT_S = 10.0  # seconds; a blocked fake read gives up (the test then fails, never hangs)
WAIT_S = 5.0  # seconds; bounded waits on events


class FakeUpstream:
    """A ``BackendStream`` stand-in: scripted reads, then a read that blocks until ``abort()``."""

    def __init__(self, first: bytes, reads: Iterable[bytes | BaseException] = (), *,
                 then: str = "block") -> None:
        self.first = first
        self.status = 200
        self.headers = {"content-type": "text/event-stream"}
        self.reads: deque[bytes | BaseException] = deque(reads)
        self.then = then  # block (a silent backend) | eof
        self.aborted = threading.Event()
        self.blocked = threading.Event()  # a read is waiting for data that never comes
        self.read_count = 0
        self.closed = False
        self.finished: float | None = None

    def read(self) -> bytes:
        self.read_count += 1
        if self.reads:
            item = self.reads.popleft()
            if isinstance(item, BaseException):
                raise item
            return item
        if self.then == "eof" or self.aborted.is_set():
            return b""
        self.blocked.set()
        assert self.aborted.wait(BLOCK_LIMIT_S), "a read blocked and nobody aborted it"
        return b""

    def abort(self) -> None:
        self.aborted.set()

    def finish(self, seconds: float) -> None:
        self.finished = seconds

    def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def relay(upstream: FakeUpstream, *, clock: Clock | None = None, **kwargs: Any) -> tuple[StreamRelay,
                                                                                          list[StreamEnd]]:
    ends: list[StreamEnd] = []
    r = StreamRelay(upstream, request_id="req-1", started=100.0, first_byte_at=100.0,  # type: ignore[arg-type]
                    clock=clock or Clock(), on_end=ends.append, **kwargs)
    return r, ends


def run(r: StreamRelay) -> list[bytes]:
    try:
        return list(r)
    finally:
        r.close()


def parse_sse(raw: bytes) -> list[str]:
    """The data of each dispatched event, as the SSE specification's parser sees it."""
    events, data = [], []
    for line in re.split(rb"\r\n|\r|\n", raw)[:-1]:  # the last piece has no line end yet
        if not line:
            if data:
                events.append("\n".join(data))
            data = []
        elif line.startswith(b"data:"):
            value = line[5:]
            data.append((value[1:] if value.startswith(b" ") else value).decode())
    return events


def event(payload: Any, sep: bytes = b"\n\n") -> bytes:
    return b"data: " + json.dumps(payload).encode() + sep


# --- framing ------------------------------------------------------------------

SEPARATORS = {"lf": b"\n\n", "cr": b"\r\r", "crlf": b"\r\n\r\n", "lf-crlf": b"\n\r\n",
              "crlf-lf": b"\r\n\n", "cr-crlf": b"\r\r\n"}


@pytest.mark.parametrize("sep", SEPARATORS.values(), ids=SEPARATORS.keys())
def test_every_separator_the_spec_allows_ends_an_event(sep):
    events = [event({"n": i}, sep) for i in range(3)]
    up = FakeUpstream(events[0], [*events[1:], b"data: [DONE]" + sep])
    r, ends = relay(up)
    out = run(r)
    assert b"".join(out) == b"".join(events) + b"data: [DONE]" + sep
    assert out[:3] == events  # each event is relayed as soon as it is whole
    assert parse_sse(b"".join(out)) == ['{"n": 0}', '{"n": 1}', '{"n": 2}', "[DONE]"]
    assert ends[0].outcome == "completed"


def test_mixed_separators_and_multi_line_events():
    raw = (b"event: delta\rdata: {\"n\": 0}\r\r"
           b": a comment\r\ndata: {\"n\": 1}\r\n\n"
           b"id: 7\ndata: {\"n\":\ndata:  2}\n\r\n"
           b"data:[DONE]\r\n\r\n")
    up = FakeUpstream(raw[:5], [raw[5:40], raw[40:41], raw[41:]])
    r, ends = relay(up)
    out = b"".join(run(r))
    assert out == raw
    assert parse_sse(out) == ['{"n": 0}', '{"n": 1}', '{"n":\n 2}', "[DONE]"]
    assert ends[0].outcome == "completed"


@settings(max_examples=200, deadline=None)
@given(seps=st.lists(st.sampled_from(list(SEPARATORS.values())), min_size=1, max_size=6),
       cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=20))
def test_any_split_of_any_separators_relays_the_same_events(seps, cuts):
    """However reads split the bytes (a CR and its LF in different reads too), the client
    parses the same events, and nothing but line ends after [DONE] is held back."""
    raw = b"".join(event({"n": i, "text": "a\r\nb"}, sep) for i, sep in enumerate(seps))
    raw += b"data: [DONE]" + seps[-1]
    points = sorted({c for c in cuts if c < len(raw)})
    pieces = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    up = FakeUpstream(pieces[0], pieces[1:])
    r, ends = relay(up)
    out = b"".join(run(r))
    assert raw.startswith(out) and raw[len(out):].strip(b"\r\n") == b""
    assert parse_sse(out) == [json.dumps({"n": i, "text": "a\r\nb"}) for i in range(len(seps))] + ["[DONE]"]
    assert ends[0].outcome == "completed"


def test_half_an_event_is_held_until_its_end_arrives():
    whole = event({"content": "a longer piece of an answer"})
    up = FakeUpstream(whole[:10], [whole[10:20], whole[20:-1], whole[-1:], b"data: [DONE]\n\n"])
    r, _ = relay(up)
    assert next(r) == whole  # one item: nothing of the event went out before its end
    assert up.read_count == 3
    run(r)


# --- [DONE] -------------------------------------------------------------------

def test_done_inside_an_answer_does_not_end_the_stream():
    """A code answer about SSE quotes the marker; only an event of its own ends the stream."""
    quoting = [event({"content": "send data: [DONE]\n\n at the end"}),
               event({"content": "data: [DONE]"}),
               b"data: [DONE]\ndata: more\n\n",  # two data lines: the data is "[DONE]\nmore"
               b"data:  [DONE]\n\n"]  # two spaces: the data is " [DONE]"
    rest = event({"content": "the rest"})
    up = FakeUpstream(quoting[0], [*quoting[1:], rest, b"data: [DONE]\n\n"])
    r, ends = relay(up)
    out = b"".join(run(r))
    assert out == b"".join(quoting) + rest + b"data: [DONE]\n\n"
    assert ends[0].outcome == "completed"


@pytest.mark.parametrize("marker", [b"data: [DONE]", b"data:[DONE]"])
def test_done_with_or_without_the_space_completes_without_another_read(marker):
    up = FakeUpstream(event({"n": 1}), [marker + b"\n\n" + b"data: after\n\n"])
    r, ends = relay(up)
    out = run(r)
    assert out == [event({"n": 1}), marker + b"\n\n"]  # nothing after [DONE] is relayed
    assert up.read_count == 1  # no read after [DONE]: the backend may keep the connection open
    assert ends[0].outcome == "completed"
    assert up.finished == streaming.FINISH_SECONDS and not up.closed


@pytest.mark.parametrize(("raw", "done"), [
    (b"data: [DONE]", True), (b"data:[DONE]", True), (b": keep-alive\r\nid: 9\rdata: [DONE]", True),
    (b"data: [DONE] ", False), (b"data: [done]", False), (b'data: {"x": "data: [DONE]"}', False),
    (b"data: [DONE]\ndata: [DONE]", False), (b"event: x", False)])
def test_is_done_event(raw, done):
    assert is_done_event(raw) is done


def test_done_end_points_past_the_marker_event():
    events = b"data: 1\n\ndata: [DONE]\r\n\r\ndata: 2\n\n"
    assert done_end(events) == events.index(b"data: 2")
    assert done_end(b"data: 1\n\n") is None


# --- linear time and the partial-event cap --------------------------------------

def test_a_long_event_in_small_reads_is_scanned_once():
    """2 MiB in 1 KiB reads: each byte is searched about once (the old rescan: ~1,000 times)."""
    splitter = EventSplitter(max_partial=4 * 1024 * 1024)
    body = b"data: " + b"x" * (2 * 1024 * 1024) + b"\n\n"
    pieces = [body[i:i + 1024] for i in range(0, len(body), 1024)]
    out = b"".join(splitter.feed(p) for p in pieces)
    assert out == body
    overlap = (streaming.EVENT_END_MAX_BYTES - 1) * len(pieces)
    print(f"searched {splitter.scanned} bytes for a {len(body)}-byte event in {len(pieces)} reads")
    assert splitter.scanned <= len(body) + overlap


def test_a_long_multi_line_event_is_scanned_once_too():
    splitter = EventSplitter(max_partial=4 * 1024 * 1024)
    body = b"".join(b"data: line %d\r\n" % i for i in range(50_000)) + b"\r\n"
    pieces = [body[i:i + 100] for i in range(0, len(body), 100)]
    assert b"".join(splitter.feed(p) for p in pieces) == body
    assert splitter.scanned <= len(body) + (streaming.EVENT_END_MAX_BYTES - 1) * len(pieces)


def test_an_event_past_the_partial_cap_is_let_through_and_framing_resumes():
    splitter = EventSplitter(max_partial=100)
    assert splitter.feed(b"data: " + b"x" * 90) == b""
    assert splitter.held == 96
    flushed = splitter.feed(b"y" * 10)  # 106 bytes without an event end: not held any longer
    assert flushed == b"data: " + b"x" * 90 + b"y" * 10 and splitter.held == 0
    assert splitter.feed(b"\n\ndata: 1") == b"\n\n"
    assert splitter.feed(b"\n\n") == b"data: 1\n\n"


def test_the_relay_lets_an_unframed_megabyte_through():
    big = b"x" * (streaming.MAX_PARTIAL_EVENT_BYTES + 1)
    up = FakeUpstream(big[:1000], [big[1000:], b"data: [DONE]\n\n"])
    r, ends = relay(up)
    assert next(r) == big
    run(r)
    assert ends[0].outcome == "completed"


# --- ends that are not [DONE] -----------------------------------------------------

def test_a_cut_mid_event_ends_with_a_whole_error_event():
    up = FakeUpstream(event({"n": 1}), [b'data: {"n": 2', BackendError("reset", kind="bad_response")])
    r, ends = relay(up)
    out = run(r)
    assert out[0] == event({"n": 1})
    assert json.loads(out[1][len(b"data: "):])["error"]["code"] == "stream_interrupted"
    assert out[1].endswith(b"\n\n") and len(out) == 2
    assert ends[0].outcome == "backend_error" and up.closed


def test_the_total_deadline_cuts_a_trickle_with_a_stream_timeout_event():
    clock = Clock()
    trickle = [b"d", b"a", b"t", b"a"]
    up = FakeUpstream(event({"n": 1}), trickle)
    r, ends = relay(up, clock=clock, total_seconds=60.0)
    assert next(r) == event({"n": 1})
    clock.now = 159.0
    # The trickle returns a byte at a time, so the relay's own check catches the deadline.
    reads = up.read_count

    def advance_on_read() -> bytes:
        clock.now += 0.5
        return FakeUpstream.read(up)
    up.read = advance_on_read  # type: ignore[method-assign]
    out = next(r)
    err = json.loads(out[len(b"data: "):])["error"]
    assert err["code"] == "stream_timeout"
    assert "60s" in err["message"] and "timeouts.stream_total_seconds" in err["message"]
    assert err["request_id"] == "req-1"
    assert up.read_count - reads == 2  # 159.5, 160.0: then no read past the deadline
    with pytest.raises(StopIteration):
        next(r)
    r.close()
    assert ends[0].outcome == "stream_timeout" and ends[0].error and up.closed
    assert up.finished is None  # a cut stream's connection is never reused


def test_a_client_gone_ends_the_stream_quietly_before_the_next_read():
    gone = threading.Event()
    up = FakeUpstream(event({"n": 1}), [event({"n": 2})])
    r, ends = relay(up, client_gone=gone.is_set)
    assert next(r) == event({"n": 1})
    gone.set()
    with pytest.raises(StopIteration):  # nothing more is written to nobody
        next(r)
    r.close()
    assert up.read_count == 0
    assert ends[0].outcome == "client_disconnected" and up.closed


@pytest.mark.parametrize(("reason", "ends_with_event"), [("client_disconnected", False),
                                                          ("stream_timeout", True)])
def test_abort_from_another_thread_unblocks_a_read_on_a_silent_backend(reason, ends_with_event):
    up = FakeUpstream(event({"n": 1}))
    r, ends = relay(up, total_seconds=60.0)
    got: list[bytes] = []
    done = threading.Event()

    def iterate() -> None:
        try:
            got.extend(r)
        finally:
            done.set()
    t = threading.Thread(target=iterate, name="test-relay-worker", daemon=True)
    t.start()
    assert up.blocked.wait(WAIT_S)  # the worker waits on a backend that says nothing
    r.abort(reason)
    assert done.wait(WAIT_S), "abort() did not end the iteration"
    t.join(WAIT_S)
    r.close()
    assert got[0] == event({"n": 1})
    if ends_with_event:
        assert json.loads(got[1][len(b"data: "):])["error"]["code"] == reason
    else:
        assert got == [event({"n": 1})]
    assert ends[0].outcome == reason and up.closed


def test_abort_after_close_does_nothing():
    up = FakeUpstream(event({"n": 1}), then="eof")
    r, ends = relay(up)
    run(r)
    r.abort("client_disconnected")
    assert not up.aborted.is_set()
    assert [e.outcome for e in ends] == ["incomplete"]


def test_an_unstarted_relay_closed_by_the_server_is_a_client_disconnect():
    up = FakeUpstream(event({"n": 1}))
    r, ends = relay(up)
    r.close()
    r.close()
    assert [e.outcome for e in ends] == ["client_disconnected"] and up.closed


# --- with the watchdog --------------------------------------------------------------

def test_the_watchdog_ends_a_silent_stream_whose_client_left():
    clock = Clock()
    gone = threading.Event()
    watchdog = StreamWatchdog(interval=3600.0, clock=clock)  # only wake() runs a check
    up = FakeUpstream(event({"n": 1}))
    r, ends = relay(up, clock=clock, client_gone=gone.is_set, watchdog=watchdog)
    done = threading.Event()
    t = threading.Thread(target=lambda: (list(r), done.set()), name="test-relay-worker", daemon=True)
    try:
        t.start()
        assert up.blocked.wait(WAIT_S)
        assert watchdog.watching() == 1 and watchdog.running
        watchdog.wake()
        assert not done.wait(0.05)  # the client is still there: nothing to do
        gone.set()
        watchdog.wake()
        assert done.wait(WAIT_S), "the watchdog did not abort the stream"
        r.close()
        assert ends[0].outcome == "client_disconnected"
        assert watchdog.watching() == 0
    finally:
        up.abort()
        assert watchdog.stop(WAIT_S)
        t.join(WAIT_S)


def test_the_watchdog_ends_a_silent_stream_at_its_deadline():
    clock = Clock()
    watchdog = StreamWatchdog(interval=3600.0, clock=clock)
    up = FakeUpstream(event({"n": 1}))
    r, ends = relay(up, clock=clock, total_seconds=600.0, watchdog=watchdog)
    got: list[bytes] = []
    t = threading.Thread(target=got.extend, args=(r,), name="test-relay-worker", daemon=True)
    try:
        t.start()
        assert up.blocked.wait(WAIT_S)
        clock.now = 699.0
        assert watchdog.check_once() == []
        clock.now = 700.0
        assert watchdog.check_once() == [(r, "stream_timeout")]
        t.join(WAIT_S)
        assert not t.is_alive()
        r.close()
        assert json.loads(got[-1][len(b"data: "):])["error"]["code"] == "stream_timeout"
        assert ends[0].outcome == "stream_timeout"
    finally:
        up.abort()
        watchdog.stop(WAIT_S)


# --- reframing (/v1/messages) ---------------------------------------------------------

class Upper:
    """A reframer that upper-cases events, drops ones holding "skip" and names errors."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []

    def events(self, events: bytes) -> bytes:
        self.seen.append(events)
        return b"" if b"skip" in events else events.upper()

    def error(self, message: str, *, code: str, request_id: str) -> bytes:
        return f"event: error\ndata: {code} {request_id}\n\n".encode()


def test_a_reframer_sees_whole_events_and_done_and_empty_output_is_not_yielded():
    up = FakeUpstream(event({"n": "skip"}), [b'data: {"n": "a', b'"}\n\n', b"data: [DONE]\n\n"])
    reframer = Upper()
    r, ends = relay(up, reframe=reframer)
    chunks = run(r)
    assert chunks == [b'DATA: {"N": "A"}\n\n', b"DATA: [DONE]\n\n"]  # no empty chunk for "skip"
    assert reframer.seen == [event({"n": "skip"}), b'data: {"n": "a"}\n\n', b"data: [DONE]\n\n"]
    assert ends[0].outcome == "completed"


def test_a_reframer_frames_the_error_after_the_first_byte():
    up = FakeUpstream(event({"n": 1}), [BackendError("reset", kind="bad_response")])
    r, ends = relay(up, reframe=Upper())
    chunks = run(r)
    assert chunks[-1] == b"event: error\ndata: stream_interrupted req-1\n\n"
    assert ends[0].outcome == "backend_error"
