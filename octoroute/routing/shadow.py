"""Shadow mode: another strategy decides a sampled share of requests, off the request path.

Whether the router brain (or hybrid) would do better than the rules is a
question for production traffic, not for a guess. ``Shadow`` asks the other
strategy on a sampled share of routed requests and counts each (primary tier,
shadow tier) pair in ``octoroute_shadow_decisions_total``; the request never
waits for it. The pool is bounded: when ``max_pending`` decisions are already
queued or running, a new sample is dropped and counted, never queued without
bound (a slow brain must not pile up work, memory or threads).

The shadow gets a plain ``decide(route_input) -> tier | None`` callable, so it
knows nothing of the router's internals; ``None`` means the strategy had no
answer of its own (for instance the brain timed out and the router fell back
to its default tier), which is counted as an error, not as a decision.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from octoroute.config import TIERS
from octoroute.metrics import Metrics

log = logging.getLogger("octoroute.routing.shadow")

# NOTE: shadow questions go to the same brain endpoints as live routing; two
# at a time keeps a sampled shadow from crowding them, and max_pending bounds
# what waits behind those two.
SHADOW_WORKERS = 2
THREAD_NAME_PREFIX = "octoroute-shadow"

T = TypeVar("T")


class Shadow(Generic[T]):
    """Samples routed requests and has another strategy decide them in a bounded pool."""

    def __init__(self, decide: Callable[[T], str | None], *, strategy: str, sample: float,
                 max_pending: int, rng: random.Random, metrics: Metrics,
                 workers: int = SHADOW_WORKERS) -> None:
        self._decide = decide
        self.strategy = strategy
        self._sample = sample
        self._max_pending = max_pending
        self._rng = rng
        self._metrics = metrics
        # One permit per decision queued or running: taken without blocking on
        # submit, given back when the decision ends (done, failed or cancelled).
        self._pending = threading.BoundedSemaphore(max_pending)
        self._closed = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=min(workers, max_pending),
                                            thread_name_prefix=THREAD_NAME_PREFIX)

    def submit(self, inp: T, primary_tier: str) -> bool:
        """Maybe decide ``inp`` in shadow; ``True`` when it was sampled and queued.

        Never blocks and never raises: a full pool or a closed shadow drops the
        sample and counts it.
        """
        if self._rng.random() >= self._sample:
            return False
        if self._closed.is_set():
            self._metrics.shadow_dropped.labels(reason="closed").inc()
            return False
        if not self._pending.acquire(blocking=False):
            self._metrics.shadow_dropped.labels(reason="full").inc()
            return False
        try:
            future = self._executor.submit(self._run, inp, primary_tier)
        except RuntimeError:
            # close() shut the pool down between the check above and here.
            self._pending.release()
            self._metrics.shadow_dropped.labels(reason="closed").inc()
            return False
        future.add_done_callback(self._finished)
        return True

    def run_one(self, inp: T, primary_tier: str) -> None:
        """Decide one input in shadow and count it; the pool's job, callable from tests."""
        self._run(inp, primary_tier)

    def drain(self, timeout: float) -> bool:
        """Wait until no shadow decision is queued or running; ``False`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        taken = 0
        try:
            while taken < self._max_pending:
                if not self._pending.acquire(timeout=max(0.0, deadline - time.monotonic())):
                    return False
                taken += 1
            return True
        finally:
            for _ in range(taken):
                self._pending.release()

    def close(self, timeout: float = 5.0) -> None:
        """Stop sampling, cancel queued decisions and wait up to ``timeout`` for running ones.

        A decision still running then is left to end on its own (it is bounded by
        its strategy's own timeout, e.g. routing.router_timeout_seconds); this
        logs instead of hanging shutdown.
        """
        self._closed.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if not self.drain(timeout):
            log.warning("shadow %s decisions still running after %.1fs; not waiting for them",
                        self.strategy, timeout)

    def _run(self, inp: T, primary_tier: str) -> None:
        try:
            tier = self._decide(inp)
        except Exception as exc:
            # A broken shadow strategy must not end its worker or reach a request.
            # The exception's type only at WARNING: its message may quote the prompt.
            log.warning("shadow %s decision failed: %s", self.strategy, type(exc).__name__)
            log.debug("shadow %s decision failed", self.strategy, exc_info=True)
            self._metrics.shadow_dropped.labels(reason="error").inc()
            return
        if tier is None or tier not in TIERS:
            self._metrics.shadow_dropped.labels(reason="error").inc()
            return
        self._metrics.shadow_decisions.labels(primary=primary_tier, shadow=tier).inc()

    def _finished(self, future: Future[None]) -> None:
        self._pending.release()
