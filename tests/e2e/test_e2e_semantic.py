"""The semantic layer against real Gemma embeddings (llama-cpp-python with ``--embedding true``).

llama-cpp-python answers one 640-float vector per token for Gemma (the model
has no pooling); the layer mean-pools them. The added latency per decision is
measured, cache cold and warm, and printed: it is the number the router pays
when it asks this layer.

NOTE(semantic): Gemma 3 270M is a chat model, not an embedding model, yet its
mean-pooled vectors carry a usable signal once each input is embedded on its
own (llama-cpp-python gets batched per-token embeddings wrong): measured on
2026-12-03, the shipped exemplars classify each other (leave-one-out, k=5) at
107/137, and on the team's eval set (453 prompts) the layer decides 58% of
them at 93% acceptable, 4% under-routed. Too weak to assert the tier of any
prompt: this test asserts what holds whatever the model (an exemplar finds
itself, the hard timeout holds, warm decisions make no call) and that the
confident verdicts on a few clear prompts are right.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import SAFE_SERVER_ARGS, LlamaServer, free_port
from octoroute.config import LabelledPrompt, SemanticConfig
from octoroute.routing.semantic import (
    HTTPEmbedder,
    SemanticLayer,
    VectorCache,
    default_exemplars,
    http_embedder,
)

pytestmark = pytest.mark.e2e

WARM_UP_TIMEOUT_S = 300.0  # seconds for embedding the shipped exemplars on a loaded 2-core box
CALLS = 50  # decisions timed, cache cold and again warm
SELF_CHECK = ("fast-chat-01", "balanced-code-04", "deep-math-02")
# Clear cases, written for this test (not exemplars, not the eval set).
CLEAR = {
    "fast": ["hey, good morning! how are you?", "write a cheerful poem about spring flowers",
             "pretend you are a wizard and greet the travellers at your tower"],
    "deep": ["prove that the product of two odd integers is always odd",
             "implement a concurrent hash map in C++ with fine-grained locking and unit tests",
             "a cyclist rides 12 km at 18 km/h and back at 12 km/h; what is the average speed?"],
}


# A labelled bank written for this test (not the eval set): (id, acceptable tiers, prompt).
BANK = (
    LabelledPrompt("greet", ("fast", "balanced"), "good morning! how are you today?"),
    LabelledPrompt("poem", ("fast", "balanced"), "write a short poem about the sea at night"),
    LabelledPrompt("join", ("balanced", "deep"), "why is my postgres query slow when I join two big tables?"),
    LabelledPrompt("primes", ("deep",), "prove that there are infinitely many prime numbers"),
    LabelledPrompt("race", ("deep",), "find and fix the race in this C++ thread pool shutdown code"),
)


@pytest.fixture(scope="module")
def embeddings_server(llm_installed: None) -> Iterator[LlamaServer]:
    server = LlamaServer(f"e2e{os.getpid()}-embed", free_port(), ("--embedding", "true", *SAFE_SERVER_ARGS))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def embedder(embeddings_server: LlamaServer) -> Iterator[HTTPEmbedder]:
    embed = http_embedder(SemanticConfig(enabled=True, base_url=embeddings_server.base_url, model="gemma"))
    yield embed
    embed.close()


@pytest.fixture(scope="module")
def cache() -> VectorCache:
    return VectorCache()


def make_layer(embedder: HTTPEmbedder, cache: VectorCache, timeout_ms: int) -> SemanticLayer:
    """A layer on the real server; its breaker never opens, so every call is measured."""
    made = SemanticLayer(SemanticConfig(enabled=True, base_url="http://unused/v1", model="gemma",
                                        timeout_ms=timeout_ms, min_confidence=0.0),
                         embedder, cache=cache, warmup_timeout_s=WARM_UP_TIMEOUT_S, failures_to_open=10**9)
    started = time.monotonic()
    made.start()
    assert made.wait_warm_up(WARM_UP_TIMEOUT_S), "the shipped exemplars were not embedded"
    print(f"\nsemantic e2e: layer ready in {time.monotonic() - started:.1f}s")
    return made


@pytest.fixture(scope="module")
def layer(embedder: HTTPEmbedder, cache: VectorCache) -> Iterator[SemanticLayer]:
    """As configured by default: 300 ms per call."""
    made = make_layer(embedder, cache, 300)
    yield made
    made.close(wait=True)


@pytest.fixture(scope="module")
def patient(embedder: HTTPEmbedder, cache: VectorCache, layer: SemanticLayer) -> Iterator[SemanticLayer]:
    """Waits up to 10 s (exemplar vectors from the shared cache: no second warm-up call)."""
    made = make_layer(embedder, cache, 10_000)
    yield made
    made.close(wait=True)


def test_gemma_sends_one_vector_per_token_and_the_layer_pools_them(embedder: HTTPEmbedder) -> None:
    data = embedder.client.post_json("/embeddings", {"model": "gemma", "input": ["hello there"]}, timeout=60)
    raw = data["data"][0]["embedding"]
    assert isinstance(raw, list) and raw
    per_token = isinstance(raw[0], list)
    (pooled,) = embedder(["hello there"], 60.0)
    assert len(pooled) == (len(raw[0]) if per_token else len(raw))
    print(f"\nsemantic e2e: per-token answer: {per_token}, {len(pooled)} dimensions")


def test_an_exemplar_finds_itself(patient: SemanticLayer) -> None:
    """Real vectors are deterministic and the pooled query matches the pooled exemplar."""
    for exemplar in (e for e in default_exemplars() if e.id in SELF_CHECK):
        verdict = patient.classify(exemplar.prompt, deadline=time.monotonic() + 60)
        assert verdict is not None, exemplar.id
        assert verdict.exemplar == exemplar.id
        assert verdict.similarity > 0.99


def test_clear_prompts(patient: SemanticLayer) -> None:
    """A confident verdict (the default min_confidence) on a clear prompt is the right tier."""
    confident = 0
    for tier, prompts in CLEAR.items():
        found = [patient.classify(p, deadline=time.monotonic() + 60) for p in prompts]
        print(f"\nsemantic e2e: clear {tier} prompts -> " + "; ".join(
            "none" if v is None else f"{v.tier} {v.confidence:.2f} ({v.exemplar}, {v.similarity:.2f})"
            for v in found))
        for v in found:
            if v is not None and v.confidence >= SemanticConfig.min_confidence:
                confident += 1
                assert v.tier == tier, (tier, v)
    assert confident >= 4  # 5 of 6 on 2026-12-03


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(len(ordered) * 0.95) - 1)]


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times):.1f} ms, p95 {p95(times):.1f} ms, max {max(times):.1f} ms"


def test_added_latency_cold_and_warm(embedder: HTTPEmbedder, layer: SemanticLayer,
                                     patient: SemanticLayer) -> None:
    prompts = [f"how do I {verb} my {thing}?" for verb in ("clean", "fix", "paint", "sell", "store")
               for thing in ("bike", "car", "fence", "roof", "laptop", "garden", "kitchen", "boat", "desk",
                             "piano")]
    assert len(prompts) == CALLS
    server = []
    for p in prompts:  # the server alone, no timeout: what one embedding costs here
        started = time.perf_counter()
        embedder([p + " (server)"], 60.0)
        server.append((time.perf_counter() - started) * 1000)

    def timed(which: SemanticLayer, suffix: str) -> tuple[list[float], int]:
        times, verdicts = [], 0
        for p in prompts:
            started = time.perf_counter()
            verdicts += which.classify(p + suffix, deadline=time.monotonic() + 60) is not None
            times.append((time.perf_counter() - started) * 1000)
        return times, verdicts

    before = layer.counts()
    default_cold, default_verdicts = timed(layer, "")
    timeouts = layer.counts()["timeouts"] - before["timeouts"]
    default_warm, default_warm_verdicts = timed(layer, "")
    cold, cold_verdicts = timed(patient, " (patient)")
    warm, warm_verdicts = timed(patient, " (patient)")
    print(f"\nsemantic e2e: server alone, {CALLS} single embeddings: {summary(server)}")
    print(f"semantic e2e: timeout_ms=300, cache cold: {summary(default_cold)}; {timeouts} timeouts, "
          f"{default_verdicts} verdicts; again: {summary(default_warm)}, {default_warm_verdicts} verdicts")
    print(f"semantic e2e: timeout_ms=10000, cache cold: {summary(cold)}; {cold_verdicts} verdicts")
    print(f"semantic e2e: timeout_ms=10000, cache warm: {summary(warm)}; {warm_verdicts} verdicts")
    assert max(default_cold) < 300 + 150  # the hard timeout holds, with vote and scheduling slack
    assert cold_verdicts == warm_verdicts == CALLS
    assert max(warm) < 50  # warm: no call at all, only the in-process vote


@pytest.mark.parametrize(("bank_id", "scorer", "calibrated"), [
    ("greet", "balanced", "fast"), ("poem", "balanced", "fast"), ("join", "fast", "balanced"),
    ("primes", "balanced", "deep"), ("race", "balanced", "deep"), ("join", "balanced", "balanced"),
])
def test_calibration_by_a_labelled_bank_on_real_vectors(embedder: HTTPEmbedder, cache: VectorCache,
                                                       bank_id: str, scorer: str, calibrated: str) -> None:
    """A bank prompt finds itself first, so its own labels move (or keep) the scorer's tier."""
    config = SemanticConfig(enabled=True, base_url="http://unused/v1", model="gemma", timeout_ms=10_000,
                            calibrate=True, calibrate_k=1, calibrate_share=0.9)
    layer = SemanticLayer(config, embedder, cache=cache, calibration=BANK, warmup_timeout_s=WARM_UP_TIMEOUT_S,
                          failures_to_open=10**9)
    try:
        layer.start()
        assert layer.wait_warm_up(WARM_UP_TIMEOUT_S), "the bank was not embedded"
        prompt = next(p.prompt for p in BANK if p.id == bank_id)
        probe = layer.calibrate(prompt, scorer, deadline=time.monotonic() + 60)
        assert probe.calibration is not None, probe
        assert probe.calibration.neighbours[0].id == bank_id
        assert probe.calibration.neighbours[0].similarity > 0.99
        assert probe.calibration.tier == calibrated
        assert probe.outcome == ("kept" if calibrated == scorer else "calibrated")
    finally:
        layer.close(wait=True)


