"""Recognise a backend's "the prompt does not fit my context window" answer.

Each server says it differently (read from their sources and bug trackers):

- llama.cpp ``llama-server``: HTTP 400, ``error.type`` ``exceed_context_size_error``
  with ``n_prompt_tokens`` and ``n_ctx`` ("request (4476 tokens) exceeds the
  available context size (4096 tokens)").
- llama-cpp-python: HTTP 400, ``error.code`` ``context_length_exceeded`` ("This
  model's maximum context length is 2048 tokens. However, you requested 2300
  tokens (2044 in the messages, 256 in the completion)"); a streamed request
  that overflows is an HTTP 200 with an empty body instead (the dispatcher
  recognises that one, knowing the endpoint's kind).
- vLLM: HTTP 400, "This model's maximum context length is 8192 tokens. However,
  you requested ..." (newer: "... your request has N input tokens").
- LM Studio: HTTP 400, "Trying to keep the first 10136 tokens when context the
  overflows. However, the model is loaded with context length of only 7866
  tokens", or "The number of tokens to keep from the initial prompt is greater
  than the context length", or "Context size has been exceeded" (MLX).
- Ollama truncates a long prompt silently: nothing to recognise.

An overflow says nothing about the endpoint's health: the request is moved to
a larger context window, and the endpoint is not penalised.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from octoroute.errors import BackendError

OVERFLOW_KIND = "context_overflow"  # the BackendError kind of a recognised overflow
MAX_PARSED_BYTES = 65536  # bytes of an error answer looked at

_PHRASES = (
    "exceed_context_size_error",
    "context_length_exceeded",
    "maximum context length",
    "exceeds the available context size",
    "context the overflows",
    "is greater than the context length",
    "context size has been exceeded",
    "context length of only",
)
# "maximum context length is 8192 tokens" (llama-cpp-python, vLLM);
# "context length of only 7866 tokens" (LM Studio); "context size (4096 tokens)" (llama-server).
_WINDOW = re.compile(r"(?:maximum context length is|context length of only|context size \()\s*(\d+)")
# "you requested 2300 tokens (2044 in the messages" / "request has 4176 input tokens" /
# "keep the first 10136 tokens" / "request (4476 tokens)".
_PROMPT = re.compile(r"\((\d+) in the messages|has (\d+) input tokens|keep the first (\d+) tokens"
                     r"|request \((\d+) tokens\)")


@dataclass(frozen=True)
class Overflow:
    """A recognised overflow, with the numbers the server gave (``None``: not said)."""

    message: str
    prompt_tokens: int | None = None  # the server's own count of the prompt
    context_window: int | None = None  # the server's n_ctx


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def recognise(status: int, body: bytes) -> Overflow | None:
    """The overflow an error answer reports, or ``None`` when it is another error.

    Only 400 and 413 are looked at: a 5xx is a server fault even when its
    text mentions the context.
    """
    if status not in (400, 413):
        return None
    text = body[:MAX_PARSED_BYTES].decode("utf-8", "replace")
    lowered = text.lower()
    if not any(p in lowered for p in _PHRASES):
        return None
    prompt_tokens: int | None = None
    window: int | None = None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        prompt_tokens = _int(error.get("n_prompt_tokens"))
        window = _int(error.get("n_ctx"))
    if window is None and (m := _WINDOW.search(lowered)):
        window = int(m.group(1))
    if prompt_tokens is None and (m := _PROMPT.search(lowered)):
        prompt_tokens = int(next(g for g in m.groups() if g is not None))
    message = "prompt exceeds the context window"
    if prompt_tokens is not None and window is not None:
        message += f" ({prompt_tokens} prompt tokens, n_ctx {window})"
    elif window is not None:
        message += f" (n_ctx {window})"
    return Overflow(message, prompt_tokens, window)


class ContextOverflowError(BackendError):
    """A backend said the prompt does not fit: retryable elsewhere, never a health failure."""

    def __init__(self, overflow: Overflow, *, status_code: int | None) -> None:
        super().__init__(overflow.message, kind=OVERFLOW_KIND, retryable=True, status_code=status_code)
        self.overflow = overflow


class EmptyStreamError(BackendError):
    """A streamed 2xx whose body ended before its first byte.

    From most servers a broken answer (``bad_response``); from
    llama-cpp-python it is how a streamed overflow looks, which only the
    caller, knowing the endpoint's kind, can tell.
    """

    def __init__(self) -> None:
        super().__init__("stream ended before its first byte", kind="bad_response")
