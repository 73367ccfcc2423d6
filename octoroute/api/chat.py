"""``POST /chat``: the seed's simple API, one prompt in, one answer out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import falcon

from octoroute.api.access import ChatSlots
from octoroute.api.accounting import account
from octoroute.api.body import read_json
from octoroute.api.openai import DEGRADED_HEADER, set_decision_headers
from octoroute.api.schemas import validate_chat
from octoroute.backends.client import BackendClient, completion_text, usage_of
from octoroute.backends.context import ContextNeed
from octoroute.backends.failover import Dispatcher, Served
from octoroute.config import Config
from octoroute.errors import UpstreamUnavailable
from octoroute.metrics import Metrics
from octoroute.routing.models import ModelChoice, resolve_model
from octoroute.routing.router import Decision, RouteInput, Router
from octoroute.stats import Stats

Answer = tuple[str, int | None, tuple[int, int] | None]  # text, completion tokens, usage (in, out)


class ChatResource:
    """Validate, route, dispatch, answer; everything else lives elsewhere."""

    def __init__(self, config: Config, router: Router, dispatcher: Dispatcher, metrics: Metrics,
                 clock: Callable[[], float], slots: ChatSlots, *, stats: Stats | None = None) -> None:
        self._config = config
        self._stats = stats
        self._slots = slots
        self._router = router
        self._dispatcher = dispatcher
        self._metrics = metrics
        self._clock = clock

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = validate_chat(read_json(req, self._config.server.max_body_bytes))
        fields = req.context.log_fields
        fields["prompt_chars"] = len(data["prompt"])
        choice = resolve_model(data.get("model"), self._config)
        importance = data.get("importance") or self._config.routing.default_importance
        deadline = req.context.started + self._config.server.request_timeout_seconds
        # The slot first: an overloaded router must say 429 before it asks the router brain.
        self._slots.enter()
        try:
            decision, served = self._route_and_send(data, choice, importance, deadline, fields, req)
        finally:
            self._slots.leave()
        text, tokens, usage = served.value
        endpoint = served.endpoint
        fields.update(tier=endpoint.tier, endpoint=endpoint.id, attempts=len(served.attempts))
        tokens_in, tokens_out, estimated = account(
            self._stats, api="chat", request_id=req.context.request_id, decision=decision,
            endpoint=endpoint, attempts=served.attempts, usage=usage, prompt_chars=len(data["prompt"]),
            answer_chars=len(text), duration_s=self._clock() - req.context.started, status=200,
            prompt=data["prompt"])
        fields.update(tokens_in=tokens_in, tokens_out=tokens_out)
        if estimated:
            fields["tokens_estimated"] = True
        self._metrics.requests.labels(tier=endpoint.tier, strategy=decision.strategy).inc()
        resp.set_header("X-Octoroute-Tier", endpoint.tier)
        resp.set_header("X-Octoroute-Endpoint", endpoint.id)
        resp.set_header("X-Octoroute-Strategy", decision.strategy)
        set_decision_headers(resp, decision)
        if served.degraded is not None:
            resp.set_header(DEGRADED_HEADER, served.degraded)
        resp.media = {
            "response": text,
            "model_used": endpoint.name,
            "tier": endpoint.tier,
            "routed_tier": decision.tier,
            "endpoint": endpoint.id,
            "routing_strategy": decision.strategy,
            "rule": decision.rule,
            "routing_confidence": decision.confidence,
            "routing_reason": decision.reason,
            "task_type": decision.task_type,
            "task_type_inferred": decision.task_type_inferred,
            "importance": decision.importance,
            "token_count": tokens if tokens is not None else len(text) // 4,
            "token_count_estimated": tokens is None,
            "processing_time_ms": round((self._clock() - req.context.started) * 1000.0, 1),
            "routing_time_ms": round(decision.duration_ms, 3),
            "attempts": len(served.attempts),
            "request_id": req.context.request_id,
            "warnings": list(decision.warnings) + list(served.warnings),
            "degraded": served.degraded,
        }

    def _route_and_send(self, data: dict[str, Any], choice: ModelChoice, importance: str,
                        deadline: float, fields: dict[str, Any], req: falcon.Request
                        ) -> tuple[Decision, Served[Answer]]:
        prompt: str = data["prompt"]
        decision, target = self._router.decide(
            choice, RouteInput(text=prompt, importance=importance, task_type=data.get("task_type"),
                               headers=req.headers),
            deadline=deadline)
        fields.update(strategy=decision.strategy, routed_tier=decision.tier,
                      task_type=decision.task_type, rule=decision.rule)
        temperature = data.get("temperature")
        max_tokens = data.get("max_tokens")
        need = ContextNeed(chars=len(prompt), messages=1, max_tokens=max_tokens)
        context = self._dispatcher.context

        def send(client: BackendClient, timeout: float) -> Answer:
            e = client.endpoint
            body = {"model": e.name, "messages": [{"role": "user", "content": prompt}],
                    "temperature": e.temperature if temperature is None else temperature,
                    "max_tokens": e.max_tokens if max_tokens is None else min(max_tokens, e.max_tokens),
                    "stream": False}
            reply = client.chat(json.dumps(body).encode(), timeout=timeout)
            context.learn_usage(e.id, need, reply.data)
            self._dispatcher.prefill.observe_timings(e.id, reply.data)
            return (*completion_text(reply.data), usage_of(reply.data))

        try:
            return decision, self._dispatcher.run(target, send, deadline=deadline, need=need,
                                                  gone=req.env.get("waitress.client_disconnected"))
        except UpstreamUnavailable as exc:
            fields["attempts"] = len(exc.attempts)
            account(self._stats, api="chat", request_id=req.context.request_id, decision=decision,
                    endpoint=None, attempts=exc.attempts, usage=None, prompt_chars=0, answer_chars=0,
                    duration_s=self._clock() - req.context.started, status=exc.status, prompt=prompt)
            raise
