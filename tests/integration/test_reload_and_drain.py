"""Graceful operations of a real ``octoroute serve`` process: SIGHUP reload, SIGTERM drain.

The fakes run in this process, Octoroute in a child. A reload with a valid
config applies it while requests that started before it (a generation and a
stream, both held by the fake across the reload) complete normally; an
invalid config is refused with the reason in the log and the old one keeps
serving. SIGTERM stops accepting, lets an in-flight stream finish with
``[DONE]`` and exits 0, within a bound even if the stream never ends.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from fakes import FakeBackend, SSEScript, delayed, delta_events
from faultkit import Child, config_dict, free_port, serve_child, write_config

CLIENT_TIMEOUT_S = 30.0  # seconds; no request here may hang the suite
DRAIN_BOUND_S = 10.0 + 5.0  # seconds; octoroute's drain limit plus start-up/shut-down slack
OPENAI_BODY = {"model": "fast", "messages": [{"role": "user", "content": "hi there"}]}


class Octoroute:
    """A child ``octoroute serve`` on its own port, with a config file we can rewrite."""

    def __init__(self, path: Path, tiers: dict[str, list[Any]], **sections: Any) -> None:
        self.path = path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.write(tiers, **sections)
        self.child: Child = serve_child(path)

    def write(self, tiers: dict[str, list[Any]], **sections: Any) -> None:
        write_config(self.path, config_dict(tiers, port=self.port, **sections))

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, timeout=CLIENT_TIMEOUT_S)

    def post(self, path: str, body: Any) -> requests.Response:
        return requests.post(self.url + path, json=body, timeout=CLIENT_TIMEOUT_S)

    def model_ids(self) -> list[str]:
        return [m["id"] for m in self.get("/models").json()["models"]]


@pytest.fixture
def octoroute(tmp_path: Path) -> Iterator[Callable[..., Octoroute]]:
    started: list[Octoroute] = []

    def start(tiers: dict[str, list[Any]], **sections: Any) -> Octoroute:
        o = Octoroute(tmp_path / "octoroute.toml", tiers, **sections)
        started.append(o)
        return o

    yield start
    for o in started:
        o.child.stop()


@pytest.fixture
def fakes(fake_backend: Callable[..., FakeBackend]) -> dict[str, FakeBackend]:
    return {name: fake_backend(name) for name in ("fast-1", "fast-2", "balanced-1", "deep-1")}


def tiers(f: dict[str, FakeBackend], *fast: str) -> dict[str, list[Any]]:
    return {"fast": [f[name] for name in fast], "balanced": [f["balanced-1"]], "deep": [f["deep-1"]]}


class InFlight:
    """A request on its own thread; ``result()`` waits for it."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._out: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, args=(fn,), name="test-in-flight", daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self._out["value"] = fn()
        except Exception as exc:  # reported by result()
            self._out["error"] = exc

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self, timeout: float = CLIENT_TIMEOUT_S) -> Any:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the in-flight request never completed"
        assert "error" not in self._out, self._out["error"]
        return self._out["value"]


def read_stream(url: str, first: threading.Event) -> tuple[int, bytes]:
    with requests.post(url + "/v1/chat/completions", json={**OPENAI_BODY, "stream": True}, stream=True,
                       timeout=CLIENT_TIMEOUT_S) as resp:
        chunks = resp.iter_content(chunk_size=None)
        data = next(chunks)
        first.set()
        return resp.status_code, data + b"".join(chunks)


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return False
    except OSError:
        return True


# --- SIGHUP ------------------------------------------------------------------------

def test_sighup_applies_a_valid_config_without_dropping_in_flight_requests(
        fakes: dict[str, FakeBackend], octoroute: Callable[..., Octoroute]) -> None:
    gate = threading.Event()
    script = SSEScript(delta_events(["across", " the", " reload"]))
    fakes["fast-1"].enqueue(delayed(gate), script.behaviour())
    o = octoroute(tiers(fakes, "fast-1"))
    assert o.model_ids() == ["fast-1", "balanced-1", "deep-1"]

    generation = InFlight(lambda: o.post("/chat", {"prompt": "hi there", "model": "fast"}))
    assert fakes["fast-1"].wait_for(lambda r: r.is_chat, count=1)
    script.release(0)
    first = threading.Event()
    stream = InFlight(lambda: read_stream(o.url, first))
    assert first.wait(10), o.child.describe()

    o.write(tiers(fakes, "fast-1", "fast-2"), health={"interval_seconds": 30})
    o.child.signal(signal.SIGHUP)
    o.child.wait_for("reloaded config from")
    assert o.model_ids() == ["fast-1", "fast-2", "balanced-1", "deep-1"]
    resp = o.post("/chat", {"prompt": "hi there", "model": "fast-2"})
    assert resp.status_code == 200 and resp.json()["endpoint"] == "fast-2", resp.text
    assert not generation.done and not stream.done  # both still held by the fake

    gate.set()
    script.release_all()
    resp = generation.result()
    assert resp.status_code == 200, resp.text
    assert resp.json()["endpoint"] == "fast-1"
    status, body = stream.result()
    assert status == 200 and body.rstrip().endswith(b"data: [DONE]"), body
    assert b"across" in body and b"reload" in body and b'"error"' not in body
    assert o.child.proc.poll() is None
    assert "Traceback" not in o.child.text()
    o.child.signal(signal.SIGTERM)
    assert o.child.wait() == 0, o.child.describe()


