"""The servers under test and the mocks behind them, each a child of the bench.

Every ``start_*`` spawns one server in its own session, polls a real chat
request until it answers 200 and records that as the start-up time (spawn to
first successful chat, so lazy imports on the first request count too).
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib.procs import Child, Procs, wait_for

SCRIPTS_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = SCRIPTS_DIR.parent
# The shared harness (baseline app, LiteLLM notes); override with $OCTOROUTE_BENCH_SHARED.
SHARED_BENCH = Path(os.environ.get("OCTOROUTE_BENCH_SHARED", REPO_DIR.parent / "shared" / "bench"))
PROTO_DIR = Path(os.environ.get("OCTOROUTE_BENCH_PROTO", "/tmp/peers/proto"))
LITELLM_DIR = Path(os.environ.get("OCTOROUTE_BENCH_LITELLM", "/tmp/peers/litellm"))
NGINX = "/usr/sbin/nginx"
READY_TIMEOUT_S = 30.0  # seconds for a server to answer its first chat
LITELLM_READY_TIMEOUT_S = 180.0  # seconds; LiteLLM imports a lot
MOCK_MODEL = "mock-model"

# The request every target gets: the shared harness's chat.lua body.
SYSTEM_TEXT = "You are a concise assistant. Answer in one short paragraph."
USER_TEXT = ("Summarise in two sentences why a router in front of several local LLM servers helps: "
             "some requests are trivial, others need a larger model.")


class BenchError(Exception):
    """A server would not start, a tool is missing: the run cannot go on."""


def openai_body(model: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [
        {"role": "system", "content": SYSTEM_TEXT}, {"role": "user", "content": USER_TEXT}],
        "temperature": 0.2, "max_tokens": 128, "stream": False}
    body.update(extra)
    return body


def chat_body() -> dict[str, Any]:
    return {"prompt": USER_TEXT, "temperature": 0.2, "max_tokens": 128}


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass
class Server:
    name: str
    child: Child
    port: int
    log_path: str
    key: str | None = None
    startup_s: list[float] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.child.pid

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def request_ok(port: int, method: str, path: str, body: bytes | None = None, *, key: str | None = None,
               timeout: float = 2.0) -> bool:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _start(procs: Procs, name: str, cmd: list[str], *, log_path: str, port: int, ready_path: str,
           ready_body: bytes | None, env: dict[str, str] | None = None, key: str | None = None,
           cwd: str | None = None, timeout: float = READY_TIMEOUT_S,
           stop_signal: int = signal.SIGTERM) -> Server:
    method = "GET" if ready_body is None else "POST"
    started = time.monotonic()
    child = procs.spawn(name, cmd, log_path=log_path, env=env, cwd=cwd, stop_signal=stop_signal)
    waited = wait_for(lambda: request_ok(port, method, ready_path, ready_body, key=key), timeout=timeout,
                      alive=lambda: child.popen.poll() is None)
    if waited is None:
        rc = child.popen.poll()
        procs.stop(child)
        raise BenchError(f"{name} did not answer {method} {ready_path} within {timeout:.0f}s "
                         f"({'exited rc=' + str(rc) if rc is not None else 'still running'}); "
                         f"see {log_path}")
    server = Server(name, child, port, log_path, key)
    server.startup_s.append(round(time.monotonic() - started, 3))
    return server


def restart(procs: Procs, server: Server, start: Any) -> Server:
    """Stop ``server`` and start it again with ``start()``, keeping its start-up history."""
    history = server.startup_s
    procs.stop(server.child)
    fresh: Server = start()
    fresh.startup_s = history + fresh.startup_s
    return fresh


# --- tools ------------------------------------------------------------------

def ensure_tools() -> None:
    """Debian's nginx and wrk; installed with apt-get when missing."""
    missing = [pkg for pkg, exe in (("nginx", NGINX), ("wrk", "wrk"))
               if not (os.path.exists(exe) or shutil.which(exe))]
    if not missing:
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise BenchError(f"missing {', '.join(missing)}; install with: "
                         f"apt-get install -y {' '.join(missing)}")
    print(f"installing {', '.join(missing)} with apt-get ...", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], check=True,
                   env=env, stdout=subprocess.DEVNULL)


# --- nginx mock ---------------------------------------------------------------

def start_nginx(procs: Procs, run_dir: Path, port: int, workers: int = 1) -> Server:
    """The mock OpenAI backend: our own nginx, prefix and pid file under ``run_dir``."""
    prefix = run_dir / "nginx"
    prefix.mkdir(parents=True, exist_ok=True)
    template = (Path(__file__).parent / "mock.conf.in").read_text()
    conf = prefix / "nginx.conf"
    conf.write_text(template.replace("@PORT@", str(port)).replace("@PREFIX@", str(prefix))
                    .replace("@WORKERS@", str(workers)))
    base = [NGINX, "-e", str(prefix / "error.log"), "-p", str(prefix), "-c", str(conf)]
    check = subprocess.run([*base, "-t", "-q"], capture_output=True, text=True)
    if check.returncode != 0:
        raise BenchError(f"nginx rejected {conf}: {check.stderr.strip()}")
    # Foreground (daemon off): the master is our child and its workers share its process group.
    return _start(procs, "nginx-mock", [*base, "-g", "daemon off;"], log_path=str(prefix / "stdout.log"),
                  port=port, ready_path="/v1/chat/completions", ready_body=encode(openai_body("fast")),
                  stop_signal=signal.SIGQUIT)


