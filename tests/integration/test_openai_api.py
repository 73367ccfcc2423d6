"""Non-streamed ``/v1/chat/completions`` and ``/v1/models`` as an OpenAI SDK user meets them.

The official ``openai`` package talks to a live Octoroute (the production
waitress server) on a real socket, with fake backends behind it; raw
``requests`` calls check what the SDK hides: exact bytes, headers, what the
backend received.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import openai
import pytest

from fakes import (
    Behaviour,
    FakeBackend,
    brain_says,
    drop,
    endpoint,
    error,
    invalid_json,
    make_config,
    no_choices,
    raw_answer,
    truncated,
)

HELLO = [{"role": "user", "content": "hi there"}]  # casual_short: tier fast
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]  # no rule decides it
ERROR_KEYS = {"message", "type", "param", "code", "request_id"}


def trio_config(trio: SimpleNamespace, **sections: Any) -> Any:
    return make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                       **sections)


def v1(live: Any, body: Any, headers: dict[str, str] | None = None) -> Any:
    """``POST /v1/chat/completions`` with ``requests`` (``body`` sent as JSON)."""
    return live.post("/v1/chat/completions", json=body, headers=headers)


# --- model choice, response and headers ----------------------------------------

MODEL_CASES = [
    # model, the endpoint that must serve, its tier, strategy
    ("auto", "fast-1", "fast", "rule"),
    ("fast", "fast-1", "fast", "explicit"),
    ("balanced", "balanced-1", "balanced", "explicit"),
    ("deep", "deep-1", "deep", "explicit"),
    ("fast_8b", "fast-1", "fast", "explicit"),
    ("balanced_30b", "balanced-1", "balanced", "explicit"),
    ("deep_120b", "deep-1", "deep", "explicit"),
    ("Deep", "deep-1", "deep", "explicit"),
    ("balanced-1", "balanced-1", "balanced", "explicit"),
    ("deep-1", "deep-1", "deep", "explicit"),
]


@pytest.mark.parametrize(("model", "served_by", "tier", "strategy"), MODEL_CASES,
                         ids=[c[0] for c in MODEL_CASES])
def test_create_serves_the_chosen_model_with_routing_headers(trio, serve, model, served_by, tier, strategy):
    live = serve(trio_config(trio))
    raw = live.openai().chat.completions.with_raw_response.create(model=model, messages=HELLO)
    completion = raw.parse()
    assert completion.choices[0].message.content == f"answer from {served_by}"
    assert raw.headers["X-Octoroute-Tier"] == tier
    assert raw.headers["X-Octoroute-Endpoint"] == served_by
    assert raw.headers["X-Octoroute-Strategy"] == strategy
    assert len(raw.headers["X-Request-ID"]) >= 16
    backend: FakeBackend = getattr(trio, tier)
    (received,) = backend.chats()
    assert received.json["model"] == backend.model  # the endpoint's name, not the client's model


@pytest.mark.parametrize("model", [{}, {"model": None}, {"model": ""}], ids=["missing", "null", "empty"])
def test_missing_model_routes_like_auto(trio, serve, model):
    live = serve(trio_config(trio))
    resp = v1(live, {"messages": HELLO, **model})
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Octoroute-Endpoint"] == "fast-1"
    assert resp.headers["X-Octoroute-Strategy"] == "rule"


def test_response_is_the_backend_json_byte_for_byte(trio, serve):
    body = ('{"id":"chatcmpl-odd",  "object":"chat.completion","created":1,"model":"qwen-local",\n'
            '"choices":[{"index":0,"message":{"role":"assistant","content":"h\\u00e9llo \xf0\x9f\x90\x99",'
            '"reasoning_content":"thought"},"finish_reason":"stop","logprobs":null}],'
            '"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7},'
            '"system_fingerprint":"b1234","timings":{"predicted_ms":12.5}}').encode("latin-1")
    trio.fast.enqueue(raw_answer(body))
    live = serve(trio_config(trio))
    raw = live.openai().chat.completions.with_raw_response.create(
        model="auto", messages=HELLO, extra_headers={"X-Request-ID": "client-chosen-id"})
    assert raw.http_response.content == body
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.headers["X-Request-ID"] == "client-chosen-id"
    completion = raw.parse()
    assert completion.choices[0].message.content == "h\u00e9llo \U0001f419"
    assert completion.model == "qwen-local"
    assert completion.usage is not None and completion.usage.total_tokens == 7


def test_models_list_has_auto_the_tiers_and_every_endpoint(fake_backend, trio, serve):
    second = fake_backend("balanced-2")
    live = serve(make_config({"fast": [trio.fast], "balanced": [trio.balanced, second],
                              "deep": [trio.deep]}))
    models = list(live.openai().models.list())
    assert [m.id for m in models] == ["auto", "fast", "balanced", "deep", "fast-1", "balanced-1",
                                      "balanced-2", "deep-1", "haiku", "sonnet", "opus"]  # [anthropic.models]
    assert {m.object for m in models} == {"model"}
    extra = {m.id: m.model_extra or {} for m in models}
    assert extra["balanced"]["tier"] == "balanced"
    assert extra["balanced"]["endpoints"] == ["balanced-1", "balanced-2"]
    assert extra["balanced-2"]["tier"] == "balanced"
    assert extra["deep-1"]["healthy"] is True
    assert trio.fast.received == []  # listing models asks no backend


# --- errors in the OpenAI shape, as the SDK's exception classes -----------------

def test_unknown_model_is_not_found_with_the_valid_values(trio, serve):
    live = serve(trio_config(trio))
    with pytest.raises(openai.NotFoundError) as caught:
        live.openai().chat.completions.create(model="gpt-9", messages=HELLO)
    err = caught.value
    assert err.code == "model_not_found"
    assert err.param == "model"
    assert set(err.body) >= ERROR_KEYS
    assert err.body["request_id"] == err.response.headers["X-Request-ID"]
    assert {"auto", "fast", "balanced", "deep", "fast_8b", "fast-1", "deep-1"} <= set(err.body["valid"])
    assert "fast-1" in err.message
    assert [b.chats() for b in (trio.fast, trio.balanced, trio.deep)] == [[], [], []]


INVALID_BODIES = [
    # fields overriding a valid body, the param the error must name
    ({"messages": []}, "messages"),
    ({"messages": "hi there"}, "messages"),
    ({"messages": ["hi there"]}, "messages.0"),
    ({"messages": [{"content": "hi"}]}, "messages.0.role"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
    ({"messages": [{"role": "user", "content": 42}]}, "messages.0.content"),
    ({"temperature": 2.5}, "temperature"),
    ({"temperature": -0.1}, "temperature"),
    ({"temperature": "hot"}, "temperature"),
    ({"top_p": 1.5}, "top_p"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_completion_tokens": "many"}, "max_completion_tokens"),
    ({"stream": "yes"}, "stream"),
    ({"model": 7}, "model"),
    ({"tools": {"type": "function"}}, "tools"),
]


@pytest.mark.parametrize(("override", "param"), INVALID_BODIES, ids=[c[1] + "-" + str(i)
                                                                    for i, c in enumerate(INVALID_BODIES)])
def test_invalid_body_is_bad_request_naming_the_field(trio, serve, override, param):
    live = serve(trio_config(trio))
    with pytest.raises(openai.BadRequestError) as caught:
        live.openai().chat.completions.create(model="auto", messages=HELLO, extra_body=override)
    err = caught.value
    assert err.param == param
    assert err.type == "invalid_request_error"
    assert set(err.body) >= ERROR_KEYS
    assert any(part in err.message for part in param.split(".") if not part.isdigit())
    assert trio.fast.received == []


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"a string"', b""])
def test_body_that_is_not_a_json_object_is_400(trio, serve, raw):
    live = serve(trio_config(trio))
    resp = live.post("/v1/chat/completions", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert set(resp.json()["error"]) >= ERROR_KEYS


def test_wrong_content_type_and_oversized_body_are_openai_errors(trio, serve):
    live = serve(trio_config(trio, server={"max_body_bytes": 4096}))
    resp = live.post("/v1/chat/completions", data=json.dumps({"messages": HELLO}),
                     headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415
    assert set(resp.json()["error"]) >= ERROR_KEYS
    with pytest.raises(openai.APIStatusError) as caught:
        live.openai().chat.completions.create(model="auto",
                                              messages=[{"role": "user", "content": "x" * 5000}])
    assert caught.value.status_code == 413
    assert set(caught.value.body) >= ERROR_KEYS


@pytest.mark.parametrize(("header", "value"), [("X-Octoroute-Importance", "urgent"),
                                               ("X-Octoroute-Task-Type", "poetry"),
                                               ("X-Octoroute-Importance", "")])
@pytest.mark.parametrize("stream", [False, True])
def test_invalid_hint_header_is_400_naming_it(trio, serve, header, value, stream):
    live = serve(trio_config(trio))
    with pytest.raises(openai.BadRequestError) as caught:
        live.openai().chat.completions.create(model="auto", messages=HELLO, stream=stream,
                                              extra_headers={header: value})
    assert caught.value.param == header
    assert header in caught.value.message
    assert caught.value.response.headers["content-type"].startswith("application/json")
    assert trio.fast.received == []


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v1/nothing-here", 404),
    ("POST", "/v1/completions", 404),
    ("GET", "/v1/chat/completions", 405),
    ("DELETE", "/v1/models", 405),
])
def test_unknown_route_and_method_under_v1_are_openai_errors(trio, serve, method, path, status):
    live = serve(trio_config(trio))
    resp = live.request(method, path, json={})
    assert resp.status_code == status
    assert resp.headers["content-type"].startswith("application/json")
    err = resp.json()["error"]
    assert set(err) == ERROR_KEYS
    assert err["request_id"] == resp.headers["X-Request-ID"]
    assert path in err["message"]
    if status == 405:
        assert "POST" in resp.headers["Allow"] or "GET" in resp.headers["Allow"]


def test_sdk_raises_its_usual_classes_for_404_and_405(trio, serve):
    live = serve(trio_config(trio))
    client = live.openai()
    with pytest.raises(openai.NotFoundError):
        client.post("/no/such/thing", cast_to=object, body={})
    with pytest.raises(openai.APIStatusError) as caught:
        client.get("/chat/completions", cast_to=object)
    assert caught.value.status_code == 405
    assert caught.value.type == "invalid_request_error"


# --- what the backend receives ---------------------------------------------------

FULL_BODY: dict[str, Any] = {
    "model": "auto",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "developer", "content": [{"type": "text", "text": "Prefer metric units."}]},
        {"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=",
                                                "detail": "low"}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "lookup", "arguments": "{\"q\": \"tides\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "high tide at 06:12"},
        {"role": "user", "name": "sam", "content": "Thanks \u2014 and the next one? \U0001f30a"},
    ],
    "tools": [{"type": "function", "function": {
        "name": "lookup", "description": "Look things up",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}],
    "tool_choice": {"type": "function", "function": {"name": "lookup"}},
    "parallel_tool_calls": False,
    "response_format": {"type": "json_schema",
                        "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True}},
    "temperature": 0.3,
    "top_p": 0.9,
    "seed": 42,
    "logit_bias": {"50256": -100},
    "stop": ["\n\n", "END"],
    "presence_penalty": 0.5,
    "frequency_penalty": -0.5,
    "logprobs": True,
    "top_logprobs": 2,
    "n": 1,
    "user": "user-123",
    "stream": False,
    "stream_options": {"include_usage": True},
    "x_custom": {"a": 1},
}

TOKEN_CASES = [
    # token fields the client sent, what the backend (max_tokens 256) must receive
    ({}, {}),
    ({"max_tokens": 1000}, {"max_tokens": 256}),
    ({"max_tokens": 100}, {"max_tokens": 100}),
    ({"max_tokens": 256}, {"max_tokens": 256}),
    ({"max_completion_tokens": 5000}, {"max_completion_tokens": 256}),
    ({"max_completion_tokens": 64}, {"max_completion_tokens": 64}),
    ({"max_tokens": 300, "max_completion_tokens": 200}, {"max_tokens": 256, "max_completion_tokens": 200}),
    ({"max_tokens": None}, {"max_tokens": None}),
]


@pytest.mark.parametrize(("sent", "forwarded"), TOKEN_CASES, ids=[json.dumps(c[0]) for c in TOKEN_CASES])
def test_backend_receives_the_body_unchanged_except_model_and_token_caps(trio, serve, sent, forwarded):
    live = serve(trio_config(trio))
    body = {**FULL_BODY, **sent}
    resp = v1(live, body)
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Octoroute-Tier"] == "balanced"  # tools in the conversation: code
    (received,) = trio.balanced.chats()
    assert received.json == {**body, "model": trio.balanced.model, **forwarded}
    if not sent:
        assert "max_tokens" not in received.json and "max_completion_tokens" not in received.json
    assert received.headers["content-type"] == "application/json"


def test_sdk_request_reaches_the_backend_as_the_sdk_sent_it(trio, serve):
    live = serve(trio_config(trio))
    fields = {k: v for k, v in FULL_BODY.items() if k not in ("model", "x_custom", "stream")}
    raw = live.openai().chat.completions.with_raw_response.create(
        model="auto", **fields, max_completion_tokens=4096, extra_body={"x_custom": {"a": 1}})
    sent = json.loads(raw.http_response.request.content)
    assert sent["x_custom"] == {"a": 1}
    (received,) = trio.balanced.chats()
    assert received.json == {**sent, "model": trio.balanced.model, "max_completion_tokens": 256}
    assert list(received.json) == list(sent)  # every field, in the SDK's order


# --- routing input ------------------------------------------------------------------

ROUTING_CASES = [
    # messages, request fields, headers, tier, rule
    (QUESTION, {}, {"X-Octoroute-Importance": "high"}, "deep", "high_importance"),
    (QUESTION, {}, {"X-Octoroute-Importance": "HIGH"}, "deep", "high_importance"),
    # A named deep_analysis is deep (the seed's promise); creative writing is a small
    # model's job (the seed's table said deep; rules_preset = "seed" still does).
    (HELLO, {}, {"X-Octoroute-Task-Type": "deep_analysis"}, "deep", "scorer"),
    (HELLO, {}, {"X-Octoroute-Task-Type": "creative_writing"}, "fast", "scorer"),
    # casual_short does not take requests with tools; the named casual_chat still keeps it fast.
    (HELLO, {"tools": FULL_BODY["tools"]}, {"X-Octoroute-Task-Type": "casual_chat"}, "fast", "scorer"),
    (HELLO, {"tools": FULL_BODY["tools"]}, {}, "balanced", "scorer"),
    # A system prompt sets the kind of a short opening ask ("thanks!" or "hi there" alone asks nothing).
    ([{"role": "system", "content": "You are a Python coding assistant."},
      {"role": "user", "content": "hi, can you help me?"}], {}, {}, "balanced", "scorer"),
    ([{"role": "user", "content": "Write a long poem about the sea"},
      {"role": "assistant", "content": "..."}, *HELLO], {}, {}, "fast", "casual_short"),
    ([{"role": "user", "content": "q" * 8000}, {"role": "assistant", "content": "a" * 400}, *QUESTION],
     {}, {}, "balanced", "scorer"),  # the size is the whole conversation's
    ([{"role": "user", "content": [{"type": "text", "text": "Analyze the trade-offs of this design"},
                                   {"type": "image_url", "image_url": {"url": "data:,x"}}]}], {}, {},
     "balanced", "scorer"),
]


@pytest.mark.parametrize(("messages", "fields", "headers", "tier", "rule"), ROUTING_CASES,
                         ids=[f"{c[3]}-{c[4]}-{i}" for i, c in enumerate(ROUTING_CASES)])
def test_routing_reads_the_conversation_and_the_hint_headers(trio, serve, messages, fields, headers,
                                                            tier, rule):
    live = serve(trio_config(trio))
    resp = v1(live, {"model": "auto", "messages": messages, **fields}, headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Octoroute-Tier"] == tier
    assert resp.headers["X-Octoroute-Strategy"] == "rule"
    assert resp.headers["X-Octoroute-Rule"] == rule
    assert len(getattr(trio, tier).chats()) == 1


@pytest.mark.parametrize(("strategy", "headers", "label"), [
    ("llm", {}, "llm"),
    ("hybrid", {"X-Octoroute-Task-Type": "question_answer"}, "llm"),  # tools alone would mean code
    ("tool", {}, "tool"),
])
def test_router_brain_never_receives_the_clients_tools(trio, serve, strategy, headers, label):
    trio.balanced.brain_default = brain_says("DEEP")
    # brain_confidence 1: hybrid asks the brain whatever the scorer's confidence.
    live = serve(trio_config(trio, routing={"strategy": strategy, "router_tier": "balanced",
                                            "brain_confidence": 1.0}))
    body = {"model": "auto", "messages": QUESTION, "tools": FULL_BODY["tools"],
            "tool_choice": FULL_BODY["tool_choice"]}
    resp = v1(live, body, headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Octoroute-Strategy"] == label
    assert resp.headers["X-Octoroute-Tier"] == "deep"
    (question,) = trio.balanced.brain_questions()
    assert b"lookup" not in question.body
    assert [t["function"]["name"] for t in question.json.get("tools", [])] == (
        ["select_tier"] if strategy == "tool" else [])
    (served,) = trio.deep.chats()
    assert served.json["tools"] == FULL_BODY["tools"]
    assert served.json["tool_choice"] == FULL_BODY["tool_choice"]


# --- failover and tier fallback, exactly as /chat -------------------------------------

@pytest.fixture
def pair(fake_backend: Callable[..., FakeBackend], trio: SimpleNamespace) -> SimpleNamespace:
    """Two fast endpoints (``bad`` tried first) plus the trio's balanced and deep."""
    return SimpleNamespace(bad=fake_backend("fast-bad"), good=fake_backend("fast-good"), trio=trio)


