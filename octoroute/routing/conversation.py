"""Turn an OpenAI chat-completions body into routing input. Pure functions.

Routing looks at the last user turn (what is being asked now) for the task
type, and at the whole conversation for the size: a short follow-up at the
end of a 30,000-token conversation still needs a model that reads 30,000
tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from octoroute.routing.router import RouteInput
from octoroute.routing.rules import infer_task_type

SYSTEM_EXCERPT_CHARS = 1000  # characters of the system prompt added to the routing text


def content_text(content: Any) -> str:
    """The text of a message's ``content``: a string, or the text parts of an array."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    parts.append(text)
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return ""


def conversation_input(messages: Sequence[Any], *, importance: str, task_type: str | None,
                       has_tools: bool) -> RouteInput:
    """Routing input from a conversation (messages already validated as objects)."""
    last_user = ""
    system = ""
    total_chars = 0
    for message in messages:
        if not isinstance(message, dict):
            continue
        text = content_text(message.get("content"))
        total_chars += len(text)
        role = message.get("role")
        if role == "user":
            last_user = text
        elif role in ("system", "developer") and not system:
            system = text
    routing_text = last_user or system
    was_inferred = task_type is None
    if task_type is None:
        inferred = infer_task_type(routing_text)
        if inferred in ("casual_chat", "question_answer") and (
                has_tools or (system and infer_task_type(system[:SYSTEM_EXCERPT_CHARS]) == "code")):
            # NOTE: tool use and coding-assistant system prompts need a capable
            # model even for a short turn; "code" routes them to balanced or deep.
            inferred = "code"
        task_type = inferred
    return RouteInput(text=routing_text, importance=importance, task_type=task_type,
                      token_estimate=total_chars // 4, task_type_inferred=was_inferred)
