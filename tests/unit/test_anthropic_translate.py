"""Anthropic Messages <-> OpenAI chat, both ways, and the stream translator's event sequences."""

from __future__ import annotations

import json
from typing import Any

import pytest
from octoroute.api.anthropic_translate import (
    StreamTranslator,
    error_body,
    estimate_input_tokens,
    stop_details,
    to_anthropic,
    to_openai,
)
from octoroute.api.schemas import validate_anthropic
from octoroute.errors import RequestError

PNG = "iVBORw0KGgo="


def body(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 100,
                            "messages": [{"role": "user", "content": "hi"}]}
    data.update(fields)
    return data


# --- request: Anthropic -> OpenAI ----------------------------------------------------

def test_system_blocks_and_plain_turns_become_openai_messages() -> None:
    out = to_openai(body(system=[{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}],
                         messages=[{"role": "user", "content": [{"type": "text", "text": "a"},
                                                                {"type": "text", "text": "b"}]},
                                   {"role": "assistant", "content": "ok"},
                                   {"role": "user", "content": "more"}]))
    assert out.body["messages"] == [
        {"role": "system", "content": "Be brief.\nBe kind."},
        {"role": "user", "content": "a\nb"},  # text-only blocks collapse to a string
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "more"}]
    assert out.notes == []


def test_sampling_fields_map_one_to_one() -> None:
    out = to_openai(body(temperature=0.2, top_p=0.9, top_k=40, stop_sequences=["END"],
                         metadata={"user_id": "u-1"}, stream=True)).body
    assert out["temperature"] == 0.2 and out["top_p"] == 0.9 and out["top_k"] == 40
    assert out["stop"] == ["END"]
    assert out["user"] == "u-1"
    assert out["max_tokens"] == 100
    assert out["stream"] is True and out["stream_options"] == {"include_usage": True}
    assert "model" not in out  # the resource puts the endpoint's name there


def test_images_base64_and_url_become_image_url_parts() -> None:
    out = to_openai(body(messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.org/cat.jpg"}}]}])).body
    assert out["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": {"url": "https://example.org/cat.jpg"}}]}]


