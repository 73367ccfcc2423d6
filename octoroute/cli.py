"""The ``octoroute`` command: serve, check, route, config, demo.

This is the only module that knows waitress (with ``eventloop``, which steps
its socket map, and ``workers``, which wakes its threads). ``serve`` runs
waitress's event loop one step at a time so a SIGTERM or SIGINT can stop
accepting, let in-flight requests (streams included) finish within a bound,
stop the health thread and exit 0, instead of dropping work on the floor.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from octoroute import __version__, affinity
from octoroute.api.middleware import AfterResponse
from octoroute.app import Runtime, build_runtime, describe_endpoints
from octoroute.backends.client import BackendClient
from octoroute.config import (
    IMPORTANCES,
    STRATEGIES,
    Config,
    config_path,
    effective_log_level,
    load_config,
    parse_config,
)
from octoroute.errors import BackendError, ConfigError
from octoroute.eventloop import EventLoop
from octoroute.logs import configure_logging
from octoroute.routing.explain import print_explanation
from octoroute.routing.router import RouteInput
from octoroute.routing.rules import TASK_TYPES
from octoroute.workers import LifoTaskDispatcher

log = logging.getLogger("octoroute")

DRAIN_TIMEOUT_S = 10.0  # seconds in-flight requests get to finish after SIGTERM
POLL_TIMEOUT_S = 1.0  # seconds; waitress event-loop poll (signals wake it at once)
BODY_LIMIT_MARGIN = 1024 * 1024  # bytes; waitress's own limit sits above ours so the app answers 413


def example_config_text() -> str:
    """The documented example config shipped inside the package."""
    return resources.files("octoroute").joinpath("config.toml.example").read_text(encoding="utf-8")


# [server] keys a reload cannot apply
RESTART_ONLY = ("host", "port", "threads", "trusted_proxy", "cpu_affinity")
PROXY_HEADERS = {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}


class AppSwitch:
    """The WSGI app waitress calls; a reload swaps the app behind it atomically."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.current = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.current(environ, start_response)


class Server:
    """waitress, run one poll at a time so it can be drained on a signal.

    SIGHUP (``request_reload``) re-reads the config between polls: a valid one
    gets a fresh runtime that takes new requests at once, while the old one
    finishes what it is serving and is then closed; an invalid one is logged
    and ignored.
    """

    def __init__(self, runtime: Runtime, host: str, port: int, *,
                 reload_config: Callable[[], Config] | None = None) -> None:
        cfg = runtime.config.server
        self.runtime = runtime
        self.stop_requested = threading.Event()
        self._reload_requested = threading.Event()
        self._reload_config = reload_config
        self._retiring: list[threading.Thread] = []
        self._app = AppSwitch(runtime.app)
        proxy: dict[str, Any] = {}
        if cfg.trusted_proxy:
            proxy = {"trusted_proxy": cfg.trusted_proxy, "trusted_proxy_headers": PROXY_HEADERS,
                     "clear_untrusted_proxy_headers": True}
        self._waitress = create_server(
            AfterResponse(self._app), host=host, port=port, threads=cfg.threads, ident="octoroute",
            _dispatcher=LifoTaskDispatcher(cfg.threads),
            max_request_body_size=cfg.max_body_bytes + BODY_LIMIT_MARGIN,
            connection_limit=max(100, cfg.threads * 4), expose_tracebacks=False, **proxy)
        self._loop = EventLoop(self._waitress._map)
        # NOTE: waitress 3 flushes every write of a running task (send_bytes is
        # 1 and deprecated); 2.x held SSE chunks back until 18,000 bytes piled up,
        # hence waitress>=3 in setup.cfg.
        self.port: int = int(self._waitress.effective_port)
        self.host: str = str(self._waitress.effective_host)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def request_stop(self, *_: Any) -> None:
        """Signal-safe: ask the loop to drain and stop."""
        self.stop_requested.set()
        try:
            self._waitress.pull_trigger()
        except OSError:
            pass

    def request_reload(self, *_: Any) -> None:
        """Signal-safe: ask the loop to re-read the config."""
        self._reload_requested.set()
        try:
            self._waitress.pull_trigger()
        except OSError:
            pass

    def reload(self) -> bool:
        """Swap in a runtime built from the re-read config; keep the old one if it is invalid."""
        if self._reload_config is None:
            return False
        try:
            config = self._reload_config()
        except ConfigError as exc:
            log.error("reload failed; keeping the running config. Problems: %s",
                      " | ".join(exc.problems))
            return False
        old = self.runtime
        changed = [k for k in RESTART_ONLY
                   if getattr(config.server, k) != getattr(old.config.server, k)]
        if changed:
            log.warning("reload: server.%s changed; that takes a restart (the rest applies now)",
                        ", server.".join(changed))
        configure_logging(effective_log_level(config), config.observability.log_format,
                          background=True)
        new = build_runtime(config)
        new.health.start()
        self._app.current = new.app
        self.runtime = new
        retire = threading.Thread(target=self._retire, args=(old,), name="octoroute-retire", daemon=True)
        retire.start()
        self._retiring.append(retire)
        log.info("reloaded config from %s: %s", config.source, describe_endpoints(config))
        return True

    @staticmethod
    def _retire(old: Runtime) -> None:
        """Close a replaced runtime once the requests it was serving have finished."""
        if not old.slots.wait_idle(old.config.server.request_timeout_seconds + DRAIN_TIMEOUT_S):
            log.warning("replaced runtime still busy after its request timeout; closing it anyway")
        old.close()

    def serve(self, drain_timeout: float = DRAIN_TIMEOUT_S) -> None:
        """Serve until ``request_stop``; then drain in-flight requests and shut down."""
        server = self._waitress
        while not self.stop_requested.is_set():
            self._loop.step(POLL_TIMEOUT_S)
            if self._reload_requested.is_set():
                self._reload_requested.clear()
                self.reload()
        log.info("stopping: no longer accepting connections; draining in-flight requests "
                 "(up to %.0fs)", drain_timeout)
        server.accepting = False
        wasyncore.dispatcher.close(server)  # closes the listening socket, keeps the trigger
        deadline = time.monotonic() + drain_timeout
        while self._busy() and time.monotonic() < deadline:
            self._loop.step(0.05)
        if self._busy():
            log.warning("drain timed out after %.0fs; closing remaining connections", drain_timeout)
        for channel in list(server.active_channels.values()):
            channel.handle_close()
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=2.0)
        server.trigger.close()
        self._loop.close()
        self.runtime.close()
        for retire in self._retiring:
            retire.join(timeout=1.0)
        log.info("stopped")

    def _busy(self) -> bool:
        dispatcher = self._waitress.task_dispatcher
        with dispatcher.lock:
            if dispatcher.queue:
                return True
        return any(ch.requests or ch.total_outbufs_len
                   for ch in list(self._waitress.active_channels.values()))


