"""One HTTP client stack per backend endpoint: a ``requests.Session``, its adapter and pool.

Chat calls, streams and health probes of an endpoint share one stack: a
``requests.Session`` with an ``EndpointAdapter`` (an ``HTTPAdapter`` whose
pool is sized to the server's worker threads, whose urllib3 ``Retry`` covers
connection establishment only, and whose TLS setting is the endpoint's
``verify``). Probes go through ``Session.get``. Chat calls and streams call
``urlopen`` on the very urllib3 pool requests uses for the endpoint, because
requests' per-call work (hooks, cookies, settings merging, building a
``Response``) doubles the client CPU of a call: measured against nginx on
2026-12-03 (medians of 7 interleaved rounds of 2,000 keep-alive POSTs, on a
loaded 2-core machine), 478 µs per chat here, 412 µs for a bare ``urlopen``,
971 µs through ``Session.post``; the hand-made exchange this replaced cost
88 µs, and was dropped anyway: it parsed HTTP itself and accepted what HTTP
forbids.
Same pool, same connections, same TLS trust: a private CA configured for an
endpoint works for its probes and its chats alike.

What no library knows stays here: a stream commits at its first body byte
(headers alone do not), a deadline bounds a whole answer (a trickle is a
timeout), the size cap applies while reading (a gzip bomb stops at the cap),
framing the libraries tolerate but HTTP forbids is refused, and each failure
is translated, in ``translate`` alone, into the ``BackendError`` kind that
tells the dispatcher what failover may do. A generation that may have
started is never re-sent: ``Retry`` covers connects, failover is the
dispatcher's job.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from octoroute import __version__
from octoroute.backends.overflow import ContextOverflowError, EmptyStreamError, recognise
from octoroute.config import EndpointConfig
from octoroute.errors import BackendError, ResponseTooLarge

log = logging.getLogger("octoroute.backends")

CONNECT_TIMEOUT_S = 3.0  # seconds; at most, for one try at establishing a TCP connection
CONNECT_RETRIES = 2  # extra tries at establishing a connection (never at re-sending a request)
# NOTE: read=0 and POST not being an idempotent method mean urllib3 never re-sends
# a request that reached the backend; other=0 fails TLS errors at once (a bad
# certificate does not get better on retry). Retry is immutable: shared by all.
CONNECT_RETRY = Retry(total=CONNECT_RETRIES, connect=CONNECT_RETRIES, read=0, status=0, other=0,
                      redirect=0, backoff_factor=0.05, raise_on_status=False)
READ_CHUNK_BYTES = 65536  # bytes asked of a backend per read
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # bytes; larger backend answers are refused
MAX_ERROR_TEXT = 300  # characters of a backend's error text kept in messages
MAX_ERROR_JSON = 65536  # bytes of an error answer parsed for its message (longer: kept as text)
MAX_INFO_BYTES = 4 * 1024 * 1024  # bytes; a server's /props, /metrics or model list, at most
MAX_DRAIN_READS = 16  # reads spent on a finished stream's framing end before closing instead
USER_AGENT = f"octoroute/{__version__}"
DIGITS = re.compile(r"[0-9]+")  # a Content-Length value, as RFC 9110 writes it (ASCII digits only)

SessionFactory = Callable[[], requests.Session]
Verify = bool | str  # TLS: True (verify with the default trust store), False, or a CA bundle path


def server_root(base_url: str) -> str:
    """Where a server's own (non-OpenAI) API lives: ``base_url`` without its ``/v1``.

    Ollama serves OpenAI at ``http://host:11434/v1`` and its native API at
    ``http://host:11434/api``; llama-server's ``/props`` and ``/metrics`` sit
    next to its ``/v1`` too. A base URL without ``/v1`` keeps its path.
    """
    return base_url[:-3] if base_url.endswith("/v1") else base_url


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


def usage_of(data: Any) -> tuple[int, int] | None:
    """``(prompt_tokens, completion_tokens)`` from an answer's ``usage``, or ``None``."""
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if (isinstance(prompt, int) and isinstance(completion, int) and not isinstance(prompt, bool)
            and not isinstance(completion, bool) and prompt >= 0 and completion >= 0):
        return prompt, completion
    return None


def clean(text: str, limit: int = MAX_ERROR_TEXT) -> str:
    """``text`` as one line of at most ``limit`` characters, without control characters.

    A backend's words end up in our JSON errors and logs: a terminal escape
    or a bare CR in them must not reach a log viewer or a client.
    """
    text = "".join(ch if ch.isprintable() else " " for ch in text[:limit * 4])
    return " ".join(text.split())[:limit]


