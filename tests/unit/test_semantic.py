"""The semantic layer: nearest exemplars, its hard timeout, breaker, caches and config."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from octoroute.config import TIERS, Exemplar, LabelledPrompt, SemanticConfig, parse_config, parse_labelled
from octoroute.errors import BackendError, ConfigError
from octoroute.metrics import CALIBRATION_RESULTS, SEMANTIC_OUTCOMES, Metrics
from octoroute.routing.semantic import (
    CALIBRATION_SPLITS,
    MAX_QUERY_CHARS,
    SemanticLayer,
    VectorCache,
    build_index,
    calibrate,
    default_calibration,
    default_exemplars,
    parse_embeddings,
    pooled,
    vote,
)
from prometheus_client import CollectorRegistry

# One topic word per tier: the fake embedding puts each on its own axis.
TOPICS = {"hello": 0, "sql": 1, "prove": 2}
EXEMPLARS = (
    Exemplar("f1", "fast", "hello there"), Exemplar("f2", "fast", "hello friend"),
    Exemplar("f3", "fast", "hello again"),
    Exemplar("b1", "balanced", "sql join"), Exemplar("b2", "balanced", "sql index"),
    Exemplar("b3", "balanced", "sql view"),
    Exemplar("d1", "deep", "prove it"), Exemplar("d2", "deep", "prove this"),
    Exemplar("d3", "deep", "prove that"),
)
SECRET = "hello my password is hunter2"
WAIT_S = 5.0  # seconds a test waits for a background event that should come at once


def vector(text: str) -> list[float]:
    """Topic counts on three axes, plus a little text-derived noise on three more."""
    words = text.lower().split()
    v = [float(sum(w == topic for w in words)) for topic in TOPICS]
    digest = hashlib.sha256(text.encode()).digest()
    return v + [b / 2550.0 for b in digest[:3]]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeEmbed:
    """Records calls; fails, or blocks on an event, when told to."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.fail: BaseException | None = None
        self.short = False  # queries get two-dimensional vectors
        self.gate: threading.Event | None = None  # queries wait on it when set
        self.entered = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, texts: list[str], timeout: float) -> list[list[float]]:
        with self.lock:
            self.calls.append(list(texts))
        is_query = len(texts) == 1
        if is_query and self.gate is not None:
            self.entered.set()
            self.gate.wait(WAIT_S)
        if self.fail is not None:
            raise self.fail
        if is_query and self.short:
            return [[1.0, 2.0]]
        return [vector(t) for t in texts]

    @property
    def query_calls(self) -> int:
        return sum(len(c) == 1 for c in self.calls)


def config(**keys: Any) -> SemanticConfig:
    return SemanticConfig(**{"enabled": True, "base_url": "http://embed:1/v1", "model": "m", "k": 3,
                             "min_confidence": 0.3, **keys})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def embed() -> FakeEmbed:
    return FakeEmbed()


@pytest.fixture
def layer(embed: FakeEmbed, clock: FakeClock) -> Iterator[SemanticLayer]:
    made = SemanticLayer(config(), embed, clock, exemplars=EXEMPLARS)
    yield made
    if embed.gate is not None:
        embed.gate.set()
    made.close(wait=True)


def ready(layer: SemanticLayer) -> SemanticLayer:
    layer.start()
    assert layer.wait_warm_up(WAIT_S)
    return layer


def later(clock: FakeClock) -> float:
    return clock.now + 60.0


# --- verdicts -------------------------------------------------------------

def test_first_call_starts_the_warm_up_and_defers(layer: SemanticLayer, embed: FakeEmbed,
                                                  clock: FakeClock) -> None:
    assert layer.classify("hello you", deadline=later(clock)) is None
    assert layer.wait_warm_up(WAIT_S)
    assert layer.stats["not_ready"] == 1
    verdict = layer.classify("hello you", deadline=later(clock))
    assert verdict is not None and verdict.tier == "fast"


@pytest.mark.parametrize(("text", "tier", "prefix"),
                         [("hello world", "fast", "f"), ("sql query please", "balanced", "b"),
                          ("prove the theorem", "deep", "d")])
def test_nearest_exemplars_decide(layer: SemanticLayer, clock: FakeClock, text: str, tier: str,
                                  prefix: str) -> None:
    verdict = ready(layer).classify(text, deadline=later(clock))
    assert verdict is not None
    assert verdict.tier == tier
    assert verdict.confidence == 1.0  # all three neighbours agree
    assert verdict.exemplar.startswith(prefix)
    assert 0 < verdict.similarity <= 1
    assert verdict.reason.startswith(f"semantic: 3 of 3 nearest examples are {tier}")
    assert text not in verdict.reason


def test_a_split_vote_is_no_verdict(embed: FakeEmbed, clock: FakeClock) -> None:
    layer = SemanticLayer(config(k=6, min_confidence=0.5), embed, clock, exemplars=EXEMPLARS)
    try:
        assert ready(layer).classify("hello sql", deadline=later(clock)) is None
        assert layer.stats["unsure"] == 1
    finally:
        layer.close(wait=True)