def pair_config(pair: SimpleNamespace, **sections: Any) -> Any:
    return make_config({"fast": [endpoint(pair.bad, priority=2), endpoint(pair.good, priority=1)],
                        "balanced": [pair.trio.balanced], "deep": [pair.trio.deep]}, **sections)


def call(live: Any, api: str) -> Any:
    """The same casual request through either API."""
    if api == "chat":
        return live.post("/chat", json={"prompt": "hi there"})
    return v1(live, {"model": "auto", "messages": HELLO})


FAULTS: dict[str, Behaviour] = {"http_500": error(500), "invalid_json": invalid_json(),
                                "no_choices": no_choices(), "truncated": truncated(), "drop": drop()}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("api", ["chat", "v1"])
def test_fault_on_the_first_endpoint_fails_over_within_the_tier(pair, serve, api, fault):
    pair.bad.enqueue(FAULTS[fault])
    live = serve(pair_config(pair))
    resp = call(live, api)
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Octoroute-Endpoint"] == "fast-good"
    assert resp.headers["X-Octoroute-Tier"] == "fast"
    assert "X-Octoroute-Warnings" not in resp.headers
    assert (len(pair.bad.chats()), len(pair.good.chats())) == (1, 1)
    assert live.models()["fast-bad"]["consecutive_failures"] == 1
    if api == "v1":
        assert resp.json()["choices"][0]["message"]["content"] == "answer from fast-good"


