"""A lean HTTP/1.1 exchange for the hot path: a chat POST and its answer, whole or streamed.

Measured on the target machine against the nginx mock, one non-streamed call
cost 613 µs of CPU through urllib3's ``urlopen`` (Retry and Timeout objects,
header dictionaries, ``http.client``'s email-based header parser, two sends
per request), 272 µs through bare ``http.client`` and 58 µs as bytes over the
socket. Octoroute's own answer must be paid for by a leaner path than the
naive one, and this is the biggest single piece of it.

So a chat call writes its request as one ``sendall`` and parses the status
line, the few headers it needs and the body (Content-Length, chunked, or
until close) itself; a streamed answer is handed on as its bytes arrive
(``Stream``), and its connection is reused when it ended cleanly. urllib3
still does what is hard: it opens the connection (``urllib3.connection.HTTPConnection``/``HTTPSConnection``:
socket options, TCP_NODELAY, TLS and certificate checks), and its ``Retry``
decides when a failed connect is tried again. Health probes stay on the
``requests`` session of each endpoint.

Every failure raises ``WireError`` with the ``BackendError`` kind it means;
a connection that saw any error is closed, never pooled.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.retry import Retry
from urllib3.util.wait import wait_for_read

from octoroute.errors import BackendError

RECV_BYTES = 65536  # bytes per recv
MAX_HEAD_BYTES = 65536  # bytes; a status line plus headers longer than this is not an LLM server
MAX_DRAIN_READS = 16  # reads spent on the end of a finished stream before closing it instead
MAX_REASON_CHARS = 300  # characters of an error's message kept
CONNECT_BACKOFF_FACTOR = 0.05  # urllib3 Retry backoff: no wait before the first retry, then 0.1 s, ...


class WireError(BackendError):
    """A failed exchange, with the ``BackendError`` kind that says what failover should do."""


class Conn:
    """One keep-alive connection and the bytes read past the last answer."""

    __slots__ = ("buf", "http", "sock")

    def __init__(self, http: HTTPConnection) -> None:
        self.http = http
        self.sock: socket.socket = http.sock
        self.buf = bytearray()

    def close(self) -> None:
        try:
            self.http.close()
        except Exception:
            pass


class WirePool:
    """Idle keep-alive connections to one backend, last in first out, bounded.

    ``maxsize`` matches the server's worker threads: a busier moment opens
    extra connections, which are closed instead of pooled when they return.
    """

    def __init__(self, base_url: str, maxsize: int, *, sleep: Callable[[float], None] = time.sleep) -> None:
        parts = urlsplit(base_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if self.https else 80)
        self.maxsize = max(1, maxsize)
        self._sleep = sleep
        self._idle: list[Conn] = []
        self._pool_lock = threading.Lock()
        self._closed = False

    def acquire(self, connect_timeout: float, retries: int) -> Conn:
        """An idle connection that is still open, else a new one (connect retried ``retries`` times)."""
        while True:
            with self._pool_lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect(connect_timeout, retries)
            # A pooled connection the server has closed (or that holds stray
            # bytes) reads as ready: drop it, as urllib3 does before reuse.
            try:
                dropped = wait_for_read(conn.sock, timeout=0.0)
            except OSError:
                dropped = True
            if not dropped:
                return conn
            conn.close()

    def release(self, conn: Conn) -> None:
        with self._pool_lock:
            if not self._closed and len(self._idle) < self.maxsize:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def idle_count(self) -> int:
        with self._pool_lock:
            return len(self._idle)

    def _connect(self, timeout: float, retries: int) -> Conn:
        """Open a connection; urllib3's ``Retry`` decides whether and when to try again."""
        kind = HTTPSConnection if self.https else HTTPConnection
        retry = Retry(total=retries, connect=retries, read=0, status=0, other=0, redirect=0,
                      backoff_factor=CONNECT_BACKOFF_FACTOR, raise_on_status=False)
        while True:
            http = kind(self.host, self.port, timeout=timeout)
            try:
                http.connect()
            except ssl.SSLError as exc:  # a certificate problem does not go away on retry
                http.close()
                raise WireError(f"TLS handshake failed: {reason(exc)}", kind="connect_error") from None
            except (OSError, urllib3.exceptions.HTTPError) as exc:
                http.close()
                try:
                    retry = retry.increment("POST", None, error=exc)
                except urllib3.exceptions.MaxRetryError:
                    # NOTE: NewConnectionError subclasses ConnectTimeoutError; it is a refusal.
                    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError) and not isinstance(
                            exc, urllib3.exceptions.NewConnectionError):
                        raise WireError("connect timed out", kind="connect_error") from None
                    raise WireError(f"connection failed: {reason(exc)}", kind="connect_error") from None
                self._sleep(retry.get_backoff_time())
                continue
            assert http.sock is not None
            return Conn(http)


