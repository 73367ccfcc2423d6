"""Token and compute accounting for ``/stats``: since start, the last hour, the last day.

Every routed request ends in one ``Stats.record(...)`` call (the APIs call it
once the answer, or the stream, is over). Memory is bounded whatever the
traffic: three kinds of fixed buckets (one since start, a ring of 60 one-minute
buckets, a ring of 24 one-hour buckets), each holding per-tier and
per-endpoint counters and log-spaced latency histograms (at most
``HIST_BUCKETS`` counts each), plus a ring of the last
``observability.decisions_kept`` routing decisions. No per-request history is
kept beyond that ring.

Compute is tokens (in + out) x the serving endpoint's ``size_b`` (billions of
parameters); "always deep" is the same tokens x the largest deep endpoint's
size: what sending everything to the deep tier would have cost. Their ratio is
the saving.

Windows: "hour" is the current minute and the 59 before it; "day" the current
hour and the 23 before it (so it covers between 23 and 24 hours).

A record touches only the current minute's bucket; when the minute changes,
that bucket is folded into its hour's bucket and the since-start one (once a
minute, not once a request). One lock (``_stats_lock``) guards every bucket
and the ring; ``record`` holds it for a few microseconds, ``snapshot`` for
well under a millisecond.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from octoroute.config import DEFAULT_PARAMS_B, TIERS, EndpointConfig
from octoroute.metrics import Metrics

MINUTE_S = 60  # seconds per series bucket
HOUR_S = 3600
MINUTES_KEPT = 60  # one-minute buckets: the "hour" window and the series
HOURS_KEPT = 24  # one-hour buckets: the "day" window
HIST_PER_DOUBLING = 4  # histogram buckets per doubling of latency: at most 9% off at the midpoint
HIST_BUCKETS = 100  # bucket 0 is under 1 ms; the last starts at 2**(98/4) ms (about 6.6 hours)
TIMELINE_KEPT = 20  # health transitions kept per endpoint
MAX_FALLBACK_REASONS = 32  # distinct fallback reasons counted; more go under "other"
MAX_TEXT_CHARS = 300  # characters of a decision's rule and reason kept
PROMPT_CHARS_KEPT = 8000  # characters of a prompt kept when observability.keep_prompts is true
DIRECTIONS = ("in", "out")


def hist_index(ms: float) -> int:
    """The histogram bucket of a duration in milliseconds."""
    if ms < 1.0:
        return 0
    return min(int(math.log2(ms) * HIST_PER_DOUBLING) + 1, HIST_BUCKETS - 1)


def hist_value(index: int) -> float:
    """A bucket's representative value: the geometric middle of its bounds, in ms."""
    if index == 0:
        return 0.5
    return float(2.0 ** ((index - 0.5) / HIST_PER_DOUBLING))


def percentile(hist: dict[int, int], q: float) -> float | None:
    """The nearest-rank ``q`` quantile of a sparse histogram, or ``None`` when it is empty."""
    n = sum(hist.values())
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n))
    seen = 0
    for index in sorted(hist):
        seen += hist[index]
        if seen >= rank:
            return round(hist_value(index), 1)
    return None  # unreachable: seen ends at n >= rank


def _quantiles(hist: dict[int, int]) -> dict[str, float | None]:
    return {"p50": percentile(hist, 0.5), "p95": percentile(hist, 0.95)}


def _merge_hist(into: dict[int, int], other: dict[int, int]) -> None:
    for index, count in other.items():
        into[index] = into.get(index, 0) + count


class Counts:
    """Counters and latency histograms of one tier or endpoint in one bucket."""

    __slots__ = ("always_deep", "compute", "cost", "energy_wh", "errors", "latency", "requests",
                 "tokens_estimated", "tokens_in", "tokens_out", "ttft")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.tokens_estimated = 0
        self.compute = 0.0
        self.always_deep = 0.0
        self.cost = 0.0
        self.energy_wh = 0.0
        self.latency: dict[int, int] = {}
        self.ttft: dict[int, int] = {}

    def add(self, r: _Entry) -> None:
        self.requests += 1
        self.errors += r.error
        self.tokens_in += r.tokens_in
        self.tokens_out += r.tokens_out
        if r.estimated:
            self.tokens_estimated += r.tokens_in + r.tokens_out
        self.compute += r.compute
        self.always_deep += r.always_deep
        self.cost += r.cost
        self.energy_wh += r.energy_wh
        hist = self.latency
        hist[r.latency_index] = hist.get(r.latency_index, 0) + 1
        if r.ttft_index is not None:
            hist = self.ttft
            hist[r.ttft_index] = hist.get(r.ttft_index, 0) + 1

    def merge(self, other: Counts) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        self.tokens_estimated += other.tokens_estimated
        self.compute += other.compute
        self.always_deep += other.always_deep
        self.cost += other.cost
        self.energy_wh += other.energy_wh
        _merge_hist(self.latency, other.latency)
        _merge_hist(self.ttft, other.ttft)