@pytest.mark.parametrize("api", ["chat", "v1"])
def test_exhausted_tier_falls_back_to_the_next_larger_one(pair, serve, api):
    pair.bad.enqueue(error(500))
    pair.good.enqueue(error(503))
    live = serve(pair_config(pair))
    resp = call(live, api)
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Octoroute-Tier"] == "balanced"
    assert resp.headers["X-Octoroute-Endpoint"] == "balanced-1"
    warnings = resp.json()["warnings"] if api == "chat" else [resp.headers["X-Octoroute-Warnings"]]
    assert any("fell back" in w for w in warnings)
    assert live.metric("octoroute_tier_fallbacks_total", from_tier="fast", to_tier="balanced") == 1


@pytest.mark.parametrize("api", ["chat", "v1"])
def test_every_endpoint_failing_is_502_naming_the_attempts(pair, serve, api):
    for b in (pair.bad, pair.good, pair.trio.balanced, pair.trio.deep):
        b.enqueue(error(500))
    live = serve(pair_config(pair))
    resp = call(live, api)
    assert resp.status_code == 502
    err = resp.json()["error"]
    assert set(err) >= ERROR_KEYS
    assert err["code"] == "upstream_failed"
    assert [a["endpoint"] for a in err["attempts"]] == ["fast-bad", "fast-good", "balanced-1", "deep-1"]


