"""A learned second opinion on the scorer's verdicts: may the tier one step down serve the ask?

Why: the scorer's hand-written signals leave waste they cannot see. An everyday
ask it cannot read ("unsure, biased up", a long ask in a language it reads less
well) goes to the mid model, and about three times in four the labels accept
the small one. No single signal separates them; the words of the ask together
with the scorer's own verdict (its kind, its reason's notes, the size) do, a
little. So a logistic model per tier, fitted on the labelled sets' train and
general splits (``scripts/fit-prior``, pure Python and deterministic), gives
the probability that the tier one step down serves the ask, and only a high
one moves it.

It only ever moves a tier down, one step, and never a decision the client
hinted (``task_type``, ``importance: "high"``): those are the client's word.
Which tiers get a model, and each threshold, is the fitter's business
(``octoroute.fitprior``): today only balanced, because moving maths and code
off deep costs the judged benchmark what the labelled sets say it saves. Words
must occur in the sets of at least ``MIN_HOUSEHOLDS`` households to count.
"""

from __future__ import annotations

import importlib.resources
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from octoroute.routing.scorer import Score, words_of

FEATURE_CHARS = 400  # the ask's head: where its words say what it wants; bounds the cost
MIN_HOUSEHOLDS = 3  # a word counts only if the sets of this many households use it
LOWER = {"deep": "balanced", "balanced": "fast"}
WEIGHTS_FILE = "prior.json"
REASONS_CACHED = 1024  # distinct scorer reasons whose summed weights are kept

_REASON_WORD = re.compile(r"[a-z]+")


def _size(tokens: int) -> str:
    """The size feature: a power-of-two bucket of the tokens, not the count."""
    return f"n:{min(12, (max(tokens, 0) + 1).bit_length())}"


def features(text: str, scored: Score, tokens: int, conversation: bool) -> frozenset[str]:
    """What the model weighs: the ask's words, the scorer's kind and notes, the size, a conversation."""
    found = {"w:" + word for word in words_of(text[:FEATURE_CHARS].lower())}
    found.update("r:" + word for word in _REASON_WORD.findall(scored.reason))
    found.add("k:" + scored.task_type)
    found.add(_size(tokens))
    if conversation:
        found.add("c:conversation")
    return frozenset(found)


class Verdict(NamedTuple):
    """What the second opinion said about one decision."""

    tier: str  # the tier after it: the scorer's, or one step down
    p_lower: float  # probability that the tier one step down serves the ask
    threshold: float
    moved: bool

    def reason(self, scorer_tier: str) -> str:
        """A short note for a decision's reason; never prompt text."""
        lower = LOWER[scorer_tier]
        if self.moved:
            return f"learned prior: {lower} serves it (p {self.p_lower:.3f} >= {self.threshold:.3f})"
        return (f"learned prior kept {scorer_tier} "
                f"(p {lower} serves {self.p_lower:.3f} < {self.threshold:.3f})")


@dataclass(frozen=True)
class TierModel:
    """One tier's logistic model: a bias, weights by feature, and the threshold that moves it down."""

    bias: float
    weights: Mapping[str, float]
    threshold: float

    def probability(self, found: Iterable[str]) -> float:
        weights = self.weights
        return _sigmoid(self.bias + sum(weights.get(name, 0.0) for name in found))


def _sigmoid(total: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, total))))


class _Weighed:
    """A tier model split by feature kind, so a decision sums weights without building feature names.

    ``features()`` names every feature (for fitting and tests); this sums the same ones with one
    dictionary lookup per word, without building a prefixed name for each.
    """

    def __init__(self, model: TierModel) -> None:
        self.model = model
        self.words = {k[2:]: v for k, v in model.weights.items() if k.startswith("w:")}
        self.reasons = {k[2:]: v for k, v in model.weights.items() if k.startswith("r:")}
        self.other = {k: v for k, v in model.weights.items() if not k.startswith(("w:", "r:"))}
        # The scorer writes its reasons from a small vocabulary, so the same few hundred recur:
        # their weights are summed once each, not split by a pattern on every decision.
        self.reason_total = lru_cache(maxsize=REASONS_CACHED)(self._reason_total)

    def _reason_total(self, reason: str) -> float:
        reasons = self.reasons
        return sum(map(reasons.__getitem__, reasons.keys() & _REASON_WORD.findall(reason)))

    def probability(self, text: str, scored: Score, tokens: int, conversation: bool) -> float:
        other = self.other
        total = self.model.bias + other.get("k:" + scored.task_type, 0.0) + other.get(_size(tokens), 0.0)
        if conversation:
            total += other.get("c:conversation", 0.0)
        # A dict's keys view intersected with a list walks the list in C and keeps each word that
        # carries a weight once: the same distinct words features() names.
        words = self.words
        total += sum(map(words.__getitem__, words.keys() & words_of(text[:FEATURE_CHARS].lower())))
        total += self.reason_total(scored.reason)
        return _sigmoid(total)


