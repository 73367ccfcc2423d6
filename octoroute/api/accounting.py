"""What the APIs hand to ``Stats.record``: tokens from ``usage``, fallbacks, the brain's verdict.

Tokens come from the backend's ``usage`` (``prompt_tokens``,
``completion_tokens``); a streamed answer is asked for its usage chunk
(``stream_options.include_usage``) and ``UsageTap`` reads it on the way
through, dropping it when the client had not asked for it. Where a backend
gives no usage, tokens are estimated (characters / 4) and flagged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from octoroute.api.streaming import EVENT_END, LINE_END
from octoroute.backends.client import usage_of
from octoroute.config import EndpointConfig
from octoroute.routing.router import Decision
from octoroute.stats import Stats

CHARS_PER_TOKEN = 4  # the seed's estimate, for text without usage (only its length is kept here)
# A JSON string value of "content" (or a reasoning model's "reasoning_content") in a chunk's
# delta: its length (escapes included) is close enough for an estimate, and a regex in C
# costs far less than parsing every event of every stream.
_CONTENT = re.compile(rb'"(?:content|reasoning_content)"\s*:\s*"((?:[^"\\]|\\.)*)"')
_USAGE_OBJECT = re.compile(rb'"usage"\s*:\s*\{')


def estimate_tokens(chars: int) -> int:
    """Tokens for ``chars`` characters of text, rounded up (a non-empty text is at least one)."""
    return -(-max(0, chars) // CHARS_PER_TOKEN)


def content_chars(value: Any) -> int:
    """Characters of text in a message's ``content`` (a string or a list of text parts)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(len(p["text"]) for p in value
                   if isinstance(p, dict) and isinstance(p.get("text"), str))
    return 0


def messages_chars(messages: Iterable[Any]) -> int:
    """Characters of text in a conversation, for an estimate of its prompt tokens."""
    return sum(content_chars(m.get("content")) for m in messages if isinstance(m, dict))


def answer_chars(data: Mapping[str, Any]) -> int:
    """Characters of text in a whole chat completion's choices."""
    choices = data.get("choices")
    if not isinstance(choices, list):
        return 0
    return sum(content_chars(c["message"].get("content")) for c in choices
               if isinstance(c, dict) and isinstance(c.get("message"), dict))


