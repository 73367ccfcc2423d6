"""One HTTP client per backend endpoint: a ``requests.Session`` and its pool.

This module and ``wire`` (the lean exchange chat calls use, streamed or not)
are the only ones that know requests and urllib3. Every transport
exception is translated into ``BackendError`` here, in ``_translate``, the
way ``HTTPAdapter.send`` translates urllib3's, so callers reason about
outcomes (connect error, timeout, HTTP error, rate limit, bad response)
rather than libraries.

urllib3's ``Retry`` covers connection establishment only: a generation that
may have reached a backend is never re-sent here. Failover to another
endpoint is the dispatcher's job.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from octoroute import __version__
from octoroute.backends import wire
from octoroute.config import EndpointConfig
from octoroute.errors import BackendError

CONNECT_TIMEOUT_S = 3.0  # seconds; at most, for one try at establishing a TCP connection
CONNECT_RETRIES = 2  # extra tries at establishing a connection (never at re-sending a request)
CONNECT_RETRY = Retry(total=CONNECT_RETRIES, connect=CONNECT_RETRIES, read=0, status=0, other=0,
                      redirect=0, backoff_factor=0.05, raise_on_status=False)  # immutable, shared
READ_CHUNK_BYTES = 65536  # bytes read from a backend at a time
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # bytes; larger backend answers are refused
MAX_ERROR_TEXT = 300  # characters of a backend's error body kept in messages
USER_AGENT = f"octoroute/{__version__}"

SessionFactory = Callable[[], requests.Session]


def _timeouts(timeout: float) -> tuple[float, float]:
    """(connect, read) timeouts for one attempt of ``timeout`` seconds.

    Each connect try gets a share of the attempt, so a host that black-holes
    SYNs costs one attempt timeout in all, not one per retry.
    """
    return min(CONNECT_TIMEOUT_S, timeout / (CONNECT_RETRIES + 1)), timeout


@dataclass(frozen=True)
class BackendReply:
    """A successful (2xx) JSON answer from a backend."""

    status: int
    body: bytes
    data: dict[str, Any]
    headers: Mapping[str, str]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: rare from LLM servers; the default cool-down applies
    return seconds if seconds >= 0 else None


def _short(body: bytes) -> str:
    text = body[:MAX_ERROR_TEXT * 4].decode("utf-8", "replace")
    try:
        data = json.loads(text)
        msg = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(msg, dict):
            msg = msg.get("message", msg)
        text = str(msg)
    except ValueError:
        pass
    text = " ".join(text.split())
    return text[:MAX_ERROR_TEXT]


class BackendClient:
    """Talks to one endpoint over a pooled, keep-alive session."""

    def __init__(self, endpoint: EndpointConfig, *, pool_size: int,
                 session_factory: SessionFactory | None = None,
                 max_response_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self.endpoint = endpoint
        self.max_response_bytes = max_response_bytes
        self._url_models = endpoint.base_url + "/models"
        session = session_factory() if session_factory else requests.Session()
        # NOTE: proxies from the environment are ignored: backends are local,
        # and honouring HTTP_PROXY for them is a classic homelab misroute
        # (it also costs ~0.1 ms per call in requests' environment merging).
        session.trust_env = False
        # The session serves the health probes (one at a time per endpoint); chat
        # calls have their own pool in ``wire``, sized to the worker threads.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=2, pool_block=False,
                              max_retries=CONNECT_RETRY)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session
        path = urlsplit(endpoint.base_url).path.rstrip("/")
        self._path_chat = path + "/chat/completions"
        self._headers = {"Content-Type": "application/json", "Accept": "application/json",
                         "User-Agent": USER_AGENT}
        if endpoint.api_key:
            self._headers["Authorization"] = f"Bearer {endpoint.api_key}"
        self._stream_headers = dict(self._headers, Accept="text/event-stream")
        # Chat calls, streamed or not (the hot path), go over wire.py's lean exchange.
        self._wire = wire.WirePool(endpoint.base_url, pool_size)
        netloc = urlsplit(endpoint.base_url).netloc.rpartition("@")[2]

        def head(headers: Mapping[str, str]) -> bytes:
            lines = [f"POST {self._path_chat} HTTP/1.1", f"Host: {netloc}", "Accept-Encoding: identity"]
            lines += [f"{k}: {v}" for k, v in headers.items()]
            return ("\r\n".join(lines) + "\r\n").encode("latin-1")
        self._wire_head = head(self._headers)
        self._wire_stream_head = head(self._stream_headers)

    def close(self) -> None:
        self._wire.close()
        self._session.close()

    def chat(self, body: bytes, *, timeout: float) -> BackendReply:
        """POST a chat completion; return the parsed 2xx answer or raise ``BackendError``."""
        started = time.monotonic()
        connect, _ = _timeouts(timeout)
        answer = wire.post(self._wire, self._wire_head, body, deadline=started + timeout, timeout=timeout,
                           connect_timeout=connect, connect_retries=CONNECT_RETRIES,
                           max_bytes=self.max_response_bytes)
        return self._reply(answer.status, answer.headers, answer.body)

    def open_stream(self, body: bytes, *, first_byte_timeout: float, idle_timeout: float) -> BackendStream:
        """POST a streamed chat completion and wait for its first body bytes.

        Headers alone do not commit: until a body byte arrives, any failure
        (including a stall past ``first_byte_timeout``) is a ``BackendError``
        the dispatcher can fail over on.
        """
        started = time.monotonic()
        connect, _ = _timeouts(first_byte_timeout)
        opened = wire.open_stream(self._wire, self._wire_stream_head, body,
                                  deadline=started + first_byte_timeout, timeout=first_byte_timeout,
                                  connect_timeout=connect, connect_retries=CONNECT_RETRIES,
                                  max_bytes=self.max_response_bytes, idle_timeout=idle_timeout)
        if isinstance(opened, wire.Answer):
            self._reply(opened.status, opened.headers, opened.body)  # raises for 4xx/5xx
            raise BackendError(f"unexpected HTTP {opened.status}", kind="bad_response")
        return opened

    def probe(self, *, timeout: float) -> None:
        """GET ``/models``: the liveness probe every OpenAI-style server answers."""
        started = time.monotonic()
        try:
            resp = self._session.get(self._url_models, headers=self._headers,
                                     timeout=_timeouts(timeout), stream=True)
        except Exception as exc:
            raise _translate(exc, timeout) from None
        raw = self._read(resp.raw, started + timeout, timeout)
        if resp.status_code >= 400:
            raise BackendError(f"probe answered HTTP {resp.status_code}: {_short(raw)}",
                               kind="http_error", status_code=resp.status_code)

    def _read(self, resp: BaseHTTPResponse, deadline: float, timeout: float) -> bytes:
        """Read the whole body, bounded in time (a trickle is a timeout) and size.

        A fully read connection goes back to the pool for reuse; any other
        ending closes it, so a half-read answer never leaks into the next call.
        """
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                # read1: whatever has arrived, so a trickle meets the deadline check.
                chunk = resp.read1(READ_CHUNK_BYTES)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise BackendError(f"response larger than {self.max_response_bytes} bytes",
                                       kind="bad_response")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise BackendError(f"no complete answer within {timeout:g}s", kind="timeout")
        except BaseException as exc:
            _discard(resp)
            if isinstance(exc, Exception) and not isinstance(exc, BackendError):
                raise _translate(exc, timeout) from None
            raise
        resp.release_conn()
        return b"".join(chunks)

    def _reply(self, status: int, headers: Mapping[str, str], raw: bytes) -> BackendReply:
        if status == 429:
            raise BackendError("rate limited (HTTP 429)", kind="rate_limited", status_code=429,
                               retry_after=_retry_after(headers.get("retry-after")))
        if status >= 400:
            # 5xx, and 401/403/404 (a misconfigured key or model name at this
            # endpoint), may be served elsewhere; other 4xx are about the request.
            retryable = status >= 500 or status in (401, 403, 404, 408)
            raise BackendError(f"HTTP {status}: {_short(raw)}", kind="http_error",
                               retryable=retryable, status_code=status)
        try:
            data = json.loads(raw)
        except ValueError:
            raise BackendError("answer is not valid JSON", kind="bad_response") from None
        if not isinstance(data, dict):
            raise BackendError("answer is not a JSON object", kind="bad_response")
        return BackendReply(status=status, body=raw, data=data, headers=headers)


BackendStream = wire.Stream  # a streamed answer, first bytes arrived (see wire.Stream)


def _discard(resp: BaseHTTPResponse) -> None:
    """Close a response's connection instead of returning it half-read to the pool."""
    try:
        resp.close()
        resp.release_conn()
    except Exception:
        pass


