"""Endpoint selection: priority groups first, then weights, with a seeded RNG."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence

import pytest
from octoroute.backends.registry import EndpointState
from octoroute.backends.selection import FALLBACK_ORDER, pick
from octoroute.config import EndpointConfig


def state(endpoint_id: str, *, weight: float = 1.0, priority: int = 1, tier: str = "balanced",
          healthy: bool = True) -> EndpointState:
    return EndpointState(endpoint=EndpointConfig(
        id=endpoint_id, name=f"model-{endpoint_id}", tier=tier, base_url=f"http://{endpoint_id}:8080/v1",
        max_tokens=1024, weight=weight, priority=priority), healthy=healthy)


def draw(candidates: Sequence[EndpointState], n: int, seed: int = 12345) -> Counter[str]:
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    for _ in range(n):
        chosen = pick(candidates, rng)
        assert chosen is not None
        counts[chosen.endpoint.id] += 1
    return counts


def within_binomial(count: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    """``count`` successes out of ``n`` is within ``sigmas`` standard deviations of ``n * p``."""
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


class NoRandom(random.Random):
    """An RNG that fails the test if selection consults it."""

    def random(self) -> float:
        raise AssertionError("rng must not be used here")


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def test_empty_returns_none() -> None:
    assert pick([], random.Random(1)) is None
    assert pick((), NoRandom()) is None


def test_single_candidate_is_returned_without_randomness() -> None:
    only = state("a", weight=0.001)
    assert pick([only], NoRandom()) is only


def test_single_top_priority_candidate_needs_no_randomness() -> None:
    top = state("top", priority=5)
    assert pick([state("x", priority=1), top, state("y", priority=4)], NoRandom()) is top


def test_weights_one_to_three() -> None:
    n = 20_000
    counts = draw([state("a", weight=1.0), state("b", weight=3.0)], n)
    assert counts["a"] + counts["b"] == n
    assert within_binomial(counts["a"], n, 0.25)
    assert within_binomial(counts["b"], n, 0.75)
    # 5 sigma at n=20,000 is about 1.5 percentage points: tight enough to catch 1:2 or 1:4.
    assert 0.235 < counts["a"] / n < 0.265


def test_weights_three_way_with_fractions() -> None:
    n = 30_000
    weights = {"a": 0.5, "b": 1.5, "c": 3.0}
    counts = draw([state(k, weight=w) for k, w in weights.items()], n, seed=7)
    total = sum(weights.values())
    for k, w in weights.items():
        assert within_binomial(counts[k], n, w / total), (k, counts)


def test_equal_weights_are_uniform() -> None:
    n = 40_000
    ids = [f"e{i}" for i in range(8)]
    counts = draw([state(i) for i in ids], n, seed=99)
    assert set(counts) == set(ids)
    for i in ids:
        assert within_binomial(counts[i], n, 1 / 8), counts


def test_tiny_weight_is_rarely_but_sometimes_chosen() -> None:
    n = 50_000
    counts = draw([state("heavy", weight=99.0), state("light", weight=1.0)], n, seed=3)
    assert within_binomial(counts["light"], n, 0.01)
    assert counts["light"] > 0


@pytest.mark.parametrize("seed", range(5))
def test_lower_priority_never_chosen_while_higher_exists(seed: int) -> None:
    candidates = [state("low-heavy", priority=1, weight=1000.0), state("hi-a", priority=2, weight=1.0),
                  state("mid", priority=0, weight=50.0), state("hi-b", priority=2, weight=1.0)]
    counts = draw(candidates, 5_000, seed=seed)
    assert set(counts) == {"hi-a", "hi-b"}
    assert within_binomial(counts["hi-a"], 5_000, 0.5)


def test_priority_order_does_not_depend_on_list_order() -> None:
    a, b, c = state("a", priority=1), state("b", priority=3), state("c", priority=2)
    for order in ([a, b, c], [c, b, a], [b, a, c]):
        assert pick(order, NoRandom()) is b


def test_negative_priorities() -> None:
    candidates = [state("a", priority=-5), state("b", priority=-1, weight=2), state("c", priority=-1)]
    counts = draw(candidates, 3_000)
    assert set(counts) == {"b", "c"}


def test_same_seed_same_sequence() -> None:
    candidates = [state("a", weight=1), state("b", weight=2), state("c", weight=3)]

    def sequence(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [chosen.endpoint.id for _ in range(200) if (chosen := pick(candidates, rng))]

    assert sequence(42) == sequence(42)
    assert sequence(42) != sequence(43)
    assert len(set(sequence(42))) == 3


@pytest.mark.parametrize(("value", "expected"), [
    (0.0, "a"), (0.2499, "a"), (0.25, "b"), (0.5, "b"), (0.9999999, "b"),
])
def test_weight_boundaries_with_a_fixed_rng(value: float, expected: str) -> None:
    candidates = [state("a", weight=1.0), state("b", weight=3.0)]
    chosen = pick(candidates, FixedRandom(value))
    assert chosen is not None and chosen.endpoint.id == expected


def test_rng_returning_the_top_of_the_range_still_picks_a_member() -> None:
    # random() never returns 1.0, but float rounding can push the point to the end.
    candidates = [state("a", weight=0.1), state("b", weight=0.2), state("low", priority=0)]
    chosen = pick(candidates, FixedRandom(1.0))
    assert chosen is not None and chosen.endpoint.id == "b"


def test_pick_does_not_mutate_candidates() -> None:
    candidates = [state("a", weight=1.0), state("b", weight=3.0)]
    before = list(candidates)
    pick(candidates, random.Random(0))
    assert candidates == before


def test_fallback_order_prefers_a_larger_model_first() -> None:
    assert FALLBACK_ORDER == {
        "fast": ("balanced", "deep"),
        "balanced": ("deep", "fast"),
        "deep": ("balanced", "fast"),
    }
    for tier, order in FALLBACK_ORDER.items():
        assert tier not in order
        assert sorted((tier, *order)) == ["balanced", "deep", "fast"]
