"""Turn an OpenAI chat-completions body into routing input. Pure functions.

Routing looks at the last user turn (what is being asked now) for the kind
of ask, at the system prompt and earlier user turns for context (a short
"and in Rust?" after a coding question is still code), and at the whole
conversation for the size: a short follow-up at the end of a 30,000-token
conversation still needs a model that reads 30,000 tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from octoroute.messages import ASK_ROLES, content_text, has_image
from octoroute.routing.router import NO_HEADERS, RouteInput
from octoroute.routing.rules import estimate_tokens

SYSTEM_EXCERPT_CHARS = 1000  # characters of the system prompt kept as context
CONTEXT_TURN_CHARS = 600  # characters kept of each of the last earlier user turns
CONTEXT_TURNS = 2  # earlier user turns kept as context


def conversation_input(messages: Sequence[Any], *, importance: str, task_type: str | None,
                       has_tools: bool, json_response: bool = False,
                       headers: Mapping[str, str] = NO_HEADERS) -> RouteInput:
    """Routing input from a conversation (messages already validated as objects)."""
    user_turns: list[str] = []
    system = ""
    total_tokens = 0
    has_images = False
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        text = content_text(content)
        total_tokens += estimate_tokens(text)
        role = message.get("role")
        if role == "user":
            user_turns.append(text)
            has_images = has_images or has_image(content)
        elif role in ASK_ROLES and not system:
            system = text
    last_user = user_turns[-1] if user_turns else ""
    earlier = [t[:CONTEXT_TURN_CHARS] for t in user_turns[-1 - CONTEXT_TURNS:-1]]
    context = "\n".join(filter(None, (system[:SYSTEM_EXCERPT_CHARS], *earlier)))
    return RouteInput(text=last_user or system, importance=importance, task_type=task_type,
                      token_estimate=total_tokens, has_tools=has_tools, has_images=has_images,
                      json_response=json_response, headers=headers, turns=max(1, len(user_turns)),
                      context=context if last_user else "")