def test_a_vector_file_makes_the_second_start_instant(embedder: HTTPEmbedder, tmp_path: Path) -> None:
    """Real vectors written once and read back: a restart embeds nothing and decides the same."""
    config = SemanticConfig(enabled=True, base_url="http://unused/v1", model="gemma", timeout_ms=10_000,
                            calibrate=True, calibrate_k=1, vector_file=str(tmp_path / "vectors.json"))

    def start() -> tuple[SemanticLayer, float]:
        layer = SemanticLayer(config, embedder, cache=VectorCache(), calibration=BANK,
                              warmup_timeout_s=WARM_UP_TIMEOUT_S, failures_to_open=10**9)
        started = time.monotonic()
        layer.start()
        assert layer.wait_warm_up(WARM_UP_TIMEOUT_S)
        return layer, time.monotonic() - started

    first, cold = start()
    second, warm = start()
    try:
        print(f"\nsemantic e2e: warm-up with an empty vector file {cold:.1f}s, from the file {warm:.2f}s")
        assert warm < cold / 5
        for labelled in BANK:
            a = first.calibrate(labelled.prompt, "balanced", deadline=time.monotonic() + 60).calibration
            b = second.calibrate(labelled.prompt, "balanced", deadline=time.monotonic() + 60).calibration
            assert a is not None and b is not None
            assert (a.tier, a.neighbours[0].id) == (b.tier, b.neighbours[0].id) == (a.tier, labelled.id)
            assert abs(a.neighbours[0].similarity - b.neighbours[0].similarity) < 1e-3  # float32 on disk
    finally:
        first.close(wait=True)
        second.close(wait=True)
