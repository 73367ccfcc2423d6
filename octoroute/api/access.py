"""Who may come in, and how many at once: client API keys and chat slots."""

from __future__ import annotations

import hmac
import threading

import falcon

from octoroute.errors import AuthenticationError, OverloadedError
from octoroute.metrics import Metrics

# /dashboard is a static page with no data in it: its script sends the key on each fetch.
ALWAYS_OPEN = frozenset({"/health", "/openapi.json", "/dashboard"})


class BearerAuth:
    """Middleware: require ``Authorization: Bearer KEY`` (or ``x-api-key: KEY``) when keys are set.

    Every configured key is compared, in constant time, whatever the outcome,
    so response timing says nothing about which prefix was right.
    """

    def __init__(self, keys: tuple[str, ...], *, metrics_public: bool) -> None:
        self._keys = tuple(k.encode("utf-8") for k in keys)
        self._open = ALWAYS_OPEN | ({"/metrics"} if metrics_public else frozenset())

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not self._keys or req.path in self._open:
            return
        scheme, _, token = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            # Anthropic clients send the key as x-api-key (Claude Code's ANTHROPIC_API_KEY).
            token = req.get_header("x-api-key") or ""
        if not token.strip():
            raise AuthenticationError("missing API key; send Authorization: Bearer <key> "
                                      "(or x-api-key: <key>)")
        presented = token.strip().encode("utf-8", "surrogateescape")
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(presented, key)
        if not matched:
            raise AuthenticationError("invalid API key")


class ChatSlots:
    """A non-blocking limit on chat requests in flight (streams until they end).

    Over the limit a request is refused at once with 429, never queued: a
    queue in front of busy GPUs only turns overload into timeouts.
    """

    def __init__(self, limit: int, metrics: Metrics) -> None:
        self.limit = limit
        self._metrics = metrics
        # One plain lock and a counter: a BoundedSemaphore plus a separate count
        # lock and gauge updates took five lock round trips per request. The
        # gauge reads the counter when scraped instead of being kept in step.
        self._cond = threading.Condition(threading.Lock())
        self.in_use = 0
        metrics.in_flight.set_function(lambda: self.in_use)

    def enter(self) -> None:
        with self._cond:
            if self.in_use < self.limit:
                self.in_use += 1
                return
        self._metrics.rejected.labels(reason="overloaded").inc()
        raise OverloadedError(f"all {self.limit} chat slots are busy (server.max_in_flight); "
                              "retry shortly")

    def leave(self) -> None:
        with self._cond:
            self.in_use -= 1
            if self.in_use == 0:
                self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no chat is in flight (a replaced runtime retiring after a reload)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.in_use == 0, timeout)
