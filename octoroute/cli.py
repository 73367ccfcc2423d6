"""The ``octoroute`` command: serve, check, route, config, demo.

Argument parsing, logging set-up and signals; the server itself (waitress,
the drain on SIGTERM, the reload on SIGHUP) is ``octoroute.server``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

from octoroute import __version__, evaluate, stats_table
from octoroute.api.schemas import PROMPT_TEXT
from octoroute.app import build_runtime
from octoroute.backends.client import BackendClient
from octoroute.backends.discovery import Discovery, group_by_server, missing_reason
from octoroute.backends.facts import ServerFacts
from octoroute.config import (
    CONFIG_ENV,
    IMPORTANCES,
    STRATEGIES,
    Config,
    EndpointConfig,
    config_path,
    effective_log_level,
    load_config,
    parse_config,
)
from octoroute.errors import BackendError, ConfigError
from octoroute.logs import configure_logging, stop_logging
from octoroute.routing.explain import print_explanation
from octoroute.routing.router import RouteInput
from octoroute.routing.rules import TASK_TYPES
from octoroute.server import Server, run

log = logging.getLogger("octoroute")


def example_config_text() -> str:
    """The documented example config shipped inside the package."""
    return resources.files("octoroute").joinpath("config.toml.example").read_text(encoding="utf-8")


def port_number(text: str) -> int:
    """argparse type for ``--port``: a TCP port, 1 to 65535."""
    try:
        port = int(text.strip())
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a TCP port; give a number from 1 to 65535, e.g. --port 3000")
    return port


def host_name(text: str) -> str:
    """argparse type for ``--host``: a non-blank host name or address."""
    if not text.strip() or any(c.isspace() for c in text.strip()):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a host name or address; give one, e.g. --host 127.0.0.1 (or 0.0.0.0 for "
            "every interface)")
    return text.strip()


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
    try:
        return run(config, args.host or config.server.host,
                   config.server.port if args.port is None else args.port,
                   reload_config=lambda: load_config(path))
    finally:
        stop_logging()


def _unresolvable(host: str) -> str | None:
    """Why ``host`` cannot be listened on (it does not resolve), or None."""
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        return str(exc.strerror or exc)
    return None


def cmd_check(args: argparse.Namespace) -> int:
    config = _load(args.config)
    reason = _unresolvable(config.server.host)
    if reason is not None:
        raise ConfigError([f"server.host: {config.server.host!r} does not resolve ({reason}); write an "
                           'address this machine has, e.g. host = "127.0.0.1" (or "0.0.0.0")'],
                          config.source)
    timeout = config.health.timeout_seconds
    clients = {e.id: BackendClient(e, pool_size=1) for e in config.endpoints}
    discovery = Discovery(clients, timeout=timeout, clock=time.monotonic)

    def read(group: list[EndpointConfig]) -> tuple[dict[str, ServerFacts], float, str]:
        started = time.monotonic()
        try:
            facts = discovery.read(group)
        except BackendError as exc:
            return {}, time.monotonic() - started, str(exc)
        return facts, time.monotonic() - started, ""

    groups = group_by_server(config.endpoints)
    with ThreadPoolExecutor(max_workers=min(8, len(groups))) as pool:
        outcomes = list(pool.map(read, groups))
    for c in clients.values():
        c.close()
    results: dict[str, tuple[ServerFacts | None, float, str]] = {}
    for group, (facts, seconds, error) in zip(groups, outcomes, strict=True):
        for e in group:
            results[e.id] = (facts.get(e.id), seconds, error)
    rows = [("TIER", "ID", "URL", "REACHABLE", "LATENCY", "KIND", "MODEL", "ERROR")]
    fixes: list[str] = []
    for e in config.endpoints:
        found, seconds, error = results[e.id]
        model = "-"
        if found is not None and found.model_found is not None:
            model = "found" if found.model_found else "MISSING"
        if found is not None and found.model_found is False:
            error = missing_reason(e, found)
            fixes.append(_model_fix(e, found, config.source))
        kind = found.kind if found is not None and found.kind else "-"
        rows.append((e.tier, e.id, e.base_url, "yes" if found is not None else "no",
                     f"{seconds * 1000:.0f} ms", kind, model, error))
    widths = [max(len(r[i]) for r in rows) for i in range(7)]
    for r in rows:
        print(("  ".join(r[i].ljust(widths[i]) for i in range(7)) + "  " + r[7]).rstrip())
    down = sum(1 for found, _, _ in results.values() if found is None)
    print(f"\nconfig {config.source}: valid; {len(results) - down}/{len(results)} endpoints reachable")
    if fixes:
        print(f"{len(fixes)} endpoint(s) name a model their server does not serve:")
        for fix in fixes:
            print(f"  - {fix}")
        return 1
    return 2 if down else 0


ROUTE_WARM_UP_WAIT_S = 30.0  # seconds `route` waits for the semantic layer's exemplars to be embedded


def _model_fix(endpoint: EndpointConfig, facts: ServerFacts, source: str) -> str:
    """The one line that tells the user what to write instead of a misspelt model name."""
    text = f"{endpoint.id}: {missing_reason(endpoint, facts)}"
    if facts.suggestion is not None:
        text += (f' Write name = "{facts.suggestion}" in the [[models.{endpoint.tier}]] entry with '
                 f'id = "{endpoint.id}" ({source}).')
    return text


def cmd_route(args: argparse.Namespace) -> int:
    if not PROMPT_TEXT.search(args.prompt):
        # The API's own words for the same mistake (api/schemas.py).
        print("octoroute route: error: field 'prompt' must not be empty or blank", file=sys.stderr)
        return 2
    path = config_path(args.config)
    configure_logging("warning" if not args.verbose else "debug", "text")
    if args.config is None and not os.environ.get(CONFIG_ENV) and not os.path.exists(path):
        # Trying a prompt needs no servers: with no config file yet, decide with the shipped routing
        # defaults (as ``octoroute eval`` does), saying so, rather than stop at a missing file.
        print(f"octoroute route: no {path}; deciding with the built-in routing defaults (rules and scorer, "
              "no router brain or semantic layer). Pass --config for your own.", file=sys.stderr)
        config = evaluate.placeholder_config()
        router, close = evaluate.build_router(config), None
        # As said: no brain to ask, so an unsure decision is the scorer's, not a brain's failure to warn of.
        strategy = args.strategy or "rule"
    else:
        config = load_config(path)
        runtime = build_runtime(config)
        router, close = runtime.router, runtime.close
        strategy = args.strategy
        if runtime.semantic is not None:
            # A server embeds its exemplars in the background; a one-shot route waits for them (bounded),
            # or its semantic layer would only ever say "not ready".
            runtime.semantic.wait_warm_up(ROUTE_WARM_UP_WAIT_S)
    inp = RouteInput(text=args.prompt, importance=args.importance or config.routing.default_importance,
                     task_type=args.task_type)
    try:
        if args.explain:
            decision, scored, layers = router.explain(inp, strategy=strategy)
        else:
            decision = router.route(inp, strategy=strategy)
    finally:
        if close is not None:
            close()
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


def cmd_stats(args: argparse.Namespace) -> int:
    try:
        data = stats_table.fetch(args.url, key=os.environ.get(stats_table.KEY_ENV) or None,
                                 timeout=args.timeout)
    except stats_table.StatsUnavailable as exc:
        print(f"octoroute stats: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(stats_table.render(data, url=args.url, window=args.window))
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
        return run(config, "127.0.0.1", args.port, on_ready=banner)
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
    p.add_argument("--host", type=host_name, help="listen address (overrides server.host)")
    p.add_argument("--port", type=port_number, help="listen port, 1-65535 (overrides server.port)")
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

    p = sub.add_parser("stats", help="print a running server's /stats as tables",
                       description=f"Read /stats from a running Octoroute (with the client key in "
                                   f"${stats_table.KEY_ENV} when the server has keys).")
    p.add_argument("--url", default="http://127.0.0.1:3000", help="the server (default http://127.0.0.1:3000)")
    p.add_argument("--window", choices=stats_table.WINDOWS, default="total",
                   help="the window of the tier and endpoint tables (default: since start)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the answer (default 10)")
    p.add_argument("--json", action="store_true", help="print the JSON as it came")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("config", help="print the documented example config")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("demo", help="run the router in front of three simulated backends")
    p.add_argument("--port", type=port_number, default=3000, help="router port (default 3000)")
    p.add_argument("--strategy", choices=STRATEGIES, default="hybrid")
    p.set_defaults(func=cmd_demo)

    evaluate.add_parser(sub)  # the command lives in evaluate.py
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