def reason(exc: object) -> str:
    """An exception's message, one line, without urllib3's "<object at 0x..>: " prefix."""
    text = str(exc)
    for marker in (">: ", "): "):
        if marker in text:
            text = text.split(marker, 1)[1]
            break
    return " ".join(text.split())[:MAX_REASON_CHARS]


class Answer:
    """Status, lower-cased headers and the whole body of one response."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def post(pool: WirePool, head: bytes, body: bytes, *, deadline: float, timeout: float,
         connect_timeout: float, connect_retries: int, max_bytes: int,
         clock: Callable[[], float] = time.monotonic) -> Answer:
    """Send ``head`` (request line and headers, without Content-Length) and ``body``; read the answer.

    ``deadline`` (clock time; ``timeout`` is its length, for messages) bounds
    the whole exchange: a backend that trickles its answer is a timeout as
    surely as a silent one.
    """
    conn = pool.acquire(connect_timeout, connect_retries)
    try:
        reader = _send(conn, head, body, deadline, timeout, clock)
        status, http10, headers = reader.final_head()
        answer, reusable = _whole(reader, status, http10, headers, max_bytes)
    except BaseException:
        conn.close()
        raise
    if reusable:
        pool.release(conn)
    else:
        conn.close()
    return answer


def open_stream(pool: WirePool, head: bytes, body: bytes, *, deadline: float, timeout: float,
                connect_timeout: float, connect_retries: int, max_bytes: int, idle_timeout: float,
                clock: Callable[[], float] = time.monotonic) -> Answer | Stream:
    """Send a streamed request and wait for the first body bytes (by ``deadline``).

    A 2xx comes back as a ``Stream`` whose ``first`` bytes have arrived; any
    other status as the whole ``Answer``. Headers alone do not commit: until
    a body byte arrives, every failure raises ``WireError``.
    """
    conn = pool.acquire(connect_timeout, connect_retries)
    try:
        reader = _send(conn, head, body, deadline, timeout, clock)
        status, http10, headers = reader.final_head()
        if status >= 300:
            answer, reusable = _whole(reader, status, http10, headers, max_bytes)
            if reusable:
                pool.release(conn)
            else:
                conn.close()
            return answer
        stream = Stream(pool, conn, reader, status, http10, headers, idle_timeout)
        first = stream.next_bytes()
        if not first:
            raise WireError("stream ended before its first byte", kind="bad_response")
        stream.first = first
        reader.timeout = idle_timeout
    except BaseException:
        conn.close()
        raise
    return stream


def _send(conn: Conn, head: bytes, body: bytes, deadline: float, timeout: float,
          clock: Callable[[], float]) -> _Reader:
    request = b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body)
    try:
        conn.sock.settimeout(max(deadline - clock(), 0.001))
        conn.sock.sendall(request)
    except TimeoutError:
        raise WireError(f"no answer within {timeout:g}s", kind="timeout") from None
    except OSError as exc:
        raise WireError(f"connection dropped mid-exchange: {reason(exc)}", kind="bad_response") from None
    return _Reader(conn, deadline, timeout, clock)


def _whole(reader: _Reader, status: int, http10: bool, headers: dict[str, str],
           max_bytes: int) -> tuple[Answer, bool]:
    """Read a complete body by its framing; also say whether the connection can be reused."""
    te = headers.get("transfer-encoding", "").lower()
    length = headers.get("content-length")
    if status in (204, 304):
        raw, framed = b"", True
    elif "chunked" in te:
        raw, framed = reader.chunked(max_bytes), True
    elif length is not None:
        n = _content_length(length)
        if n > max_bytes:
            raise WireError(f"response larger than {max_bytes} bytes", kind="bad_response")
        raw, framed = reader.exactly(n), True
    else:
        raw, framed = reader.until_close(max_bytes), False
    encoding = headers.get("content-encoding", "identity").lower()
    if encoding not in ("identity", ""):
        raw = _decode(raw, encoding, max_bytes)
    return Answer(status, headers, raw), framed and _keep_alive(reader.conn, http10, headers)


def _content_length(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise WireError(f"invalid Content-Length {text[:40]!r}", kind="bad_response") from None
    if n < 0:
        raise WireError(f"invalid Content-Length {n}", kind="bad_response")
    return n


def _keep_alive(conn: Conn, http10: bool, headers: dict[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    return not conn.buf and ("keep-alive" in connection if http10 else "close" not in connection)


class Stream:
    """A streamed 2xx answer whose first body bytes have arrived.

    ``read()`` returns the next body bytes as soon as any have arrived (one
    ``recv`` at most; chunked framing removed, never waiting for a chunk to
    complete), ``b""`` at the end, or raises ``WireError`` when the
    connection breaks or stays silent past ``idle_timeout``. A stream read to
    its framed end goes back to the pool on ``close()``; any other is closed.
    """

    def __init__(self, pool: WirePool, conn: Conn, reader: _Reader, status: int, http10: bool,
                 headers: dict[str, str], idle_timeout: float) -> None:
        self._pool = pool
        self._conn = conn
        self._reader = reader
        self.status = status
        self.headers = headers
        self.first = b""
        self._idle_timeout = idle_timeout
        self._http10 = http10
        te = headers.get("transfer-encoding", "").lower()
        length = headers.get("content-length")
        self._mode = "chunked" if "chunked" in te else "length" if length is not None else "close"
        self._left = _content_length(length) if self._mode == "length" and length is not None else 0
        self._crlf_due = False  # a chunk's data ended; its CRLF comes next
        self._done = False
        self._socket_lock = threading.Lock()  # guards _closed and _aborted: abort() comes from another thread
        self._closed = False
        self._aborted = False

    def read(self) -> bytes:
        if self._aborted:
            raise WireError("the stream was aborted", kind="bad_response")
        self._reader.deadline = self._reader.clock() + self._idle_timeout
        return self.next_bytes()

    def next_bytes(self) -> bytes:
        """What the backend has sent next, within the reader's deadline."""
        if self._done:
            return b""
        buf = self._conn.buf
        reader = self._reader
        if self._mode == "close":
            if not buf and not reader.fill():
                self._done = True
                return b""
            return self._take(len(self._conn.buf))
        if self._mode == "chunked" and self._left == 0:
            if self._crlf_due:
                reader.chunk_end()
                self._crlf_due = False
            self._left = reader.chunk_size()
            if self._left == 0:
                self._done = True
                return b""
        if self._mode == "length" and self._left == 0:
            self._done = True
            return b""
        if not self._conn.buf and not reader.fill():
            raise WireError("connection dropped mid-exchange: the stream ended early", kind="bad_response")
        data = self._take(min(self._left, len(self._conn.buf)))
        self._left -= len(data)
        if self._mode == "chunked" and self._left == 0:
            self._crlf_due = True
        return data

    def _take(self, n: int) -> bytes:
        buf = self._conn.buf
        data = bytes(buf[:n])
        del buf[:n]
        return data

    def finish(self, seconds: float) -> None:
        """Close a stream whose content the caller has whole (an SSE ``[DONE]`` seen).

        The backend's framing still has an end to read (the last chunk of a
        chunked body); reading it, for at most ``seconds``, lets the
        connection go back to the pool instead of a new one being opened for
        the next stream. Whatever else arrives is discarded.
        """
        if not self._closed and not self._aborted and not self._done and self._mode != "close":
            self._reader.deadline = self._reader.clock() + seconds
            try:
                for _ in range(MAX_DRAIN_READS):
                    if not self.next_bytes():
                        break
            except WireError:
                pass  # not finished in time, or broken: closed below
        self.close()

    def close(self) -> None:
        with self._socket_lock:
            if self._closed:
                return
            self._closed = True
            reusable = (not self._aborted and self._done and self._mode != "close"
                        and _keep_alive(self._conn, self._http10, self.headers))
            if not reusable:
                # Under the lock: abort() must never shut down a descriptor reused by then.
                self._conn.close()
        if reusable:
            self._pool.release(self._conn)

    def abort(self) -> None:
        """Make a read blocked in another thread return now; the connection is never reused.

        Thread-safe and non-blocking: shutting the socket down wakes a
        blocked ``recv`` (it returns end-of-stream); ``close()`` still
        releases it, from the reading thread.
        """
        with self._socket_lock:
            if self._closed or self._aborted:
                return
            self._aborted = True
            try:
                self._conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the peer: the read ends on its own