def test_tool_use_and_tool_result_keep_their_ids_and_order() -> None:
    out = to_openai(body(
        tools=[{"name": "get_weather", "description": "Weather now",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
        tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
        messages=[
            {"role": "user", "content": "weather in Paris?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hm", "signature": "s"},
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01",
                 "content": [{"type": "text", "text": "18C"}]},
                {"type": "text", "text": "and tomorrow?"}]}])).body
    assert out["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "description": "Weather now",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    assert out["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert out["parallel_tool_calls"] is False
    assert out["messages"][1:] == [
        {"role": "assistant", "content": "Let me look.", "tool_calls": [
            {"id": "toolu_01", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "toolu_01", "content": "18C"},  # right after the call
        {"role": "user", "content": "and tomorrow?"}]


@pytest.mark.parametrize(("choice", "expected"), [("auto", "auto"), ("any", "required"), ("none", "none")])
def test_tool_choice_types(choice: str, expected: str) -> None:
    out = to_openai(body(tools=[{"name": "t", "input_schema": {"type": "object"}}],
                         tool_choice={"type": choice})).body
    assert out["tool_choice"] == expected


def test_failed_tool_result_says_so_and_its_images_follow_in_a_user_turn() -> None:
    out = to_openai(body(messages=[{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "is_error": True, "content": "no such city"},
        {"type": "tool_result", "tool_use_id": "t2", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": PNG}}]}]}]))
    assert out.body["messages"] == [
        {"role": "tool", "tool_call_id": "t1", "content": "Error: no such city"},
        {"role": "tool", "tool_call_id": "t2", "content": ""},
        {"role": "user", "content": [{"type": "image_url",
                                      "image_url": {"url": f"data:image/jpeg;base64,{PNG}"}}]}]


def test_server_tools_and_unknown_fields_are_dropped_with_a_note() -> None:
    data, ignored = validate_anthropic(body(service_tier="auto", tools=[
        {"type": "web_search_20250305", "name": "web_search"},
        {"name": "calc", "input_schema": {"type": "object"}}]))
    out = to_openai(data, ignored=ignored)
    assert [t["function"]["name"] for t in out.body["tools"]] == ["calc"]
    assert any("web_search" in n for n in out.notes)
    assert any("service_tier" in n for n in out.notes)


def test_thinking_request_is_remembered_not_forwarded() -> None:
    out = to_openai(body(thinking={"type": "enabled", "budget_tokens": 2048}))
    assert out.wants_thinking and "thinking" not in out.body


def test_estimate_counts_text_tools_and_images() -> None:
    small = estimate_input_tokens(body())
    with_image = estimate_input_tokens(body(messages=[{"role": "user", "content": [
        {"type": "text", "text": "hi"},
        {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]}]))
    with_tools = estimate_input_tokens(body(tools=[{"name": "t" * 400, "input_schema": {"type": "object"}}]))
    assert 0 < small < with_tools
    assert with_image >= small + 1000
    assert estimate_input_tokens(body(system="x" * 4000)) >= 1000


# --- validation -------------------------------------------------------------------

@pytest.mark.parametrize(("bad", "field", "words"), [
    ({"max_tokens": None}, "max_tokens", "must be an integer"),
    ({"messages": [{"role": "system", "content": "x"}]}, "messages.0.role", "user, assistant"),
    ({"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64"}}]}]},
     "messages.0.content.0.source.media_type", "image/png"),
    ({"messages": [{"role": "user", "content": [{"type": "video"}]}]}, "messages.0.content.0.type",
     "text, image"),
    ({"tool_choice": {"type": "tool"}}, "tool_choice.name", "name the tool"),
    ({"temperature": 1.5}, "temperature", "from 0 to 1"),
    ({"system": 3}, "system", "a string or an array"),
])
def test_malformed_bodies_name_the_field_and_the_fix(bad: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(RequestError) as caught:
        validate_anthropic(body(**bad))
    assert caught.value.param == field
    assert field in caught.value.message and words in caught.value.message


def test_missing_max_tokens_says_how_to_add_it() -> None:
    data = body()
    del data["max_tokens"]
    with pytest.raises(RequestError, match='"max_tokens": 1024'):
        validate_anthropic(data)
    assert validate_anthropic(data, count=True)[0] is data  # count_tokens needs none


# --- response: OpenAI -> Anthropic ------------------------------------------------------

def completion(message: dict[str, Any], finish: str | None = "stop", usage: Any = None,
               **choice: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"choices": [{"index": 0, "message": message, "finish_reason": finish, **choice}]}
    if usage is not None:
        out["usage"] = usage
    return out


def answer(data: dict[str, Any], **kw: Any) -> Any:
    args: dict[str, Any] = {"message_id": "msg_1", "model": "claude-x", "stop_sequences": (),
                            "input_estimate": 9, "wants_thinking": False}
    args.update(kw)
    return to_anthropic(data, **args)


def test_text_answer_with_usage() -> None:
    out = answer(completion({"role": "assistant", "content": "Paris."},
                            usage={"prompt_tokens": 12, "completion_tokens": 3,
                                   "prompt_tokens_details": {"cached_tokens": 8}}))
    assert out.message == {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
                           "content": [{"type": "text", "text": "Paris."}], "stop_reason": "end_turn",
                           "stop_sequence": None,
                           "usage": {"input_tokens": 12, "output_tokens": 3, "cache_read_input_tokens": 8}}
    assert not out.usage.estimated and out.notes == []


def test_missing_usage_is_estimated_and_flagged() -> None:
    out = answer(completion({"role": "assistant", "content": "x" * 40}))
    assert out.usage.estimated
    assert out.message["usage"] == {"input_tokens": 9, "output_tokens": 10}


def test_tool_calls_become_tool_use_blocks_with_their_ids() -> None:
    out = answer(completion({"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_7", "type": "function",
         "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}},
        {"id": "call_8", "type": "function", "function": {"name": "noop", "arguments": ""}}]},
        finish="tool_calls"))
    assert out.message["content"] == [
        {"type": "tool_use", "id": "call_7", "name": "get_weather", "input": {"city": "Oslo"}},
        {"type": "tool_use", "id": "call_8", "name": "noop", "input": {}}]
    assert out.message["stop_reason"] == "tool_use"


def test_unparsable_tool_arguments_are_kept_raw_with_a_note() -> None:
    out = answer(completion({"role": "assistant", "tool_calls": [
        {"id": "c", "function": {"name": "f", "arguments": "{not json"}}]}, finish="tool_calls"))
    assert out.message["content"][0]["input"] == {"_raw": "{not json"}
    assert out.notes


@pytest.mark.parametrize(("finish", "text", "matched", "expected"), [
    ("stop", "Paris.", None, ("end_turn", None)),
    ("length", "Par", None, ("max_tokens", None)),
    ("tool_calls", "", None, ("tool_use", None)),
    ("content_filter", "", None, ("refusal", None)),
    ("stop", "one two", "END", ("stop_sequence", "END")),  # vLLM names the sequence it hit
    ("stop", "one two END", None, ("stop_sequence", "END")),  # some servers leave it in the text
])
def test_stop_reasons(finish: str, text: str, matched: Any, expected: tuple[str, str | None]) -> None:
    assert stop_details(finish, text, ["END"], matched) == expected


def test_reasoning_becomes_a_thinking_block_only_when_asked_for() -> None:
    data = completion({"role": "assistant", "content": "42", "reasoning_content": "6*7"})
    asked = answer(data, wants_thinking=True)
    assert asked.message["content"] == [{"type": "thinking", "thinking": "6*7", "signature": ""},
                                         {"type": "text", "text": "42"}]
    assert [b["type"] for b in answer(data).message["content"]] == ["text"]
    dropped = answer(completion({"role": "assistant", "content": "42"}), wants_thinking=True)
    assert any("thinking" in n for n in dropped.notes)


def test_error_body_shape() -> None:
    assert error_body(400, "bad", "r1") == {"type": "error", "error": {"type": "invalid_request_error",
                                                                       "message": "bad"}, "request_id": "r1"}
    assert error_body(529, "busy", None)["error"]["type"] == "overloaded_error"
    assert error_body(502, "down", None)["error"]["type"] == "api_error"
    assert error_body(422, "x", None)["error"]["type"] == "invalid_request_error"


# --- streams ---------------------------------------------------------------------

def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, usage: Any = None) -> bytes:
    payload: dict[str, Any] = {"object": "chat.completion.chunk",
                               "choices": [] if delta is None else [{"index": 0, "delta": delta,
                                                                     "finish_reason": finish}]}
    if usage is not None:
        payload["usage"] = usage
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"


def parse(sse: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of every event; checks the event line matches the data's type."""
    out = []
    for raw in sse.decode().split("\n\n"):
        if not raw:
            continue
        event_line, data_line = raw.split("\n")
        name, payload = event_line.removeprefix("event: "), json.loads(data_line.removeprefix("data: "))
        assert payload["type"] == name
        out.append((name, payload))
    return out


def translator(**kw: Any) -> StreamTranslator:
    args: dict[str, Any] = {"message_id": "msg_s", "model": "claude-x", "input_estimate": 5}
    args.update(kw)
    return StreamTranslator(**args)


def test_text_stream_event_sequence() -> None:
    t = translator()
    out = t.events(chunk({"role": "assistant", "content": ""}))
    out += t.events(chunk({"content": "Hel"}) + chunk({"content": "lo"}))
    out += t.events(chunk({}, finish="stop"))
    out += t.events(chunk(usage={"prompt_tokens": 4, "completion_tokens": 2}) + DONE)
    events = parse(out)
    assert [e for e, _ in events] == ["message_start", "ping", "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_stop", "message_delta",
                                      "message_stop"]
    start = events[0][1]["message"]
    assert start["id"] == "msg_s" and start["model"] == "claude-x" and start["content"] == []
    assert events[2][1] == {"type": "content_block_start", "index": 0,
                            "content_block": {"type": "text", "text": ""}}
    assert [e[1]["delta"] for e in events[3:5]] == [{"type": "text_delta", "text": "Hel"},
                                                   {"type": "text_delta", "text": "lo"}]
    assert events[6][1]["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert events[6][1]["usage"] == {"input_tokens": 4, "output_tokens": 2}
    assert t.done and t.usage is not None and not t.usage.estimated


def test_tool_use_stream_sends_input_json_deltas() -> None:
    t = translator()
    out = t.events(chunk({"role": "assistant", "content": "Checking."}))
    out += t.events(chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                           "function": {"name": "get_weather", "arguments": ""}}]}))
    out += t.events(chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}))
    out += t.events(chunk({"tool_calls": [{"index": 0, "function": {"arguments": ' "Oslo"}'}}]}))
    out += t.events(chunk({"tool_calls": [{"index": 1, "id": "call_2",
                                           "function": {"name": "noop", "arguments": "{}"}}]}))
    out += t.events(chunk({}, finish="tool_calls") + DONE)
    events = parse(out)
    assert [e for e, _ in events] == [
        "message_start", "ping",
        "content_block_start", "content_block_delta", "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_stop",
        "message_delta", "message_stop"]
    assert events[5][1]["content_block"] == {"type": "tool_use", "id": "call_1", "name": "get_weather",
                                             "input": {}}
    assert events[5][1]["index"] == 1
    joined = "".join(e[1]["delta"]["partial_json"] for e in events[6:8])
    assert json.loads(joined) == {"city": "Oslo"}
    assert events[9][1]["content_block"]["id"] == "call_2" and events[9][1]["index"] == 2
    assert events[12][1]["delta"]["stop_reason"] == "tool_use"
    assert t.usage is not None and t.usage.estimated  # the backend sent no usage


