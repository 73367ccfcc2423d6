"""Busy- and residency-aware choice, and what a saturated tier does.

An endpoint has room while fewer generations run on it than its capacity
(``capacity`` in config, else the server's own slot count, else 1). What runs
is the larger of Octoroute's own in-flight count and the server's
``processing`` figure (which counts our requests too, and other clients'),
and a server that reports requests ``waiting`` has no room whatever the
counts say. An endpoint whose model is not loaded, on a server that is
generating for another model right now, has no room either: sending to it
would make the server load a model and evict the one that is generating.

Within a tier the choice prefers endpoints with room, then the highest
priority group, then a resident model, then weight (``choose``). When no
endpoint of the routed tier has room, the tier's ``[busy.<tier>]`` policy
decides (``BusyGate.admit``): ``send`` anyway (the server queues it: the
behaviour before this module, and the default), ``queue`` here until a slot
frees, ``degrade`` to the next smaller tier with room, or ``reject`` with 429.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from octoroute.backends.discovery import server_key
from octoroute.backends.registry import GONE_POLL_S, EndpointState, Registry
from octoroute.backends.selection import pick
from octoroute.config import TIERS, BusyConfig
from octoroute.errors import ClientGone, UpstreamUnavailable
from octoroute.metrics import Metrics

# Smaller tiers first: degrading trades quality for an answer now.
SMALLER: dict[str, tuple[str, ...]] = {"deep": ("balanced", "fast"), "balanced": ("fast",), "fast": ()}
QUEUE_FACTS_MAX_AGE_S = 30.0  # seconds; a server's processing/waiting figures older than this are ignored


def capacity(state: EndpointState) -> int:
    """Generations at once the endpoint serves well: config, else the server's slots, else 1."""
    if state.endpoint.capacity is not None:
        return state.endpoint.capacity
    slots = state.facts.total_slots
    return slots if slots is not None and slots > 0 else 1


def _fresh(state: EndpointState, now: float) -> bool:
    """Whether the server's queue figures are recent enough to trust."""
    read_at = state.facts.read_at
    return read_at is None or now - read_at <= QUEUE_FACTS_MAX_AGE_S


def running(state: EndpointState, now: float) -> int:
    """Generations running on the endpoint: ours, or the server's figure when larger."""
    processing = state.facts.processing if _fresh(state, now) else None
    return max(state.in_flight, processing or 0)


def saturated(state: EndpointState, now: float) -> bool:
    """No free slot: as many generations as its capacity, or the server queues already."""
    waiting = state.facts.waiting if _fresh(state, now) else None
    return running(state, now) >= capacity(state) or (waiting or 0) > 0


def would_evict(state: EndpointState, states: Mapping[str, EndpointState], now: float) -> bool:
    """Its model is not loaded and its server generates for another model right now.

    Only a server that says the model is not resident counts (unknown is not
    "not loaded"); siblings are the endpoints on the same server (scheme,
    host, port) with another model name.
    """
    if state.facts.resident is not False:
        return False
    key = server_key(state.endpoint.base_url)
    for other in states.values():
        if other.endpoint.name == state.endpoint.name or server_key(other.endpoint.base_url) != key:
            continue
        if running(other, now) > 0:
            return True
    return False


def has_room(state: EndpointState, states: Mapping[str, EndpointState], now: float) -> bool:
    """Not saturated and no eviction: ``saturated`` and ``would_evict`` folded for the hot path.

    Called for every candidate of every request; inlined, it costs a third
    of the two calls (callgrind, 2026-12-03).
    """
    facts = state.facts
    cap = state.endpoint.capacity or facts.total_slots or 1
    if cap < 1:
        cap = 1  # a nonsense slot count from a server
    read_at = facts.read_at
    if read_at is None or now - read_at <= QUEUE_FACTS_MAX_AGE_S:
        if max(state.in_flight, facts.processing or 0) >= cap or (facts.waiting or 0) > 0:
            return False
    elif state.in_flight >= cap:
        return False
    return facts.resident is not False or not would_evict(state, states, now)


def choose(candidates: Sequence[EndpointState], states: Mapping[str, EndpointState], now: float,
           rng: random.Random) -> EndpointState | None:
    """Room first, then the highest priority group, then a resident model, then weight.

    Room comes before priority: a free lower-priority endpoint answers now,
    a saturated higher-priority one only after its queue. Residency only
    breaks ties inside a priority group (equally acceptable endpoints).
    """
    if len(candidates) <= 1:  # the common case: one endpoint per tier, nothing to weigh
        return candidates[0] if candidates else None
    roomy = [c for c in candidates if has_room(c, states, now)]
    # No room anywhere: a queue beats an eviction of a model that is generating.
    pool = roomy or [c for c in candidates if not would_evict(c, states, now)] or list(candidates)
    top = max(c.endpoint.priority for c in pool)
    group = [c for c in pool if c.endpoint.priority == top]
    resident = [c for c in group if c.facts.resident is True]
    return pick(resident or group, rng)


def tier_members(states: Mapping[str, EndpointState], tier: str, now: float) -> list[EndpointState]:
    """The endpoints of ``tier`` a request may be sent to now: healthy, not cooling down."""
    return [s for s in states.values()
            if s.endpoint.tier == tier and s.healthy and not s.cooling(now)]


