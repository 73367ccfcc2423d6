"""Discovery through the running router (waitress, real sockets, fake servers of each kind).

The model must exist (a misspelt name stays out, with the fix, and never
flaps), ``octoroute check`` says what to write instead, a request that cannot
fit a context window never reaches that endpoint, and each server's overflow
answer moves the request to a larger window without touching health.
Health rounds are driven with ``check_once()`` and an injected clock.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from octoroute import cli
from octoroute.config import Config

from fake_servers import KindServer, long_prompt
from fakes import ManualClock, endpoint, make_config

INTERVAL_S = 60.0  # the test configs' health interval




@pytest.fixture
def kind_server(_fakes: Any) -> Callable[..., KindServer]:
    """Factory: a started ``KindServer``, released and stopped with the other fakes."""
    def start(name: str, kind: str, **kwargs: Any) -> KindServer:
        server = KindServer(name, kind, **kwargs).start()
        _fakes.started.append(server)
        return server
    return start


def three_tiers(fast: list[Any], balanced: list[Any], deep: list[Any], **sections: Any) -> Config:
    return make_config({"fast": fast, "balanced": balanced, "deep": deep}, **sections)


# --- the model must exist -------------------------------------------------------

def test_misspelt_model_stays_unhealthy_with_the_fix_and_never_flaps(
        kind_server: Callable[..., KindServer], serve: Any, logwatch: Any) -> None:
    ollama = kind_server("fast-ollama", "ollama", model="qwen3:8b", models=["qwen3:8b", "llama3.2:latest"])
    balanced = kind_server("balanced-1", "vllm")
    deep = kind_server("deep-1", "vllm")
    clock = ManualClock()
    live = serve(three_tiers([endpoint(ollama, name="qwen3:8B")], [balanced], [deep]), clock=clock)
    reason = 'model "qwen3:8B" not served here; did you mean "qwen3:8b"?'
    for _ in range(5):
        live.runtime.health.check_once()
        item = live.models()["fast-ollama"]
        assert item["healthy"] is False and item["last_error"] == reason
        assert (item["kind"], item["model_found"], item["suggestion"]) == ("ollama", False, "qwen3:8b")
        assert live.metric("octoroute_endpoint_up", endpoint="fast-ollama", tier="fast") == 0
        clock.advance(INTERVAL_S + 1)
    transitions = [r for r in logwatch.records if "fast-ollama" in r.getMessage()
                   and ("marked unhealthy" in r.getMessage() or "healthy again" in r.getMessage())]
    assert len(transitions) == 1, [r.getMessage() for r in transitions]  # down once, never back up

    resp = live.chat("hi there!")  # the rules route a greeting to fast; fast cannot serve it
    assert resp.status_code == 200, resp.text
    assert resp.json()["tier"] != "fast"
    assert ollama.chats() == []

    ollama.models.append("qwen3:8B")  # the user pulls the model under the configured name
    live.runtime.health.check_once()
    item = live.models()["fast-ollama"]
    assert item["healthy"] is True and item["model_found"] is True and item["last_error"] is None


def test_an_answer_from_a_server_without_the_model_does_not_heal_it(
        kind_server: Callable[..., KindServer], serve: Any) -> None:
    lcp = kind_server("fast-lcp", "llama-cpp-python", model="qwen-default")
    balanced = kind_server("balanced-1", "vllm")
    deep = kind_server("deep-1", "vllm")
    clock = ManualClock()
    live = serve(three_tiers([endpoint(lcp, name="qwen3-8b")], [balanced], [deep]), clock=clock)
    live.runtime.health.check_once()
    assert live.models()["fast-lcp"]["healthy"] is False
    # Asked by its id, llama-cpp-python answers with its default model: a success that proves nothing.
    resp = live.chat("hello", model="fast-lcp")
    assert resp.status_code == 200, resp.text
    item = live.models()["fast-lcp"]
    assert item["healthy"] is False and "not served here" in item["last_error"]


def test_check_exits_1_with_the_fix_for_a_misspelt_model(
        kind_server: Callable[..., KindServer], tmp_path: Path, capsys: Any) -> None:
    ollama = kind_server("o", "ollama", model="qwen3:8b")
    lms = kind_server("l", "lmstudio", model="qwen/qwen3-30b")
    vllm = kind_server("v", "vllm", model="openai/gpt-oss-120b")
    cfg = tmp_path / "router.toml"
    cfg.write_text(f'''
[health]
timeout_seconds = 2

[[models.fast]]
id = "fast-1"
name = "qwen3:8B"
base_url = "{ollama.base_url}"
max_tokens = 256

[[models.balanced]]
id = "balanced-1"
name = "qwen/qwen3-30b"
base_url = "{lms.base_url}"
max_tokens = 256

[[models.deep]]
id = "deep-1"
name = "openai/gpt-oss-120b"
base_url = "{vllm.base_url}"
max_tokens = 256
''', encoding="utf-8")
    assert cli.main(["check", "--config", str(cfg)]) == 1
    out = capsys.readouterr().out
    lines = {line.split()[1]: line for line in out.splitlines()
             if line.split()[:1] in (["fast"], ["balanced"], ["deep"])}
    assert "ollama" in lines["fast-1"] and "MISSING" in lines["fast-1"]
    assert "lmstudio" in lines["balanced-1"] and "found" in lines["balanced-1"]
    assert "vllm" in lines["deep-1"] and "found" in lines["deep-1"]
    assert "3/3 endpoints reachable" in out
    assert ('fast-1: model "qwen3:8B" not served here; did you mean "qwen3:8b"? Write name = "qwen3:8b" in '
            'the [[models.fast]] entry with id = "fast-1"') in out
    assert ollama.chats() == [] and lms.chats() == [] and vllm.chats() == []


# --- context windows ------------------------------------------------------------

@pytest.mark.parametrize("kind", ["llamacpp", "ollama", "lmstudio", "vllm"])
def test_a_request_too_long_for_an_endpoint_never_reaches_it(
        kind_server: Callable[..., KindServer], serve: Any, kind: str) -> None:
    small = kind_server("fast-small", kind, context_window=2048)
    big = kind_server("balanced-big", "vllm", context_window=131072)
    deep = kind_server("deep-1", "vllm", context_window=131072)
    live = serve(three_tiers([small], [big], [deep]))
    live.runtime.health.check_once()
    assert live.models()["fast-small"]["context_window"] == 2048  # the server said so

    resp = live.chat(long_prompt(12000), model="fast")  # about 3000 tokens by the estimate
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["endpoint"] == "balanced-big"
    assert any("context window" in w for w in body["warnings"]), body["warnings"]  # /chat: in the body
    assert small.chats() == []
    assert live.metric("octoroute_context_skips_total", endpoint="fast-small") == 1
    assert live.metric("octoroute_context_escalations_total", from_tier="fast", to_tier="balanced") == 1
    assert live.models()["fast-small"]["consecutive_failures"] == 0

    short = live.chat("hello", model="fast")  # what fits still goes to the small endpoint
    assert short.status_code == 200 and short.json()["endpoint"] == "fast-small"


def test_a_configured_window_counts_without_asking(
        kind_server: Callable[..., KindServer], serve: Any) -> None:
    small = kind_server("fast-small", "llama-cpp-python")  # says nothing of its window
    big = kind_server("balanced-big", "vllm", context_window=131072)
    deep = kind_server("deep-1", "vllm", context_window=131072)
    live = serve(three_tiers([endpoint(small, context_window=1024)], [big], [deep]))
    resp = live.post("/v1/chat/completions", json={
        "model": "fast", "max_tokens": 64, "messages": [{"role": "user", "content": long_prompt(8000)}]})
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Octoroute-Endpoint"] == "balanced-big"
    assert small.chats() == []


def test_when_no_window_is_large_enough_the_client_gets_a_400(
        kind_server: Callable[..., KindServer], serve: Any) -> None:
    servers = [kind_server(f"{t}-small", "vllm", context_window=1024) for t in ("fast", "balanced", "deep")]
    live = serve(three_tiers([servers[0]], [servers[1]], [servers[2]]))
    live.runtime.health.check_once()
    resp = live.post("/v1/chat/completions", json={
        "model": "fast", "messages": [{"role": "user", "content": long_prompt(20000)}]})
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "context_length_exceeded" and error["param"] == "messages"
    assert "largest window is 1024 tokens" in error["message"]
    assert all(s.chats() == [] for s in servers)


@pytest.mark.parametrize(("kind", "streamed"), [
    ("llamacpp", False), ("llamacpp", True), ("llama-cpp-python", False), ("llama-cpp-python", True),
    ("vllm", False), ("vllm", True), ("lmstudio", False), ("lmstudio", True)])
def test_an_overflow_moves_to_a_larger_window_without_a_health_penalty(
        kind_server: Callable[..., KindServer], serve: Any, kind: str, streamed: bool) -> None:
    # The small server counts a token a character; Octoroute's first estimate is a quarter of
    # that, so the request looks like it fits and the server's own overflow answer must move it.
    small = kind_server("fast-small", kind, context_window=1000, advertise_window=False)
    big = kind_server("balanced-big", "vllm", context_window=131072)
    deep = kind_server("deep-1", "vllm", context_window=131072)
    live = serve(three_tiers([small], [big], [deep], health={"unhealthy_after": 1}))
    live.runtime.health.check_once()  # detects the kinds (llama-cpp-python's empty stream needs it)
    resp = live.post("/v1/chat/completions", stream=streamed, json={
        "model": "fast", "stream": streamed, "messages": [{"role": "user", "content": long_prompt(3000)}]})
    assert resp.status_code == 200, resp.text
    assert "answer from balanced-big" in resp.text
    assert resp.headers["X-Octoroute-Endpoint"] == "balanced-big"
    assert "context window" in resp.headers.get("X-Octoroute-Warnings", "")
    assert len(small.chats()) == 1
    item = live.models()["fast-small"]
    assert item["healthy"] is True and item["consecutive_failures"] == 0 and item["last_error"] is None
    assert live.metric("octoroute_context_overflows_total", endpoint="fast-small") == 1
    assert live.metric("octoroute_endpoint_requests_total", endpoint="fast-small", tier="fast",
                       outcome="context_overflow") == 1

    again = live.post("/v1/chat/completions", json={  # the window the overflow taught is remembered
        "model": "fast", "messages": [{"role": "user", "content": long_prompt(3000)}]})
    assert again.status_code == 200 and again.headers["X-Octoroute-Endpoint"] == "balanced-big"
    if kind != "llama-cpp-python" or not streamed:
        assert len(small.chats()) == 1  # n_ctx came with the error: the small one is skipped now