class Prior:
    """The fitted second opinion: a model per tier it may lower (the fitter decides which; today balanced)."""

    def __init__(self, models: Mapping[str, TierModel]) -> None:
        self._models = {tier: _Weighed(model) for tier, model in models.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Prior:
        models = data.get("models")
        if not isinstance(models, dict) or set(models) - set(LOWER):
            raise ValueError("a prior's 'models' must map 'deep' and/or 'balanced' to a model")
        built = {}
        for tier, raw in models.items():
            built[tier] = TierModel(float(raw["bias"]), {str(k): float(v) for k, v in raw["weights"].items()},
                                    float(raw["threshold"]))
        return cls(built)

    def model(self, tier: str) -> TierModel | None:
        """The fitted model that may lower ``tier``, if any."""
        weighed = self._models.get(tier)
        return weighed.model if weighed is not None else None

    def verdict(self, text: str, scored: Score, tokens: int, conversation: bool) -> Verdict | None:
        """The second opinion on ``scored``; None when no model lowers its tier (fast: nothing is below)."""
        weighed = self._models.get(scored.tier)
        if weighed is None:
            return None
        p = weighed.probability(text, scored, tokens, conversation)
        cut = weighed.model.threshold
        moved = p >= cut
        return Verdict(LOWER[scored.tier] if moved else scored.tier, p, cut, moved)


@lru_cache(maxsize=1)
def shipped_prior() -> Prior:
    """The prior fitted on the shipped labelled sets (package data ``routing/prior.json``)."""
    text = importlib.resources.files("octoroute.routing").joinpath(WEIGHTS_FILE).read_text("utf-8")
    return Prior.from_json(json.loads(text))


# Fitting: FTRL-proximal logistic regression (McMahan et al., 2013), per coordinate, in a fixed order.
# Chosen for being short, exact to reproduce and sparse (its L1 drops the words that do not help).
ALPHA = 0.05
BETA = 1.0
L1 = 3.0
L2 = 10.0
EPOCHS = 5


def fit(rows: Sequence[tuple[frozenset[str], int]], *, alpha: float = ALPHA, beta: float = BETA,
        l1: float = L1, l2: float = L2, epochs: int = EPOCHS) -> tuple[float, dict[str, float]]:
    """Fit (bias, weights) to ``rows`` of (features, 1 if the lower tier serves else 0)."""
    # Features are numbered once and their state kept in lists; each row's are sorted once, not
    # once an epoch. The updates are the same, in the same order, so the weights are the same to
    # the last bit, in less time: the fitter runs this 50 times a refit.
    index: dict[str, int] = {"<bias>": 0}
    named = [([0, *(index.setdefault(name, len(index)) for name in sorted(found))], label)
             for found, label in rows]
    z = [0.0] * len(index)
    n = [0.0] * len(index)
    sqrt, copysign, sigmoid = math.sqrt, math.copysign, _sigmoid

    def weight(i: int) -> float:
        zi = z[i]
        if abs(zi) <= l1:
            return 0.0
        return -(zi - copysign(l1, zi)) / ((beta + sqrt(n[i])) / alpha + l2)

    for _ in range(epochs):
        for features, label in named:
            current = [weight(i) for i in features]
            g = sigmoid(sum(current)) - label
            gg = g * g
            for i, wi in zip(features, current, strict=True):
                ni = n[i]
                z[i] = z[i] + g - (sqrt(ni + gg) - sqrt(ni)) / alpha * wi
                n[i] = ni + gg
    weights = {name: round(w, 5) for name, i in sorted(index.items()) if (w := weight(i)) != 0.0}
    return weights.pop("<bias>", 0.0), weights


def common_features(rows: Iterable[tuple[str, frozenset[str]]],
                    households: int = MIN_HOUSEHOLDS) -> frozenset[str]:
    """The features in the rows of at least ``households`` distinct households (row: household, features)."""
    seen: dict[str, set[str]] = {}
    for household, found in rows:
        for name in found:
            seen.setdefault(name, set()).add(household)
    return frozenset(name for name, where in seen.items() if len(where) >= households)
