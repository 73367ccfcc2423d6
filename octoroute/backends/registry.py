"""The one place that holds mutable endpoint state, behind one named lock.

Readers get an immutable snapshot (a mapping of frozen ``EndpointState``);
writers build a new state and swap the whole mapping under ``_state_lock``.
The lock is never held during network I/O, so a slow backend can never make
``/models`` or the router wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any

from octoroute.backends.facts import ServerFacts
from octoroute.config import EndpointConfig

log = logging.getLogger("octoroute.health")

MAX_COOLDOWN_S = 60.0  # seconds; a 429's Retry-After is capped at this
DEFAULT_COOLDOWN_S = 5.0  # seconds; a 429 without Retry-After cools down this long
GONE_POLL_S = 0.5  # seconds; how often a waiter in begin_when checks that its client is still there


def cooldown_seconds(retry_after: float | None) -> float:
    """How long a 429 keeps an endpoint out: its Retry-After, defaulted and capped."""
    if retry_after is None:
        return DEFAULT_COOLDOWN_S
    return min(max(retry_after, 0.0), MAX_COOLDOWN_S)


@dataclass(frozen=True)
class EndpointState:
    """What Octoroute believes about one endpoint at one instant."""

    endpoint: EndpointConfig
    healthy: bool = True  # endpoints start healthy until a probe says otherwise
    consecutive_failures: int = 0
    last_check: float | None = None  # clock time of the last probe or request outcome
    last_success: float | None = None  # clock time of the last success of either kind
    last_error: str | None = None
    in_flight: int = 0  # requests being served by this endpoint right now
    cooldown_until: float = 0.0  # clock time before which a 429 says: do not send
    facts: ServerFacts = ServerFacts()  # noqa: RUF009 (frozen, shared safely); what the server says about itself (backends.facts)

    def cooling(self, now: float) -> bool:
        return now < self.cooldown_until

    def evolve(self, **changes: Any) -> EndpointState:
        """``dataclasses.replace`` without its per-call field introspection.

        Two state changes run per proxied request, under the registry lock;
        ``replace`` cost 5 µs each on the target machine, this under 1 µs.
        """
        assert changes.keys() <= _FIELD_NAMES, changes.keys() - _FIELD_NAMES
        new = object.__new__(EndpointState)
        new.__dict__.update(self.__dict__, **changes)
        return new


_FIELD_NAMES = frozenset(f.name for f in fields(EndpointState))


Listener = Callable[[EndpointState, EndpointState], None]


class Registry:
    """Health and load bookkeeping for every configured endpoint."""

    def __init__(self, endpoints: Iterable[EndpointConfig], *, unhealthy_after: int,
                 clock: Callable[[], float], listener: Listener | None = None) -> None:
        self._unhealthy_after = unhealthy_after
        self._clock = clock
        self._listener = listener
        self._state_lock = threading.Lock()
        # Waiters for a change of any state (a slot freed, facts read): the busy
        # queue waits here instead of polling. Shares the state lock.
        self._changed = threading.Condition(self._state_lock)
        self._waiting = 0  # threads in begin_when; guarded by _state_lock
        states = {e.id: EndpointState(endpoint=e) for e in endpoints}
        self._order = tuple(states)
        self._states: Mapping[str, EndpointState] = MappingProxyType(states)

    def snapshot(self) -> Mapping[str, EndpointState]:
        """An immutable view of every endpoint's state, in config order."""
        return self._states

    def get(self, endpoint_id: str) -> EndpointState:
        return self._states[endpoint_id]

    def now(self) -> float:
        return self._clock()

    def _update(self, endpoint_id: str, change: Callable[[EndpointState, float], EndpointState]
                ) -> tuple[EndpointState, EndpointState]:
        # NOTE: the plain lock, and a notify only when someone waits: Condition's
        # Python-level enter and notify_all cost 10k instructions a swap (callgrind).
        with self._state_lock:
            old = self._states[endpoint_id]
            new = change(old, self._clock())
            if new is not old:
                states = dict(self._states)
                states[endpoint_id] = new
                self._states = MappingProxyType(states)
                if self._waiting:
                    self._changed.notify_all()
        if old.healthy != new.healthy:
            self._transition(old, new)
        return old, new

    def _transition(self, old: EndpointState, new: EndpointState) -> None:
        e = new.endpoint
        if new.healthy:
            log.info("endpoint %s (%s) is healthy again", e.id, e.tier)
        else:
            log.warning("endpoint %s (%s) marked unhealthy after %d consecutive failures: %s",
                        e.id, e.tier, new.consecutive_failures, new.last_error)
        if self._listener is not None:
            self._listener(old, new)

    def begin(self, endpoint_id: str) -> None:
        """Count a request that is about to be sent to ``endpoint_id``."""
        self._update(endpoint_id, lambda s, _now: s.evolve(in_flight=s.in_flight + 1))

    def begin_when(self, choose: Callable[[Mapping[str, EndpointState], float], str | None], *,
                   until: float, gone: Callable[[], bool] | None = None,
                   poll_s: float = GONE_POLL_S) -> str | None:
        """Wait until ``choose`` names an endpoint, count it in flight, and return its id.

        The choice and the count happen under one lock, so of many waiters
        woken by one freed slot only one takes it. ``choose`` gets the states
        and the clock time; it runs under the lock, so it must be quick and
        pure. Woken by every state change, never by polling; ``None`` once the
        clock reaches ``until``, or once ``gone()`` says the client hung up:
        that alone is polled, every ``poll_s`` seconds, since nothing signals it.
        """
        with self._changed:
            while True:
                now = self._clock()
                chosen = choose(self._states, now)
                if chosen is not None:
                    states = dict(self._states)
                    states[chosen] = states[chosen].evolve(in_flight=states[chosen].in_flight + 1)
                    self._states = MappingProxyType(states)
                    return chosen
                if now >= until or (gone is not None and gone()):
                    return None
                self._waiting += 1
                try:
                    self._changed.wait(until - now if gone is None else min(until - now, poll_s))
                finally:
                    self._waiting -= 1

    def end(self, endpoint_id: str) -> None:
        self._update(endpoint_id, lambda s, _now: s.evolve(in_flight=max(0, s.in_flight - 1)))

    def record_success(self, endpoint_id: str, *, finished: bool = False) -> EndpointState:
        """One success, from a probe or a real request, marks the endpoint healthy.

        ``finished`` also ends the in-flight count taken by ``begin``, in the same swap.
        """
        def change(s: EndpointState, now: float) -> EndpointState:
            # NOTE: a server that answers for a model it does not have (llama-cpp-python
            # serves its default model for any name) is not healed by the answer: only a
            # probe that finds the model (set_facts) lifts a "model not served" verdict.
            missing = s.facts.model_found is False
            return s.evolve(healthy=not missing, consecutive_failures=0, last_check=now,
                           last_success=now, last_error=s.last_error if missing else None,
                           in_flight=max(0, s.in_flight - 1) if finished else s.in_flight)
        return self._update(endpoint_id, change)[1]

    def record_model_missing(self, endpoint_id: str, reason: str) -> EndpointState:
        """The server does not serve the endpoint's model: unhealthy now, with the fix as reason.

        Not a failure count: it stays until a probe finds the model, so it never flaps.
        """
        def change(s: EndpointState, now: float) -> EndpointState:
            return s.evolve(healthy=False, last_check=now, last_error=reason)
        return self._update(endpoint_id, change)[1]

    def record_failure(self, endpoint_id: str, error: str, *, finished: bool = False) -> EndpointState:
        """Count a failure; ``unhealthy_after`` in a row mark the endpoint unhealthy."""
        def change(s: EndpointState, now: float) -> EndpointState:
            failures = s.consecutive_failures + 1
            return s.evolve(consecutive_failures=failures, last_check=now, last_error=error,
                           healthy=s.healthy and failures < self._unhealthy_after,
                           in_flight=max(0, s.in_flight - 1) if finished else s.in_flight)
        return self._update(endpoint_id, change)[1]

    def record_rate_limited(self, endpoint_id: str, retry_after: float | None, *,
                            finished: bool = False) -> EndpointState:
        """A 429 is back-pressure, not failure: cool down, leave the health count alone."""
        wait = cooldown_seconds(retry_after)

        def change(s: EndpointState, now: float) -> EndpointState:
            return s.evolve(cooldown_until=max(s.cooldown_until, now + wait), last_check=now,
                           last_error=f"rate limited (429), cooling down {wait:g}s",
                           in_flight=max(0, s.in_flight - 1) if finished else s.in_flight)
        return self._update(endpoint_id, change)[1]

    def set_facts(self, endpoint_id: str, facts: ServerFacts) -> EndpointState:
        """Replace what the server says about itself; health is left alone."""
        return self._update(endpoint_id, lambda s, _now: s if s.facts == facts else s.evolve(facts=facts))[1]

    def record_neutral(self, endpoint_id: str, *, finished: bool = True) -> EndpointState:
        """An outcome that says nothing about health (e.g. the client's own bad request)."""
        def change(s: EndpointState, now: float) -> EndpointState:
            return s.evolve(last_check=now,
                           in_flight=max(0, s.in_flight - 1) if finished else s.in_flight)
        return self._update(endpoint_id, change)[1]
