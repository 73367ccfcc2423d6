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


# --- Anthropic Messages ----------------------------------------------------------
# Strict on every field Octoroute reads; other top-level fields (new Anthropic
# features, beta options) are accepted and reported as ignored, so a client
# that sends one more field than this version knows keeps working.

ANTHROPIC_BLOCK_TYPES = ("text", "image", "document", "tool_use", "tool_result", "thinking",
                         "redacted_thinking", "server_tool_use", "web_search_tool_result")
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def _when(kind: str, then: dict[str, Any]) -> dict[str, Any]:
    """``if type == kind then ...``: one branch of a block's schema, chosen by its type."""
    return {"if": {"properties": {"type": {"const": kind}}}, "then": then}


_STRING: dict[str, Any] = {"type": "string"}
_IMAGE_SOURCE: dict[str, Any] = {
    "type": "object", "required": ["type"],
    "properties": {"type": {"enum": ["base64", "url"]}, "media_type": {"enum": list(IMAGE_MEDIA_TYPES)},
                   "data": _STRING, "url": _STRING},
    "allOf": [_when("base64", {"required": ["media_type", "data"]}), _when("url", {"required": ["url"]})],
}
_TEXT_BLOCK: dict[str, Any] = {"type": "object", "required": ["type", "text"],
                               "properties": {"type": {"const": "text"}, "text": _STRING}}
_DOCUMENT: dict[str, Any] = {
    "required": ["source"],
    "properties": {"title": {"type": ["string", "null"]}, "source": {
        "type": "object", "required": ["type"],
        "properties": {"type": {"enum": ["text", "content"]}, "data": _STRING,
                       "content": {"type": ["string", "array"], "items": _TEXT_BLOCK}},
        "allOf": [_when("text", {"required": ["data"]}), _when("content", {"required": ["content"]})]}},
}
_RESULT_PART: dict[str, Any] = {
    "type": "object", "required": ["type"],
    "properties": {"type": {"enum": ["text", "image", "document"]}},
    "allOf": [_when("text", {"required": ["text"], "properties": {"text": _STRING}}),
              _when("image", {"required": ["source"], "properties": {"source": _IMAGE_SOURCE}}),
              _when("document", _DOCUMENT)],
}
_BLOCK: dict[str, Any] = {
    "type": "object", "required": ["type"],
    "properties": {"type": {"enum": list(ANTHROPIC_BLOCK_TYPES)}},
    "allOf": [
        _when("text", {"required": ["text"], "properties": {"text": _STRING}}),
        _when("image", {"required": ["source"], "properties": {"source": _IMAGE_SOURCE}}),
        _when("document", _DOCUMENT),
        _when("tool_use", {"required": ["id", "name", "input"], "properties": {
            "id": _STRING, "name": _STRING, "input": {"type": "object"}}}),
        _when("tool_result", {"required": ["tool_use_id"], "properties": {
            "tool_use_id": _STRING, "is_error": {"type": "boolean"},
            "content": {"type": ["string", "array"], "items": _RESULT_PART}}}),
        _when("thinking", {"required": ["thinking"], "properties": {"thinking": _STRING}}),
    ],
}
_MESSAGES_PROPERTIES: dict[str, Any] = {
    "model": {"type": "string", "maxLength": 256},
    "messages": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["role", "content"],
        "properties": {"role": {"enum": ["user", "assistant"]},
                       "content": {"type": ["string", "array"], "items": _BLOCK}}}},
    "system": {"type": ["string", "array"], "items": _TEXT_BLOCK},
    "max_tokens": {"type": "integer", "minimum": 1},
    "stop_sequences": {"type": "array", "items": _STRING},
    "stream": {"type": "boolean"},
    "temperature": {"type": "number", "minimum": 0, "maximum": 1},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "top_k": {"type": "integer", "minimum": 0},
    "metadata": {"type": "object", "properties": {"user_id": {"type": ["string", "null"]}}},
    "tools": {"type": "array", "items": {
        "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 256},
                       "description": _STRING, "input_schema": {"type": "object"}, "type": _STRING}}},
    "tool_choice": {
        "type": "object", "required": ["type"],
        "properties": {"type": {"enum": ["auto", "any", "tool", "none"]}, "name": _STRING,
                       "disable_parallel_tool_use": {"type": "boolean"}},
        **_when("tool", {"required": ["name"]})},
    "thinking": {"type": "object", "required": ["type"],
                 "properties": {"type": {"enum": ["enabled", "disabled", "adaptive", "between_tools"]},
                                "budget_tokens": {"type": "integer", "minimum": 1}}},
    "output_config": {"type": "object", "properties": {
        "effort": {"type": ["string", "null"]},
        "format": {"type": ["object", "null"], "required": ["type", "schema"],
                   "properties": {"type": {"const": "json_schema"}, "schema": {"type": "object"}}}}},
}
ANTHROPIC_MESSAGES_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["model", "messages", "max_tokens"], "properties": _MESSAGES_PROPERTIES}
# count_tokens takes the same body without max_tokens and stream.
ANTHROPIC_COUNT_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["model", "messages"],
    "properties": {k: v for k, v in _MESSAGES_PROPERTIES.items() if k not in ("max_tokens", "stream")}}
