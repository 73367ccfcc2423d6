"""Compose the strategies: rule, llm, hybrid and tool.

Layers, cheapest first: an explicit model or tier; the TOML rules (the
user's, then the preset's; first match wins); the built-in scorer, which
always has an answer and a confidence; and, under ``hybrid``, the router
brain only when that confidence is low (``llm`` and ``tool`` always ask it).
An explicit ``importance: "high"`` never routes below balanced.

The router never fails a request: when the router brain is down, slow or
talks nonsense, the decision is the scorer's (hybrid) or ``default_tier``
(llm, tool) with a warning, and the failure is counted. Routing only picks a tier; which endpoint serves it is
the dispatcher's business.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple, Protocol

from octoroute.backends.client import BackendClient, usage_of
from octoroute.backends.failover import Dispatcher, Target
from octoroute.config import TIERS, RoutingConfig
from octoroute.errors import RouterBrainError, UpstreamUnavailable
from octoroute.metrics import DECISION_LAYERS, STRATEGY_LABELS, Metrics
from octoroute.routing import brain
from octoroute.routing.models import ModelChoice
from octoroute.routing.prior import Prior, Verdict
from octoroute.routing.rules import RuleFacts, compile_rules, estimate_tokens, first_match
from octoroute.routing.scorer import HARD, Score, scan_text, score
from octoroute.routing.semantic import CalibrationProbe, SemanticProbe

log = logging.getLogger("octoroute.routing")
_HIGH_FLOOR = "; importance high: at least balanced"


NO_HEADERS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class RouteInput:
    """What routing looks at; built by each API from its own request shape."""

    text: str  # the prompt, or the last user turn of a conversation
    importance: str
    task_type: str | None = None  # None: infer from ``text``
    token_estimate: int | None = None  # None: estimate from ``text``
    task_type_inferred: bool = False  # the caller inferred ``task_type`` itself
    has_tools: bool = False  # the request offers tools
    has_images: bool = False  # the conversation holds an image part
    json_response: bool = False  # response_format asks for JSON
    headers: Mapping[str, str] = field(default_factory=lambda: NO_HEADERS)  # names upper-cased (falcon)
    turns: int = 1  # user turns in the conversation
    context: str = ""  # system prompt and earlier user turns (an excerpt), for follow-ups

    def tokens(self) -> int:
        """The size routing weighs: the caller's estimate (a conversation: all of it), else the text's."""
        return estimate_tokens(self.text) if self.token_estimate is None else self.token_estimate


class Decision(NamedTuple):
    """One routing decision; a named tuple because one is built per request (a
    frozen dataclass took 3.4 µs to construct, a named tuple under 1 µs)."""

    tier: str
    strategy: str  # rule | llm | tool | default | explicit
    task_type: str
    task_type_inferred: bool
    importance: str
    token_estimate: int
    rule: str | None = None  # the TOML rule, "scorer", or None (brain, explicit, default)
    warnings: tuple[str, ...] = ()
    brain_endpoint: str | None = None
    duration_ms: float = 0.0
    confidence: float = 1.0  # 0..1: how sure the deciding layer is
    reason: str = ""  # short, never prompt text
    # The router brain, when consulted: "answered", "cached" or "failed"; and the
    # scorer's own tier then, so /stats can say how often the two agree.
    brain: str | None = None
    scorer_tier: str | None = None


class Layer(NamedTuple):
    """One layer's verdict, for ``octoroute route --explain``."""

    name: str  # explicit | rules | scorer | brain | floor
    verdict: str  # a tier, or "-" when the layer did not decide
    detail: str


class Brain(Protocol):
    def ask(self, inp: RouteInput, task_type: str, tokens: int, *, use_tool: bool,
            deadline: float | None = None) -> tuple[str, str]:
        """Return (tier, endpoint id) or raise ``RouterBrainError``."""


class Semantic(Protocol):
    def inspect(self, text: str, *, deadline: float) -> SemanticProbe:
        """The nearest exemplars' vote and how the lookup ended; only outcome "verdict" decides."""

    @property
    def calibrates(self) -> bool:
        """Whether ``calibrate`` may move a scorer decision (a labelled bank is configured)."""

    def calibrate(self, text: str, tier: str, *, deadline: float) -> CalibrationProbe:
        """The scorer's tier checked against the nearest labelled prompts; outcome "calibrated" moves it."""


SEMANTIC_MAX_WAIT_S = 5.0  # seconds; a bound when the caller gave no deadline (the layer's own is lower)


