"""Process-level tests of the ``octoroute`` command line and ``waitress-serve --call``.

Every test runs the real console script in a child process against
``SimulatedBackend`` servers started in this process, on real loopback
sockets. Readiness is read from the child's "listening on" log line or by
polling ``/health``; every wait is bounded and every child is killed in
teardown.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import octoroute
import pytest
from octoroute.config import parse_toml
from octoroute.simulated import SimulatedBackend

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 30.0  # seconds; generous: a cold interpreter imports falcon, jsonschema, ...
EXIT_TIMEOUT_S = 15.0  # seconds; the drain bound is 10 s, plus shutdown
HTTP_TIMEOUT_S = 15.0  # seconds; one request to a child


def script(name: str) -> str:
    """The console script installed next to this interpreter (not a pyenv shim)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    assert found, f"console script {name!r} is not installed"
    return found


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment without Octoroute's own variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ("OCTOROUTE_CONFIG", "OCTOROUTE_LOG")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def free_port() -> int:
    """A port nothing listens on right now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connection_refused(port: int) -> bool:
    """True once nothing accepts on the port any more.

    A connect that raced the listener's close (queued in its backlog when it closed) is
    reset rather than refused: that too means the server has stopped accepting.
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except (ConnectionRefusedError, ConnectionResetError):
        return True


