"""Relay a backend's server-sent events to the client, chunk by chunk.

``StreamRelay`` is the WSGI response iterable. It owns the whole life of a
stream after its first byte: framing of the error event when the backend
fails mid-way, upstream cleanup, the endpoint's in-flight count, metrics and
the closing log line, all in ``close()``, which WSGI servers always call, even
when the client disconnected or iteration never started (a generator's
``finally`` would not run in that case).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from octoroute.backends.client import BackendStream
from octoroute.errors import BackendError
from octoroute.logs import request_id_var

log = logging.getLogger("octoroute.stream")

DONE_MARKER = re.compile(rb"data: ?\[DONE\]")  # the SSE space after the colon is optional
MAX_PARTIAL_EVENT_BYTES = 1024 * 1024  # bytes of one unfinished event held before giving up on framing
FINISH_SECONDS = 0.02  # seconds a completed stream's framing end may take to arrive (then: closed)


@dataclass(frozen=True)
class StreamEnd:
    """How a stream ended, handed to the ``on_end`` hook exactly once."""

    outcome: str  # completed | backend_error | incomplete | client_disconnected
    seconds: float  # from request start to the end of the stream
    first_byte_seconds: float  # from request start to the first byte from the backend
    bytes_relayed: int
    error: str | None


def error_event(message: str, *, code: str, request_id: str) -> bytes:
    """An SSE ``data:`` event with an OpenAI-shaped error object (no ``[DONE]`` after it)."""
    body = {"error": {"message": message, "type": "upstream_error", "param": None, "code": code,
                      "request_id": request_id}}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class StreamRelay:
    """Iterate the backend's bytes as they arrive; clean up in ``close()``."""

    def __init__(self, upstream: BackendStream, *, request_id: str, started: float,
                 first_byte_at: float, clock: Callable[[], float],
                 on_end: Callable[[StreamEnd], None], max_bytes: int | None = None,
                 sse: bool = True) -> None:
        self._max_bytes = max_bytes
        self._upstream = upstream
        self._pending: bytes | None = upstream.first
        self._request_id = request_id
        self._started = started
        self._first_byte_at = first_byte_at
        self._clock = clock
        self._on_end = on_end
        self._partial = b""  # the start of an event whose end has not arrived
        self._sse = sse
        self._bytes = 0
        self._finished = False  # no more items after the current one
        self._outcome: str | None = None
        self._error: str | None = None
        self._close_lock = threading.Lock()
        self._closed = False

    def __iter__(self) -> StreamRelay:
        return self

    def __next__(self) -> bytes:
        while not self._finished:
            if self._pending is not None:
                chunk, self._pending = self._pending, None
            else:
                try:
                    chunk = self._upstream.read()
                except BackendError as exc:
                    return self._fail("backend_error", f"the backend failed mid-stream: {exc}",
                                      "stream_interrupted")
                if not chunk:
                    if not self._sse:  # a plain body ends when the connection does
                        self._end("completed")
                        return self._partial
                    return self._fail("incomplete", "the backend ended the stream without [DONE]",
                                      "stream_incomplete")
            self._bytes += len(chunk)
            if self._max_bytes is not None and self._bytes > self._max_bytes:
                return self._fail("backend_error", f"the backend's answer exceeded {self._max_bytes} "
                                  "bytes (server.max_response_bytes)", "response_too_large")
            if not self._sse:
                return chunk
            out = self._complete_events(chunk)
            if out:
                if DONE_MARKER.search(out):
                    # Everything the client needs has been sent; do not wait for a
                    # backend that keeps the connection open after [DONE].
                    self._end("completed")
                return out
        raise StopIteration

    def _complete_events(self, chunk: bytes) -> bytes:
        """The whole SSE events available so far; hold back an unfinished one.

        Relaying only whole events means an error event can never be glued
        onto half an event when the backend dies mid-event.
        """
        data = self._partial + chunk if self._partial else chunk
        lf, crlf = data.rfind(b"\n\n"), data.rfind(b"\r\n\r\n")
        cut = max(lf + 2 if lf >= 0 else 0, crlf + 4 if crlf >= 0 else 0)
        if cut == 0 and len(data) > MAX_PARTIAL_EVENT_BYTES:
            cut = len(data)  # not SSE after all: do not hold it back forever
        self._partial = data[cut:]
        return data[:cut]

    def _end(self, outcome: str) -> None:
        self._finished = True
        self._outcome = outcome

    def _fail(self, outcome: str, message: str, code: str) -> bytes:
        self._end(outcome)
        self._error = message
        self._partial = b""  # half an event is worth nothing to the client
        return error_event(message, code=code, request_id=self._request_id)

    def close(self) -> None:
        """Release the upstream connection and record the outcome, exactly once."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if self._outcome == "completed":
            # Read the end of the backend's framing so its connection is reused;
            # a backend that keeps it open after [DONE] costs FINISH_SECONDS.
            self._upstream.finish(FINISH_SECONDS)
        else:
            self._upstream.close()
        if self._outcome is None:
            # Iteration stopped early: waitress closes us when the client went away.
            self._outcome = "client_disconnected"
        token = request_id_var.set(self._request_id)
        try:
            now = self._clock()
            self._on_end(StreamEnd(self._outcome, now - self._started,
                                   self._first_byte_at - self._started, self._bytes, self._error))
        except Exception:
            log.exception("stream end hook failed")
        finally:
            request_id_var.reset(token)
