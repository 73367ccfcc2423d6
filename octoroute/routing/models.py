"""Resolve a request's ``model`` field: auto, a tier, a seed alias or an endpoint id."""

from __future__ import annotations

from dataclasses import dataclass

from octoroute.config import TIERS, Config
from octoroute.errors import UnknownModelError

AUTO = "auto"
TIER_ALIASES: dict[str, str] = {
    "fast": "fast", "balanced": "balanced", "deep": "deep",
    "fast_8b": "fast", "balanced_30b": "balanced", "deep_120b": "deep",
}


@dataclass(frozen=True)
class ModelChoice:
    """Exactly one of: route (both None), a tier, or an endpoint id."""

    tier: str | None = None
    endpoint_id: str | None = None

    @property
    def explicit(self) -> bool:
        return self.tier is not None or self.endpoint_id is not None


ROUTE = ModelChoice()


def valid_models(config: Config) -> list[str]:
    return [AUTO, *TIERS, *(a for a in TIER_ALIASES if a not in TIERS), *(e.id for e in config.endpoints)]


def resolve_model(model: str | None, config: Config) -> ModelChoice:
    """Map the client's ``model`` to a choice; raise ``UnknownModelError`` (404) otherwise."""
    if model is None:
        return ROUTE
    key = model.strip()
    if key == "" or key.lower() == AUTO:
        return ROUTE
    # Endpoint ids win over aliases: the user named that endpoint on purpose.
    if config.endpoint(key) is not None:
        return ModelChoice(endpoint_id=key)
    tier = TIER_ALIASES.get(key.lower())
    if tier is not None:
        return ModelChoice(tier=tier)
    raise UnknownModelError(model[:100], valid_models(config))