def request(method: str, url: str, body: Any = None, *, content_type: str = "application/json",
            timeout: float = HTTP_TIMEOUT_S) -> tuple[int, bytes]:
    """One HTTP request with the standard library (no proxies, no retries)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        data = None
        headers = {}
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        conn.request(method, parts.path or "/", body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def chat(base: str, body: dict[str, Any]) -> dict[str, Any]:
    status, raw = request("POST", f"{base}/chat", body)
    assert status == 200, raw
    out: dict[str, Any] = json.loads(raw)
    return out


class Child:
    """A child process whose stdout and stderr lines are collected by reader threads."""

    def __init__(self, argv: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._cond = threading.Condition()
        self.lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._readers = [
            threading.Thread(target=self._read, args=(name, stream), daemon=True,
                             name=f"test-cli-{name}")
            for name, stream in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr))]
        for t in self._readers:
            t.start()

    def _read(self, name: str, stream: Any) -> None:
        for line in stream:
            with self._cond:
                self.lines[name].append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def stdout(self) -> str:
        with self._cond:
            return "\n".join(self.lines["stdout"])

    @property
    def stderr(self) -> str:
        with self._cond:
            return "\n".join(self.lines["stderr"])

    def describe(self) -> str:
        return (f"{' '.join(self.argv)} (exit {self.proc.poll()})\n--- stdout\n{self.stdout}\n"
                f"--- stderr\n{self.stderr}")

    def wait_for(self, stream: str, needle: str, timeout: float = READY_TIMEOUT_S) -> str:
        """The first line of ``stream`` containing ``needle``; fails if the child dies first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[stream]:
                    if needle in line:
                        return line
                readers_done = not any(t.is_alive() for t in self._readers)
                left = deadline - time.monotonic()
                if readers_done or left <= 0:
                    break
                self._cond.wait(min(left, 0.2))
        self.proc.poll()
        raise AssertionError(f"{needle!r} never appeared on {stream}: {self.describe()}")

    def wait(self, timeout: float = EXIT_TIMEOUT_S) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"did not exit within {timeout}s: {self.describe()}") from None
        for t in self._readers:
            t.join(5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for t in self._readers:
            t.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


Spawn = Callable[..., Child]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start children (cwd ``tmp_path`` unless told); kill whatever is left at teardown."""
    children: list[Child] = []

    def start(*argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Child:
        child = Child(list(argv), cwd=cwd or tmp_path, env=env if env is not None else child_env())
        children.append(child)
        return child

    yield start
    for child in children:
        child.kill()


def run(*argv: str, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run a short-lived command to completion."""
    return subprocess.run(list(argv), cwd=cwd, env=env if env is not None else child_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


class CountingBackend(SimulatedBackend):
    """A SimulatedBackend that counts chat calls and flags the first one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._calls_lock = threading.Lock()  # guards chat_calls
        self.chat_calls = 0
        self.received = threading.Event()

    def handle_chat(self, handler: Any, req: dict[str, Any]) -> None:
        with self._calls_lock:
            self.chat_calls += 1
        self.received.set()
        super().handle_chat(handler, req)


@pytest.fixture
def backends() -> Iterator[Callable[..., CountingBackend]]:
    """Start CountingBackends in this process; stop them all at teardown."""
    started: list[CountingBackend] = []

    def start(tier: str = "fast", *, delay: float | None = None) -> CountingBackend:
        b = CountingBackend(tier, f"sim-{tier}", delay=delay).start()
        started.append(b)
        return b

    yield start
    # NOTE: each stop() waits out serve_forever's 0.5 s poll; stop them side by side.
    stoppers = [threading.Thread(target=b.stop, name=f"test-cli-stop-{b.port}", daemon=True)
                for b in started]
    for t in stoppers:
        t.start()
    for t in stoppers:
        t.join(10)


def config_text(urls: dict[str, str | list[str]], *, prefix: str = "sim", strategy: str = "rule",
                extra: str = "") -> str:
    """A small valid config: one ``[[models.<tier>]]`` per URL, ids ``<prefix>-<tier>-<i>``."""
    parts = [f'[routing]\nstrategy = "{strategy}"\n',
             "[server]\nthreads = 4\n",
             "[health]\ninterval_seconds = 60\ntimeout_seconds = 1\n",
             extra]
    for tier, tier_urls in urls.items():
        for i, url in enumerate([tier_urls] if isinstance(tier_urls, str) else tier_urls):
            parts.append(f'[[models.{tier}]]\nid = "{prefix}-{tier}-{i}"\nname = "sim-{tier}"\n'
                         f'base_url = "{url}"\nmax_tokens = 256\n')
    return "\n".join(parts)


def write_config(path: Path, urls: dict[str, str | list[str]], **kwargs: Any) -> Path:
    path.write_text(config_text(urls, **kwargs), encoding="utf-8")
    return path


def one_backend_per_tier(start: Callable[..., CountingBackend]) -> dict[str, CountingBackend]:
    return {tier: start(tier) for tier in ("fast", "balanced", "deep")}


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


def closed_config(tmp_path: Path, strategy: str = "rule") -> Path:
    """A valid config whose endpoints are all closed ports."""
    urls: dict[str, str | list[str]] = {t: closed_url() for t in ("fast", "balanced", "deep")}
    return write_config(tmp_path / "closed.toml", urls, strategy=strategy)


def problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("  - ")]


# --- octoroute serve ----------------------------------------------------------

def test_serve_answers_chat_and_logs_one_listening_line(tmp_path: Path, spawn: Spawn, backends: Any) -> None:
    sims = one_backend_per_tier(backends)
    cfg = write_config(tmp_path / "router.toml", {t: b.base_url for t, b in sims.items()})
    port = free_port()
    child = spawn(script("octoroute"), "serve", "--config", str(cfg), "--port", str(port))
    line = child.wait_for("stderr", "listening on")
    base = f"http://127.0.0.1:{port}"
    assert base in line
    for tier, b in sims.items():
        assert f"{tier}=[sim-{tier}-0@{b.base_url}]" in line, line

    status, body = request("GET", f"{base}/health")
    assert (status, body) == (200, b"OK")
    casual = chat(base, {"prompt": "hi there!"})
    assert (casual["tier"], casual["routing_strategy"], casual["endpoint"]) == ("fast", "rule", "sim-fast-0")
    assert "simulated fast tier" in casual["response"]
    deep = chat(base, {"prompt": "Compare these two designs", "importance": "high"})
    assert (deep["tier"], deep["routing_strategy"]) == ("deep", "rule")
    assert sims["fast"].chat_calls == 1 and sims["deep"].chat_calls == 1
    assert sims["balanced"].chat_calls == 0

    child.proc.send_signal(signal.SIGTERM)
    assert child.wait() == 0, child.describe()
    listening = [ln for ln in child.lines["stderr"] if "listening on" in ln]
    assert len(listening) == 1, child.describe()
    assert "Traceback" not in child.stderr


@pytest.mark.parametrize("source", ["flag", "env", "cwd"])
def test_serve_config_path_precedence(source: str, tmp_path: Path, spawn: Spawn, backends: Any) -> None:
    url = backends("fast").base_url
    urls: dict[str, str | list[str]] = {"fast": url, "balanced": url, "deep": url}
    (tmp_path / "conf").mkdir()
    flag = write_config(tmp_path / "conf" / "flag.toml", urls, prefix="fromflag")
    from_env = write_config(tmp_path / "conf" / "env.toml", urls, prefix="fromenv")
    write_config(tmp_path / "config.toml", urls, prefix="fromcwd")
    argv = [script("octoroute"), "serve", "--port", str(free_port())]
    env = child_env()
    if source == "flag":
        argv += ["--config", str(flag)]
    if source in ("flag", "env"):
        env["OCTOROUTE_CONFIG"] = str(from_env)

    child = spawn(*argv, env=env)
    line = child.wait_for("stderr", "listening on")
    expected = {"flag": "fromflag", "env": "fromenv", "cwd": "fromcwd"}[source]
    used = set(re.findall(r"\b(from\w+)-", line))
    assert used == {expected}, line
    child.proc.send_signal(signal.SIGTERM)
    assert child.wait() == 0, child.describe()


def test_serve_without_any_config_exits_1_naming_the_file(tmp_path: Path) -> None:
    done = run(script("octoroute"), "serve", "--port", str(free_port()), cwd=tmp_path)
    assert done.returncode == 1, done
    assert "config.toml" in done.stderr and "not found" in done.stderr
    assert "octoroute config > config.toml" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_on_a_busy_port_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    cfg = closed_config(tmp_path)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run(script("octoroute"), "serve", "--config", str(cfg), "--port", str(port), cwd=tmp_path)
    assert done.returncode == 1, done
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr


def one_line_error(stderr: str) -> str:
    """argparse's error line (after its usage lines); there must be exactly one."""
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    return errors[0]


@pytest.mark.parametrize("command", ["serve", "demo"])
@pytest.mark.parametrize("port", ["99999", "-1", "0", "65536", "abc", ""])
def test_an_impossible_port_flag_exits_2_naming_the_flag_and_the_fix(command: str, port: str,
                                                                     tmp_path: Path) -> None:
    done = run(script("octoroute"), command, "--config" if command == "serve" else "--strategy",
               str(closed_config(tmp_path)) if command == "serve" else "rule", f"--port={port}", cwd=tmp_path)
    assert done.returncode == 2, done
    line = one_line_error(done.stderr)
    assert "--port" in line and "1 to 65535" in line and "e.g. --port 3000" in line, line


@pytest.mark.parametrize("host", ["", "   ", "local host"])
def test_a_blank_host_flag_exits_2_naming_the_flag_and_the_fix(host: str, tmp_path: Path) -> None:
    done = run(script("octoroute"), "serve", "--config", str(closed_config(tmp_path)), f"--host={host}",
               "--port", str(free_port()), cwd=tmp_path)
    assert done.returncode == 2, done
    line = one_line_error(done.stderr)
    assert "--host" in line and "e.g. --host 127.0.0.1" in line, line


def test_a_host_that_does_not_resolve_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    done = run(script("octoroute"), "serve", "--config", str(closed_config(tmp_path)),
               "--host", "no-such-host.invalid", "--port", str(free_port()), cwd=tmp_path)
    assert done.returncode == 1, done
    assert "cannot listen on no-such-host.invalid:" in done.stderr and "server.host" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["serve", "check"])
@pytest.mark.parametrize(("setting", "key"), [("port = 99999", "server.port"), ("port = -1", "server.port"),
                                              ('host = ""', "server.host")])
def test_an_impossible_port_or_host_in_the_config_exits_1_naming_the_key(command: str, setting: str, key: str,
                                                                        tmp_path: Path) -> None:
    cfg = closed_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[server]\n", f"[server]\n{setting}\n"), encoding="utf-8")
    done = run(script("octoroute"), command, "--config", str(cfg), cwd=tmp_path)
    assert done.returncode == 1, done
    (line,) = problem_lines(done.stderr)
    assert line.startswith(f"  - {key}: must be") and "write e.g." in line, line
    assert "Traceback" not in done.stderr


def test_check_a_host_that_does_not_resolve_exits_1_naming_the_key(tmp_path: Path) -> None:
    cfg = closed_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[server]\n", '[server]\nhost = "no-such-host.invalid"\n'),
                   encoding="utf-8")
    done = run(script("octoroute"), "check", "--config", str(cfg), cwd=tmp_path)
    assert done.returncode == 1, done
    (line,) = problem_lines(done.stderr)
    assert line.startswith("  - server.host: 'no-such-host.invalid' does not resolve") and "e.g." in line
    assert done.stdout == "" and "Traceback" not in done.stderr