_ANTHROPIC_FIXES = {
    "model": 'add e.g. "model": "claude-sonnet-4-5" (mapped by [anthropic.models]) or "auto"',
    "max_tokens": 'add e.g. "max_tokens": 1024',
    "messages": 'add e.g. "messages": [{"role": "user", "content": "Hello"}]',
    "source": 'add e.g. "source": {"type": "base64", "media_type": "image/png", "data": "<base64>"}',
    "media_type": "add one of " + ", ".join(IMAGE_MEDIA_TYPES),
    "name": 'name the tool, e.g. "name": "get_weather"',
    "content": 'add e.g. "content": "Hello" (a string or an array of blocks)',
    "role": 'add "role": "user" or "assistant"',
    "input": 'add the tool call\'s arguments, e.g. "input": {}',
    "tool_use_id": "add the id of the tool_use block this result answers",
}


@functools.cache
def _anthropic_validator(which: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(ANTHROPIC_MESSAGES_SCHEMA if which == "messages" else ANTHROPIC_COUNT_SCHEMA)


def validate_anthropic(data: Any, *, count: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Validate a ``/v1/messages`` (or ``count_tokens``) body; return it and its ignored fields.

    Raises ``RequestError`` naming the first offending field (by position)
    and what would be valid.
    """
    if not isinstance(data, dict):
        raise RequestError(f"request body must be a JSON object, got {_json_type(data)}",
                           code="invalid_type")
    if _anthropic_surely_valid(data, count):
        return data, [k for k in data if k not in _MESSAGES_PROPERTIES]
    schema = ANTHROPIC_COUNT_SCHEMA if count else ANTHROPIC_MESSAGES_SCHEMA
    validator = _anthropic_validator("count" if count else "messages")
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        error = errors[0]
        if error.validator == "minItems":
            raise RequestError("field 'messages' must contain at least one message; "
                               + _ANTHROPIC_FIXES["messages"], param="messages", code="invalid_value")
        described = _describe(error, schema)
        where = described.param or ""
        if described.code == "missing_field":
            fix = _ANTHROPIC_FIXES.get(where) or _ANTHROPIC_FIXES.get(where.rsplit(".", 1)[-1])
            raise RequestError(f"field {where!r} is required" + (f"; {fix}" if fix else ""),
                               param=where, code=described.code)
        raise described
    for key in ("max_tokens", "top_k"):
        if isinstance(data.get(key), float):
            data[key] = int(data[key])  # JSON Schema counts 4.0 as an integer; backends may not
    return data, [k for k in data if k not in _MESSAGES_PROPERTIES]


# The Anthropic fast path: jsonschema took ~90 ms on a coding agent's conversation (50
# turns of tool use, 20 tools); these checks take ~1 ms on it. Unsure means "ask jsonschema".
_BLOCK_SET = frozenset(ANTHROPIC_BLOCK_TYPES)
_MEDIA_SET = frozenset(IMAGE_MEDIA_TYPES)
_UNCHECKED_BLOCKS = frozenset({"redacted_thinking", "server_tool_use", "web_search_tool_result"})
_TOOL_CHOICE_SET = frozenset({"auto", "any", "tool", "none"})
_THINKING_SET = frozenset({"enabled", "disabled", "adaptive", "between_tools"})


def _str_or_absent(d: dict[str, Any], key: str) -> bool:
    return key not in d or type(d[key]) is str


def _source_ok(source: Any) -> bool:
    if type(source) is not dict:
        return False
    kind = source.get("type")
    if kind == "base64":
        return _member(source.get("media_type"), _MEDIA_SET) and type(source.get("data")) is str \
            and _str_or_absent(source, "url")
    if kind == "url":
        return type(source.get("url")) is str and _str_or_absent(source, "data") \
            and "media_type" not in source
    return False


def _block_ok(block: Any) -> bool:
    if type(block) is not dict:
        return False
    kind = block.get("type")
    if kind == "text":
        return type(block.get("text")) is str
    if kind == "tool_use":
        return (type(block.get("id")) is str and type(block.get("name")) is str
                and type(block.get("input")) is dict)
    if kind == "tool_result":
        content = block.get("content")
        if "is_error" in block and type(block["is_error"]) is not bool:
            return False
        if type(block.get("tool_use_id")) is not str:
            return False
        if content is None:
            return "content" not in block
        if type(content) is str:
            return True
        return type(content) is list and all(
            type(p) is dict and ((p.get("type") == "text" and type(p.get("text")) is str)
                                 or (p.get("type") == "image" and _source_ok(p.get("source"))))
            for p in content)
    if kind == "image":
        return _source_ok(block.get("source"))
    if kind == "thinking":
        return type(block.get("thinking")) is str
    return type(kind) is str and kind in _UNCHECKED_BLOCKS


def _anthropic_surely_valid(data: dict[str, Any], count: bool) -> bool:
    get = data.get
    model = get("model")
    if type(model) is not str or len(model) > 256:
        return False
    if not count:
        tokens = get("max_tokens")
        if type(tokens) is not int or tokens < 1:
            return False
        if "stream" in data and type(data["stream"]) is not bool:
            return False
    messages = get("messages")
    if type(messages) is not list or not messages:
        return False
    for m in messages:
        if type(m) is not dict or m.get("role") not in ("user", "assistant"):
            return False
        content = m.get("content")
        if type(content) is not str and not (type(content) is list and all(map(_block_ok, content))):
            return False
    if "system" in data:
        system = data["system"]
        if type(system) is not str and not (type(system) is list and all(
                type(b) is dict and b.get("type") == "text" and type(b.get("text")) is str for b in system)):
            return False
    if "stop_sequences" in data:
        stops = data["stop_sequences"]
        if type(stops) is not list or not all(type(x) is str for x in stops):
            return False
    for key in ("temperature", "top_p"):
        if key in data and not _number_in(data[key], 0, 1):
            return False
    if "top_k" in data and (type(data["top_k"]) is not int or data["top_k"] < 0):
        return False
    return _options_ok(data)


def _options_ok(data: dict[str, Any]) -> bool:
    if "metadata" in data:
        meta = data["metadata"]
        if type(meta) is not dict or ("user_id" in meta and meta["user_id"] is not None
                                      and type(meta["user_id"]) is not str):
            return False
    if "tools" in data:
        tools = data["tools"]
        if type(tools) is not list:
            return False
        for t in tools:
            if type(t) is not dict or type(t.get("name")) is not str or not 1 <= len(t["name"]) <= 256:
                return False
            if not (_str_or_absent(t, "description") and _str_or_absent(t, "type")
                    and ("input_schema" not in t or type(t["input_schema"]) is dict)):
                return False
    if "tool_choice" in data:
        choice = data["tool_choice"]
        if type(choice) is not dict or not _member(choice.get("type"), _TOOL_CHOICE_SET):
            return False
        if not _str_or_absent(choice, "name") or (choice["type"] == "tool" and "name" not in choice):
            return False
        if "disable_parallel_tool_use" in choice and type(choice["disable_parallel_tool_use"]) is not bool:
            return False
    if "thinking" in data:
        thinking = data["thinking"]
        if type(thinking) is not dict or not _member(thinking.get("type"), _THINKING_SET):
            return False
        budget = thinking.get("budget_tokens")
        if "budget_tokens" in thinking and (type(budget) is not int or budget < 1):
            return False
    return "output_config" not in data  # rare: jsonschema judges it
