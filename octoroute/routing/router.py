"""Compose the strategies: rule, llm, hybrid and tool.

The router never fails a request: when the router brain is down, slow or
talks nonsense, the decision is ``default_tier`` with a warning, and the
failure is counted. Routing only picks a tier; which endpoint serves it is
the dispatcher's business.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from octoroute.backends.client import BackendClient
from octoroute.backends.failover import Dispatcher, Target
from octoroute.config import RoutingConfig
from octoroute.errors import RouterBrainError, UpstreamUnavailable
from octoroute.metrics import STRATEGY_LABELS, Metrics
from octoroute.routing import brain
from octoroute.routing.models import ModelChoice
from octoroute.routing.rules import apply_rules, estimate_tokens, infer_task_type

log = logging.getLogger("octoroute.routing")


@dataclass(frozen=True)
class RouteInput:
    """What routing looks at; built by each API from its own request shape."""

    text: str  # the prompt, or the last user turn (plus system prompt) of a conversation
    importance: str
    task_type: str | None = None  # None: infer from ``text``
    token_estimate: int | None = None  # None: estimate from ``text``
    task_type_inferred: bool = False  # the caller inferred ``task_type`` itself


class Decision(NamedTuple):
    """One routing decision; a named tuple because one is built per request (a
    frozen dataclass took 3.4 µs to construct, a named tuple under 1 µs)."""

    tier: str
    strategy: str  # rule | llm | tool | default | explicit
    task_type: str
    task_type_inferred: bool
    importance: str
    token_estimate: int
    rule: str | None = None
    warnings: tuple[str, ...] = ()
    brain_endpoint: str | None = None
    duration_ms: float = 0.0


class Brain(Protocol):
    def ask(self, inp: RouteInput, task_type: str, tokens: int, *, use_tool: bool,
            deadline: float | None = None) -> tuple[str, str]:
        """Return (tier, endpoint id) or raise ``RouterBrainError``."""


class LLMBrain:
    """Asks an endpoint of ``router_tier`` through the dispatcher (failures count toward health)."""

    def __init__(self, config: RoutingConfig, dispatcher: Dispatcher, clock: Callable[[], float]) -> None:
        self._config = config
        self._dispatcher = dispatcher
        self._clock = clock

    def ask(self, inp: RouteInput, task_type: str, tokens: int, *, use_tool: bool,
            deadline: float | None = None) -> tuple[str, str]:
        question = brain.build_question(inp.text, task_type=task_type, importance=inp.importance,
                                        tokens=tokens)

        def send(client: BackendClient, timeout: float) -> tuple[str | None, str]:
            payload = brain.question_payload(client.endpoint.name, question, use_tool=use_tool)
            reply = client.chat(json.dumps(payload).encode(), timeout=timeout)
            return brain.answer_tier(reply.data)

        own = self._clock() + self._config.router_timeout_seconds
        deadline = own if deadline is None else min(deadline, own)
        try:
            served = self._dispatcher.run(Target.for_tier(self._config.router_tier, fallback=False),
                                          send, deadline=deadline)
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


class Router:
    """Decides a tier for each request with the configured strategy."""

    def __init__(self, config: RoutingConfig, brain_: Brain | None, metrics: Metrics,
                 clock: Callable[[], float], endpoint_tiers: Mapping[str, str]) -> None:
        self._config = config
        self._endpoint_tiers = endpoint_tiers
        self._brain = brain_
        self._metrics = metrics
        self._clock = clock
        # The histogram child per strategy, looked up once: a labels() call per
        # decision was a third of a rule decision's own cost.
        self._duration = {s: metrics.routing_duration.labels(strategy=s) for s in STRATEGY_LABELS}

    def decide(self, choice: ModelChoice, inp: RouteInput, *,
               deadline: float | None = None) -> tuple[Decision, Target]:
        """The decision and the dispatch target for a resolved ``model`` choice.

        An explicit tier fails over within that tier only; an explicit endpoint
        is tried alone; a routed tier may fall back to its neighbours.
        """
        if not choice.explicit:
            decision = self.route(inp, deadline=deadline)
            return decision, Target.for_tier(decision.tier, fallback=True)
        task_type = infer_task_type(inp.text) if inp.task_type is None else inp.task_type
        tokens = estimate_tokens(inp.text) if inp.token_estimate is None else inp.token_estimate
        if choice.endpoint_id is not None:
            tier = self._endpoint_tiers[choice.endpoint_id]
            target = Target.for_endpoint(choice.endpoint_id)
        else:
            assert choice.tier is not None
            tier = choice.tier
            target = Target.for_tier(tier, fallback=False)
        self._duration["explicit"].observe(0.0)
        inferred = inp.task_type is None or inp.task_type_inferred
        return Decision(tier, "explicit", task_type, inferred, inp.importance, tokens), target

    def route(self, inp: RouteInput, *, strategy: str | None = None,
              deadline: float | None = None) -> Decision:
        """Decide a tier; ``deadline`` (clock time) bounds a router-brain call."""
        started = self._clock()
        strategy = strategy or self._config.strategy
        inferred = inp.task_type is None or inp.task_type_inferred
        task_type = infer_task_type(inp.text) if inp.task_type is None else inp.task_type
        tokens = estimate_tokens(inp.text) if inp.token_estimate is None else inp.token_estimate
        match = apply_rules(task_type, inp.importance, tokens) if strategy in ("rule", "hybrid") else None
        if match is not None or strategy == "rule":
            # The hot path: one Decision, built once, with its own duration.
            ms = (self._clock() - started) * 1000.0
            if match is not None:
                decision = Decision(match.tier, "rule", task_type, inferred, inp.importance, tokens,
                                    match.rule, duration_ms=ms)
            else:
                decision = Decision(self._config.default_tier, "default", task_type, inferred,
                                    inp.importance, tokens, duration_ms=ms)
            self._duration[decision.strategy].observe(ms)
            return decision
        decision = self._ask_brain(inp, task_type, inferred, tokens, use_tool=strategy == "tool",
                                   deadline=deadline)
        ms = (self._clock() - started) * 1000.0
        self._duration[decision.strategy].observe(ms)
        return Decision(decision.tier, decision.strategy, task_type, inferred, inp.importance, tokens,
                        decision.rule, decision.warnings, decision.brain_endpoint, ms)

    def _ask_brain(self, inp: RouteInput, task_type: str, inferred: bool, tokens: int, *,
                   use_tool: bool, deadline: float | None) -> Decision:
        label = "tool" if use_tool else "llm"
        if self._brain is None:
            reason = "router brain is not configured"
            self._metrics.router_failures.labels(reason="unavailable").inc()
            return Decision(self._config.default_tier, "default", task_type, inferred,
                            inp.importance, tokens, warnings=(reason,))
        try:
            tier, endpoint_id = self._brain.ask(inp, task_type, tokens, use_tool=use_tool,
                                                deadline=deadline)
        except RouterBrainError as exc:
            self._metrics.router_failures.labels(reason=exc.reason).inc()
            log.warning("router brain gave no usable answer (%s); using default tier %s",
                        exc.reason, self._config.default_tier)
            return Decision(self._config.default_tier, "default", task_type, inferred,
                            inp.importance, tokens,
                            warnings=(f"{exc.message}; used default tier {self._config.default_tier}",))
        return Decision(tier, label, task_type, inferred, inp.importance, tokens,
                        brain_endpoint=endpoint_id)