def test_cpu_affinity_in_the_config_exits_1_pointing_at_taskset_and_systemd(tmp_path: Path) -> None:
    cfg = closed_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[server]\n", '[server]\ncpu_affinity = "1"\n'), encoding="utf-8")
    done = run(script("octoroute"), "serve", "--config", str(cfg), "--port", str(free_port()), cwd=tmp_path)
    assert done.returncode == 1, done
    (line,) = problem_lines(done.stderr)
    assert line.startswith("  - server.cpu_affinity: was removed") and "taskset -c" in line
    assert "CPUAffinity=" in line and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_octoroute_log_accepts_rust_log_spellings(command: str, tmp_path: Path, spawn: Spawn) -> None:
    """$OCTOROUTE_LOG=trace (the seed's RUST_LOG habit) means debug, for every command."""
    port = free_port()
    argv = [script("octoroute"), command, "--port", str(port)]
    if command == "serve":
        argv += ["--config", str(closed_config(tmp_path))]
    child = spawn(*argv, env=child_env(OCTOROUTE_LOG="trace"))
    child.wait_for("stderr", "listening on")
    assert "Traceback" not in child.stderr
    child.proc.send_signal(signal.SIGTERM)
    assert child.wait() == 0, child.describe()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_drains_in_flight_request_then_exits_0(signum: int, tmp_path: Path, spawn: Spawn,
                                                       backends: Any) -> None:
    slow = backends("fast", delay=1.5)
    urls: dict[str, str | list[str]] = {t: slow.base_url for t in ("fast", "balanced", "deep")}
    cfg = write_config(tmp_path / "router.toml", urls)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child = spawn(script("octoroute"), "serve", "--config", str(cfg), "--port", str(port))
    child.wait_for("stderr", "listening on")

    result: dict[str, Any] = {}

    def in_flight() -> None:
        try:
            result["answer"] = request("POST", f"{base}/chat", {"prompt": "hi there!", "model": "fast"})
        except Exception as exc:  # reported by the assertion below
            result["error"] = exc

    client = threading.Thread(target=in_flight, name="test-cli-in-flight", daemon=True)
    client.start()
    assert slow.received.wait(10), child.describe()
    assert client.is_alive()  # the backend holds it for 1.5 s: it is in flight now
    child.proc.send_signal(signum)

    # Stops accepting: the listening socket closes while the request is still draining.
    deadline = time.monotonic() + 10
    while not connection_refused(port):
        assert time.monotonic() < deadline, "still accepting connections 10 s after the signal"
        time.sleep(0.05)

    client.join(EXIT_TIMEOUT_S)
    assert not client.is_alive(), "in-flight request never completed"
    assert "error" not in result, result
    status, raw = result["answer"]
    assert status == 200, raw
    assert json.loads(raw)["tier"] == "fast"
    assert slow.chat_calls == 1

    assert child.wait() == 0, child.describe()
    assert connection_refused(port)
    assert "Traceback" not in child.stderr
    assert "draining" in child.stderr and "drain timed out" not in child.stderr


