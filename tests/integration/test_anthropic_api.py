"""``/v1/messages`` as a user of the official ``anthropic`` SDK meets it.

A live Octoroute (the production waitress server) on a real socket, fake
OpenAI-style backends behind it: plain and streamed messages, tool use over
several turns, images, count_tokens, the models list, errors as the SDK's
exception classes, failover before a stream's first byte and Anthropic's
error event after it. Raw ``requests`` calls check what the SDK hides.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import anthropic
import pytest
from octoroute.config import AnthropicConfig

from fakes import (
    SSEScript,
    answer,
    completion,
    delayed,
    delta_events,
    endpoint,
    error,
    make_config,
    rate_limited,
    sse_event,
    stream,
)

HELLO = [{"role": "user", "content": "hi there"}]  # casual and short: the rules say fast
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]  # no rule: balanced
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
WEATHER_TOOL = {"name": "get_weather", "description": "Current weather of a city",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                                 "required": ["city"]}}


def trio_config(trio: SimpleNamespace, **sections: Any) -> Any:
    return make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]}, **sections)


@pytest.fixture
def sdk() -> Iterator[Callable[..., anthropic.Anthropic]]:
    """Factory: the official SDK pointed at a live server (no retries, no proxies)."""
    clients: list[anthropic.Anthropic] = []

    def make(live: Any, *, api_key: str = "sk-unused", **kwargs: Any) -> anthropic.Anthropic:
        client = anthropic.Anthropic(base_url=live.url, api_key=api_key, max_retries=0, timeout=15.0,
                                     http_client=anthropic.DefaultHttpxClient(trust_env=False), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def tool_call_answer(call_id: str, name: str, arguments: dict[str, Any]) -> Callable[[Any], None]:
    def run(ex: Any) -> None:
        call = {"id": call_id, "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)}}
        ex.send_json(200, completion("m", {"role": "assistant", "content": None, "tool_calls": [call]}, 9))
    return run


def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    return sse_event({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                      "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


USAGE_CHUNK = sse_event({"id": "c", "object": "chat.completion.chunk", "choices": [],
                         "usage": {"prompt_tokens": 21, "completion_tokens": 5, "total_tokens": 26}})


# --- messages.create ------------------------------------------------------------------

MODEL_CASES = [
    # model, endpoint that must serve, strategy
    ("claude-3-5-haiku-20241022", "fast-1", "explicit"),
    ("claude-sonnet-4-5-20250929", "balanced-1", "explicit"),
    ("claude-opus-4-1", "deep-1", "explicit"),
    ("auto", "fast-1", "rule"),
    ("deep", "deep-1", "explicit"),
    ("balanced-1", "balanced-1", "explicit"),
]


@pytest.mark.parametrize(("model", "served_by", "strategy"), MODEL_CASES, ids=[c[0] for c in MODEL_CASES])
def test_create_maps_claude_names_to_tiers(trio, serve, sdk, model, served_by, strategy):
    live = serve(trio_config(trio))
    raw = sdk(live).messages.with_raw_response.create(model=model, max_tokens=64, messages=HELLO)
    message = raw.parse()
    assert message.content[0].type == "text"
    assert message.content[0].text == f"answer from {served_by}"
    assert message.model == model and message.role == "assistant"
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (3, 7)  # the backend's counts
    assert raw.headers["X-Octoroute-Endpoint"] == served_by
    assert raw.headers["X-Octoroute-Strategy"] == strategy
    assert raw.headers["request-id"] == raw.headers["X-Request-ID"]
    assert "X-Octoroute-Tokens-Estimated" not in raw.headers


def test_the_backend_receives_the_openai_translation(trio, serve, sdk):
    live = serve(trio_config(trio))
    sdk(live).messages.create(
        model="claude-sonnet-4-5", max_tokens=100_000, system="Answer in French.",
        stop_sequences=["\n\n"], metadata={"user_id": "user-7"},
        output_config={"format": {"type": "json_schema", "schema": {"type": "object"}}},
        # NOTE: this SDK version dropped the sampling arguments; the API still takes them.
        extra_body={"temperature": 0.3, "top_p": 0.8, "top_k": 20},
        messages=[{"role": "user", "content": "What is the capital of France?"}])
    (received,) = trio.balanced.chats()
    sent = received.json
    assert sent["model"] == trio.balanced.model
    assert sent["max_tokens"] == 256  # capped at the endpoint's max_tokens
    assert sent["messages"] == [{"role": "system", "content": "Answer in French."},
                                {"role": "user", "content": "What is the capital of France?"}]
    assert (sent["temperature"], sent["top_p"], sent["top_k"]) == (0.3, 0.8, 20)
    assert sent["stop"] == ["\n\n"] and sent["user"] == "user-7"
    assert "stream" not in sent
    assert sent["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "output", "schema": {"type": "object"}, "strict": True}}


def test_thinking_without_reasoning_is_dropped_with_a_warning(trio, serve, sdk):
    live = serve(trio_config(trio))
    raw = sdk(live).messages.with_raw_response.create(
        model="claude-opus-4-1", max_tokens=2048, messages=HELLO,
        thinking={"type": "enabled", "budget_tokens": 1024})
    assert [b.type for b in raw.parse().content] == ["text"]
    assert "thinking was requested" in raw.headers["X-Octoroute-Warnings"]


def test_reasoning_content_is_passed_through_as_thinking(trio, serve, sdk):
    trio.deep.enqueue(lambda ex: ex.send_json(200, completion(
        "m", {"role": "assistant", "content": "42", "reasoning_content": "six times seven"}, 4)))
    live = serve(trio_config(trio))
    message = sdk(live).messages.create(model="claude-opus-4-1", max_tokens=2048, messages=HELLO,
                                        thinking={"type": "enabled", "budget_tokens": 1024})
    assert message.content[0].type == "thinking" and message.content[0].thinking == "six times seven"
    assert message.content[1].type == "text" and message.content[1].text == "42"


def test_missing_usage_is_estimated_and_flagged(trio, serve, sdk):
    trio.fast.enqueue(answer("x" * 40, tokens=None))
    live = serve(trio_config(trio))
    raw = sdk(live).messages.with_raw_response.create(model="haiku", max_tokens=64, messages=HELLO)
    assert raw.parse().usage.output_tokens == 10
    assert raw.headers["X-Octoroute-Tokens-Estimated"] == "true"


def test_images_base64_and_url_reach_the_backend_as_image_parts(trio, serve, sdk):
    live = serve(trio_config(trio))
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.org/cat.jpg"}},
        {"type": "text", "text": "Which animal?"}]
    sdk(live).messages.create(model="claude-sonnet-4-5", max_tokens=64,
                              messages=[{"role": "user", "content": content}])
    (received,) = trio.balanced.chats()
    assert received.json["messages"] == [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": {"url": "https://example.org/cat.jpg"}},
        {"type": "text", "text": "Which animal?"}]}]


def test_multi_turn_tool_use_keeps_the_ids_both_ways(trio, serve, sdk):
    trio.balanced.enqueue(tool_call_answer("call_abc", "get_weather", {"city": "Oslo"}))
    live = serve(trio_config(trio))
    client = sdk(live)
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather in Oslo?"}]
    first = client.messages.create(model="claude-sonnet-4-5", max_tokens=256, tools=[WEATHER_TOOL],
                                   tool_choice={"type": "auto"}, messages=messages)
    assert first.stop_reason == "tool_use"
    (use,) = first.content
    assert use.type == "tool_use" and use.id == "call_abc" and use.name == "get_weather"
    assert use.input == {"city": "Oslo"}
    messages += [{"role": "assistant", "content": [b.model_dump() for b in first.content]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                               "content": "4 degrees, snow"}]}]
    second = client.messages.create(model="claude-sonnet-4-5", max_tokens=256, tools=[WEATHER_TOOL],
                                    messages=messages)
    assert second.content[0].text == "answer from balanced-1"
    first_sent, second_sent = (r.json for r in trio.balanced.chats())
    assert first_sent["tools"][0]["function"]["name"] == "get_weather"
    assert first_sent["tool_choice"] == "auto"
    assert second_sent["messages"][1:] == [
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_abc", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}]},
        {"role": "tool", "tool_call_id": "call_abc", "content": "4 degrees, snow"}]


def test_a_routed_tool_continuation_stays_in_its_session(trio, serve, sdk):
    live = serve(trio_config(trio))
    raw = sdk(live).messages.with_raw_response.create(model="auto", max_tokens=64, messages=HELLO)
    assert raw.headers["X-Octoroute-Session"]  # sessions are on by default, as on /v1


# --- messages.stream -------------------------------------------------------------------

def test_stream_text_final_message(trio, serve, sdk):
    trio.balanced.enqueue(stream([*delta_events(["The capital", " is Paris."]), USAGE_CHUNK]))
    live = serve(trio_config(trio))
    with sdk(live).messages.stream(model="claude-sonnet-4-5", max_tokens=64,
                                   messages=[{"role": "user", "content": "What is the capital of France?"}]
                                   ) as s:
        texts = list(s.text_stream)
        final = s.get_final_message()
    assert texts == ["The capital", " is Paris."]
    assert final.content[0].text == "The capital is Paris."
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (21, 5)
    (received,) = trio.balanced.chats()
    assert received.json["stream"] is True and received.json["stream_options"] == {"include_usage": True}


def test_stream_tool_use_final_message(trio, serve, sdk):
    trio.balanced.enqueue(stream([
        chunk({"role": "assistant", "content": "Let me check."}),
        chunk({"tool_calls": [{"index": 0, "id": "call_9", "type": "function",
                               "function": {"name": "get_weather", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Lima"}'}}]}),
        chunk({}, finish="tool_calls"), USAGE_CHUNK]))
    live = serve(trio_config(trio))
    with sdk(live).messages.stream(model="claude-sonnet-4-5", max_tokens=64, tools=[WEATHER_TOOL],
                                   messages=[{"role": "user", "content": "Weather in Lima?"}]) as s:
        kinds = [event.type for event in s]
        final = s.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert "input_json" in kinds  # the SDK's own event for an input_json_delta
    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert final.content[1].id == "call_9" and final.content[1].input == {"city": "Lima"}
    assert final.stop_reason == "tool_use"


def test_stream_fails_over_before_the_first_byte(fake_backend, serve, sdk):
    broken = fake_backend("balanced-1", chat=error(500))
    good = fake_backend("balanced-2")
    good.enqueue(stream(delta_events(["from the second"])))
    others = {"fast": [fake_backend("fast-1")], "deep": [fake_backend("deep-1")]}
    balanced = [endpoint(broken, priority=2), endpoint(good, priority=1)]
    live = serve(make_config({"balanced": balanced, **others}))
    with sdk(live).messages.with_streaming_response.create(
            model="claude-sonnet-4-5", max_tokens=64, stream=True,
            messages=[{"role": "user", "content": "What is the capital of France?"}]) as raw:
        assert raw.headers["X-Octoroute-Endpoint"] == "balanced-2"
        body = raw.read().decode()
    assert len(broken.chats()) == 1
    assert '"text": "from the second"' in body
    assert body.rstrip().endswith('data: {"type": "message_stop"}')


def test_a_failure_after_the_first_byte_is_an_anthropic_error_event(trio, serve, sdk):
    script = SSEScript(delta_events(["half an ", "answer"])[:1], end="cut", release=True)
    trio.balanced.enqueue(script.behaviour())
    live = serve(trio_config(trio))
    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        with sdk(live).messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=QUESTION) as s:
            for text in s.text_stream:
                seen.append(text)
    assert seen == ["half an "]
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == "api_error"
    assert "mid-stream" in caught.value.body["error"]["message"]


# --- count_tokens, models ------------------------------------------------------------

def test_count_tokens_is_an_estimate_and_says_so(trio, serve, sdk):
    live = serve(trio_config(trio))
    client = sdk(live)
    raw = client.messages.with_raw_response.count_tokens(
        model="claude-sonnet-4-5", system="Be brief.", tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "word " * 400}])
    count = raw.parse()
    assert 400 <= count.input_tokens <= 700
    assert raw.headers["X-Octoroute-Tokens-Estimated"] == "true"
    assert (count.model_extra or {}).get("estimated") is True
    small = client.messages.count_tokens(model="haiku", messages=HELLO)
    assert small.input_tokens < count.input_tokens
    assert trio.balanced.received == []  # no backend is asked


def test_models_list_through_the_anthropic_sdk(trio, serve, sdk):
    live = serve(trio_config(trio))
    models = list(sdk(live).models.list())
    ids = [m.id for m in models]
    assert ids[:4] == ["auto", "fast", "balanced", "deep"]
    assert {"haiku", "sonnet", "opus", "fast-1"} <= set(ids)
    assert {m.type for m in models} == {"model"}
    assert all(m.display_name and m.created_at for m in models)
    openai_view = live.get("/v1/models").json()
    assert openai_view["object"] == "list" and openai_view["data"][0]["object"] == "model"


def test_configured_names_route_and_are_listed(trio, serve, sdk):
    # A config as parse_config builds it from [anthropic.models] (tests/unit/test_config.py checks that).
    config = replace(trio_config(trio), anthropic=AnthropicConfig(models=(("sonnet", "balanced"),
                                                                ("claude-sonnet-4-5", "deep-1"))))
    live = serve(config)
    raw = sdk(live).messages.with_raw_response.create(model="claude-sonnet-4-5-20250929", max_tokens=9,
                                                      messages=HELLO)
    assert raw.headers["X-Octoroute-Endpoint"] == "deep-1"  # the longest match wins
    assert "claude-sonnet-4-5" in [m.id for m in sdk(live).models.list()]


# --- errors as the SDK's exception classes ----------------------------------------------

def test_malformed_body_is_a_bad_request_naming_the_field(trio, serve, sdk):
    live = serve(trio_config(trio))
    with pytest.raises(anthropic.BadRequestError) as caught:
        sdk(live).messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=[
            {"role": "user", "content": [{"type": "image", "source": {"type": "base64", "data": PNG}}]}])
    err = caught.value
    assert err.status_code == 400
    assert err.body["type"] == "error" and err.body["error"]["type"] == "invalid_request_error"
    assert "messages.0.content.0.source.media_type" in err.body["error"]["message"]
    assert "image/png" in err.body["error"]["message"]
    assert err.request_id == err.response.headers["X-Request-ID"]
    assert trio.balanced.received == []


def test_unknown_model_is_not_found(trio, serve, sdk):
    live = serve(trio_config(trio))
    with pytest.raises(anthropic.NotFoundError) as caught:
        sdk(live).messages.create(model="gpt-4o", max_tokens=64, messages=HELLO)
    assert caught.value.body["error"]["type"] == "not_found_error"
    assert "'sonnet'" in caught.value.body["error"]["message"]


def test_x_api_key_is_accepted_like_a_bearer_key(trio, serve, sdk):
    live = serve(trio_config(trio, server={"api_keys_env": "OCTO_KEYS"}, env={"OCTO_KEYS": "k-good"}))
    assert sdk(live, api_key="k-good").messages.create(model="haiku", max_tokens=9, messages=HELLO).content
    with pytest.raises(anthropic.AuthenticationError) as caught:
        sdk(live, api_key="k-bad").messages.create(model="haiku", max_tokens=9, messages=HELLO)
    assert caught.value.body["error"]["type"] == "authentication_error"
    bearer = live.post("/v1/messages", json={"model": "haiku", "max_tokens": 9, "messages": HELLO},
                       headers={"Authorization": "Bearer k-good", "anthropic-version": "2023-06-01"})
    assert bearer.status_code == 200


def test_backend_rejection_keeps_its_4xx(trio, serve, sdk):
    trio.fast.enqueue(error(400, "context too long"))
    live = serve(trio_config(trio))
    with pytest.raises(anthropic.BadRequestError) as caught:
        sdk(live).messages.create(model="haiku", max_tokens=9, messages=HELLO)
    assert "context too long" in caught.value.body["error"]["message"]


def test_every_backend_down_is_an_api_error_without_a_traceback(fake_backend, serve, sdk):
    dead = fake_backend("fast-1", chat=error(500, "boom"))
    live = serve(make_config({"fast": [dead], "balanced": [fake_backend("balanced-1")],
                              "deep": [fake_backend("deep-1")]}, routing={"tier_fallback": False}))
    with pytest.raises(anthropic.InternalServerError) as caught:
        sdk(live).messages.create(model="haiku", max_tokens=9, messages=HELLO)
    assert caught.value.status_code == 502
    assert caught.value.body["error"]["type"] == "api_error"
    assert "Traceback" not in caught.value.response.text


def test_rate_limited_backends_are_a_rate_limit_error_with_retry_after(fake_backend, serve, sdk):
    limited = fake_backend("fast-1", chat=rate_limited("7"))
    live = serve(make_config({"fast": [limited], "balanced": [fake_backend("balanced-1")],
                              "deep": [fake_backend("deep-1")]}, routing={"tier_fallback": False}))
    with pytest.raises(anthropic.RateLimitError) as caught:
        sdk(live).messages.create(model="haiku", max_tokens=9, messages=HELLO)
    assert caught.value.body["error"]["type"] == "rate_limit_error"
    assert caught.value.response.headers["Retry-After"] == "7"


def test_busy_slots_are_overloaded_529(fake_backend, serve):
    gate = threading.Event()
    slow = fake_backend("fast-1")
    slow.enqueue(delayed(gate))
    live = serve(make_config({"fast": [slow], "balanced": [fake_backend("balanced-1")],
                              "deep": [fake_backend("deep-1")]}, server={"threads": 4, "max_in_flight": 1}))
    result: dict[str, Any] = {}
    first = threading.Thread(target=lambda: result.setdefault("r", live.post(
        "/v1/messages", json={"model": "haiku", "max_tokens": 9, "messages": HELLO})))
    first.start()
    assert slow.wait_for(lambda r: r.is_chat)
    busy = live.post("/v1/messages", json={"model": "haiku", "max_tokens": 9, "messages": HELLO})
    gate.set()
    first.join(10)
    assert busy.status_code == 529
    assert busy.json()["error"]["type"] == "overloaded_error"
    assert busy.headers["Retry-After"]
    assert result["r"].status_code == 200


def test_unknown_route_under_messages_is_anthropic_shaped(trio, serve):
    live = serve(trio_config(trio))
    resp = live.get("/v1/messages/batches")
    assert resp.status_code == 404
    assert resp.json()["error"]["type"] == "not_found_error"
