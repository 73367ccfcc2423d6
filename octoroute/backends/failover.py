"""Run one logical call across endpoints: selection, failover, tier fallback.

The caller supplies ``send(client, timeout)``; the dispatcher decides which
endpoint to try, in which order, with how much time, and records every
attempt's outcome in the registry and the metrics. It knows nothing of
``/chat`` or ``/v1``: both APIs and the router brain go through it.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from octoroute.backends.capacity import Admitted, BusyGate, choose, saturated
from octoroute.backends.client import BackendClient
from octoroute.backends.context import ContextBook, ContextNeed
from octoroute.backends.overflow import OVERFLOW_KIND, ContextOverflowError, EmptyStreamError, Overflow
from octoroute.backends.prefill import PrefillSpeeds, first_token_deadline, prefill_only
from octoroute.backends.registry import EndpointState, Registry, cooldown_seconds
from octoroute.backends.selection import FALLBACK_ORDER, LARGER_TIERS
from octoroute.config import Config, EndpointConfig
from octoroute.errors import BackendError, RequestError, UpstreamUnavailable
from octoroute.metrics import Metrics

log = logging.getLogger("octoroute.dispatch")

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """Where a call may go: a tier (with or without fallback) or one endpoint."""

    tier: str | None = None
    endpoint_id: str | None = None
    fallback: bool = True

    @classmethod
    def for_tier(cls, tier: str, *, fallback: bool) -> Target:
        return cls(tier=tier, fallback=fallback)

    @classmethod
    def for_endpoint(cls, endpoint_id: str) -> Target:
        return cls(endpoint_id=endpoint_id, fallback=False)


@dataclass(frozen=True)
class Attempt:
    endpoint: str
    tier: str
    outcome: str  # "success" or a BackendError kind
    error: str | None
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return {"endpoint": self.endpoint, "tier": self.tier, "outcome": self.outcome,
                "error": self.error, "seconds": round(self.seconds, 4)}


@dataclass(frozen=True)
class Served(Generic[T]):
    """The value one endpoint produced, and how we got there."""

    value: T
    endpoint: EndpointConfig
    attempts: tuple[Attempt, ...]
    warnings: tuple[str, ...] = field(default=())
    degraded: str | None = None  # e.g. "deep->balanced (busy)": the routed tier was saturated


class Dispatcher:
    """Selects endpoints and fails over between them for one call at a time."""

    def __init__(self, config: Config, registry: Registry, clients: Mapping[str, BackendClient],
                 metrics: Metrics, rng: random.Random, *, context: ContextBook | None = None,
                 busy: BusyGate | None = None, prefill: PrefillSpeeds | None = None) -> None:
        self._config = config
        self.context = context if context is not None else ContextBook()
        self._registry = registry
        self._clients = clients
        self._metrics = metrics
        self._rng = rng
        self.busy = busy if busy is not None else BusyGate(config.busy, registry, metrics, rng)
        self.prefill = prefill if prefill is not None else PrefillSpeeds(e.id for e in config.endpoints)
        # NOTE: random.Random is not documented as thread-safe for all methods;
        # random() itself is atomic under the GIL, which is all pick() uses.

    def _phases(self, target: Target, start: str | None = None) -> list[tuple[str, bool, bool]]:
        """(tier, healthy_only, context_only) in the order candidates are drawn from.

        ``context_only`` phases (larger tiers, when fallback is off) are entered
        only when the routed tier was passed over for its context windows.
        ``start``: the tier a busy routed tier degraded to; it goes first, the
        routed tier's own order follows.
        """
        assert target.tier is not None
        tiers = [target.tier]
        larger: tuple[str, ...] = ()
        if target.fallback and self._config.routing.tier_fallback:
            tiers += FALLBACK_ORDER[target.tier]
        else:
            larger = LARGER_TIERS[target.tier]
        if start is not None and start != target.tier:
            tiers = [start, *(t for t in tiers if t != start)]
        return ([(t, True, False) for t in tiers] + [(t, True, True) for t in larger]
                + [(t, False, False) for t in tiers] + [(t, False, True) for t in larger])

    def _too_small(self, state: EndpointState, need: ContextNeed | None, min_window: int) -> bool:
        """The endpoint's known window cannot hold the request (or an overflow ruled it out)."""
        if need is not None:
            if min_window > need.min_window:
                need = replace(need, min_window=min_window)
            return not self.context.fits(state, need)
        window = self.context.window(state)
        return window is not None and window <= min_window

    def run(self, target: Target, send: Callable[[BackendClient, float], T], *,
            deadline: float, hold: bool = False, need: ContextNeed | None = None,
            prompt_tokens: int | None = None, busy: bool = True,
            gone: Callable[[], bool] | None = None) -> Served[T]:
        """Call ``send`` on endpoints until one succeeds; raise ``UpstreamUnavailable`` if none.

        With ``hold``, the serving endpoint stays counted as in flight after
        ``send`` returns (a stream still being relayed); the caller must call
        ``release`` when it is done with it. With ``need``, an endpoint whose
        context window cannot hold the request is skipped; a recognised
        overflow moves the request on to a larger window, never counted
        against the endpoint's health. ``prompt_tokens`` says ``send``
        returns at the first body byte (a stream): its timeout is then a
        first-token deadline sized to the prompt (backends/prefill.py).
        ``busy=False`` skips the routed tier's ``[busy]`` policy (the router
        brain's one-word question must not queue or be refused). ``gone``
        says the client hung up: a request queued by ``[busy]`` then leaves.
        """
        if target.endpoint_id is None and busy:
            assert target.tier is not None
            admitted = self.busy.admit(target.tier, deadline, may_degrade=target.fallback, gone=gone)
            return self._run(target, send, deadline, hold, need, prompt_tokens, admitted)
        return self._run(target, send, deadline, hold, need, prompt_tokens, Admitted(target.tier or ""))

    def _run(self, target: Target, send: Callable[[BackendClient, float], T], deadline: float,
             hold: bool, need: ContextNeed | None, prompt_tokens: int | None,
             admitted: Admitted) -> Served[T]:
        reservation = [admitted.reserved]  # cleared when an attempt takes it over
        try:
            return self._try_all(target, send, deadline, hold, need, prompt_tokens, admitted,
                                 reservation)
        finally:
            if reservation[0] is not None:
                self._registry.end(reservation[0])  # the queue's slot, never used

    def _try_all(self, target: Target, send: Callable[[BackendClient, float], T], deadline: float,
                 hold: bool, need: ContextNeed | None, prompt_tokens: int | None, admitted: Admitted,
                 reservation: list[str | None]) -> Served[T]:
        attempts: list[Attempt] = []
        tried: set[str] = set()
        per_tier: dict[str, int] = {}
        cooling_waits: list[float] = []
        context_tiers: set[str] = set()  # tiers where an endpoint was too small for the request
        min_window = 0  # tokens; an overflow says windows this small will not do
        max_attempts = self._config.routing.max_attempts
        if target.endpoint_id is not None:
            state = self._registry.get(target.endpoint_id)
            now = self._registry.now()
            if state.cooling(now):
                raise self._give_up(attempts, [state.cooldown_until - now], target)
            return self._attempt_or_raise(state, send, deadline, attempts, target, hold, prompt_tokens)
        phases = self._phases(target, admitted.tier)
        for tier, healthy_only, context_only in phases:
            if context_only and target.tier not in context_tiers:
                continue
            while per_tier.get(tier, 0) < max_attempts:
                now = self._registry.now()
                candidates = []
                for s in self._registry.snapshot().values():
                    if s.endpoint.tier != tier or s.endpoint.id in tried:
                        continue
                    if s.facts.model_found is False:
                        continue  # its server does not serve the model: never, not even as a last resort
                    if healthy_only and not s.healthy:
                        continue
                    if s.cooling(now):
                        cooling_waits.append(s.cooldown_until - now)
                        tried.add(s.endpoint.id)
                        continue
                    if self._too_small(s, need, min_window):
                        tried.add(s.endpoint.id)
                        context_tiers.add(tier)
                        self._metrics.context_skips.labels(endpoint=s.endpoint.id).inc()
                        continue
                    candidates.append(s)
                reserved = reservation[0]
                if reserved is not None and any(c.endpoint.id == reserved for c in candidates):
                    chosen: EndpointState | None = self._registry.get(reserved)
                else:
                    chosen = choose(candidates, self._registry.snapshot(), now, self._rng)
                if chosen is None:
                    break
                tried.add(chosen.endpoint.id)
                per_tier[tier] = per_tier.get(tier, 0) + 1
                if deadline - now <= 0:
                    raise self._deadline(attempts)
                took = reserved is not None and chosen.endpoint.id == reserved
                if took:
                    reservation[0] = None  # the queue counted it in flight: _attempt owns that count
                try:
                    value = self._attempt(chosen, send, deadline, attempts, hold, prompt_tokens,
                                          reserved=took)
                except BackendError as exc:
                    if not exc.retryable:
                        raise self._fatal(exc, attempts) from None
                    if exc.kind == "rate_limited":
                        cooling_waits.append(cooldown_seconds(exc.retry_after))
                    if isinstance(exc, ContextOverflowError):
                        context_tiers.add(tier)
                        min_window = max(min_window, self._learn_overflow(chosen, need, exc.overflow))
                    if self._registry.now() >= deadline:
                        raise self._deadline(attempts) from None
                    continue
                warnings: tuple[str, ...] = ()
                if admitted.degraded is not None:
                    warnings = (f"tier {target.tier} is busy (every endpoint at capacity); "
                                f"degraded to {admitted.tier}",)
                if target.tier is not None and chosen.endpoint.tier not in (target.tier, admitted.tier):
                    if target.tier in context_tiers:
                        warnings += (self._context_warning(target.tier, chosen, need),)
                        self._metrics.context_escalations.labels(from_tier=target.tier,
                                                                 to_tier=chosen.endpoint.tier).inc()
                    else:
                        warnings += (f"tier {target.tier} could not serve; fell back to "
                                     f"{chosen.endpoint.tier}",)
                    self._metrics.fallbacks.labels(from_tier=target.tier,
                                                   to_tier=chosen.endpoint.tier).inc()
                return Served(value, chosen.endpoint, tuple(attempts), warnings, admitted.degraded)
        if context_tiers and not cooling_waits and all(a.outcome == OVERFLOW_KIND for a in attempts):
            raise self._no_window(target, need, attempts)
        raise self._give_up(attempts, cooling_waits, target)

    def _learn_overflow(self, state: EndpointState, need: ContextNeed | None, overflow: Overflow) -> int:
        """Remember what an overflow taught; the window size now known not to do."""
        endpoint_id = state.endpoint.id
        if overflow.context_window is not None:
            self.context.learn_window(endpoint_id, overflow.context_window)
        if need is not None and overflow.prompt_tokens is not None:
            self.context.learn(endpoint_id, need, overflow.prompt_tokens)
        # The server's own n_ctx is the truth even when a configured window says otherwise.
        window = overflow.context_window or self.context.window(state)
        return window if window is not None else 0

    def _context_warning(self, tier: str, chosen: EndpointState, need: ContextNeed | None) -> str:
        text = f"the request does not fit the context window of any endpoint of tier {tier}"
        if need is not None:
            text += f" (about {self.context.required(chosen, need)} tokens with max_tokens)"
        return text + f"; moved to {chosen.endpoint.tier}"

    def _no_window(self, target: Target, need: ContextNeed | None,
                   attempts: list[Attempt]) -> RequestError:
        """Every endpoint that could take the request is too small for it: the client's 400."""
        where = f"tier {target.tier}" if target.tier else f"endpoint {target.endpoint_id}"
        windows = [w for s in self._registry.snapshot().values()
                   if (w := self.context.window(s)) is not None]
        text = f"the request does not fit the context window of any endpoint for {where}"
        if need is not None:
            text += f" (about {self.context.prompt_tokens('', need)} prompt tokens estimated"
            text += f", plus max_tokens {need.max_tokens})" if need.max_tokens is not None else ")"
        if windows:
            text += f"; the largest window is {max(windows)} tokens"
        log.info("no context window fits: %s%s", text, _tried(attempts))
        return RequestError(text + "; shorten the conversation or lower max_tokens", param="messages",
                            code="context_length_exceeded", status=400)

    def _attempt_or_raise(self, state: EndpointState, send: Callable[[BackendClient, float], T],
                          deadline: float, attempts: list[Attempt], target: Target,
                          hold: bool, prompt_tokens: int | None) -> Served[T]:
        if deadline - self._registry.now() <= 0:
            raise self._deadline(attempts)
        try:
            value = self._attempt(state, send, deadline, attempts, hold, prompt_tokens)
        except BackendError as exc:
            if not exc.retryable:
                raise self._fatal(exc, attempts) from None
            if isinstance(exc, ContextOverflowError):
                self._learn_overflow(state, None, exc.overflow)
                raise self._no_window(target, None, attempts) from None
            if exc.kind == "rate_limited":
                raise self._give_up(attempts, [cooldown_seconds(exc.retry_after)], target) from None
            if self._registry.now() >= deadline:
                raise self._deadline(attempts) from None
            raise self._give_up(attempts, [], target) from None
        return Served(value, state.endpoint, tuple(attempts))

    def release(self, endpoint_id: str) -> None:
        """End the in-flight count that ``run(..., hold=True)`` kept."""
        self._registry.end(endpoint_id)

    def _attempt(self, state: EndpointState, send: Callable[[BackendClient, float], T],
                 deadline: float, attempts: list[Attempt], hold: bool,
                 prompt_tokens: int | None = None, *, reserved: bool = False) -> T:
        """One attempt; ``reserved``: the busy queue already counted it in flight."""
        endpoint = state.endpoint
        registry, metrics = self._registry, self._metrics
        now = registry.now()
        timeout = min(self._config.attempt_timeout(endpoint), deadline - now)
        if prompt_tokens is not None:
            # A saturated endpoint (without a slot reserved for us) queues the
            # request behind a generation: its first byte is not prefill alone.
            timeout = self._first_token_timeout(state, prompt_tokens, timeout,
                                                queued=not reserved and saturated(state, now))
        metrics.model_invocations.labels(tier=endpoint.tier).inc()
        if not reserved:
            registry.begin(endpoint.id)
        started = registry.now()
        try:
            value = send(self._clients[endpoint.id], timeout)
        except BackendError as exc:
            seconds = registry.now() - started
            if isinstance(exc, EmptyStreamError) and state.facts.kind == "llama-cpp-python":
                # llama-cpp-python's streamed overflow: HTTP 200 and not a byte of body.
                exc = ContextOverflowError(Overflow("empty stream: llama-cpp-python's context overflow"),
                                           status_code=200)
            if isinstance(exc, ContextOverflowError):
                registry.record_neutral(endpoint.id, finished=True)  # too long a prompt, not a sick endpoint
                metrics.context_overflows.labels(endpoint=endpoint.id).inc()
                attempts.append(Attempt(endpoint.id, endpoint.tier, exc.kind, str(exc), seconds))
                metrics.endpoint_requests.labels(endpoint=endpoint.id, tier=endpoint.tier,
                                                 outcome=exc.kind).inc()
                log.info("attempt on %s (%s): %s; moving on", endpoint.id, endpoint.tier, exc)
                raise exc from None
            if exc.kind == "rate_limited":
                registry.record_rate_limited(endpoint.id, exc.retry_after, finished=True)
            elif exc.retryable:
                registry.record_failure(endpoint.id, str(exc), finished=True)
            else:
                registry.record_neutral(endpoint.id, finished=True)
            attempts.append(Attempt(endpoint.id, endpoint.tier, exc.kind, str(exc), seconds))
            metrics.endpoint_requests.labels(endpoint=endpoint.id, tier=endpoint.tier,
                                             outcome=exc.kind).inc()
            metrics.endpoint_latency.labels(endpoint=endpoint.id, tier=endpoint.tier).observe(seconds)
            log.warning("attempt on %s (%s) failed after %.3fs: %s", endpoint.id, endpoint.tier,
                        seconds, exc)
            raise
        except BaseException:
            registry.end(endpoint.id)
            raise
        seconds = registry.now() - started
        if prompt_tokens is not None:
            self.prefill.observe(endpoint.id, prompt_tokens, seconds)
        registry.record_success(endpoint.id, finished=not hold)
        attempts.append(Attempt(endpoint.id, endpoint.tier, "success", None, seconds))
        metrics.endpoint_requests.labels(endpoint=endpoint.id, tier=endpoint.tier,
                                         outcome="success").inc()
        metrics.endpoint_latency.labels(endpoint=endpoint.id, tier=endpoint.tier).observe(seconds)
        return value

    def _first_token_timeout(self, state: EndpointState, prompt_tokens: int, timeout: float, *,
                             queued: bool) -> float:
        """The attempt's ``timeout``, shortened to a first-token deadline where one applies."""
        speed = self.prefill.speed(state)
        if speed is None or not prefill_only(state, queued=queued):
            return timeout
        t = self._config.timeouts
        return first_token_deadline(timeout, prompt_tokens, speed, base=t.first_token_base_seconds,
                                    margin=t.prefill_margin)

    @staticmethod
    def _deadline(attempts: list[Attempt]) -> UpstreamUnavailable:
        return UpstreamUnavailable(
            "the request deadline passed before any endpoint answered"
            + _tried(attempts), status=504, attempts=[a.as_dict() for a in attempts])

    @staticmethod
    def _fatal(exc: BackendError, attempts: list[Attempt]) -> UpstreamUnavailable:
        return UpstreamUnavailable(f"the backend rejected the request: {exc}", status=502,
                                   attempts=[a.as_dict() for a in attempts],
                                   backend_status=exc.status_code)

    @staticmethod
    def _give_up(attempts: list[Attempt], cooling_waits: list[float], target: Target
                 ) -> UpstreamUnavailable:
        where = f"endpoint {target.endpoint_id}" if target.endpoint_id else f"tier {target.tier}"
        as_dicts = [a.as_dict() for a in attempts]
        if cooling_waits and all(a.outcome == "rate_limited" for a in attempts):
            # Whole seconds, rounded up: the message and the Retry-After header agree.
            wait = max(1, math.ceil(min(cooling_waits)))
            return UpstreamUnavailable(
                f"every endpoint for {where} is rate limited; retry after {wait}s",
                status=429, attempts=as_dicts, retry_after=wait)
        if not attempts:
            return UpstreamUnavailable(f"no endpoint could be attempted for {where}",
                                       status=503, attempts=as_dicts)
        return UpstreamUnavailable(f"every attempt for {where} failed" + _tried(attempts),
                                   status=502, attempts=as_dicts)


def _tried(attempts: list[Attempt]) -> str:
    if not attempts:
        return ""
    return " (tried " + "; ".join(f"{a.endpoint}: {a.error or a.outcome}" for a in attempts) + ")"
