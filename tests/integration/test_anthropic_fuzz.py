"""Property tests: hostile bodies on /v1/messages and count_tokens never cause a 500.

As ``test_hostile_input.py`` does for the other APIs: Octoroute in process in
front of three fakes that answer like real servers (SSE when asked to
stream). Whatever hypothesis sends (any JSON value, every field of every
type, blocks of every shape, lone surrogates, arbitrary bytes), the answer is
a 2xx or a 4xx in Anthropic's error shape, and a 400 names the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import falcon.testing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from octoroute.api.schemas import ANTHROPIC_BLOCK_TYPES
from octoroute.app import Runtime, build_runtime

from fakes import FakeBackend, make_config
from faultkit import openai_like

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
MESSAGES, COUNT = "/v1/messages", "/v1/messages/count_tokens"
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
FIELDS = ("model", "messages", "max_tokens", "system", "stop_sequences", "stream", "temperature", "top_p",
          "top_k", "metadata", "tools", "tool_choice", "thinking", "output_config")


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    backends = [FakeBackend(name, chat=openai_like()).start() for name in ("fast-1", "balanced-1", "deep-1")]
    config = make_config({"fast": [backends[0]], "balanced": [backends[1]], "deep": [backends[2]]})
    rt = build_runtime(config)
    try:
        yield rt
    finally:
        rt.close()
        for b in backends:
            b.stop()


@pytest.fixture(scope="module")
def client(runtime: Runtime) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(runtime.app)


def post(client: falcon.testing.TestClient, path: str, body: bytes) -> falcon.testing.Result:
    return client.simulate_post(path, body=body, headers={"Content-Type": "application/json",
                                                          "anthropic-version": "2023-06-01"})


def check(result: falcon.testing.Result) -> None:
    """2xx, or a 4xx in Anthropic's shape carrying the request id; a 400 names a field or the body."""
    status = result.status_code
    assert status < 500, (status, result.text[:500])
    assert "Traceback" not in result.text
    rid = result.headers.get("X-Request-ID")
    assert rid is not None and REQUEST_ID.fullmatch(rid)
    if status >= 400:
        body = json.loads(result.text)
        assert body["type"] == "error" and set(body["error"]) == {"type", "message"}
        assert body["error"]["message"] and body["request_id"] == rid == result.headers["request-id"]
        if status == 400:
            assert body["error"]["type"] == "invalid_request_error"
            assert re.search(r"field '|request body", body["error"]["message"]), body
    elif result.headers.get("Content-Type", "").startswith("text/event-stream"):
        assert result.text.startswith("event: message_start\n")
        assert result.text.rstrip().endswith('"message_stop"}')
    else:
        assert json.loads(result.text)["type"] in ("message", None) or "input_tokens" in result.text


# --- strategies -------------------------------------------------------------------

any_char = st.characters(codec=None, categories=None)
texts = st.text(any_char, max_size=30) | st.sampled_from(["", " ", "\ud800", "a\udfffb", "user", "text"])
numbers = (st.integers(min_value=-(10**20), max_value=10**20)
           | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0, -1, 1, 4.0, 1e308]))
json_leaves = st.none() | st.booleans() | numbers | texts
json_values = st.recursive(json_leaves, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(texts, inner, max_size=3), max_leaves=6)
sources = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["base64", "url", "text", "content", "file"]) | json_values,
    "media_type": st.sampled_from(["image/png", "image/bmp"]) | json_values,
    "data": texts | json_values, "url": texts | json_values, "content": json_values})
blocks = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(ANTHROPIC_BLOCK_TYPES) | json_values,
    "text": texts | json_values, "source": sources | json_values, "id": texts | json_values,
    "name": texts | json_values, "input": st.dictionaries(texts, json_values, max_size=2) | json_values,
    "tool_use_id": texts | json_values, "is_error": st.booleans() | json_values,
    "content": texts | st.lists(json_values, max_size=2) | json_values, "thinking": texts,
    "cache_control": json_values})
turns = st.fixed_dictionaries({}, optional={
    "role": st.sampled_from(["user", "assistant", "system"]) | json_values,
    "content": texts | st.lists(blocks, max_size=3) | json_values})


