"""Helpers for the reliability and security tests (faults, overload, reload, nginx).

Kept apart from ``conftest.py`` and ``fakes.py``: a census of the process's
threads and sockets for leak checks, an OpenAI-like fake behaviour that
streams when asked to, a child ``octoroute serve`` process whose log lines
can be awaited, a config-file writer, log capture through Octoroute's own
formatters, and our own nginx instance under a temporary prefix.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import toml
from octoroute.logs import JsonFormatter, RequestIdFilter, TextFormatter

from fakes import DONE_EVENT, Exchange, FakeBackend, answer, delta_events, endpoint

READY_TIMEOUT_S = 20.0  # seconds; a child octoroute must print its listening line within this
EXIT_TIMEOUT_S = 20.0  # seconds; a child must exit within this after SIGTERM
SETTLE_TIMEOUT_S = 5.0  # seconds; threads and sockets get this long to wind down after a batch


# --- fake behaviours ----------------------------------------------------------

def nodelay(ex: Exchange) -> None:
    """Disable Nagle on the fake's socket.

    NOTE: the fake writes headers and body separately; with Nagle on, the body waits for
    the client's delayed ACK (~40 ms per answer), which would dominate property tests.
    """
    with contextlib.suppress(OSError):
        ex.handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def openai_like(texts: Iterable[str] = ("simulated", " answer")) -> Callable[[Exchange], None]:
    """Answer like a real server: SSE (with ``[DONE]``) when the body asks to stream, else JSON."""
    plain = answer()
    events = b"".join(delta_events(list(texts))) + DONE_EVENT

    def run(ex: Exchange) -> None:
        nodelay(ex)
        data = ex.request.json
        if isinstance(data, dict) and data.get("stream") is True:
            h = ex.handler
            h.send_response(200)
            h.send_header("Content-Type", "text/event-stream")
            h.send_header("Content-Length", str(len(events)))
            h.end_headers()
            h.wfile.write(events)
            h.wfile.flush()
        else:
            plain(ex)
    return run


def oversized(size: int) -> Callable[[Exchange], None]:
    """A well-formed completion whose body is about ``size`` bytes."""
    return answer("x" * size)


# --- leak census --------------------------------------------------------------

def _tcp_table() -> dict[str, tuple[int, int]]:
    """Socket inode -> (local port, remote port) for every TCP socket in this network namespace."""
    table: dict[str, tuple[int, int]] = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, remote, inode = parts[1], parts[2], parts[9]
            table[inode] = (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16))
    return table


def open_sockets() -> list[tuple[int, int]]:
    """(local port, remote port) of every TCP socket this process holds open."""
    table = _tcp_table()
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            ports = table.get(target[8:-1])
            if ports is not None:
                found.append(ports)
    return found


@dataclass(frozen=True)
class Census:
    """What this process holds at one instant."""

    threads: int  # every thread but the fakes' own (they belong to the test, not Octoroute)
    fds: int  # every open file descriptor
    router_sockets: int  # Octoroute's sockets: accepted from clients, or connected to backends

    @classmethod
    def take(cls, router_port: int, backend_ports: Iterable[int]) -> Census:
        backends = set(backend_ports)
        threads = sum(1 for t in threading.enumerate() if not t.name.startswith("fake-"))
        socks = open_sockets()
        mine = sum(1 for local, remote in socks if local == router_port or remote in backends)
        return cls(threads, len(os.listdir("/proc/self/fd")), mine)


def settled(take: Callable[[], Census], baseline: Census, tolerance: int,
            timeout: float = SETTLE_TIMEOUT_S) -> Census:
    """Wait (bounded) until the census is back within ``tolerance`` of ``baseline``; return it."""
    deadline = time.monotonic() + timeout
    while True:
        now = take()
        if (now.threads <= baseline.threads + tolerance and now.fds <= baseline.fds + tolerance
                and now.router_sockets <= baseline.router_sockets + tolerance):
            return now
        if time.monotonic() > deadline:
            return now
        time.sleep(0.05)


# --- config files and a child ``octoroute serve`` -------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_dict(tiers: Mapping[str, Iterable[FakeBackend | Mapping[str, Any]]], *,
                port: int, **sections: Mapping[str, Any]) -> dict[str, Any]:
    """A config as plain data (for a TOML file), test-friendly like ``fakes.make_config``."""
    models = {tier: [endpoint(e) if isinstance(e, FakeBackend) else dict(e) for e in entries]
              for tier, entries in tiers.items()}
    data: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": port, "threads": 8, "request_timeout_seconds": 10},
        "routing": {"strategy": "rule"},
        "health": {"interval_seconds": 60, "timeout_seconds": 2},
        "timeouts": {"fast": 5, "balanced": 5, "deep": 5},
        "models": models,
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return data


def write_config(path: Path, data: Mapping[str, Any]) -> Path:
    path.write_text(toml.dumps(dict(data)), encoding="utf-8")
    return path


def octoroute_script() -> str:
    """The installed console script (the same entry point users run)."""
    candidate = Path(sysconfig.get_path("scripts")) / "octoroute"
    return str(candidate) if candidate.exists() else str(Path(sys.executable).parent / "octoroute")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OCTOROUTE") and k.lower() not in ("http_proxy", "https_proxy",
                                                                   "all_proxy")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class Child:
    """A child process whose output lines are collected by reader threads."""

    def __init__(self, argv: list[str], *, env: Mapping[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(argv, env=dict(env) if env is not None else child_env(), cwd=cwd,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        self._cond = threading.Condition()  # guards lines
        self.lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._readers = [threading.Thread(target=self._read, args=(name, stream), daemon=True,
                                          name=f"faultkit-{name}")
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

    def text(self, stream: str = "stderr") -> str:
        with self._cond:
            return "\n".join(self.lines[stream])

    def describe(self) -> str:
        return (f"{' '.join(self.argv)} (exit {self.proc.poll()})\n--- stdout\n{self.text('stdout')}"
                f"\n--- stderr\n{self.text('stderr')}")

    def wait_for(self, needle: str, *, count: int = 1, stream: str = "stderr",
                 timeout: float = READY_TIMEOUT_S) -> list[str]:
        """The first ``count`` lines containing ``needle``; fails if the child ends first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [line for line in self.lines[stream] if needle in line]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0 or not any(t.is_alive() for t in self._readers):
                    break
                self._cond.wait(min(left, 0.2))
        raise AssertionError(f"{count} line(s) with {needle!r} never appeared: {self.describe()}")

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = EXIT_TIMEOUT_S) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"did not exit within {timeout:g}s: {self.describe()}") from None
        for t in self._readers:
            t.join(5)
        return code

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not go; always reaps."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for t in self._readers:
            t.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def serve_child(config: Path, *, env: Mapping[str, str] | None = None) -> Child:
    """``octoroute serve --config config`` as a child; returns once it is listening."""
    child = Child([octoroute_script(), "serve", "--config", str(config)], env=env)
    child.wait_for("listening on")
    return child


