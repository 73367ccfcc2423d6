"""Helpers for the end-to-end suite: llama.cpp servers, Octoroute processes, SSE, metrics.

Every wait here is a bounded poll with a generous one-sided limit: a slow CI
box makes the suite slower, not flaky.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import toml
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
LLM_SERVER = REPO / "scripts" / "llm-server"
INSTALL_TIMEOUT_S = 3600.0  # seconds; a fresh machine compiles llama.cpp (~5 min on 2 cores)
SERVER_START_TIMEOUT_S = 180.0  # seconds for `llm-server start` (model load is ~5 s here)
OCTOROUTE_START_TIMEOUT_S = 30.0  # seconds until a new Octoroute answers /health
OCTOROUTE_STOP_TIMEOUT_S = 30.0  # seconds for SIGTERM's drain (bounded at 10 s) and exit
HTTP_TIMEOUT_S = 120.0  # seconds; one request through Octoroute to a real model
MAX_TOKENS = 24  # tokens per answer: enough to see text, small enough to stay fast
MODEL_NAME = "gemma"  # the alias llm-server gives the model
SAFE_SERVER_ARGS = ("--interrupt_requests", "false")  # what README tells users to set
TIERS = ("fast", "balanced", "deep")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], Any], *, timeout: float, what: str, every: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:g}s waiting for {what} (last: {last!r})")


def llm_server(*args: str, timeout: float = SERVER_START_TIMEOUT_S) -> str:
    """Run ``scripts/llm-server``; fail the test with its output when it fails."""
    proc = subprocess.run([sys.executable, str(LLM_SERVER), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        pytest.fail(f"llm-server {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
    return proc.stdout.strip()


def llm_home() -> Path:
    base = os.environ.get("OCTOROUTE_LLM_HOME") or os.path.join(Path.home(), ".cache", "octoroute")
    return Path(base)


@dataclass
class LlamaServer:
    """One llama.cpp server managed by ``scripts/llm-server`` under a run-unique name."""

    name: str
    port: int
    args: tuple[str, ...] = SAFE_SERVER_ARGS

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int:
        return int((llm_home() / "run" / f"{self.name}.pid").read_text())

    @property
    def log(self) -> Path:
        return llm_home() / "run" / f"{self.name}.log"

    def start(self) -> LlamaServer:
        llm_server("start", self.name, str(self.port), *self.args)
        return self

    def stop(self) -> None:
        llm_server("stop", self.name)

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except (OSError, ValueError):
            return False
        stat = Path(f"/proc/{self.pid}/stat")
        return stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z"

    def sigkill(self) -> None:
        """Kill it the hard way (no goodbye to clients) and wait until its port is closed."""
        os.kill(self.pid, signal.SIGKILL)

        def port_closed() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) != 0
        wait_until(port_closed, timeout=10, what=f"{self.name}'s port to close")


@dataclass
class Servers:
    a: LlamaServer
    b: LlamaServer


def start_servers(*servers: LlamaServer) -> None:
    """Start several servers at once (each `start` waits for its own readiness)."""
    procs = [(s, subprocess.Popen([sys.executable, str(LLM_SERVER), "start", s.name, str(s.port), *s.args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
             for s in servers]
    failures = []
    for s, p in procs:
        out, err = p.communicate(timeout=SERVER_START_TIMEOUT_S)
        if p.returncode != 0:
            failures.append(f"{s.name}: exit {p.returncode}\n{err}{out}")
    if failures:
        for s in servers:
            with contextlib.suppress(BaseException):
                s.stop()
        pytest.fail("could not start llama.cpp servers:\n" + "\n".join(failures))


def endpoint(id_: str, server: LlamaServer, **extra: Any) -> dict[str, Any]:
    return {"id": id_, "name": MODEL_NAME, "base_url": server.base_url, "max_tokens": MAX_TOKENS,
            "temperature": 0.7, **extra}


def main_config(servers: Servers, *, strategy: str = "hybrid", **sections: dict[str, Any]) -> dict[str, Any]:
    """All three tiers on real servers: fast on A, balanced on B then A, deep on B.

    balanced-b has the higher priority, so it is tried first and a failover to
    balanced-a after B dies is deterministic, not a coin toss.
    """
    config: dict[str, Any] = {
        "server": {"threads": 8, "request_timeout_seconds": 120},
        "routing": {"strategy": strategy, "router_tier": "balanced", "default_tier": "balanced",
                    "router_timeout_seconds": 60},
        "health": {"interval_seconds": 0.5, "timeout_seconds": 10, "unhealthy_after": 3},
        "timeouts": {"fast": 60, "balanced": 60, "deep": 60, "stream_idle": 60},
        "observability": {"log_level": "info"},
        "models": {
            "fast": [endpoint("fast-a", servers.a)],
            "balanced": [endpoint("balanced-b", servers.b, priority=2),
                         endpoint("balanced-a", servers.a, priority=1)],
            "deep": [endpoint("deep-b", servers.b)],
        },
    }
    for key, values in sections.items():
        config.setdefault(key, {}).update(values)
    return config


@dataclass
class Octoroute:
    """``python -m octoroute serve`` as a subprocess, with HTTP helpers."""

    config: dict[str, Any]
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"octoroute-{self.port}.log"

    def start(self) -> Octoroute:
        path = self.workdir / f"octoroute-{self.port}.toml"
        path.write_text(toml.dumps(self.config))
        env = {k: v for k, v in os.environ.items() if k not in ("OCTOROUTE_LOG", "OCTOROUTE_CONFIG")}
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "octoroute", "serve", "--config", str(path), "--port", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.workdir)

        def up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(f"octoroute exited {self.proc.returncode} at start:\n{self.log_text()}")
            try:
                return requests.get(self.url + "/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False
        wait_until(up, timeout=OCTOROUTE_START_TIMEOUT_S, what="octoroute /health")
        return self

    def stop(self) -> int | None:
        """SIGTERM (drain), then the exit status; SIGKILL if the drain hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(OCTOROUTE_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            pytest.fail(f"octoroute did not exit within {OCTOROUTE_STOP_TIMEOUT_S:g}s of SIGTERM")

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    # --- HTTP
    def chat(self, prompt: str, **fields: Any) -> dict[str, Any]:
        """POST /chat with ``max_tokens`` = MAX_TOKENS unless given; must succeed."""
        body = {"prompt": prompt, "max_tokens": MAX_TOKENS, **fields}
        resp = requests.post(self.url + "/chat", json=body, timeout=HTTP_TIMEOUT_S)
        assert resp.status_code == 200, f"/chat answered {resp.status_code}: {resp.text}"
        answer: dict[str, Any] = resp.json()
        return answer

    def models(self) -> dict[str, dict[str, Any]]:
        data = requests.get(self.url + "/models", timeout=10).json()
        return {m["id"]: m for m in data["models"]}

    def metrics(self) -> str:
        return requests.get(self.url + "/metrics", timeout=10).text

    def metric(self, name: str, **labels: str) -> float:
        return metric_value(self.metrics(), name, **labels)


def metric_value(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels`` (0 when none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def sse_events(resp: requests.Response) -> Iterator[tuple[float, str]]:
    """(arrival time, data) for each ``data:`` line of a server-sent-events response."""
    for line in resp.iter_lines():
        if line.startswith(b"data: "):
            yield time.monotonic(), line[len(b"data: "):].decode()


@dataclass
class StreamResult:
    chunks: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    done: bool
    times: list[float]
    text: str = ""
    broken: str | None = None  # the transport error if the connection ended mid-chunk
    after_done: list[str] = field(default_factory=list)  # events after data: [DONE] (must be none)

    @property
    def finish_reason(self) -> str | None:
        for chunk in reversed(self.chunks):
            choices = chunk.get("choices") or [{}]
            if choices[0].get("finish_reason"):
                return str(choices[0]["finish_reason"])
        return None


def read_stream(resp: requests.Response, on_chunk: Callable[[int], None] | None = None) -> StreamResult:
    """Parse an OpenAI SSE stream; ``on_chunk(n)`` runs after the n-th chunk."""
    result = StreamResult([], [], False, [])
    try:
        for at, data in sse_events(resp):
            if result.done:
                result.after_done.append(data)
            if data == "[DONE]":
                result.done = True
                continue
            event = json.loads(data)
            if "error" in event:
                result.errors.append(event)
                continue
            result.chunks.append(event)
            result.times.append(at)
            delta = (event.get("choices") or [{}])[0].get("delta") or {}
            result.text += delta.get("content") or ""
            if on_chunk is not None:
                on_chunk(len(result.chunks))
    except requests.exceptions.ChunkedEncodingError as exc:
        result.broken = str(exc)
    return result
