"""Will a request fit an endpoint's context window? Cheap estimates, learned per endpoint.

A request's prompt is measured in characters once (``ContextNeed``); each
endpoint turns characters into tokens with its own learned ratio (from the
``usage.prompt_tokens`` its answers carry, and the ``n_prompt_tokens`` of its
overflow errors), starting from about four characters a token. A tokenizer
would be exact but costs milliseconds and a dependency per model family; the
estimate only has to tell "surely fits" from "surely not", and an overflow
the estimate missed is still recognised and moved (``overflow.py``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from octoroute.backends.registry import EndpointState

DEFAULT_TOKENS_PER_CHAR = 0.25  # tokens per character of English text, before any is learned
MIN_TOKENS_PER_CHAR = 0.05  # a learned ratio is clamped to this range, so one odd answer
MAX_TOKENS_PER_CHAR = 1.5  # (say, a cached prompt counted as 0) cannot poison the estimate
LEARN_WEIGHT = 0.3  # weight of the newest observation in the moving average
MESSAGE_OVERHEAD_TOKENS = 4  # tokens of chat template per message (role markers, separators)
MIN_LEARN_CHARS = 200  # shorter prompts are mostly template: they teach nothing about the ratio


@dataclass(frozen=True)
class ContextNeed:
    """What one request needs of a context window, before any endpoint is chosen.

    ``max_tokens`` is what the client asked to generate (``None``: it did not
    say, and the endpoint's own ``max_tokens`` is what gets sent, or, under
    ``/v1``, nothing); ``min_window`` grows when an endpoint answered with an
    overflow: an endpoint whose window is known to be no larger is skipped.
    """

    chars: int  # characters of prompt text (messages' contents, tool schemas)
    messages: int = 1
    max_tokens: int | None = None
    reserve_default: bool = True  # no max_tokens from the client: reserve the endpoint's own
    min_window: int = 0  # tokens; learned from overflows during this request


def need_for_messages(messages: Iterable[Any], *, max_tokens: int | None, tools: Any = None,
                      reserve_default: bool) -> ContextNeed:
    """The ``ContextNeed`` of an OpenAI ``messages`` list (text parts counted; images not).

    NOTE: ``type(x) is dict`` rather than ``Mapping`` checks: the body is parsed
    JSON, and the ABC checks cost two thirds of the time (six messages of 3,500
    characters, 3 runs on the shared host: 18-23 us with them, 7 us without).
    """
    chars = 0
    count = 0
    for message in messages:
        count += 1
        if type(message) is not dict:
            continue
        content = message.get("content")
        if type(content) is str:
            chars += len(content)
        elif type(content) is list:
            for part in content:
                if type(part) is dict:
                    text = part.get("text")
                    if type(text) is str:
                        chars += len(text)
        calls = message.get("tool_calls")
        if calls:
            chars += len(str(calls))
    if tools:
        chars += len(str(tools))
    return ContextNeed(chars=chars, messages=max(1, count), max_tokens=max_tokens,
                       reserve_default=reserve_default)


class ContextBook:
    """Per-endpoint tokens-per-character ratios and overflow-learned windows (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards _ratios and _windows
        self._ratios: dict[str, float] = {}
        self._windows: dict[str, int] = {}  # n_ctx an overflow error reported

    def ratio(self, endpoint_id: str) -> float:
        return self._ratios.get(endpoint_id, DEFAULT_TOKENS_PER_CHAR)

    def prompt_tokens(self, endpoint_id: str, need: ContextNeed) -> int:
        """The estimated prompt tokens of ``need`` on this endpoint."""
        return (math.ceil(need.chars * self.ratio(endpoint_id))
                + MESSAGE_OVERHEAD_TOKENS * need.messages)

    def learn(self, endpoint_id: str, need: ContextNeed, prompt_tokens: int) -> None:
        """Fold the server's own count of a prompt into the endpoint's ratio."""
        if need.chars < MIN_LEARN_CHARS or prompt_tokens <= 0:
            return
        observed = (prompt_tokens - MESSAGE_OVERHEAD_TOKENS * need.messages) / need.chars
        observed = min(max(observed, MIN_TOKENS_PER_CHAR), MAX_TOKENS_PER_CHAR)
        with self._lock:
            old = self._ratios.get(endpoint_id)
            self._ratios[endpoint_id] = observed if old is None else (
                old + LEARN_WEIGHT * (observed - old))

    def learn_usage(self, endpoint_id: str, need: ContextNeed, data: Mapping[str, Any]) -> None:
        """Learn from a chat answer's ``usage.prompt_tokens``, when it carries one."""
        usage = data.get("usage")
        tokens = usage.get("prompt_tokens") if isinstance(usage, Mapping) else None
        if isinstance(tokens, int) and not isinstance(tokens, bool):
            self.learn(endpoint_id, need, tokens)

    def learn_window(self, endpoint_id: str, window: int) -> None:
        """Remember an ``n_ctx`` an overflow reported, for endpoints whose window is unknown."""
        with self._lock:
            self._windows[endpoint_id] = window

    def window(self, state: EndpointState) -> int | None:
        """The endpoint's context window: configured, else what its server says, else learned."""
        e = state.endpoint
        if e.context_window is not None:
            return e.context_window
        if state.facts.context_window is not None:
            return state.facts.context_window
        return self._windows.get(e.id)

    def reserve(self, state: EndpointState, need: ContextNeed) -> int:
        """Tokens the answer may take: what will be sent as ``max_tokens`` to this endpoint."""
        limit = state.endpoint.max_tokens
        if need.max_tokens is not None:
            return min(need.max_tokens, limit)
        return limit if need.reserve_default else 0

    def required(self, state: EndpointState, need: ContextNeed) -> int:
        """Estimated prompt tokens plus the answer's reserve, on this endpoint."""
        return self.prompt_tokens(state.endpoint.id, need) + self.reserve(state, need)

    def fits(self, state: EndpointState, need: ContextNeed) -> bool:
        """Whether ``need`` may fit: an unknown window may; a window an overflow ruled out may not."""
        window = self.window(state)
        if window is None:
            return True
        if window <= need.min_window:
            return False
        return self.required(state, need) <= window
