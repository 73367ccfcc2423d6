"""Octoroute in front of llama.cpp's own ``llama-server`` (Gemma 3 270M).

Three llama-servers, built once by ``llm-server install-llama-server``:
``main`` (with ``--metrics``), ``small`` (a context of SMALL_CTX tokens, one
slot) and ``sleepy`` (``--sleep-idle-seconds``, never sent a generation
except by the test that proves it wakes). ``GET /props`` tells whether a
server sleeps (``is_sleeping``) without waking it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from e2e_support import (
    HTTP_TIMEOUT_S,
    MAX_TOKENS,
    MODEL_NAME,
    LlamaServer,
    Octoroute,
    endpoint,
    free_port,
    read_stream,
    start_servers,
    wait_until,
)

pytestmark = pytest.mark.e2e

StartOctoroute = Callable[[dict[str, Any]], Octoroute]
LLAMA_SERVER = ("--server", "llama-server")  # llm-server's switch from llama-cpp-python
MAIN_CTX = 4096  # tokens; the default (the model's 32k) would spend memory on nothing
SMALL_CTX = 256  # tokens: a prompt of ~1,000 overflows it
SLEEP_IDLE_S = 2  # seconds of idleness before the sleepy server unloads the model
PROBE_INTERVAL_S = 0.3  # seconds between Octoroute's health rounds
PROBE_ROUNDS = 8  # rounds watched: well past SLEEP_IDLE_S, so a wake-up could not hide
SLEEP_WAIT_S = 30.0  # seconds for a server to fall asleep (SLEEP_IDLE_S plus the unload)
LONG_PROMPT = "Please summarise the following list of words. " + " ".join(
    f"word{i} apple banana cherry" for i in range(150))  # ~1,000 tokens


@dataclass
class LlamaServers:
    main: LlamaServer
    small: LlamaServer
    sleepy: LlamaServer


@pytest.fixture(scope="module")
def llama(llama_server_installed: None) -> Iterator[LlamaServers]:
    tag = f"e2e{os.getpid()}-ls"
    trio = LlamaServers(
        LlamaServer(f"{tag}-main", free_port(), args=(*LLAMA_SERVER, "--ctx-size", str(MAIN_CTX),
                                                      "--metrics")),
        LlamaServer(f"{tag}-small", free_port(), args=(*LLAMA_SERVER, "--ctx-size", str(SMALL_CTX),
                                                       "--parallel", "1")),
        LlamaServer(f"{tag}-sleepy", free_port(), args=(*LLAMA_SERVER, "--ctx-size", str(MAIN_CTX),
                                                        "--sleep-idle-seconds", str(SLEEP_IDLE_S))))
    start_servers(trio.main, trio.small, trio.sleepy)
    try:
        yield trio
    finally:
        for s in (trio.main, trio.small, trio.sleepy):
            s.stop()


def root(server: LlamaServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def props(server: LlamaServer) -> dict[str, Any]:
    resp = requests.get(root(server) + "/props", timeout=10)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


def is_sleeping(server: LlamaServer) -> bool:
    return bool(props(server)["is_sleeping"])


def config_on(tiers: dict[str, list[dict[str, Any]]], **health: Any) -> dict[str, Any]:
    """Rule routing (no brain requests) with every tier on llama-servers."""
    return {
        "server": {"threads": 8, "request_timeout_seconds": 120},
        "routing": {"strategy": "rule", "default_tier": "balanced"},
        "health": {"interval_seconds": 0.5, "timeout_seconds": 10, "unhealthy_after": 3, **health},
        "timeouts": {"fast": 60, "balanced": 60, "deep": 60, "stream_idle": 60},
        "observability": {"log_level": "info"},
        "models": tiers,
    }


def one_server(server: LlamaServer, **health: Any) -> dict[str, Any]:
    return config_on({tier: [endpoint(f"{tier}-ls", server)] for tier in ("fast", "balanced", "deep")},
                     **health)


def test_a_chat_and_a_stream_are_routed_and_relayed(llama: LlamaServers, octoroute: StartOctoroute) -> None:
    router = octoroute(one_server(llama.main))

    answer = router.chat("Say hello to the lighthouse keeper.", model="balanced")
    assert (answer["endpoint"], answer["attempts"]) == ("balanced-ls", 1)
    assert answer["response"].strip()

    body = {"model": "deep", "stream": True, "max_tokens": MAX_TOKENS,
            "messages": [{"role": "user", "content": "Tell me a story about a lighthouse keeper."}]}
    with requests.post(router.url + "/v1/chat/completions", json=body, stream=True,
                       timeout=HTTP_TIMEOUT_S) as resp:
        assert resp.status_code == 200, resp.text
        assert resp.headers["X-Octoroute-Endpoint"] == "deep-ls"
        result = read_stream(resp)
    assert result.errors == [] and result.broken is None and result.after_done == []
    assert result.done and result.text.strip()
    assert result.finish_reason in ("stop", "length")
    wait_until(lambda: router.metric("octoroute_streams_total", outcome="completed") == 1,
               timeout=10, what="the stream to be counted as completed")
    # llama-server counted both generations itself: the answers came from it, not a cache.
    metrics = requests.get(root(llama.main) + "/metrics", timeout=10).text
    assert "llamacpp:n_decode_total" in metrics


def overflow_body(model: str, *, stream: bool) -> dict[str, Any]:
    return {"model": model, "stream": stream, "max_tokens": MAX_TOKENS,
            "messages": [{"role": "user", "content": LONG_PROMPT}]}


def test_the_server_says_why_a_prompt_does_not_fit(llama: LlamaServers) -> None:
    # What Octoroute gets back (the facts the router will act on): a 400 naming both sizes.
    resp = requests.post(llama.small.base_url + "/chat/completions",
                         json=overflow_body(MODEL_NAME, stream=False), timeout=HTTP_TIMEOUT_S)

    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["type"] == "exceed_context_size_error"
    assert error["n_ctx"] == SMALL_CTX
    assert error["n_prompt_tokens"] > SMALL_CTX


def small_then_large(llama: LlamaServers, **fast: Any) -> dict[str, Any]:
    """fast on the 256-token server, balanced and deep on the 4,096-token one."""
    return config_on({"fast": [endpoint("fast-ls", llama.small, **fast)],
                      "balanced": [endpoint("balanced-ls", llama.main)],
                      "deep": [endpoint("deep-ls", llama.main)]})


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
def test_an_overflow_moves_to_a_larger_window_with_no_health_penalty(
        llama: LlamaServers, octoroute: StartOctoroute, stream: bool) -> None:
    # A configured window larger than the server's real one: Octoroute believes the prompt
    # fits, sends it, and llama-server's exceed_context_size_error must move it on.
    router = octoroute(small_then_large(llama, context_window=100_000))

    resp = requests.post(router.url + "/v1/chat/completions", json=overflow_body("fast", stream=stream),
                         timeout=HTTP_TIMEOUT_S)

    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Octoroute-Endpoint"] == "balanced-ls"
    assert "context window" in resp.headers.get("X-Octoroute-Warnings", "")
    if stream:
        result = read_stream(resp)
        assert result.done and result.errors == []
    else:
        assert resp.json()["choices"][0]["message"]["content"] is not None
    assert router.metric("octoroute_context_overflows_total", endpoint="fast-ls") == 1
    assert router.metric("octoroute_endpoint_requests_total", endpoint="fast-ls",
                         outcome="context_overflow") == 1
    fast = router.models()["fast-ls"]
    assert fast["healthy"] is True and fast["consecutive_failures"] == 0
    assert router.metric("octoroute_endpoint_up", endpoint="fast-ls") == 1


def test_a_prompt_that_cannot_fit_never_reaches_the_small_server(
        llama: LlamaServers, octoroute: StartOctoroute) -> None:
    router = octoroute(small_then_large(llama))
    # The health round reads the window from llama-server itself (/v1/models meta.n_ctx).
    wait_until(lambda: router.models()["fast-ls"].get("context_window") == SMALL_CTX, timeout=30,
               what="the small server's context window to be read")

    resp = requests.post(router.url + "/v1/chat/completions", json=overflow_body("fast", stream=False),
                         timeout=HTTP_TIMEOUT_S)

    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Octoroute-Endpoint"] == "balanced-ls"
    assert router.metric("octoroute_context_skips_total", endpoint="fast-ls") >= 1
    assert router.metric("octoroute_model_invocations_total", tier="fast") == 0
    assert router.metric("octoroute_context_escalations_total", from_tier="fast", to_tier="balanced") == 1


def test_no_window_anywhere_is_the_clients_400(llama: LlamaServers, octoroute: StartOctoroute) -> None:
    router = octoroute(one_server(llama.small))

    resp = requests.post(router.url + "/v1/chat/completions", json=overflow_body("fast", stream=False),
                         timeout=HTTP_TIMEOUT_S)

    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert (error["code"], error["param"]) == ("context_length_exceeded", "messages")
    assert router.models()["fast-ls"]["healthy"] is True
    assert router.models()["fast-ls"]["consecutive_failures"] == 0


def test_health_probes_never_wake_a_sleeping_server(llama: LlamaServers, octoroute: StartOctoroute) -> None:
    wait_until(lambda: is_sleeping(llama.sleepy), timeout=SLEEP_WAIT_S, what="the server to fall asleep")
    router = octoroute(one_server(llama.sleepy, interval_seconds=PROBE_INTERVAL_S))
    first = router.metric("octoroute_health_checks_total", endpoint="fast-ls")

    # Read is_sleeping continuously while Octoroute probes: a wake-up between two samples
    # would keep the server awake for SLEEP_IDLE_S, far longer than the gap between samples.
    samples: list[bool] = []  # is_sleeping, every 0.1 s
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            samples.append(is_sleeping(llama.sleepy))
            done.wait(0.1)
    watcher = threading.Thread(target=watch, name="sleep-watcher", daemon=True)
    watcher.start()
    try:
        wait_until(lambda: router.metric("octoroute_health_checks_total", endpoint="fast-ls")
                   >= first + PROBE_ROUNDS, timeout=60, what=f"{PROBE_ROUNDS} probe rounds")
    finally:
        done.set()
        watcher.join(10)

    assert router.metric("octoroute_health_checks_total", endpoint="fast-ls", result="fail") == 0
    assert len(samples) >= 10, "too few samples of is_sleeping: the test proves nothing"
    assert all(samples), f"a health probe woke the sleeping llama-server: is_sleeping {samples}"
    assert is_sleeping(llama.sleepy)


def test_control_a_generation_wakes_a_sleeping_server(llama: LlamaServers) -> None:
    # Proves the test above can fail: is_sleeping really flips when something wakes the server.
    wait_until(lambda: is_sleeping(llama.sleepy), timeout=SLEEP_WAIT_S, what="the server to fall asleep")

    resp = requests.post(llama.sleepy.base_url + "/chat/completions", timeout=HTTP_TIMEOUT_S,
                         json={"model": MODEL_NAME, "max_tokens": 4,
                               "messages": [{"role": "user", "content": "Hi."}]})

    assert resp.status_code == 200, resp.text
    assert not is_sleeping(llama.sleepy)