class Bucket:
    """Everything counted over one span of time (a minute, an hour, or since start)."""

    __slots__ = ("brain_agreed", "brain_asked", "brain_failed", "endpoint_errors", "endpoints",
                 "fallbacks", "start", "tiers")

    def __init__(self, start: int, endpoint_ids: Iterable[str]) -> None:
        self.start = start  # unix seconds
        self.tiers = {t: Counts() for t in TIERS}
        self.endpoints = {e: Counts() for e in endpoint_ids}
        self.endpoint_errors = dict.fromkeys(self.endpoints, 0)  # failed attempts per endpoint
        self.fallbacks: dict[str, int] = {}
        self.brain_asked = 0
        self.brain_agreed = 0
        self.brain_failed = 0

    def add(self, r: _Entry) -> None:
        counts = self.tiers.get(r.tier)
        if counts is not None:
            counts.add(r)
        if r.endpoint is not None:
            counts = self.endpoints.get(r.endpoint)
            if counts is not None:
                counts.add(r)
        errors = self.endpoint_errors
        for endpoint_id in r.failed_endpoints:
            if endpoint_id in errors:
                errors[endpoint_id] += 1
        if r.fallback is not None:
            fallbacks = self.fallbacks
            key = r.fallback if r.fallback in fallbacks or len(fallbacks) < MAX_FALLBACK_REASONS else "other"
            fallbacks[key] = fallbacks.get(key, 0) + 1
        if r.brain is not None:
            self.brain_asked += 1
            self.brain_agreed += r.brain == "agreed"
            self.brain_failed += r.brain == "failed"

    def merge(self, other: Bucket) -> None:
        for tier, counts in other.tiers.items():
            self.tiers[tier].merge(counts)
        for endpoint_id, counts in other.endpoints.items():
            self.endpoints[endpoint_id].merge(counts)
        for endpoint_id, n in other.endpoint_errors.items():
            self.endpoint_errors[endpoint_id] += n
        for key, n in other.fallbacks.items():
            self.fallbacks[key] = self.fallbacks.get(key, 0) + n
        self.brain_asked += other.brain_asked
        self.brain_agreed += other.brain_agreed
        self.brain_failed += other.brain_failed


class _Entry(NamedTuple):
    """One request as the buckets count it, derived once in ``record``."""

    tier: str
    endpoint: str | None
    tokens_in: int
    tokens_out: int
    estimated: bool
    error: bool
    compute: float
    always_deep: float
    cost: float
    energy_wh: float
    latency_index: int
    ttft_index: int | None
    failed_endpoints: Sequence[str]
    fallback: str | None
    brain: str | None


class Decided(NamedTuple):
    """One kept routing decision (the ring of ``/stats/decisions``)."""

    t: float
    request_id: str
    tier: str
    routed_tier: str | None
    endpoint: str | None
    strategy: str
    rule: str | None
    reason: str
    confidence: float | None
    tokens_in: int
    tokens_out: int
    estimated: bool
    duration_ms: float
    ttft_ms: float | None
    status: int
    fallback: str | None
    stream: bool
    api: str
    prompt: str | None

    def as_dict(self, *, with_prompt: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "t": round(self.t, 3), "request_id": self.request_id, "tier": self.tier,
            "routed_tier": self.routed_tier, "endpoint": self.endpoint, "strategy": self.strategy,
            "rule": self.rule, "reason": self.reason, "confidence": self.confidence,
            "tokens_in": self.tokens_in, "tokens_out": self.tokens_out, "estimated": self.estimated,
            "duration_ms": round(self.duration_ms, 1),
            "ttft_ms": None if self.ttft_ms is None else round(self.ttft_ms, 1),
            "status": self.status, "fallback": self.fallback, "stream": self.stream, "api": self.api}
        if with_prompt:
            out["prompt"] = self.prompt
        return out


