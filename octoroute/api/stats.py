"""``GET /stats`` and ``GET /stats/decisions``: what routing did, as JSON for people and the dashboard.

Thin: ``octoroute.stats.Stats`` does the counting; the registry says which
endpoints are healthy now. Both routes need the API key when keys are set
(``BearerAuth``), like the APIs: decisions may carry prompts.
"""

from __future__ import annotations

from typing import Any

import falcon

from octoroute.backends.registry import Registry
from octoroute.config import MAX_DECISIONS_KEPT
from octoroute.errors import RequestError
from octoroute.stats import Stats

DEFAULT_DECISIONS = 50  # decisions /stats/decisions returns without ?limit


def health_rows(registry: Registry, stats: Stats) -> list[dict[str, Any]]:
    """Each endpoint's health now, with its recent transitions."""
    rows = []
    for s in registry.snapshot().values():
        e = s.endpoint
        kind = s.facts.kind if s.facts.kind is not None else (None if e.kind == "auto" else e.kind)
        rows.append({"id": e.id, "tier": e.tier, "healthy": s.healthy, "in_flight": s.in_flight,
                     "last_error": s.last_error, "kind": kind, "timeline": stats.timeline(e.id)})
    return rows


class StatsResource:
    def __init__(self, stats: Stats, registry: Registry) -> None:
        self._stats = stats
        self._registry = registry

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self._stats.snapshot()
        body["health"] = health_rows(self._registry, self._stats)
        resp.media = body
        resp.set_header("Cache-Control", "no-store")


class DecisionsResource:
    def __init__(self, stats: Stats) -> None:
        self._stats = stats

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raw = req.get_param("limit")
        limit = DEFAULT_DECISIONS
        if raw is not None:
            try:
                limit = int(raw)
            except ValueError:
                limit = 0
            if not 1 <= limit <= MAX_DECISIONS_KEPT:
                raise RequestError(f"query parameter 'limit' must be an integer from 1 to "
                                   f"{MAX_DECISIONS_KEPT}, e.g. ?limit=50 (at most "
                                   "observability.decisions_kept come back)",
                                   param="limit", code="invalid_limit")
        # More than the ring holds is not an error: the ring is all there is.
        resp.media = {"decisions": self._stats.decisions(limit),
                      "kept": self._stats.decisions_kept, "prompts": self._stats.keep_prompts}
        resp.set_header("Cache-Control", "no-store")
