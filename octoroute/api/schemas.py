"""JSON schemas of request bodies, and their errors as one clear sentence.

This is the only module that imports jsonschema. Validators are compiled
once; an error message always names the field and says what would be valid.
"""

from __future__ import annotations

import difflib
import functools
import re
from typing import TYPE_CHECKING, Any

from octoroute.config import IMPORTANCES
from octoroute.errors import RequestError
from octoroute.routing.rules import TASK_TYPES

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

MAX_PROMPT_CHARS = 100_000  # characters; longer prompts are rejected with 400

# A prompt needs one character that is not blank in either Python's sense
# (str.isspace: also \x1c-\x1f and \x85) or ECMAScript's (\s: also \ufeff),
# so /openapi.json can state the same rule as a pattern that fuzzers and
# clients read with ECMAScript regular expressions.
PROMPT_TEXT_PATTERN = r"[^\s\x1c-\x1f\x85\ufeff]"
PROMPT_TEXT = re.compile(PROMPT_TEXT_PATTERN)

CHAT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string", "maxLength": MAX_PROMPT_CHARS,
                   "description": "The user's message; must not be blank."},
        "importance": {"enum": list(IMPORTANCES)},
        "task_type": {"enum": list(TASK_TYPES)},
        "model": {"type": ["string", "null"], "maxLength": 256,
                  "description": "null or auto to route; a tier, alias or endpoint id to choose."},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "max_tokens": {"type": "integer", "minimum": 1},
    },
}


@functools.cache
def validator(which: str) -> Any:
    """The compiled validator of ``"chat"`` or ``"openai"``, built on first use.

    NOTE: importing jsonschema costs ~0.1 s of start-up; valid requests never
    need it (see the fast path below), so only the first invalid one pays.
    """
    from jsonschema import Draft202012Validator

    return Draft202012Validator(CHAT_SCHEMA if which == "chat" else OPENAI_CHAT_SCHEMA)


def _first_error(which: str, data: Any) -> ValidationError | None:
    """The first error by position in the document, so messages are stable."""
    errors = sorted(validator(which).iter_errors(data), key=lambda e: list(e.absolute_path))
    return errors[0] if errors else None


_TYPE_NAMES = {"string": "a string", "number": "a number", "integer": "an integer",
               "object": "a JSON object", "array": "an array", "boolean": "true or false",
               "null": "null"}


def _describe(error: ValidationError, schema: dict[str, Any]) -> RequestError:
    path = ".".join(str(p) for p in error.absolute_path)
    field = path or None
    v = str(error.validator)
    sub: dict[str, Any] = dict(error.schema) if isinstance(error.schema, dict) else {}
    expected: Any = error.validator_value
    instance: Any = error.instance
    if v == "additionalProperties" and isinstance(instance, dict):
        known = [str(k) for k in sub.get("properties", {})]
        extra = [k for k in instance if k not in known]
        name = str(extra[0]) if extra else "?"
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(known)}"
        shown = name if len(name) <= 64 else name[:64] + "..."
        where = f"{path}.{shown}" if path else shown
        return RequestError(f"unknown field {shown!r}{hint}", param=where, code="unknown_field")
    if v == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "?"
        where = f"{path}.{missing}" if path else missing
        return RequestError(f"field {missing!r} is required", param=where, code="missing_field")
    if v == "type":
        types = expected if isinstance(expected, list) else [expected]
        want = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in types)
        return RequestError(f"field {path!r} must be {want}, got {_json_type(instance)}",
                            param=field, code="invalid_type")
    if v == "enum":
        options = ", ".join(str(o) for o in expected)
        return RequestError(f"field {path!r} must be one of: {options}", param=field, code="invalid_value")
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        low, high = sub.get("minimum"), sub.get("maximum")
        rng = f"from {low} to {high}" if low is not None and high is not None else (
            f"at least {low}" if low is not None else f"at most {high}")
        return RequestError(f"field {path!r} must be {rng}, got {instance}", param=field,
                            code="invalid_value")
    if v == "maxLength":
        return RequestError(f"field {path!r} is too long ({len(instance)} characters; "
                            f"at most {expected})", param=field, code="too_long")
    return RequestError(f"field {path!r} is invalid", param=field, code="invalid_value")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def validate_chat(data: Any) -> dict[str, Any]:
    """Validate a ``POST /chat`` body; return it or raise ``RequestError``."""
    if not isinstance(data, dict):
        raise RequestError(f"request body must be a JSON object, got {_json_type(data)}",
                           code="invalid_type")
    if not _chat_surely_valid(data):
        error = _first_error("chat", data)
        if error is not None:
            raise _describe(error, CHAT_SCHEMA)
    if not PROMPT_TEXT.search(data["prompt"]):
        raise RequestError("field 'prompt' must not be empty or blank", param="prompt",
                           code="invalid_value")
    if isinstance(data.get("max_tokens"), float):
        # JSON Schema counts 4.0 as an integer; strict OpenAI servers reject it upstream.
        data["max_tokens"] = int(data["max_tokens"])
    return data


