"""The learned prior: its features, its fitting, its verdicts, and how the router asks it."""

from __future__ import annotations

import pytest
from octoroute.config import RoutingConfig
from octoroute.metrics import Metrics
from octoroute.routing.prior import (
    FEATURE_CHARS,
    Prior,
    TierModel,
    common_features,
    features,
    fit,
    shipped_prior,
)
from octoroute.routing.router import RouteInput, Router
from octoroute.routing.scorer import Score
from prometheus_client import CollectorRegistry

DEEP = Score("deep", "code", 0.8, "code, difficulty 3 (concurrency)", 3, (), "")
BALANCED = Score("balanced", "question_answer", 0.3, "question_answer, difficulty 0; unsure, biased up", 0,
                 (), "")
FAST = Score("fast", "casual_chat", 0.9, "casual_chat, difficulty 0", 0, (), "")


def test_features_are_the_heads_words_and_the_scorers_verdict() -> None:
    text = "Fix this Race condition " + "x " * FEATURE_CHARS + "tailword"
    found = features(text, DEEP, tokens=300, conversation=True)
    assert {"w:fix", "w:race", "w:condition", "k:code", "r:concurrency", "r:difficulty",
            "c:conversation"} <= found
    assert "w:tailword" not in found  # past the head: not read
    assert "n:9" in found  # 300 tokens: a size bucket, not the count
    assert "c:conversation" not in features("hi", FAST, tokens=1, conversation=False)


def test_fit_learns_which_words_say_the_lower_tier_serves() -> None:
    rows = [(frozenset({"w:thanks", "k:chat"}), 1), (frozenset({"w:proof", "k:chat"}), 0)] * 200
    bias, weights = fit(rows)
    model = TierModel(bias, weights, 0.5)
    # Its L2 penalty keeps it from certainty on 400 rows; the direction and the margin are the point.
    assert model.probability({"w:thanks", "k:chat"}) > 0.8
    assert model.probability({"w:proof", "k:chat"}) < 0.2
    assert fit(rows) == (bias, weights)  # deterministic: the same rows, the same prior


def test_fit_drops_what_does_not_help() -> None:
    # "k:chat" is on every row, half of them each way: the L1 penalty leaves it no weight.
    rows = [(frozenset({"w:thanks", "k:chat"}), 1), (frozenset({"w:proof", "k:chat"}), 0)] * 200
    _, weights = fit(rows)
    assert "k:chat" not in weights and {"w:thanks", "w:proof"} <= set(weights)


def test_a_word_counts_only_when_several_households_use_it() -> None:
    rows = [("a", frozenset({"w:thanks", "w:bogdan"})), ("b", frozenset({"w:thanks", "w:bogdan"})),
            ("c", frozenset({"w:thanks"})), ("c", frozenset({"w:gran"})), ("c", frozenset({"w:gran"}))]
    assert common_features(rows, households=3) == frozenset({"w:thanks"})
    assert common_features(rows, households=2) == frozenset({"w:thanks", "w:bogdan"})


def toy_prior(threshold: float = 0.9) -> Prior:
    """Sure that an ask with "thanks" or "consensus" needs nothing bigger; unsure of anything else."""
    model = TierModel(0.0, {"w:thanks": 5.0, "w:consensus": 5.0}, threshold)
    return Prior({"deep": model, "balanced": model})


def test_verdict_moves_one_step_down_only_at_or_above_the_threshold() -> None:
    prior = toy_prior()
    moved = prior.verdict("thanks a lot", DEEP, tokens=3, conversation=False)
    assert moved is not None and (moved.tier, moved.moved) == ("balanced", True)
    assert moved.p_lower > 0.99
    assert moved.reason("deep").startswith("learned prior: balanced serves it (p 0.99")
    kept = prior.verdict("prove it", BALANCED, tokens=2, conversation=False)
    assert kept is not None and (kept.tier, kept.moved, kept.p_lower) == ("balanced", False, 0.5)
    assert kept.reason("balanced") == "learned prior kept balanced (p fast serves 0.500 < 0.900)"
    assert prior.verdict("thanks", FAST, tokens=1, conversation=False) is None  # nothing below fast


