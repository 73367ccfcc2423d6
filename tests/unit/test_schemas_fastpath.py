"""The validators' fast path never accepts what jsonschema would reject."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from octoroute.api import schemas

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 300), st.floats(-3, 3, allow_nan=False),
                    st.text(max_size=8), st.sampled_from(["user", "system", "tool", "high", "code", "low"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=6), inner,
                                                                         max_size=3)), max_leaves=6)
# Values near the edges of validity, so the fast path says "valid" often enough to be tested.
NEAR = {
    "prompt": st.text(max_size=5),
    "importance": st.sampled_from(["low", "normal", "high", "x"]),
    "task_type": st.sampled_from(["code", "casual_chat", "poetry"]),
    "model": st.one_of(st.none(), st.text(max_size=4)),
    "temperature": st.sampled_from([0, 0.0, 2, 2.0, 2.0001, 2.5, -0.0001, 3, True]),
    "max_tokens": st.sampled_from([-1, 0, 1, 2, 4.0, True, None]),
    "top_p": st.sampled_from([0, 1, 1.0, 1.0001, -0.0001, False]),
    "n": st.sampled_from([0, 1, 2, None, 1.5]),
    "stream": st.one_of(st.booleans(), st.none(), st.integers(0, 1)),
    "stream_options": st.one_of(st.none(), st.just({}), st.just([])),
    "max_completion_tokens": st.sampled_from([0, 1, 2, None, False]),
    "tools": st.one_of(st.none(), st.just([]), st.just({})),
}
MESSAGE = st.fixed_dictionaries(
    {"role": st.one_of(st.sampled_from([*schemas.ROLES, "robot"]), VALUES)},
    optional={"content": st.one_of(st.none(), st.text(max_size=3),
                                   st.just([{"type": "text", "text": "x"}]), VALUES),
              "name": st.one_of(st.text(max_size=3), VALUES), "tool_calls": VALUES})
NEAR["messages"] = st.one_of(st.lists(MESSAGE, min_size=1, max_size=3), VALUES)


BASE_CHAT: dict[str, Any] = {"prompt": "hello", "importance": "normal", "task_type": "code",
                             "model": None, "temperature": 0.5, "max_tokens": 64}
BASE_OPENAI: dict[str, Any] = {"model": "auto", "messages": [{"role": "user", "content": "hi"}],
                               "temperature": 0.5, "top_p": 1, "max_tokens": 64, "stream": False,
                               "tools": [], "n": 1, "stream_options": None, "max_completion_tokens": 9}


def near_valid(base: dict[str, Any], keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid body with one to three fields replaced or added: edges and wrong types."""
    change = st.sampled_from(keys).flatmap(
        lambda k: st.tuples(st.just(k), st.one_of(NEAR[k], VALUES) if k in NEAR else VALUES))
    return st.lists(change, min_size=1, max_size=3).map(lambda edits: {**base, **dict(edits)})


CHAT_KEYS = [*schemas.CHAT_SCHEMA["properties"], "imporance"]
OPENAI_KEYS = [*schemas.OPENAI_CHAT_SCHEMA["properties"], "seed", "x_custom"]


def _schema_errors(validator: Any, data: dict[str, Any]) -> list[Any]:
    return list(validator.iter_errors(data))


@settings(max_examples=400, deadline=None)
@given(near_valid(BASE_CHAT, CHAT_KEYS))
def test_chat_fast_path_is_sound(data: dict[str, Any]) -> None:
    if schemas._chat_surely_valid(data):
        assert _schema_errors(schemas.validator("chat"), data) == []


@settings(max_examples=400, deadline=None)
@given(near_valid(BASE_OPENAI, OPENAI_KEYS))
def test_openai_fast_path_is_sound(data: dict[str, Any]) -> None:
    if schemas._openai_surely_valid(data):
        assert _schema_errors(schemas.validator("openai"), data) == []


def test_ordinary_requests_take_the_fast_path() -> None:
    chat = {"prompt": "hello", "importance": "high", "task_type": "code", "model": None,
            "temperature": 0.2, "max_tokens": 128}
    openai = {"model": "auto", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": None, "tool_calls": []},
        {"role": "tool", "content": "42", "name": "calc"}],
        "temperature": 0.2, "top_p": 1, "max_tokens": 128, "stream": False, "tools": [], "seed": 7}
    assert schemas._chat_surely_valid(chat)
    assert schemas._openai_surely_valid(openai)
    assert schemas.validate_chat(chat) is chat
    assert schemas.validate_openai_chat(openai) is openai


def test_unsure_inputs_fall_back_to_jsonschema_with_the_same_verdict() -> None:
    # 4.0 is an integer to JSON Schema: the fast path declines, jsonschema accepts.
    data = {"prompt": "hi", "max_tokens": 4.0}
    assert not schemas._chat_surely_valid(data)
    assert schemas.validate_chat(data)["max_tokens"] == 4