# --- octoroute check ----------------------------------------------------------

def check_rows(stdout: str) -> tuple[list[str], list[list[str]]]:
    """The table's header cells and rows (split on runs of 2+ spaces)."""
    lines = stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("TIER"))
    header = re.split(r"\s{2,}", lines[start].strip())
    rows = []
    for ln in lines[start + 1:]:
        if not ln.strip():
            break
        rows.append(re.split(r"\s{2,}", ln.strip()))
    return header, rows


def test_check_all_reachable_exits_0_with_one_row_per_endpoint(tmp_path: Path, backends: Any) -> None:
    sims = one_backend_per_tier(backends)
    extra = backends("balanced")
    urls: dict[str, str | list[str]] = {"fast": sims["fast"].base_url,
                                        "balanced": [sims["balanced"].base_url, extra.base_url],
                                        "deep": sims["deep"].base_url}
    cfg = write_config(tmp_path / "router.toml", urls)
    done = run(script("octoroute"), "check", "--config", str(cfg), cwd=tmp_path)
    assert done.returncode == 0, done
    header, rows = check_rows(done.stdout)
    assert header[:5] == ["TIER", "ID", "URL", "REACHABLE", "LATENCY"]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("fast", "sim-fast-0", sims["fast"].base_url, "yes"),
        ("balanced", "sim-balanced-0", sims["balanced"].base_url, "yes"),
        ("balanced", "sim-balanced-1", extra.base_url, "yes"),
        ("deep", "sim-deep-0", sims["deep"].base_url, "yes"),
    ]
    assert all(re.fullmatch(r"\d+ ms", r[4]) for r in rows), rows
    assert "4/4 endpoints reachable" in done.stdout
    assert all(b.chat_calls == 0 for b in [*sims.values(), extra])  # probes only, no generation


