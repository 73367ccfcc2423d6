"""``/v1/messages`` through the official ``anthropic`` SDK, in front of real llama.cpp servers.

Gemma 3 270M neither calls tools nor reads images, so tool use and images are
covered against fakes (tests/integration/test_anthropic_api.py); here the
text paths meet a real OpenAI-compatible server: Claude names routed to
tiers, a multi-turn conversation, a stream relayed event by event, usage from
the backend, count_tokens and errors.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

import anthropic
import pytest
from e2e_support import HTTP_TIMEOUT_S, MAX_TOKENS, Octoroute, Servers, main_config, wait_until

pytestmark = pytest.mark.e2e

StartOctoroute = Callable[[dict[str, Any]], Octoroute]


def client_for(router: Octoroute) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=router.url, api_key="unused", timeout=HTTP_TIMEOUT_S, max_retries=0)


def test_claude_names_route_and_a_conversation_is_answered(servers: Servers,
                                                           octoroute: StartOctoroute) -> None:
    router = octoroute(main_config(servers, strategy="hybrid"))
    client = client_for(router)

    ids = {m.id for m in client.models.list()}
    assert {"auto", "fast", "haiku", "sonnet", "opus", "fast-a"} <= ids

    raw = client.messages.with_raw_response.create(
        model="claude-3-5-haiku-20241022", max_tokens=1000,  # more than the endpoint allows: capped
        system="You answer in one short sentence.",
        messages=[{"role": "user", "content": "Name a colour."},
                  {"role": "assistant", "content": "Blue."},
                  {"role": "user", "content": "Name another one."}])
    message = raw.parse()
    assert raw.headers["X-Octoroute-Tier"] == "fast"
    assert raw.headers["X-Octoroute-Strategy"] == "explicit"
    assert message.type == "message" and message.role == "assistant"
    assert message.content and message.content[0].type == "text" and message.content[0].text.strip()
    assert message.stop_reason in ("end_turn", "max_tokens")
    assert 0 < message.usage.output_tokens <= MAX_TOKENS
    assert message.usage.input_tokens > 10  # the backend's count of the whole conversation

    count = client.messages.count_tokens(model="haiku", messages=[{"role": "user", "content": "hi " * 100}])
    assert 50 <= count.input_tokens <= 200

    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="gpt-4o", max_tokens=4, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model="haiku", max_tokens=4, messages=[])
    assert "messages" in caught.value.body["error"]["message"]


def test_a_stream_arrives_event_by_event(servers: Servers, octoroute: StartOctoroute) -> None:
    router = octoroute(main_config(servers, strategy="hybrid"))
    client = client_for(router)

    arrivals: list[float] = []
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=MAX_TOKENS,
                                system="You are a storyteller.",
                                messages=[{"role": "user", "content": "Tell me a story about a lighthouse."}]
                                ) as stream:
        for _ in stream.text_stream:
            arrivals.append(time.monotonic())
        final = stream.get_final_message()

    assert len(arrivals) >= 5, f"expected several text deltas, got {len(arrivals)}"
    assert final.content[0].type == "text" and final.content[0].text.strip()
    assert final.stop_reason in ("end_turn", "max_tokens")
    assert final.usage.output_tokens > 0
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert statistics.median(gaps) > 0.002, f"deltas arrived in a burst: gaps {gaps}"
    wait_until(lambda: router.metric("octoroute_streams_total", outcome="completed") == 1,
               timeout=10, what="the stream to be counted as completed")
    assert router.metric("octoroute_requests_total", tier="balanced", strategy="explicit") == 1
