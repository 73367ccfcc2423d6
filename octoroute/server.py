"""waitress, through its public API, with a drain on stop and a reload on SIGHUP.

The only module that knows waitress. ``waitress.create_server`` gets our own
listening socket (the ``sockets`` adjustment) and our own socket map (its
``map`` argument); ``server.run()`` runs on a thread of its own. The thread
that called ``Server.serve`` waits for a stop or a reload request (a signal
handler, or another thread) and acts on it:

- reload: re-read the config, swap a fresh runtime in behind the app, retire
  the old one once the chats it was serving have ended;
- stop: stop accepting, let in-flight requests (streams included) finish
  within a bound, counted by our own middleware (``InFlight``), then close
  the remaining connections, the worker threads and the runtime.

Whatever touches waitress's sockets runs on the event-loop thread, handed
over through the trigger that waitress itself uses for that (its thunks run
on the loop's thread): closing a socket under a ``select`` or ``poll`` on
another thread is a race, and closing the trigger while workers still pull
it is another.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

import waitress

from octoroute import __version__
from octoroute.api.middleware import AfterResponse, ThenRun
from octoroute.app import Runtime, build_runtime, describe_endpoints
from octoroute.config import Config, ServerConfig, effective_log_level
from octoroute.errors import ConfigError
from octoroute.logs import configure_logging

log = logging.getLogger("octoroute")

DRAIN_TIMEOUT_S = 10.0  # seconds in-flight requests get to finish after SIGTERM
STOP_TIMEOUT_S = 5.0  # seconds the event loop gets to act on a request or to end after the drain
WORKERS_STOP_TIMEOUT_S = 2.0  # seconds worker threads get to end after the drain (then left behind)
# waitress answers a body above its own limit with a plain-text 413 before the
# app sees it; ours (server.max_body_bytes) answers in JSON. waitress's sits
# this many times above ours, so a body that is too large gets our JSON 413 up
# to that size. Beyond it waitress refuses without reading the body: an
# unbounded limit would let any client spool gigabytes to waitress's temp files.
WAITRESS_BODY_FACTOR = 16
# Requests waitress reads ahead on a connection while one is being served;
# above 0 it also watches the socket during a response, which is what makes
# environ["waitress.client_disconnected"] report a client that hung up.
REQUEST_LOOKAHEAD = 4
RESTART_ONLY = ("host", "port", "threads", "trusted_proxy")  # [server] keys a reload cannot apply
PROXY_HEADERS = {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}


def waitress_adjustments(cfg: ServerConfig) -> dict[str, Any]:
    """waitress's documented settings for ``cfg`` (no ``host``/``port``: we pass the socket)."""
    adjustments: dict[str, Any] = {
        "threads": cfg.threads, "ident": "octoroute",
        "connection_limit": max(100, cfg.threads * 4),
        "max_request_body_size": cfg.max_body_bytes * WAITRESS_BODY_FACTOR,
        "channel_request_lookahead": REQUEST_LOOKAHEAD,
        "expose_tracebacks": False,
    }
    if cfg.trusted_proxy:
        adjustments.update(trusted_proxy=cfg.trusted_proxy, trusted_proxy_headers=PROXY_HEADERS,
                           clear_untrusted_proxy_headers=True)
    return adjustments


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on the first address ``host`` resolves to; ``OSError`` if none."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                  flags=socket.AI_PASSIVE)[0]
    return socket.create_server(address[:2], family=family, backlog=1024)