def test_check_unreachable_endpoint_exits_2(tmp_path: Path, backends: Any) -> None:
    sims = one_backend_per_tier(backends)
    dead = closed_url()
    urls: dict[str, str | list[str]] = {"fast": sims["fast"].base_url,
                                        "balanced": [sims["balanced"].base_url, dead],
                                        "deep": sims["deep"].base_url}
    cfg = write_config(tmp_path / "router.toml", urls)
    done = run(script("octoroute"), "check", "--config", str(cfg), cwd=tmp_path)
    assert done.returncode == 2, done
    _, rows = check_rows(done.stdout)
    reachable = {r[1]: r[3] for r in rows}
    assert reachable == {"sim-fast-0": "yes", "sim-balanced-0": "yes", "sim-balanced-1": "no",
                         "sim-deep-0": "yes"}
    assert "3/4 endpoints reachable" in done.stdout
    assert "Traceback" not in done.stderr


def test_check_invalid_config_prints_one_line_per_problem_and_exits_1(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        '[routing]\nstrategy = "fastest"\n\n'
        "[health]\nintervall_seconds = 5\n\n"
        '[models.fast]\nname = "m"\nbase_url = "http://127.0.0.1:9/v1"\nmax_tokens = 0\n\n'
        '[models.balanced]\nname = "m2"\nbase_url = "http://127.0.0.1:9/v1"\nmax_tokens = 10\n',
        encoding="utf-8")
    done = run(script("octoroute"), "check", "--config", str(cfg), cwd=tmp_path)
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr
    assert str(cfg) in done.stderr
    lines = problem_lines(done.stderr)
    assert len(lines) == 4, done.stderr
    expected = {  # key path -> a fragment of the fix
        "routing.strategy": "write e.g. strategy =",
        "health.intervall_seconds": "did you mean 'interval_seconds'",
        "models.fast.max_tokens": "write e.g. max_tokens =",
        "models.deep": "add a [models.deep] table",
    }
    for path, fix in expected.items():
        matching = [ln for ln in lines if ln.startswith(f"  - {path}:")]
        assert len(matching) == 1 and fix in matching[0], (path, lines)
    assert done.stdout == ""


