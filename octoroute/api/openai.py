"""``/v1/chat/completions`` and ``/v1/models``: a drop-in OpenAI base URL.

The client's body is forwarded unchanged except ``model`` (the endpoint's
name) and ``max_tokens``/``max_completion_tokens`` (capped at the endpoint's
limit, only when the client sent them): ``forward_body``. The conversation is never
flattened and no field is dropped.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import falcon

from octoroute.api.access import ChatSlots
from octoroute.api.accounting import (
    UsageTap,
    account,
    answer_chars,
    messages_chars,
    with_usage_requested,
)
from octoroute.api.body import read_json
from octoroute.api.schemas import validate_openai_chat
from octoroute.api.streaming import CLIENT_DISCONNECTED, Reframer, StreamEnd, StreamRelay
from octoroute.api.watchdog import StreamWatchdog
from octoroute.backends.client import BackendClient, BackendReply, BackendStream, usage_of
from octoroute.backends.context import ContextBook, ContextNeed, need_for_messages
from octoroute.backends.failover import Dispatcher, Served, Target
from octoroute.backends.registry import Registry
from octoroute.config import IMPORTANCES, TIERS, Config
from octoroute.errors import BackendError, RequestError, UpstreamUnavailable
from octoroute.metrics import Metrics
from octoroute.routing.conversation import conversation_input
from octoroute.routing.models import AUTO, ModelChoice, resolve_model
from octoroute.routing.router import Decision, RouteInput, Router
from octoroute.routing.rules import TASK_TYPES
from octoroute.routing.sessions import SESSION_HEADER, SessionTracker, is_tool_continuation, session_key
from octoroute.routing.shadow import Shadow
from octoroute.stats import Stats

log = logging.getLogger("octoroute.api")

IMPORTANCE_HEADER = "X-Octoroute-Importance"
TASK_TYPE_HEADER = "X-Octoroute-Task-Type"
SESSION_RESPONSE_HEADER = "X-Octoroute-Session"
DEGRADED_HEADER = "X-Octoroute-Degraded"  # e.g. "deep->balanced (busy)": the routed tier was saturated


def request_hint(req: falcon.Request, header: str, allowed: tuple[str, ...]) -> str | None:
    value = req.get_header(header)
    if value is None:
        return None
    key = value.strip().lower()
    if key not in allowed:
        raise RequestError(f"header {header} must be one of: {', '.join(allowed)}",
                           param=header, code="invalid_header")
    return key


def forward_body(data: dict[str, Any], name: str, max_tokens: int) -> bytes:
    """The client's body for one endpoint: its model name, token limits capped.

    Every other field goes through as the client sent it (parsed, then encoded
    again): the conversation is never flattened and no field is dropped.
    """
    body = dict(data)
    body["model"] = name
    for key in ("max_tokens", "max_completion_tokens"):
        value = body.get(key)
        if isinstance(value, int) and value > max_tokens:
            body[key] = max_tokens
    # ASCII escapes: a lone surrogate from the client cannot break the encoding.
    return json.dumps(body).encode()


def context_need(data: dict[str, Any]) -> ContextNeed:
    """What an OpenAI chat body needs of a context window: its messages, tools and max tokens.

    Without the client's ``max_tokens`` nothing is sent for it, so nothing is reserved.
    """
    asked = data.get("max_completion_tokens", data.get("max_tokens"))
    max_tokens = asked if isinstance(asked, int) and not isinstance(asked, bool) else None
    return need_for_messages(data["messages"], max_tokens=max_tokens, tools=data.get("tools"),
                             reserve_default=False)


def _wants_json(data: dict[str, Any]) -> bool:
    """``response_format`` asks for JSON (json_object or json_schema)."""
    fmt = data.get("response_format")
    return isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema")


def set_decision_headers(resp: falcon.Response, decision: Decision) -> None:
    """The rule, confidence and reason of a routing decision, as response headers."""
    if decision.rule:
        resp.set_header("X-Octoroute-Rule", decision.rule)
    resp.set_header("X-Octoroute-Confidence", f"{decision.confidence:.2f}")
    if decision.reason:
        # Header values must be one line of visible ASCII; the reason never holds prompt text.
        text = decision.reason.encode("ascii", "replace").decode()
        resp.set_header("X-Octoroute-Reason", " ".join(text.split())[:300])


def as_client_error(exc: UpstreamUnavailable) -> Exception:
    """A backend's own 4xx (say, context too long) keeps its status under /v1.

    The OpenAI SDKs then raise BadRequestError and friends, as they would
    against the backend itself, instead of a generic 502 InternalServerError.
    """
    status = exc.backend_status
    if status is not None and 400 <= status < 500 and status != 429:
        return RequestError(exc.message, status=status, code="backend_rejected_request")
    return exc


def _check_completion(reply: BackendReply) -> BackendReply:
    choices = reply.data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise BackendError("answer has no choices", kind="bad_response")
    return reply


class ChatCompletionsResource:
    def __init__(self, config: Config, router: Router, dispatcher: Dispatcher, registry: Registry,
                 metrics: Metrics, clock: Callable[[], float], slots: ChatSlots,
                 watchdog: StreamWatchdog | None = None, *,
                 sessions: SessionTracker | None = None, shadow: Shadow[RouteInput] | None = None,
                 stats: Stats | None = None) -> None:
        self._config = config
        self._stats = stats
        self._watchdog = watchdog
        self._slots = slots
        self._router = router
        self._dispatcher = dispatcher
        self._registry = registry
        self._metrics = metrics
        self._clock = clock
        self._sessions = sessions
        self._shadow = shadow

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = validate_openai_chat(read_json(req, self._config.server.max_body_bytes))
        importance = (request_hint(req, IMPORTANCE_HEADER, IMPORTANCES)
                      or self._config.routing.default_importance)
        task_type = request_hint(req, TASK_TYPE_HEADER, TASK_TYPES)
        choice = resolve_model(data.get("model"), self._config)
        inp = conversation_input(data["messages"], importance=importance, task_type=task_type,
                                 has_tools=bool(data.get("tools")), json_response=_wants_json(data),
                                 headers=req.headers)
        fields = req.context.log_fields
        fields.update(api="openai", messages=len(data["messages"]), prompt_chars=len(inp.text))
        served = self._route_and_serve(req, resp, data, inp, choice, api="openai")
        if served is not None:
            resp.content_type = falcon.MEDIA_JSON
            resp.data = served.value.body

    def _route_and_serve(self, req: falcon.Request, resp: falcon.Response, data: dict[str, Any],
                         inp: RouteInput, choice: ModelChoice, *, api: str,
                         reframe: Reframer | None = None) -> Served[BackendReply] | None:
        """Route ``data`` (an OpenAI chat body) and serve it; account for it under ``api``.

        A stream is handed to its relay (``None`` comes back); a whole answer
        comes back ``Served``, its chat slot released and its tokens counted.
        """
        fields = req.context.log_fields
        deadline = req.context.started + self._config.server.request_timeout_seconds
        stream = bool(data.get("stream"))
        # The slot first: an overloaded router must say 429 before it asks the router brain.
        # A stream hands its slot to the relay, which gives it back when the stream ends.
        self._slots.enter()
        decision: Decision | None = None
        try:
            decision, target = self._router.decide(choice, inp, deadline=deadline)
            if not choice.explicit:
                decision, target = self._settle(req, resp, data, inp, decision, target)
            fields.update(strategy=decision.strategy, routed_tier=decision.tier,
                          task_type=decision.task_type, rule=decision.rule, stream=stream)
            need = context_need(data)
            if stream:
                self._stream(req, resp, data, decision, target, deadline, inp, need=need,
                             reframe=reframe, api=api)
                return None
            served = self._dispatcher.run(target, self._sender(data, need, self._dispatcher.context),
                                          deadline=deadline, need=need,
                                          gone=req.env.get("waitress.client_disconnected"))
            self._dispatcher.prefill.observe_timings(served.endpoint.id, served.value.data)
        except UpstreamUnavailable as exc:
            fields["attempts"] = len(exc.attempts)
            self._slots.leave()
            if decision is not None:
                account(self._stats, api=api, request_id=req.context.request_id, decision=decision,
                        endpoint=None, attempts=exc.attempts, usage=None, prompt_chars=0, answer_chars=0,
                        duration_s=self._clock() - req.context.started, status=exc.status,
                        stream=stream, prompt=inp.text)
            raise as_client_error(exc) from None
        except BaseException:
            self._slots.leave()
            raise
        self._slots.leave()
        self._served(req, resp, decision, served)
        reply = served.value
        usage = usage_of(reply.data)
        tokens_in, tokens_out, estimated = account(
            self._stats, api=api, request_id=req.context.request_id, decision=decision,
            endpoint=served.endpoint, attempts=served.attempts, usage=usage,
            prompt_chars=0 if usage else messages_chars(data["messages"]),
            answer_chars=0 if usage else answer_chars(reply.data),
            duration_s=self._clock() - req.context.started, status=200, prompt=inp.text)
        fields.update(tokens_in=tokens_in, tokens_out=tokens_out)
        if estimated:
            fields["tokens_estimated"] = True
        return served

    def _settle(self, req: falcon.Request, resp: falcon.Response, data: dict[str, Any], inp: RouteInput,
                decision: Decision, target: Target) -> tuple[Decision, Target]:
        """Offer the router's decision to the shadow, then hold it to the conversation's session."""
        if self._shadow is not None:
            self._shadow.submit(inp, decision.tier)
        if self._sessions is None:
            return decision, target
        messages = data["messages"]
        key = session_key(req.get_header(SESSION_HEADER), data.get("user"), messages)
        resp.set_header(SESSION_RESPONSE_HEADER, key)
        req.context.log_fields["session"] = key
        tier, note = self._sessions.settle(key, decision.tier,
                                           tool_continuation=is_tool_continuation(messages))
        if note is None and tier == decision.tier:
            return decision, target
        # NOTE: _replace is the named tuple's public API (underscored only to
        # stay clear of field names).
        warnings = decision.warnings if note is None else (*decision.warnings, note)
        return decision._replace(tier=tier, warnings=warnings), Target.for_tier(tier, fallback=True)

    @staticmethod
    def _sender(data: dict[str, Any], need: ContextNeed, context: ContextBook
                ) -> Callable[[BackendClient, float], BackendReply]:
        def send(client: BackendClient, timeout: float) -> BackendReply:
            e = client.endpoint
            reply = _check_completion(client.chat(forward_body(data, e.name, e.max_tokens),
                                                  timeout=timeout))
            context.learn_usage(e.id, need, reply.data)
            return reply
        return send

    def _served(self, req: falcon.Request, resp: falcon.Response, decision: Decision,
                served: Served[Any]) -> None:
        endpoint = served.endpoint
        req.context.log_fields.update(tier=endpoint.tier, endpoint=endpoint.id, attempts=len(served.attempts))
        self._metrics.requests.labels(tier=endpoint.tier, strategy=decision.strategy).inc()
        resp.set_header("X-Octoroute-Tier", endpoint.tier)
        resp.set_header("X-Octoroute-Endpoint", endpoint.id)
        resp.set_header("X-Octoroute-Strategy", decision.strategy)
        set_decision_headers(resp, decision)
        if served.degraded is not None:
            resp.set_header(DEGRADED_HEADER, served.degraded)
        warnings = list(decision.warnings) + list(served.warnings)
        if warnings:
            # Header values must be one line of visible ASCII.
            text = "; ".join(warnings).encode("ascii", "replace").decode()
            resp.set_header("X-Octoroute-Warnings", " ".join(text.split())[:500])

    def _stream(self, req: falcon.Request, resp: falcon.Response, data: dict[str, Any],
                decision: Decision, target: Any, deadline: float, inp: RouteInput, *,
                need: ContextNeed | None = None, reframe: Reframer | None = None,
                api: str = "openai") -> None:
        """Open the stream (failing over until its first byte) and hand it to a relay.

        ``reframe`` turns the backend's events into another API's (``/v1/messages``),
        whose tokens are accounted under ``api``.
        """
        idle = self._config.timeouts.stream_idle
        if need is None:
            need = context_need(data)
        # The usage chunk is asked for whether the client did or not (token accounting);
        # a client that did not ask never sees it.
        upstream_data, asked = with_usage_requested(data)
        tap = UsageTap(strip=not asked)

        def send(client: BackendClient, timeout: float) -> BackendStream:
            e = client.endpoint
            return client.open_stream(forward_body(upstream_data, e.name, e.max_tokens),
                                      first_byte_timeout=timeout, idle_timeout=idle)

        served = self._dispatcher.run(target, send, deadline=deadline, hold=True, need=need,
                                      prompt_tokens=decision.token_estimate,
                                      gone=req.env.get("waitress.client_disconnected"))
        first_byte_at = self._clock()
        endpoint = served.endpoint
        upstream = served.value
        metrics, registry, dispatcher, slots = self._metrics, self._registry, self._dispatcher, self._slots
        stats, request_id, attempts = self._stats, req.context.request_id, served.attempts

        def on_end(end: StreamEnd) -> None:
            dispatcher.release(endpoint.id)
            slots.leave()
            usage = tap.usage
            tokens_in, tokens_out, estimated = account(
                stats, api=api, request_id=request_id, decision=decision, endpoint=endpoint,
                attempts=attempts, usage=usage,
                prompt_chars=0 if usage else messages_chars(data["messages"]),
                answer_chars=tap.answer_chars, duration_s=end.seconds, ttft_s=end.first_byte_seconds,
                status=200, stream=True, failed=end.outcome not in ("completed", CLIENT_DISCONNECTED),
                prompt=inp.text)
            metrics.streams.labels(outcome=end.outcome).inc()
            metrics.stream_duration.labels(tier=endpoint.tier).observe(end.seconds)
            metrics.stream_first_byte.labels(tier=endpoint.tier).observe(end.first_byte_seconds)
            if end.outcome in ("backend_error", "incomplete"):
                metrics.stream_interruptions.labels(endpoint=endpoint.id, reason=end.outcome).inc()
                registry.record_failure(endpoint.id, end.error or end.outcome)
                log.warning("stream from %s interrupted: %s", endpoint.id, end.error)
            elif end.outcome == "stream_timeout":  # a long answer, not a sick endpoint
                log.warning("stream from %s cut: %s", endpoint.id, end.error)
            log.info("stream end", extra={"fields": {
                **fields, "outcome": end.outcome, "duration_ms": end.seconds * 1000.0,
                "first_byte_ms": end.first_byte_seconds * 1000.0, "bytes": end.bytes_relayed,
                "tokens_in": tokens_in, "tokens_out": tokens_out,
                **({"tokens_estimated": True} if estimated else {})}})

        # From here on, the relay's close() owns the upstream, the slot and the
        # endpoint's in-flight count; it is created before anything else can fail.
        content_type = upstream.headers.get("content-type", "text/event-stream")
        if reframe is not None:
            content_type = "text/event-stream"  # the reframer speaks SSE whatever the backend said
        relay = StreamRelay(upstream, request_id=req.context.request_id, started=req.context.started,
                            first_byte_at=first_byte_at, clock=self._clock, on_end=on_end,
                            max_bytes=self._config.server.max_response_bytes,
                            sse="event-stream" in content_type.lower(),
                            total_seconds=self._config.timeouts.stream_total_seconds,
                            client_gone=req.env.get("waitress.client_disconnected"),
                            watchdog=self._watchdog, events_filter=tap, reframe=reframe)
        resp.stream = relay
        self._served(req, resp, decision, served)
        fields = dict(req.context.log_fields)
        resp.content_type = content_type
        resp.set_header("Cache-Control", "no-cache")
        resp.set_header("X-Accel-Buffering", "no")


class OpenAIModelsResource:
    """The OpenAI list format: auto, the tiers, every endpoint id, and the Claude names mapped.

    Each item also carries what the anthropic SDK's ``models.list`` reads
    (``type``, ``display_name``, ``created_at``), and the list Anthropic's
    paging fields, so one list serves both SDKs.
    """

    def __init__(self, registry: Registry, claude_names: tuple[tuple[str, str], ...] = ()) -> None:
        self._registry = registry
        self._created = int(time.time())
        self._created_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._created))
        self._claude_names = claude_names

    def _item(self, model_id: str, display: str, **extra: Any) -> dict[str, Any]:
        return {"id": model_id, "object": "model", "created": self._created, "owned_by": "octoroute",
                "type": "model", "display_name": display, "created_at": self._created_at,
                "lifecycle": "active", **extra}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        snapshot = self._registry.snapshot()
        states = list(snapshot.values())
        data: list[dict[str, Any]] = [self._item(
            AUTO, "auto (routed by Octoroute)",
            description="routed by Octoroute to fast, balanced or deep",
            healthy=any(s.healthy for s in states))]
        for tier in TIERS:
            members = [s for s in states if s.endpoint.tier == tier]
            data.append(self._item(tier, f"{tier} tier", tier=tier, healthy=any(s.healthy for s in members),
                                   endpoints=[s.endpoint.id for s in members]))
        for s in states:
            data.append(self._item(s.endpoint.id, f"{s.endpoint.name} ({s.endpoint.tier})",
                                   tier=s.endpoint.tier, name=s.endpoint.name, healthy=s.healthy))
        for name, target in self._claude_names:
            data.append(self._item(name, f"names containing {name!r} -> {target}", maps_to=target))
        resp.media = {"object": "list", "data": data, "has_more": False,
                      "first_id": data[0]["id"], "last_id": data[-1]["id"]}
