"""``POST /chat`` body validation: every field, and errors that name the field."""

from __future__ import annotations

import re
from typing import Any

import pytest
from octoroute.api.schemas import MAX_PROMPT_CHARS, validate_chat
from octoroute.errors import RequestError


def rejected(data: Any) -> RequestError:
    with pytest.raises(RequestError) as info:
        validate_chat(data)
    err = info.value
    assert err.status == 400
    assert err.message
    assert "Traceback" not in err.message
    return err


def body(**fields: Any) -> dict[str, Any]:
    return {"prompt": "hello", **fields}


# --- accepted bodies ----------------------------------------------------------


def test_minimal_body_is_returned_unchanged() -> None:
    data = {"prompt": "Hello"}
    assert validate_chat(data) is data
    assert data == {"prompt": "Hello"}


def test_every_field() -> None:
    data = body(importance="high", task_type="code", model="deep", temperature=1.5, max_tokens=100)
    assert validate_chat(data) == data


@pytest.mark.parametrize(("field", "value"), [
    ("importance", "low"), ("importance", "normal"), ("importance", "high"),
    ("task_type", "casual_chat"), ("task_type", "code"), ("task_type", "creative_writing"),
    ("task_type", "deep_analysis"), ("task_type", "document_summary"), ("task_type", "question_answer"),
    ("model", None), ("model", "auto"), ("model", "fast"), ("model", "balanced_30b"),
    ("model", "my-endpoint"), ("model", ""), ("model", "x" * 256),
    ("temperature", 0), ("temperature", 0.0), ("temperature", 2), ("temperature", 2.0), ("temperature", 0.7),
    ("max_tokens", 1), ("max_tokens", 4096), ("max_tokens", 10**12),
])
def test_valid_field_values(field: str, value: Any) -> None:
    assert validate_chat(body(**{field: value}))[field] == value


@pytest.mark.parametrize("value", [1.0, 256.0, 1e3])
def test_integral_float_max_tokens_becomes_an_int(value: float) -> None:
    out = validate_chat(body(max_tokens=value))
    assert out["max_tokens"] == int(value)
    assert type(out["max_tokens"]) is int


@pytest.mark.parametrize("prompt", [
    "x", "  padded  ", "x" * MAX_PROMPT_CHARS, "\U0001f600" * MAX_PROMPT_CHARS, "line\nbreaks\n",
    "\u00e9t\u00e9", "0",
])
def test_valid_prompts(prompt: str) -> None:
    assert validate_chat({"prompt": prompt})["prompt"] == prompt


# --- the body itself ----------------------------------------------------------


@pytest.mark.parametrize(("data", "got"), [
    ([], "an array"), (["prompt"], "an array"), ("hello", "a string"), (5, "a number"), (1.5, "a number"),
    (None, "null"), (True, "a boolean"),
])
def test_body_must_be_an_object(data: Any, got: str) -> None:
    err = rejected(data)
    assert "JSON object" in err.message
    assert got in err.message
    assert err.code == "invalid_type"


# --- prompt -----------------------------------------------------------------


def test_missing_prompt() -> None:
    err = rejected({})
    assert err.param == "prompt"
    assert "'prompt'" in err.message and "required" in err.message
    assert err.code == "missing_field"


def test_missing_prompt_with_other_fields() -> None:
    err = rejected({"importance": "high", "task_type": "code"})
    assert err.param == "prompt"
    assert err.code == "missing_field"


@pytest.mark.parametrize("prompt", ["", " ", "\n\t ", "\u3000", "\u00a0\u2003", "\x1c", "\x1f\x85",
                                    "\ufeff"])
def test_blank_prompt(prompt: str) -> None:
    err = rejected({"prompt": prompt})
    assert err.param == "prompt"
    assert "blank" in err.message or "empty" in err.message