def test_check_toml_syntax_error_exits_1_without_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "broken.toml"
    cfg.write_text("[routing\nstrategy = rule\n", encoding="utf-8")
    done = run(script("octoroute"), "check", "--config", str(cfg), cwd=tmp_path)
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr
    assert "TOML syntax error" in done.stderr and "line 1" in done.stderr


def test_check_missing_file_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    done = run(script("octoroute"), "check", "--config", str(missing), cwd=tmp_path)
    assert done.returncode == 1, done
    assert str(missing) in done.stderr and "file not found" in done.stderr
    assert "Traceback" not in done.stderr


# --- octoroute route ----------------------------------------------------------

def test_route_prints_the_decision_without_calling_a_backend(tmp_path: Path) -> None:
    cfg = closed_config(tmp_path)
    done = run(script("octoroute"), "route", "hi there!", "--config", str(cfg), cwd=tmp_path)
    assert done.returncode == 0, done
    fields = dict(re.split(r"\s+", ln.strip(), maxsplit=1) for ln in done.stdout.splitlines() if ln.strip())
    assert fields["tier"] == "fast"
    assert fields["strategy"] == "rule"
    assert fields["rule"] == "casual_short"
    assert fields["token_estimate"] == str(len("hi there!") // 4)
    assert fields["warnings"] == "[]"


def test_route_json_with_task_type_and_importance(tmp_path: Path) -> None:
    cfg = closed_config(tmp_path)
    prompt = "Refactor this function please " * 5
    done = run(script("octoroute"), "route", prompt, "--config", str(cfg), "--task-type", "code",
               "--importance", "high", "--json", cwd=tmp_path)
    assert done.returncode == 0, done
    out = json.loads(done.stdout)
    assert out["tier"] == "deep" and out["strategy"] == "rule" and out["rule"] == "high_importance"
    assert out["task_type"] == "code" and out["task_type_inferred"] is False
    assert out["importance"] == "high"
    assert out["token_estimate"] == len(prompt) // 4
    assert out["router_endpoint"] is None and out["warnings"] == []


def test_route_rule_strategy_without_a_rule_match_uses_the_scorer(tmp_path: Path) -> None:
    # Was: "default" on default_tier. The scorer now always has a verdict, with its reason.
    cfg = closed_config(tmp_path)
    done = run(script("octoroute"), "route", "Tell me about the history of Rome", "--config", str(cfg),
               "--json", cwd=tmp_path)
    assert done.returncode == 0, done
    out = json.loads(done.stdout)
    assert (out["tier"], out["strategy"], out["rule"]) == ("fast", "rule", "scorer")
    assert 0 < out["confidence"] <= 1 and out["reason"].startswith("question_answer")
    assert out["warnings"] == []


def test_route_explain_prints_signals_layers_and_the_deciding_rule(tmp_path: Path) -> None:
    cfg = closed_config(tmp_path)
    prompt = "Implement a thread-safe LRU cache in Go"
    done = run(script("octoroute"), "route", prompt, "--config", str(cfg), "--explain", cwd=tmp_path)
    assert done.returncode == 0, done
    lines = done.stdout.splitlines()
    assert lines[0].startswith("signals ") and "code_words=" in lines[0] and "depth=" in lines[0]
    layers = {ln.split()[0]: ln.split()[1] for ln in lines if ln.startswith("  ")}
    assert layers == {"explicit": "-", "rules": "-", "scorer": "deep", "prior": "-", "semantic": "-",
                      "brain": "-"}
    prior = next(ln for ln in lines if ln.startswith("  prior"))
    # Kept on deep: by a deep model's probability, or for want of one (fitprior ships it only if it helps).
    assert "learned prior kept deep" in prior or "no fitted model lowers deep" in prior
    assert lines[-1].startswith("decision  deep (strategy rule, decided by scorer, task_type code")
    assert prompt not in done.stdout
    done = run(script("octoroute"), "route", "hi there!", "--config", str(cfg), "--explain", "--json",
               cwd=tmp_path)
    out = json.loads(done.stdout)
    assert out["rule"] == "casual_short"
    assert [layer["name"] for layer in out["layers"]] == ["explicit", "rules", "scorer", "prior", "semantic",
                                                          "brain"]
    assert out["layers"][1] == {"name": "rules", "verdict": "fast", "detail": "rule casual_short matched"}
    assert out["signals"]["chat"] >= 1


@pytest.mark.parametrize("strategy", ["rule", "hybrid"])
def test_route_decided_by_rules_sends_nothing_to_live_backends(strategy: str, tmp_path: Path,
                                                               backends: Any) -> None:
    sims = one_backend_per_tier(backends)
    cfg = write_config(tmp_path / "live.toml", {t: b.base_url for t, b in sims.items()},
                       strategy=strategy)
    done = run(script("octoroute"), "route", "hi there!", "--config", str(cfg), "--json", cwd=tmp_path)
    assert done.returncode == 0, done
    assert json.loads(done.stdout)["rule"] == "casual_short"
    assert [b.chat_calls for b in sims.values()] == [0, 0, 0]


def test_route_with_no_config_file_yet_decides_with_the_shipped_defaults(tmp_path: Path) -> None:
    env = {k: v for k, v in child_env().items() if k != "OCTOROUTE_CONFIG"}
    done = run(script("octoroute"), "route", "Prove that there are infinitely many primes", "--json",
               cwd=tmp_path, env=env)
    assert done.returncode == 0, done
    out = json.loads(done.stdout)
    assert (out["tier"], out["strategy"], out["rule"]) == ("deep", "rule", "scorer")
    assert "no config.toml" in done.stderr and "built-in routing defaults" in done.stderr
    # An unsure decision (the scorer's "cannot tell") is the scorer's too: no brain is there to fail and warn.
    unsure = ("Write a sign for the shed door: 'Please shut the gate behind you, the rabbits are watching! "
              "Tools back on the hooks please. Thank you.'")
    done = run(script("octoroute"), "route", unsure, "--json", cwd=tmp_path, env=env)
    out = json.loads(done.stdout)
    assert done.returncode == 0 and out["confidence"] < 0.6 and out["warnings"] == [], done
    assert (out["strategy"], out["rule"]) == ("rule", "scorer") and "WARNING" not in done.stderr, done
    # A file named on purpose (flag or environment) that is missing is still an error.
    named: list[tuple[tuple[str, ...], dict[str, str]]] = [
        (("--config", str(tmp_path / "nowhere.toml")), {}),
        ((), {"OCTOROUTE_CONFIG": str(tmp_path / "gone.toml")})]
    for argv, extra in named:
        done = run(script("octoroute"), "route", "hi", *argv, cwd=tmp_path, env={**env, **extra})
        assert done.returncode == 1 and "file not found" in done.stderr, done


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_route_an_empty_prompt_exits_2_with_the_apis_words(prompt: str, tmp_path: Path) -> None:
    done = run(script("octoroute"), "route", prompt, "--config", str(closed_config(tmp_path)), cwd=tmp_path)
    assert done.returncode == 2, done
    assert done.stderr.strip() == "octoroute route: error: field 'prompt' must not be empty or blank"
    assert done.stdout == ""


# --- octoroute config ----------------------------------------------------------

def test_config_prints_the_example_file_byte_for_byte(tmp_path: Path) -> None:
    done = subprocess.run([script("octoroute"), "config"], cwd=tmp_path, env=child_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert done.returncode == 0, done
    example = (REPO_ROOT / "config.toml.example").read_bytes()
    assert done.stdout == example
    assert example == (REPO_ROOT / "octoroute" / "config.toml.example").read_bytes()
    config = parse_toml(done.stdout.decode("utf-8"), source="example", env={})
    assert {e.tier for e in config.endpoints} == {"fast", "balanced", "deep"}


# --- octoroute demo ------------------------------------------------------------

def test_demo_routes_to_simulated_backends_and_stops_on_sigterm(spawn: Spawn) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child = spawn(script("octoroute"), "demo", "--port", str(port))
    child.wait_for("stderr", "listening on")
    child.wait_for("stdout", "Ctrl-C stops it")
    banner = child.stdout
    assert "SIMULATED" in banner
    assert f"curl -s {base}/chat" in banner

    casual = chat(base, {"prompt": "hi there!"})
    assert (casual["routing_strategy"], casual["tier"]) == ("rule", "fast")
    assert "simulated" in casual["response"].lower()
    analysis = chat(base, {"prompt": "Analyze the trade-offs of event sourcing for a bank ledger",
                           "importance": "high"})
    assert (analysis["routing_strategy"], analysis["tier"]) == ("rule", "deep")
    assert "simulated deep tier" in analysis["response"]

    # The printed curl commands work as printed (curl's default form content type, no header).
    curls = re.findall(r"curl -s (\S+) -d '(.*)'", banner)
    assert len(curls) >= 3, banner
    for url, body in curls:
        status, raw = request("POST", url, body, content_type="application/x-www-form-urlencoded")
        assert status == 200, (url, body, raw)
        assert "simulated" in json.loads(raw)["response"]

    child.proc.send_signal(signal.SIGTERM)
    assert child.wait() == 0, child.describe()
    assert connection_refused(port)
    assert "Traceback" not in child.stderr


# --- waitress-serve --call -----------------------------------------------------

def wait_healthy(child: Child, base: str, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if request("GET", f"{base}/health", timeout=2) == (200, b"OK"):
                return
        except OSError:
            pass
        assert child.proc.poll() is None, child.describe()
        assert time.monotonic() < deadline, f"not healthy after {timeout}s: {child.describe()}"
        time.sleep(0.05)


def test_waitress_serve_call_create_app_reads_octoroute_config(tmp_path: Path, spawn: Spawn,
                                                                backends: Any) -> None:
    sims = one_backend_per_tier(backends)
    cfg = write_config(tmp_path / "router.toml", {t: b.base_url for t, b in sims.items()})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child = spawn(script("waitress-serve"), "--host", "127.0.0.1", "--port", str(port),
                  "--call", "octoroute.app:create_app", env=child_env(OCTOROUTE_CONFIG=str(cfg)))
    wait_healthy(child, base)
    answer = chat(base, {"prompt": "hi there!"})
    assert (answer["tier"], answer["endpoint"]) == ("fast", "sim-fast-0")
    assert sims["fast"].chat_calls == 1


def test_waitress_serve_call_without_a_config_file_exits_nonzero(tmp_path: Path) -> None:
    done = run(script("waitress-serve"), "--host", "127.0.0.1", "--port", str(free_port()),
               "--call", "octoroute.app:create_app", cwd=tmp_path, timeout=EXIT_TIMEOUT_S * 2)
    assert done.returncode != 0, done
    assert "config.toml" in done.stderr and "file not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_waitress_serve_call_with_invalid_config_exits_nonzero(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[routing]\nstrategy = "fastest"\n', encoding="utf-8")
    done = run(script("waitress-serve"), "--host", "127.0.0.1", "--port", str(free_port()),
               "--call", "octoroute.app:create_app", cwd=tmp_path, env=child_env(OCTOROUTE_CONFIG=str(cfg)),
               timeout=EXIT_TIMEOUT_S * 2)
    assert done.returncode != 0, done
    assert "routing.strategy" in done.stderr
    for tier in ("fast", "balanced", "deep"):
        assert f"models.{tier}" in done.stderr or "models: is missing" in done.stderr
    assert "Traceback" not in done.stderr


# --- --version and --help -------------------------------------------------------

def test_python_m_octoroute_version(tmp_path: Path) -> None:
    done = run(sys.executable, "-m", "octoroute", "--version", cwd=tmp_path)
    assert done.returncode == 0, done
    assert done.stdout.strip() == f"octoroute {octoroute.__version__}"


def test_help_lists_every_command(tmp_path: Path) -> None:
    done = run(script("octoroute"), "--help", cwd=tmp_path)
    assert done.returncode == 0, done
    for command in ("serve", "check", "route", "config", "demo"):
        assert re.search(rf"^\s+{command}\s", done.stdout, re.MULTILINE), done.stdout
