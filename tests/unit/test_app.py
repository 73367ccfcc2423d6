"""Fast in-process tests of the WSGI app with ``falcon.testing.TestClient``.

No server socket on Octoroute's side; backends, where a request reaches one,
are the same fake OpenAI servers the integration tests use.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from falcon import testing

from fakes import endpoint, make_config, refused_url


@pytest.fixture
def client(trio: SimpleNamespace, runtime_factory: Any) -> testing.TestClient:
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                         server={"max_body_bytes": 4096})
    return testing.TestClient(runtime_factory(config).app)


def error_of(result: testing.Result, status: int) -> dict[str, Any]:
    assert result.status_code == status, result.text
    err = result.json["error"]
    assert err["message"] and err["type"]
    assert err["request_id"] == result.headers["X-Request-ID"]
    return err


def test_health_is_plain_ok(client):
    result = client.simulate_get("/health")
    assert result.status_code == 200
    assert result.text == "OK"
    assert result.headers["Content-Type"].startswith("text/plain")
    assert client.simulate_head("/health").status_code == 200


def test_models_shape_without_contacting_backends(trio, client):
    result = client.simulate_get("/models")
    assert result.status_code == 200
    models = result.json["models"]
    assert [(m["id"], m["tier"]) for m in models] == [
        ("fast-1", "fast"), ("balanced-1", "balanced"), ("deep-1", "deep")]
    assert models[0]["endpoint"] == trio.fast.base_url
    assert models[0]["name"] == "fast-1-model"
    assert trio.fast.received == []  # /models reads the registry; it never probes


def test_metrics_is_prometheus_text_with_initialised_series(client):
    result = client.simulate_get("/metrics")
    assert result.status_code == 200
    assert result.headers["Content-Type"].startswith("text/plain")
    text = result.text
    for series in ('octoroute_requests_total{strategy="rule",tier="fast"} 0.0',
                   'octoroute_model_invocations_total{tier="deep"} 0.0',
                   'octoroute_endpoint_up{endpoint="balanced-1",tier="balanced"} 1.0',
                   "octoroute_routing_duration_ms_bucket"):
        assert series in text


def test_chat_in_process(trio, client):
    result = client.simulate_post("/chat", json={"prompt": "hi there"})
    assert result.status_code == 200, result.text
    assert result.json["endpoint"] == "fast-1"
    assert result.headers["X-Octoroute-Tier"] == "fast"
    assert result.headers["X-Octoroute-Endpoint"] == "fast-1"


def test_trailing_slash_is_tolerated(client):
    assert client.simulate_post("/chat/", json={"prompt": "hi there"}).status_code == 200


@pytest.mark.parametrize(("body", "param", "words"), [
    ({"prompt": "hi", "imporance": "high"}, "imporance", "importance"),
    ({}, "prompt", "required"),
    ({"prompt": "   \n "}, "prompt", "blank"),
    ({"prompt": 42}, "prompt", "string"),
    ({"prompt": "hi", "temperature": 2.5}, "temperature", "2"),
    ({"prompt": "hi", "max_tokens": 0}, "max_tokens", "1"),
    ({"prompt": "hi", "importance": "urgent"}, "importance", "high"),
    ({"prompt": "hi", "task_type": "poetry"}, "task_type", "creative_writing"),
    ({"prompt": "p" * 100_001}, "prompt", "100000"),
])
def test_validation_errors_are_400_naming_the_field(trio, runtime_factory, body, param, words):
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]})
    client = testing.TestClient(runtime_factory(config).app)
    err = error_of(client.simulate_post("/chat", json=body), 400)
    assert err["param"] == param
    assert words in err["message"]
    assert trio.fast.received == [] and trio.balanced.received == [] and trio.deep.received == []


@pytest.mark.parametrize("raw", [b"{nope", b"[1, 2]", b'"just a string"', b"", b"   ",
                                 b'{"prompt": NaN}', b'{"prompt": "hi", "temperature": 1e999}',
                                 b"\xff\xfe{", b"[" * 2000 + b"]" * 2000])
def test_bad_json_bodies_are_400(client, raw):
    result = client.simulate_post("/chat", body=raw, headers={"Content-Type": "application/json"})
    error_of(result, 400)


def test_deep_nesting_within_the_size_limit_is_400(trio, runtime_factory):
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]})
    client = testing.TestClient(runtime_factory(config).app)
    raw = b'{"prompt": "hi", "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    error_of(client.simulate_post("/chat", body=raw, headers={"Content-Type": "application/json"}), 400)


@pytest.mark.parametrize(("ctype", "raw", "status"), [
    ("text/plain", b'{"prompt": "hi there"}', 415),
    ("multipart/form-data; boundary=x", b'{"prompt": "hi there"}', 415),
    ("application/x-www-form-urlencoded", b"prompt=hi+there", 415),
    ("application/x-www-form-urlencoded", b'{"prompt": "hi there"}', 200),
    ("application/json; charset=utf-8", b'{"prompt": "hi there"}', 200),
    ("application/vnd.api+json", b'{"prompt": "hi there"}', 200),
])
def test_content_types(client, ctype, raw, status):
    result = client.simulate_post("/chat", body=raw, headers={"Content-Type": ctype})
    if status == 200:
        assert result.status_code == 200, result.text
    else:
        error_of(result, status)


def test_body_over_the_limit_is_413_from_the_app(client):
    err = error_of(client.simulate_post("/chat", body=json.dumps({"prompt": "p" * 5000}),
                                        headers={"Content-Type": "application/json"}), 413)
    assert "4096" in err["message"]


def test_unknown_route_and_method_are_json(client):
    error_of(client.simulate_get("/v2/everything"), 404)
    result = client.simulate_delete("/models")
    error_of(result, 405)
    assert "GET" in result.headers["Allow"]


def test_upstream_failure_is_json_in_process(runtime_factory):
    down = [endpoint(refused_url(), id=f"{t}-down") for t in ("fast", "balanced", "deep")]
    config = make_config({"fast": [down[0]], "balanced": [down[1]], "deep": [down[2]]})
    client = testing.TestClient(runtime_factory(config).app)
    err = error_of(client.simulate_post("/chat", json={"prompt": "hi there"}), 502)
    assert [a["endpoint"] for a in err["attempts"]] == ["fast-down", "balanced-down", "deep-down"]
    assert all(a["outcome"] == "connect_error" for a in err["attempts"])