class LLMBrain:
    """Asks an endpoint of ``router_tier`` through the dispatcher (failures count toward health)."""

    def __init__(self, config: RoutingConfig, dispatcher: Dispatcher, clock: Callable[[], float],
                 metrics: Metrics | None = None) -> None:
        self._config = config
        self._dispatcher = dispatcher
        self._clock = clock
        self._metrics = metrics

    def ask(self, inp: RouteInput, task_type: str, tokens: int, *, use_tool: bool,
            deadline: float | None = None) -> tuple[str, str]:
        question = brain.build_question(inp.text, task_type=task_type, importance=inp.importance,
                                        tokens=tokens)

        def send(client: BackendClient, timeout: float) -> tuple[str | None, str]:
            payload = brain.question_payload(client.endpoint.name, question, use_tool=use_tool)
            reply = client.chat(json.dumps(payload).encode(), timeout=timeout)
            answer = brain.answer_tier(reply.data)
            if self._metrics is not None:
                # What asking costs, on the endpoint that answered: from its usage, else
                # estimated from what was sent and what came back.
                tokens_in, tokens_out = usage_of(reply.data) or (
                    estimate_tokens(question), estimate_tokens(answer[1]))
                counted = self._metrics.brain_tokens
                counted.labels(endpoint=client.endpoint.id, direction="in").inc(tokens_in)
                counted.labels(endpoint=client.endpoint.id, direction="out").inc(tokens_out)
            return answer

        own = self._clock() + self._config.router_timeout_seconds
        deadline = own if deadline is None else min(deadline, own)
        try:
            served = self._dispatcher.run(Target.for_tier(self._config.router_tier, fallback=False),
                                          send, deadline=deadline, busy=False)
        except UpstreamUnavailable as exc:
            timed_out = exc.status == 504 or (
                bool(exc.attempts) and all(a.get("outcome") == "timeout" for a in exc.attempts))
            reason = "timeout" if timed_out else "unavailable"
            raise RouterBrainError(f"router brain {reason}: {exc.message}", reason=reason) from None
        tier, seen = served.value
        if tier is None:
            log.debug("router brain %s gave an unusable answer: %s", served.endpoint.id, seen)
            raise RouterBrainError(f"router brain answer unusable ({seen})", reason="unusable")
        return tier, served.endpoint.id


