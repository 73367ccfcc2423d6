"""``/health``, ``/models`` and ``/metrics``: cheap, lock-free reads for operators."""

from __future__ import annotations

from typing import Any

import falcon

from octoroute.backends.capacity import load_view
from octoroute.backends.registry import EndpointState, Registry
from octoroute.metrics import METRICS_CONTENT_TYPE, Metrics


class HealthResource:
    """Liveness of Octoroute itself: the seed's contract, 200 ``OK``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "OK"

    on_head = on_get


def server_fields(state: EndpointState, now: float) -> dict[str, Any]:
    """What the endpoint's server says about itself (backends/discovery.py), for ``/models``.

    ``kind`` is the configured kind until a probe has detected one;
    ``context_window`` is the configured one, else the server's.
    """
    e, f = state.endpoint, state.facts
    return {
        "kind": f.kind or e.kind,
        "context_window": e.context_window if e.context_window is not None else f.context_window,
        "model_found": f.model_found,
        "suggestion": f.suggestion,
        "resident": f.resident,
        "server": {
            "models": list(f.models) if f.models is not None else None,
            "context_window": f.context_window, "total_slots": f.total_slots, "sleeping": f.sleeping,
            "processing": f.processing, "waiting": f.waiting,
            "prefill_tokens_per_second": (None if f.prefill_tokens_per_second is None
                                          else round(f.prefill_tokens_per_second, 1)),
            "read_seconds_ago": None if f.read_at is None else round(now - f.read_at, 3),
        },
    }


class ModelsResource:
    """Every endpoint in config order, with what the registry believes of it."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        now = self._registry.now()
        models = []
        states = self._registry.snapshot()
        for s in states.values():
            e = s.endpoint
            models.append({
                "id": e.id, "name": e.name, "tier": e.tier, "endpoint": e.base_url,
                "healthy": s.healthy, "priority": e.priority, "weight": e.weight,
                "consecutive_failures": s.consecutive_failures,
                "last_check_seconds_ago": None if s.last_check is None else round(now - s.last_check, 3),
                "last_error": s.last_error, "in_flight": s.in_flight,
                "cooldown_seconds": round(max(0.0, s.cooldown_until - now), 3),
                **server_fields(s, now),
                **load_view(s, states, now),
            })
        resp.media = {"models": models}


class MetricsResource:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = METRICS_CONTENT_TYPE
        resp.data = self._metrics.render()