# --- Octoroute ----------------------------------------------------------------

def octoroute_command() -> list[str]:
    script = Path(sys.executable).parent / "octoroute"  # not a pyenv shim: no shell in front
    if script.exists():
        return [str(script)]
    found = shutil.which("octoroute")
    return [found] if found else [sys.executable, "-m", "octoroute"]


def octoroute_config(port: int, backend: str, *, threads: int, max_in_flight: int | None = None,
                     log_level: str = "info") -> str:
    """Rule routing, all three tiers on ``backend`` (a base URL ending in /v1), metrics and logs on."""
    lines = ["# generated by scripts/bench", "[server]", 'host = "127.0.0.1"', f"port = {port}",
             f"threads = {threads}"]
    if max_in_flight is not None:
        lines.append(f"max_in_flight = {max_in_flight}")
    lines += ["", "[routing]", 'strategy = "rule"', "", "[observability]", f'log_level = "{log_level}"',
              'log_format = "text"', ""]
    for tier in ("fast", "balanced", "deep"):
        lines += [f"[[models.{tier}]]", f'id = "{tier}-mock"', f'name = "{MOCK_MODEL}"',
                  f'base_url = "{backend}"', "max_tokens = 4096", ""]
    return "\n".join(lines)


_compiled = False


def compile_octoroute() -> None:
    """Write Octoroute's bytecode caches once, as ``pip install .`` does.

    An editable install under ``PYTHONDONTWRITEBYTECODE=1`` (this machine's
    default) recompiles every module at each start: about 80 ms of a 0.5 s
    start-up that no installed copy pays.
    """
    global _compiled
    if _compiled:
        return
    import compileall
    import importlib.util
    spec = importlib.util.find_spec("octoroute")
    for location in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(location, quiet=1)
    _compiled = True


def python_problem(python: str) -> str | None:
    """Why this checkout of Octoroute cannot run on the interpreter ``python``, or None when it can.

    Another copy installed there (an older release, another checkout) would
    compare two versions of the code, not two interpreters.
    """
    import octoroute
    here = str(Path(octoroute.__file__).resolve().parent)
    fix = f"install this checkout there: {python} -m pip install -e {Path(here).parent}"
    try:
        found = subprocess.run([python, "-c", "import octoroute.cli, octoroute, pathlib; "
                                "print(pathlib.Path(octoroute.__file__).resolve().parent)"],
                               capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python} does not run: {exc}"
    if found.returncode != 0:
        last = (found.stderr.strip().splitlines() or ["no output"])[-1]
        return f"{python} cannot import Octoroute ({last}); {fix}"
    there = found.stdout.strip()
    if there != here:
        return f"{python} imports another copy of Octoroute ({there}, not {here}); {fix}"
    return None


def python_description(python: str) -> str:
    """Version and build of an interpreter: what makes one faster than another."""
    # sysconfig can describe another build than the binary (Debian's python3 links libpython
    # statically, yet reports Py_ENABLE_SHARED); the process's own mappings cannot.
    code = ("import platform; shared = any('libpython' in line for line in open('/proc/self/maps')); "
            "print(f'Python {platform.python_version()},', 'libpython shared' if shared else "
            "'libpython linked in')")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    return out.stdout.strip() or "unknown"


def start_octoroute(procs: Procs, run_dir: Path, name: str, port: int, backend: str, *, threads: int,
                    max_in_flight: int | None = None, cpus: str | None = None,
                    python: str | None = None) -> Server:
    """``cpus``: pin it with ``taskset -c`` (as systemd's ``CPUAffinity=`` would);
    ``python``: run it on that interpreter (``python -m octoroute``) instead of this one."""
    compile_octoroute()
    config = run_dir / f"{name}.toml"
    config.write_text(octoroute_config(port, backend, threads=threads, max_in_flight=max_in_flight))
    env = {k: v for k, v in os.environ.items() if k not in ("OCTOROUTE_LOG", "OCTOROUTE_CONFIG")}
    command = [python, "-m", "octoroute"] if python else octoroute_command()
    if cpus is not None:
        command = [shutil.which("taskset") or "taskset", "-c", cpus, *command]
    return _start(procs, name, [*command, "serve", "--config", str(config)],
                  log_path=str(run_dir / f"{name}.log"), port=port, ready_path="/chat",
                  ready_body=encode({"prompt": "ping", "max_tokens": 8}), env=env)


