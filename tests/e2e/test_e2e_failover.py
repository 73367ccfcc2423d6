"""A real llama.cpp server dies (SIGKILL) mid-stream and comes back.

The stream it was serving must end with an error event. Octoroute must then
fail over at once (the request that hits the dead server is answered by the
other one), mark the dead server's endpoints unhealthy from its own probes,
route around them, and bring them back when the server returns; ``/models``
and ``/metrics`` must say so at every step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from e2e_support import (
    HTTP_TIMEOUT_S,
    Octoroute,
    Servers,
    main_config,
    metric_value,
    read_stream,
    wait_until,
)

pytestmark = pytest.mark.e2e

StartOctoroute = Callable[[dict[str, Any]], Octoroute]
HEALTH_WAIT_S = 30.0  # seconds; the health interval is 0.5 s and unhealthy_after 5
RESTART_WAIT_S = 60.0  # seconds; a restarted server loads the model, then the next probe sees it

B_ENDPOINTS = ("balanced-b", "deep-b")
A_ENDPOINTS = ("fast-a", "balanced-a")


def health(router: Octoroute) -> dict[str, bool]:
    return {id_: m["healthy"] for id_, m in router.models().items()}


def test_a_killed_server_fails_over_goes_unhealthy_and_recovers(servers: Servers,
                                                                 octoroute: StartOctoroute) -> None:
    # unhealthy_after 5 (2+ s of failed probes): the request right after the kill still finds
    # balanced-b healthy, so it really tries B first and fails over.
    config = main_config(servers, strategy="rule", health={"unhealthy_after": 5})
    config["models"]["balanced"][0]["max_tokens"] = 256  # balanced-b: room for a long stream
    router = octoroute(config)
    warm = router.chat("hello", model="balanced")
    assert (warm["endpoint"], warm["attempts"]) == ("balanced-b", 1)  # priority 2 goes first
    assert all(health(router).values())

    try:
        # 0. B dies mid-stream: the client gets one error event and no [DONE].
        def kill_b(n: int) -> None:
            if n == 3:
                servers.b.sigkill()
        body = {"model": "balanced", "stream": True, "max_tokens": 200, "temperature": 0,
                "messages": [{"role": "user", "content": "Write a long story about a lighthouse."}]}
        with requests.post(router.url + "/v1/chat/completions", json=body, stream=True,
                           timeout=HTTP_TIMEOUT_S) as resp:
            assert resp.headers["X-Octoroute-Endpoint"] == "balanced-b"
            cut = read_stream(resp, on_chunk=kill_b)
        assert not cut.done and cut.finish_reason is None
        assert len(cut.errors) == 1, cut.errors
        assert cut.errors[0]["error"]["code"] in ("stream_interrupted", "stream_incomplete")
        wait_until(lambda: router.metric("octoroute_stream_interruptions_total", endpoint="balanced-b") == 1,
                   timeout=10, what="the interruption to be counted")

        # 1. Failover: the next balanced request tries B first, fails to connect, is served by A.
        moved = router.chat("hello again", model="balanced")
        assert moved["endpoint"] == "balanced-a"
        b_state = router.models()["balanced-b"]
        assert moved["attempts"] == 2 or not b_state["healthy"], (moved, b_state)
        assert metric_value(router.metrics(), "octoroute_endpoint_requests_total",
                            endpoint="balanced-b", outcome="connect_error") >= 1 or not b_state["healthy"]

        # 2. The health thread marks B's endpoints unhealthy; A's stay healthy.
        wait_until(lambda: not any(health(router)[e] for e in B_ENDPOINTS), timeout=HEALTH_WAIT_S,
                   what="B's endpoints to be marked unhealthy")
        state = router.models()
        assert all(state[e]["healthy"] for e in A_ENDPOINTS), state
        assert state["deep-b"]["consecutive_failures"] >= 5
        assert "connection" in (state["deep-b"]["last_error"] or ""), state["deep-b"]
        metrics = router.metrics()
        for e in B_ENDPOINTS:
            assert metric_value(metrics, "octoroute_endpoint_up", endpoint=e) == 0
            assert metric_value(metrics, "octoroute_health_checks_total", endpoint=e, result="fail") >= 1
        for e in A_ENDPOINTS:
            assert metric_value(metrics, "octoroute_endpoint_up", endpoint=e) == 1

        # 3. While B is down, traffic avoids it: no attempt on the unhealthy endpoint,
        #    and a request routed to deep falls back to balanced on A with a warning.
        direct = router.chat("hello once more", model="balanced")
        assert (direct["endpoint"], direct["attempts"]) == ("balanced-a", 1)
        deep = router.chat("Analyse the trade-offs of microservices", task_type="deep_analysis")
        assert (deep["routed_tier"], deep["tier"], deep["endpoint"]) == ("deep", "balanced", "balanced-a")
        assert any("fell back to balanced" in w for w in deep["warnings"]), deep["warnings"]
        assert router.metric("octoroute_tier_fallbacks_total", from_tier="deep", to_tier="balanced") == 1
    finally:
        if not servers.b.alive():
            servers.b.start()  # the same name and port: later tests get B back either way

    # 4. Recovery: B answers probes again and both endpoints are healthy.
    wait_until(lambda: all(health(router).values()), timeout=RESTART_WAIT_S,
               what="B's endpoints to be healthy again")
    metrics = router.metrics()
    for e in B_ENDPOINTS:
        assert metric_value(metrics, "octoroute_endpoint_up", endpoint=e) == 1
    back = router.chat("welcome back", model="balanced")
    assert (back["endpoint"], back["attempts"]) == ("balanced-b", 1)
    assert metric_value(router.metrics(), "octoroute_endpoint_requests_total",
                        endpoint="balanced-b", outcome="success") >= 2
