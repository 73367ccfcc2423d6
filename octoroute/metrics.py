"""Every Prometheus metric Octoroute exports, defined in one place.

Metrics live on a ``CollectorRegistry`` passed in by ``create_app`` (tests
pass a fresh one each), so building two apps in one process never trips
prometheus_client's duplicate-registration check. Label values known up front
(tiers, strategies, endpoints) are initialised so dashboards show zeros
instead of gaps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from octoroute.config import TIERS, EndpointConfig

ROUTING_BUCKETS_MS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0)
# The semantic layer's embeddings calls: milliseconds on a local server, capped by its timeout_ms.
EMBEDDING_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# What one semantic-layer lookup ended in (routing/semantic.py): a confident verdict, an unsure
# vote, a timeout, an error, every worker busy, the circuit breaker open, the exemplars not yet
# embedded, or a blank text.
SEMANTIC_OUTCOMES = ("verdict", "unsure", "timeout", "error", "busy", "breaker_open", "not_ready", "empty")
# What calibrating one scorer decision by the nearest labelled prompts did: moved it down or up a
# tier, kept it, or could not say (no vector in time, bank not embedded yet, nothing similar).
CALIBRATION_RESULTS = ("down", "up", "kept", "none")
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
STRATEGY_LABELS = ("rule", "semantic", "llm", "tool", "explicit", "default")
# explicit: model named; rule: a TOML rule; scorer: the built-in scorer; brain / brain_cache: the
# router brain (asked, or its cached answer); semantic: the nearest exemplars by embeddings;
# fallback: the brain failed, scorer or default_tier used.
DECISION_LAYERS = ("explicit", "rule", "scorer", "semantic", "brain", "brain_cache", "fallback")
STREAM_OUTCOMES = ("completed", "backend_error", "incomplete", "client_disconnected", "stream_timeout")
OUTCOMES = ("success", "connect_error", "timeout", "http_error", "rate_limited", "bad_response",
            "context_overflow")
SESSION_HELD_REASONS = ("hysteresis", "tool_continuation")
SHADOW_DROP_REASONS = ("full", "error", "closed")
# [busy.<tier>] policies and what each can lead to (backends/capacity.py).
BUSY_OUTCOMES: dict[str, tuple[str, ...]] = {
    "send": ("sent",),  # sent to a saturated endpoint anyway; the server queues it
    # a slot freed within queue_seconds; or 429 after it; or the client hung up while queued
    "queue": ("queued", "timed_out", "abandoned"),
    "degrade": ("degraded", "queued", "timed_out", "abandoned"),  # a smaller tier had room; else as queue
    "reject": ("rejected",),  # 429 at once
}

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


class Family:
    """A labelled metric whose children are looked up in a plain dict.

    prometheus_client's ``labels()`` validates and locks on every call (a few
    microseconds each, several times a request); label values repeat, so the
    child is cached after the first call. A race only creates the same child
    twice, which ``labels()`` itself makes harmless.
    """

    __slots__ = ("_children", "_names", "metric")

    def __init__(self, metric: Any, names: tuple[str, ...]) -> None:
        self.metric = metric
        self._names = names
        self._children: dict[tuple[str, ...], Any] = {}

    def labels(self, **values: str) -> Any:
        key = tuple(values[n] for n in self._names)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.metric.labels(*key)
        return child


def _family(
    kind: Any, name: str, doc: str, labels: tuple[str, ...], registry: CollectorRegistry, **kwargs: Any
) -> Family:
    return Family(kind(name, doc, list(labels), registry=registry, **kwargs), labels)


class Metrics:
    """The counters, gauges and histograms of one app instance."""

    def __init__(self, registry: CollectorRegistry, endpoints: Iterable[EndpointConfig] = ()) -> None:
        # NOTE: prometheus_client's documented, process-wide switch: no ``_created``
        # series (half of /metrics' lines, and nothing a dashboard reads). Global
        # by design upstream, so every registry in the process, tests' too, goes
        # without them; it only has to be off before the first scrape.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry
        # The seed's three series, names and labels unchanged.
        self.requests = _family(
            Counter,
            "octoroute_requests",
            "Requests served, by the tier that served and how it was chosen.",
            ("tier", "strategy"),
            registry,
        )
        self.routing_duration = _family(
            Histogram,
            "octoroute_routing_duration_ms",
            "Time to reach a routing decision, in milliseconds.",
            ("strategy",),
            registry,
            buckets=ROUTING_BUCKETS_MS,
        )
        self.model_invocations = _family(
            Counter,
            "octoroute_model_invocations",
            "Backend model calls (every attempt), by tier.",
            ("tier",),
            registry,
        )
        # Per endpoint.
        self.endpoint_requests = _family(
            Counter,
            "octoroute_endpoint_requests",
            "Backend attempts by endpoint and outcome.",
            ("endpoint", "tier", "outcome"),
            registry,
        )
        self.endpoint_latency = _family(
            Histogram,
            "octoroute_endpoint_latency_seconds",
            "Duration of backend attempts, in seconds.",
            ("endpoint", "tier"),
            registry,
            buckets=LATENCY_BUCKETS_S,
        )
        self.endpoint_up = _family(
            Gauge,
            "octoroute_endpoint_up",
            "1 when the endpoint is considered healthy, else 0.",
            ("endpoint", "tier"),
            registry,
        )
        self.health_checks = _family(
            Counter,
            "octoroute_health_checks",
            "Health probes by endpoint and result.",
            ("endpoint", "result"),
            registry,
        )
        self.health_loop_errors = Counter(
            "octoroute_health_loop_errors",
            "Unexpected exceptions caught in the health thread.",
            registry=registry,
        )
        # Routing.
        self.fallbacks = _family(
            Counter,
            "octoroute_tier_fallbacks",
            "Requests served by another tier than the one routed to.",
            ("from_tier", "to_tier"),
            registry,
        )
        self.routing_decisions = _family(
            Counter,
            "octoroute_routing_decisions",
            "Routing decisions by the layer that decided and the tier chosen.",
            ("layer", "tier"),
            registry,
        )
        self.router_failures = _family(
            Counter,
            "octoroute_router_brain_failures",
            "Router-brain calls with no usable answer, by reason.",
            ("reason",),
            registry,
        )
        self.brain_tokens = _family(
            Counter,
            "octoroute_router_brain_tokens",
            "Tokens the router brain's questions (in) and answers (out) cost, by endpoint; from the "
            "backend's usage, else estimated. Not in octoroute_tokens_total, which counts clients' requests.",
            ("endpoint", "direction"),
            registry,
        )
        self.http_responses = _family(
            Counter,
            "octoroute_http_responses",
            "HTTP responses sent to clients, by route and status code.",
            ("route", "status"),
            registry,
        )
        self.request_duration = _family(
            Histogram,
            "octoroute_request_duration_seconds",
            "End-to-end duration of routed requests.",
            ("route",),
            registry,
            buckets=LATENCY_BUCKETS_S,
        )
        # Streams.
        self.streams = _family(
            Counter, "octoroute_streams", "Streamed responses by how they ended.", ("outcome",), registry
        )
        self.stream_interruptions = _family(
            Counter,
            "octoroute_stream_interruptions",
            "Streams cut by a backend after their first byte.",
            ("endpoint", "reason"),
            registry,
        )
        self.stream_duration = _family(
            Histogram,
            "octoroute_stream_duration_seconds",
            "Duration of streamed responses, in seconds.",
            ("tier",),
            registry,
            buckets=LATENCY_BUCKETS_S,
        )
        self.stream_first_byte = _family(
            Histogram,
            "octoroute_stream_first_byte_seconds",
            "Time from request to the backend's first byte.",
            ("tier",),
            registry,
            buckets=LATENCY_BUCKETS_S,
        )
        self.rejected = _family(
            Counter,
            "octoroute_rejected_requests",
            "Requests refused before routing, by reason.",
            ("reason",),
            registry,
        )
        self.in_flight = Gauge(
            "octoroute_in_flight_requests", "Routed requests being served right now.", registry=registry
        )
        self._initialise(tuple(endpoints))
        self._add_session_and_shadow_metrics(registry)
        self._add_accounting_metrics(registry, tuple(endpoints))
        self._add_semantic_metrics(registry)
        self._add_context_metrics(registry, tuple(endpoints))
        self._add_capacity_metrics(registry)

    def _initialise(self, endpoints: tuple[EndpointConfig, ...]) -> None:
        for tier in TIERS:
            self.model_invocations.labels(tier=tier)
            for strategy in STRATEGY_LABELS:
                self.requests.labels(tier=tier, strategy=strategy)
        for strategy in STRATEGY_LABELS:
            self.routing_duration.labels(strategy=strategy)
        for layer in DECISION_LAYERS:
            for tier in TIERS:
                self.routing_decisions.labels(layer=layer, tier=tier)
        for outcome in STREAM_OUTCOMES:
            self.streams.labels(outcome=outcome)
        for e in endpoints:
            for outcome in OUTCOMES:
                self.endpoint_requests.labels(endpoint=e.id, tier=e.tier, outcome=outcome)
            self.endpoint_up.labels(endpoint=e.id, tier=e.tier).set(1)

    def render(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)

    def _add_session_and_shadow_metrics(self, registry: CollectorRegistry) -> None:
        """Conversation sessions (routing/sessions.py) and shadow decisions (routing/shadow.py)."""
        self.sessions_active = Gauge(
            "octoroute_sessions_active",
            "Conversation sessions remembered (seen within routing.sessions.idle_seconds).",
            registry=registry,
        )
        self.session_held = _family(
            Counter,
            "octoroute_session_held_decisions",
            "Routed decisions a session kept on its tier instead of the router's lower one, by reason.",
            ("reason",),
            registry,
        )
        self.session_escalations = _family(
            Counter,
            "octoroute_session_escalations",
            "Sessions moved up to a larger tier, by the tier they moved to.",
            ("to_tier",),
            registry,
        )
        self.shadow_decisions = _family(
            Counter,
            "octoroute_shadow_decisions",
            "Shadow decisions by the primary tier and the shadow strategy's tier (agreement when equal).",
            ("primary", "shadow"),
            registry,
        )
        self.shadow_dropped = _family(
            Counter,
            "octoroute_shadow_dropped",
            "Sampled shadow decisions not made, by reason (full pool, error, closed).",
            ("reason",),
            registry,
        )
        for reason in SESSION_HELD_REASONS:
            self.session_held.labels(reason=reason)
        for tier in TIERS[1:]:
            self.session_escalations.labels(to_tier=tier)
        for primary in TIERS:
            for shadow in TIERS:
                self.shadow_decisions.labels(primary=primary, shadow=shadow)
        for reason in SHADOW_DROP_REASONS:
            self.shadow_dropped.labels(reason=reason)

    def _add_accounting_metrics(self, registry: CollectorRegistry,
                                endpoints: tuple[EndpointConfig, ...]) -> None:
        """Tokens and compute (``octoroute.stats`` counts them; see docs/observability.md)."""
        self.tokens = _family(
            Counter,
            "octoroute_tokens",
            "Tokens by tier, endpoint and direction (in: prompt, out: completion), from the backends' "
            "usage, else estimated.",
            ("tier", "endpoint", "direction"),
            registry,
        )
        self.compute_units = _family(
            Counter,
            "octoroute_compute_units",
            "Tokens x the serving endpoint's params_b (billions of parameters), by tier.",
            ("tier",),
            registry,
        )
        self.compute_always_deep = Counter(
            "octoroute_compute_always_deep_units",
            "The same tokens x the largest deep endpoint's params_b: the compute of sending everything deep.",
            registry=registry,
        )
        self.compute_saved_ratio = Gauge(
            "octoroute_compute_saved_ratio",
            "1 - compute_units / compute_always_deep_units since start (0 before the first token).",
            registry=registry,
        )
        for e in endpoints:
            for direction in ("in", "out"):
                self.tokens.labels(tier=e.tier, endpoint=e.id, direction=direction)
        for tier in TIERS:
            self.compute_units.labels(tier=tier)

    def _add_semantic_metrics(self, registry: CollectorRegistry) -> None:
        """The semantic layer (routing/semantic.py): lookups by outcome, cache hits, call latency."""
        self.semantic_requests = _family(
            Counter,
            "octoroute_semantic_requests",
            "Semantic-layer lookups by outcome (verdict, unsure, timeout, error, busy, breaker_open, "
            "not_ready, empty).",
            ("outcome",),
            registry,
        )
        for outcome in SEMANTIC_OUTCOMES:
            self.semantic_requests.labels(outcome=outcome)
        self.semantic_calibrations = _family(
            Counter,
            "octoroute_semantic_calibrations",
            "Scorer decisions calibrated by the nearest labelled prompts ([routing.semantic] calibrate), "
            "by result (down, up, kept, none).",
            ("result",),
            registry,
        )
        for result in CALIBRATION_RESULTS:
            self.semantic_calibrations.labels(result=result)
        self.semantic_cache_hits = Counter(
            "octoroute_semantic_cache_hits",
            "Semantic-layer lookups whose prompt vector was cached (no embeddings call).",
            registry=registry,
        )
        self.semantic_embedding_seconds = Histogram(
            "octoroute_semantic_embedding_seconds",
            "Duration of the semantic layer's embeddings calls for one prompt, in seconds (completed calls).",
            registry=registry,
            buckets=EMBEDDING_BUCKETS_S,
        )

    def _add_context_metrics(self, registry: CollectorRegistry,
                             endpoints: tuple[EndpointConfig, ...]) -> None:
        """Context-window fit (backends/context.py): skips, escalations, recognised overflows."""
        self.context_skips = _family(
            Counter,
            "octoroute_context_skips",
            "Endpoints passed over: the request's prompt plus max_tokens cannot fit their context window.",
            ("endpoint",),
            registry,
        )
        self.context_escalations = _family(
            Counter,
            "octoroute_context_escalations",
            "Requests moved to another tier because no endpoint of the routed tier had the context window.",
            ("from_tier", "to_tier"),
            registry,
        )
        self.context_overflows = _family(
            Counter,
            "octoroute_context_overflows",
            "Overflow answers recognised (the prompt does not fit); never counted as a health failure.",
            ("endpoint",),
            registry,
        )
        for e in endpoints:
            self.context_skips.labels(endpoint=e.id)
            self.context_overflows.labels(endpoint=e.id)

    def _add_capacity_metrics(self, registry: CollectorRegistry) -> None:
        """Saturated tiers (backends/capacity.py), and each endpoint's load and residency."""
        self.busy = _family(
            Counter,
            "octoroute_busy",
            "Requests whose routed tier had no endpoint with room, by its [busy] policy and outcome.",
            ("tier", "policy", "outcome"),
            registry,
        )
        self.endpoint_in_flight = _family(
            Gauge,
            "octoroute_endpoint_in_flight",
            "Generations Octoroute has running on the endpoint right now.",
            ("endpoint", "tier"),
            registry,
        )
        self.endpoint_capacity = _family(
            Gauge,
            "octoroute_endpoint_capacity",
            "Generations at once the endpoint serves well (config, else the server's slots, else 1).",
            ("endpoint", "tier"),
            registry,
        )
        self.endpoint_resident = _family(
            Gauge,
            "octoroute_endpoint_resident",
            "1 when the server says the endpoint's model is loaded, 0 when not, NaN when it does not say.",
            ("endpoint", "tier"),
            registry,
        )
        for tier in TIERS:
            for policy, outcomes in BUSY_OUTCOMES.items():
                for outcome in outcomes:
                    self.busy.labels(tier=tier, policy=policy, outcome=outcome)

    def watch_endpoints(self, endpoints: Iterable[EndpointConfig],
                        read: Callable[[str], tuple[float, float, float]]) -> None:
        """Gauges read at scrape time: ``read(endpoint_id)`` gives (in flight, capacity, resident).

        Read when scraped, not pushed on every change: the request path
        stays free of gauge updates.
        """
        for e in endpoints:
            labels = {"endpoint": e.id, "tier": e.tier}
            self.endpoint_in_flight.labels(**labels).set_function(lambda i=e.id: read(i)[0])
            self.endpoint_capacity.labels(**labels).set_function(lambda i=e.id: read(i)[1])
            self.endpoint_resident.labels(**labels).set_function(lambda i=e.id: read(i)[2])


def parse_samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample in a server's Prometheus text (its ``/metrics``).

    Counters come back with their ``_total`` names. Malformed text raises ``ValueError``.
    """
    return [(s.name, dict(s.labels), float(s.value))
            for family in text_string_to_metric_families(text) for s in family.samples]
