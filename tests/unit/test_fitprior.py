"""Fitting the learned prior: thresholds by left-out households, and the shipped file kept current."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from octoroute import fitprior
from octoroute.fitprior import Row, cross_validate, repeated_threshold, threshold


def ranked(serves: list[int]) -> list[tuple[float, Row]]:
    """Rows ranked by a made-up probability, highest first."""
    return [(1.0 - i / 1000, Row("h", frozenset(), s, s, 1 - s)) for i, s in enumerate(serves)]


def test_threshold_is_the_lowest_probability_still_gaining_enough_per_under_routing() -> None:
    rows = ranked([1] * 30 + [0] * 2 + [1] * 8 + [0] * 10)
    # 38 gained, 3 under-routed by the 41st move (12.7 each); the 42nd's 4th makes it 9.5.
    assert threshold(rows, 10.0) == pytest.approx(1.0 - 40 / 1000)
    assert threshold(rows, 3.0) == pytest.approx(1.0 - 49 / 1000)  # 38 for 12 at the 50th: 3.2


def test_threshold_never_rests_on_a_handful_of_moves() -> None:
    assert threshold(ranked([1] * 5 + [0] * 40), 1.0) == 1.0  # nothing but a few: move nothing


def test_the_threshold_is_the_mean_of_the_fold_assignments_thresholds() -> None:
    # Three rankings whose own thresholds are 0.949 (48 gained for 4 under-routed by the 52nd move),
    # 0.957 (40 for 4 by the 44th) and 0.956 (41 for 4 by the 45th).
    firm = ranked([1] * 40 + [0] * 10)
    looser = ranked([1] * 40 + [0] * 2 + [1] * 8 + [0] * 10)
    cut, cuts = repeated_threshold([looser, firm, ranked([1] * 40 + [0] * 3 + [1] * 1 + [0] * 10)], 10.0)
    assert cuts == [pytest.approx(0.949), pytest.approx(0.957), pytest.approx(0.956)]
    assert cut == pytest.approx((0.949 + 0.957 + 0.956) / 3)  # not any one assignment's, nor their median


def test_another_seed_deals_the_households_to_other_folds() -> None:
    # Twelve households, each with its own word that says whether the tier below serves.
    rows = [Row(f"h{i}", frozenset({f"w:{'yes' if i % 2 else 'no'}", f"w:h{i}"}), i % 2, i % 2, 1 - i % 2)
            for i in range(12) for _ in range(6)]
    first, again, other = cross_validate(rows, 4), cross_validate(rows, 4), cross_validate(rows, 4, seed=3)
    assert first == again  # deterministic
    assert sorted(id(r) for _, r in first) == sorted(id(r) for _, r in other)  # every row once
    assert [p for p, _ in first] != [p for p, _ in other]  # other folds, other left-out models


def test_household_is_the_ids_prefix_and_train_is_one_household() -> None:
    general = [c for c in fitprior.shipped_set("general") if c.id.startswith("gi159-")]
    assert general and {fitprior.household(c) for c in general} == {"gi159"}
    train = fitprior.shipped_set("train")
    assert {fitprior.household(c) for c in train} == {"train"}  # not its categories


def test_the_shipped_prior_is_fitted_on_the_shipped_sets_as_they_are() -> None:
    """Fails when the scorer or the sets changed and ``scripts/fit-prior`` was not run again."""
    cases = [c for split in fitprior.SPLITS for c in fitprior.shipped_set(split)]
    fresh = fitprior.fit_prior(cases)
    shipped = json.loads(resources.files("octoroute.routing").joinpath("prior.json").read_text("utf-8"))
    assert shipped["rows"] == fresh["rows"] == len(cases)
    assert set(fresh["models"]) == set(shipped["models"]) and "balanced" in shipped["models"]  # type: ignore[arg-type]
    for tier in shipped["models"]:
        new, old = fresh["models"][tier], shipped["models"][tier]  # type: ignore[index]
        assert new["threshold"] == pytest.approx(old["threshold"], abs=1e-4), f"{tier}: run scripts/fit-prior"
        assert new["bias"] == pytest.approx(old["bias"], abs=1e-4)
        assert set(new["weights"]) == set(old["weights"]), f"{tier}: run scripts/fit-prior"
        assert all(new["weights"][k] == pytest.approx(v, abs=1e-4) for k, v in old["weights"].items())
