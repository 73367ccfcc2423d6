"""``octoroute.stats``: windows that roll on an injected clock, percentiles, bounded memory."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from octoroute.config import Config
from octoroute.metrics import Metrics
from octoroute.stats import (
    HIST_BUCKETS,
    HOURS_KEPT,
    MAX_FALLBACK_REASONS,
    MINUTES_KEPT,
    PROMPT_CHARS_KEPT,
    TIMELINE_KEPT,
    Bucket,
    Counts,
    Stats,
    hist_index,
    hist_value,
    percentile,
)
from prometheus_client import CollectorRegistry

from fakes import endpoint, make_config

T0 = 1_800_000_000.0  # a unix time on a minute and hour boundary (1800000000 / 3600 = 500000)
URL = "http://127.0.0.1:9/v1"


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def config(**keys: dict[str, Any]) -> Config:
    """fast-1 (8B), balanced-1 (30B), deep-1 (120B) and deep-2 (70B), with ``keys`` per id."""
    def ep(id_: str) -> dict[str, Any]:
        return endpoint(URL, id=id_, **keys.get(id_, {}))
    return make_config({"fast": [ep("fast-1")], "balanced": [ep("balanced-1")],
                        "deep": [ep("deep-1"), endpoint(URL, id="deep-2", params_b=70)]})


def make(wall: Wall | None = None, *, cfg: Config | None = None, metrics: Metrics | None = None,
         **kwargs: Any) -> Stats:
    return Stats((cfg or config()).endpoints, metrics=metrics, wall=wall or Wall(), **kwargs)


def served(stats: Stats, tier: str = "fast", endpoint_id: str | None = "fast-1", *,
           tokens: tuple[int, int] = (10, 20), seconds: float = 0.1, **kwargs: Any) -> None:
    kwargs.setdefault("status", 200)
    stats.record(tier=tier, endpoint=endpoint_id, tokens_in=tokens[0], tokens_out=tokens[1],
                 estimated=kwargs.pop("estimated", False), duration_s=seconds, **kwargs)


# --- accounting -------------------------------------------------------------------

def test_compute_is_tokens_times_params_and_always_deep_uses_the_largest_deep_endpoint() -> None:
    stats = make()
    served(stats, "fast", "fast-1", tokens=(10, 20))  # 30 tokens x 8B
    served(stats, "deep", "deep-2", tokens=(1, 2))  # 3 tokens x 70B
    total = stats.snapshot()["windows"]["total"]
    assert total["compute_units"] == 30 * 8 + 3 * 70
    assert total["compute_always_deep"] == 33 * 120  # deep-1's 120B, not deep-2's 70B
    assert total["saved_ratio"] == round(1 - (30 * 8 + 3 * 70) / (33 * 120), 4)
    assert total["by_tier"]["deep"]["compute_units"] == 210
    assert total["by_endpoint"]["deep-2"] | {"latency_ms": None} == {
        "tier": "deep", "requests": 1, "errors": 0, "tokens_in": 1, "tokens_out": 2,
        "compute_units": 210.0, "params_b": 70.0, "cost": None, "energy_wh": None, "latency_ms": None}
    assert (total["tokens_in"], total["tokens_out"], total["requests"]) == (11, 22, 2)


def test_an_empty_window_has_no_saved_ratio_and_cost_and_energy_are_null_unless_configured() -> None:
    total = make().snapshot()["windows"]["total"]
    assert (total["saved_ratio"], total["cost"], total["energy_wh"]) == (None, None, None)
    assert total["latency_ms"] == {"p50": None, "p95": None}


def test_cost_and_energy_come_from_the_endpoints_that_set_them() -> None:
    cfg = config(**{"fast-1": {"cost_per_million_tokens": 2.0, "watts": 360.0}})
    stats = make(cfg=cfg)
    served(stats, tokens=(400_000, 100_000), seconds=10.0)  # half a million tokens, 10 s at 360 W
    served(stats, "balanced", "balanced-1", tokens=(1000, 1000), seconds=10.0)  # no cost, no watts
    total = stats.snapshot()["windows"]["total"]
    assert total["cost"] == pytest.approx(1.0)
    assert total["energy_wh"] == pytest.approx(1.0)
    assert total["by_endpoint"]["balanced-1"]["cost"] is None


def test_estimated_tokens_and_errors_are_counted_apart() -> None:
    stats = make()
    served(stats, tokens=(4, 6), estimated=True)
    served(stats, "deep", None, tokens=(0, 0), status=502, failed_endpoints=["deep-1", "deep-2"])
    served(stats, tokens=(1, 1), status=200, failed=True)  # a stream cut mid-way
    total = stats.snapshot()["windows"]["total"]
    assert total["tokens_estimated"] == 10
    assert total["errors"] == 2 and total["by_tier"]["deep"]["errors"] == 1
    assert total["by_endpoint"]["deep-1"]["errors"] == 1 and total["by_endpoint"]["deep-1"]["requests"] == 0


def test_fallbacks_and_brain_verdicts_are_counted() -> None:
    stats = make()
    served(stats, fallback="tier_fallback:timeout", brain="agreed")
    served(stats, fallback="tier_fallback:timeout", brain="disagreed")
    served(stats, brain="failed")
    total = stats.snapshot()["windows"]["total"]
    assert total["fallbacks"] == {"tier_fallback:timeout": 2}
    assert total["brain"] == {"asked": 3, "agreed": 1, "failed": 1}


def test_fallback_reasons_are_bounded() -> None:
    stats = make()
    for i in range(MAX_FALLBACK_REASONS + 5):
        served(stats, fallback=f"reason-{i}")
    fallbacks = stats.snapshot()["windows"]["total"]["fallbacks"]
    assert len(fallbacks) == MAX_FALLBACK_REASONS + 1 and fallbacks["other"] == 5


def test_records_update_the_prometheus_series() -> None:
    registry = CollectorRegistry()
    cfg = config()
    stats = make(cfg=cfg, metrics=Metrics(registry, cfg.endpoints))
    assert registry.get_sample_value("octoroute_compute_saved_ratio") == 0.0
    served(stats, "fast", "fast-1", tokens=(10, 20))
    served(stats, "deep", None, tokens=(0, 0), status=502)
    value = registry.get_sample_value
    assert value("octoroute_tokens_total", {"tier": "fast", "endpoint": "fast-1", "direction": "in"}) == 10
    assert value("octoroute_tokens_total", {"tier": "fast", "endpoint": "fast-1", "direction": "out"}) == 20
    assert value("octoroute_tokens_total", {"tier": "deep", "endpoint": "deep-1", "direction": "in"}) == 0
    assert value("octoroute_compute_units_total", {"tier": "fast"}) == 240
    assert value("octoroute_compute_always_deep_units_total") == 3600
    assert value("octoroute_compute_saved_ratio") == pytest.approx(1 - 240 / 3600)


# --- windows and the series ---------------------------------------------------------

def requests(windows: dict[str, Any]) -> tuple[int, int, int]:
    return windows["hour"]["requests"], windows["day"]["requests"], windows["total"]["requests"]


def test_the_hour_window_rolls_by_the_minute_and_the_day_by_the_hour() -> None:
    wall = Wall()
    stats = make(wall)
    served(stats)
    wall.t = T0 + 59 * 60 + 30  # the 60th minute: still in the hour
    served(stats)
    windows = stats.snapshot()["windows"]
    assert requests(windows) == (2, 2, 2)
    wall.t = T0 + 60 * 60  # the first record's minute has left the hour
    windows = stats.snapshot()["windows"]
    assert requests(windows)[:2] == (1, 2)
    wall.t = T0 + 24 * 3600  # the first record's hour has left the day
    windows = stats.snapshot()["windows"]
    assert requests(windows) == (0, 0, 2)
    served(stats)  # a ring slot reused for a new minute and hour starts from zero
    windows = stats.snapshot()["windows"]
    assert requests(windows) == (1, 1, 3)


def test_the_series_is_sixty_minutes_oldest_first() -> None:
    wall = Wall()
    stats = make(wall)
    served(stats, tokens=(1, 1))
    wall.t += 60
    served(stats, "deep", "deep-1", tokens=(1, 0), status=500)
    wall.t += 120 + 5
    series = stats.snapshot()["series"]
    points = series["points"]
    assert series["bucket_seconds"] == 60 and len(points) == 60
    assert [p["t"] for p in points] == [int(T0) + 180 - 60 * (59 - i) for i in range(60)]
    assert points[-4]["requests"] == {"fast": 1, "balanced": 0, "deep": 0}
    assert points[-4]["compute_units"] == 16
    assert points[-3]["errors"] == 1 and points[-3]["compute_always_deep"] == 120
    assert all(p["requests"] == {"fast": 0, "balanced": 0, "deep": 0} for p in points[:-4] + points[-2:])


def test_a_wall_clock_stepping_back_never_reuses_a_bucket_for_an_earlier_minute() -> None:
    wall = Wall(T0 + 600)
    stats = make(wall)
    served(stats)
    wall.t = T0  # NTP stepped the clock back ten minutes
    served(stats)
    snap = stats.snapshot()
    assert snap["windows"]["hour"]["requests"] == 2
    assert snap["series"]["points"][-1]["requests"]["fast"] == 2
    assert snap["now"] == T0 + 600


def test_uptime_and_stamps() -> None:
    wall = Wall()
    stats = make(wall)
    wall.t += 12.5
    snap = stats.snapshot()
    assert (snap["version"], snap["started_at"], snap["now"]) == (1, T0, T0 + 12.5)
    assert snap["uptime_seconds"] == 12.5
    assert snap["params_b"] == {"fast-1": 8.0, "balanced-1": 30.0, "deep-1": 120.0, "deep-2": 70.0}


# --- percentiles ------------------------------------------------------------------

@pytest.mark.parametrize("ms", [0.2, 1.0, 1.5, 37.0, 999.0, 45_000.0])
def test_a_histogram_bucket_holds_its_value_within_ten_percent(ms: float) -> None:
    index = hist_index(ms)
    assert 0 <= index < HIST_BUCKETS
    if ms >= 1.0:
        assert abs(hist_value(index) - ms) / ms < 0.1


def test_percentiles_of_a_uniform_spread() -> None:
    stats = make()
    for ms in range(1, 1001):
        served(stats, seconds=ms / 1000.0, ttft_s=ms / 10000.0)
    fast = stats.snapshot()["windows"]["total"]["by_tier"]["fast"]
    assert fast["latency_ms"]["p50"] == pytest.approx(500, rel=0.1)
    assert fast["latency_ms"]["p95"] == pytest.approx(950, rel=0.1)
    assert fast["ttft_ms"]["p95"] == pytest.approx(95, rel=0.1)


def test_percentile_nearest_rank() -> None:
    assert percentile({}, 0.5) is None
    hist = {hist_index(10.0): 94, hist_index(1000.0): 6}
    assert percentile(hist, 0.5) == pytest.approx(10, rel=0.1)
    assert percentile(hist, 0.95) == pytest.approx(1000, rel=0.1)  # the 95th of 100 is a slow one


# --- decisions ---------------------------------------------------------------------

def test_decisions_newest_first_bounded_and_without_prompts_by_default() -> None:
    stats = make(decisions_kept=3)
    for i in range(5):
        served(stats, request_id=f"r{i}", strategy="rule", rule="casual_short", reason="x" * 1000,
               prompt="secret prompt")
    decisions = stats.decisions()
    assert [d["request_id"] for d in decisions] == ["r4", "r3", "r2"]
    assert [d["request_id"] for d in stats.decisions(2)] == ["r4", "r3"]
    assert all("prompt" not in d for d in decisions)
    assert len(decisions[0]["reason"]) == 300
    assert decisions[0]["tokens_in"] == 10 and decisions[0]["estimated"] is False


def test_prompts_are_kept_only_with_keep_prompts_and_bounded() -> None:
    stats = make(keep_prompts=True)
    served(stats, prompt="p" * (PROMPT_CHARS_KEPT + 10))
    served(stats)
    decisions = stats.decisions()
    assert decisions[0]["prompt"] is None and decisions[1]["prompt"] == "p" * PROMPT_CHARS_KEPT


def test_no_decisions_kept_when_the_ring_is_off() -> None:
    stats = make(decisions_kept=0)
    served(stats)
    assert stats.decisions() == [] and stats.snapshot()["windows"]["total"]["requests"] == 1


def test_health_timelines_are_bounded() -> None:
    wall = Wall()
    stats = make(wall)
    for i in range(TIMELINE_KEPT + 7):
        wall.t += 1
        stats.on_health("deep-1", i % 2 == 1)
    timeline = stats.timeline("deep-1")
    assert len(timeline) == TIMELINE_KEPT and timeline[-1] == {"t": wall.t, "healthy": False}
    assert stats.timeline("fast-1") == [{"t": T0, "healthy": True}]


# --- bounded memory ---------------------------------------------------------------------

def live(kind: type) -> list[Any]:
    return [o for o in gc.get_objects() if isinstance(o, kind)]


def test_memory_stays_bounded_over_a_hundred_thousand_records() -> None:
    """Three days of traffic in 100,000 records: every ring wraps, nothing else is kept.

    Counted structurally (live objects, entries per histogram) rather than in
    bytes: deterministic, and tracemalloc would make the run ten times slower.
    """
    wall = Wall()
    stats = make(wall, decisions_kept=200)
    tiers = (("fast", "fast-1"), ("balanced", "balanced-1"), ("deep", "deep-1"))

    def run(start: int, stop: int) -> None:
        for i in range(start, stop):
            wall.t = T0 + i * 3.0  # 100,000 records over 83 hours
            tier, endpoint_id = tiers[i % 3]
            served(stats, tier, endpoint_id, tokens=(i % 500, i % 900), seconds=(i % 997) / 100.0,
                   ttft_s=(i % 37) / 100.0, request_id=f"{i:032x}", fallback=f"f{i % 3}")

    run(0, 40_000)  # 33 hours: the minute, hour and decision rings have all wrapped
    gc.collect()
    wrapped = (len(live(Bucket)), len(live(Counts)))
    run(40_000, 100_000)
    gc.collect()
    buckets, counts = live(Bucket), live(Counts)
    assert (len(buckets), len(counts)) == wrapped
    assert len(buckets) <= MINUTES_KEPT + HOURS_KEPT + 1
    assert all(len(c.latency) <= HIST_BUCKETS and len(c.ttft) <= HIST_BUCKETS for c in counts)
    assert len(stats.decisions(10_000)) == 200
    snap = stats.snapshot()
    assert snap["windows"]["total"]["requests"] == 100_000
    assert snap["windows"]["day"]["requests"] in range(27_600, 28_801)  # 23 to 24 hours at one per 3 s
    assert snap["windows"]["hour"]["requests"] in range(1_180, 1_201)
