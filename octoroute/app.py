"""The app factory: all wiring happens here, nothing starts on import.

``create_app()`` with no arguments is what ``waitress-serve --call
octoroute.app:create_app`` calls: it reads ``$OCTOROUTE_CONFIG`` (else
``./config.toml``), sets up logging and starts the health thread. Tests and
the CLI call ``build_runtime`` with an explicit config and injected clock,
RNG, session factory and metrics registry.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import falcon
from prometheus_client import CollectorRegistry

from octoroute.api import errors as api_errors
from octoroute.api.access import BearerAuth, ChatSlots
from octoroute.api.anthropic import CountTokensResource, MessagesResource
from octoroute.api.chat import ChatResource
from octoroute.api.dashboard import DashboardResource
from octoroute.api.middleware import AfterResponse, RequestContext
from octoroute.api.openai import ChatCompletionsResource, OpenAIModelsResource
from octoroute.api.openapi import OpenAPIResource
from octoroute.api.stats import DecisionsResource, StatsResource
from octoroute.api.system import HealthResource, MetricsResource, ModelsResource
from octoroute.api.watchdog import StreamWatchdog
from octoroute.backends.capacity import gauge_view
from octoroute.backends.client import BackendClient, SessionFactory
from octoroute.backends.context import ContextBook
from octoroute.backends.discovery import Discovery
from octoroute.backends.failover import Dispatcher
from octoroute.backends.health import HealthChecker, ProbeResult
from octoroute.backends.registry import EndpointState, Registry
from octoroute.config import Config, config_path, effective_log_level, load_config
from octoroute.errors import ConfigError
from octoroute.logs import configure_logging
from octoroute.metrics import Metrics
from octoroute.routing.prior import shipped_prior
from octoroute.routing.router import LLMBrain, RouteInput, Router
from octoroute.routing.semantic import SemanticLayer, semantic_layer
from octoroute.routing.sessions import SessionTracker
from octoroute.routing.shadow import Shadow
from octoroute.stats import Stats

log = logging.getLogger("octoroute")

PROBE_POOL_EXTRA = 2  # connections per backend beyond the worker threads (health probes)


@dataclass
class Runtime:
    """Everything one running Octoroute owns, so it can be stopped as a whole."""

    config: Config
    app: falcon.App[Any, Any]
    registry: Registry
    metrics: Metrics
    health: HealthChecker
    clients: dict[str, BackendClient]
    router: Router
    dispatcher: Dispatcher
    slots: ChatSlots
    watchdog: StreamWatchdog  # starts with the first stream
    sessions: SessionTracker | None = None
    shadow: Shadow[RouteInput] | None = None
    semantic: SemanticLayer | None = None
    stats: Stats | None = None

    def close(self, timeout: float = 5.0) -> None:
        self.health.stop(timeout)
        self.watchdog.stop(timeout)
        if self.shadow is not None:
            self.shadow.close(timeout)
        if self.semantic is not None:
            self.semantic.close()
        for client in self.clients.values():
            client.close()


def build_runtime(config: Config, *, clock: Callable[[], float] = time.monotonic,
                  rng: random.Random | None = None, session_factory: SessionFactory | None = None,
                  registry: CollectorRegistry | None = None,
                  wall: Callable[[], float] = time.time) -> Runtime:
    """Wire config, clients, registry, router, dispatcher, resources and the app.

    ``wall`` is the wall clock (unix seconds) of ``/stats``' time buckets.
    """
    metrics = Metrics(registry if registry is not None else CollectorRegistry(), config.endpoints)
    obs = config.observability
    stats = Stats(config.endpoints, metrics=metrics, decisions_kept=obs.decisions_kept,
                  keep_prompts=obs.keep_prompts, wall=wall)

    def on_transition(old: EndpointState, new: EndpointState) -> None:
        e = new.endpoint
        metrics.endpoint_up.labels(endpoint=e.id, tier=e.tier).set(1 if new.healthy else 0)
        stats.on_health(e.id, new.healthy)

    state = Registry(config.endpoints, unhealthy_after=config.health.unhealthy_after, clock=clock,
                     listener=on_transition)
    clients = {e.id: BackendClient(e, pool_size=config.server.threads + PROBE_POOL_EXTRA,
                                   session_factory=session_factory,
                                   max_response_bytes=config.server.max_response_bytes)
               for e in config.endpoints}
    context = ContextBook()
    dispatcher = Dispatcher(config, state, clients, metrics, rng or random.Random(), context=context)
    metrics.watch_endpoints(config.endpoints, lambda endpoint_id: gauge_view(state.get(endpoint_id)))

    def on_probe(result: ProbeResult) -> None:
        metrics.health_checks.labels(endpoint=result.endpoint, result="ok" if result.ok else "fail").inc()

    health = HealthChecker(state, clients, interval=config.health.interval_seconds,
                           timeout=config.health.timeout_seconds, on_result=on_probe,
                           on_loop_error=metrics.health_loop_errors.inc,
                           discovery=Discovery(clients, timeout=config.health.timeout_seconds, clock=clock))
    brain = LLMBrain(config.routing, dispatcher, clock, metrics)
    # The semantic layer (off unless [routing.semantic] is enabled) embeds its exemplars in the background.
    semantic = semantic_layer(config.routing.semantic, session_factory=session_factory, clock=clock,
                              metrics=metrics)
    router = Router(config.routing, brain, metrics, clock, {e.id: e.tier for e in config.endpoints},
                    semantic=semantic, prior=shipped_prior() if config.routing.learned_prior else None)

    slots = ChatSlots(config.server.chat_slots, metrics)
    watchdog = StreamWatchdog(clock=clock)
    sessions = (SessionTracker(config.routing.sessions, clock=clock, metrics=metrics)
                if config.routing.sessions.enabled else None)
    shadow = build_shadow(config, router, metrics, rng if rng is not None else random.Random())
    middleware: list[Any] = [
        RequestContext(metrics, clock),
        BearerAuth(config.server.api_keys, metrics_public=config.observability.metrics_public),
    ]
    app = falcon.App(middleware=middleware)
    # NOTE: ASCII-escaped JSON: an error message that quotes a client's lone
    # surrogate must still encode (falcon's default would raise, a 500).
    json_handler = falcon.media.JSONHandler(dumps=json.dumps)
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = json_handler
    app.req_options.strip_url_path_trailing_slash = True
    api_errors.install(app)
    # The whole route catalogue, on one screen.
    app.add_route("/chat", ChatResource(config, router, dispatcher, metrics, clock, slots, stats=stats))
    app.add_route("/health", HealthResource())
    app.add_route("/models", ModelsResource(state))
    app.add_route("/metrics", MetricsResource(metrics))
    app.add_route("/v1/chat/completions",
                  ChatCompletionsResource(config, router, dispatcher, state, metrics, clock, slots,
                                          watchdog, sessions=sessions, shadow=shadow, stats=stats))
    app.add_route("/v1/messages",
                  MessagesResource(config, router, dispatcher, state, metrics, clock, slots, watchdog,
                                   sessions=sessions, shadow=shadow, stats=stats))
    app.add_route("/v1/messages/count_tokens", CountTokensResource(config))
    app.add_route("/v1/models", OpenAIModelsResource(state, config.anthropic.models))
    app.add_route("/openapi.json", OpenAPIResource())
    app.add_route("/stats", StatsResource(stats, state))
    app.add_route("/stats/decisions", DecisionsResource(stats))
    app.add_route("/dashboard", DashboardResource())
    return Runtime(config, app, state, metrics, health, clients, router, dispatcher, slots,
                   watchdog, sessions, shadow, semantic, stats)


def build_shadow(config: Config, router: Router, metrics: Metrics,
                 rng: random.Random) -> Shadow[RouteInput] | None:
    """The routing.shadow strategy behind a ``decide(input) -> tier`` seam, or ``None``."""
    shadow = config.routing.shadow
    if shadow is None:
        return None
    strategy = shadow.strategy

    def decide(inp: RouteInput) -> str | None:
        decision = router.route(inp, strategy=strategy)
        if decision.strategy == "default" and decision.warnings:
            # The strategy failed (say, the brain timed out) and the router fell
            # back to its default tier: that is not the strategy's answer.
            return None
        return decision.tier

    return Shadow(decide, strategy=strategy, sample=shadow.sample, max_pending=shadow.max_pending,
                  rng=rng, metrics=metrics)


def create_app(config: Config | None = None, *, start_health: bool = True) -> Callable[..., Any]:
    """Build the WSGI app; with no config, load it as ``octoroute serve`` would.

    That path (``waitress-serve --call``) also sets logging up as ``serve``
    does (its background writer is flushed and stopped at exit). The app logs
    each access line after its response has been sent (``AfterResponse``), as
    ``octoroute serve`` does.
    """
    if config is None:
        try:
            config = load_config(config_path(None))
        except ConfigError as exc:
            print(exc.message, file=sys.stderr)
            raise SystemExit(1) from None
        configure_logging(effective_log_level(config), config.observability.log_format, background=True)
    runtime = build_runtime(config)
    if start_health:
        runtime.health.start()
    log.info("octoroute app ready: %s", describe_endpoints(config))
    return AfterResponse(runtime.app)


def describe_endpoints(config: Config) -> str:
    parts = []
    for tier in ("fast", "balanced", "deep"):
        ids = ", ".join(f"{e.id}@{e.base_url}" for e in config.tier_endpoints(tier))
        parts.append(f"{tier}=[{ids}]")
    return " ".join(parts)
