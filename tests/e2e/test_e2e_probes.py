"""Health probes must never cut a user's stream.

llama-cpp-python's server, by default (``interrupt_requests`` on), aborts a
running stream as soon as any other request reaches it: the stream stops
early, with ``data: [DONE]`` but no ``finish_reason``. Server C here runs
with that default. The control test shows the hazard is real on this build;
the next one shows that Octoroute, probing every 0.2 s, leaves a 200-token
stream alone because the endpoint is serving it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from e2e_support import (
    HTTP_TIMEOUT_S,
    MODEL_NAME,
    LlamaServer,
    Octoroute,
    Servers,
    StreamResult,
    endpoint,
    free_port,
    main_config,
    metric_value,
    read_stream,
    wait_until,
)

pytestmark = pytest.mark.e2e

StartOctoroute = Callable[[dict[str, Any]], Octoroute]
LONG_TOKENS = 200  # tokens: a stream of ~10-20 s on a 2-core box
PROBE_INTERVAL_S = 0.2  # seconds: dozens of probe rounds during one long stream
STORY = [{"role": "user", "content": "Write a long story about a dragon who learns to cook. "
                                     "Use at least five paragraphs."}]


@pytest.fixture(scope="module")
def server_c(llm_installed: None) -> Iterator[LlamaServer]:
    """A server with llama-cpp-python's default: interrupt_requests on."""
    server = LlamaServer(f"e2e{os.getpid()}-c", free_port(), args=()).start()
    try:
        yield server
    finally:
        server.stop()


def long_stream(url: str, model: str, on_chunk: Callable[[int], None] | None = None) -> StreamResult:
    # Temperature 0: this prompt then runs to max_tokens every time (no early stop).
    body = {"model": model, "stream": True, "max_tokens": LONG_TOKENS, "temperature": 0,
            "messages": STORY}
    with requests.post(url + "/chat/completions", json=body, stream=True, timeout=HTTP_TIMEOUT_S) as resp:
        assert resp.status_code == 200, resp.text
        return read_stream(resp, on_chunk)


def test_control_the_server_cuts_a_stream_when_another_request_arrives(server_c: LlamaServer) -> None:
    def probe_once(n: int) -> None:
        if n == 3:
            threading.Thread(target=requests.get, args=(server_c.base_url + "/models",),
                             kwargs={"timeout": HTTP_TIMEOUT_S}, daemon=True).start()

    cut = long_stream(server_c.base_url, MODEL_NAME, on_chunk=probe_once)

    assert cut.finish_reason is None, "this llama-cpp-python no longer interrupts: the test below proves less"
    assert len(cut.chunks) < LONG_TOKENS


def probe_config(servers: Servers, server_c: LlamaServer, *, share_c: bool) -> dict[str, Any]:
    config = main_config(servers, strategy="rule", health={"interval_seconds": PROBE_INTERVAL_S})
    config["models"] = {
        "fast": [endpoint("fast-c", server_c) if share_c else endpoint("fast-a", servers.a)],
        "balanced": [endpoint("balanced-a", servers.a)],
        "deep": [endpoint("deep-c", server_c, max_tokens=256)],
    }
    return config


def stream_while_probing(router: Octoroute, watched: str) -> tuple[StreamResult, list[tuple[float, float]]]:
    """Stream from deep-c; sample the probe counters of deep-c and ``watched`` during the stream."""
    samples: list[tuple[float, float]] = []
    last = [0.0]

    def sample(n: int) -> None:
        if n == 1 or time.monotonic() - last[0] > 1.0:
            last[0] = time.monotonic()
            text = router.metrics()
            samples.append((metric_value(text, "octoroute_health_checks_total", endpoint="deep-c"),
                            metric_value(text, "octoroute_health_checks_total", endpoint=watched)))

    result = long_stream(router.url + "/v1", "deep", on_chunk=sample)
    return result, samples


