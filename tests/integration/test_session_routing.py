"""Conversation sessions as an OpenAI SDK user meets them, through the production server.

The official ``openai`` package names the session with its ``user`` field or
an ``X-Session-ID`` extra header; a follow-up, streamed or not, stays on the
tier the conversation reached, and a tool result goes back to the tier that
asked for the tool.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fakes import delta_events, make_config, stream

ASK = {"role": "user", "content": "Analyse the trade-offs of event sourcing for a ledger service."}
ANSWER = {"role": "assistant", "content": "Event sourcing keeps every change..."}
THANKS = {"role": "user", "content": "thanks"}
WEATHER_TOOL = {"type": "function", "function": {
    "name": "weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


def trio_config(trio: SimpleNamespace) -> Any:
    return make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]})


def test_a_streamed_follow_up_stays_on_deep_for_the_sdks_user(trio: SimpleNamespace, serve: Any) -> None:
    live = serve(trio_config(trio))
    client = live.openai()
    first = client.chat.completions.with_raw_response.create(
        model="auto", messages=[ASK], user="alice",
        extra_headers={"X-Octoroute-Task-Type": "deep_analysis"})
    assert first.headers["X-Octoroute-Tier"] == "deep"
    trio.deep.enqueue(stream(delta_events(["You're ", "welcome."])))
    follow_up = client.chat.completions.with_raw_response.create(
        model="auto", messages=[ASK, ANSWER, THANKS], user="alice", stream=True)
    assert follow_up.headers["X-Octoroute-Tier"] == "deep"
    assert follow_up.headers["X-Octoroute-Session"] == first.headers["X-Octoroute-Session"]
    assert "held by session: 1 of 3 lower decisions" in follow_up.headers["X-Octoroute-Warnings"]
    text = "".join(chunk.choices[0].delta.content or "" for chunk in follow_up.parse() if chunk.choices)
    assert text == "You're welcome."
    # Another user's "thanks" is its own conversation.
    other = client.chat.completions.with_raw_response.create(
        model="auto", messages=[ASK, ANSWER, THANKS], user="bob")
    assert other.headers["X-Octoroute-Tier"] == "fast"
    assert len(trio.deep.chats()) == 2


def test_a_tool_result_goes_back_to_the_tier_that_called_the_tool(trio: SimpleNamespace, serve: Any) -> None:
    live = serve(trio_config(trio))
    client = live.openai()
    question = {"role": "user", "content": "Is it warm enough in Lyon for a picnic?"}
    session = {"X-Session-ID": "picnic-1"}
    first = client.chat.completions.with_raw_response.create(
        model="auto", messages=[question], tools=[WEATHER_TOOL],
        extra_headers={**session, "X-Octoroute-Importance": "high"})
    assert first.headers["X-Octoroute-Tier"] == "deep"
    call = {"role": "assistant", "content": None, "tool_calls": [{
        "id": "call-1", "type": "function",
        "function": {"name": "weather", "arguments": '{"city": "Lyon"}'}}]}
    result = {"role": "tool", "tool_call_id": "call-1", "content": "24 C, sunny"}
    # Without the session this continuation would be routed like any tool request (balanced).
    plain = client.chat.completions.with_raw_response.create(
        model="auto", messages=[question, call, result], tools=[WEATHER_TOOL])
    assert plain.headers["X-Octoroute-Tier"] == "balanced"
    held = client.chat.completions.with_raw_response.create(
        model="auto", messages=[question, call, result], tools=[WEATHER_TOOL], extra_headers=session)
    assert held.headers["X-Octoroute-Tier"] == "deep"
    assert "held by session: tool-call continuation on deep" in held.headers["X-Octoroute-Warnings"]
    assert live.metric("octoroute_session_held_decisions_total", reason="tool_continuation") == 1
