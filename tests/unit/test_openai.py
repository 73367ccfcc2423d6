"""The /v1 body is passed on as the client's own bytes, with only ``model`` and capped token
limits replaced (``Source.splice``), and means the same to a backend as a re-encoded body."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from octoroute.api import body as body_module
from octoroute.api.body import read_json_source
from octoroute.api.openai import forward_body
from octoroute.errors import RequestError

from fakes import FakeRequest

LIMIT = 1 << 20


def parse(raw: bytes) -> tuple[Any, Any]:
    return read_json_source(FakeRequest(raw), LIMIT)  # type: ignore[arg-type]


def forward(raw: bytes, name: str = "llama3:8b", cap: int = 256) -> bytes:
    data, source = parse(raw)
    return forward_body(data, name, cap, source)


def test_only_the_model_value_changes_byte_for_byte():
    raw = (b'{ "model" : "auto",\n  "temperature": 0.20000, "messages": [{"role": "user", '
           b'"content": "caf\\u00e9 \\"quoted\\""}], "x": 1e2 }')
    assert forward(raw) == raw.replace(b'"auto"', b'"llama3:8b"')


def test_token_limits_above_the_cap_are_replaced_in_place_and_others_kept():
    raw = b'{"max_tokens":1000,"model":"auto","max_completion_tokens":64,"messages":[]}'
    assert forward(raw) == b'{"max_tokens":256,"model":"llama3:8b","max_completion_tokens":64,"messages":[]}'


def test_a_missing_model_is_added_first():
    assert forward(b'{"messages": []}') == b'{"model":"llama3:8b","messages": []}'
    assert forward(b' {} ') == b' {"model":"llama3:8b"} '


def test_each_endpoint_gets_its_own_name_from_the_same_source():
    raw = b'{"model": "fast", "messages": [{"role": "user", "content": "hi"}]}'
    data, source = parse(raw)
    first = forward_body(data, "a-model", 100, source)
    second = forward_body(data, "b\u00e9-model", 100, source)
    assert json.loads(first)["model"] == "a-model"
    assert json.loads(second)["model"] == "b\u00e9-model"
    assert second.isascii()  # the endpoint's name is escaped, as json.dumps writes it


def test_a_repeated_top_level_key_falls_back_to_encoding_the_object():
    raw = b'{"model": "auto", "stream": true, "messages": [], "stream": false}'
    data, source = parse(raw)
    assert source is None
    assert data["stream"] is False  # the last copy wins, as with json.loads
    sent = forward_body(data, "m", 10, source)
    assert sent.count(b'"stream"') == 1
    assert json.loads(sent) == {"model": "m", "stream": False, "messages": []}


def test_utf8_text_is_passed_on_unescaped():
    raw = '{"model":"auto","messages":[{"role":"user","content":"caf\u00e9 \U0001f30a"}]}'.encode()
    assert forward(raw) == raw.replace(b'"auto"', b'"llama3:8b"')


def test_utf16_body_reaches_the_backend_as_utf8():
    text = '{"model": "auto", "messages": [{"role": "user", "content": "caf\u00e9"}]}'
    sent = forward(text.encode("utf-16"))
    assert sent == text.replace('"auto"', '"llama3:8b"').encode()


def test_a_lone_surrogate_from_the_client_is_sent_escaped():
    # UTF-8 bytes of U+D800 (read with surrogatepass): not encodable as UTF-8 again
    raw = b'{"model": "auto", "messages": [{"role": "user", "content": "a\xed\xa0\x80b"}]}'
    sent = forward(raw)
    assert sent.isascii()
    assert json.loads(sent)["messages"][0]["content"] == "a\ud800b"


@pytest.mark.parametrize("raw", [
    b'{"a": 1,}', b'{"a" 1}', b'{"a": 1} x', b'{} x', b'{"a": 1', b'{"a": [1, 2}', b'{a: 1}',
    b'{"a": "\x01"}', b'{"a": 1e999}', b'{"a": NaN}', b'{"a": 01}', b'{,}',
])
def test_invalid_json_gets_jsons_own_message(raw):
    # what json itself says with the server's decoder settings (no NaN, no infinite numbers)
    decoder = json.JSONDecoder(parse_float=body_module._finite, parse_constant=body_module._no_constants)
    with pytest.raises(ValueError) as json_says:
        decoder.decode(raw.decode())
    with pytest.raises(RequestError) as caught:
        parse(raw)
    assert caught.value.code == "invalid_json"
    assert caught.value.message == f"request body is not valid JSON ({str(json_says.value).splitlines()[0]})"


# Any JSON object, as clients write it (compact, spaced, indented; ASCII-escaped or not).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)
bodies = st.dictionaries(
    st.sampled_from(["model", "messages", "max_tokens", "max_completion_tokens", "stream", "temperature"])
    | st.text(max_size=10),
    json_values | st.integers(0, 10_000), max_size=8)
styles = st.sampled_from([
    {"separators": (",", ":")}, {}, {"indent": 2}, {"ensure_ascii": False},
    {"indent": "\t", "ensure_ascii": False, "separators": (" ,", " : ")}])


@settings(max_examples=400, deadline=None)
@given(body=bodies, style=styles, cap=st.integers(1, 5000), name=st.text(min_size=1, max_size=12))
def test_spliced_body_means_what_the_re_encoded_body_means(body, style, cap, name):
    raw = json.dumps(body, **style).encode()
    data, source = parse(raw)
    assert data == json.loads(raw)
    assert source is not None
    spliced = forward_body(data, name, cap, source)
    encoded = forward_body(data, name, cap)
    assert json.loads(spliced) == json.loads(encoded)
    # and nothing but the changed values differs from what the client sent
    unchanged = {k: v for k, v in body.items() if k not in ("model", "max_tokens", "max_completion_tokens")}
    assert {k: v for k, v in json.loads(spliced).items() if k in unchanged} == unchanged