def completion_text(data: dict[str, Any]) -> tuple[str, int | None]:
    """The assistant text and completion-token count of a chat-completions answer.

    A 2xx answer without ``choices[0].message.content`` is a broken backend,
    so this raises a retryable ``BackendError`` and the request fails over.
    """
    try:
        message = data["choices"][0]["message"]
        content = message.get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise BackendError("answer has no choices[0].message", kind="bad_response") from None
    if not isinstance(content, str):
        raise BackendError("answer has no text content", kind="bad_response")
    usage = data.get("usage")
    tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if isinstance(tokens, bool) or not isinstance(tokens, int):
        tokens = None
    return content, tokens


def _translate(exc: Exception, timeout: float) -> BackendError:
    """Map a requests/urllib3 exception to the outcome it means for failover."""
    if isinstance(exc, BackendError):
        return exc
    # Unwrap requests' wrappers and urllib3's retry wrapper down to the cause.
    if isinstance(exc, requests.RequestException) and exc.args and isinstance(exc.args[0], Exception):
        exc = exc.args[0]
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and isinstance(exc.reason, Exception):
        exc = exc.reason
    errors = urllib3.exceptions
    if isinstance(exc, errors.NewConnectionError):  # before ConnectTimeoutError: it subclasses it
        return BackendError(f"connection failed: {wire.reason(exc)}", kind="connect_error")
    if isinstance(exc, (errors.ConnectTimeoutError, requests.ConnectTimeout)):
        return BackendError("connect timed out", kind="connect_error")
    if isinstance(exc, (errors.ReadTimeoutError, errors.TimeoutError, requests.Timeout, TimeoutError)):
        return BackendError(f"no answer within {timeout:g}s", kind="timeout")
    if isinstance(exc, (errors.ProtocolError, errors.DecodeError, errors.SSLError,
                        requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ContentDecodingError)):
        # Sent, then the connection broke: the backend may have started work.
        return BackendError(f"connection dropped mid-exchange: {wire.reason(exc)}", kind="bad_response")
    if isinstance(exc, (OSError, errors.HTTPError, requests.RequestException)):
        return BackendError(f"connection failed: {wire.reason(exc)}", kind="connect_error")
    raise exc