class AppSwitch:
    """The WSGI app waitress calls; a reload swaps the app behind it atomically."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.current = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.current(environ, start_response)


class InFlight:
    """WSGI middleware counting requests from the app call until waitress closes the response.

    A request counts until its response has been sent and closed (a stream
    until its last byte, the access line logged after it included): what a
    drain has to wait for. While draining, responses say ``Connection: close``
    so a keep-alive client does not send its next request to a server that
    is going away.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.draining = False
        self.count = 0
        self._count_changed = threading.Condition(threading.Lock())  # guards ``count``

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self._count_changed:
            self.count += 1
        if self.draining:
            start_response = _closing(start_response)
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self._done()
            raise
        return ThenRun(result, [self._done])

    def _done(self) -> None:
        with self._count_changed:
            self.count -= 1
            if self.count == 0:
                self._count_changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no request is in flight; False if some still are after ``timeout`` seconds."""
        with self._count_changed:
            return self._count_changed.wait_for(lambda: self.count == 0, timeout)


def _closing(start_response: Callable[..., Any]) -> Callable[..., Any]:
    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        headers = [(k, v) for k, v in headers if k.lower() != "connection"]
        headers.append(("Connection", "close"))
        return start_response(status, headers, exc_info)
    return start


class Server:
    """One runtime served by waitress on ``host:port`` until ``request_stop``.

    ``request_stop`` and ``request_reload`` only set a flag and write a byte
    to a socket pair, so they are safe in a signal handler and from any
    thread; ``serve`` does the work. A reload with an invalid config is
    logged and ignored: the running config keeps serving.
    """

    def __init__(self, runtime: Runtime, host: str, port: int, *,
                 reload_config: Callable[[], Config] | None = None) -> None:
        self.runtime = runtime
        self._reload_config = reload_config
        self._retiring: list[threading.Thread] = []
        self._stop_requested = False
        self._reload_requested = False
        self._handles_signals = False
        self._switch = AppSwitch(runtime.app)
        self._requests = InFlight(AfterResponse(self._switch))
        self._listener = listen(host, port)
        self.host: str = self._listener.getsockname()[0]
        self.port: int = self._listener.getsockname()[1]
        self._socket_map: dict[int, Any] = {}
        try:
            self._waitress = waitress.create_server(self._requests, map=self._socket_map,
                                                    sockets=[self._listener],
                                                    **waitress_adjustments(runtime.config.server))
        except BaseException:
            self._listener.close()
            raise
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_writer.setblocking(False)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def request_stop(self, *_: Any) -> None:
        """Ask ``serve`` to drain and stop (signal-safe)."""
        self._stop_requested = True
        self._wake()

    def request_reload(self, *_: Any) -> None:
        """Ask ``serve`` to re-read the config (signal-safe)."""
        self._reload_requested = True
        self._wake()

    def _wake(self) -> None:
        try:
            self._wake_writer.send(b"\0")
        except OSError:  # full (a wake-up is pending anyway) or closed (stopped already)
            pass

    def handle_signals(self) -> None:
        """SIGTERM and SIGINT stop, SIGHUP reloads (call from the main thread, before ``serve``).

        The wake-up socket is also the signal wake-up fd: a signal delivered to
        any thread wakes ``serve``, which then runs the handler.
        """
        signal.set_wakeup_fd(self._wake_writer.fileno(), warn_on_full_buffer=False)
        self._handles_signals = True
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, self.request_reload)

    def wait_idle(self, timeout: float) -> bool:
        """Block until no request is in flight (its access line included)."""
        return self._requests.wait_idle(timeout)

    def serve(self, drain_timeout: float = DRAIN_TIMEOUT_S) -> None:
        """Serve until ``request_stop``; then drain in-flight requests and shut down."""
        loop = threading.Thread(target=self._run_loop, name="octoroute-waitress", daemon=True)
        loop.start()
        while not self._stop_requested:
            self._wake_reader.recv(64)
            if self._reload_requested:
                self._reload_requested = False
                self.reload()
        self._drain(drain_timeout)
        loop.join(STOP_TIMEOUT_S)
        if loop.is_alive():
            log.warning("waitress's event loop did not end within %.0fs", STOP_TIMEOUT_S)
        self.runtime.close()
        for retire in self._retiring:
            retire.join(timeout=1.0)
        if self._handles_signals:
            signal.set_wakeup_fd(-1)  # before its socket closes and the number is reused
        self._wake_reader.close()
        self._wake_writer.close()
        log.info("stopped")

    def _run_loop(self) -> None:
        try:
            self._waitress.run()
        finally:  # the loop ended (or failed): let serve() go on to shut down
            self.request_stop()

    def _drain(self, timeout: float) -> None:
        """Stop accepting, wait for in-flight requests, then end the connections and workers.

        NOTE: waitress documents no programmatic stop (Pylons/waitress#372; a
        graceful shutdown is proposed in #499), so this uses the server's
        public-named but undocumented ``trigger``, ``accepting``,
        ``del_channel`` and ``task_dispatcher``; ``server.close()`` from this
        thread would race the loop's ``select``. docs/architecture.md has why.
        """
        log.info("stopping: no longer accepting connections; draining in-flight requests "
                 "(up to %.0fs)", timeout)
        self._requests.draining = True
        self._on_loop(self._stop_accepting)
        if not self._requests.wait_idle(timeout):
            log.warning("drain timed out after %.0fs; closing remaining connections", timeout)
            self._on_loop(lambda: self._close_channels(keep_trigger=True))
        self._waitress.task_dispatcher.shutdown(timeout=WORKERS_STOP_TIMEOUT_S)
        self._on_loop(lambda: self._close_channels(keep_trigger=False))

    def _on_loop(self, work: Callable[[], None]) -> None:
        """Run ``work`` on waitress's event-loop thread and wait for it (bounded)."""
        done = threading.Event()

        def thunk() -> None:
            try:
                work()
            finally:
                done.set()

        try:
            self._waitress.trigger.pull_trigger(thunk)
        except OSError:  # the loop has ended already (and closed its trigger)
            return
        if not done.wait(STOP_TIMEOUT_S):
            log.warning("waitress's event loop did not answer within %.0fs", STOP_TIMEOUT_S)

    def _stop_accepting(self) -> None:
        self._waitress.accepting = False
        self._waitress.del_channel()
        self._listener.close()

    def _close_channels(self, *, keep_trigger: bool) -> None:
        """Close every connection (and the trigger, unless kept): an empty map ends ``run()``."""
        trigger = self._waitress.trigger
        for dispatcher in list(self._socket_map.values()):
            if dispatcher is not trigger:
                dispatcher.handle_close()
        if not keep_trigger:
            trigger.close()

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
        configure_logging(effective_log_level(config), config.observability.log_format, background=True)
        new = build_runtime(config)
        new.health.start()
        self._switch.current = new.app
        self.runtime = new
        retire = threading.Thread(target=_retire, args=(old,), name="octoroute-retire", daemon=True)
        retire.start()
        self._retiring.append(retire)
        log.info("reloaded config from %s: %s", config.source, describe_endpoints(config))
        return True


def _retire(old: Runtime) -> None:
    """Close a replaced runtime once the chats it was serving have finished."""
    if not old.slots.wait_idle(old.config.server.request_timeout_seconds + DRAIN_TIMEOUT_S):
        log.warning("replaced runtime still busy after its request timeout; closing it anyway")
    old.close()


def run(config: Config, host: str, port: int, *, on_ready: Callable[[Server], None] | None = None,
        reload_config: Callable[[], Config] | None = None) -> int:
    """Serve ``config`` on ``host:port`` until a signal stops it (this is the main thread).

    Returns 0, or 1 when the address is unusable.
    """
    runtime = build_runtime(config)
    try:
        server = Server(runtime, host, port, reload_config=reload_config)
    except OSError as exc:
        runtime.close()
        print(f"octoroute: cannot listen on {host}:{port}: {exc.strerror or exc}; choose another "
              "--port (or server.host) or stop what is using it", file=sys.stderr)
        return 1
    server.handle_signals()
    runtime.health.start()
    # The start-up line shows at any log level: it is how an operator knows where to look.
    log.log(max(logging.INFO, logging.getLogger().getEffectiveLevel()),
            "octoroute %s listening on %s (strategy %s, %d threads) endpoints: %s", __version__,
            server.url, config.routing.strategy, config.server.threads, describe_endpoints(config))
    if on_ready is not None:
        on_ready(server)
    server.serve()
    return 0
