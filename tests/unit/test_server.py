"""``octoroute.server``: the in-flight count a drain waits on, and waitress's settings.

The drain and the reload themselves run on real processes and sockets
(tests/integration/test_reload_and_drain.py, test_cli.py, test_body_limits.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from octoroute.config import ServerConfig
from octoroute.server import REQUEST_LOOKAHEAD, InFlight, waitress_adjustments
from waitress.adjustments import Adjustments

Headers = list[tuple[str, str]]


class Recorder:
    """A ``start_response`` that keeps what it was given."""

    def __init__(self) -> None:
        self.headers: Headers = []

    def __call__(self, status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], None]:
        self.headers = headers
        return lambda data: None


def app_answering(body: Iterable[bytes], headers: Headers | None = None) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", list(headers or [("Content-Type", "text/plain")]))
        return body
    return app


def test_a_request_counts_until_its_response_is_closed_not_when_the_app_returns() -> None:
    requests = InFlight(app_answering([b"ok"]))
    result = requests({}, Recorder())
    assert requests.count == 1
    assert list(result) == [b"ok"]
    assert requests.count == 1  # sent, not yet closed: its access line is still to come
    result.close()
    assert requests.count == 0 and requests.wait_idle(0)


def test_an_app_that_raises_does_not_count() -> None:
    def failing(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        raise RuntimeError("boom")

    requests = InFlight(failing)
    with pytest.raises(RuntimeError):
        requests({}, Recorder())
    assert requests.count == 0


def test_the_inner_close_runs_before_the_count_drops() -> None:
    seen: list[int] = []

    class Body(list[bytes]):
        def close(self) -> None:
            seen.append(requests.count)

    requests = InFlight(app_answering(Body([b"x"])))
    requests({}, Recorder()).close()
    assert seen == [1] and requests.count == 0


def test_wait_idle_wakes_when_the_last_response_closes_and_times_out_before() -> None:
    requests = InFlight(app_answering([b"ok"]))
    first, second = requests({}, Recorder()), requests({}, Recorder())
    assert not requests.wait_idle(0.01)
    first.close()
    assert not requests.wait_idle(0.01)
    woke = threading.Event()

    def waiter() -> None:
        if requests.wait_idle(10):
            woke.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    second.close()
    thread.join(10)
    assert woke.is_set()


def test_while_draining_responses_say_connection_close() -> None:
    headers = [("Content-Type", "text/plain"), ("Connection", "keep-alive")]
    requests = InFlight(app_answering([b"ok"], headers))
    before = Recorder()
    requests({}, before).close()
    assert ("Connection", "close") not in before.headers
    requests.draining = True
    during = Recorder()
    requests({}, during).close()
    assert [h for h in during.headers if h[0].lower() == "connection"] == [("Connection", "close")]
    assert ("Content-Type", "text/plain") in during.headers


def test_waitress_settings_are_valid_documented_adjustments() -> None:
    cfg = ServerConfig(threads=12, max_body_bytes=1000, trusted_proxy="10.0.0.1")
    adjustments = waitress_adjustments(cfg)
    checked = Adjustments(**adjustments)  # waitress rejects an unknown or malformed setting
    assert checked.threads == 12 and checked.trusted_proxy == "10.0.0.1"
    assert checked.channel_request_lookahead == REQUEST_LOOKAHEAD > 0  # client_disconnected works
    # waitress's own (plain-text) 413 only far above ours (JSON)
    assert checked.max_request_body_size >= 8 * cfg.max_body_bytes
    assert "host" not in adjustments and "port" not in adjustments  # the socket is ours
