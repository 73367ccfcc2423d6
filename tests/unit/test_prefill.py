"""Prefill-aware first-token deadlines: the maths, the learned speed, and the dispatcher's use."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from octoroute.backends.facts import ServerFacts
from octoroute.backends.failover import Dispatcher, Target
from octoroute.backends.prefill import (
    EWMA_WEIGHT,
    MIN_LEARN_TOKENS,
    PrefillSpeeds,
    first_token_deadline,
    prefill_only,
)
from octoroute.backends.registry import EndpointState, Registry
from octoroute.config import EndpointConfig, parse_config
from octoroute.metrics import Metrics
from prometheus_client import CollectorRegistry


def ep(endpoint_id: str = "deep-1", *, kind: str = "auto", capacity: int | None = None) -> EndpointConfig:
    return EndpointConfig(id=endpoint_id, name="m", tier="deep", base_url="http://box:8080/v1",
                          max_tokens=1024, kind=kind, capacity=capacity)


# --- the maths -------------------------------------------------------------------------


@pytest.mark.parametrize(("tokens", "speed", "expected"), [
    (0, 100.0, 10.0),  # no prompt: the base alone
    (1000, 100.0, 40.0),  # 10 s of reading x 3 + 10
    (8000, 50.0, 120.0),  # 160 s x 3 + 10 = 490, capped by the attempt timeout
    (30_000, 5000.0, 28.0),  # a fast GPU: 6 s x 3 + 10
])
def test_first_token_deadline_is_base_plus_reading_time_times_margin_capped(
        tokens: int, speed: float, expected: float) -> None:
    got = first_token_deadline(120.0, tokens, speed, base=10.0, margin=3.0)
    assert got == pytest.approx(expected)


def test_a_long_prompt_on_a_slow_box_gets_longer_than_a_stuck_short_one() -> None:
    slow_long = first_token_deadline(600.0, 20_000, 100.0, base=10.0, margin=3.0)
    stuck_short = first_token_deadline(600.0, 50, 100.0, base=10.0, margin=3.0)
    assert slow_long == 600.0 and stuck_short == pytest.approx(11.5)  # 610 capped; 10 + 0.5 x 3


# --- the learned speed -----------------------------------------------------------------


def test_speed_is_an_ewma_of_tokens_per_second_to_first_byte() -> None:
    speeds = PrefillSpeeds(["a"])
    assert speeds.learned("a") is None
    speeds.observe("a", 1000, 2.0)  # 500 tok/s
    assert speeds.learned("a") == 500.0
    speeds.observe("a", 1000, 1.0)  # 1000 tok/s
    assert speeds.learned("a") == pytest.approx(500.0 + EWMA_WEIGHT * 500.0)


def test_short_prompts_unknown_endpoints_and_zero_times_teach_nothing() -> None:
    speeds = PrefillSpeeds(["a"])
    speeds.observe("a", MIN_LEARN_TOKENS - 1, 0.001)
    speeds.observe("a", 1000, 0.0)
    speeds.observe("stranger", 1000, 1.0)  # bounded: only the configured endpoints
    assert speeds.learned("a") is None and speeds.learned("stranger") is None


def test_the_servers_own_figure_wins_over_the_learned_one() -> None:
    speeds = PrefillSpeeds(["deep-1"])
    speeds.observe("deep-1", 1000, 10.0)
    plain = EndpointState(endpoint=ep())
    told = EndpointState(endpoint=ep(), facts=ServerFacts(prefill_tokens_per_second=2500.0))
    assert speeds.speed(plain) == 100.0
    assert speeds.speed(told) == 2500.0


def test_concurrent_observations_stay_within_the_observed_range() -> None:
    speeds = PrefillSpeeds(["a"])
    start = threading.Barrier(8)

    def feed(speed: float) -> None:
        start.wait(5.0)
        for _ in range(500):
            speeds.observe("a", 1000, 1000 / speed)

    threads = [threading.Thread(target=feed, args=(100.0 if i % 2 else 400.0,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10.0)
    learned = speeds.learned("a")
    assert learned is not None and 100.0 <= learned <= 400.0


# --- when the deadline applies ----------------------------------------------------------


@pytest.mark.parametrize(("facts", "kind", "queued", "applies"), [
    ({"resident": True}, "auto", False, True),
    ({"resident": False}, "llamacpp", False, False),  # a load comes first
    ({"resident": True, "sleeping": True}, "auto", False, False),  # a wake comes first
    ({"resident": True}, "auto", True, False),  # the server's queue comes first
    ({}, "auto", False, False),  # an unknown server may have to load the model
    ({}, "ollama", False, False),  # a kind that unloads models, without saying
    ({"kind": "llamacpp"}, "auto", False, True),  # detected: one model, always loaded
    ({}, "vllm", False, True),  # configured
])
def test_the_deadline_applies_only_when_the_first_byte_waits_for_reading_alone(
        facts: dict[str, Any], kind: str, queued: bool, applies: bool) -> None:
    state = EndpointState(endpoint=ep(kind=kind), facts=ServerFacts(**facts))
    assert prefill_only(state, queued=queued) is applies


# --- the dispatcher ------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Rig:
    def __init__(self, **endpoint_keys: Any) -> None:
        self.config = parse_config({
            "models": {t: {"id": f"{t}-1", "name": "m", "base_url": f"http://{t}:8080/v1",
                           "max_tokens": 64, **(endpoint_keys if t == "deep" else {})}
                       for t in ("fast", "balanced", "deep")},
            "timeouts": {"deep": 120, "first_token_base_seconds": 10, "prefill_margin": 3}}, env={})
        self.clock = Clock()
        self.registry = Registry(self.config.endpoints, unhealthy_after=3, clock=self.clock)
        self.metrics = Metrics(CollectorRegistry(), self.config.endpoints)
        clients: dict[str, Any] = {e.id: e.id for e in self.config.endpoints}
        self.dispatcher = Dispatcher(self.config, self.registry, clients, self.metrics,
                                     random.Random(1))
        self.timeouts: list[float] = []

    def send(self, ttfb: float = 0.0) -> Any:
        def run(client: Any, timeout: float) -> str:
            self.timeouts.append(timeout)
            self.clock.now += ttfb
            return "first bytes"
        return run

    def stream(self, prompt_tokens: int | None, ttfb: float = 0.0) -> None:
        self.dispatcher.run(Target.for_tier("deep", fallback=False), self.send(ttfb),
                            deadline=self.clock.now + 300, hold=False, prompt_tokens=prompt_tokens)


def test_a_stream_gets_a_first_token_deadline_from_the_servers_speed() -> None:
    rig = Rig(kind="llamacpp")
    rig.registry.set_facts("deep-1", ServerFacts(prefill_tokens_per_second=200.0))
    rig.stream(2000)
    assert rig.timeouts == [pytest.approx(10 + 2000 / 200 * 3)]


def test_a_whole_answer_keeps_the_attempt_timeout() -> None:
    rig = Rig(kind="llamacpp")
    rig.registry.set_facts("deep-1", ServerFacts(prefill_tokens_per_second=200.0))
    rig.stream(None)
    assert rig.timeouts == [120.0]


def test_the_speed_is_learned_from_time_to_first_byte_then_used() -> None:
    rig = Rig(kind="llamacpp")
    rig.stream(1000, ttfb=5.0)  # nothing known yet: the attempt timeout; 200 tok/s learned
    assert rig.timeouts == [120.0]
    assert rig.dispatcher.prefill.learned("deep-1") == 200.0
    rig.stream(4000)
    assert rig.timeouts[1] == pytest.approx(10 + 4000 / 200 * 3)


def test_a_saturated_endpoint_keeps_the_attempt_timeout() -> None:
    rig = Rig(kind="llamacpp", capacity=1)
    rig.registry.set_facts("deep-1", ServerFacts(prefill_tokens_per_second=200.0))
    rig.registry.begin("deep-1")  # another request generates: the server queues this one
    rig.stream(100)
    assert rig.timeouts == [120.0]


def test_an_unloaded_model_keeps_the_attempt_timeout() -> None:
    rig = Rig()
    rig.registry.set_facts("deep-1", ServerFacts(prefill_tokens_per_second=200.0, resident=False))
    rig.stream(100)
    assert rig.timeouts == [120.0]


@pytest.mark.parametrize(("answer", "learned"), [
    ({"timings": {"prompt_n": 500, "prompt_ms": 250.0}}, 2000.0),
    ({"timings": {"prompt_n": 500, "prompt_ms": 0}}, None),
    ({"timings": {"prompt_n": True, "prompt_ms": 250.0}}, None),
    ({"timings": {"prompt_n": 5, "prompt_ms": 1.0}}, None),  # a cached prompt: too few tokens
    ({"timings": "fast"}, None),
    ({}, None),
])
def test_llama_cpp_timings_in_an_answer_teach_the_speed(answer: dict[str, Any],
                                                        learned: float | None) -> None:
    speeds = PrefillSpeeds(["a"])
    speeds.observe_timings("a", answer)
    assert speeds.learned("a") == learned
