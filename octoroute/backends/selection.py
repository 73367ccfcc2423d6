"""Pure endpoint selection: priority groups, weights, and the tier fallback order."""

from __future__ import annotations

import random
from collections.abc import Sequence

from octoroute.backends.registry import EndpointState

# Prefer a larger model first when a tier is exhausted: quality over savings.
FALLBACK_ORDER: dict[str, tuple[str, ...]] = {
    "fast": ("balanced", "deep"),
    "balanced": ("deep", "fast"),
    "deep": ("balanced", "fast"),
}

# Where a request goes when the routed tier's context windows are all too small and
# tier fallback is off: only up, to a larger model (which usually has the larger window).
LARGER_TIERS: dict[str, tuple[str, ...]] = {
    "fast": ("balanced", "deep"),
    "balanced": ("deep",),
    "deep": (),
}


def pick(candidates: Sequence[EndpointState], rng: random.Random) -> EndpointState | None:
    """Take the highest-priority group, then choose within it by weight."""
    if not candidates:
        return None
    top = max(c.endpoint.priority for c in candidates)
    group = [c for c in candidates if c.endpoint.priority == top]
    if len(group) == 1:
        return group[0]
    total = sum(c.endpoint.weight for c in group)
    point = rng.random() * total
    for c in group:
        point -= c.endpoint.weight
        if point < 0:
            return c
    return group[-1]  # float rounding at the very top of the range