def assert_whole(result: StreamResult) -> None:
    assert result.after_done == [], f"events after data: [DONE]: {result.after_done}"
    assert result.broken is None, result.broken
    assert result.errors == []
    assert result.done, "no data: [DONE]"
    assert result.finish_reason in ("length", "stop"), (
        f"the stream was cut after {len(result.chunks)} chunks: no finish_reason")


def test_health_probes_never_cut_a_stream(servers: Servers, server_c: LlamaServer,
                                          octoroute: StartOctoroute) -> None:
    router = octoroute(probe_config(servers, server_c, share_c=False))
    wait_until(lambda: router.metric("octoroute_health_checks_total", endpoint="deep-c") >= 1,
               timeout=10, what="the first probe of deep-c")

    result, samples = stream_while_probing(router, watched="fast-a")

    assert_whole(result)
    (c_first, a_first), (c_last, a_last) = samples[0], samples[-1]
    assert a_last - a_first >= 3, "no probe rounds during the stream: it proves nothing"
    assert c_last == c_first, "deep-c was probed while it was streaming"
    wait_until(lambda: router.metric("octoroute_streams_total", outcome="completed") == 1,
               timeout=10, what="the stream to be counted as completed")
    assert router.metric("octoroute_stream_interruptions_total") == 0


def test_health_probes_never_cut_a_stream_on_a_server_shared_by_two_endpoints(
        servers: Servers, server_c: LlamaServer, octoroute: StartOctoroute) -> None:
    router = octoroute(probe_config(servers, server_c, share_c=True))
    wait_until(lambda: router.metric("octoroute_health_checks_total", endpoint="deep-c") >= 1,
               timeout=10, what="the first probe of deep-c")

    result, _ = stream_while_probing(router, watched="fast-c")

    assert_whole(result)


def test_a_stream_the_backend_cuts_sends_nothing_after_done(servers: Servers, server_c: LlamaServer,
                                                            octoroute: StartOctoroute) -> None:
    # Another client of the same llama.cpp server (not Octoroute) cuts our stream: llama-cpp-python
    # then sends data: [DONE] and drops the connection without ending the chunked body.
    router = octoroute(probe_config(servers, server_c, share_c=False))

    def other_client(n: int) -> None:
        if n == 3:
            threading.Thread(target=requests.get, args=(server_c.base_url + "/models",),
                             kwargs={"timeout": HTTP_TIMEOUT_S}, daemon=True).start()

    result = long_stream(router.url + "/v1", "deep", on_chunk=other_client)

    assert result.done
    assert result.finish_reason is None  # cut short: only the client can tell
    assert result.after_done == [], f"events after data: [DONE]: {result.after_done}"
    assert result.broken is None and result.errors == []
    wait_until(lambda: router.metric("octoroute_streams_total", outcome="completed") == 1,
               timeout=10, what="the stream to be counted")
    assert router.metric("octoroute_stream_interruptions_total") == 0


def test_a_busy_shared_server_is_not_marked_failing(servers: Servers, octoroute: StartOctoroute) -> None:
    config = main_config(servers, strategy="rule",
                         health={"interval_seconds": 0.5, "timeout_seconds": 1.0, "unhealthy_after": 2})
    config["models"]["balanced"] = [endpoint("balanced-a", servers.a, max_tokens=256)]
    router = octoroute(config)
    wait_until(lambda: router.metric("octoroute_health_checks_total", endpoint="fast-a") >= 1,
               timeout=10, what="the first probe of fast-a")

    # A non-streamed 200-token answer keeps server A busy for several probe timeouts.
    resp = requests.post(router.url + "/v1/chat/completions", timeout=HTTP_TIMEOUT_S, json={
        "model": "balanced", "max_tokens": LONG_TOKENS, "messages": STORY})
    assert resp.status_code == 200, resp.text

    assert router.metric("octoroute_health_checks_total", endpoint="fast-a", result="fail") == 0
    assert router.metric("octoroute_endpoint_up", endpoint="fast-a") == 1