def test_reasoning_streams_as_a_thinking_block_when_asked_for() -> None:
    t = translator(wants_thinking=True)
    out = t.events(chunk({"reasoning_content": "6*7"}) + chunk({"content": "42"}) + chunk({}, "stop") + DONE)
    events = parse(out)
    assert events[2][1]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}
    assert events[3][1]["delta"] == {"type": "thinking_delta", "thinking": "6*7"}
    assert events[5][1]["content_block"]["type"] == "text"
    plain = parse(translator().events(chunk({"reasoning_content": "6*7"}) + chunk({"content": "42"}) + DONE))
    assert [e[1]["content_block"]["type"] for e in plain if e[0] == "content_block_start"] == ["text"]


def test_stream_stop_sequence_left_in_the_text() -> None:
    t = translator(stop_sequences=["STOP"])
    events = parse(t.events(chunk({"content": "a ST"}) + chunk({"content": "OP"}, finish="stop") + DONE))
    assert events[-2][1]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "STOP"}


def test_length_finish_is_max_tokens() -> None:
    events = parse(translator().events(chunk({"content": "a"}, finish="length") + DONE))
    assert events[-2][1]["delta"]["stop_reason"] == "max_tokens"


def test_error_after_the_first_byte_is_an_anthropic_error_event() -> None:
    t = translator()
    t.events(chunk({"content": "partial"}))
    (event,) = parse(t.error("the backend failed mid-stream", code="stream_interrupted", request_id="r9"))
    assert event == ("error", {"type": "error", "error": {"type": "api_error",
                                                          "message": "the backend failed mid-stream"},
                               "request_id": "r9"})


def test_events_split_anyhow_and_junk_are_tolerated() -> None:
    t = translator()
    out = t.events(b": keep-alive comment\n\n" + b"data: {not json}\n\n" + b"event: x\n\n")
    out += t.events(chunk({"content": "ok"}) + DONE + chunk({"content": "after done"}))
    text = [e[1]["delta"]["text"] for e in parse(out) if e[0] == "content_block_delta"]
    assert text == ["ok"]


def test_empty_stream_still_finishes_the_message() -> None:
    events = parse(translator().events(DONE))
    assert [e for e, _ in events] == ["message_start", "ping", "message_delta", "message_stop"]
