"""One thread that ends streams nobody is waiting for, or that ran too long.

A relay blocked in a backend read cannot notice that its client hung up or
that its overall deadline passed: a silent backend holds the read until
``stream_idle``, and one that trickles a byte now and then holds it forever.
Each such stream keeps a worker thread, a chat slot and a backend
connection. The watchdog asks every live stream, every ``interval`` seconds,
whether it should stop (``Watched.stop_reason``) and, if so, aborts it
(``Watched.abort``), which unblocks the relay's read; the relay then ends and
releases everything in its ``close()``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("octoroute.stream")

CHECK_INTERVAL_S = 0.25  # seconds between checks of the live streams
THREAD_NAME = "octoroute-stream-watchdog"


class Watched(Protocol):
    """A live stream as the watchdog sees it."""

    def stop_reason(self, now: float) -> str | None:
        """Why the stream should end now (its outcome), or ``None`` to let it run."""

    def abort(self, reason: str) -> None:
        """End the stream from another thread; must be thread-safe and must not block."""


class StreamWatchdog:
    """Aborts live streams whose client is gone or whose deadline passed.

    The thread starts with the first stream watched (so nothing starts on
    import or for a runtime that never streams) and never again after
    ``stop()``. ``check_once()`` is the loop's body, callable from tests with
    an injected clock; ``wake()`` runs a check now instead of at the next tick.
    """

    def __init__(self, *, interval: float = CHECK_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._streams_lock = threading.Lock()  # guards _streams, _thread and _stopped
        self._streams: set[Watched] = set()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._wake = threading.Event()
        self._stop = threading.Event()

    def watch(self, stream: Watched) -> None:
        """Check ``stream`` from now on, until ``forget(stream)``."""
        with self._streams_lock:
            self._streams.add(stream)
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
                self._thread.start()

    def forget(self, stream: Watched) -> None:
        with self._streams_lock:
            self._streams.discard(stream)

    def watching(self) -> int:
        with self._streams_lock:
            return len(self._streams)

    @property
    def running(self) -> bool:
        with self._streams_lock:
            return self._thread is not None and self._thread.is_alive()

    def check_once(self) -> list[tuple[Watched, str]]:
        """Abort every stream that should stop now; return them with their reasons."""
        with self._streams_lock:
            streams = list(self._streams)
        now = self._clock()
        aborted: list[tuple[Watched, str]] = []
        for stream in streams:
            try:
                reason = stream.stop_reason(now)
                if reason is None:
                    continue
                # Forget it first: an abort that fails must not be retried every tick.
                self.forget(stream)
                stream.abort(reason)
                aborted.append((stream, reason))
            except Exception:
                log.exception("stream watchdog: checking a stream failed")
        return aborted

    def wake(self) -> None:
        """Run a check now (tests, after moving their clock)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the thread; ``False`` (and a log line) if it did not end within ``timeout``."""
        with self._streams_lock:
            self._stopped = True
            thread = self._thread
        self._stop.set()
        self._wake.set()
        if thread is None:
            return True
        thread.join(timeout)
        if thread.is_alive():
            log.error("stream watchdog did not stop within %.1fs", timeout)
            return False
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.check_once()
            except Exception:  # the next tick tries again; a dead watchdog would leak streams
                log.exception("stream watchdog: a check failed")