def test_vote_confidence_is_the_margin_between_tiers() -> None:
    exemplars = [Exemplar("a", "fast", "x"), Exemplar("b", "fast", "y"), Exemplar("c", "deep", "z"),
                 Exemplar("far", "balanced", "w")]
    vectors = [[1.0, 0.1, 0.0], [1.0, -0.1, 0.0], [0.9, 0.0, 0.1], [-1.0, 0.0, 0.0]]
    index = build_index(exemplars, vectors)
    verdict = vote(index, [1.0, 0.0, 0.0], k=3)
    assert verdict is not None
    assert verdict.tier == "fast"
    assert 0 < verdict.confidence < 1  # two fast against one deep
    sole = vote(index, [1.0, 0.0, 0.0], k=1)
    assert sole is not None and sole.confidence == 1.0
    with pytest.raises(ValueError, match="dimensions"):
        vote(index, [1.0, 0.0], k=3)


def test_nothing_similar_is_no_verdict() -> None:
    index = build_index([Exemplar("a", "fast", "x"), Exemplar("b", "deep", "y")], [[1.0, 0.0], [0.0, 1.0]])
    assert vote(index, [-1.0, -0.5], k=2) is None
    assert vote(index, [1.0, -0.01], k=2) is not None


# --- caches -----------------------------------------------------------------

def test_exemplars_are_embedded_once_in_one_batch(layer: SemanticLayer, embed: FakeEmbed,
                                                  clock: FakeClock) -> None:
    ready(layer)
    for text in ("hello a", "sql b", "prove c", "hello a"):
        layer.classify(text, deadline=later(clock))
    batches = [c for c in embed.calls if len(c) > 1]
    assert batches == [[e.prompt for e in EXEMPLARS]]
    layer.start()  # already warm: no second batch
    assert [c for c in embed.calls if len(c) > 1] == batches


def test_query_vectors_are_cached_by_hash(layer: SemanticLayer, embed: FakeEmbed, clock: FakeClock) -> None:
    ready(layer)
    first = layer.classify("sql b", deadline=later(clock))
    again = layer.classify("sql b", deadline=later(clock))
    assert first == again
    assert embed.query_calls == 1
    assert layer.stats["cache_hits"] == 1


def test_query_cache_is_bounded(embed: FakeEmbed, clock: FakeClock) -> None:
    layer = SemanticLayer(config(), embed, clock, exemplars=EXEMPLARS, query_cache_size=2)
    try:
        ready(layer)
        for text in ("hello a", "hello b", "hello c", "hello a"):
            layer.classify(text, deadline=later(clock))
        assert embed.query_calls == 4  # "hello a" was evicted by b and c
    finally:
        layer.close(wait=True)


def test_exemplar_vectors_are_shared_by_model_and_text(embed: FakeEmbed, clock: FakeClock) -> None:
    cache = VectorCache()
    one = SemanticLayer(config(), embed, clock, exemplars=EXEMPLARS, cache=cache)
    two = SemanticLayer(config(), embed, clock, exemplars=EXEMPLARS, cache=cache)
    other_model = SemanticLayer(config(model="m2"), embed, clock, exemplars=EXEMPLARS, cache=cache)
    try:
        ready(one)
        ready(two)
        assert len([c for c in embed.calls if len(c) > 1]) == 1
        ready(other_model)
        assert len([c for c in embed.calls if len(c) > 1]) == 2
    finally:
        for layer in (one, two, other_model):
            layer.close(wait=True)


# --- the hard timeout -------------------------------------------------------------

def test_a_stuck_server_costs_at_most_the_timeout(embed: FakeEmbed, clock: FakeClock) -> None:
    layer = SemanticLayer(config(timeout_ms=50), embed, clock, exemplars=EXEMPLARS)
    try:
        ready(layer)
        embed.gate = threading.Event()
        started = time.monotonic()
        assert layer.classify("hello stuck", deadline=later(clock)) is None
        elapsed = time.monotonic() - started
        assert embed.entered.is_set()
        assert 0.04 <= elapsed < 1.0
        assert layer.stats["timeouts"] == 1
        embed.gate.set()
    finally:
        layer.close(wait=True)
    # the late answer was kept: the same prompt again needs no call (and the layer is closed)
    calls = len(embed.calls)
    verdict = layer.classify("hello stuck", deadline=later(clock))
    assert verdict is not None and verdict.tier == "fast"
    assert len(embed.calls) == calls


def test_the_request_deadline_bounds_the_wait(layer: SemanticLayer, embed: FakeEmbed,
                                              clock: FakeClock) -> None:
    ready(layer)
    assert layer.classify("hello late", deadline=clock.now) is None
    assert embed.query_calls == 0
    embed.gate = threading.Event()
    started = time.monotonic()
    assert layer.classify("hello soon", deadline=clock.now + 0.05) is None  # timeout_ms is 300
    assert time.monotonic() - started < 0.25


