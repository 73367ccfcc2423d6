"""The router brain: ask a small LLM which tier a request needs.

The question names the options FAST, BALANCED and DEEP and asks for one
word; the answer is parsed leniently (case, punctuation, markdown, the seed's
``FAST_8B`` spellings, ``<think>`` blocks) but never guessed: an answer that
names no tier, or more than one, is unusable and the caller falls back to the
default tier.
"""

from __future__ import annotations

import json
import re
from typing import Any

ROUTER_MAX_TOKENS = 16  # tokens; one word is all we need (thinking models may need more)
TOOL_MAX_TOKENS = 64  # tokens; a tool call is a little longer than a word
PROMPT_EXCERPT_CHARS = 500  # characters of the user's request shown to the brain
TOOL_NAME = "select_tier"

# Whole word, where "_" counts as punctuation so markdown's __DEEP__ and _fast_ are read.
_TIER_WORD = re.compile(r"(?<![^\W_])(fast|balanced|deep)(?:[_\- ](?:8b|30b|120b))?(?![^\W_])",
                        re.IGNORECASE)
# Phrases of the question that no real answer contains.
_ECHO_PHRASES = ("route requests to one of", "a small 8b model", "a 30b model", "a 120b model",
                 "reply with exactly one word", "request metadata:")
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.IGNORECASE | re.DOTALL)

_QUESTION = """You route requests to one of three language models.
FAST: a small 8B model. Quick and cheap; as good as the others for chat, simple
questions, writing, rewriting, translation, role-play and short summaries.
BALANCED: a 30B model. For ordinary code, maths, data extraction and analysis.
DEEP: a 120B model. Slow and costly; for proofs, multi-step reasoning and maths,
hard or security/concurrency code, system design.

Request metadata: task type {task_type}, importance {importance}, about {tokens} tokens.
Request (may be truncated):
<<<
{excerpt}
>>>

Which model should answer it? Reply with exactly one word: FAST, BALANCED or DEEP."""


def build_question(prompt: str, *, task_type: str, importance: str, tokens: int) -> str:
    excerpt = prompt[:PROMPT_EXCERPT_CHARS]
    if len(prompt) > PROMPT_EXCERPT_CHARS:
        excerpt += " [...]"
    return _QUESTION.format(task_type=task_type, importance=importance, tokens=tokens,
                            excerpt=excerpt)


def parse_tier(text: str | None) -> str | None:
    """The single tier an answer names, or ``None`` if it names none or several."""
    if not text:
        return None
    text = _THINK.sub(" ", text)
    found = {m.group(1).lower() for m in _TIER_WORD.finditer(text)}
    if len(found) == 1:
        return found.pop()
    return None


def tool_definition() -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": "Select the model tier that should answer the user's request.",
            "parameters": {
                "type": "object",
                "properties": {"tier": {"type": "string", "enum": ["fast", "balanced", "deep"],
                                        "description": "fast (8B), balanced (30B) or deep (120B)"}},
                "required": ["tier"],
            },
        },
    }


def question_payload(model: str, question: str, *, use_tool: bool) -> dict[str, Any]:
    """The chat-completions body sent to the router brain (temperature 0)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": question}],
        "temperature": 0,
        "max_tokens": TOOL_MAX_TOKENS if use_tool else ROUTER_MAX_TOKENS,
        "stream": False,
    }
    if use_tool:
        body["tools"] = [tool_definition()]
        body["tool_choice"] = {"type": "function", "function": {"name": TOOL_NAME}}
    return body


def answer_tier(data: dict[str, Any]) -> tuple[str | None, str]:
    """Read the tier from a chat-completions answer: tool call first, then text.

    Returns the tier (or None) and a short description of what was read, for
    warnings and DEBUG logs.
    """
    try:
        message = data["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        return None, "answer has no choices[0].message"
    if not isinstance(message, dict):
        return None, "answer message is not an object"
    calls = message.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        try:
            fn = call["function"]
            if fn.get("name") != TOOL_NAME:
                continue
            args = fn.get("arguments")
            parsed = json.loads(args) if isinstance(args, str) else args
            tier = parsed.get("tier") if isinstance(parsed, dict) else None
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
            continue
        if isinstance(tier, str):
            picked = parse_tier(tier)
            if picked:
                return picked, f"tool call tier={tier!r}"
    content = message.get("content")
    if isinstance(content, str):
        if is_echo(content):
            return None, f"the brain repeated the question ({content[:40]!r})"
        return parse_tier(content), f"text {content[:40]!r}"
    return None, "answer has neither a usable tool call nor text"


def is_echo(text: str) -> bool:
    """Whether an answer repeats the question instead of answering it.

    Small models at temperature 0 often do (Gemma 3 270M always did): cut at
    max_tokens right after "FAST: a small", the echo names exactly one tier
    and would pass for a decision.
    """
    lowered = text.lower()
    return any(phrase in lowered for phrase in _ECHO_PHRASES)
