"""Relay a backend's server-sent events to the client, whole events at a time.

``StreamRelay`` is the WSGI response iterable. It owns the whole life of a
stream after its first byte: framing of the error event when the backend
fails mid-way, upstream cleanup, the endpoint's in-flight count, metrics and
the closing log line, all in ``close()``, which WSGI servers always call, even
when the client disconnected or iteration never started (a generator's
``finally`` would not run in that case).

A stream also ends when its client hangs up (waitress's
``waitress.client_disconnected``) or when it outlives
``timeouts.stream_total_seconds``. The relay checks both before every
backend read; a read that blocks (a silent or trickling backend) is
interrupted by the ``StreamWatchdog``, which calls ``abort()``.

The SSE framing is hand-written (no library on the design card parses SSE)
and kept to what the relay needs: where an event ends, and whether an event
is ``[DONE]``. Bytes are relayed unchanged.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from octoroute.api.watchdog import StreamWatchdog
from octoroute.backends.client import BackendStream
from octoroute.errors import BackendError
from octoroute.logs import request_id_var

log = logging.getLogger("octoroute.stream")

# An event ends at an empty line: two line ends in a row, where a line ends
# with CRLF, LF or CR (the SSE specification's three). A CR is a line end of
# its own only when no LF follows it.
EVENT_END = re.compile(rb"(?:\r\n|\n|\r(?!\n))(?:\r\n|\n|\r(?!\n))")
LINE_END = re.compile(rb"\r\n|\r|\n")
EVENT_END_MAX_BYTES = 4  # the longest match of EVENT_END (CRLF CRLF)
# Endings that always close an event at the very end (an LF is a line end
# whatever precedes it; a CR after a line end ends an empty line even if its
# LF is still to come): the relay's fast path, without a search.
ENDS_WITH_EVENT_END = (b"\n\n", b"\r\r", b"\n\r\n", b"\r\r\n", b"\n\r")
DONE_LINES = (b"data: [DONE]", b"data:[DONE]")  # the SSE space after the colon is optional
MAX_PARTIAL_EVENT_BYTES = 1024 * 1024  # bytes of one unfinished event held before giving up on framing
FINISH_SECONDS = 0.02  # seconds a completed stream's framing end may take to arrive (then: closed)

CLIENT_DISCONNECTED = "client_disconnected"
STREAM_TIMEOUT = "stream_timeout"


@dataclass(frozen=True)
class StreamEnd:
    """How a stream ended, handed to the ``on_end`` hook exactly once."""

    outcome: str  # completed | backend_error | incomplete | client_disconnected | stream_timeout
    seconds: float  # from request start to the end of the stream
    first_byte_seconds: float  # from request start to the first byte from the backend
    bytes_relayed: int
    error: str | None


def error_event(message: str, *, code: str, request_id: str) -> bytes:
    """An SSE ``data:`` event with an OpenAI-shaped error object (no ``[DONE]`` after it)."""
    body = {"error": {"message": message, "type": "upstream_error", "param": None, "code": code,
                      "request_id": request_id}}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class Reframer(Protocol):
    """Turns the backend's whole SSE events into another API's events (``/v1/messages``)."""

    def events(self, events: bytes) -> bytes:
        """The bytes to send for whole events (``[DONE]`` included); may be empty."""

    def error(self, message: str, *, code: str, request_id: str) -> bytes:
        """The error event for a failure after the first byte."""


class EventSplitter:
    """Cuts a byte stream after its last complete SSE event, in linear time.

    Only the bytes not scanned yet are searched on each ``feed`` (plus the
    few at the end that may start a separator completed by the next read),
    so an event that arrives in a thousand pieces is scanned once, not a
    thousand times. ``scanned`` counts the bytes searched, for tests.
    """

    def __init__(self, max_partial: int = MAX_PARTIAL_EVENT_BYTES) -> None:
        self._max_partial = max_partial
        self._held = bytearray()  # the start of an event whose end has not arrived
        self._scan_from = 0  # bytes of _held already searched for an event end
        self.scanned = 0

    @property
    def held(self) -> int:
        return len(self._held)

    def feed(self, chunk: bytes) -> bytes:
        """The complete events available with ``chunk``; hold back an unfinished one.

        Relaying only whole events means an error event can never be glued
        onto half an event when the backend dies mid-event. An unfinished
        event longer than ``max_partial`` is let through (not SSE after all,
        or a broken backend: better than holding it forever).
        """
        held = self._held
        if not held and chunk.endswith(ENDS_WITH_EVENT_END):
            # The common case, a read of whole events: nothing to search or copy.
            self.scanned += EVENT_END_MAX_BYTES
            return chunk
        held += chunk
        if held.endswith(ENDS_WITH_EVENT_END):
            cut = len(held)
        else:
            cut = -1
            for match in EVENT_END.finditer(held, self._scan_from):
                cut = match.end()
            self.scanned += len(held) - self._scan_from
            if cut < 0:
                if len(held) <= self._max_partial:
                    self._scan_from = max(0, len(held) - (EVENT_END_MAX_BYTES - 1))
                    return b""
                cut = len(held)
        out = bytes(held[:cut])
        del held[:cut]  # bytearray drops its head without moving the rest
        self._scan_from = max(0, len(held) - (EVENT_END_MAX_BYTES - 1))
        return out

    def clear(self) -> None:
        self._held.clear()
        self._scan_from = 0


def done_end(events: bytes) -> int | None:
    """Where the ``[DONE]`` event in ``events`` (whole events) ends, or ``None``.

    ``[DONE]`` counts only as the one ``data:`` line of its own event; the
    same text inside an answer (a JSON string about SSE) is content.
    """
    if b"[DONE]" not in events:
        return None
    start = 0
    for match in EVENT_END.finditer(events):
        event = events[start:match.start()]
        if b"[DONE]" in event and is_done_event(event):
            return match.end()
        start = match.end()
    return None


def is_done_event(event: bytes) -> bool:
    """Whether one event (without its final empty line) is the ``[DONE]`` marker."""
    data = [line for line in LINE_END.split(event) if line.startswith(b"data:")]
    return len(data) == 1 and data[0] in DONE_LINES


class StreamRelay:
    """Iterate the backend's bytes as they arrive; clean up in ``close()``."""

    def __init__(self, upstream: BackendStream, *, request_id: str, started: float,
                 first_byte_at: float, clock: Callable[[], float],
                 on_end: Callable[[StreamEnd], None], max_bytes: int | None = None,
                 sse: bool = True, total_seconds: float | None = None,
                 client_gone: Callable[[], bool] | None = None,
                 watchdog: StreamWatchdog | None = None,
                 events_filter: Callable[[bytes], bytes] | None = None,
                 reframe: Reframer | None = None) -> None:
        self._max_bytes = max_bytes
        # Sees whole events before the client does and may drop some (the usage
        # chunk the client did not ask for: api.accounting.UsageTap).
        self._filter = events_filter
        # Then turns the (OpenAI) events into another API's (/v1/messages).
        self._reframe = reframe
        self._upstream = upstream
        self._pending: bytes | None = upstream.first
        self._request_id = request_id
        self._started = started
        self._first_byte_at = first_byte_at
        self._clock = clock
        self._on_end = on_end
        self._events = EventSplitter()
        self._sse = sse
        self._total_seconds = total_seconds
        self._deadline = started + total_seconds if total_seconds is not None else None
        self._client_gone = client_gone
        self._watchdog = watchdog
        self._bytes = 0
        self._finished = False  # no more items after the current one
        self._outcome: str | None = None
        self._error: str | None = None
        self._state_lock = threading.Lock()  # guards _closed and _aborted (the watchdog's thread)
        self._closed = False
        self._aborted: str | None = None  # why abort() was called
        if watchdog is not None:
            watchdog.watch(self)

    def __iter__(self) -> StreamRelay:
        return self

    def __next__(self) -> bytes:
        while not self._finished:
            if self._pending is not None:
                chunk, self._pending = self._pending, None
            else:
                # Checked before each read: a trickling backend returns often
                # enough for this to catch it without the watchdog.
                reason = self._aborted or self.stop_reason(self._clock())
                if reason is not None:
                    return self._stop(reason)
                try:
                    chunk = self._upstream.read()
                except BackendError as exc:
                    if self._aborted is not None:  # our own abort broke the read
                        return self._stop(self._aborted)
                    return self._fail("backend_error", f"the backend failed mid-stream: {exc}",
                                      "stream_interrupted")
                if not chunk:
                    if self._aborted is not None:
                        return self._stop(self._aborted)
                    if not self._sse:  # a plain body ends when the connection does
                        self._end("completed")
                        return b""
                    return self._fail("incomplete", "the backend ended the stream without [DONE]",
                                      "stream_incomplete")
            self._bytes += len(chunk)
            if self._max_bytes is not None and self._bytes > self._max_bytes:
                return self._fail("backend_error", f"the backend's answer exceeded {self._max_bytes} "
                                  "bytes (server.max_response_bytes)", "response_too_large")
            if not self._sse:
                return chunk
            out = self._events.feed(chunk)
            if out:
                end = done_end(out)
                if end is not None:
                    # Everything the client needs has been sent; do not wait for a
                    # backend that keeps the connection open after [DONE].
                    self._end("completed")
                    out = out[:end]
                if self._filter is not None:
                    out = self._filter(out)
                if self._reframe is not None:
                    out = self._reframe.events(out)
                if out or self._finished:
                    return out
        raise StopIteration

    def stop_reason(self, now: float) -> str | None:
        """``client_disconnected`` or ``stream_timeout`` when the stream should end now."""
        if self._client_gone is not None and self._client_gone():
            return CLIENT_DISCONNECTED
        if self._deadline is not None and now >= self._deadline:
            return STREAM_TIMEOUT
        return None

    def abort(self, reason: str) -> None:
        """End the stream from another thread: the blocked backend read returns at once."""
        with self._state_lock:
            if self._closed or self._aborted is not None:
                return
            self._aborted = reason
        self._upstream.abort()

    def _stop(self, reason: str) -> bytes:
        if reason == STREAM_TIMEOUT:
            return self._fail(STREAM_TIMEOUT, f"the stream took longer than {self._total_seconds:g}s "
                              "(timeouts.stream_total_seconds)", STREAM_TIMEOUT)
        # The client is gone: nothing more is written, close() cleans up.
        self._end(CLIENT_DISCONNECTED)
        self._events.clear()
        raise StopIteration

    def _end(self, outcome: str) -> None:
        self._finished = True
        self._outcome = outcome

    def _fail(self, outcome: str, message: str, code: str) -> bytes:
        self._end(outcome)
        self._error = message
        self._events.clear()  # half an event is worth nothing to the client
        if self._reframe is not None:
            return self._reframe.error(message, code=code, request_id=self._request_id)
        return error_event(message, code=code, request_id=self._request_id)

    def close(self) -> None:
        """Release the upstream connection and record the outcome, exactly once."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            aborted = self._aborted is not None
        if self._watchdog is not None:
            self._watchdog.forget(self)
        if self._outcome == "completed" and not aborted:
            # Read the end of the backend's framing so its connection is reused;
            # a backend that keeps it open after [DONE] costs FINISH_SECONDS.
            self._upstream.finish(FINISH_SECONDS)
        else:
            self._upstream.close()
        if self._outcome is None:
            # Iteration stopped early: waitress closes us when the client went away.
            self._outcome = CLIENT_DISCONNECTED
        token = request_id_var.set(self._request_id)
        try:
            now = self._clock()
            self._on_end(StreamEnd(self._outcome, now - self._started,
                                   self._first_byte_at - self._started, self._bytes, self._error))
        except Exception:
            log.exception("stream end hook failed")
        finally:
            request_id_var.reset(token)