def _install_signals(server: Server) -> None:
    signal.signal(signal.SIGTERM, server.request_stop)
    signal.signal(signal.SIGINT, server.request_stop)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, server.request_reload)


def _load(path_arg: str | None) -> Config:
    return load_config(config_path(path_arg))


def _print_config_error(exc: ConfigError) -> None:
    print(f"octoroute: invalid configuration in {exc.source}:", file=sys.stderr)
    for problem in exc.problems:
        print(f"  - {problem}", file=sys.stderr)


# --- commands ------------------------------------------------------------

def cmd_serve(args: argparse.Namespace) -> int:
    config = _load(args.config)
    configure_logging(effective_log_level(config), config.observability.log_format, background=True)
    path = config_path(args.config)
    return _serve(config, args.host or config.server.host,
                  config.server.port if args.port is None else args.port,
                  reload_config=lambda: load_config(path))


def _serve(config: Config, host: str, port: int, on_ready: Callable[[Server], None] | None = None,
           reload_config: Callable[[], Config] | None = None) -> int:
    cpus = config.server.cpu_affinity
    if cpus is not None:
        affinity.pin(cpus, config.source)  # a ConfigError is reported by main(): exit 1
    runtime = build_runtime(config)
    try:
        server = Server(runtime, host, port, reload_config=reload_config)
    except OSError as exc:
        runtime.close()
        print(f"octoroute: cannot listen on {host}:{port}: {exc.strerror}; "
              "choose another --port or stop what is using it", file=sys.stderr)
        return 1
    _install_signals(server)
    runtime.health.start()
    # The start-up line shows at any log level: it is how an operator knows where to look.
    pinned = "" if cpus is None else f", pinned to CPU {affinity.format_cpu_list(cpus)}"
    log.log(max(logging.INFO, logging.getLogger().getEffectiveLevel()),
            "octoroute %s listening on %s (strategy %s, %d threads%s) endpoints: %s", __version__,
            server.url, config.routing.strategy, config.server.threads, pinned,
            describe_endpoints(config))
    if on_ready is not None:
        on_ready(server)
    server.serve()
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config.server.cpu_affinity is not None:
        affinity.check(config.server.cpu_affinity, config.source)
    timeout = config.health.timeout_seconds

    def probe(client: BackendClient) -> tuple[bool, float, str]:
        started = time.monotonic()
        try:
            client.probe(timeout=timeout)
        except BackendError as exc:
            return False, time.monotonic() - started, str(exc)
        return True, time.monotonic() - started, ""

    clients = [BackendClient(e, pool_size=1) for e in config.endpoints]
    with ThreadPoolExecutor(max_workers=min(8, len(clients))) as pool:
        results = list(pool.map(probe, clients))
    for c in clients:
        c.close()
    rows = [("TIER", "ID", "URL", "REACHABLE", "LATENCY", "ERROR")]
    for client, (ok, seconds, error) in zip(clients, results, strict=True):
        e = client.endpoint
        rows.append((e.tier, e.id, e.base_url, "yes" if ok else "no", f"{seconds * 1000:.0f} ms", error))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print(("  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + r[5]).rstrip())
    down = sum(1 for ok, _, _ in results if not ok)
    print(f"\nconfig {config.source}: valid; {len(results) - down}/{len(results)} endpoints reachable")
    return 2 if down else 0


def cmd_route(args: argparse.Namespace) -> int:
    config = _load(args.config)
    configure_logging("warning" if not args.verbose else "debug", "text")
    runtime = build_runtime(config)
    inp = RouteInput(text=args.prompt, importance=args.importance or config.routing.default_importance,
                     task_type=args.task_type)
    try:
        if args.explain:
            decision, scored, layers = runtime.router.explain(inp, strategy=args.strategy)
        else:
            decision = runtime.router.route(inp, strategy=args.strategy)
    finally:
        runtime.close()
    if args.explain and not args.json:
        print_explanation(decision, scored, layers)
        return 0
    out = {"tier": decision.tier, "strategy": decision.strategy, "rule": decision.rule,
           "confidence": decision.confidence, "reason": decision.reason,
           "task_type": decision.task_type, "task_type_inferred": decision.task_type_inferred,
           "importance": decision.importance, "token_estimate": decision.token_estimate,
           "router_endpoint": decision.brain_endpoint, "routing_ms": round(decision.duration_ms, 3),
           "warnings": list(decision.warnings)}
    if args.explain:
        out["signals"] = dict(scored.signals)  # type: ignore[assignment]
        out["layers"] = [layer._asdict() for layer in layers]  # type: ignore[misc]
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:18} {value if value is not None else '-'}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    sys.stdout.write(example_config_text())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from octoroute.simulated import SimulatedBackend  # demo-only code stays out of serve's imports

    backends = {
        "fast": SimulatedBackend("fast", "simulated-8b").start(),
        "balanced": SimulatedBackend("balanced", "simulated-30b").start(),
        "deep": SimulatedBackend("deep", "simulated-120b").start(),
    }
    config = parse_config({
        "server": {"host": "127.0.0.1", "port": args.port, "threads": 8},
        "models": {t: {"id": f"{t}-sim", "name": b.model, "base_url": b.base_url, "max_tokens": 1024}
                   for t, b in backends.items()},
        "routing": {"strategy": args.strategy},
        "health": {"interval_seconds": 5},
    }, source="<demo>", env={})
    configure_logging(effective_log_level(config), "text")

    def banner(server: Server) -> None:
        u = server.url
        print(f"""
Octoroute demo: the real router on {u}, in front of three SIMULATED backends
(canned answers, not a real model): fast on :{backends['fast'].port}, balanced on \
:{backends['balanced'].port}, deep on :{backends['deep'].port}. Strategy: {args.strategy}.

Try:
  curl -s {u}/chat -d '{{"prompt": "hi there!"}}'
  curl -s {u}/chat -d '{{"prompt": "Explain quantum computing in simple terms"}}'
  curl -s {u}/chat -d '{{"prompt": "Design a distributed consensus algorithm", "importance": "high"}}'
  curl -s {u}/chat -d '{{"prompt": "hello", "model": "deep"}}'
  curl -s {u}/models
  curl -s {u}/metrics | grep octoroute_requests_total
Ctrl-C stops it. Point Octoroute at real models with: octoroute config > config.toml
""", flush=True)

    try:
        return _serve(config, "127.0.0.1", args.port, on_ready=banner)
    finally:
        for b in backends.values():
            b.stop()


# --- argument parsing ----------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="octoroute", description=(
        "Route each LLM request to the right-sized local model tier (fast, balanced, deep)."))
    parser.add_argument("--version", action="version", version=f"octoroute {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    config_help = "config file (default: $OCTOROUTE_CONFIG, else ./config.toml)"

    p = sub.add_parser("serve", help="run the router")
    p.add_argument("--config", help=config_help)
    p.add_argument("--host", help="listen address (overrides server.host)")
    p.add_argument("--port", type=int, help="listen port (overrides server.port)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("check", help="validate the config and probe every endpoint once")
    p.add_argument("--config", help=config_help)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("route", help="print the routing decision for a prompt")
    p.add_argument("prompt")
    p.add_argument("--config", help=config_help)
    p.add_argument("--task-type", choices=TASK_TYPES)
    p.add_argument("--importance", choices=IMPORTANCES)
    p.add_argument("--strategy", choices=STRATEGIES, help="override routing.strategy")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--explain", action="store_true",
                   help="print the signals, each layer's verdict and what decided")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.set_defaults(func=cmd_route)

    p = sub.add_parser("config", help="print the documented example config")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("demo", help="run the router in front of three simulated backends")
    p.add_argument("--port", type=int, default=3000, help="router port (default 3000)")
    p.add_argument("--strategy", choices=STRATEGIES, default="hybrid")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except ConfigError as exc:
        _print_config_error(exc)
        return 1
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
