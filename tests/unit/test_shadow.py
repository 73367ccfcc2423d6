"""Shadow decisions: sampling, the bounded pool, agreement metrics, failures, shutdown.

Pool tests wait on ``threading.Event``s set by the fake strategy, never on
sleeps; the sampled share comes from a seeded RNG, so every count is exact.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from falcon import testing
from octoroute.config import ShadowConfig, parse_toml
from octoroute.errors import ConfigError
from octoroute.metrics import Metrics
from octoroute.routing.shadow import THREAD_NAME_PREFIX, Shadow
from prometheus_client import CollectorRegistry

from fakes import brain_says, delayed, error, make_config

WAIT_S = 5.0  # seconds; how long a test waits for a shadow thread before failing


def value(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    assert found is not None, f"{name}{labels} is not exported"
    return found


class Gate:
    """A fake strategy that reports when it starts and answers only when released."""

    def __init__(self, tier: str | None = "deep") -> None:
        self.tier = tier
        self.release = threading.Event()
        self._lock = threading.Lock()  # guards started and threads
        self._changed = threading.Condition(self._lock)
        self.started = 0
        self.threads: list[str] = []

    def __call__(self, inp: str) -> str | None:
        with self._changed:
            self.started += 1
            self.threads.append(threading.current_thread().name)
            self._changed.notify_all()
        assert self.release.wait(WAIT_S), "the test never released the shadow strategy"
        return self.tier

    def wait_started(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.started >= count, WAIT_S), \
                f"{count} shadow decisions did not start"


@pytest.fixture
def shadows() -> Iterator[Callable[..., tuple[Shadow[str], Metrics]]]:
    made: list[Shadow[str]] = []

    def make(decide: Callable[[str], str | None], *, sample: float = 1.0, max_pending: int = 4,
             seed: int = 7, **kwargs: Any) -> tuple[Shadow[str], Metrics]:
        metrics = Metrics(CollectorRegistry())
        shadow = Shadow(decide, strategy="llm", sample=sample, max_pending=max_pending,
                        rng=random.Random(seed), metrics=metrics, **kwargs)
        made.append(shadow)
        return shadow, metrics

    yield make
    for shadow in made:
        shadow.close(WAIT_S)


def test_sampling_follows_the_seeded_rng(shadows: Any) -> None:
    shadow, metrics = shadows(lambda inp: "balanced", sample=0.25, max_pending=1000)
    sampled = sum(shadow.submit("prompt", "fast") for _ in range(2000))
    rng = random.Random(7)
    assert sampled == sum(rng.random() < 0.25 for _ in range(2000))
    assert 450 <= sampled <= 550  # a quarter, give or take three standard deviations
    assert shadow.drain(WAIT_S)
    decided = value(metrics, "octoroute_shadow_decisions_total", primary="fast", shadow="balanced")
    assert decided == sampled
    assert value(metrics, "octoroute_shadow_dropped_total", reason="full") == 0


def test_sample_one_takes_every_request(shadows: Any) -> None:
    shadow, _ = shadows(lambda inp: "fast", sample=1.0, max_pending=100)
    assert all(shadow.submit("p", "fast") for _ in range(50))


def test_agreement_is_counted_by_tier_pair(shadows: Any) -> None:
    answers = iter(["deep", "fast", "deep"])
    shadow, metrics = shadows(lambda inp: next(answers), max_pending=1, workers=1)
    for primary in ("fast", "fast", "deep"):
        assert shadow.submit("p", primary)
        assert shadow.drain(WAIT_S)
    count = lambda p, s: value(metrics, "octoroute_shadow_decisions_total", primary=p, shadow=s)  # noqa: E731
    assert (count("fast", "deep"), count("fast", "fast"), count("deep", "deep")) == (1, 1, 1)
    # Every pair is exported from the start, so dashboards show zeros, not gaps.
    assert count("balanced", "fast") == 0


def test_a_full_pool_drops_the_sample_instead_of_waiting(shadows: Any) -> None:
    gate = Gate("deep")
    shadow, metrics = shadows(gate, max_pending=3, workers=2)
    assert shadow.submit("a", "fast") and shadow.submit("b", "fast")
    gate.wait_started(2)  # both workers busy
    assert shadow.submit("c", "fast")  # queued: the third pending slot
    # Full: submit returns at once (the strategy is still blocked) and counts the drop.
    # NOTE: a generous bound; a submit that waited for a slot would wait for WAIT_S.
    started = time.monotonic()
    assert not shadow.submit("d", "fast")
    assert time.monotonic() - started < 0.5
    assert not shadow.submit("e", "fast")
    assert value(metrics, "octoroute_shadow_dropped_total", reason="full") == 2
    assert not gate.release.is_set()
    gate.release.set()
    assert shadow.drain(WAIT_S)
    assert value(metrics, "octoroute_shadow_decisions_total", primary="fast", shadow="deep") == 3
    # Slots come back: the pool takes work again.
    assert shadow.submit("f", "fast")
    assert shadow.drain(WAIT_S)
    assert gate.started == 4


def test_work_runs_on_named_pool_threads(shadows: Any) -> None:
    gate = Gate("fast")
    gate.release.set()
    shadow, _ = shadows(gate)
    shadow.submit("a", "fast")
    assert shadow.drain(WAIT_S)
    assert gate.threads and all(name.startswith(THREAD_NAME_PREFIX) for name in gate.threads)


def broken_strategy(inp: str) -> str | None:
    raise ValueError("secret prompt text")


@pytest.mark.parametrize("decide", [
    pytest.param(broken_strategy, id="raises"),
    pytest.param(lambda inp: None, id="no-answer"),
    pytest.param(lambda inp: "huge", id="not-a-tier"),
])
def test_a_failing_strategy_is_counted_never_raised(shadows: Any, decide: Any,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    shadow, metrics = shadows(decide)
    with caplog.at_level(logging.INFO, logger="octoroute"):
        assert shadow.submit("p", "fast")
        assert shadow.drain(WAIT_S)
    assert value(metrics, "octoroute_shadow_dropped_total", reason="error") == 1
    assert sum(value(metrics, "octoroute_shadow_decisions_total", primary="fast", shadow=t)
               for t in ("fast", "balanced", "deep")) == 0
    assert "secret prompt text" not in caplog.text
    # The worker survived: the next decision is made.
    shadow.run_one("p", "fast")
    assert value(metrics, "octoroute_shadow_dropped_total", reason="error") == 2


def test_run_one_is_the_workers_job_without_the_pool(shadows: Any) -> None:
    shadow, metrics = shadows(lambda inp: "balanced" if inp == "hard" else "fast")
    shadow.run_one("hard", "deep")
    assert value(metrics, "octoroute_shadow_decisions_total", primary="deep", shadow="balanced") == 1


def test_close_cancels_queued_work_and_does_not_hang(shadows: Any, caplog: pytest.LogCaptureFixture) -> None:
    gate = Gate("deep")
    shadow, metrics = shadows(gate, max_pending=3, workers=1)
    assert shadow.submit("a", "fast") and shadow.submit("b", "fast")
    gate.wait_started(1)
    with caplog.at_level(logging.WARNING, logger="octoroute"):
        shadow.close(timeout=0.05)  # one decision is stuck in the strategy
    assert "still running" in caplog.text
    assert not shadow.submit("c", "fast")
    assert value(metrics, "octoroute_shadow_dropped_total", reason="closed") == 1
    gate.release.set()
    assert shadow.drain(WAIT_S)
    # The queued one was cancelled, not run.
    assert gate.started == 1
    assert value(metrics, "octoroute_shadow_decisions_total", primary="fast", shadow="deep") == 1


# --- configuration -------------------------------------------------------------

def tiers(trio: SimpleNamespace) -> dict[str, list[Any]]:
    return {"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]}


def test_shadow_is_off_by_default(trio: SimpleNamespace, runtime_factory: Any) -> None:
    config = make_config(tiers(trio))
    assert config.routing.shadow is None
    assert runtime_factory(config).shadow is None


def test_shadow_table_defaults(trio: SimpleNamespace) -> None:
    config = make_config(tiers(trio), routing={"shadow": {"strategy": "llm"}})
    assert config.routing.shadow == ShadowConfig(strategy="llm", sample=0.1, max_pending=8)


@pytest.mark.parametrize(("table", "where", "words"), [
    ({}, "routing.shadow.strategy", 'add e.g. strategy = "llm"'),
    ({"strategy": "brain"}, "routing.shadow.strategy", "one of 'rule', 'llm', 'hybrid', 'tool'"),
    ({"strategy": "rule"}, "routing.shadow.strategy", "same as routing.strategy"),
    ({"strategy": "llm", "sample": 0}, "routing.shadow.sample", "sample = 0.1"),
    ({"strategy": "llm", "sample": 1.5}, "routing.shadow.sample", "at most 1"),
    ({"strategy": "llm", "max_pending": 0}, "routing.shadow.max_pending", "max_pending = 8"),
    ({"strategy": "llm", "samples": 0.5}, "routing.shadow.samples", "did you mean 'sample'"),
])
def test_bad_shadow_keys_are_config_errors_naming_key_and_fix(trio: SimpleNamespace, table: dict[str, Any],
                                                              where: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(tiers(trio), routing={"shadow": table})
    [problem] = caught.value.problems
    assert problem.startswith(where + ":")
    assert words in problem


def test_the_documented_shadow_line_is_valid() -> None:
    example = (Path(__file__).resolve().parents[2] / "octoroute" / "config.toml.example").read_text()
    line = re.search(r"^# (shadow = \{.*\})$", example, re.MULTILINE)
    assert line is not None
    env = {name: "x" for name in re.findall(r'^\s*api_key_env\s*=\s*"([^"]+)"', example, re.MULTILINE)}
    config = parse_toml(example.replace(line.group(0), line.group(1)), env=env)
    assert config.routing.shadow == ShadowConfig(strategy="llm", sample=0.1, max_pending=8)
    assert set(re.findall(r"(\w+) =", line.group(1))) - {"shadow"} == set(ShadowConfig.__dataclass_fields__)


# --- through the app: the router brain as the shadow ----------------------------

def test_the_app_shadows_routed_requests_with_the_brain(trio: SimpleNamespace, runtime_factory: Any) -> None:
    config = make_config(tiers(trio), routing={"shadow": {"strategy": "llm", "sample": 1.0}})
    runtime = runtime_factory(config, rng=random.Random(3))
    trio.balanced.enqueue_brain(brain_says("DEEP"), error(500))
    client = testing.TestClient(runtime.app)
    # Two different greetings: the router caches the brain's answer per prompt.
    for greeting in ("hi", "hello there"):
        body = {"model": "auto", "messages": [{"role": "user", "content": greeting}]}
        result = client.simulate_post("/v1/chat/completions", json=body)
        assert result.status_code == 200, result.text
        assert result.headers["X-Octoroute-Tier"] == "fast"  # the rules decided; the brain only shadowed
        assert runtime.shadow.drain(WAIT_S)
    metrics = runtime.metrics
    assert value(metrics, "octoroute_shadow_decisions_total", primary="fast", shadow="deep") == 1
    # The brain's failure is not its answer (the router's default tier): an error.
    assert value(metrics, "octoroute_shadow_dropped_total", reason="error") == 1
    assert len(trio.balanced.brain_questions()) == 2
    # An explicit model is not routed, so it is not shadowed.
    result = client.simulate_post("/v1/chat/completions",
                                  json={"model": "deep", "messages": [{"role": "user", "content": "hi"}]})
    assert result.status_code == 200, result.text
    assert runtime.shadow.drain(WAIT_S)
    assert len(trio.balanced.brain_questions()) == 2


def test_a_held_brain_does_not_hold_the_request(trio: SimpleNamespace, runtime_factory: Any) -> None:
    shadow = {"strategy": "llm", "sample": 1.0, "max_pending": 1}
    config = make_config(tiers(trio), routing={"shadow": shadow})
    runtime = runtime_factory(config)
    gate = threading.Event()
    trio.balanced.enqueue_brain(delayed(gate, brain_says("DEEP")))
    client = testing.TestClient(runtime.app)
    body = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
    try:
        # The brain has the shadow question and does not answer until the gate opens ...
        result = client.simulate_post("/v1/chat/completions", json=body)
        assert result.status_code == 200, result.text
        assert trio.balanced.wait_for(lambda r: r.is_router_question)
        # ... yet the request was answered, and the next one finds the pool full and goes on.
        again = client.simulate_post("/v1/chat/completions", json=body)
        assert again.status_code == 200, again.text
        assert value(runtime.metrics, "octoroute_shadow_dropped_total", reason="full") == 1
        assert value(runtime.metrics, "octoroute_shadow_decisions_total", primary="fast", shadow="deep") == 0
    finally:
        gate.set()
    assert runtime.shadow.drain(WAIT_S)
    assert value(runtime.metrics, "octoroute_shadow_decisions_total", primary="fast", shadow="deep") == 1
