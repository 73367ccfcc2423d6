"""Translate exceptions to JSON error responses, in one place.

Every error body has the OpenAI shape ``{"error": {"message", "type",
"param", "code", "request_id"}}`` so both the seed's ``/chat`` clients and
the OpenAI SDKs can read it. Unexpected exceptions are logged with their
traceback and answered with a generic 500 that leaks nothing.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import falcon

from octoroute.api import anthropic_translate
from octoroute.errors import (
    AuthenticationError,
    OctorouteError,
    OverloadedError,
    RequestError,
    UpstreamUnavailable,
)

log = logging.getLogger("octoroute.api")
ANTHROPIC_PREFIX = "/v1/messages"

_HTTP_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
    404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error",
    415: "invalid_request_error", 429: "rate_limit_error",
}


def error_body(req: falcon.Request, message: str, *, error_type: str, param: str | None = None,
               code: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"message": message, "type": error_type, "param": param, "code": code,
                           "request_id": getattr(req.context, "request_id", None)}
    if extra:
        err.update(extra)
    return {"error": err}


def wants_anthropic_errors(req: falcon.Request) -> bool:
    """Anthropic clients (``/v1/messages``, or any call with ``anthropic-version``) read its shape."""
    return req.path.startswith(ANTHROPIC_PREFIX) or req.get_header("anthropic-version") is not None


def _respond(req: falcon.Request, resp: falcon.Response, status: int, body: dict[str, Any]) -> None:
    message = body["error"]["message"]
    if wants_anthropic_errors(req):
        if body["error"].get("code") == "overloaded":  # all chat slots busy: Anthropic's 529
            status = anthropic_translate.OVERLOADED_STATUS
        request_id = body["error"].get("request_id")
        body = anthropic_translate.error_body(status, message, request_id)
        if request_id:
            resp.set_header("request-id", request_id)  # what the anthropic SDKs report
    resp.status = status
    resp.media = body
    resp.stream = None
    req.context.error = message


def handle_octoroute_error(req: falcon.Request, resp: falcon.Response, ex: OctorouteError,
                           params: dict[str, Any]) -> None:
    if isinstance(ex, RequestError):
        if isinstance(ex, AuthenticationError):
            resp.set_header("WWW-Authenticate", 'Bearer realm="octoroute"')
        elif isinstance(ex, OverloadedError):
            resp.set_header("Retry-After", str(max(1, math.ceil(ex.retry_after))))
        body = error_body(req, ex.message, error_type=ex.error_type, param=ex.param, code=ex.code)
        if getattr(ex, "valid", None):
            body["error"]["valid"] = ex.valid  # type: ignore[attr-defined]
        _respond(req, resp, ex.status, body)
        return
    if isinstance(ex, UpstreamUnavailable):
        error_type = "rate_limit_error" if ex.status == 429 else "upstream_error"
        body = error_body(req, ex.message, error_type=error_type,
                          code={429: "rate_limited", 502: "upstream_failed", 503: "no_endpoint",
                                504: "deadline_exceeded", 499: "client_closed_request"}.get(ex.status),
                          extra={"attempts": ex.attempts})
        if ex.retry_after is not None:
            resp.set_header("Retry-After", str(max(1, math.ceil(ex.retry_after))))
        _respond(req, resp, ex.status, body)
        return
    log.error("unhandled %s: %s", type(ex).__name__, ex.message)
    _respond(req, resp, 500, error_body(req, "internal error", error_type="internal_error"))


def handle_http_error(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError,
                      params: dict[str, Any]) -> None:
    status = ex.status_code
    message = ex.description or ex.title or "error"
    headers = dict(ex.headers or {})
    if status == 404:
        message = (f"no route for {req.path}; routes: POST /chat, POST /v1/chat/completions, "
                   "POST /v1/messages, POST /v1/messages/count_tokens, "
                   "GET /v1/models, GET /health, GET /models, GET /metrics, GET /openapi.json")
    elif status == 405:
        allowed = headers.get("Allow", "")
        message = f"method {req.method} is not allowed on {req.path}; allowed: {allowed}"
    for name, value in headers.items():
        resp.set_header(name, value)
    _respond(req, resp, status, error_body(req, message, error_type=_HTTP_TYPES.get(status, "error")))


def handle_unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception,
                      params: dict[str, Any]) -> None:
    if isinstance(ex, falcon.HTTPError):
        handle_http_error(req, resp, ex, params)
        return
    log.exception("unhandled exception while serving %s %s", req.method, req.path)
    _respond(req, resp, 500, error_body(req, "internal error; the log has the details",
                                        error_type="internal_error"))


def install(app: falcon.App[Any, Any]) -> None:
    """Register handlers; Falcon picks the most specific type for each exception."""
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(OctorouteError, handle_octoroute_error)