def test_busy_workers_mean_no_verdict_without_waiting(embed: FakeEmbed, clock: FakeClock) -> None:
    layer = SemanticLayer(config(timeout_ms=50), embed, clock, exemplars=EXEMPLARS, max_workers=1,
                          failures_to_open=100)
    try:
        ready(layer)
        embed.gate = threading.Event()
        assert layer.classify("hello one", deadline=later(clock)) is None  # times out, still running
        calls = len(embed.calls)
        started = time.monotonic()
        assert layer.classify("hello two", deadline=later(clock)) is None
        assert time.monotonic() - started < 0.04  # did not wait for a worker
        assert len(embed.calls) == calls
        assert layer.stats["busy"] == 1
        embed.gate.set()
    finally:
        layer.close(wait=True)


# --- the circuit breaker ------------------------------------------------------------

def test_breaker_opens_after_consecutive_failures_and_closes_on_success(
        embed: FakeEmbed, clock: FakeClock) -> None:
    layer = SemanticLayer(config(), embed, clock, exemplars=EXEMPLARS, failures_to_open=3, cooldown_s=30)
    try:
        ready(layer)
        embed.fail = BackendError("connection refused", kind="connect_error")
        for i in range(3):
            assert layer.classify(f"hello {i}", deadline=later(clock)) is None
        assert layer.breaker_open()
        calls = len(embed.calls)
        for i in range(10):
            assert layer.classify(f"sql {i}", deadline=later(clock)) is None
        assert len(embed.calls) == calls  # a dead server costs nothing per request
        assert layer.stats["breaker_skips"] == 10
        clock.now += 30.0
        embed.fail = None
        verdict = layer.classify("prove now", deadline=later(clock))
        assert verdict is not None and verdict.tier == "deep"
        assert not layer.breaker_open()
    finally:
        layer.close(wait=True)


def test_a_failed_half_open_call_reopens_at_once(embed: FakeEmbed, clock: FakeClock) -> None:
    layer = SemanticLayer(config(), embed, clock, exemplars=EXEMPLARS, failures_to_open=2, cooldown_s=10)
    try:
        ready(layer)
        embed.fail = BackendError("HTTP 500: oops", kind="http_error")
        layer.classify("hello 1", deadline=later(clock))
        layer.classify("hello 2", deadline=later(clock))
        clock.now += 10.0
        assert not layer.breaker_open()
        layer.classify("hello 3", deadline=later(clock))
        assert layer.breaker_open()
    finally:
        layer.close(wait=True)


def test_failed_warm_up_is_retried_after_the_cool_down(embed: FakeEmbed, clock: FakeClock) -> None:
    layer = SemanticLayer(config(), embed, clock, exemplars=EXEMPLARS, failures_to_open=1, cooldown_s=5)
    try:
        embed.fail = BackendError("connection refused", kind="connect_error")
        layer.start()
        assert not layer.wait_warm_up(WAIT_S)
        assert layer.classify("hello", deadline=later(clock)) is None
        assert len(embed.calls) == 1  # the breaker holds the retry back
        embed.fail = None
        clock.now += 5.0
        assert layer.classify("hello", deadline=later(clock)) is None  # starts the retry
        assert layer.wait_warm_up(WAIT_S)
        assert layer.classify("hello", deadline=later(clock)) is not None
    finally:
        layer.close(wait=True)


def test_wrong_vector_size_is_a_failure_not_a_crash(embed: FakeEmbed, clock: FakeClock) -> None:
    layer = SemanticLayer(config(), embed, clock, exemplars=EXEMPLARS)
    try:
        ready(layer)
        embed.short = True  # the server switched to a model of another size
        assert layer.classify("hello", deadline=later(clock)) is None
        assert layer.stats["verdicts"] == 0
    finally:
        layer.close(wait=True)


