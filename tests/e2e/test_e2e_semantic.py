"""The semantic layer against real Gemma embeddings (llama-cpp-python with ``--embedding true``).

llama-cpp-python answers one 640-float vector per token for Gemma (the model
has no pooling); the layer mean-pools them. The added latency per decision is
measured, cache cold and warm, and printed: it is the number the router pays
when it asks this layer.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator

import pytest
from e2e_support import SAFE_SERVER_ARGS, LlamaServer, free_port
from octoroute.config import SemanticConfig
from octoroute.routing.semantic import HTTPEmbedder, SemanticLayer, SemanticVerdict, http_embedder

pytestmark = pytest.mark.e2e

WARM_UP_TIMEOUT_S = 300.0  # seconds for embedding the shipped exemplars on a loaded 2-core box
CALLS = 50  # decisions timed, cache cold and again warm
# Clear cases, written for this test (not exemplars, not the eval set).
CLEAR = {
    "fast": ["hey, good morning! how are you?", "write a cheerful poem about spring flowers",
             "pretend you are a wizard and greet the travellers at your tower"],
    "deep": ["prove that the product of two odd integers is always odd",
             "implement a concurrent hash map in C++ with fine-grained locking and unit tests",
             "a cyclist rides 12 km at 18 km/h and back at 12 km/h; what is the average speed?"],
}


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
def layer(embedder: HTTPEmbedder) -> Iterator[SemanticLayer]:
    made = SemanticLayer(SemanticConfig(enabled=True, base_url="http://unused/v1", model="gemma",
                                        timeout_ms=300, min_confidence=0.0),
                         embedder, warmup_timeout_s=WARM_UP_TIMEOUT_S)
    started = time.monotonic()
    made.start()
    assert made.wait_warm_up(WARM_UP_TIMEOUT_S), "the shipped exemplars were not embedded"
    print(f"\nsemantic e2e: shipped exemplars embedded in {time.monotonic() - started:.1f}s")
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


def test_clear_prompts_are_classified_sensibly(layer: SemanticLayer) -> None:
    verdicts: dict[str, list[SemanticVerdict | None]] = {}
    for tier, prompts in CLEAR.items():
        verdicts[tier] = [layer.classify(p, deadline=time.monotonic() + 60) for p in prompts]
    for tier, found in verdicts.items():
        print(f"\nsemantic e2e: {tier}: " + "; ".join(
            "none" if v is None else f"{v.tier} {v.confidence:.2f} ({v.exemplar}, {v.similarity:.2f})"
            for v in found))
    decided = [(tier, v) for tier, found in verdicts.items() for v in found if v is not None]
    assert len(decided) >= 4, "most clear prompts should get a verdict within 300 ms"
    right = sum(v.tier == tier for tier, v in decided)
    assert right >= len(decided) - 1, verdicts
    assert not any({tier, v.tier} == {"fast", "deep"} for tier, v in decided), verdicts  # never two tiers off


def test_added_latency_cold_and_warm(layer: SemanticLayer) -> None:
    prompts = [f"question number {i}: how do I {verb} my {thing}?"
               for i, (verb, thing) in enumerate((v, t) for v in ("clean", "fix", "paint", "sell", "store")
                                                for t in ("bike", "car", "fence", "roof", "laptop",
                                                          "garden", "kitchen", "boat", "desk", "piano"))]
    assert len(prompts) == CALLS

    def timed() -> tuple[list[float], int]:
        times, verdicts = [], 0
        for p in prompts:
            started = time.perf_counter()
            verdicts += layer.classify(p, deadline=time.monotonic() + 60) is not None
            times.append((time.perf_counter() - started) * 1000)
        return sorted(times), verdicts

    timeouts_before = layer.stats["timeouts"]
    cold, cold_verdicts = timed()
    timeouts = layer.stats["timeouts"] - timeouts_before
    warm, _ = timed()

    def p95(values: list[float]) -> float:
        return values[max(0, round(len(values) * 0.95) - 1)]

    print(f"\nsemantic e2e: {CALLS} decisions, cache cold: median {statistics.median(cold):.1f} ms, "
          f"p95 {p95(cold):.1f} ms, max {cold[-1]:.1f} ms, {timeouts} timeouts, {cold_verdicts} verdicts")
    print(f"semantic e2e: {CALLS} decisions, cache warm: median {statistics.median(warm):.2f} ms, "
          f"p95 {p95(warm):.2f} ms, max {warm[-1]:.2f} ms")
    assert cold[-1] < 300 + 100  # the hard timeout holds, with scheduling slack
    assert statistics.median(warm) < statistics.median(cold)
    assert warm[-1] < 50  # warm: no call at all, only the in-process vote