# --- peers --------------------------------------------------------------------

def baseline_available() -> str | None:
    """Why the bare pass-through cannot run, or None when it can."""
    if not (PROTO_DIR / "bin" / "waitress-serve").exists():
        return f"no {PROTO_DIR}/bin/waitress-serve (run {SHARED_BENCH}/setup.sh)"
    if not (SHARED_BENCH / "baseline" / "app.py").exists():
        return f"no {SHARED_BENCH}/baseline/app.py"
    return None


def start_baseline(procs: Procs, run_dir: Path, port: int, mock_port: int, threads: int = 8, *,
                   python: str | None = None) -> Server:
    """The shared harness's 40-line Falcon + waitress + requests pass-through.

    ``python``: run it on that interpreter (its own falcon, waitress and
    requests; Octoroute's dependencies) instead of the harness's venv.
    """
    env = {**os.environ, "PYTHONPATH": str(SHARED_BENCH / "baseline"),
           "UPSTREAM": f"http://127.0.0.1:{mock_port}", "POOL": str(threads)}
    serve = [python, "-m", "waitress"] if python else [str(PROTO_DIR / "bin" / "waitress-serve")]
    name = f"baseline-py-t{threads}" if python else f"baseline-t{threads}"
    return _start(procs, name,
                  [*serve, "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads), "app:app"],
                  log_path=str(run_dir / f"{name}.log"), port=port,
                  ready_path="/v1/chat/completions", ready_body=encode(openai_body("fast")), env=env)


FLOOR_THREADS = 8  # waitress threads of the floor apps: the pass-through's


def start_floor(procs: Procs, run_dir: Path, port: int, mock_port: int, *, canned: bool = False,
                python: str | None = None) -> Server:
    """The stack's floor (benchlib/floor.py): waitress + http.client, or waitress alone with
    ``canned``; on the interpreter ``python`` (its own waitress) instead of this one."""
    name = ("floor-canned" if canned else "floor") + ("-py" if python else "")
    env = {**os.environ, "PYTHONPATH": str(SCRIPTS_DIR)}
    cmd = [python or sys.executable, "-m", "benchlib.floor", "--port", str(port), "--upstream-port",
           str(mock_port), "--threads", str(FLOOR_THREADS)] + (["--canned"] if canned else [])
    return _start(procs, name, cmd, log_path=str(run_dir / f"{name}.log"), port=port,
                  ready_path="/v1/chat/completions", ready_body=encode(openai_body("fast")), env=env)


def litellm_available() -> str | None:
    if not (LITELLM_DIR / "bin" / "litellm").exists():
        return f"no {LITELLM_DIR}/bin/litellm (run {SHARED_BENCH}/setup.sh litellm)"
    return None


LITELLM_CONFIG = """\
# generated by scripts/bench from ../shared/bench/litellm/config.yaml, mock port substituted
model_list:
  - model_name: fast
    litellm_params:
      model: openai/{model}
      api_base: http://127.0.0.1:{mock_port}/v1
      api_key: sk-bench-dummy
litellm_settings:
  telemetry: false
  set_verbose: false
  json_logs: false
  drop_params: true
  turn_off_message_logging: true
  callbacks: []
  success_callback: []
  failure_callback: []
general_settings:
  disable_spend_logs: true
  disable_error_logs: true
  background_health_checks: false
"""


def start_litellm(procs: Procs, run_dir: Path, port: int, mock_port: int) -> Server:
    """LiteLLM's proxy, one uvicorn worker, with a throwaway master key (it refuses to start without)."""
    config = run_dir / "litellm.yaml"
    config.write_text(LITELLM_CONFIG.format(model=MOCK_MODEL, mock_port=mock_port))
    key = "sk-bench-" + secrets.token_hex(16)
    env = {**os.environ, "LITELLM_MASTER_KEY": key, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "LITELLM_LOG": "ERROR"}
    return _start(procs, "litellm-w1",
                  [str(LITELLM_DIR / "bin" / "litellm"), "--config", str(config), "--host", "127.0.0.1",
                   "--port", str(port)],
                  log_path=str(run_dir / "litellm-w1.log"), port=port, ready_path="/v1/chat/completions",
                  ready_body=encode(openai_body("fast")), env=env, key=key,
                  timeout=LITELLM_READY_TIMEOUT_S)


# --- SSE mock -------------------------------------------------------------------

def start_ssemock(procs: Procs, run_dir: Path, port: int) -> Server:
    """The paced SSE backend (benchlib/ssemock.py) in its own process."""
    env = {**os.environ, "PYTHONPATH": str(SCRIPTS_DIR)}
    return _start(procs, "sse-mock", [sys.executable, "-m", "benchlib.ssemock", "--port", str(port)],
                  log_path=str(run_dir / "sse-mock.log"), port=port, ready_path="/v1/models",
                  ready_body=None, env=env)
