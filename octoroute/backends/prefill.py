"""Prefill-aware first-token deadlines: how long a stream may take to say its first word.

A server reads the whole prompt before it writes a token, at a speed that
varies a hundredfold between a GPU box and a CPU one. One fixed deadline
either kills a long prompt on a slow box while it is still reading, or
waits minutes on a stuck one. So each stream's first-token deadline is
``first_token_base_seconds + prompt_tokens / speed * prefill_margin``,
capped by the attempt's timeout, where the speed is the server's own figure
(``ServerFacts.prefill_tokens_per_second``) or, failing that, learned
(``PrefillSpeeds``) from Octoroute's own time to first byte and from the
``timings`` llama.cpp puts in its answers.

The deadline only applies where the time to first byte is prefill alone:
not when the endpoint is saturated (the request waits in the server's queue
first), nor when its model may have to be loaded or woken first (not
resident, sleeping, or a kind that unloads models and did not say).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from octoroute.backends.registry import EndpointState

EWMA_WEIGHT = 0.3  # share of a new measurement in the learned speed
MIN_LEARN_TOKENS = 32  # prompts shorter than this say more about latency than about prefill speed
MIN_SPEED = 1.0  # tokens per second; learned speeds are clamped into [MIN_SPEED, MAX_SPEED]
MAX_SPEED = 1_000_000.0
# Kinds that keep one model loaded while they run: no load can hide in their first byte.
LOADED_KINDS = frozenset({"llamacpp", "llama-cpp-python", "vllm"})


class PrefillSpeeds:
    """Prompt tokens per second per endpoint, learned as an EWMA of ``tokens / ttfb``.

    Thread-safe; bounded: it knows only the endpoint ids it was built with.
    A time to first byte includes the network and any queueing, so the
    learned speed errs slow, which lengthens deadlines: the safe side.
    """

    def __init__(self, endpoint_ids: Iterable[str]) -> None:
        self._speeds_lock = threading.Lock()  # guards _speeds
        self._speeds: dict[str, float | None] = dict.fromkeys(endpoint_ids)

    def observe(self, endpoint_id: str, prompt_tokens: int, seconds: float) -> None:
        """Learn from one stream whose first byte came ``seconds`` after it was sent."""
        if prompt_tokens < MIN_LEARN_TOKENS or seconds <= 0:
            return
        speed = min(max(prompt_tokens / seconds, MIN_SPEED), MAX_SPEED)
        with self._speeds_lock:
            if endpoint_id not in self._speeds:
                return
            old = self._speeds[endpoint_id]
            self._speeds[endpoint_id] = speed if old is None else old + EWMA_WEIGHT * (speed - old)

    def observe_timings(self, endpoint_id: str, answer: Mapping[str, Any]) -> None:
        """Learn from the ``timings`` a llama.cpp server puts in its answers, when present.

        ``prompt_n`` tokens read in ``prompt_ms``: the server's own prefill
        measure (a cached prompt prefix is not counted in either).
        """
        timings = answer.get("timings")
        if not isinstance(timings, Mapping):
            return
        tokens, ms = timings.get("prompt_n"), timings.get("prompt_ms")
        if (isinstance(tokens, int) and not isinstance(tokens, bool)
                and isinstance(ms, (int, float)) and not isinstance(ms, bool) and ms > 0):
            self.observe(endpoint_id, tokens, ms / 1000.0)

    def learned(self, endpoint_id: str) -> float | None:
        with self._speeds_lock:
            return self._speeds.get(endpoint_id)

    def speed(self, state: EndpointState) -> float | None:
        """The server's own figure when it gives one, else the learned one."""
        told = state.facts.prefill_tokens_per_second
        if told is not None and told > 0:
            return told
        return self.learned(state.endpoint.id)


def first_token_deadline(attempt_timeout: float, prompt_tokens: int, speed: float, *,
                         base: float, margin: float) -> float:
    """``base + prompt_tokens / speed * margin`` seconds, capped by ``attempt_timeout``."""
    return min(attempt_timeout, base + prompt_tokens / speed * margin)


def prefill_only(state: EndpointState, *, queued: bool) -> bool:
    """Whether the endpoint's first byte will wait for prefill alone (no queue, load or wake).

    ``queued``: the endpoint was saturated when chosen, so the server queues
    the request first.
    """
    facts = state.facts
    if queued or facts.resident is False or facts.sleeping is True:
        return False
    if facts.resident is True:
        return True
    kind = facts.kind or (state.endpoint.kind if state.endpoint.kind != "auto" else None)
    return kind in LOADED_KINDS