# --- Anthropic Messages -----------------------------------------------------------

_SOURCE = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["base64", "url", "file"]),
    "media_type": st.sampled_from(["image/png", "image/bmp"]),
    "data": st.one_of(st.text(max_size=3), SCALARS), "url": st.one_of(st.text(max_size=3), SCALARS)})
_BLOCK = st.fixed_dictionaries({"type": st.one_of(st.sampled_from([*schemas.ANTHROPIC_BLOCK_TYPES, "video"]),
                                                  VALUES)},
                               optional={
    "text": st.one_of(st.text(max_size=3), SCALARS), "source": st.one_of(_SOURCE, VALUES),
    "id": st.one_of(st.text(max_size=3), SCALARS), "name": st.one_of(st.text(max_size=3), SCALARS),
    "input": st.one_of(st.just({}), VALUES), "tool_use_id": st.one_of(st.text(max_size=3), SCALARS),
    "is_error": st.one_of(st.booleans(), SCALARS), "thinking": st.one_of(st.text(max_size=3), SCALARS),
    "content": st.one_of(st.text(max_size=3), st.lists(st.deferred(lambda: _BLOCK), max_size=2), VALUES)})
ANTHROPIC_NEAR: dict[str, st.SearchStrategy[Any]] = {
    "model": st.one_of(st.text(max_size=4), SCALARS),
    "max_tokens": st.sampled_from([-1, 0, 1, 4.0, True, None]),
    "messages": st.one_of(st.lists(st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant", "system"])},
        optional={"content": st.one_of(st.text(max_size=3), st.lists(_BLOCK, max_size=3), VALUES)}),
        max_size=3), VALUES),
    "system": st.one_of(st.text(max_size=3), st.lists(_BLOCK, max_size=2), VALUES),
    "stop_sequences": st.one_of(st.lists(st.text(max_size=2), max_size=2), VALUES),
    "stream": st.one_of(st.booleans(), SCALARS),
    "temperature": st.sampled_from([0, 1, 1.0, 1.0001, -0.0001, True]),
    "top_p": st.sampled_from([0, 1, 1.0001, False]),
    "top_k": st.sampled_from([-1, 0, 5, 4.0, True]),
    "metadata": st.one_of(st.just({"user_id": None}), st.just({"user_id": 3}), VALUES),
    "tools": st.one_of(st.lists(st.fixed_dictionaries({}, optional={
        "name": st.one_of(st.text(max_size=3), SCALARS), "input_schema": st.one_of(st.just({}), VALUES),
        "description": SCALARS, "type": SCALARS}), max_size=2), VALUES),
    "tool_choice": st.one_of(st.fixed_dictionaries({"type": st.sampled_from(["auto", "any", "tool", "x"])},
                                                   optional={"name": SCALARS,
                                                             "disable_parallel_tool_use": SCALARS}), VALUES),
    "thinking": st.one_of(st.fixed_dictionaries({"type": st.sampled_from(["enabled", "adaptive", "on"])},
                                                optional={"budget_tokens": SCALARS}), VALUES),
    "output_config": VALUES,
}
BASE_ANTHROPIC: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 64,
                                  "messages": [{"role": "user", "content": "hi"}]}


@settings(max_examples=600, deadline=None)
@given(change=st.lists(st.sampled_from(sorted(ANTHROPIC_NEAR)).flatmap(
    lambda k: st.tuples(st.just(k), ANTHROPIC_NEAR[k])), min_size=1, max_size=3), count=st.booleans())
def test_anthropic_fast_path_is_sound(change: list[tuple[str, Any]], count: bool) -> None:
    data = {**BASE_ANTHROPIC, **dict(change)}
    if schemas._anthropic_surely_valid(data, count):
        assert _schema_errors(schemas._anthropic_validator("count" if count else "messages"), data) == []


def test_a_coding_agents_conversation_takes_the_anthropic_fast_path() -> None:
    turns: list[dict[str, Any]] = [{"role": "user", "content": "fix the bug"}]
    for i in range(30):
        turns.append({"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hm", "signature": "s"}, {"type": "text", "text": "Reading."},
            {"type": "tool_use", "id": f"t{i}", "name": "read", "input": {"path": "a.py"}}]})
        turns.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"t{i}", "content": [{"type": "text", "text": "code"}]},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}]})
    data = {"model": "claude-sonnet-4-5", "max_tokens": 8000, "stream": True, "messages": turns,
            "system": [{"type": "text", "text": "You are a coding agent.", "cache_control": {"type": "x"}}],
            "tools": [{"name": "read", "description": "Read a file", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "auto"}, "metadata": {"user_id": "u"}, "temperature": 1,
            "thinking": {"type": "enabled", "budget_tokens": 2048}}
    assert schemas._anthropic_surely_valid(data, False)
    assert _schema_errors(schemas._anthropic_validator("messages"), data) == []
