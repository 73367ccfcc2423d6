"""Conversation sessions: route a conversation, not each message on its own.

A conversation that needed ``deep`` for its hard question should not drop to
``fast`` for the "thanks, and one more thing" that follows: the small model
would answer a follow-up in a context it cannot carry. So a session escalates
at once (a harder turn gets the larger tier immediately) but comes down one
tier only after ``downgrade_after`` consecutive lower decisions, and a
tool-call continuation stays on the tier that issued the call (another model
would have to make sense of a tool call it did not make).

Memory is bounded: an LRU of at most ``max_sessions`` entries, and a session
idle for ``idle_seconds`` (by the injected clock) is forgotten. Keys are
digests, never the client's text: a session id may be shown in a response
header and a log line.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from octoroute.config import TIERS, SessionsConfig
from octoroute.messages import ASK_ROLES, content_text
from octoroute.metrics import SESSION_HELD_REASONS, Metrics

SESSION_HEADER = "X-Session-ID"
KEY_DIGEST_BYTES = 8  # 16 hex characters: collisions need ~4 billion live sessions
# Characters of the system prompt and of the first user turn hashed into a key, with
# both full lengths. A key from 2 x 4,000 characters cost 34-51 us on the shared
# (loaded) 2-core test machine, from 2 x 1,000 13-16 us (best of 5, 3 rounds); the
# lengths tell apart most conversations whose openings share their first 1,000.
FIRST_TURN_CHARS = 1000

HELD_HYSTERESIS, HELD_TOOL_CONTINUATION = SESSION_HELD_REASONS

_RANK = {tier: i for i, tier in enumerate(TIERS)}


def _digest(kind: str, value: str) -> str:
    # The kind keeps a header id "x" and a user field "x" apart.
    data = f"{kind}\x00{value}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=KEY_DIGEST_BYTES).hexdigest()


def session_key(header: str | None, user: Any, messages: Sequence[Any]) -> str:
    """The session's key: ``X-Session-ID``, else the body's ``user``, else the first turn.

    A conversation resent whole each turn (as the OpenAI API has clients do)
    starts with the same system prompt and first user message every time, so
    their digest names the conversation when the client names nothing. Two
    users opening with the same words share a session; a client that cares
    sends ``X-Session-ID`` or ``user``.
    """
    if header is not None and header.strip():
        return _digest("header", header.strip())
    if isinstance(user, str) and user.strip():
        return _digest("user", user.strip())
    system = ""
    first_user = ""
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role in ASK_ROLES and not system:
            system = content_text(message.get("content"))
        elif role == "user":
            first_user = content_text(message.get("content"))
            break
    return _digest("conversation", f"{len(system)}:{len(first_user)}\x00{system[:FIRST_TURN_CHARS]}"
                                   f"\x00{first_user[:FIRST_TURN_CHARS]}")


def is_tool_continuation(messages: Sequence[Any]) -> bool:
    """Whether the conversation is answering a tool call: the last message is a tool
    result, or the last assistant message asked for tools."""
    if not messages:
        return False
    last = messages[-1]
    if isinstance(last, dict) and last.get("role") in ("tool", "function"):
        return True
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "assistant":
            return bool(message.get("tool_calls")) or bool(message.get("function_call"))
    return False


@dataclass
class _Session:
    """One conversation's state; mutated only under ``SessionTracker._sessions_lock``."""

    tier: str
    lower_streak: int  # consecutive decisions below ``tier``
    seen_at: float  # clock time of the last decision


class SessionTracker:
    """Holds each session's tier and applies the hysteresis; safe to share between threads."""

    def __init__(self, config: SessionsConfig, *, clock: Callable[[], float] = time.monotonic,
                 metrics: Metrics | None = None) -> None:
        self._downgrade_after = config.downgrade_after
        self._max_sessions = config.max_sessions
        self._idle_seconds = config.idle_seconds
        self._clock = clock
        self._metrics = metrics
        self._sessions_lock = threading.Lock()  # guards _sessions and every _Session in it
        # Least recently seen first: expiry and eviction both pop from the front.
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        if metrics is not None:
            metrics.sessions_active.set_function(self.active)

    def settle(self, key: str, decided_tier: str, *, tool_continuation: bool = False
               ) -> tuple[str, str | None]:
        """The tier to serve for ``key`` given the router's ``decided_tier``.

        Returns ``(tier, note)``; ``note`` says why the session did not take
        the router's tier (``None`` when it did).
        """
        now = self._clock()
        held: str | None = None
        escalated = False
        with self._sessions_lock:
            self._expire(now)
            session = self._sessions.get(key)
            if session is None:
                self._sessions[key] = _Session(decided_tier, 0, now)
                if len(self._sessions) > self._max_sessions:
                    self._sessions.popitem(last=False)
                return decided_tier, None
            self._sessions.move_to_end(key)
            session.seen_at = now
            current = session.tier
            if tool_continuation:
                tier = current
                note = (None if current == decided_tier else
                        f"held by session: tool-call continuation on {current}")
                held = HELD_TOOL_CONTINUATION if note is not None else None
            elif _RANK[decided_tier] >= _RANK[current]:
                escalated = decided_tier != current
                session.tier, session.lower_streak = decided_tier, 0
                tier, note = decided_tier, None
            else:
                session.lower_streak += 1
                if session.lower_streak >= self._downgrade_after:
                    # One tier down per streak: deep -> balanced -> fast, never deep -> fast at once.
                    tier = TIERS[_RANK[current] - 1]
                    session.tier, session.lower_streak = tier, 0
                    note = (None if tier == decided_tier else
                            f"session stepped down from {current} to {tier} after "
                            f"{self._downgrade_after} lower decisions")
                else:
                    tier = current
                    note = (f"held by session: {session.lower_streak} of {self._downgrade_after} "
                            "lower decisions")
                held = HELD_HYSTERESIS if note is not None else None
        if self._metrics is not None:
            if held is not None:
                self._metrics.session_held.labels(reason=held).inc()
            if escalated:
                self._metrics.session_escalations.labels(to_tier=tier).inc()
        return tier, note

    def active(self) -> int:
        """Sessions seen within ``idle_seconds``; forgets the others."""
        now = self._clock()
        with self._sessions_lock:
            self._expire(now)
            return len(self._sessions)

    def tier_of(self, key: str) -> str | None:
        """The session's current tier, or ``None`` when it is unknown or expired."""
        now = self._clock()
        with self._sessions_lock:
            self._expire(now)
            session = self._sessions.get(key)
            return None if session is None else session.tier

    def _expire(self, now: float) -> None:
        # The front is the least recently seen, so the scan stops at the first live session.
        cutoff = now - self._idle_seconds
        sessions = self._sessions
        while sessions:
            oldest = next(iter(sessions.values()))
            if oldest.seen_at > cutoff:
                break
            sessions.popitem(last=False)