class Stats:
    """The accounting of one running Octoroute: record requests, read windows.

    ``wall`` is the wall clock (unix seconds; tests inject their own). A wall
    clock stepping back (NTP) is held at the latest time seen, so a bucket is
    never reused for an earlier minute.
    """

    def __init__(self, endpoints: Iterable[EndpointConfig], *, metrics: Metrics | None = None,
                 decisions_kept: int = 200, keep_prompts: bool = False,
                 wall: Callable[[], float] = time.time) -> None:
        self._endpoints = tuple(endpoints)
        self._ids = tuple(e.id for e in self._endpoints)
        self._tier_of = {e.id: e.tier for e in self._endpoints}
        self._size = {e.id: e.size_b for e in self._endpoints}
        deep = [e.size_b for e in self._endpoints if e.tier == "deep"]
        # NOTE: without a deep endpoint, "always deep" means always the largest model there is.
        self.deep_size = max(deep or [e.size_b for e in self._endpoints] or [DEFAULT_PARAMS_B["deep"]])
        self._cost = {e.id: e.cost_per_million_tokens for e in self._endpoints
                      if e.cost_per_million_tokens is not None}
        self._watts = {e.id: e.watts for e in self._endpoints if e.watts is not None}
        self._wall = wall
        self.keep_prompts = keep_prompts
        self.decisions_kept = decisions_kept
        self._stats_lock = threading.Lock()  # guards the buckets, rings, timelines and _latest
        self.started_at = wall()
        self._latest = self.started_at
        self._total = Bucket(int(self.started_at), self._ids)  # every minute before the current one
        self._current: Bucket | None = None  # this minute's bucket, not folded into hour and total yet
        self._minutes: list[Bucket | None] = [None] * MINUTES_KEPT
        self._hours: list[Bucket | None] = [None] * HOURS_KEPT
        self._decisions: deque[Decided] = deque(maxlen=max(decisions_kept, 1))
        self._timelines: dict[str, deque[tuple[float, bool]]] = {
            e: deque([(self.started_at, True)], maxlen=TIMELINE_KEPT) for e in self._ids}
        self._metrics = metrics
        if metrics is not None:
            self._tokens = {(e.id, d): metrics.tokens.labels(tier=e.tier, endpoint=e.id, direction=d)
                            for e in self._endpoints for d in DIRECTIONS}
            self._compute = {t: metrics.compute_units.labels(tier=t) for t in TIERS}
            metrics.compute_saved_ratio.set_function(self.saved_ratio)

    # --- writing

    def record(self, *, tier: str, endpoint: str | None, tokens_in: int, tokens_out: int,
               estimated: bool, duration_s: float, status: int, ttft_s: float | None = None,
               stream: bool = False, failed: bool | None = None, fallback: str | None = None,
               failed_endpoints: Sequence[str] = (), routed_tier: str | None = None,
               strategy: str = "", rule: str | None = None, reason: str = "",
               confidence: float | None = None, brain: str | None = None, request_id: str = "",
               api: str = "", prompt: str | None = None) -> None:
        """Count one routed request, served or failed; thread-safe, O(1), never raises on input.

        ``tier``/``endpoint``: what served it (for a request no endpoint
        served: the routed tier and ``None``). ``estimated``: the token counts
        are estimates (the backend sent no ``usage``). ``failed``: an error
        although ``status`` < 400 (a stream cut mid-way); by default
        ``status >= 400``. ``failed_endpoints``: the endpoints whose attempts
        failed on the way (each counts one error there). ``fallback``: why it
        was not served as routed (a short code, see ``api.accounting``).
        ``brain``: ``agreed`` | ``disagreed`` | ``failed`` when the router brain
        was consulted, else ``None``. ``prompt`` is kept only with
        ``keep_prompts``.
        """
        tokens_in, tokens_out = max(0, int(tokens_in)), max(0, int(tokens_out))
        tokens = tokens_in + tokens_out
        size = self._size.get(endpoint, 0.0) if endpoint is not None else 0.0
        error = status >= 400 if failed is None else failed
        cost_rate = self._cost.get(endpoint) if endpoint is not None else None
        watts = self._watts.get(endpoint) if endpoint is not None else None
        duration_ms = max(0.0, duration_s * 1000.0)
        ttft_ms = None if ttft_s is None else max(0.0, ttft_s * 1000.0)
        entry = _Entry(tier, endpoint, tokens_in, tokens_out, estimated, error, tokens * size,
                       tokens * self.deep_size, 0.0 if cost_rate is None else tokens * cost_rate / 1e6,
                       0.0 if watts is None else watts * max(0.0, duration_s) / 3600.0,
                       hist_index(duration_ms), None if ttft_ms is None else hist_index(ttft_ms),
                       failed_endpoints, fallback, brain)
        with self._stats_lock:
            now = self._latest = max(self._wall(), self._latest)
            current = self._current
            if current is None or now - current.start >= MINUTE_S:
                current = self._roll(now)
            current.add(entry)
            if self.decisions_kept:
                self._decisions.append(Decided(
                    now, request_id, tier, routed_tier, endpoint, strategy,
                    None if rule is None else rule[:MAX_TEXT_CHARS], reason[:MAX_TEXT_CHARS],
                    None if confidence is None else round(confidence, 3), tokens_in, tokens_out,
                    estimated, duration_ms, ttft_ms, status, fallback, stream, api,
                    prompt[:PROMPT_CHARS_KEPT] if self.keep_prompts and prompt is not None else None))
        if self._metrics is not None and endpoint is not None and endpoint in self._tier_of:
            if tokens_in:
                self._tokens[(endpoint, "in")].inc(tokens_in)
            if tokens_out:
                self._tokens[(endpoint, "out")].inc(tokens_out)
            if tokens:
                self._compute[self._tier_of[endpoint]].inc(entry.compute)
                self._metrics.compute_always_deep.inc(entry.always_deep)

    def on_health(self, endpoint_id: str, healthy: bool) -> None:
        """Note a health transition of an endpoint (the registry's listener calls this)."""
        with self._stats_lock:
            timeline = self._timelines.get(endpoint_id)
            if timeline is not None:
                timeline.append((max(self._wall(), self._latest), healthy))

    def _roll(self, now: float) -> Bucket:
        """Fold the finished minute into its hour and the total; start ``now``'s minute."""
        done = self._current
        if done is not None:
            self._total.merge(done)
            self._bucket(self._hours, HOUR_S, done.start).merge(done)
        current = self._current = self._bucket(self._minutes, MINUTE_S, now)
        return current

    def _bucket(self, ring: list[Bucket | None], span: int, when: float) -> Bucket:
        number = int(when // span)
        slot = number % len(ring)
        bucket = ring[slot]
        if bucket is None or bucket.start != number * span:
            bucket = ring[slot] = Bucket(number * span, self._ids)
        return bucket

    # --- reading

    def saved_ratio(self) -> float:
        """1 - compute / always-deep compute since start (0.0 before the first token)."""
        with self._stats_lock:
            buckets = [self._total] if self._current is None else [self._total, self._current]
            compute = sum(c.compute for b in buckets for c in b.tiers.values())
            deep = sum(c.always_deep for b in buckets for c in b.tiers.values())
        return 1.0 - compute / deep if deep > 0 else 0.0

    def timeline(self, endpoint_id: str) -> list[dict[str, Any]]:
        with self._stats_lock:
            points = list(self._timelines.get(endpoint_id, ()))
        return [{"t": round(t, 3), "healthy": healthy} for t, healthy in points]

    def decisions(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The last ``limit`` decisions, newest first."""
        with self._stats_lock:
            kept = list(self._decisions) if self.decisions_kept else []
        kept.reverse()
        if limit is not None:
            kept = kept[:limit]
        return [d.as_dict(with_prompt=self.keep_prompts) for d in kept]

    def snapshot(self) -> dict[str, Any]:
        """``/stats`` without ``health`` (the API adds the registry's view)."""
        with self._stats_lock:
            now = max(self._wall(), self._latest)
            minutes = self._recent(self._minutes, MINUTE_S, now)
            hours = self._recent(self._hours, HOUR_S, now)
            hour = Bucket(0, self._ids)
            for bucket in minutes:
                if bucket is not None:
                    hour.merge(bucket)
            day = Bucket(0, self._ids)
            for bucket in hours:
                if bucket is not None:
                    day.merge(bucket)
            total = Bucket(0, self._ids)
            total.merge(self._total)
            current = self._current
            if current is not None:
                total.merge(current)
                if current.start >= (int(now // HOUR_S) - HOURS_KEPT + 1) * HOUR_S:
                    day.merge(current)
            minute = int(now // MINUTE_S)
            points = [self._point((minute - MINUTES_KEPT + 1 + i) * MINUTE_S, bucket)
                      for i, bucket in enumerate(minutes)]
        return {
            "version": 1,
            "now": round(now, 3),
            "started_at": round(self.started_at, 3),
            "uptime_seconds": round(now - self.started_at, 3),
            "windows": {"total": self._window(total), "hour": self._window(hour), "day": self._window(day)},
            "series": {"bucket_seconds": MINUTE_S, "points": points},
            "params_b": dict(self._size),
            "always_deep_params_b": self.deep_size,
        }

    @staticmethod
    def _recent(ring: list[Bucket | None], span: int, now: float) -> list[Bucket | None]:
        """The ring's buckets oldest first, ``None`` where a span had no traffic (or is stale)."""
        current = int(now // span)
        out: list[Bucket | None] = []
        for number in range(current - len(ring) + 1, current + 1):
            bucket = ring[number % len(ring)]
            out.append(bucket if bucket is not None and bucket.start == number * span else None)
        return out

    @staticmethod
    def _point(start: int, bucket: Bucket | None) -> dict[str, Any]:
        if bucket is None:
            return {"t": start, "requests": dict.fromkeys(TIERS, 0), "errors": 0,
                    "compute_units": 0.0, "compute_always_deep": 0.0}
        tiers = bucket.tiers
        return {"t": start, "requests": {t: tiers[t].requests for t in TIERS},
                "errors": sum(c.errors for c in tiers.values()),
                "compute_units": round(sum(c.compute for c in tiers.values()), 3),
                "compute_always_deep": round(sum(c.always_deep for c in tiers.values()), 3)}

    def _window(self, b: Bucket) -> dict[str, Any]:
        overall = Counts()
        for counts in b.tiers.values():
            overall.merge(counts)
        by_endpoint = {}
        for e in self._endpoints:
            c = b.endpoints[e.id]
            by_endpoint[e.id] = {
                "tier": e.tier, "requests": c.requests, "errors": b.endpoint_errors[e.id],
                "tokens_in": c.tokens_in, "tokens_out": c.tokens_out,
                "compute_units": round(c.compute, 3), "params_b": e.size_b,
                "cost": round(c.cost, 6) if e.id in self._cost else None,
                "energy_wh": round(c.energy_wh, 4) if e.id in self._watts else None,
                "latency_ms": _quantiles(c.latency)}
        return {
            "requests": overall.requests, "errors": overall.errors,
            "tokens_in": overall.tokens_in, "tokens_out": overall.tokens_out,
            "tokens_estimated": overall.tokens_estimated,
            "compute_units": round(overall.compute, 3),
            "compute_always_deep": round(overall.always_deep, 3),
            "saved_ratio": (round(1.0 - overall.compute / overall.always_deep, 4)
                            if overall.always_deep > 0 else None),
            "cost": round(overall.cost, 6) if self._cost else None,
            "energy_wh": round(overall.energy_wh, 4) if self._watts else None,
            "latency_ms": _quantiles(overall.latency),
            "ttft_ms": _quantiles(overall.ttft),
            "by_tier": {t: {"requests": c.requests, "errors": c.errors, "tokens_in": c.tokens_in,
                            "tokens_out": c.tokens_out, "compute_units": round(c.compute, 3),
                            "latency_ms": _quantiles(c.latency), "ttft_ms": _quantiles(c.ttft)}
                        for t, c in b.tiers.items()},
            "by_endpoint": by_endpoint,
            "fallbacks": dict(sorted(b.fallbacks.items(), key=lambda kv: -kv[1])),
            "brain": {"asked": b.brain_asked, "agreed": b.brain_agreed, "failed": b.brain_failed},
        }