class BrainCache:
    """A bounded LRU of router-brain answers, keyed by a hash of what was asked.

    Only the 16-byte BLAKE2 digest of the routed text (with importance, task
    type and the asking style) is kept, never the text itself.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[bytes, tuple[str, str]] = OrderedDict()
        self._entries_lock = threading.Lock()

    @staticmethod
    def key(inp: RouteInput, task_type: str, use_tool: bool) -> bytes:
        head = f"{int(use_tool)}\0{inp.importance}\0{task_type}\0".encode()
        digest = hashlib.blake2b(head, digest_size=16)
        # surrogatepass: a lone surrogate from a JSON body must not break the hash.
        digest.update(inp.text.encode("utf-8", "surrogatepass"))
        return digest.digest()

    def get(self, key: bytes) -> tuple[str, str] | None:
        with self._entries_lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: bytes, answer: tuple[str, str]) -> None:
        with self._entries_lock:
            self._entries[key] = answer
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._entries_lock:
            return len(self._entries)


class Router:
    """Decides a tier for each request with the configured strategy."""

    def __init__(self, config: RoutingConfig, brain_: Brain | None, metrics: Metrics,
                 clock: Callable[[], float], endpoint_tiers: Mapping[str, str], *,
                 semantic: Semantic | None = None, prior: Prior | None = None) -> None:
        self._config = config
        self._semantic = semantic
        self._prior = prior
        self._endpoint_tiers = endpoint_tiers
        self._brain = brain_
        self._metrics = metrics
        self._clock = clock
        self._rules = compile_rules(config.rules, config.rules_preset)
        self._cache = BrainCache(config.brain_cache_size) if config.brain_cache_size else None
        # The histogram child per strategy, looked up once: a labels() call per
        # decision was a third of a rule decision's own cost.
        self._duration = {s: metrics.routing_duration.labels(strategy=s) for s in STRATEGY_LABELS}
        self._decisions = {(layer, tier): metrics.routing_decisions.labels(layer=layer, tier=tier)
                           for layer in DECISION_LAYERS for tier in TIERS}

    def decide(self, choice: ModelChoice, inp: RouteInput, *,
               deadline: float | None = None) -> tuple[Decision, Target]:
        """The decision and the dispatch target for a resolved ``model`` choice.

        An explicit tier fails over within that tier only; an explicit endpoint
        is tried alone; a routed tier may fall back to its neighbours.
        """
        if not choice.explicit:
            decision = self.route(inp, deadline=deadline)
            return decision, Target.for_tier(decision.tier, fallback=True)
        tokens = inp.tokens()
        task_type = inp.task_type if inp.task_type is not None else self._score(inp, tokens).task_type
        if choice.endpoint_id is not None:
            tier = self._endpoint_tiers[choice.endpoint_id]
            target = Target.for_endpoint(choice.endpoint_id)
            reason = f"model names endpoint {choice.endpoint_id}"
        else:
            assert choice.tier is not None
            tier = choice.tier
            target = Target.for_tier(tier, fallback=False)
            reason = f"model names tier {tier}"
        self._duration["explicit"].observe(0.0)
        self._metrics.routing_decisions.labels(layer="explicit", tier=tier).inc()
        inferred = inp.task_type is None or inp.task_type_inferred
        return Decision(tier, "explicit", task_type, inferred, inp.importance, tokens,
                        reason=reason), target

    def route(self, inp: RouteInput, *, strategy: str | None = None,
              deadline: float | None = None) -> Decision:
        """Decide a tier; ``deadline`` (clock time) bounds a router-brain call."""
        started = self._clock()
        strategy = strategy or self._config.strategy
        inferred = inp.task_type is None or inp.task_type_inferred
        tokens = inp.tokens()
        scored = self._score(inp, tokens)
        task_type = inp.task_type if inp.task_type is not None else scored.task_type
        if strategy in ("llm", "tool"):
            decision, layer = self._ask_brain(inp, task_type, inferred, tokens, use_tool=strategy == "tool",
                                              deadline=deadline, fallback=None)
            decision = decision._replace(scorer_tier=scored.tier)
        else:
            scored = self._second_opinion(inp, scored, tokens, inferred)
            rule = first_match(self._rules, self._facts(inp, task_type, tokens))
            unsure = (rule is None and strategy == "hybrid"
                      and scored.confidence < self._config.brain_confidence)
            semantic_note = ""
            if (rule is None and strategy == "hybrid" and self._semantic is not None
                    and self._semantic.calibrates and inferred and inp.importance != "high"):
                # Every scorer decision, not only unsure ones: the labelled prompts most like this
                # one say whether the tier a step down (or up) serves them. Client hints
                # (task_type, importance high) are the client's word and are not second-guessed.
                wait = deadline if deadline is not None else self._clock() + SEMANTIC_MAX_WAIT_S
                calibrated = self._semantic.calibrate(inp.text, scored.tier, deadline=wait).calibration
                if calibrated is not None and calibrated.moved and not _held_deep(scored, calibrated.tier):
                    decision = Decision(calibrated.tier, "semantic", task_type, inferred, inp.importance,
                                        tokens, "semantic:calibrated", confidence=calibrated.share,
                                        reason=f"{scored.reason}; {calibrated.reason}")
                    return self._finish(decision._replace(scorer_tier=scored.tier), "semantic", started)
            if unsure and self._semantic is not None:
                # The nearest exemplars, before the brain: milliseconds, under their own timeout.
                wait = deadline if deadline is not None else self._clock() + SEMANTIC_MAX_WAIT_S
                probe = self._semantic.inspect(inp.text, deadline=wait)
                verdict = probe.verdict
                if probe.outcome == "verdict" and verdict is not None:
                    decision = Decision(verdict.tier, "semantic", task_type, inferred, inp.importance, tokens,
                                        f"semantic:{verdict.exemplar}", confidence=verdict.confidence,
                                        reason=f"scorer unsure ({scored.confidence:.2f}); {verdict.reason}")
                    return self._finish(decision, "semantic", started)
                semantic_note = _semantic_note(probe)
            if not unsure or self._brain is None:
                # The hot path: no brain; one Decision, built once, with its own duration.
                tier = rule.tier if rule is not None else scored.tier
                reason = f"rule {rule.name} matched" if rule is not None else scored.reason
                if semantic_note:
                    reason += "; " + semantic_note
                if inp.importance == "high" and tier == "fast":
                    tier, reason = "balanced", reason + _HIGH_FLOOR
                ms = (self._clock() - started) * 1000.0
                self._duration["rule"].observe(ms)
                self._decisions[("rule" if rule is not None else "scorer", tier)].inc()
                return Decision(tier, "rule", task_type, inferred, inp.importance, tokens,
                                rule.name if rule is not None else "scorer", duration_ms=ms,
                                confidence=1.0 if rule is not None else scored.confidence, reason=reason)
            decision, layer = self._ask_brain(inp, task_type, inferred, tokens, use_tool=False,
                                              deadline=deadline, fallback=scored, note=semantic_note)
            decision = decision._replace(scorer_tier=scored.tier)
        return self._finish(decision, layer, started)

    def _finish(self, decision: Decision, layer: str, started: float) -> Decision:
        """Apply the importance floor, time the decision and count it by layer."""
        if decision.importance == "high" and decision.tier == "fast":
            decision = decision._replace(tier="balanced", reason=decision.reason + _HIGH_FLOOR)
        ms = (self._clock() - started) * 1000.0
        self._duration[decision.strategy].observe(ms)
        self._decisions[(layer, decision.tier)].inc()
        return decision._replace(duration_ms=ms)

    def explain(self, inp: RouteInput, *, strategy: str | None = None,
                deadline: float | None = None) -> tuple[Decision, Score, list[Layer]]:
        """The decision, the scorer's signals and every layer's verdict (for the CLI)."""
        strategy = strategy or self._config.strategy
        tokens = inp.tokens()
        scored = self._score(inp, tokens, detail=True)
        task_type = inp.task_type if inp.task_type is not None else scored.task_type
        decision = self.route(inp, strategy=strategy, deadline=deadline)
        layers = [Layer("explicit", "-", "no model or tier named; importance " + inp.importance
                        + ("; task_type " + inp.task_type + " given" if inp.task_type else ""))]
        if strategy in ("llm", "tool"):
            layers.append(Layer("rules", "-", f"not used by strategy {strategy}"))
        else:
            rule = first_match(self._rules, self._facts(inp, task_type, tokens))
            own = len(self._config.rules)
            layers.append(Layer("rules", rule.tier if rule else "-",
                                f"rule {rule.name} matched" if rule else
                                f"none of {len(self._rules)} rules matched ({own} own, preset "
                                f"{self._config.rules_preset})"))
        layers.append(Layer("scorer", scored.tier, f"{scored.reason}; confidence {scored.confidence:.2f}"))
        layers.append(self._explain_prior(inp, strategy, scored, tokens))
        if self._semantic is not None and self._semantic.calibrates:
            layers.append(self._explain_calibration(inp, strategy, decision, scored, deadline))
        layers.append(self._explain_semantic(inp, strategy, decision, scored, deadline))
        if decision.strategy in ("llm", "tool") or decision.brain_endpoint or any(
                "router brain" in w for w in decision.warnings):
            layers.append(Layer("brain", decision.tier if decision.strategy in ("llm", "tool") else "-",
                                decision.reason or "; ".join(decision.warnings)))
        elif decision.strategy == "rule" and decision.rule != "scorer":
            layers.append(Layer("brain", "-", "not asked (a rule decided)"))
        elif decision.strategy == "semantic":
            layers.append(Layer("brain", "-", "not asked (the semantic layer decided)"))
        else:
            layers.append(Layer("brain", "-", "not asked" + (
                f" (confidence >= {self._config.brain_confidence})" if strategy == "hybrid" else
                f" (strategy {strategy})")))
        if "importance high" in decision.reason:
            layers.append(Layer("floor", decision.tier, "importance high: at least balanced"))
        return decision, scored, layers

    def _explain_prior(self, inp: RouteInput, strategy: str, scored: Score, tokens: int) -> Layer:
        """Whether the learned prior lowered the scorer's tier, with its probability and threshold."""
        if self._prior is None:
            return Layer("prior", "-", "off ([routing] learned_prior = false)")
        if strategy in ("llm", "tool"):
            return Layer("prior", "-", f"not used by strategy {strategy}")
        if not (inp.task_type is None or inp.task_type_inferred) or inp.importance == "high":
            return Layer("prior", "-", "not asked (the client's task_type or importance high decides)")
        verdict = self._prior_verdict(inp, scored, tokens, True)
        if verdict is None:
            why = "nothing below fast" if scored.tier == "fast" else f"no fitted model lowers {scored.tier}"
            return Layer("prior", "-", f"not asked ({why})")
        return Layer("prior", verdict.tier if verdict.moved else "-", verdict.reason(scored.tier))

    def _explain_calibration(self, inp: RouteInput, strategy: str, decision: Decision, scored: Score,
                             deadline: float | None) -> Layer:
        """What the nearest labelled prompts said about the scorer's tier, and whether it moved."""
        assert self._semantic is not None
        if strategy != "hybrid":
            return Layer("calibration", "-", f"not used by strategy {strategy}")
        if decision.strategy == "rule" and decision.rule not in ("scorer", None):
            return Layer("calibration", "-", "not asked (a rule decided)")
        if not (inp.task_type is None or inp.task_type_inferred) or inp.importance == "high":
            return Layer("calibration", "-", "not asked (the client's task_type or importance high decides)")
        # The route above embedded the prompt: this lookup is a cache hit.
        probe = self._semantic.calibrate(inp.text, scored.tier, deadline=deadline if deadline is not None
                                         else self._clock() + SEMANTIC_MAX_WAIT_S)
        found = probe.calibration
        if found is None:
            why = f" ({probe.detail})" if probe.detail else ""
            return Layer("calibration", "-", probe.outcome + why)
        nearest = ", ".join(f"{n.id} ({n.tier}, {n.similarity:.2f})" for n in found.neighbours)
        if _held_deep(scored, found.tier):
            held = f"not applied: {scored.task_type} stays on deep"
            return Layer("calibration", "-", f"{found.reason}; {held}; nearest {nearest}")
        return Layer("calibration", found.tier if found.moved else "-", f"{found.reason}; nearest {nearest}")

    def _explain_semantic(self, inp: RouteInput, strategy: str, decision: Decision, scored: Score,
                          deadline: float | None) -> Layer:
        """The semantic layer's vote, nearest exemplars and margin, and whether it decided."""
        if self._semantic is None:
            return Layer("semantic", "-", "not configured ([routing.semantic] enabled = false)")
        if strategy != "hybrid":
            return Layer("semantic", "-", f"not used by strategy {strategy}")
        # The route above embedded the prompt if it asked: this lookup is then a cache hit.
        probe = self._semantic.inspect(inp.text, deadline=deadline if deadline is not None
                                       else self._clock() + SEMANTIC_MAX_WAIT_S)
        decided = decision.strategy == "semantic"
        verdict = probe.verdict
        if verdict is None:
            return Layer("semantic", "-", _semantic_note(probe))
        nearest = ", ".join(f"{n.id} ({n.tier}, {n.similarity:.2f})" for n in verdict.neighbours)
        if decided:
            used = "decided"
        elif decision.rule not in ("scorer", None) and decision.strategy == "rule":
            used = "not asked (a rule decided)"
        elif scored.confidence >= self._config.brain_confidence:
            used = f"not asked (scorer confidence {scored.confidence:.2f} >= {self._config.brain_confidence})"
        else:
            used = "no verdict; the next layer decided"
        return Layer("semantic", verdict.tier if decided else "-",
                     f"{probe.outcome}: {verdict.tier} by margin {verdict.confidence:.2f} ({probe.detail}); "
                     f"nearest {nearest}; {used}")

    def scorer_verdict(self, inp: RouteInput) -> Score:
        """The scorer's own verdict on ``inp``, before the learned prior (what ``scripts/fit-prior`` fits)."""
        tokens = inp.tokens()
        return self._score(inp, tokens)

    def _prior_verdict(self, inp: RouteInput, scored: Score, tokens: int, inferred: bool) -> Verdict | None:
        """The learned prior's opinion; None when it is off, the client hinted, or nothing is below."""
        if self._prior is None or not inferred or inp.importance == "high":
            return None
        return self._prior.verdict(inp.text, scored, tokens, bool(inp.context))

    def _second_opinion(self, inp: RouteInput, scored: Score, tokens: int, inferred: bool) -> Score:
        """The scorer's verdict, one tier lower when the learned prior is sure the lower one serves."""
        verdict = self._prior_verdict(inp, scored, tokens, inferred)
        if verdict is None or not verdict.moved:
            return scored
        return scored._replace(tier=verdict.tier, reason=f"{scored.reason}; {verdict.reason(scored.tier)}")

    def _score(self, inp: RouteInput, tokens: int, *, detail: bool = False) -> Score:
        explicit = None if inp.task_type_inferred else inp.task_type
        return score(inp.text, tokens=tokens, task_type=explicit, context=inp.context,
                     has_tools=inp.has_tools, json_response=inp.json_response, detail=detail)

    @staticmethod
    def _facts(inp: RouteInput, task_type: str, tokens: int) -> RuleFacts:
        # Rules see what the scorer sees: a 2 MB prompt is not searched end to end per rule.
        return RuleFacts(scan_text(inp.text), task_type, inp.importance, tokens, inp.has_tools,
                         inp.has_images, inp.json_response, inp.headers, inp.turns)

    def _ask_brain(self, inp: RouteInput, task_type: str, inferred: bool, tokens: int, *,
                   use_tool: bool, deadline: float | None, fallback: Score | None,
                   note: str = "") -> tuple[Decision, str]:
        """Ask the brain (or its cache); on failure fall back to ``fallback`` or ``default_tier``.

        ``note``: what a layer before it said (the semantic layer's outcome), for the reason.
        """
        label = "tool" if use_tool else "llm"
        unsure = f"scorer unsure ({fallback.confidence:.2f}): {fallback.reason}; " if fallback else ""
        unsure += f"{note}; " if note else ""
        if self._brain is None:
            reason = "router brain is not configured"
            self._metrics.router_failures.labels(reason="unavailable").inc()
            return self._fallback(inp, task_type, inferred, tokens, fallback, reason, note)._replace(
                brain="failed"), "fallback"
        key = BrainCache.key(inp, task_type, use_tool) if self._cache is not None else b""
        cached = self._cache.get(key) if self._cache is not None else None
        if cached is not None:
            tier, endpoint_id = cached
            return Decision(tier, label, task_type, inferred, inp.importance, tokens,
                            brain_endpoint=endpoint_id, confidence=0.8, brain="cached",
                            reason=f"{unsure}router brain said {tier} (cached)"), "brain_cache"
        try:
            tier, endpoint_id = self._brain.ask(inp, task_type, tokens, use_tool=use_tool, deadline=deadline)
        except RouterBrainError as exc:
            self._metrics.router_failures.labels(reason=exc.reason).inc()
            return self._fallback(inp, task_type, inferred, tokens, fallback, exc.message, note)._replace(
                brain="failed"), "fallback"
        if self._cache is not None:
            self._cache.put(key, (tier, endpoint_id))
        return Decision(tier, label, task_type, inferred, inp.importance, tokens, brain_endpoint=endpoint_id,
                        confidence=0.8, reason=f"{unsure}router brain said {tier}", brain="answered"), "brain"

    def _fallback(self, inp: RouteInput, task_type: str, inferred: bool, tokens: int,
                  fallback: Score | None, why: str, note: str = "") -> Decision:
        if fallback is not None:
            log.warning("router brain gave no usable answer; using the scorer's tier %s", fallback.tier)
            return Decision(fallback.tier, "rule", task_type, inferred, inp.importance, tokens, "scorer",
                            warnings=(f"{why}; used the scorer's tier {fallback.tier}",),
                            confidence=fallback.confidence,
                            reason=fallback.reason + (f"; {note}" if note else ""))
        default = self._config.default_tier
        log.warning("router brain gave no usable answer; using default tier %s", default)
        return Decision(default, "default", task_type, inferred, inp.importance, tokens,
                        warnings=(f"{why}; used default tier {default}",),
                        reason=f"router brain gave no usable answer; default tier {default}")


def _held_deep(scored: Score, tier: str) -> bool:
    """Whether calibration would take a hard kind off deep, which it may not.

    NOTE: the labelled sets' writers accept a mid model for textbook maths,
    puzzles and extraction; the judged benchmark says the large model wins
    there (MT-Bench, mixtral vs gpt-4: 2.0 points of 10 on maths, 2.35 on
    code). Measured leaving out each written-apart set in turn, calibrating
    every kind: 91.8% acceptable against the scorer's 88.2%, but the
    benchmark's per-turn lift on the even half fell from +0.385 to +0.228,
    below the +0.30 target; holding maths, code, reasoning and extraction
    on deep: 89.0%, and the lift unchanged on every half.
    """
    return scored.tier == "deep" and tier != "deep" and scored.task_type in HARD


def _semantic_note(probe: SemanticProbe) -> str:
    """How a semantic lookup that did not decide ended, for a decision's reason."""
    if probe.verdict is not None:
        vote = probe.verdict
        return f"semantic unsure: {vote.tier} by margin {vote.confidence:.2f} ({probe.detail})"
    return f"semantic {probe.outcome}" + (f" ({probe.detail})" if probe.detail else "")