# --- logs ---------------------------------------------------------------------

@contextlib.contextmanager
def rendered_logs(level: int = logging.DEBUG, logger_name: str = "octoroute"
                  ) -> Iterator[dict[str, io.StringIO]]:
    """Render every record of ``logger_name`` through the production text and JSON formatters."""
    outputs = {"text": io.StringIO(), "json": io.StringIO()}
    handlers = []
    for fmt, stream in outputs.items():
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
        handler.addFilter(RequestIdFilter())
        handler.setLevel(level)
        handlers.append(handler)
    logger = logging.getLogger(logger_name)
    old_level = logger.level
    logger.setLevel(level)
    for h in handlers:
        logger.addHandler(h)
    try:
        yield outputs
    finally:
        for h in handlers:
            logger.removeHandler(h)
        logger.setLevel(old_level)


# --- nginx --------------------------------------------------------------------

NGINX = "/usr/sbin/nginx"
NGINX_EXAMPLE = Path(__file__).resolve().parent.parent / "scripts" / "nginx-octoroute.conf"
NGINX_MAIN = """\
# nginx.conf for a test: our own prefix, pid file and logs; includes the example verbatim.
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/octoroute.conf;
}}
"""


def self_signed_cert(directory: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A throwaway certificate and key for ``host`` (openssl)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host},IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class Nginx:
    """nginx in the foreground as our own child, serving the example config."""

    def __init__(self, prefix: Path, substitutions: Mapping[str, str]) -> None:
        self.prefix = prefix
        text = NGINX_EXAMPLE.read_text(encoding="utf-8")
        for old, new in substitutions.items():
            assert old in text, f"{old!r} is not in {NGINX_EXAMPLE}"
            text = text.replace(old, new)
        (prefix / "octoroute.conf").write_text(text, encoding="utf-8")
        (prefix / "nginx.conf").write_text(NGINX_MAIN.format(prefix=prefix), encoding="utf-8")
        argv = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        check = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, f"nginx -t rejected the example config:\n{check.stderr}"
        self.child = Child(argv)

    def wait_listening(self, port: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                return
            assert self.child.proc.poll() is None, f"nginx exited: {self.child.describe()}"
            assert time.monotonic() < deadline, f"nginx not listening on {port}: {self.child.describe()}"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.child.proc.poll() is None:
            self.child.proc.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
            try:
                self.child.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.child.proc.kill()
        self.child.stop()
