"""The /v1/messages resource's own decisions: Claude model names, warnings, token accounting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import falcon
import falcon.testing
import pytest
from octoroute.api.anthropic import claude_model_choice
from octoroute.app import build_runtime
from octoroute.config import AnthropicConfig
from octoroute.errors import UnknownModelError
from octoroute.routing.models import ModelChoice

from fakes import FakeBackend, delta_events, make_config, stream

HELLO = {"model": "claude-haiku-4-5", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def backends() -> Iterator[list[FakeBackend]]:
    started = [FakeBackend(name).start() for name in ("fast-1", "balanced-1", "deep-1")]
    yield started
    for b in started:
        b.stop()


def config_for(backends: list[FakeBackend], models: tuple[tuple[str, str], ...] | None = None) -> Any:
    config = make_config({"fast": [backends[0]], "balanced": [backends[1]], "deep": [backends[2]]})
    return config if models is None else replace(config, anthropic=AnthropicConfig(models=models))


@pytest.mark.parametrize(("model", "choice"), [
    ("claude-3-5-haiku-20241022", ModelChoice(tier="fast")),
    ("Claude-SONNET-4-5", ModelChoice(tier="balanced")),
    ("claude-opus-4-1", ModelChoice(tier="deep")),
    ("auto", ModelChoice()),
    ("deep_120b", ModelChoice(tier="deep")),
    ("balanced-1", ModelChoice(endpoint_id="balanced-1")),
])
def test_claude_names_resolve(backends, model: str, choice: ModelChoice) -> None:
    assert claude_model_choice(model, config_for(backends)) == choice


def test_the_longest_match_wins_and_a_target_may_be_auto_or_an_endpoint(backends) -> None:
    config = config_for(backends, (("sonnet", "balanced"), ("sonnet-4-5", "deep-1"), ("haiku", "auto")))
    assert claude_model_choice("claude-sonnet-4-5", config) == ModelChoice(endpoint_id="deep-1")
    assert claude_model_choice("claude-sonnet-4", config) == ModelChoice(tier="balanced")
    assert claude_model_choice("claude-haiku", config) == ModelChoice()


def test_an_unmatched_name_is_a_404_listing_the_mapped_words(backends) -> None:
    with pytest.raises(UnknownModelError) as caught:
        claude_model_choice("gpt-4o", config_for(backends))
    assert caught.value.status == 404
    assert "any name containing 'sonnet'" in caught.value.valid


def test_tokens_are_accounted_for_plain_answers_and_finished_streams(backends) -> None:
    runtime = build_runtime(config_for(backends))
    client = falcon.testing.TestClient(runtime.app)
    try:
        assert client.simulate_post("/v1/messages", json=HELLO).status_code == 200
        backends[0].enqueue(stream(delta_events(["a", "b"])))
        streamed = client.simulate_post("/v1/messages", json={**HELLO, "stream": True})
        assert streamed.status_code == 200 and "message_stop" in streamed.text
        failed = client.simulate_post("/v1/messages", json={**HELLO, "model": "nope"})
        assert failed.status_code == 404
        decisions = runtime.stats.decisions()
    finally:
        runtime.close()
    plain, streamed_one = decisions[1], decisions[0]  # newest first
    assert (plain["api"], plain["endpoint"], plain["tier"]) == ("anthropic", "fast-1", "fast")
    assert (plain["tokens_in"], plain["tokens_out"], plain["estimated"]) == (3, 7, False)
    assert (streamed_one["endpoint"], streamed_one["tier"], streamed_one["stream"]) == (
        "fast-1", "fast", True)
    assert streamed_one["estimated"]  # the fake stream sent no usage chunk
    assert len(decisions) == 2  # nothing for the refused request