INVALID_CONFIGS: dict[str, Callable[[Path, str], None]] = {
    "unknown_key": lambda p, good: p.write_text(good.replace("[health]", "[health]\nintervall_seconds = 5")),
    "bad_value": lambda p, good: p.write_text(good.replace("max_tokens = 256", "max_tokens = -1", 1)),
    "toml_syntax": lambda p, good: p.write_text(good + "\n[server\nport = ="),
    "empty_file": lambda p, good: p.write_text(""),
    "missing_file": lambda p, good: p.unlink(),
}
EXPECTED_REASON = {"unknown_key": "intervall_seconds", "bad_value": "max_tokens", "toml_syntax": "",
                   "empty_file": "models", "missing_file": ""}


@pytest.mark.parametrize("how", list(INVALID_CONFIGS))
def test_sighup_with_an_invalid_config_keeps_the_old_one_and_says_why(
        how: str, fakes: dict[str, FakeBackend], octoroute: Callable[..., Octoroute]) -> None:
    o = octoroute(tiers(fakes, "fast-1"))
    good = o.path.read_text()
    INVALID_CONFIGS[how](o.path, good)
    o.child.signal(signal.SIGHUP)
    line = o.child.wait_for("reload failed; keeping the running config")[0]
    assert EXPECTED_REASON[how] in line, line
    assert len(line) > len("reload failed; keeping the running config. Problems: ") + 40, line  # says why
    assert o.model_ids() == ["fast-1", "balanced-1", "deep-1"]
    resp = o.post("/chat", {"prompt": "hi there"})
    assert resp.status_code == 200 and resp.json()["endpoint"] == "fast-1", resp.text
    assert "reloaded config" not in o.child.text() and "Traceback" not in o.child.text()
    assert o.child.proc.poll() is None
    # A later valid reload still works.
    o.write(tiers(fakes, "fast-1", "fast-2"))
    o.child.signal(signal.SIGHUP)
    o.child.wait_for("reloaded config from")
    assert "fast-2" in o.model_ids()


def test_sighup_names_the_restart_only_changes_and_applies_the_rest(
        fakes: dict[str, FakeBackend], octoroute: Callable[..., Octoroute]) -> None:
    o = octoroute(tiers(fakes, "fast-1"))
    other_port = free_port()
    write_config(o.path, config_dict(tiers(fakes, "fast-1", "fast-2"), port=other_port,
                                     server={"threads": 12}))
    o.child.signal(signal.SIGHUP)
    line = o.child.wait_for("that takes a restart")[0]
    assert "server.port, server.threads changed" in line, line
    o.child.wait_for("reloaded config from")
    assert "fast-2" in o.model_ids()  # served on the old port: the rest applied
    assert refuses_connections(other_port)
    o.child.signal(signal.SIGTERM)
    assert o.child.wait() == 0, o.child.describe()


# --- SIGTERM -------------------------------------------------------------------------

def test_sigterm_drains_an_in_flight_stream_then_exits_0(fakes: dict[str, FakeBackend],
                                                        octoroute: Callable[..., Octoroute]) -> None:
    script = SSEScript(delta_events(["still", " streaming", " after", " SIGTERM"]))
    fakes["fast-1"].enqueue(script.behaviour())
    o = octoroute(tiers(fakes, "fast-1"))
    script.release(0)
    first = threading.Event()
    stream = InFlight(lambda: read_stream(o.url, first))
    assert first.wait(10), o.child.describe()

    signalled = time.monotonic()
    o.child.signal(signal.SIGTERM)
    o.child.wait_for("draining in-flight requests")
    deadline = time.monotonic() + 5.0
    while not refuses_connections(o.port):  # stops accepting while the stream drains
        assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
        time.sleep(0.02)
    assert not stream.done

    for k in range(1, len(script.chunks)):
        script.release(k)
    status, body = stream.result()
    assert status == 200, body
    events = [e for e in body.decode().split("\n\n") if e.strip()]
    assert events[-1] == "data: [DONE]", events
    texts = [json.loads(e[6:])["choices"][0]["delta"]["content"] for e in events[:-1]]
    assert "".join(texts) == "still streaming after SIGTERM"
    assert o.child.wait(DRAIN_BOUND_S) == 0, o.child.describe()
    assert time.monotonic() - signalled < DRAIN_BOUND_S
    assert "drain timed out" not in o.child.text() and "Traceback" not in o.child.text()


def test_sigterm_drain_is_bounded_when_a_stream_never_ends(fakes: dict[str, FakeBackend],
                                                          octoroute: Callable[..., Octoroute]) -> None:
    script = SSEScript(delta_events(["stuck", " forever"]))
    fakes["fast-1"].enqueue(script.behaviour())
    o = octoroute(tiers(fakes, "fast-1"), timeouts={"stream_idle": 120})
    script.release(0)
    first = threading.Event()
    stream = InFlight(lambda: read_stream(o.url, first))
    assert first.wait(10), o.child.describe()
    signalled = time.monotonic()
    o.child.signal(signal.SIGTERM)
    assert o.child.wait(DRAIN_BOUND_S) == 0, o.child.describe()
    assert time.monotonic() - signalled < DRAIN_BOUND_S
    assert "drain timed out" in o.child.text()
    stream._thread.join(CLIENT_TIMEOUT_S)  # the client sees its connection end, not a hang
    assert stream.done
    if "value" in stream._out:
        status, body = stream._out["value"]
        assert status == 200 and not body.rstrip().endswith(b"data: [DONE]"), body
    else:
        assert isinstance(stream._out["error"], requests.RequestException), stream._out
    assert script.peer_closed.wait(5)  # and the backend's generation was released too
