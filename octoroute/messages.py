"""The text of OpenAI chat messages. Pure functions; imports nothing of Octoroute's.

Both the router (``routing/conversation.py``) and the configuration (a
calibration bank's conversations, read in ``config.py``) need the text a
conversation is routed on; it lives below both so the configuration never
imports the routing package and both read a conversation the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ASK_ROLES = ("system", "developer")  # roles whose first message is the ask when no user turn is


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


def has_image(content: Any) -> bool:
    """Whether a message's ``content`` array carries an image part."""
    return isinstance(content, list) and any(
        isinstance(part, dict) and part.get("type") in ("image_url", "input_image", "image")
        for part in content)


def routed_text(messages: Sequence[Any]) -> str:
    """The text a conversation is routed on: its last user turn, else its first system prompt."""
    last_user = ""
    system = ""
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role == "user":
            last_user = content_text(message.get("content"))
        elif role in ASK_ROLES and not system:
            system = content_text(message.get("content"))
    return last_user or system