def _decode(raw: bytes, encoding: str, max_bytes: int) -> bytes:
    """gzip or deflate, though we ask for identity; anything else is refused."""
    if encoding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":
        wbits = zlib.MAX_WBITS
    else:
        raise WireError(f"unsupported Content-Encoding {encoding[:40]!r}", kind="bad_response")
    try:
        d = zlib.decompressobj(wbits)
        out = d.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise WireError(f"undecodable {encoding} body: {exc}", kind="bad_response") from None
    if len(out) > max_bytes:
        raise WireError(f"response larger than {max_bytes} bytes", kind="bad_response")
    return out


class _Reader:
    """Reads from one connection's socket into its buffer, always within the deadline."""

    __slots__ = ("clock", "conn", "deadline", "timeout")

    def __init__(self, conn: Conn, deadline: float, timeout: float, clock: Callable[[], float]) -> None:
        self.conn = conn
        self.deadline = deadline
        self.timeout = timeout
        self.clock = clock

    def fill(self) -> bool:
        """Read what has arrived; False at end of stream."""
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            raise WireError(f"no complete answer within {self.timeout:g}s", kind="timeout")
        sock = self.conn.sock
        try:
            sock.settimeout(remaining)
            data = sock.recv(RECV_BYTES)
        except TimeoutError:
            raise WireError(f"no answer within {self.timeout:g}s", kind="timeout") from None
        except OSError as exc:
            raise WireError(f"connection dropped mid-exchange: {reason(exc)}",
                            kind="bad_response") from None
        if not data:
            return False
        self.conn.buf += data
        return True

    def final_head(self) -> tuple[int, bool, dict[str, str]]:
        """The first non-1xx status line and headers (100 Continue, 103 Early Hints skipped)."""
        while True:
            status, http10, headers = self.head()
            if status >= 200:
                return status, http10, headers

    def head(self) -> tuple[int, bool, dict[str, str]]:
        """Status, whether it is HTTP/1.0, and headers (lower-case names, repeats joined)."""
        buf = self.conn.buf
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buf) > MAX_HEAD_BYTES:
                raise WireError("response headers too long", kind="bad_response")
            if not self.fill():
                what = "before its status line" if not buf else "inside its headers"
                raise WireError(f"connection dropped mid-exchange: closed {what}", kind="bad_response")
            buf = self.conn.buf
        block = bytes(buf[:end])
        del buf[:end + 4]
        lines = block.split(b"\r\n")
        parts = lines[0].split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise WireError(f"not an HTTP response: {lines[0][:60]!r}", kind="bad_response")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                continue
            key = name.strip().lower().decode("latin-1")
            text = value.strip().decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        return int(parts[1]), parts[0] == b"HTTP/1.0", headers

    def exactly(self, n: int) -> bytes:
        while len(self.conn.buf) < n:
            if not self.fill():
                raise WireError(f"connection dropped mid-exchange: body ended after "
                                f"{len(self.conn.buf)} of {n} bytes", kind="bad_response")
        buf = self.conn.buf
        body = bytes(buf[:n])
        del buf[:n]
        return body

    def until_close(self, max_bytes: int) -> bytes:
        while True:
            if len(self.conn.buf) > max_bytes:
                raise WireError(f"response larger than {max_bytes} bytes", kind="bad_response")
            if not self.fill():
                break
        body = bytes(self.conn.buf)
        self.conn.buf.clear()
        return body

    def line(self) -> bytes:
        buf = self.conn.buf
        while True:
            end = buf.find(b"\r\n")
            if end >= 0:
                line = bytes(buf[:end])
                del buf[:end + 2]
                return line
            if len(buf) > MAX_HEAD_BYTES:
                raise WireError("chunk header too long", kind="bad_response")
            if not self.fill():
                raise WireError("connection dropped mid-exchange: inside a chunked body",
                                kind="bad_response")
            buf = self.conn.buf

    def chunk_size(self) -> int:
        """The next chunk's size; at the last chunk (0) its trailers are consumed too."""
        size_text = self.line().split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise WireError(f"invalid chunk size {size_text[:20]!r}", kind="bad_response") from None
        if size == 0:
            while self.line():  # trailers, up to the blank line
                pass
        return size

    def chunk_end(self) -> None:
        if self.line():
            raise WireError("chunk not followed by CRLF", kind="bad_response")

    def chunked(self, max_bytes: int) -> bytes:
        out = bytearray()
        while size := self.chunk_size():
            if len(out) + size > max_bytes:
                raise WireError(f"response larger than {max_bytes} bytes", kind="bad_response")
            out += self.exactly(size)
            self.chunk_end()
        return bytes(out)