def reason(exc: BaseException) -> str:
    """An exception's message, cleaned, without urllib3's "<object at 0x..>: " prefix."""
    text = str(exc)
    for marker in (">: ", "): "):
        if marker in text:
            text = text.split(marker, 1)[1]
            break
    return clean(text)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: rare from LLM servers; the default cool-down applies
    return seconds if seconds >= 0 else None


def _short(body: bytes) -> str:
    """The message of a backend's error answer, bounded and cleaned."""
    text = body[:MAX_ERROR_JSON].decode("utf-8", "replace")
    try:
        data = json.loads(text)
        msg = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(msg, dict):
            msg = msg.get("message", msg)
        text = str(msg)
    except ValueError:
        pass
    return clean(text)


def _bad(message: str) -> BackendError:
    return BackendError(message, kind="bad_response")


def check_framing(resp: BaseHTTPResponse) -> None:
    """Refuse an answer whose framing is malformed or contradictory, before its body is read.

    http.client and urllib3 parse the answer but tolerate what HTTP forbids:
    ``int()`` takes ``+10`` and ``1_0`` as a length, a Transfer-Encoding other
    than exactly ``chunked`` silently means "read until close", a length next
    to a Transfer-Encoding is ignored, an interim 103 comes back as the
    answer, and a 204's body is left on the connection. A backend that frames
    its answers this way (or a proxy smuggling a second answer in) gets a
    ``bad_response``, and the caller closes the connection.

    NOTE: known limits, invisible on the libraries' public API: chunk sizes
    written ``0x5``, ``0_5``, ``+5`` or `` 5`` are read as 5 (``int(x, 16)``),
    and the CRLF after a chunk's data is skipped unchecked. A negative chunk
    size fails a stream (urllib3's chunk parser), but in a whole answer
    (http.client's ``read1``) it fails only at the deadline, as a timeout.
    Neither ever yields a successful answer or a pooled connection.
    """
    status = resp.status
    if status < 200 or status in (204, 304):
        raise _bad(f"unexpected HTTP {status} (an answer with no body, or interim)")
    headers = resp.headers
    lengths = headers.getlist("content-length")
    codings = headers.getlist("transfer-encoding")
    if codings:
        if lengths:
            raise _bad("malformed answer: both Content-Length and Transfer-Encoding")
        if len(codings) != 1 or codings[0].strip().lower() != "chunked":
            raise _bad(f"malformed answer: unsupported Transfer-Encoding {clean(', '.join(codings), 40)!r}")
    elif lengths:
        for value in lengths:
            if not DIGITS.fullmatch(value):
                raise _bad(f"malformed answer: invalid Content-Length {clean(value, 40)!r}")
        if len(set(map(int, lengths))) > 1:
            raise _bad(f"malformed answer: conflicting Content-Length values {clean(', '.join(lengths), 60)}")


def _set_read_timeout(resp: BaseHTTPResponse, seconds: float) -> None:
    """Bound the next read: a deadline over a whole answer, not a fresh timeout per read.

    NOTE: an answer framed by closing the connection has already given its
    socket up to the response (http.client drops ``sock`` then); its reads
    keep the timeout set when the request was sent, at most the attempt's.
    """
    conn = resp.connection
    sock = conn.sock if isinstance(conn, http.client.HTTPConnection) else None
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


def _discard(resp: BaseHTTPResponse) -> None:
    """Close a response's connection, never to be reused, and give its pool slot back."""
    try:
        resp.close()
        resp.release_conn()  # a closed connection in the pool reconnects before its next use
    except Exception:
        pass


