"""``forward_body``: the /v1 body an endpoint gets is the client's, with only ``model`` and the
token limits above the endpoint's cap replaced, encoded again by ``json.dumps``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from octoroute.api.body import read_json
from octoroute.api.openai import forward_body

from fakes import FakeRequest

LIMIT = 1 << 20


def forward(raw: bytes, name: str = "llama3:8b", cap: int = 256) -> Any:
    """What the backend parses from the forwarded body of the client's ``raw`` bytes."""
    sent = forward_body(read_json(FakeRequest(raw), LIMIT), name, cap)  # type: ignore[arg-type]
    assert sent.isascii()  # escaped: a lone surrogate from a client cannot break the encoding
    return json.loads(sent)


def test_only_the_model_changes():
    raw = (b'{ "model" : "auto",\n  "temperature": 0.20000, "messages": [{"role": "user", '
           b'"content": "caf\\u00e9 \\"quoted\\""}], "x": 1e2, "tools": [] }')
    client = json.loads(raw)
    assert forward(raw) == {**client, "model": "llama3:8b"}


def test_token_limits_above_the_cap_are_capped_and_others_kept():
    raw = b'{"max_tokens":1000,"model":"auto","max_completion_tokens":64,"messages":[]}'
    assert forward(raw) == {"max_tokens": 256, "model": "llama3:8b", "max_completion_tokens": 64,
                            "messages": []}


@pytest.mark.parametrize("value", [256, 10, True, 1000.5, "1000", None])
def test_a_limit_at_or_under_the_cap_or_not_an_integer_goes_through_as_sent(value):
    raw = json.dumps({"max_tokens": value, "messages": []}).encode()
    assert forward(raw)["max_tokens"] == value


def test_a_missing_model_is_added_and_no_limit_is_invented():
    assert forward(b'{"messages": []}') == {"model": "llama3:8b", "messages": []}


def test_the_clients_parsed_body_is_not_changed_between_attempts():
    data = read_json(FakeRequest(b'{"model": "fast", "max_tokens": 900, "messages": []}'), LIMIT)  # type: ignore[arg-type]
    first = json.loads(forward_body(data, "a-model", 100))
    second = json.loads(forward_body(data, "b\u00e9-model", 500))
    assert (first["model"], first["max_tokens"]) == ("a-model", 100)
    assert (second["model"], second["max_tokens"]) == ("b\u00e9-model", 500)
    assert data == {"model": "fast", "max_tokens": 900, "messages": []}


def test_a_repeated_top_level_key_is_sent_once_with_the_last_value():
    raw = b'{"model": "auto", "stream": true, "messages": [], "stream": false}'
    assert forward(raw) == {"model": "llama3:8b", "stream": False, "messages": []}


def test_utf16_body_reaches_the_backend_with_the_same_text():
    text = '{"model": "auto", "messages": [{"role": "user", "content": "caf\u00e9 \U0001f30a"}]}'
    assert forward(text.encode("utf-16"))["messages"][0]["content"] == "caf\u00e9 \U0001f30a"


def test_a_lone_surrogate_from_the_client_is_sent_escaped():
    # UTF-8 bytes of U+D800 (read with surrogatepass): not encodable as UTF-8 again
    raw = b'{"model": "auto", "messages": [{"role": "user", "content": "a\xed\xa0\x80b"}]}'
    assert forward(raw)["messages"][0]["content"] == "a\ud800b"


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


@settings(max_examples=300, deadline=None)
@given(body=bodies, style=styles, cap=st.integers(1, 5000), name=st.text(min_size=1, max_size=12))
def test_the_forwarded_body_means_what_the_client_sent_but_model_and_caps(body, style, cap, name):
    sent = forward(json.dumps(body, **style).encode(), name, cap)
    expected = {**body, "model": name}
    for key in ("max_tokens", "max_completion_tokens"):
        value = body.get(key)
        if type(value) is int and value > cap:
            expected[key] = cap
    assert sent == expected