def test_sdk_sees_502_as_internal_server_error(pair, serve):
    for b in (pair.bad, pair.good):
        b.enqueue(error(500))
    live = serve(pair_config(pair))
    with pytest.raises(openai.InternalServerError) as caught:
        live.openai().chat.completions.create(model="fast", messages=HELLO)  # no fallback
    assert caught.value.status_code == 502
    assert [a["endpoint"] for a in caught.value.body["attempts"]] == ["fast-bad", "fast-good"]
    assert live.metric("octoroute_in_flight_requests") == 0


def test_explicit_endpoint_is_tried_alone(pair, serve):
    pair.bad.enqueue(error(500))
    live = serve(pair_config(pair))
    with pytest.raises(openai.InternalServerError):
        live.openai().chat.completions.create(model="fast-bad", messages=HELLO)
    assert pair.good.chats() == []


def test_the_access_line_counts_the_routed_texts_characters(trio: SimpleNamespace, serve: Any,
                                                            logwatch: Any) -> None:
    """``prompt_chars`` is the length of the text routing read (the last user turn), not a
    token estimate times four (13 characters once read as 12)."""
    live = serve(trio_config(trio))
    last_user = "What is 2+2? "  # 13 characters: a //4 estimate times four says 12
    resp = v1(live, {"model": "auto", "messages": [
        {"role": "user", "content": "an earlier question, not routed on"},
        {"role": "assistant", "content": "an earlier answer"},
        {"role": "user", "content": last_user}]})
    assert resp.status_code == 200, resp.text
    (fields,) = logwatch.fields("request")
    assert fields["prompt_chars"] == len(last_user) == 13
    assert fields["messages"] == 3


def test_rules_see_the_request_headers_and_response_format(trio, serve):
    rules = [{"name": "research_team", "tier": "deep", "header": "X-Team=research"},
             {"name": "json_out", "tier": "balanced", "json_response": True}]
    # Sessions off: the same opening would otherwise hold the first answer's deep tier.
    live = serve(trio_config(trio, routing={"rules": rules, "sessions": {"enabled": False}}))
    resp = v1(live, {"model": "auto", "messages": HELLO}, {"X-Team": "research"})
    assert (resp.headers["X-Octoroute-Tier"], resp.headers["X-Octoroute-Rule"]) == ("deep", "research_team")
    resp = v1(live, {"model": "auto", "messages": HELLO, "response_format": {"type": "json_object"}})
    assert (resp.headers["X-Octoroute-Tier"], resp.headers["X-Octoroute-Rule"]) == ("balanced", "json_out")
    resp = v1(live, {"model": "auto", "messages": HELLO}, {"X-Team": "sales"})
    assert (resp.headers["X-Octoroute-Tier"], resp.headers["X-Octoroute-Rule"]) == ("fast", "casual_short")
    assert float(resp.headers["X-Octoroute-Confidence"]) == 1.0