def bodies() -> st.SearchStrategy[dict[str, Any]]:
    plausible: dict[str, st.SearchStrategy[Any]] = {name: json_values for name in FIELDS}
    plausible.update(
        model=st.sampled_from(["claude-sonnet-4-5", "haiku", "auto", "deep-1", "gpt-4"]) | json_values,
        messages=st.lists(turns, max_size=3) | json_values,
        max_tokens=st.integers(-3, 10**7) | json_values,
        stream=st.booleans() | json_values,
        tools=st.lists(st.fixed_dictionaries({}, optional={
            "name": texts | json_values, "input_schema": json_values, "type": texts}), max_size=2)
        | json_values,
        tool_choice=st.fixed_dictionaries({}, optional={
            "type": st.sampled_from(["auto", "any", "tool", "none", "x"]) | json_values,
            "name": texts | json_values}) | json_values,
        system=texts | st.lists(blocks, max_size=2) | json_values,
        temperature=st.floats(-1, 2, allow_nan=False) | json_values,
    )
    return st.fixed_dictionaries({}, optional=plausible).flatmap(
        lambda d: st.dictionaries(texts, json_values, max_size=2).map(lambda extra: {**extra, **d})
        | st.just(d))


def valid_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """Bodies the schema accepts (so they reach a backend), with content of every valid shape."""
    text_block = st.builds(lambda t: {"type": "text", "text": t}, texts)
    image = st.builds(lambda url: {"type": "image", "source": {"type": "url", "url": url}}, texts)
    result = st.builds(lambda i, c, e: {"type": "tool_result", "tool_use_id": i, "content": c, "is_error": e},
                       texts, texts | st.lists(text_block, max_size=2), st.booleans())
    use = st.builds(lambda i, n, a: {"type": "tool_use", "id": i, "name": n, "input": a},
                    texts, texts, st.dictionaries(texts, json_values, max_size=2))
    user = st.builds(lambda c: {"role": "user", "content": c}, texts | st.lists(text_block | image | result,
                                                                                 min_size=1, max_size=3))
    assistant = st.builds(lambda c: {"role": "assistant", "content": c}, texts | st.lists(
        text_block | use | st.just({"type": "thinking", "thinking": "hm"}), max_size=3))
    return st.fixed_dictionaries(
        {"model": st.sampled_from(["claude-sonnet-4-5", "claude-haiku-4-5", "auto", "opus"]),
         "max_tokens": st.integers(1, 10**6), "messages": st.lists(user | assistant, min_size=1, max_size=4)},
        optional={"stream": st.booleans(), "system": texts, "stop_sequences": st.lists(texts, max_size=2),
                  "tools": st.just([{"name": "t", "input_schema": {"type": "object"}}]),
                  "thinking": st.just({"type": "enabled", "budget_tokens": 1024})})


# --- properties --------------------------------------------------------------------

@FUZZ
@given(value=json_values, path=st.sampled_from([MESSAGES, COUNT]))
def test_any_json_value_as_the_body(client: Any, value: Any, path: str) -> None:
    check(post(client, path, json.dumps(value).encode()))


@FUZZ
@given(body=bodies(), path=st.sampled_from([MESSAGES, COUNT]))
def test_fields_of_every_type(client: Any, body: dict[str, Any], path: str) -> None:
    check(post(client, path, json.dumps(body).encode()))


@FUZZ
@given(body=valid_bodies())
def test_valid_bodies_are_answered(client: Any, body: dict[str, Any]) -> None:
    result = post(client, MESSAGES, json.dumps(body).encode())
    check(result)
    assert result.status_code == 200, result.text[:300]


@FUZZ
@given(raw=st.binary(max_size=400), wrap=st.sampled_from(["raw", "content"]))
def test_arbitrary_bytes(client: Any, raw: bytes, wrap: str) -> None:
    body = raw if wrap == "raw" else (b'{"model": "auto", "max_tokens": 5, "messages": [{"role": "user", '
                                      b'"content": "' + raw + b'"}]}')
    check(post(client, MESSAGES, body))


@pytest.mark.parametrize("body", [
    rb'{"model": "auto", "max_tokens": 5, "messages": [{"role": "user", "content": "hi \ud800"}]}',
    rb'{"model": "\ud800", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}',
    rb'{"model": "auto", "max_tokens": 5, "x\udfff": 1, "messages": [{"role": "user", "content": "hi"}]}',
    rb'{"model": "auto", "max_tokens": 5, "stream": true, "system": "\udbff",'
    rb' "messages": [{"role": "user", "content": [{"type": "text", "text": "\ud83d"}]}]}',
], ids=["content", "model", "ignored-field", "stream-system"])
def test_lone_surrogates(client: Any, body: bytes) -> None:
    check(post(client, MESSAGES, body))