def test_prompt_text_is_never_logged(embed: FakeEmbed, clock: FakeClock,
                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    layer = SemanticLayer(config(timeout_ms=30), embed, clock, exemplars=EXEMPLARS, failures_to_open=2)
    try:
        ready(layer)
        embed.fail = ValueError(SECRET)
        layer.classify(SECRET, deadline=later(clock))
        embed.fail = BackendError("HTTP 400: bad input", kind="http_error")
        layer.classify(SECRET + "!", deadline=later(clock))
        embed.fail = None
        clock.now += 60
        layer.classify(SECRET + "?", deadline=later(clock))
    finally:
        layer.close(wait=True)
    assert caplog.records
    assert all("hunter2" not in r.getMessage() for r in caplog.records)


# --- what the server sends -------------------------------------------------------------

def test_pooled_vectors_pass_through_and_per_token_ones_are_averaged() -> None:
    assert pooled([1, 2.5, -3]) == [1.0, 2.5, -3.0]
    assert pooled([[1.0, 2.0], [3.0, 4.0], [5.0, 0.0]]) == [3.0, 2.0]


@pytest.mark.parametrize("bad", [[], "x", [[1.0], [1.0, 2.0]], [[]], [1.0, "2"], [[1.0], "x"], [True, 1.0],
                                 None, [None]])
def test_malformed_embeddings_are_bad_responses(bad: Any) -> None:
    with pytest.raises(BackendError) as info:
        pooled(bad)
    assert info.value.kind == "bad_response"


def test_answers_are_put_in_input_order() -> None:
    data = {"data": [{"index": 1, "embedding": [0.0, 1.0]},
                     {"index": 0, "embedding": [[1.0, 0.0], [3.0, 0.0]]}]}
    assert parse_embeddings(data, 2) == [[2.0, 0.0], [0.0, 1.0]]


@pytest.mark.parametrize("data", [{}, {"data": {}}, {"data": [{"embedding": [1.0]}]},
                                  {"data": [{"index": 0}, {"index": 1}]}])
def test_answers_of_the_wrong_shape_are_bad_responses(data: dict[str, Any]) -> None:
    with pytest.raises(BackendError) as info:
        parse_embeddings(data, 2)
    assert info.value.kind == "bad_response"


# --- the shipped exemplars and the config -------------------------------------------------

def test_shipped_exemplars_cover_every_tier() -> None:
    exemplars = default_exemplars()
    assert len({e.id for e in exemplars}) == len(exemplars)
    for tier in TIERS:
        assert 40 <= sum(e.tier == tier for e in exemplars) <= 60, tier


def test_default_layer_uses_the_shipped_exemplars(embed: FakeEmbed, clock: FakeClock) -> None:
    layer = SemanticLayer(config(), embed, clock)
    try:
        assert layer.wait_warm_up(0) is False
        ready(layer)
        assert len(embed.calls[0]) == len(default_exemplars())
    finally:
        layer.close(wait=True)


def models() -> dict[str, Any]:
    return {t: {"name": f"m-{t}", "base_url": "http://localhost:11434/v1", "max_tokens": 512} for t in TIERS}


def semantic_of(table: dict[str, Any], env: dict[str, str] | None = None) -> SemanticConfig:
    return parse_config({"models": models(), "routing": {"semantic": table}}, env=env or {}).routing.semantic


def problems(table: dict[str, Any], env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        semantic_of(table, env)
    return info.value.problems


def test_config_defaults_and_full_table(tmp_path: Path) -> None:
    assert parse_config({"models": models()}, env={}).routing.semantic == SemanticConfig()
    assert SemanticConfig().enabled is False and SemanticConfig().timeout_ms == 300
    full = semantic_of({"enabled": True, "base_url": "http://embed:8080/v1/", "model": "nomic",
                        "api_key_env": "EMB_KEY", "verify": False, "timeout_ms": 150, "k": 7,
                        "min_confidence": 0.4,
                        "examples": {"fast": ["hi", "hey there"] * 2, "deep": ["prove it"] * 3}},
                       env={"EMB_KEY": "s3cret"})
    assert full.base_url == "http://embed:8080/v1"
    assert (full.model, full.timeout_ms, full.k, full.min_confidence) == ("nomic", 150, 7, 0.4)
    assert full.api_key == "s3cret" and "s3cret" not in repr(full)
    assert full.verify is False
    assert [e.id for e in full.examples][:2] == ["fast-1", "fast-2"]
    assert {e.tier for e in full.examples} == {"fast", "deep"}


def test_config_reads_an_examples_file(tmp_path: Path) -> None:
    path = tmp_path / "ex.jsonl"
    lines = [{"id": "greet", "tier": "fast", "prompt": "hi"}, {"tier": "deep", "prompt": "prove it"}]
    path.write_text("# my examples\n\n" + "\n".join(json.dumps(x) for x in lines))
    semantic = semantic_of({"examples_file": str(path), "k": 2})
    assert [(e.id, e.tier) for e in semantic.examples] == [("greet", "fast"), ("deep-4", "deep")]


@pytest.mark.parametrize(("table", "path", "says"), [
    ({"enabled": True, "model": "m"}, "routing.semantic.base_url", "is required when enabled"),
    ({"enabled": True, "base_url": "http://e/v1"}, "routing.semantic.model", "is required when enabled"),
    ({"base_url": "ftp://e"}, "routing.semantic.base_url", "http"),
    ({"timeout_ms": 0}, "routing.semantic.timeout_ms", "from 1 to 60000"),
    ({"timeout_ms": 0.5}, "routing.semantic.timeout_ms", "integer"),
    ({"k": 0}, "routing.semantic.k", "from 1 to 100"),
    ({"min_confidence": 1.5}, "routing.semantic.min_confidence", "from 0 to 1"),
    ({"timout_ms": 5}, "routing.semantic.timout_ms", "did you mean 'timeout_ms'"),
    ({"examples": ["hi"]}, "routing.semantic.examples", "tier = [prompts]"),
    ({"examples": {"fats": ["hi"], "deep": ["x"]}}, "routing.semantic.examples.fats", "did you mean 'fast'"),
    ({"examples": {"fast": "hi", "deep": ["x"]}}, "routing.semantic.examples.fast",
     "list of non-empty strings"),
    ({"examples": {"fast": ["hi"] * 5}}, "routing.semantic.examples", "at least two tiers"),
    ({"examples": {"fast": ["hi"], "deep": ["x"]}}, "routing.semantic.k", "more than the 2 example prompts"),
    ({"examples": {"fast": ["a"] * 3, "deep": ["b"] * 3}, "examples_file": "x.jsonl"},
     "routing.semantic.examples", "keep one"),
    ({"examples_file": "/nonexistent/ex.jsonl"}, "routing.semantic.examples_file", "cannot read"),
    ({"api_key_env": "NOPE"}, "routing.semantic.api_key_env", "not set"),
    ({"verify": "/nonexistent/ca.pem"}, "routing.semantic.verify", "no file"),
])
def test_config_problems_name_the_key_and_the_fix(table: dict[str, Any], path: str, says: str) -> None:
    found = problems(table)
    line = next((p for p in found if p.startswith(path + ": ")), None)
    assert line is not None, found
    assert says in line
    assert "; " in line


@pytest.mark.parametrize(("content", "says"), [
    ("not json", "line 1 is not JSON"),
    ('{"tier": "huge", "prompt": "x"}', "line 1: tier must be one of"),
    ('{"tier": "fast", "prompt": ""}', "line 1: prompt must be"),
    ('{"id": "a", "tier": "fast", "prompt": "x"}\n{"id": "a", "tier": "deep", "prompt": "y"}',
     "line 2: id must be a unique"),
    ("[1, 2]", "line 1 is not a JSON object"),
])
def test_a_bad_examples_file_names_the_line(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "ex.jsonl"
    path.write_text(content)
    found = problems({"examples_file": str(path)})
    assert any(p.startswith("routing.semantic.examples_file: ") and says in p for p in found), found


def test_every_semantic_key_is_documented() -> None:
    repo = Path(__file__).resolve().parents[2]
    docs = (repo / "docs" / "configuration.md").read_text()
    table = docs[docs.index("### `[routing.semantic]`"):docs.index("### `[[routing.rules]]`")]
    example = (repo / "octoroute" / "config.toml.example").read_text()
    for f in dataclasses.fields(SemanticConfig):
        if f.name in ("api_key", "calibration"):
            continue  # read from the environment / from calibration_file, never written in a file
        assert f"| `{f.name}` |" in table, f"add {f.name} to [routing.semantic] in docs/configuration.md"
        assert re.search(rf"^#?\s*{f.name}\s*=", example, re.M), f"add {f.name} to config.toml.example"


def test_long_prompts_are_embedded_by_their_start(layer: SemanticLayer, embed: FakeEmbed,
                                                  clock: FakeClock) -> None:
    ready(layer)
    long_text = "prove " + "x" * 50_000
    verdict = layer.classify(long_text, deadline=later(clock))
    assert verdict is not None and verdict.tier == "deep"
    assert [len(c[0]) for c in embed.calls if len(c) == 1] == [MAX_QUERY_CHARS]
    layer.classify(long_text + "y", deadline=later(clock))  # the same start: cached
    assert embed.query_calls == 1


def test_empty_text_is_no_verdict_and_no_call(layer: SemanticLayer, embed: FakeEmbed,
                                              clock: FakeClock) -> None:
    ready(layer)
    assert layer.classify("  \n", deadline=later(clock)) is None
    assert embed.query_calls == 0


# --- metrics and explanations ------------------------------------------------------

def outcomes(metrics: Metrics) -> dict[str, float]:
    return {o: metrics.registry.get_sample_value("octoroute_semantic_requests_total", {"outcome": o}) or 0.0
            for o in SEMANTIC_OUTCOMES}


def test_every_lookup_is_counted_by_its_outcome(embed: FakeEmbed, clock: FakeClock) -> None:
    metrics = Metrics(CollectorRegistry())
    assert outcomes(metrics) == dict.fromkeys(SEMANTIC_OUTCOMES, 0.0)  # initialised up front
    layer = SemanticLayer(config(timeout_ms=50, k=6, min_confidence=0.5), embed, clock, exemplars=EXEMPLARS,
                          failures_to_open=2, metrics=metrics)
    try:
        assert layer.inspect("hello", deadline=later(clock)).outcome == "not_ready"
        ready(layer)
        assert layer.inspect("  ", deadline=later(clock)).outcome == "empty"
        assert layer.inspect("hello you", deadline=later(clock)).outcome == "verdict"
        assert layer.inspect("hello you", deadline=later(clock)).cached
        assert layer.inspect("hello sql", deadline=later(clock)).outcome == "unsure"
        assert layer.inspect("hello late", deadline=clock.now).outcome == "timeout"
        embed.fail = BackendError("connection refused", kind="connect_error")
        assert layer.inspect("sql a", deadline=later(clock)).outcome == "error"
        assert layer.inspect("sql b", deadline=later(clock)).outcome == "error"  # opens the breaker
        assert layer.inspect("sql c", deadline=later(clock)).outcome == "breaker_open"
    finally:
        layer.close(wait=True)
    assert outcomes(metrics) == {"verdict": 2.0, "unsure": 1.0, "timeout": 1.0, "error": 2.0, "busy": 0.0,
                                 "breaker_open": 1.0, "not_ready": 1.0, "empty": 1.0}
    assert metrics.registry.get_sample_value("octoroute_semantic_cache_hits_total") == 1.0


def test_embedding_latency_is_observed_for_completed_calls(embed: FakeEmbed, clock: FakeClock) -> None:
    metrics = Metrics(CollectorRegistry())

    def slow(texts: list[str], timeout: float) -> list[list[float]]:
        if len(texts) == 1:
            clock.now += 0.02  # the call took 20 ms on the layer's clock
        return embed(texts, timeout)

    layer = SemanticLayer(config(), slow, clock, exemplars=EXEMPLARS, metrics=metrics)
    try:
        ready(layer)
        layer.inspect("prove it now", deadline=later(clock))
        layer.inspect("prove it now", deadline=later(clock))  # cached: no call, nothing observed
    finally:
        layer.close(wait=True)
    get = metrics.registry.get_sample_value
    assert get("octoroute_semantic_embedding_seconds_count") == 1.0
    assert get("octoroute_semantic_embedding_seconds_sum") == pytest.approx(0.02)
    assert get("octoroute_semantic_embedding_seconds_bucket", {"le": "0.025"}) == 1.0
    assert get("octoroute_semantic_embedding_seconds_bucket", {"le": "0.01"}) == 0.0


def test_a_verdict_names_its_nearest_exemplars_and_margin(layer: SemanticLayer, clock: FakeClock) -> None:
    ready(layer)
    probe = layer.inspect("prove prove it", deadline=later(clock))
    assert probe.outcome == "verdict" and probe.verdict is not None
    assert [(n.id[0], n.tier) for n in probe.verdict.neighbours] == [("d", "deep")] * 3
    assert probe.verdict.neighbours[0].similarity >= probe.verdict.neighbours[-1].similarity
    assert probe.detail == f"margin {probe.verdict.confidence:.2f} >= min_confidence 0.3"
    assert "margin 1.00" in probe.verdict.reason and probe.verdict.neighbours[0].id in probe.verdict.reason


def test_the_reported_exemplar_is_the_nearest_of_the_winning_tier() -> None:
    exemplars = (Exemplar("f1", "fast", "a"), Exemplar("d1", "deep", "b"), Exemplar("d2", "deep", "c"))
    index = build_index(exemplars, [[1.0, 0.0], [0.9, 0.1], [0.8, 0.2]])
    verdict = vote(index, [1.0, 0.0], 3)
    assert verdict is not None and verdict.tier == "deep"
    assert [n.id for n in verdict.neighbours] == ["f1", "d1", "d2"]
    assert verdict.exemplar == "d1" and verdict.similarity == verdict.neighbours[1].similarity


def test_an_unsure_vote_is_kept_for_explain_but_does_not_decide(embed: FakeEmbed, clock: FakeClock) -> None:
    layer = SemanticLayer(config(k=6, min_confidence=0.5), embed, clock, exemplars=EXEMPLARS)
    try:
        unsure = ready(layer).inspect("hello sql", deadline=later(clock))
        assert unsure.outcome == "unsure" and unsure.verdict is not None
        assert unsure.detail == f"margin {unsure.verdict.confidence:.2f} < min_confidence 0.5"
        assert len(unsure.verdict.neighbours) == 6
        assert layer.classify("hello sql", deadline=later(clock)) is None
    finally:
        layer.close(wait=True)


# --- calibration: the nearest labelled prompts move the scorer's tier a step ----------

# "hello" prompts take fast or balanced, "sql" ones balanced only, "prove" ones deep only.
BANK = (
    LabelledPrompt("h1", ("fast", "balanced"), "hello there"),
    LabelledPrompt("h2", ("fast", "balanced"), "hello you"),
    LabelledPrompt("h3", ("fast", "balanced"), "hello hello"),
    LabelledPrompt("s1", ("balanced",), "sql join"), LabelledPrompt("s2", ("balanced",), "sql index"),
    LabelledPrompt("s3", ("balanced",), "sql view"),
    LabelledPrompt("p1", ("deep",), "prove it"), LabelledPrompt("p2", ("deep",), "prove this"),
    LabelledPrompt("p3", ("deep",), "prove that"),
)


def bank_index() -> Any:
    return build_index(BANK, [vector(p.prompt) for p in BANK])


@pytest.mark.parametrize(("text", "tier", "expect", "moved"), [
    ("hello world", "balanced", "fast", "down"),  # every neighbour accepts fast
    ("hello world", "deep", "balanced", "down"),  # one step only, never two
    ("hello world", "fast", "fast", ""),
    ("sql query", "fast", "balanced", "up"),  # no neighbour accepts fast, all accept balanced
    ("sql query", "deep", "balanced", "down"),
    ("prove it now", "balanced", "deep", "up"),
    ("prove it now", "deep", "deep", ""),
])
def test_calibration_moves_one_step_where_the_neighbours_agree(text: str, tier: str, expect: str,
                                                               moved: str) -> None:
    found = calibrate(bank_index(), vector(text), 3, 0.9, tier)
    assert found is not None
    assert (found.tier, found.moved) == (expect, moved)
    assert found.share >= 0.9 and text not in found.reason
    assert found.reason.startswith(f"calibrated {tier} -> {expect}" if moved else f"calibrated {tier} kept")


def test_calibration_needs_the_share_and_the_dearer_tier_unwanted_to_move_up() -> None:
    # Neighbours: three "hello" (fast or balanced) and one less similar "sql" (balanced only).
    mixed = vector("hello sql hello")
    found = calibrate(bank_index(), mixed, 4, 0.9, "balanced")
    assert found is not None and (found.tier, found.moved) == ("balanced", "")
    assert [n.id[0] for n in found.neighbours] == ["h", "h", "h", "s"]
    found = calibrate(bank_index(), mixed, 4, 0.6, "balanced")
    assert found is not None and (found.tier, found.moved) == ("fast", "down")
    # Up needs the scorer's own tier rejected: "hello" prompts accept fast and balanced alike.
    found = calibrate(bank_index(), vector("hello world"), 3, 0.9, "fast")
    assert found is not None and found.moved == ""


def test_calibration_without_any_similar_prompt_is_none() -> None:
    index = build_index(BANK[:1], [[1.0, 0.0]])
    assert calibrate(index, [-1.0, 0.0], 1, 0.9, "balanced") is None


def calibrating(embed: FakeEmbed, clock: FakeClock, metrics: Metrics | None = None,
                **keys: Any) -> SemanticLayer:
    return SemanticLayer(config(calibrate=True, calibrate_k=3, **keys), embed, clock, exemplars=EXEMPLARS,
                         calibration=BANK, metrics=metrics)


def test_the_layer_calibrates_with_the_bank_and_shares_the_query_vector(embed: FakeEmbed,
                                                                       clock: FakeClock) -> None:
    metrics = Metrics(CollectorRegistry())
    layer = calibrating(embed, clock, metrics)
    try:
        assert layer.calibrates
        assert layer.calibrate("hello world", "balanced", deadline=later(clock)).outcome == "not_ready"
        ready(layer)
        # One warm-up batch: the exemplars, then the bank (a prompt in both is embedded once).
        assert [c for c in embed.calls if len(c) > 1] == [
            [e.prompt for e in EXEMPLARS] + ["hello you", "hello hello"]]
        probe = layer.calibrate("hello world", "balanced", deadline=later(clock))
        assert probe.outcome == "calibrated" and probe.calibration is not None
        assert (probe.calibration.tier, probe.calibration.moved) == ("fast", "down")
        assert sorted(n.id for n in probe.calibration.neighbours) == ["h1", "h2", "h3"]
        kept = layer.calibrate("hello world", "fast", deadline=later(clock))
        assert kept.outcome == "kept" and kept.cached
        verdict = layer.classify("hello world", deadline=later(clock))
        assert verdict is not None and verdict.tier == "fast"
        assert embed.query_calls == 1  # one vector for the prompt, whatever asked for it
        assert (layer.stats["calibrated"], layer.stats["kept"]) == (1, 1)
        sample = metrics.registry.get_sample_value
        assert [sample("octoroute_semantic_calibrations_total", {"result": r})
                for r in CALIBRATION_RESULTS] == [1.0, 0.0, 1.0, 1.0]
    finally:
        layer.close(wait=True)


def test_calibrate_off_means_no_bank_and_no_calibration(embed: FakeEmbed, clock: FakeClock) -> None:
    layer = SemanticLayer(config(), embed, clock, exemplars=EXEMPLARS, calibration=BANK)
    try:
        ready(layer)
        assert not layer.calibrates
        assert layer.calibrate("hello world", "balanced", deadline=later(clock)).outcome == "off"
        assert [c for c in embed.calls if len(c) > 1] == [[e.prompt for e in EXEMPLARS]]
    finally:
        layer.close(wait=True)


def test_a_failing_server_gives_no_calibration(embed: FakeEmbed, clock: FakeClock) -> None:
    layer = calibrating(embed, clock)
    try:
        ready(layer)
        embed.fail = BackendError("down", kind="connect")
        probe = layer.calibrate("sql anything", "fast", deadline=later(clock))
        assert probe.calibration is None and probe.outcome == "error"
    finally:
        layer.close(wait=True)


def test_the_shipped_bank_is_the_tunable_splits_and_nothing_kept_aside() -> None:
    bank = default_calibration()
    repo = Path(__file__).resolve().parents[2] / "octoroute" / "evalsets"
    tunable = [json.loads(line) for name in CALIBRATION_SPLITS
               for line in (repo / name).read_text().splitlines() if line.strip()]
    aside = {json.loads(line)["id"] for name in ("heldout.jsonl", "blind.jsonl")
             for line in (repo / name).read_text().splitlines() if line.strip()}
    assert [p.id for p in bank] == [t["id"] for t in tunable]
    assert not aside & {p.id for p in bank}
    first = next(t for t in tunable if "messages" in t)
    labelled = next(p for p in bank if p.id == first["id"])
    users = [m for m in first["messages"] if m["role"] == "user"]
    assert labelled.prompt == users[-1]["content"][:2000]  # a conversation by its last user turn
    assert all(list(p.acceptable) == [t for t in TIERS if t in p.acceptable] for p in bank)


def test_config_reads_a_calibration_file_in_eval_format(tmp_path: Path) -> None:
    path = tmp_path / "labelled.jsonl"
    lines = [{"id": "a", "prompt": "hi", "acceptable": ["balanced", "fast"], "why": "chat"},
             {"id": "b", "messages": [{"role": "user", "content": "first"},
                                      {"role": "assistant", "content": "ok"},
                                      {"role": "user", "content": [{"type": "text", "text": "second"}]}],
              "acceptable": ["deep"]}]
    path.write_text("\n".join(json.dumps(x) for x in lines))
    semantic = semantic_of({"enabled": True, "base_url": "http://embed:8080/v1", "model": "nomic",
                            "calibrate": True, "calibration_file": str(path), "calibrate_k": 2,
                            "calibrate_share": 0.8})
    assert [(p.id, p.acceptable, p.prompt) for p in semantic.calibration] == [
        ("a", ("fast", "balanced"), "hi"), ("b", ("deep",), "second")]
    assert (semantic.calibrate, semantic.calibrate_k, semantic.calibrate_share) == (True, 2, 0.8)


@pytest.mark.parametrize(("table", "path", "says"), [
    ({"calibrate_share": 0.5}, "routing.semantic.calibrate_share", "above 0.5"),
    ({"calibrate": True}, "routing.semantic.calibrate", "not enabled"),
    ({"calibrate_k": 0}, "routing.semantic.calibrate_k", "from 1 to 100"),
    ({"calibration_file": "/nonexistent/l.jsonl"}, "routing.semantic.calibration_file", "cannot read"),
])
def test_calibration_config_problems_name_the_key(table: dict[str, Any], path: str, says: str) -> None:
    found = problems(table)
    assert any(p.startswith(path + ": ") and says in p for p in found), found


@pytest.mark.parametrize(("content", "says"), [
    ('{"prompt": "x", "acceptable": []}', "line 1: acceptable must be"),
    ('{"prompt": "x", "acceptable": ["huge"]}', "line 1: acceptable must be"),
    ('{"acceptable": ["fast"]}', 'line 1: needs "prompt"'),
    ('{"messages": [{"role": "user", "content": [{"type": "image_url"}]}], "acceptable": ["fast"]}',
     'line 1: needs "prompt"'),
    ('{"messages": "hi", "acceptable": ["fast"]}', 'line 1: needs "prompt"'),
    ('{"id": "a", "prompt": "x", "acceptable": ["fast"]}\n{"id": "a", "prompt": "y", "acceptable": ["deep"]}',
     "line 2: id must be a unique"),
])
def test_a_bad_calibration_file_names_the_line(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "l.jsonl"
    path.write_text(content)
    found = problems({"calibration_file": str(path)})
    assert any(p.startswith("routing.semantic.calibration_file: ") and says in p for p in found), found
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_labelled(content)


def test_calibrate_k_may_not_exceed_the_bank(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    path.write_text('{"prompt": "x", "acceptable": ["fast"]}')
    found = problems({"calibration_file": str(path)})
    assert any(p.startswith("routing.semantic.calibrate_k: ") and "more than the 1 labelled" in p
               for p in found), found


# --- the vector file: no re-embedding across restarts ---------------------------------

def test_a_vector_file_spares_the_next_start_its_warm_up(embed: FakeEmbed, clock: FakeClock,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "vectors.json"
    first = calibrating(embed, clock, vector_file=str(path))
    try:
        ready(first)
    finally:
        first.close(wait=True)
    assert len(embed.calls) == 1 and path.exists()
    saved = path.read_text()
    assert all(p.prompt not in saved for p in BANK) and "hello" not in saved  # digests and numbers only
    again = FakeEmbed()
    second = calibrating(again, clock, vector_file=str(path))  # a new process: a fresh VectorCache
    try:
        ready(second)
        assert again.calls == []
        probe = second.calibrate("hello world", "balanced", deadline=later(clock))
        assert probe.calibration is not None and probe.calibration.tier == "fast"
    finally:
        second.close(wait=True)


@pytest.mark.parametrize("content", ["not json", '{"version": 1, "model": "other", "dims": 6, "vectors": {}}',
                                     '{"version": 1, "model": "m", "dims": 6, "vectors": {"x": "!!"}}', "[]"])
def test_an_unusable_vector_file_means_embedding_again_and_rewriting_it(embed: FakeEmbed, clock: FakeClock,
                                                                        tmp_path: Path, content: str) -> None:
    path = tmp_path / "vectors.json"
    path.write_text(content)
    layer = calibrating(embed, clock, vector_file=str(path))
    try:
        ready(layer)
    finally:
        layer.close(wait=True)
    assert len(embed.calls) == 1
    data = json.loads(path.read_text())
    assert data["model"] == "m" and data["dims"] == 6 and len(data["vectors"]) == len(EXEMPLARS) + 2


def test_a_vector_file_that_cannot_be_written_costs_only_the_next_warm_up(
        embed: FakeEmbed, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "gone" / "vectors.json"  # its directory does not exist
    layer = calibrating(embed, clock, vector_file=str(path))
    try:
        with caplog.at_level(logging.WARNING, logger="octoroute.routing.semantic"):
            ready(layer)
        assert layer.ready and not path.exists()
        assert any("cannot write vector file" in r.getMessage() for r in caplog.records)
    finally:
        layer.close(wait=True)


def test_vector_file_config_needs_an_existing_directory(tmp_path: Path) -> None:
    assert semantic_of({"vector_file": str(tmp_path / "v.json")}).vector_file == str(tmp_path / "v.json")
    found = problems({"vector_file": str(tmp_path / "nope" / "v.json")})
    assert any(p.startswith("routing.semantic.vector_file: ") and "does not exist" in p for p in found), found
