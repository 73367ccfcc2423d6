"""What a backend server says about itself, read from cheap responses.

One immutable ``ServerFacts`` per endpoint lives in the registry
(``EndpointState.facts``). Discovery (kind detection, the model-exists check,
context windows, residency, the server's own queue figures) writes it; the
selection, capacity and deadline code reads it. Every field is optional:
``None`` means the server did not say, never "zero" or "false".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class ServerFacts:
    """One endpoint's server, as last read. ``None``: unknown."""

    kind: str | None = None  # detected (or configured) ENDPOINT_KINDS value, never "auto"
    models: tuple[str, ...] | None = None  # model names the server lists, as it spells them
    model_found: bool | None = None  # the endpoint's `name` is among them (case and tag included)
    suggestion: str | None = None  # did-you-mean from the server's own list, when not found
    context_window: int | None = None  # tokens (n_ctx, context_length, max_model_len)
    total_slots: int | None = None  # generations at once the server runs (llama-server /props)
    resident: bool | None = None  # the model is loaded now (Ollama /api/ps, LM Studio, router mode)
    sleeping: bool | None = None  # llama-server is_sleeping
    processing: int | None = None  # requests the server reports generating (its /metrics)
    waiting: int | None = None  # requests the server reports queued (its /metrics)
    prefill_tokens_per_second: float | None = None  # from counters or timings, never gauges
    read_at: float | None = None  # registry-clock time of the read

    def evolve(self, **changes: Any) -> ServerFacts:
        return replace(self, **changes)