def roomy_endpoint(states: Mapping[str, EndpointState], tier: str, now: float,
                   rng: random.Random) -> str | None:
    """The endpoint of ``tier`` ``choose`` takes, if one has room; else ``None``."""
    members = [s for s in tier_members(states, tier, now) if has_room(s, states, now)]
    chosen = choose(members, states, now, rng)
    return None if chosen is None else chosen.endpoint.id


@dataclass(frozen=True)
class Admitted:
    """Where a routed request starts, once its tier's busy policy has spoken."""

    tier: str  # the tier to draw candidates from first
    reserved: str | None = None  # endpoint already counted in flight for this request (after a wait)
    degraded: str | None = None  # e.g. "deep->balanced (busy)": disclosed to the client
    waited: float = 0.0  # seconds spent queued here


class BusyGate:
    """Applies ``[busy.<tier>]`` to a request whose routed tier has no room."""

    def __init__(self, busy: BusyConfig, registry: Registry, metrics: Metrics, rng: random.Random,
                 *, on_wait: Callable[[str], None] | None = None, gone_poll_s: float = GONE_POLL_S) -> None:
        self._busy = busy
        self._gone_poll_s = gone_poll_s
        self._registry = registry
        self._metrics = metrics
        self._rng = rng
        self._on_wait = on_wait  # test seam: called when a request starts waiting
        self._as_routed = {t: Admitted(t) for t in TIERS}  # frozen: shared by every request

    def admit(self, tier: str, deadline: float, *, may_degrade: bool = True,
              gone: Callable[[], bool] | None = None) -> Admitted:
        """Where to start, or ``UpstreamUnavailable`` (429 with Retry-After) when the policy refuses.

        A tier with room, or with no endpoint that could take the request at
        all (every one unhealthy or cooling: failover's business), is admitted
        as it is. ``may_degrade`` is false when the client named the tier: it
        is never changed then, and ``degrade`` waits as ``queue`` does.
        ``gone`` says whether the client has hung up (waitress's
        ``client_disconnected``): a queued request whose client left gives up
        its place (``ClientGone``) instead of taking a slot for nobody.
        """
        registry = self._registry
        now = registry.now()
        states = registry.snapshot()
        usable = False
        for s in states.values():  # one scan, no allocation: the request path's common case
            if s.endpoint.tier != tier or not s.healthy or now < s.cooldown_until:
                continue
            if has_room(s, states, now):
                return self._as_routed[tier]
            usable = True
        if not usable:  # every endpoint down or cooling: failover's business, not ours
            return self._as_routed[tier]
        rule = self._busy.for_tier(tier)
        policy = rule.policy
        if policy == "send":
            self._count(tier, policy, "sent")
            return Admitted(tier)
        if policy == "reject":
            self._count(tier, policy, "rejected")
            raise self._refuse(tier, rule.retry_after_seconds, "is busy (every endpoint at capacity)")
        if policy == "degrade" and may_degrade:
            for smaller in SMALLER[tier]:
                if any(has_room(s, states, now) for s in tier_members(states, smaller, now)):
                    self._count(tier, policy, "degraded")
                    return Admitted(smaller, degraded=f"{tier}->{smaller} (busy)")
        until = min(now + rule.queue_seconds, deadline)
        if self._on_wait is not None:
            self._on_wait(tier)
        reserved = registry.begin_when(
            lambda live, at: roomy_endpoint(live, tier, at, self._rng), until=until,
            gone=gone, poll_s=self._gone_poll_s)
        waited = registry.now() - now
        if reserved is None and gone is not None and gone():
            self._count(tier, policy, "abandoned")
            raise ClientGone(f"the client hung up after {waited:.1f}s queued for tier {tier}")
        if reserved is None:
            self._count(tier, policy, "timed_out")
            raise self._refuse(tier, rule.retry_after_seconds,
                               f"stayed busy for {waited:.1f}s of waiting (every endpoint at capacity)")
        self._count(tier, policy, "queued")
        return Admitted(tier, reserved=reserved, waited=waited)

    def _count(self, tier: str, policy: str, outcome: str) -> None:
        self._metrics.busy.labels(tier=tier, policy=policy, outcome=outcome).inc()

    @staticmethod
    def _refuse(tier: str, retry_after: float, why: str) -> UpstreamUnavailable:
        return UpstreamUnavailable(f"tier {tier} {why}; retry after {retry_after:g}s",
                                   status=429, attempts=[], retry_after=retry_after)


def load_view(state: EndpointState, states: Mapping[str, EndpointState], now: float) -> dict[str, object]:
    """What ``/models`` shows of an endpoint's load and residency."""
    facts = state.facts
    return {"capacity": capacity(state), "running": running(state, now),
            "waiting": facts.waiting if _fresh(state, now) else None,
            "saturated": saturated(state, now), "resident": facts.resident,
            "would_evict": would_evict(state, states, now)}


def gauge_view(state: EndpointState) -> tuple[float, float, float]:
    """(in flight, capacity, resident: 1, 0 or NaN) for the per-endpoint gauges."""
    resident = state.facts.resident
    return (float(state.in_flight), float(capacity(state)),
            math.nan if resident is None else float(resident))