def translate(exc: BaseException, timeout: float) -> BackendError:
    """The one place a requests, urllib3 or socket exception becomes a ``BackendError``.

    The kind says what happened for failover and metrics: ``connect_error``
    (the request never reached the backend), ``timeout``, ``bad_response``
    (sent, then the answer broke or was malformed: the backend may have
    started generating, so it is never re-sent here). An exception that is
    not a transport failure is re-raised: it is a bug, not a backend's fault.
    """
    if isinstance(exc, BackendError):
        return exc
    errors = urllib3.exceptions
    # requests wraps urllib3's exception as its first argument; urllib3 wraps
    # the last failure of an exhausted Retry as ``reason``.
    if isinstance(exc, requests.RequestException) and exc.args and isinstance(exc.args[0], BaseException):
        exc = exc.args[0]
    if isinstance(exc, errors.MaxRetryError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    if isinstance(exc, errors.NewConnectionError):  # before ConnectTimeoutError: it subclasses it
        return BackendError(f"connection failed: {reason(exc)}", kind="connect_error")
    if isinstance(exc, (errors.ConnectTimeoutError, requests.ConnectTimeout)):
        return BackendError("connect timed out", kind="connect_error")
    if isinstance(exc, (errors.SSLError, ssl.SSLError, requests.exceptions.SSLError)):
        return BackendError(f"TLS handshake failed: {reason(exc)}", kind="connect_error")
    if isinstance(exc, (errors.ReadTimeoutError, errors.TimeoutError, requests.Timeout, TimeoutError)):
        return BackendError(f"no answer within {timeout:g}s", kind="timeout")
    if isinstance(exc, (errors.InvalidHeader, errors.InvalidChunkLength, errors.DecodeError,
                        http.client.HTTPException, ValueError,
                        requests.exceptions.ContentDecodingError)):
        # ValueError: http.client reading a negative chunk size ("-2").
        return _bad(f"malformed answer: {reason(exc)}")
    if isinstance(exc, (errors.ProtocolError, requests.exceptions.ChunkedEncodingError)):
        return _bad(f"connection dropped mid-exchange: {reason(exc)}")
    if isinstance(exc, (OSError, errors.HTTPError, requests.RequestException)):
        return BackendError(f"connection failed: {reason(exc)}", kind="connect_error")
    raise exc


class EndpointAdapter(HTTPAdapter):
    """requests' adapter for one endpoint, whose urllib3 pool chat calls use too.

    ``get_connection_with_tls_context`` and ``cert_verify`` are requests'
    documented hooks for subclasses; calling them here gives the hot path the
    same pool, with the same TLS settings, that ``Session.get`` uses for probes.
    """

    def __init__(self, base_url: str, *, verify: Verify, pool_size: int) -> None:
        super().__init__(pool_connections=1, pool_maxsize=max(1, pool_size), pool_block=False,
                         max_retries=CONNECT_RETRY)
        self.tls_verify = verify
        self._chat_request = requests.Request("POST", base_url + "/chat/completions").prepare()

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        """Send as requests does, always with the endpoint's TLS setting (not a session's)."""
        return super().send(request, stream=stream, timeout=timeout, verify=self.tls_verify,
                            cert=cert, proxies=proxies)

    def chat_pool(self) -> HTTPConnectionPool:
        """The urllib3 pool requests itself sends this endpoint's requests through."""
        url = self._chat_request.url
        assert url is not None
        pool = self.get_connection_with_tls_context(self._chat_request, self.tls_verify)
        assert isinstance(pool, HTTPConnectionPool)
        self.cert_verify(pool, url, self.tls_verify, None)  # type: ignore[no-untyped-call]
        return pool


class BackendStream:
    """A streamed 2xx answer whose first body bytes have arrived (``first``).

    ``read()`` returns the next bytes as soon as a chunk (or, unchunked, any
    bytes) has arrived, ``b""`` at the clean end of the framing, and raises
    ``BackendError`` when the stream breaks, is malformed, stays silent past
    the idle timeout or was aborted. ``abort()`` may be called from another
    thread while ``read()`` blocks; ``read()``, ``finish()`` and ``close()``
    belong to one thread (closing a socket under a blocked read does not wake
    it: abort first, and let the reader close). A stream read to its clean end
    goes back to the pool; any other is closed.

    NOTE: a chunked stream is read chunk by chunk through urllib3's
    ``read_chunked``, which parses chunk sizes itself and refuses a negative
    one; http.client's ``read1`` would take ``-2`` as "whatever has arrived"
    and relay the framing bytes as content. A backend writes an SSE event per
    chunk, so nothing is held back in practice.
    """

    def __init__(self, resp: BaseHTTPResponse, *, idle_timeout: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.first = b""
        self.status = resp.status
        self.headers: Mapping[str, str] = resp.headers
        self._resp = resp
        self._chunks: Iterator[bytes] | None = (
            resp.read_chunked(READ_CHUNK_BYTES) if resp.chunked else None)
        # Only a chunked or sized body has an end to read before reuse; one framed
        # by closing the connection never goes back to the pool.
        self._framed = resp.chunked or "content-length" in resp.headers
        self._idle_timeout = idle_timeout
        self._clock = clock
        self._lock = threading.Lock()  # guards _aborted and _closed (abort() comes from another thread)
        self._aborted = False
        self._closed = False
        self._ended = False  # the framing's clean end was read
        self._broken = False  # a read failed: the connection is in an unknown state

    def read(self) -> bytes:
        """The next body bytes (at least one), ``b""`` at the clean end, or ``BackendError``."""
        if self._ended:
            return b""
        return self._read(self._idle_timeout, self._idle_timeout)

    def _read(self, seconds: float, timeout: float) -> bytes:
        if self._aborted:
            raise BackendError("stream aborted", kind="bad_response")
        if self._broken:  # the response is in an unknown state: never read it again
            raise _bad("stream already failed")
        try:
            _set_read_timeout(self._resp, seconds)
            if self._chunks is not None:
                data = next(self._chunks, b"")
            else:
                data = self._resp.read1(READ_CHUNK_BYTES)
        except Exception as exc:
            self._broken = True
            if self._aborted:
                raise BackendError("stream aborted", kind="bad_response") from None
            raise translate(exc, timeout) from None
        if self._aborted:  # shut down under our feet: what it returned proves nothing
            self._broken = True
            raise BackendError("stream aborted", kind="bad_response")
        if not data:
            self._ended = True
        return data

    def finish(self, seconds: float) -> None:
        """Close a stream whose content the caller has whole (an SSE ``[DONE]`` seen).

        The framing still has an end to read (the last chunk of a chunked
        body); reading it, for at most ``seconds``, lets the connection go
        back to the pool instead of a new one being opened for the next call.
        Whatever else arrives is discarded.
        """
        deadline = self._clock() + seconds
        try:
            for _ in range(MAX_DRAIN_READS if self._framed else 0):
                remaining = deadline - self._clock()
                if self._ended or self._broken or remaining <= 0:
                    break
                self._read(remaining, seconds)
        except BackendError:
            pass  # not finished in time, broken or aborted: closed below
        self.close()

    def abort(self) -> None:
        """Make a blocked ``read()`` end promptly; the connection is never pooled.

        Thread-safe. urllib3's ``shutdown()`` shuts the socket's read side, so
        the reading thread wakes (``read()`` then raises); ``close()`` follows
        from whoever owns the stream.
        """
        with self._lock:
            if self._aborted or self._closed:
                return
            self._aborted = True
            try:
                self._resp.shutdown()
            except (ValueError, RuntimeError, OSError):
                pass  # already released (clean end) or closed: nothing is blocked on it

    def close(self) -> None:
        """Pool the connection after a clean end; otherwise close it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            clean_end = self._ended and not self._broken and not self._aborted
        if clean_end:
            self._resp.release_conn()  # a no-op when urllib3 already released it at the end
            return
        if isinstance(self._chunks, Generator):
            try:
                self._chunks.close()  # urllib3's reader closes the connection on the way out
            except ValueError:
                pass  # "generator already executing": a read in another thread; abort() wakes it
        _discard(self._resp)


class BackendClient:
    """Talks to one endpoint: chats and streams on the urllib3 pool, probes through the session."""

    def __init__(self, endpoint: EndpointConfig, *, pool_size: int,
                 session_factory: SessionFactory | None = None,
                 max_response_bytes: int = MAX_RESPONSE_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.endpoint = endpoint
        self.max_response_bytes = max_response_bytes
        self._clock = clock
        session = session_factory() if session_factory else requests.Session()
        # NOTE: proxies, netrc and CA bundles named in the environment are ignored:
        # backends are on the LAN, honouring HTTP_PROXY for them is a classic
        # homelab misroute, and an environment CA bundle would give probes a trust
        # store the chats (on the pool directly) do not see. TLS is the endpoint's
        # ``verify`` setting alone. (It also saves requests' environment merging.)
        session.trust_env = False
        adapter = EndpointAdapter(endpoint.base_url, verify=endpoint.verify, pool_size=pool_size)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session
        self._pool = adapter.chat_pool()
        if endpoint.verify is False and endpoint.base_url.startswith("https:"):
            log.warning("TLS certificates of endpoint %s are not verified (verify = false)", endpoint.id)
        self._url_models = endpoint.base_url + "/models"
        self.server_root = server_root(endpoint.base_url)
        self._path_base = urlsplit(endpoint.base_url).path.rstrip("/")
        self._path_chat = self._path_base + "/chat/completions"
        self._headers = {"Content-Type": "application/json", "Accept": "application/json",
                         "Accept-Encoding": "identity", "User-Agent": USER_AGENT}
        if endpoint.api_key:
            self._headers["Authorization"] = f"Bearer {endpoint.api_key}"
        self._stream_headers = dict(self._headers, Accept="text/event-stream")
        self._probe_headers = {k: v for k, v in self._headers.items() if k != "Content-Type"}

    def close(self) -> None:
        self._session.close()

    def chat(self, body: bytes, *, timeout: float) -> BackendReply:
        """POST a chat completion; return the parsed 2xx answer or raise ``BackendError``."""
        deadline = self._clock() + timeout
        resp = self._send(body, self._headers, deadline, timeout)
        raw = self._read_whole(resp, deadline, timeout)
        return self._reply(resp.status, resp.headers, raw)

    def open_stream(self, body: bytes, *, first_byte_timeout: float, idle_timeout: float) -> BackendStream:
        """POST a streamed chat completion and wait for its first body bytes.

        Headers alone do not commit: until a body byte arrives, any failure
        (including a stall past ``first_byte_timeout``) is a ``BackendError``
        the dispatcher can fail over on.
        """
        deadline = self._clock() + first_byte_timeout
        resp = self._send(body, self._stream_headers, deadline, first_byte_timeout)
        if resp.status >= 300:
            raw = self._read_whole(resp, deadline, first_byte_timeout)
            self._reply(resp.status, resp.headers, raw)  # raises for 4xx/5xx
            raise _bad(f"unexpected HTTP {resp.status}")
        stream = BackendStream(resp, idle_timeout=idle_timeout, clock=self._clock)
        try:
            stream.first = stream._read(deadline - self._clock(), first_byte_timeout)
        except BaseException:
            stream.close()
            raise
        if not stream.first:
            stream.close()
            raise EmptyStreamError()
        return stream

    def probe(self, *, timeout: float) -> None:
        """GET ``/models``: the liveness probe every OpenAI-style server answers."""
        self.list_models(timeout=timeout)

    def list_models(self, *, timeout: float) -> Any:
        """GET ``/models`` (the liveness probe); its parsed JSON, or ``None`` when it is not JSON.

        A 4xx or 5xx, or a transport failure, raises ``BackendError``.
        """
        status, body = self._get(self._url_models, timeout=timeout)
        if status >= 400:
            raise BackendError(f"probe answered HTTP {status}: {_short(body)}",
                               kind="http_error", status_code=status)
        try:
            return json.loads(body)
        except ValueError:
            return None

    def get(self, path: str, *, timeout: float, params: Mapping[str, str] | None = None,
            max_bytes: int = MAX_INFO_BYTES) -> tuple[int, bytes]:
        """GET ``path`` under the server's root (``server_root``); return (status, body).

        For the servers' own cheap reads (``/props``, ``/metrics``,
        ``/api/ps``): the session the probe uses, a deadline over the whole
        answer, a size cap; any status comes back (a 501 or 404 says "not
        here", which the caller wants to know), transport failures raise
        ``BackendError``.
        """
        return self._get(self.server_root + "/" + path.lstrip("/"), timeout=timeout, params=params,
                         limit=max_bytes)

    def _get(self, url: str, *, timeout: float, params: Mapping[str, str] | None = None,
             limit: int | None = None) -> tuple[int, bytes]:
        """One GET through the probe session, framing checked, read whole by the deadline."""
        deadline = self._clock() + timeout
        try:
            resp = self._session.get(url, headers=self._probe_headers, params=params,
                                     timeout=_timeouts(timeout), stream=True, allow_redirects=False)
        except Exception as exc:
            raise translate(exc, timeout) from None
        raw = resp.raw
        try:
            check_framing(raw)
        except BackendError:
            _discard(raw)
            raise
        return resp.status_code, self._read_whole(raw, deadline, timeout, limit=limit)

    def get_json(self, path: str, *, timeout: float, params: Mapping[str, str] | None = None
                 ) -> dict[str, Any]:
        """GET ``path`` under the server's root; the 2xx answer's JSON object, else ``BackendError``."""
        status, body = self.get(path, timeout=timeout, params=params)
        if status >= 400:
            raise BackendError(f"GET {path} answered HTTP {status}: {_short(body)}", kind="http_error",
                               retryable=False, status_code=status)
        try:
            data = json.loads(body)
        except ValueError:
            raise _bad(f"GET {path}: answer is not valid JSON") from None
        if not isinstance(data, dict):
            raise _bad(f"GET {path}: answer is not a JSON object")
        return data

    def post_json(self, path: str, body: Mapping[str, Any], *, timeout: float,
                  from_root: bool = False) -> dict[str, Any]:
        """POST ``body`` as JSON to ``base_url + path``; return the 2xx answer's JSON object.

        For the endpoint's other JSON APIs (``/embeddings``): the same pool,
        TLS trust, deadline over the whole answer, size cap and error
        translation as a chat, so a caller sees only ``BackendError``.
        ``from_root`` puts ``path`` under ``server_root`` instead (Ollama's
        ``/api/show``).
        """
        deadline = self._clock() + timeout
        payload = json.dumps(body, separators=(",", ":")).encode()
        base = urlsplit(self.server_root).path.rstrip("/") if from_root else self._path_base
        target = base + "/" + path.lstrip("/")
        resp = self._send(payload, self._headers, deadline, timeout, path=target)
        raw = self._read_whole(resp, deadline, timeout)
        return self._reply(resp.status, resp.headers, raw).data

    def _send(self, body: bytes, headers: Mapping[str, str], deadline: float,
              timeout: float, *, path: str | None = None) -> BaseHTTPResponse:
        """Send one request on the pool; the answer's head has arrived and its framing is sound."""
        connect, _ = _timeouts(timeout)
        try:
            resp = self._pool.urlopen(
                "POST", path or self._path_chat, body=body, headers=headers, retries=CONNECT_RETRY,
                redirect=False, assert_same_host=False, preload_content=False, release_conn=False,
                timeout=urllib3.Timeout(connect=connect, read=max(deadline - self._clock(), 0.001)))
        except Exception as exc:
            raise translate(exc, timeout) from None
        try:
            check_framing(resp)
        except BackendError:
            _discard(resp)
            raise
        return resp

    def _read_whole(self, resp: BaseHTTPResponse, deadline: float, timeout: float, *,
                    limit: int | None = None) -> bytes:
        """Read the whole body by ``deadline`` (a trickle is a timeout), capped while reading.

        The cap counts decoded bytes: a backend that gzips although we asked
        for identity is decoded a read at a time, so a bomb stops at the cap.
        A fully read connection goes back to the pool; any other ending
        closes it, so a half-read answer never leaks into the next call.
        """
        chunks: list[bytes] = []
        size = 0
        cap = self.max_response_bytes if limit is None else limit
        try:
            while True:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    raise BackendError(f"no complete answer within {timeout:g}s", kind="timeout")
                _set_read_timeout(resp, remaining)
                chunk = resp.read1(READ_CHUNK_BYTES)
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    raise ResponseTooLarge(cap)
                chunks.append(chunk)
        except BaseException as exc:
            _discard(resp)
            if isinstance(exc, Exception):
                raise translate(exc, timeout) from None
            raise
        resp.release_conn()
        return b"".join(chunks)

    def _reply(self, status: int, headers: Mapping[str, str], raw: bytes) -> BackendReply:
        if status == 429:
            raise BackendError("rate limited (HTTP 429)", kind="rate_limited", status_code=429,
                               retry_after=_retry_after(headers.get("retry-after")))
        if status >= 400 and (overflow := recognise(status, raw)) is not None:
            raise ContextOverflowError(overflow, status_code=status)
        if status >= 400:
            # 5xx, and 401/403/404 (a misconfigured key or model name at this
            # endpoint), may be served elsewhere; other 4xx are about the request.
            retryable = status >= 500 or status in (401, 403, 404, 408)
            raise BackendError(f"HTTP {status}: {_short(raw)}", kind="http_error",
                               retryable=retryable, status_code=status)
        try:
            data = json.loads(raw)
        except ValueError:
            raise _bad("answer is not valid JSON") from None
        if not isinstance(data, dict):
            raise _bad("answer is not a JSON object")
        return BackendReply(status=status, body=raw, data=data, headers=headers)


def completion_text(data: dict[str, Any]) -> tuple[str, int | None]:
    """The assistant text and completion-token count of a chat-completions answer.

    A 2xx answer without ``choices[0].message.content`` is a broken backend,
    so this raises a retryable ``BackendError`` and the request fails over.
    """
    try:
        message = data["choices"][0]["message"]
        content = message.get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise _bad("answer has no choices[0].message") from None
    if not isinstance(content, str):
        raise _bad("answer has no text content")
    usage = data.get("usage")
    tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if isinstance(tokens, bool) or not isinstance(tokens, int):
        tokens = None
    return content, tokens