def test_the_openapi_prompt_pattern_states_the_blank_rule_exactly() -> None:
    # schemathesis once generated "\x1c" from the pattern \S (not blank to ECMAScript,
    # blank to str.isspace) and the server said 400: the document and the app disagreed.
    from octoroute.api.openapi import build_document
    pattern = build_document()["paths"]["/chat"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["properties"]["prompt"]["pattern"]
    ecma_space = "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + \
        "".join(chr(c) for c in range(0x2000, 0x200b))
    for c in range(0x3100):
        ch = chr(c)
        accepted = _accepts(ch)
        blank_somewhere = ch.isspace() or ch in ecma_space
        assert accepted is not blank_somewhere, repr(ch)
        assert (re.search(pattern, ch) is not None) is accepted, repr(ch)


def _accepts(prompt: str) -> bool:
    try:
        validate_chat({"prompt": prompt})
    except RequestError:
        return False
    return True


def test_prompt_one_over_the_limit() -> None:
    assert MAX_PROMPT_CHARS == 100_000
    err = rejected({"prompt": "x" * 100_001})
    assert err.param == "prompt"
    assert "100001" in err.message.replace(",", "") and "100000" in err.message.replace(",", "")
    assert err.code == "too_long"


def test_prompt_limit_counts_characters_not_bytes() -> None:
    validate_chat({"prompt": "\u00e9" * 100_000})  # 200,000 bytes in UTF-8
    assert rejected({"prompt": "\u00e9" * 100_001}).param == "prompt"


@pytest.mark.parametrize(("value", "got"), [
    (5, "a number"), (True, "a boolean"), (None, "null"), (["hi"], "an array"), ({"text": "hi"}, "an object"),
])
def test_prompt_must_be_a_string(value: Any, got: str) -> None:
    err = rejected({"prompt": value})
    assert err.param == "prompt"
    assert "a string" in err.message and got in err.message
    assert err.code == "invalid_type"


# --- the other fields -----------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("importance", "urgent"), ("importance", "HIGH"), ("importance", ""), ("importance", 1),
    ("importance", None), ("importance", True), ("importance", ["high"]),
    ("task_type", "chat"), ("task_type", "Code"), ("task_type", None), ("task_type", 0),
])
def test_enum_fields(field: str, value: Any) -> None:
    err = rejected(body(**{field: value}))
    assert err.param == field
    assert "must be one of" in err.message
    assert err.code == "invalid_value"


def test_enum_message_lists_the_options() -> None:
    assert all(o in rejected(body(importance="max")).message for o in ("low", "normal", "high"))
    message = rejected(body(task_type="poem")).message
    assert "creative_writing" in message and "question_answer" in message


@pytest.mark.parametrize(("field", "value", "code"), [
    ("temperature", "0.7", "invalid_type"), ("temperature", True, "invalid_type"),
    ("temperature", False, "invalid_type"), ("temperature", None, "invalid_type"),
    ("temperature", [1], "invalid_type"),
    ("temperature", -0.0001, "invalid_value"), ("temperature", -1, "invalid_value"),
    ("temperature", 2.0001, "invalid_value"), ("temperature", 100, "invalid_value"),
    ("max_tokens", 0, "invalid_value"), ("max_tokens", -1, "invalid_value"),
    ("max_tokens", 1.5, "invalid_type"), ("max_tokens", "100", "invalid_type"),
    ("max_tokens", True, "invalid_type"), ("max_tokens", None, "invalid_type"),
    ("model", 5, "invalid_type"), ("model", True, "invalid_type"), ("model", ["fast"], "invalid_type"),
    ("model", {"tier": "fast"}, "invalid_type"), ("model", "x" * 257, "too_long"),
])
def test_typed_fields(field: str, value: Any, code: str) -> None:
    err = rejected(body(**{field: value}))
    assert err.param == field
    assert f"'{field}'" in err.message
    assert err.code == code


def test_bool_is_not_a_number_message() -> None:
    err = rejected(body(temperature=True))
    assert "must be a number" in err.message and "boolean" in err.message


@pytest.mark.parametrize(("field", "value", "says"), [
    ("temperature", 3, "from 0 to 2"), ("temperature", -1, "from 0 to 2"), ("max_tokens", 0, "at least 1"),
])
def test_range_messages_say_what_is_valid(field: str, value: Any, says: str) -> None:
    assert says in rejected(body(**{field: value})).message


# --- unknown fields -------------------------------------------------------------


@pytest.mark.parametrize(("field", "suggestion"), [
    ("imporance", "importance"), ("importnace", "importance"), ("task", "task_type"),
    ("tasktype", "task_type"), ("max_token", "max_tokens"), ("temprature", "temperature"),
    ("models", "model"), ("promt", "prompt"),
])
def test_unknown_field_with_did_you_mean(field: str, suggestion: str) -> None:
    data = body(**{field: "high"})
    if field == "promt":
        data = {"promt": "hi"}
    err = rejected(data)
    assert err.param == field
    assert f"did you mean {suggestion!r}" in err.message
    assert err.code == "unknown_field"


def test_unknown_field_without_close_match_lists_known_fields() -> None:
    err = rejected(body(stream=True))
    assert err.param == "stream"
    assert "known fields" in err.message
    for known in ("prompt", "importance", "task_type", "model", "temperature", "max_tokens"):
        assert known in err.message


def test_very_long_unknown_field_name_is_shortened() -> None:
    name = "z" * 10_000
    err = rejected(body(**{name: 1}))
    assert err.param is not None and len(err.param) < 100
    assert len(err.message) < 1_000


def test_unknown_field_is_reported_before_field_errors() -> None:
    err = rejected({"prompt": 5, "imporance": "high"})
    assert err.param == "imporance"


def test_one_error_at_a_time_is_deterministic() -> None:
    data = {"prompt": "hi", "temperature": 9, "max_tokens": 0, "importance": "x"}
    params = {rejected(dict(data)).param for _ in range(20)}
    assert len(params) == 1
    assert params.pop() in ("temperature", "max_tokens", "importance")