# --- OpenAI chat completions -------------------------------------------------
# Permissive on purpose: fields this version does not know are forwarded
# untouched. Only what Octoroute itself reads or rewrites is checked.
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_OPTIONAL_POSITIVE_INT: dict[str, Any] = {"type": ["integer", "null"], "minimum": 1}
OPENAI_CHAT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "model": {"type": ["string", "null"], "maxLength": 256},
        "messages": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object", "required": ["role"],
                "properties": {
                    "role": {"enum": list(ROLES)},
                    "content": {"type": ["string", "array", "null"]},
                    "name": {"type": "string"},
                },
            },
        },
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {"type": ["object", "null"]},
        "max_tokens": _OPTIONAL_POSITIVE_INT,
        "max_completion_tokens": _OPTIONAL_POSITIVE_INT,
        "n": _OPTIONAL_POSITIVE_INT,
        "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
        "top_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "tools": {"type": ["array", "null"]},
    },
}


def validate_openai_chat(data: Any) -> dict[str, Any]:
    """Validate a ``POST /v1/chat/completions`` body; return it or raise ``RequestError``."""
    if not isinstance(data, dict):
        raise RequestError(f"request body must be a JSON object, got {_json_type(data)}",
                           code="invalid_type")
    if _openai_surely_valid(data):
        return data
    error = _first_error("openai", data)
    if error is not None:
        if error.validator == "minItems":
            raise RequestError("field 'messages' must contain at least one message",
                               param="messages", code="invalid_value")
        raise _describe(error, OPENAI_CHAT_SCHEMA)
    return data


# --- the fast path ---------------------------------------------------------
# jsonschema's validators cost ~100 us a request in pure Python. These checks
# answer "certainly valid" for the ordinary request in a few microseconds, and
# anything they are unsure of (including valid oddities such as 4.0 for an
# integer) goes to jsonschema, which stays the single authority on errors.
# tests/test_schemas_fastpath.py checks that both agree on generated input.

_CHAT_KEYS = frozenset(CHAT_SCHEMA["properties"])
_IMPORTANCE_SET = frozenset(IMPORTANCES)
_TASK_SET = frozenset(TASK_TYPES)
_ROLE_SET = frozenset(ROLES)


def _member(value: Any, options: frozenset[str]) -> bool:
    return type(value) is str and value in options


def _number_in(value: Any, low: float, high: float) -> bool:
    kind = type(value)
    return (kind is int or kind is float) and low <= value <= high


def _positive_int_or_none(value: Any) -> bool:
    return value is None or (type(value) is int and value >= 1)


def _chat_surely_valid(data: dict[str, Any]) -> bool:
    if not _CHAT_KEYS.issuperset(data):
        return False
    prompt = data.get("prompt")
    if type(prompt) is not str or len(prompt) > MAX_PROMPT_CHARS:
        return False
    if "importance" in data and not _member(data["importance"], _IMPORTANCE_SET):
        return False
    if "task_type" in data and not _member(data["task_type"], _TASK_SET):
        return False
    model = data.get("model")
    if model is not None and (type(model) is not str or len(model) > 256):
        return False
    if "temperature" in data and not _number_in(data["temperature"], 0, 2):
        return False
    return "max_tokens" not in data or (type(data["max_tokens"]) is int and data["max_tokens"] >= 1)


def _openai_surely_valid(data: dict[str, Any]) -> bool:
    messages = data.get("messages")
    if type(messages) is not list or not messages:
        return False
    for m in messages:
        if type(m) is not dict or not _member(m.get("role"), _ROLE_SET):
            return False
        content = m.get("content")
        if content is not None and type(content) is not str and type(content) is not list:
            return False
        if "name" in m and type(m["name"]) is not str:
            return False
    get = data.get
    model = get("model")
    if model is not None and (type(model) is not str or len(model) > 256):
        return False
    stream = get("stream")
    if stream is not None and type(stream) is not bool:
        return False
    options = get("stream_options")
    if options is not None and type(options) is not dict:
        return False
    if not (_positive_int_or_none(get("max_tokens")) and _positive_int_or_none(get("max_completion_tokens"))
            and _positive_int_or_none(get("n"))):
        return False
    temperature = get("temperature")
    if temperature is not None and not _number_in(temperature, 0, 2):
        return False
    top_p = get("top_p")
    if top_p is not None and not _number_in(top_p, 0, 1):
        return False
    tools = get("tools")
    return tools is None or type(tools) is list
