"""Shared fixtures: fake backends, configs, and Octoroute under a real waitress server.

``serve(config)`` runs ``build_runtime(config)`` under the production
``octoroute.server.Server`` (waitress with the settings ``octoroute serve`` uses)
on an ephemeral loopback port, on a thread, and tears everything down in the
right order: held fake requests are released first (so no worker thread is
stuck in a backend call), then the server drains and stops, closing the
runtime's sessions. The health thread is not started: tests call
``runtime.health.check_once()`` for deterministic rounds. ``logwatch`` lets a
test wait for a log line (such as the one a stream writes when it ends)
instead of sleeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from octoroute.app import Runtime, build_runtime
from octoroute.config import Config
from octoroute.server import Server

from fakes import Blackhole, FakeBackend, make_config, sample

CLIENT_TIMEOUT_S = 15.0  # seconds; no test request may hang the suite
DRAIN_TIMEOUT_S = 1.0  # seconds; in-flight work a test left behind gets at teardown
STOP_TIMEOUT_S = 10.0  # seconds; waiting for the server thread (drain included) to end


class LiveServer:
    """One Octoroute runtime served by ``octoroute.server.Server`` on ``127.0.0.1:<port>``.

    The worker-thread count is ``config.server.threads``, as in production.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.server = Server(runtime, "127.0.0.1", 0)
        self.url = self.server.url
        self.session = requests.Session()
        self.session.trust_env = False
        self._sdk_clients: list[Any] = []
        self._stopped = False
        self._thread = threading.Thread(target=self.server.serve, kwargs={"drain_timeout": DRAIN_TIMEOUT_S},
                                        name="octoroute-test-server", daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, drain briefly, close connections and the runtime (``Server.serve``).

        Idempotent: a test may stop its server itself (to check what stopping leaves behind).
        """
        if self._stopped:
            return
        self._stopped = True
        self.session.close()
        for client in self._sdk_clients:
            client.close()
        self.server.request_stop()
        self._thread.join(STOP_TIMEOUT_S)
        if self._thread.is_alive():
            self.runtime.close()  # the loop is stuck; at least stop what the runtime owns
            raise AssertionError(f"the Octoroute server did not stop within {STOP_TIMEOUT_S:g}s")

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until every worker is idle: what runs after a response (its access line)
        has run. A client has its answer before that work is done."""
        assert self.server.wait_idle(timeout), f"requests still in flight after {timeout:g}s"

    # --- client helpers

    def openai(self, *, timeout: float = CLIENT_TIMEOUT_S, **kwargs: Any) -> Any:
        """The official ``openai`` SDK with this server as its base URL (no retries, no proxies)."""
        import openai  # a test dependency only the OpenAI-API tests need

        client = openai.OpenAI(base_url=self.url + "/v1", api_key="sk-unused", max_retries=0,
                               timeout=timeout, http_client=openai.DefaultHttpxClient(trust_env=False),
                               **kwargs)
        self._sdk_clients.append(client)
        return client

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", CLIENT_TIMEOUT_S)
        return self.session.request(method, self.url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def chat(self, prompt: str = "hello there", *, headers: dict[str, str] | None = None,
             **fields: Any) -> requests.Response:
        """``POST /chat`` on a fresh connection (safe to call from several threads)."""
        return requests.post(self.url + "/chat", json={"prompt": prompt, **fields}, headers=headers,
                             timeout=CLIENT_TIMEOUT_S)

    def models(self) -> dict[str, dict[str, Any]]:
        """``GET /models`` as a mapping from endpoint id to its item."""
        resp = self.get("/models")
        assert resp.status_code == 200, resp.text
        return {m["id"]: m for m in resp.json()["models"]}

    def metrics_text(self) -> str:
        resp = self.get("/metrics")
        assert resp.status_code == 200, resp.text
        return resp.text

    def metric(self, name: str, **labels: str) -> float | None:
        """The one sample named ``name`` whose labels include ``labels``, via ``/metrics``."""
        return sample(self.metrics_text(), name, **labels)


@dataclass
class Fakes:
    """Every fake started in one test, so teardown can release and stop them all."""

    started: list[FakeBackend]

    def release_all(self) -> None:
        for b in self.started:
            b.release_all()


@pytest.fixture
def _fakes() -> Iterator[Fakes]:
    fakes = Fakes([])
    yield fakes
    for b in reversed(fakes.started):
        b.stop()


@pytest.fixture
def fake_backend(_fakes: Fakes) -> Callable[..., FakeBackend]:
    """Factory: ``fake_backend("fast-1", chat=error(500))`` starts one fake, stopped at teardown."""
    def start(name: str = "fake", **kwargs: Any) -> FakeBackend:
        backend = FakeBackend(name, **kwargs).start()
        _fakes.started.append(backend)
        return backend
    return start


@pytest.fixture
def trio(fake_backend: Callable[..., FakeBackend]) -> SimpleNamespace:
    """One healthy fake per tier: ``trio.fast``, ``trio.balanced``, ``trio.deep``."""
    return SimpleNamespace(fast=fake_backend("fast-1"), balanced=fake_backend("balanced-1"),
                           deep=fake_backend("deep-1"))


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    """A loopback port where connects hang until they time out."""
    with Blackhole() as hole:
        yield hole


@pytest.fixture(name="make_config")
def make_config_fixture() -> Callable[..., Config]:
    return make_config


@pytest.fixture
def serve(_fakes: Fakes) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``serve(config, **build_runtime_kwargs)`` -> a running ``LiveServer``."""
    running: list[LiveServer] = []

    def start(config: Config, **build_kwargs: Any) -> LiveServer:
        live = LiveServer(build_runtime(config, **build_kwargs)).start()
        running.append(live)
        return live

    yield start
    _fakes.release_all()  # no worker may stay stuck in a backend call
    for live in reversed(running):
        live.stop()


class LogWatch(logging.Handler):
    """Collects the records of one logger so a test can wait for a line deterministically."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self._cv = threading.Condition()  # guards records
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        with self._cv:
            self.records.append(record)
            self._cv.notify_all()

    def matching(self, message: str) -> list[logging.LogRecord]:
        with self._cv:
            return [r for r in self.records if r.getMessage() == message]

    def wait_for(self, message: str, count: int = 1, timeout: float = 5.0) -> list[logging.LogRecord]:
        """The first ``count`` records whose message is ``message``; fails after ``timeout``."""
        with self._cv:
            found = self._cv.wait_for(lambda: len(self.matching(message)) >= count, timeout)
        assert found, f"no {count} log line(s) {message!r} within {timeout:g}s; saw {self.matching(message)}"
        return self.matching(message)[:count]

    def fields(self, message: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The structured ``fields`` of the first ``count`` records ``message``."""
        return [dict(getattr(r, "fields", {})) for r in self.wait_for(message, count, timeout)]


@pytest.fixture
def logwatch() -> Iterator[LogWatch]:
    """Records everything the ``octoroute`` loggers emit at INFO and above."""
    logger = logging.getLogger("octoroute")
    watch = LogWatch()
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(watch)
    yield watch
    logger.removeHandler(watch)
    logger.setLevel(old_level)


@pytest.fixture
def runtime_factory() -> Iterator[Callable[..., Runtime]]:
    """Factory for in-process runtimes (no server), closed at teardown."""
    built: list[Runtime] = []

    def build(config: Config, **build_kwargs: Any) -> Runtime:
        runtime = build_runtime(config, **build_kwargs)
        built.append(runtime)
        return runtime

    yield build
    for runtime in built:
        runtime.close()
