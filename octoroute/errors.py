"""The domain exception hierarchy, translated to HTTP only at the API edge.

Every failure Octoroute knows how to explain is an ``OctorouteError``; the API
layer maps each subclass to a status code and a JSON body, so no responder
needs its own ``try``/``except`` and no traceback ever reaches a client.
"""

from __future__ import annotations


class OctorouteError(Exception):
    """Root of every error Octoroute raises on purpose."""

    status = 500
    error_type = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(OctorouteError):
    """The configuration is invalid; ``problems`` holds one line per fault."""

    def __init__(self, problems: list[str], source: str = "<config>") -> None:
        self.problems = list(problems)
        self.source = source
        text = "\n".join(f"{source}: {p}" for p in self.problems)
        super().__init__(f"invalid configuration ({len(self.problems)} problem(s)):\n{text}")


class RequestError(OctorouteError):
    """The client's request is invalid; ``param`` names the offending field."""

    status = 400
    error_type = "invalid_request_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None,
                 status: int = 400) -> None:
        super().__init__(message)
        self.param = param
        self.code = code
        self.status = status


class UnknownModelError(RequestError):
    """The requested model is neither ``auto``, a tier, an alias nor an endpoint id."""

    def __init__(self, model: str, valid: list[str]) -> None:
        super().__init__(
            f"unknown model {model!r}; use one of: {', '.join(valid)}",
            param="model", code="model_not_found", status=404)
        self.valid = valid


class AuthenticationError(RequestError):
    """A protected route was called without a valid client API key (401)."""

    error_type = "authentication_error"

    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_api_key", status=401)


class OverloadedError(RequestError):
    """Every chat slot is busy; the client should retry shortly (429)."""

    error_type = "rate_limit_error"

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message, code="overloaded", status=429)
        self.retry_after = retry_after


class BackendError(OctorouteError):
    """One attempt against one backend endpoint failed.

    ``retryable`` says whether another endpoint may be tried; every transport
    failure is translated into this type in exactly one place (the client).
    """

    status = 502
    error_type = "backend_error"

    def __init__(self, message: str, *, kind: str, retryable: bool = True,
                 status_code: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after


class ResponseTooLarge(BackendError):
    """An answer outgrew the client's cap on a response's size (a ``bad_response``).

    Its own type because a caller may ask for less: the embedder splits a
    batch whose per-token vectors outgrew the cap and sends it one input at a time.
    """

    def __init__(self, cap: int) -> None:
        super().__init__(f"response larger than {cap} bytes", kind="bad_response")
        self.cap = cap


class UpstreamUnavailable(OctorouteError):
    """Every attempt failed, nothing could be attempted, or the deadline passed.

    ``status`` is 502 (all attempts failed), 503 (nothing could be attempted),
    504 (the overall deadline passed) or 429 (every candidate is rate limited).
    """

    error_type = "upstream_error"

    def __init__(self, message: str, *, status: int, attempts: list[dict[str, object]],
                 retry_after: float | None = None, backend_status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts
        self.retry_after = retry_after
        self.backend_status = backend_status  # a backend's own 4xx, when it rejected the request


class ClientGone(UpstreamUnavailable):
    """The client hung up while its request waited for a slot; nothing was sent.

    An ``UpstreamUnavailable`` so that every path that ends a request which
    was not served (the slot, the decision's accounting) ends this one too;
    its 499 (nginx's "client closed request") is written to the access log
    and the counters, never read by anybody.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, status=499, attempts=[])


class RouterBrainError(OctorouteError):
    """The router-brain LLM gave no usable answer (never fails a request)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
