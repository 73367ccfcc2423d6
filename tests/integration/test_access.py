"""Client API keys: who may use the GPUs, and what never leaks.

With ``server.api_keys_env`` set, ``/chat``, ``/v1/*`` and ``/models``
need ``Authorization: Bearer KEY`` (401 with ``WWW-Authenticate: Bearer``
otherwise); ``/health`` and ``/openapi.json`` stay open; ``/metrics`` is open
only with ``observability.metrics_public``. A variable that is unset or holds
no key makes ``octoroute serve`` refuse to start. The client's
``Authorization`` never reaches a backend, and no key or prompt text appears
in logs (DEBUG included), error bodies or metrics.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from fakes import FakeBackend, endpoint, error, make_config
from faultkit import (
    child_env,
    config_dict,
    free_port,
    octoroute_script,
    openai_like,
    rendered_logs,
    write_config,
)

KEYS_ENV = "OCTOROUTE_TEST_CLIENT_KEYS"
BACKEND_ENV = "OCTOROUTE_TEST_BACKEND_KEY"
KEYS = ("sk-client-alpha-7f3a9c", "sk-client-bravo-41d0e2", "sk-client-charlie-9b77aa")
BACKEND_KEY = "sk-backend-c0ffee-5150"
WRONG_KEY = "sk-client-wrong-000111"
PROMPT = "hi there, the secret phrase is PURPLE-OCTOPUS-4471"  # casual: routed to fast
SECRET_TEXTS = (*KEYS, BACKEND_KEY, WRONG_KEY, "PURPLE-OCTOPUS-4471")
PROTECTED = [("POST", "/chat"), ("POST", "/v1/chat/completions"), ("GET", "/v1/models"), ("GET", "/models")]
OPEN = [("GET", "/health"), ("GET", "/openapi.json")]


def body_for(path: str, *, stream: bool = False) -> dict[str, Any] | None:
    if path == "/chat":
        return {"prompt": PROMPT}
    if path == "/v1/chat/completions":
        return {"model": "auto", "stream": stream, "messages": [{"role": "user", "content": PROMPT}]}
    return None


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def backends(fake_backend: Callable[..., FakeBackend]) -> dict[str, FakeBackend]:
    return {name: fake_backend(name, chat=openai_like()) for name in ("fast-1", "balanced-1", "deep-1")}


@pytest.fixture
def protected(backends: dict[str, FakeBackend], serve: Any) -> Callable[..., Any]:
    """Factory: a live server with client keys (and a backend key on fast-1)."""
    def start(*, metrics_public: bool | None = None, keys: str = " , ".join(KEYS)) -> Any:
        env = {KEYS_ENV: keys, BACKEND_ENV: BACKEND_KEY}
        observability = {"metrics_public": metrics_public} if metrics_public is not None else None
        config = make_config({"fast": [endpoint(backends["fast-1"], api_key_env=BACKEND_ENV)],
                              "balanced": [backends["balanced-1"]], "deep": [backends["deep-1"]]},
                             server={"api_keys_env": KEYS_ENV}, observability=observability, env=env)
        return serve(config)
    return start


def assert_401(resp: requests.Response) -> dict[str, Any]:
    assert resp.status_code == 401, resp.text
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert resp.headers["Content-Type"].startswith("application/json")
    err = resp.json()["error"]
    assert err["type"] == "authentication_error" and err["code"] == "invalid_api_key"
    assert err["request_id"] == resp.headers["X-Request-ID"]
    for secret in SECRET_TEXTS:
        assert secret not in resp.text
    return dict(err)


BAD_AUTHORIZATION = {
    "missing": None,
    "empty": "",
    "wrong_key": f"Bearer {WRONG_KEY}",
    "wrong_scheme_basic": f"Basic {KEYS[0]}",
    "wrong_scheme_token": f"Token {KEYS[0]}",
    "scheme_only": "Bearer",
    "scheme_and_space": "Bearer ",
    "key_without_scheme": KEYS[0],
    "key_prefix": f"Bearer {KEYS[0][:-1]}",
    "key_with_suffix": f"Bearer {KEYS[0]}x",
    "two_keys_in_one": f"Bearer {KEYS[0]},{KEYS[1]}",
    "all_keys_joined": f"Bearer {' , '.join(KEYS)}",
}


@pytest.mark.parametrize("how", list(BAD_AUTHORIZATION))
def test_protected_routes_need_a_valid_bearer_key(how: str, protected: Callable[..., Any],
                                                  backends: dict[str, FakeBackend]) -> None:
    live = protected()
    value = BAD_AUTHORIZATION[how]
    headers = {} if value is None else {"Authorization": value}
    for method, path in PROTECTED:
        err = assert_401(live.request(method, path, json=body_for(path), headers=headers))
        assert "API key" in err["message"]
    assert all(not b.chats() for b in backends.values())  # nothing reached a GPU


@pytest.mark.parametrize("key", KEYS)
def test_every_configured_key_works(key: str, protected: Callable[..., Any]) -> None:
    live = protected()
    for method, path in PROTECTED:
        resp = live.request(method, path, json=body_for(path), headers=bearer(key))
        assert resp.status_code == 200, (path, resp.text)


def test_the_scheme_is_case_insensitive(protected: Callable[..., Any]) -> None:
    live = protected()
    resp = live.post("/chat", json=body_for("/chat"), headers={"Authorization": f"bearer {KEYS[1]}"})
    assert resp.status_code == 200, resp.text


def test_a_streamed_completion_needs_a_key_too(protected: Callable[..., Any]) -> None:
    live = protected()
    assert_401(live.post("/v1/chat/completions", json=body_for("/v1/chat/completions", stream=True)))
    resp = live.post("/v1/chat/completions", json=body_for("/v1/chat/completions", stream=True),
                     headers=bearer(KEYS[2]))
    assert resp.status_code == 200 and resp.text.rstrip().endswith("data: [DONE]"), resp.text


@pytest.mark.parametrize(("method", "path"), OPEN)
def test_health_and_openapi_stay_open(method: str, path: str, protected: Callable[..., Any]) -> None:
    live = protected()
    assert live.request(method, path).status_code == 200
    assert live.request(method, path, headers={"Authorization": f"Bearer {WRONG_KEY}"}).status_code == 200


def test_metrics_needs_a_key_unless_public(protected: Callable[..., Any]) -> None:
    live = protected()
    assert_401(live.get("/metrics"))
    assert_401(live.get("/metrics", headers=bearer(WRONG_KEY)))
    assert live.get("/metrics", headers=bearer(KEYS[0])).status_code == 200


@pytest.mark.parametrize("public", [False, True])
def test_metrics_public(public: bool, protected: Callable[..., Any]) -> None:
    live = protected(metrics_public=public)
    assert live.get("/metrics").status_code == (200 if public else 401)
    assert_401(live.get("/models"))  # metrics_public opens /metrics only


def test_without_api_keys_env_everything_is_open(backends: dict[str, FakeBackend], serve: Any) -> None:
    live = serve(make_config({"fast": [backends["fast-1"]], "balanced": [backends["balanced-1"]],
                              "deep": [backends["deep-1"]]}))
    for method, path in [*PROTECTED, ("GET", "/metrics")]:
        assert live.request(method, path, json=body_for(path)).status_code == 200, path


# --- refusing to run open by accident -------------------------------------------

@pytest.mark.parametrize("value", [None, "", " ", " , ,", ","], ids=["unset", "empty", "blank",
                                                                    "only_commas", "comma"])
def test_serve_refuses_to_start_without_keys(value: str | None, tmp_path: Path,
                                             backends: dict[str, FakeBackend]) -> None:
    cfg = write_config(tmp_path / "octoroute.toml", config_dict(
        {"fast": [backends["fast-1"]], "balanced": [backends["balanced-1"]], "deep": [backends["deep-1"]]},
        port=free_port(), server={"api_keys_env": KEYS_ENV}))
    env = child_env() if value is None else child_env(**{KEYS_ENV: value})
    done = subprocess.run([octoroute_script(), "serve", "--config", str(cfg)], env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "server.api_keys_env" in done.stderr and KEYS_ENV in done.stderr, done.stderr
    assert "refuses to run open" in done.stderr
    assert "Traceback" not in done.stderr and "listening on" not in done.stderr


# --- nothing forwarded, nothing leaked ---------------------------------------------

@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_client_authorization_is_never_forwarded(stream: bool, protected: Callable[..., Any],
                                                 backends: dict[str, FakeBackend]) -> None:
    live = protected()
    for model in ("fast", "balanced"):
        resp = live.post("/v1/chat/completions", headers=bearer(KEYS[0]),
                         json={**(body_for("/v1/chat/completions", stream=stream) or {}), "model": model})
        assert resp.status_code == 200, resp.text
    resp = live.post("/chat", headers=bearer(KEYS[1]), json={"prompt": PROMPT, "model": "balanced"})
    assert resp.status_code == 200, resp.text
    live.runtime.health.check_once(force=True)  # probes carry the backend key too
    fast = backends["fast-1"].received
    balanced = backends["balanced-1"].received
    assert fast and balanced
    assert {r.headers.get("authorization") for r in fast} == {f"Bearer {BACKEND_KEY}"}
    assert all("authorization" not in r.headers for r in balanced)
    for r in fast + balanced + backends["deep-1"].received:
        for key in KEYS:
            assert key not in r.body.decode("utf-8", "replace")
            assert all(key not in v for v in r.headers.values())


def test_no_key_or_prompt_in_logs_errors_or_metrics(protected: Callable[..., Any],
                                                    backends: dict[str, FakeBackend]) -> None:
    backends["deep-1"].chat_default = error(500, "deep is down")
    bodies: list[str] = []
    with rendered_logs(logger_name="") as out:  # the root logger, at DEBUG: every library too
        live = protected()
        for key in (*KEYS, WRONG_KEY):
            for method, path in PROTECTED:
                bodies.append(live.request(method, path, json=body_for(path), headers=bearer(key)).text)
        bodies.append(live.post("/chat", headers={"Authorization": f"Basic {KEYS[0]}"},
                                json={"prompt": PROMPT}).text)
        bodies.append(live.post("/chat", headers=bearer(KEYS[0]),
                                json={"prompt": PROMPT, "model": "deep"}).text)  # 502
        bodies.append(live.post("/chat", headers=bearer(KEYS[0]),
                                json={"prompt": PROMPT, "imporance": "high"}).text)  # 400
        bodies.append(live.post("/v1/chat/completions", headers=bearer(KEYS[0]),
                                json={"messages": [{"role": "user", "content": PROMPT}],
                                      "model": "nope"}).text)  # 404
        bodies.append(live.post("/v1/chat/completions",
                                headers={**bearer(KEYS[2]), "X-Octoroute-Importance": PROMPT},
                                json=body_for("/v1/chat/completions")).text)  # 400 bad hint
        metrics = live.get("/metrics", headers=bearer(KEYS[0])).text
        live.runtime.health.check_once(force=True)
        live.settle()  # every access line (logged after its response) is in the capture
    logs = out["text"].getvalue() + out["json"].getvalue()
    assert "request" in logs and "attempt on deep-1" in logs  # the capture did see the traffic
    for secret in SECRET_TEXTS:
        assert secret not in logs, secret
        assert secret not in metrics, secret
        for text in bodies:
            assert secret not in text, (secret, text)
