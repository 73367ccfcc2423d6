"""Per-request context: request id, start time, one access log line, metrics."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable
from typing import Any

import falcon

from octoroute.logs import request_id_var
from octoroute.metrics import Metrics

log = logging.getLogger("octoroute.access")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_QUIET_ROUTES = frozenset({"/health", "/metrics"})  # scraped often: access lines at DEBUG
_TIMED_ROUTES = frozenset({"/chat", "/v1/chat/completions"})  # request-duration histogram
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
            log.log(level, "request", extra={"fields": fields})
        token = getattr(ctx, "token", None)
        if token is not None:
            request_id_var.reset(token)
            ctx.token = None