def with_usage_requested(data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The body with ``stream_options.include_usage`` on, and whether the client asked for it."""
    options = data.get("stream_options")
    asked = isinstance(options, dict) and options.get("include_usage") is True
    if asked:
        return data, True
    body = dict(data)
    body["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    return body, False


class UsageTap:
    """Reads a stream's usage chunk on the way through; strips it unless the client asked.

    Called with whole SSE events (``StreamRelay``'s ``events_filter``). Only
    a read holding a ``"usage": {`` object is split into events and parsed;
    every other read costs one regex pass counting answer characters (the
    estimate, should no usage arrive).
    """

    __slots__ = ("answer_chars", "strip", "usage")

    def __init__(self, *, strip: bool) -> None:
        self.strip = strip
        self.usage: tuple[int, int] | None = None
        self.answer_chars = 0

    def __call__(self, events: bytes) -> bytes:
        for match in _CONTENT.finditer(events):
            self.answer_chars += len(match.group(1))
        if _USAGE_OBJECT.search(events) is None:
            return events
        kept: list[bytes] = []
        start = 0
        for match in EVENT_END.finditer(events):
            event = events[start:match.end()]
            start = match.end()
            if _USAGE_OBJECT.search(event) is not None and self._usage_only(event):
                continue
            kept.append(event)
        kept.append(events[start:])
        return b"".join(kept)

    def _usage_only(self, event: bytes) -> bool:
        """Note the event's usage; whether it is the usage-only chunk to drop."""
        payload = b"\n".join(line[5:].lstrip(b" ") for line in LINE_END.split(event)
                             if line.startswith(b"data:"))
        try:
            data = json.loads(payload)
        except ValueError:
            return False
        usage = usage_of(data)
        if usage is None:
            return False
        self.usage = usage
        return self.strip and data.get("choices") == []


Failure = tuple[str, str, str]  # endpoint id, tier, outcome of one failed attempt


def failures(attempts: Iterable[Any]) -> list[Failure]:
    """The failed attempts of a call: the dispatcher's ``Attempt`` objects or their dicts."""
    out: list[Failure] = []
    for a in attempts:
        if isinstance(a, Mapping):
            endpoint, tier, outcome = a.get("endpoint"), a.get("tier"), a.get("outcome")
        else:
            endpoint, tier, outcome = a.endpoint, a.tier, a.outcome
        if outcome != "success":
            out.append((str(endpoint), str(tier), str(outcome)))
    return out


def fallback_reason(decision: Decision, served_tier: str | None, failed: Sequence[Failure]) -> str | None:
    """Why a request was not served as routed, as a short code (or ``None``).

    ``tier_fallback:<kind>``: another tier served it (kind: the first failed
    attempt's outcome in the routed tier, or ``unavailable`` when that tier
    had no endpoint to try); ``endpoint_failover:<kind>``: another endpoint
    of the routed tier did; ``brain_failed``: the router brain gave no usable
    answer. A handful of codes in all, so the counts stay bounded.
    """
    if served_tier is not None and served_tier != decision.tier:
        in_tier = [f for f in failed if f[1] == decision.tier]
        return f"tier_fallback:{in_tier[0][2] if in_tier else 'unavailable'}"
    if failed and served_tier is not None:
        return f"endpoint_failover:{failed[0][2]}"
    if decision.brain == "failed":
        return "brain_failed"
    return None


def brain_verdict(decision: Decision) -> str | None:
    """``agreed`` / ``disagreed`` with the scorer, ``failed``, or ``None`` (not consulted)."""
    if decision.brain is None:
        return None
    if decision.brain == "failed":
        return "failed"
    return "agreed" if decision.tier == decision.scorer_tier else "disagreed"


def account(stats: Stats | None, *, api: str, request_id: str, decision: Decision,
            endpoint: EndpointConfig | None, attempts: Iterable[Any], usage: tuple[int, int] | None,
            prompt_chars: int, answer_chars: int, duration_s: float, status: int,
            ttft_s: float | None = None, stream: bool = False, failed: bool | None = None,
            prompt: str | None = None) -> tuple[int, int, bool]:
    """Record one routed request in ``stats``; return ``(tokens_in, tokens_out, estimated)``.

    ``usage`` is the backend's figures; without them the tokens are estimated
    from ``prompt_chars`` and ``answer_chars``. A failed request (nothing
    served) passes ``endpoint=None`` and is counted under its routed tier.
    """
    if usage is not None:
        tokens_in, tokens_out, estimated = usage[0], usage[1], False
    elif endpoint is None:
        tokens_in, tokens_out, estimated = 0, 0, False
    else:
        tokens_in, tokens_out, estimated = estimate_tokens(prompt_chars), estimate_tokens(answer_chars), True
    if stats is None:
        return tokens_in, tokens_out, estimated
    failed_attempts = failures(attempts)
    served_tier = endpoint.tier if endpoint is not None else None
    stats.record(tier=served_tier or decision.tier, endpoint=endpoint.id if endpoint is not None else None,
                 tokens_in=tokens_in, tokens_out=tokens_out, estimated=estimated,
                 duration_s=duration_s, ttft_s=ttft_s, status=status, stream=stream, failed=failed,
                 fallback=fallback_reason(decision, served_tier, failed_attempts),
                 failed_endpoints=[f[0] for f in failed_attempts], routed_tier=decision.tier,
                 strategy=decision.strategy, rule=decision.rule, reason=decision.reason,
                 confidence=decision.confidence, brain=brain_verdict(decision),
                 request_id=request_id, api=api, prompt=prompt)
    return tokens_in, tokens_out, estimated
