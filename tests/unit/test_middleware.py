"""The access line is logged after the response has been sent, with the request's id."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from octoroute.api.middleware import AFTER_RESPONSE, AfterResponse
from octoroute.logs import request_id_var

WAIT_S = 5.0


def _app(after: list[str], body: Any = None, defer: bool = True) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        if defer:
            environ[AFTER_RESPONSE].append(lambda: after.append("logged"))
        return [b"hello"] if body is None else body
    return app


def test_deferred_work_runs_at_close_not_before() -> None:
    after: list[str] = []
    result = AfterResponse(_app(after))({}, lambda *a: None)
    assert list(result) == [b"hello"]
    assert len(result) == 1  # the server may still set Content-Length from a one-chunk body
    assert after == []
    result.close()
    assert after == ["logged"]


def test_nothing_deferred_returns_the_app_result_itself() -> None:
    body = [b"x"]
    assert AfterResponse(_app([], body, defer=False))({}, lambda *a: None) is body


def test_the_inner_close_runs_first_and_a_failure_anywhere_still_runs_the_rest(
        caplog: pytest.LogCaptureFixture) -> None:
    order: list[str] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            return iter([b"a", b"b"])

        def close(self) -> None:
            order.append("inner close")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ[AFTER_RESPONSE].append(lambda: 1 / 0)
        environ[AFTER_RESPONSE].append(lambda: order.append("second"))
        return Body()

    result = AfterResponse(app)({}, lambda *a: None)
    assert len(result) == 0  # no length to offer: never claims one chunk
    with caplog.at_level(logging.ERROR, logger="octoroute.access"):
        result.close()
    assert order == ["inner close", "second"]
    assert "deferred work after a response failed" in caplog.text


class BlockUntil(logging.Handler):
    """Holds the thread that logs the access line until the client has its answer."""

    def __init__(self, released: threading.Event) -> None:
        super().__init__(logging.INFO)
        self.released = released
        self.seen: list[tuple[bool, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "request":
            got = self.released.wait(WAIT_S)
            self.seen.append((got, request_id_var.get()))  # what every handler's filter reads


def test_a_live_server_sends_the_answer_before_logging_it(serve: Any, trio: Any, make_config: Any) -> None:
    """If the line were logged before the response left, the handler would hold
    the answer back until it timed out; here the client gets it first."""
    live = serve(make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]}))
    client_has_answer = threading.Event()
    handler = BlockUntil(client_has_answer)
    access = logging.getLogger("octoroute.access")
    old_level = access.level
    access.setLevel(logging.INFO)
    access.addHandler(handler)
    try:
        reply = live.session.post(live.url + "/v1/chat/completions", timeout=WAIT_S * 2,
                                  headers={"X-Request-ID": "after-response-1"},
                                  json={"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
        client_has_answer.set()
        assert reply.status_code == 200
        for _ in range(100):  # the line follows the answer; wait for it (bounded)
            if handler.seen:
                break
            threading.Event().wait(0.05)
    finally:
        access.removeHandler(handler)
        access.setLevel(old_level)
    assert handler.seen == [(True, "after-response-1")]


def test_create_app_for_waitress_serve_also_logs_after_the_response(trio: Any, make_config: Any) -> None:
    """``waitress-serve --call octoroute.app:create_app`` gets the same deferral as ``octoroute serve``."""
    import json

    from falcon.testing import create_environ
    from octoroute.app import create_app

    app = create_app(make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]}),
                     start_health=False)
    body = json.dumps({"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
    environ = create_environ(method="POST", path="/v1/chat/completions", body=body,
                             headers={"Content-Type": "application/json", "X-Request-ID": "waitress-serve-1"})
    statuses: list[str] = []
    seen: list[tuple[Any, str]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append((record.fields, request_id_var.get()))  # type: ignore[attr-defined]

    access = logging.getLogger("octoroute.access")
    old_level, capture = access.level, Capture()
    access.setLevel(logging.INFO)
    access.addHandler(capture)
    try:
        result = app(environ, lambda status, headers, *exc: statuses.append(status))
        assert b"chat.completion" in b"".join(result) and statuses == ["200 OK"]
        assert seen == []
        result.close()  # what the server does once the body has been sent
    finally:
        access.removeHandler(capture)
        access.setLevel(old_level)
    [(fields, request_id)] = seen
    assert (fields["path"], fields["status"], request_id) == ("/v1/chat/completions", 200, "waitress-serve-1")
