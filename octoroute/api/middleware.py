"""Per-request context: request id, start time, one access log line, metrics."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Iterable, Iterator, Sized
from functools import partial
from typing import Any

import falcon

from octoroute.logs import request_id_var
from octoroute.metrics import Metrics

log = logging.getLogger("octoroute.access")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# Scraped or polled often (the dashboard polls /stats): access lines at DEBUG.
_QUIET_ROUTES = frozenset({"/health", "/metrics", "/stats", "/stats/decisions"})
_TIMED_ROUTES = frozenset({"/chat", "/v1/chat/completions", "/v1/messages"})  # request-duration histogram
# The WSGI environ key under which ``AfterResponse`` collects what to run once
# the response is written; absent when the app is called some other way.
AFTER_RESPONSE = "octoroute.after_response"
# Request ids need to be unique, not secret: 128 bits from a PRNG seeded once
# from os.urandom, instead of uuid4's getrandom system call per request.
_ids = random.Random()


def request_id_from(header: str | None) -> str:
    """Reuse a client's id if it is at most 128 of ``[A-Za-z0-9._-]``, else make one."""
    if header and _REQUEST_ID.fullmatch(header):
        return header
    return f"{_ids.getrandbits(128):032x}"


class RequestContext:
    """Sets ``req.context`` up for resources and logs one line when the response is ready."""

    def __init__(self, metrics: Metrics, clock: Callable[[], float]) -> None:
        self._metrics = metrics
        self._clock = clock

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        rid = request_id_from(req.get_header("X-Request-ID"))
        ctx = req.context
        ctx.request_id = rid
        ctx.started = self._clock()
        ctx.log_fields = {}
        ctx.token = request_id_var.set(rid)
        resp.set_header("X-Request-ID", rid)

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         req_succeeded: bool) -> None:
        ctx = req.context
        route = req.uri_template or "unmatched"
        status = resp.status_code
        self._metrics.http_responses.labels(route=route, status=str(status)).inc()
        started = getattr(ctx, "started", None)
        if route in _TIMED_ROUTES and started is not None:
            self._metrics.request_duration.labels(route=route).observe(self._clock() - started)
        level = logging.DEBUG if route in _QUIET_ROUTES and status < 400 else logging.INFO
        if log.isEnabledFor(level):
            fields: dict[str, Any] = {"method": req.method, "path": req.path[:200], "status": status,
                                      "client": req.remote_addr}
            fields.update(getattr(ctx, "log_fields", {}))
            if started is not None:
                fields["duration_ms"] = (self._clock() - started) * 1000.0
            error = getattr(ctx, "error", None)
            if error is not None:
                fields["error"] = error[:300]
            after = req.env.get(AFTER_RESPONSE)
            if after is not None and resp.stream is None:
                after.append(partial(_log_request, level, getattr(ctx, "request_id", "-"), fields))
            else:
                _log_request(level, None, fields)
        token = getattr(ctx, "token", None)
        if token is not None:
            request_id_var.reset(token)
            ctx.token = None


def _log_request(level: int, request_id: str | None, fields: dict[str, Any]) -> None:
    """The access line; ``request_id`` is restored when it is logged after the request's context."""
    if request_id is None:
        log.log(level, "request", extra={"fields": fields})
        return
    token = request_id_var.set(request_id)
    try:
        log.log(level, "request", extra={"fields": fields})
    finally:
        request_id_var.reset(token)


class AfterResponse:
    """A WSGI wrapper that runs work after the server has written the response.

    The access line (building it, formatting it) ran before the response
    left; with it switched off altogether, a proxied request at one
    connection measured 8% faster at p50 and 25% at p99.
    ``RequestContext`` appends the line to ``environ[AFTER_RESPONSE]`` for a
    response with a body in hand (a stream still logs as it starts); the
    server calls the response iterable's ``close()`` after it has sent the
    body, and that is where the line is logged. Without this wrapper (an
    in-process test client) the line is logged at once, as before.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        after: list[Callable[[], None]] = []
        environ[AFTER_RESPONSE] = after
        result = self.app(environ, start_response)
        if not after:
            return result
        return ThenRun(result, after)


class ThenRun:
    """A response iterable whose ``close()`` also runs the deferred work."""

    __slots__ = ("_after", "_result")

    def __init__(self, result: Iterable[bytes], after: list[Callable[[], None]]) -> None:
        self._result = result
        self._after = after

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._result)

    def __len__(self) -> int:
        # waitress sets Content-Length itself for a one-chunk body it can len();
        # 0 (never 1) says nothing, like an iterable without a length.
        return len(self._result) if isinstance(self._result, Sized) else 0

    def close(self) -> None:
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            for work in self._after:
                try:
                    work()
                except Exception:  # never let logging break the connection's clean-up
                    log.exception("deferred work after a response failed")
