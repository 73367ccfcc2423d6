"""The background health checker: a named, daemonic, stoppable thread.

Each round probes every endpoint that needs it in parallel (one slow backend
must not delay the others), through ``check_once()``, which tests call
directly without any thread. Endpoints that are serving a request right now,
or succeeded within the last interval, are skipped: live traffic is fresher
evidence, and llama-cpp-python's server aborts a running generation whenever
another request arrives.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from octoroute.backends.client import BackendClient
from octoroute.backends.discovery import Discovery, missing_reason, server_key
from octoroute.backends.facts import ServerFacts
from octoroute.backends.registry import EndpointState, Registry
from octoroute.errors import BackendError

log = logging.getLogger("octoroute.health")

MAX_PROBE_THREADS = 8  # probes run at once in one round


@dataclass(frozen=True)
class ProbeResult:
    endpoint: str
    ok: bool | None  # None: skipped
    seconds: float
    error: str | None = None


ResultHook = Callable[[ProbeResult], None]


class HealthChecker:
    """Probes endpoints (``Discovery.read``: ``GET /models`` and the kind's cheap reads), records it."""

    def __init__(self, registry: Registry, clients: Mapping[str, BackendClient], *,
                 interval: float, timeout: float, on_result: ResultHook | None = None,
                 on_loop_error: Callable[[], None] | None = None,
                 discovery: Discovery | None = None) -> None:
        self._registry = registry
        # NOTE: without a Discovery (older callers, some tests) a probe is the bare GET /models.
        self._discovery = discovery
        self._clients = clients
        self._interval = interval
        self._timeout = timeout
        self._on_result = on_result
        self._on_loop_error = on_loop_error
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=min(MAX_PROBE_THREADS, max(1, len(clients))),
                                        thread_name_prefix="octoroute-probe")
        self.rounds = 0  # completed rounds, for tests and /models
        self.round_done = threading.Condition()

    def due(self, server: list[EndpointState], now: float, *, force: bool = False) -> bool:
        """Whether the server behind these endpoints should be probed now.

        Several endpoints (models) often share one server process, and the
        busy-or-fresh rule must hold for the server: llama-cpp-python serves
        one request at a time and aborts it when another arrives, so probing
        an idle model while its sibling streams would cut the stream, or time
        out behind it and mark a healthy server down.
        """
        if force:
            return True
        for state in server:
            if state.in_flight > 0:
                return False
            if state.last_success is not None and now - state.last_success < self._interval:
                return False
        return True

    def check_once(self, *, force: bool = False) -> list[ProbeResult]:
        """Probe every server that is due once, in parallel; record it for each of its endpoints."""
        now = self._registry.now()
        servers: dict[str, list[EndpointState]] = {}
        for state in self._registry.snapshot().values():
            servers.setdefault(server_key(state.endpoint.base_url), []).append(state)
        due = [group for group in servers.values() if self.due(group, now, force=force)]
        results = [r for group in self._pool.map(self._probe, due) for r in group]
        probed = {r.endpoint for r in results}
        results += [ProbeResult(s.endpoint.id, None, 0.0) for group in servers.values() for s in group
                    if s.endpoint.id not in probed]
        with self.round_done:
            self.rounds += 1
            self.round_done.notify_all()
        return results

    def _probe(self, server: list[EndpointState]) -> list[ProbeResult]:
        started = self._registry.now()
        error: str | None = None
        facts: dict[str, ServerFacts] = {}
        try:
            if self._discovery is not None:
                facts = self._discovery.read([s.endpoint for s in server])
            else:
                self._clients[server[0].endpoint.id].probe(timeout=self._timeout)
        except BackendError as exc:
            error = str(exc)
        seconds = self._registry.now() - started
        results = []
        for state in server:
            endpoint_id = state.endpoint.id
            endpoint_error = error
            if endpoint_id in facts:
                self._registry.set_facts(endpoint_id, facts[endpoint_id])
            if error is not None:
                self._registry.record_failure(endpoint_id, f"health probe: {error}")
            elif facts.get(endpoint_id, ServerFacts()).model_found is False:
                endpoint_error = missing_reason(state.endpoint, facts[endpoint_id])
                self._registry.record_model_missing(endpoint_id, endpoint_error)
            else:
                self._registry.record_success(endpoint_id)
            result = ProbeResult(endpoint_id, endpoint_error is None, seconds, endpoint_error)
            log.debug("probe %s: ok=%s in %.3fs %s", endpoint_id, result.ok, seconds, error or "")
            if self._on_result is not None:
                self._on_result(result)
            results.append(result)
        return results

    def run(self) -> None:
        """The thread body: a round at start-up, then one every ``interval``."""
        while not self._stop.is_set():
            try:
                self.check_once()
            except Exception:
                log.exception("health round failed; the checker keeps running")
                if self._on_loop_error is not None:
                    self._on_loop_error()
            self._stop.wait(self._interval)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self.run, name="octoroute-health", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the thread; log rather than hang if a probe is stuck."""
        self._stop.set()
        stopped = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("health thread did not stop within %.1fs; leaving it (daemonic)", timeout)
                stopped = False
        self._pool.shutdown(wait=False, cancel_futures=True)
        return stopped

    def wait_rounds(self, count: int, timeout: float) -> bool:
        """Block until ``count`` rounds have completed (for tests and start-up)."""
        with self.round_done:
            return self.round_done.wait_for(lambda: self.rounds >= count, timeout)