def test_from_json_names_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="'models' must map"):
        Prior.from_json({"models": {"fast": {"bias": 0, "weights": {}, "threshold": 0.5}}})
    prior = Prior.from_json({"models": {"deep": {"bias": 0, "weights": {"w:thanks": 5}, "threshold": 0.9}}})
    assert prior.verdict("thanks", DEEP, tokens=1, conversation=False).moved  # type: ignore[union-attr]
    assert prior.verdict("thanks", BALANCED, tokens=1, conversation=False) is None  # no balanced model


def test_the_shipped_prior_lowers_balanced() -> None:
    # Deep has a model only when leaving households out finds moves worth making (fitprior.RATIO).
    verdict = shipped_prior().verdict("hello", BALANCED, tokens=2, conversation=False)
    assert verdict is not None and 0.5 < verdict.threshold < 1.0


def router_with(prior: Prior | None, **routing: object) -> Router:
    config = RoutingConfig(**{"strategy": "rule", **routing})  # type: ignore[arg-type]
    return Router(config, None, Metrics(CollectorRegistry()), lambda: 0.0, {}, prior=prior)


# The seed README's deep ask: the scorer sends it to deep; the toy prior is sure of "consensus".
DEEP_ASK = "Design a distributed consensus algorithm"


def test_the_router_lowers_the_scorers_tier_when_the_prior_is_sure() -> None:
    plain = router_with(None).route(RouteInput(text=DEEP_ASK, importance="normal"))
    assert plain.tier == "deep"
    lowered = router_with(toy_prior()).route(RouteInput(text=DEEP_ASK, importance="normal"))
    assert lowered.tier == "balanced" and lowered.rule == "scorer"
    assert "learned prior: balanced serves it" in lowered.reason
    assert router_with(toy_prior(threshold=0.999999)).route(
        RouteInput(text=DEEP_ASK, importance="normal")).tier == "deep"


@pytest.mark.parametrize("inp", [
    RouteInput(text=DEEP_ASK, importance="high"),  # the client's word
    RouteInput(text=DEEP_ASK, importance="normal", task_type="math"),  # the client's word
])
def test_the_prior_never_second_guesses_a_clients_hint(inp: RouteInput) -> None:
    # No preset: the default one's rule for importance high would decide before the scorer.
    decision = router_with(toy_prior(), rules_preset="none").route(inp)
    assert decision.tier == "deep" and "learned prior" not in decision.reason


def test_the_prior_is_not_asked_by_the_brain_strategies_and_explain_says_so() -> None:
    router = router_with(toy_prior())
    decision, scored, layers = router.explain(RouteInput(text=DEEP_ASK, importance="normal"))
    assert scored.tier == "deep" and decision.tier == "balanced"
    prior_layer = next(layer for layer in layers if layer.name == "prior")
    assert prior_layer.verdict == "balanced" and prior_layer.detail.startswith("learned prior: balanced")
    _, _, layers = router.explain(RouteInput(text=DEEP_ASK, importance="normal"), strategy="llm")
    assert next(layer for layer in layers if layer.name == "prior").detail == "not used by strategy llm"
    _, _, layers = router_with(None).explain(RouteInput(text=DEEP_ASK, importance="normal"))
    assert next(layer for layer in layers if layer.name == "prior").detail.startswith("off")


def test_a_decision_weighs_exactly_the_features_fitting_names() -> None:
    """The router's sum (no feature names built) and the fitter's named features agree, prompt by prompt."""
    prior = shipped_prior()
    for text, scored, tokens, conversation in [
            ("Kannst du mir bitte erklären, warum mein Sauerteig nicht aufgeht? thanks", BALANCED, 20, False),
            ("fix the deadlock in this Go pool\nfunc main() { ch := make(chan int) }", BALANCED, 30, True),
            ("x" * 5000, BALANCED, 1250, False)]:
        model = prior.model(scored.tier)
        verdict = prior.verdict(text, scored, tokens, conversation)
        assert model is not None and verdict is not None
        named = features(text, scored, tokens, conversation)
        assert verdict.p_lower == pytest.approx(model.probability(named))
