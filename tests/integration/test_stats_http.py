"""``/stats``, ``/stats/decisions`` and token accounting through waitress with fake backends.

The token counts Octoroute reports must equal what the backends said in
their ``usage``, exactly, over streamed and whole answers on both APIs; a
client that did not ask for the stream's usage chunk never sees it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from fakes import (
    Behaviour,
    Exchange,
    FakeBackend,
    answer,
    completion,
    delta_events,
    endpoint,
    error,
    make_config,
    sample,
    sse_event,
    stream,
)

KEYS_ENV = "TEST_STATS_KEYS"
KEY = "sk-stats-test"
TIERS = ("fast", "balanced", "deep")


def usage_answer(prompt_tokens: int, completion_tokens: int) -> Behaviour:
    """A whole completion whose usage says these figures."""
    def run(ex: Exchange) -> None:
        body = completion("m", {"role": "assistant", "content": "an answer"}, completion_tokens)
        body["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                         "total_tokens": prompt_tokens + completion_tokens}
        ex.send_json(200, body)
    return run


def usage_chunk(prompt_tokens: int, completion_tokens: int) -> bytes:
    return sse_event({"id": "s", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": [],
                      "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                "total_tokens": prompt_tokens + completion_tokens}})


def usage_stream(prompt_tokens: int, completion_tokens: int) -> Behaviour:
    """A streamed answer ending with the usage-only chunk, as llama.cpp and vLLM send when asked."""
    return stream([*delta_events(["Hel", "lo"]), usage_chunk(prompt_tokens, completion_tokens)])


def stream_chat(live: Any, model: str, *, include_usage: bool | None = None,
                headers: dict[str, str] | None = None) -> requests.Response:
    body: dict[str, Any] = {"model": model, "stream": True,
                            "messages": [{"role": "user", "content": "hi there"}]}
    if include_usage is not None:
        body["stream_options"] = {"include_usage": include_usage}
    resp = live.post("/v1/chat/completions", json=body, headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.content.endswith(b"data: [DONE]\n\n")
    return resp


def get_stats(live: Any, **kwargs: Any) -> dict[str, Any]:
    live.settle()  # a stream is recorded when it closes, after the client has its last byte
    resp = live.get("/stats", **kwargs)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


@pytest.fixture
def config_for(trio: SimpleNamespace) -> Callable[..., Any]:
    def build(**sections: Any) -> Any:
        return make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                           **sections)
    return build


def test_token_counts_equal_the_backends_usage_over_streamed_and_whole_answers(
        trio: SimpleNamespace, serve: Any, config_for: Callable[..., Any]) -> None:
    live = serve(config_for())
    rng = random.Random(17)
    expected = {f"{t}-1": [0, 0] for t in TIERS}
    for i in range(24):
        tier = TIERS[i % 3]
        p, c = rng.randrange(1, 5000), rng.randrange(0, 3000)
        expected[f"{tier}-1"][0] += p
        expected[f"{tier}-1"][1] += c
        backend: FakeBackend = getattr(trio, tier)
        kind = i % 4
        if kind == 0:  # /chat
            backend.enqueue(usage_answer(p, c))
            resp = live.chat("hello there", model=tier)
        elif kind == 1:  # /v1, whole
            backend.enqueue(usage_answer(p, c))
            resp = live.post("/v1/chat/completions",
                             json={"model": tier, "messages": [{"role": "user", "content": "hi"}]})
        else:  # /v1, streamed: the client asked for usage, or not
            backend.enqueue(usage_stream(p, c))
            resp = stream_chat(live, tier, include_usage=True if kind == 2 else None)
        assert resp.status_code == 200, resp.text
    total = get_stats(live)["windows"]["total"]
    for endpoint_id, (tokens_in, tokens_out) in expected.items():
        got = total["by_endpoint"][endpoint_id]
        assert (got["tokens_in"], got["tokens_out"]) == (tokens_in, tokens_out), endpoint_id
    assert total["tokens_in"] == sum(v[0] for v in expected.values())
    assert total["tokens_out"] == sum(v[1] for v in expected.values())
    assert (total["tokens_estimated"], total["requests"], total["errors"]) == (0, 24, 0)
    metrics = live.metrics_text()
    for endpoint_id, (tokens_in, tokens_out) in expected.items():
        assert sample(metrics, "octoroute_tokens_total", endpoint=endpoint_id, direction="in") == tokens_in
        assert sample(metrics, "octoroute_tokens_total", endpoint=endpoint_id, direction="out") == tokens_out
    compute = sum((v[0] + v[1]) * size for v, size in zip(expected.values(), (8, 30, 120), strict=True))
    assert total["compute_units"] == pytest.approx(compute)
    assert sample(metrics, "octoroute_compute_saved_ratio") == pytest.approx(total["saved_ratio"], abs=1e-4)


def test_a_client_that_did_not_ask_never_sees_the_usage_chunk(
        trio: SimpleNamespace, serve: Any, config_for: Callable[..., Any]) -> None:
    live = serve(config_for())
    trio.fast.enqueue(usage_stream(11, 22))
    resp = stream_chat(live, "fast")
    assert b'"usage"' not in resp.content and b"Hello" not in resp.content  # deltas Hel + lo
    assert b'"Hel"' in resp.content and b'"lo"' in resp.content
    sent = trio.fast.chats()[-1].json
    assert sent["stream_options"] == {"include_usage": True}
    trio.fast.enqueue(usage_stream(11, 22))
    resp = stream_chat(live, "fast", include_usage=False)  # asked not to: the same
    assert b'"usage"' not in resp.content


def test_a_client_that_asked_sees_the_usage_chunk_through_the_sdk(
        trio: SimpleNamespace, serve: Any, config_for: Callable[..., Any]) -> None:
    live = serve(config_for())
    trio.fast.enqueue(usage_stream(11, 22))
    chunks = list(live.openai().chat.completions.create(
        model="fast", messages=[{"role": "user", "content": "hi"}], stream=True,
        stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == 11
    assert chunks[-1].usage.completion_tokens == 22
    sent = trio.fast.chats()[-1].json
    assert sent["stream_options"] == {"include_usage": True}


def test_without_usage_tokens_are_estimated_and_flagged(
        trio: SimpleNamespace, serve: Any, config_for: Callable[..., Any]) -> None:
    live = serve(config_for())
    trio.fast.enqueue(answer("x" * 40, tokens=None))
    assert live.chat("y" * 16, model="fast").status_code == 200
    trio.fast.enqueue(stream(delta_events(["abcd", "efgh"])))  # a backend that ignores include_usage
    stream_chat(live, "fast")
    stats = get_stats(live)
    total = stats["windows"]["total"]
    # in: 16 / 4, and "hi there" (8) / 4; out: 40 / 4, and 8 / 4
    assert (total["tokens_in"], total["tokens_out"]) == (4 + 2, 10 + 2)
    assert total["tokens_estimated"] == total["tokens_in"] + total["tokens_out"]
    decisions = live.get("/stats/decisions").json()["decisions"]
    assert [d["estimated"] for d in decisions] == [True, True]
    assert [d["stream"] for d in decisions] == [True, False]
    assert decisions[0]["ttft_ms"] is not None and decisions[1]["ttft_ms"] is None


def test_a_fallback_is_counted_with_its_reason(
        trio: SimpleNamespace, serve: Any, config_for: Callable[..., Any]) -> None:
    trio.deep.chat_default = error(500)
    live = serve(config_for(routing={"rules": [{"name": "pin", "tier": "deep"}]}))
    assert live.chat("what is the capital of France?").status_code == 200
    stats = get_stats(live)
    total = stats["windows"]["total"]
    assert total["fallbacks"] == {"tier_fallback:http_error": 1}
    assert total["by_endpoint"]["deep-1"]["errors"] == 1 and total["by_tier"]["balanced"]["requests"] == 1
    decision = live.get("/stats/decisions?limit=1").json()["decisions"][0]
    assert (decision["routed_tier"], decision["tier"], decision["fallback"], decision["rule"]) == (
        "deep", "balanced", "tier_fallback:http_error", "pin")
    assert stats["series"]["points"][-1]["requests"]["balanced"] == 1


def test_a_failed_request_is_an_error_of_its_routed_tier(
        trio: SimpleNamespace, serve: Any, config_for: Callable[..., Any]) -> None:
    trio.deep.chat_default = error(500)
    live = serve(config_for())
    assert live.chat("hello", model="deep").status_code == 502
    total = get_stats(live)["windows"]["total"]
    assert (total["requests"], total["errors"], total["by_tier"]["deep"]["errors"]) == (1, 1, 1)
    assert live.get("/stats/decisions").json()["decisions"][0]["status"] == 502


def test_health_shows_each_endpoint(trio: SimpleNamespace, serve: Any,
                                    config_for: Callable[..., Any]) -> None:
    live = serve(config_for(health={"unhealthy_after": 1}))
    trio.deep.probe_default = error(503)
    live.runtime.health.check_once()
    health = {h["id"]: h for h in get_stats(live)["health"]}
    assert set(health) == {"fast-1", "balanced-1", "deep-1"}
    assert health["fast-1"]["healthy"] and not health["deep-1"]["healthy"]
    assert [p["healthy"] for p in health["deep-1"]["timeline"]] == [True, False]
    assert health["deep-1"]["last_error"] and health["deep-1"]["tier"] == "deep"


def test_decisions_limit_is_validated_and_prompts_kept_only_when_configured(
        trio: SimpleNamespace, serve: Any, config_for: Callable[..., Any]) -> None:
    live = serve(config_for(observability={"decisions_kept": 3}))
    for bad in ("0", "10001", "ten", "-1"):
        resp = live.get(f"/stats/decisions?limit={bad}")
        assert resp.status_code == 400, resp.text
        assert resp.json()["error"]["param"] == "limit" and "1 to 10000" in resp.json()["error"]["message"]
    for _ in range(4):
        assert live.chat("secret words").status_code == 200
    assert len(live.get("/stats/decisions?limit=2").json()["decisions"]) == 2
    decisions = live.get("/stats/decisions?limit=10000").json()["decisions"]  # the ring holds 3
    assert len(decisions) == 3 and "prompt" not in decisions[0]
    assert "secret" not in live.get("/stats").text

    kept = serve(config_for(observability={"keep_prompts": True}))
    assert kept.chat("secret words").status_code == 200
    assert kept.get("/stats/decisions").json()["decisions"][0]["prompt"] == "secret words"


def test_metrics_has_no_created_series_and_stays_small(serve: Any, config_for: Callable[..., Any]) -> None:
    live = serve(config_for())
    for _ in range(3):
        assert live.chat("hi there").status_code == 200
    text = live.metrics_text()
    assert "_created" not in text
    assert len(text.encode()) < 32_000, len(text.encode())
    assert sample(text, "octoroute_tokens_total", endpoint="fast-1", direction="out") == 21


def test_stats_needs_the_api_key_when_keys_are_set(
        trio: SimpleNamespace, serve: Any, config_for: Callable[..., Any]) -> None:
    live = serve(config_for(server={"api_keys_env": KEYS_ENV}, observability={"metrics_public": True},
                            env={KEYS_ENV: KEY}))
    for path in ("/stats", "/stats/decisions"):
        resp = live.get(path)
        assert resp.status_code == 401, resp.text
        assert resp.json()["error"]["type"] == "authentication_error"
        assert live.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert live.get(path, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert live.get("/metrics").status_code == 200  # public /metrics does not open /stats
    assert json.loads(live.get("/stats", headers={"Authorization": f"Bearer {KEY}"}).text)["version"] == 1


def test_an_endpoint_without_usage_keys_still_counts_exactly(
        fake_backend: Callable[..., FakeBackend], serve: Any) -> None:
    """params_b given in the config drives compute; usage drives tokens."""
    fast = fake_backend("fast-1", chat=usage_answer(100, 50))
    others = [fake_backend(f"{t}-1") for t in ("balanced", "deep")]
    config = make_config({"fast": [endpoint(fast, params_b=4)], "balanced": [others[0]], "deep": [others[1]]})
    live = serve(config)
    assert live.chat("hi there").status_code == 200
    total = get_stats(live)["windows"]["total"]
    assert total["compute_units"] == 600 and total["compute_always_deep"] == 150 * 120
    assert total["saved_ratio"] == pytest.approx(1 - 600 / 18000, abs=1e-4)


def test_the_access_lines_carry_tokens_and_never_the_prompt(
        trio: SimpleNamespace, serve: Any, config_for: Callable[..., Any], logwatch: Any) -> None:
    live = serve(config_for())
    trio.fast.enqueue(usage_answer(13, 8))
    assert live.chat("a very secret prompt", model="fast").status_code == 200
    trio.fast.enqueue(usage_stream(21, 5))
    stream_chat(live, "fast")
    (request,) = [f for f in logwatch.fields("request", count=2) if f["path"] == "/chat"]
    assert (request["tokens_in"], request["tokens_out"]) == (13, 8) and "tokens_estimated" not in request
    (end,) = logwatch.fields("stream end")
    assert (end["tokens_in"], end["tokens_out"]) == (21, 5)
    live.get("/stats")
    live.settle()
    logged = [r.getMessage() + str(getattr(r, "fields", "")) for r in logwatch.records]
    assert not [line for line in logged if "secret" in line]
    assert not [f for f in (getattr(r, "fields", {}) for r in logwatch.records) if f.get("path") == "/stats"]
