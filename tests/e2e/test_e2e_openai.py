"""``/v1/chat/completions`` and ``/v1/models`` through the official ``openai`` SDK."""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

import openai
import pytest
from e2e_support import HTTP_TIMEOUT_S, MAX_TOKENS, Octoroute, Servers, main_config, wait_until

pytestmark = pytest.mark.e2e

StartOctoroute = Callable[[dict[str, Any]], Octoroute]


def client_for(router: Octoroute) -> openai.OpenAI:
    return openai.OpenAI(base_url=router.url + "/v1", api_key="unused", timeout=HTTP_TIMEOUT_S,
                         max_retries=0)


def test_models_and_a_non_streamed_completion(servers: Servers, octoroute: StartOctoroute) -> None:
    router = octoroute(main_config(servers, strategy="hybrid"))
    client = client_for(router)

    ids = {m.id for m in client.models.list()}
    assert {"auto", "fast", "balanced", "deep", "fast-a", "balanced-a", "balanced-b", "deep-b"} <= ids

    raw = client.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "hi there!"}],
        max_tokens=1000)  # more than the endpoint allows: Octoroute caps it
    reply = raw.parse()
    assert raw.headers["X-Octoroute-Tier"] == "fast"
    assert raw.headers["X-Octoroute-Endpoint"] == "fast-a"
    assert raw.headers["X-Octoroute-Strategy"] == "rule"
    assert raw.headers["X-Request-ID"]
    assert isinstance(reply.choices[0].message.content, str)
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage is not None
    assert 0 < reply.usage.completion_tokens <= MAX_TOKENS

    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", max_tokens=4,
                                       messages=[{"role": "user", "content": "hi"}])


def test_a_streamed_completion_arrives_chunk_by_chunk(servers: Servers, octoroute: StartOctoroute) -> None:
    router = octoroute(main_config(servers, strategy="hybrid"))
    client = client_for(router)

    arrivals: list[float] = []
    text = ""
    finish = None
    stream = client.chat.completions.create(
        model="balanced", stream=True, max_tokens=MAX_TOKENS,
        messages=[{"role": "system", "content": "You are a storyteller."},
                  {"role": "user", "content": "Tell me a story about a lighthouse keeper."}])
    for chunk in stream:
        arrivals.append(time.monotonic())
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish

    assert len(arrivals) >= 5, f"expected several chunks, got {len(arrivals)}"
    assert text.strip()
    assert finish in ("stop", "length")
    # Relayed as generated, not buffered: a buffered stream arrives in one burst (gaps of
    # microseconds); a relayed one a token at a time (tens of ms per token on this box).
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert statistics.median(gaps) > 0.002, f"chunks arrived in a burst: gaps {gaps}"
    # The stream's metrics are recorded when Octoroute closes it, just after the client's last read.
    wait_until(lambda: router.metric("octoroute_streams_total", outcome="completed") == 1,
               timeout=10, what="the stream to be counted as completed")
    assert router.metric("octoroute_stream_interruptions_total") == 0
    assert router.metric("octoroute_requests_total", tier="balanced", strategy="explicit") == 1
