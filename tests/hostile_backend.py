"""A raw-socket backend that breaks HTTP on purpose, for the strict-framing tests.

``http.server`` cannot send a malformed answer (it frames every response
itself), so this one writes scripted bytes straight to the socket: a
negative chunk size, two Content-Length headers, a 204 with a body. Each
request gets the next scripted ``Reply`` (or the default), and every
accepted connection is counted, so a test can tell a reused connection from
a new one. Health probes (``GET``) always get a well-formed model list.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

RECV_BYTES = 65536  # bytes per recv
JOIN_TIMEOUT_S = 5.0  # seconds; waiting for connection threads when the backend stops
IDLE_TIMEOUT_S = 30.0  # seconds; a connection nobody writes to is closed after this


@dataclass(frozen=True)
class Reply:
    """The bytes sent for one request, and whether the connection stays open after them.

    ``after`` runs on the connection once ``raw`` is sent: it may trickle more
    bytes or hold the connection until the test releases it.
    """

    raw: bytes
    close: bool = False
    after: Callable[[socket.socket], None] | None = None


def completion_json(text: str = "hostile but fine") -> bytes:
    """A minimal chat-completions answer body."""
    return json.dumps({"id": "x", "object": "chat.completion", "model": "hostile",
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": text}}],
                       "usage": {"completion_tokens": 3}}).encode()


def well_formed(body: bytes | None = None, *, status: str = "200 OK",
                content_type: str = "application/json") -> Reply:
    """A correct keep-alive answer with a Content-Length."""
    data = completion_json() if body is None else body
    return Reply(b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
                 % (status.encode(), content_type.encode(), len(data), data))


def answer_with(head_lines: Iterable[str], body: bytes, *, status: str = "200 OK",
                close: bool = False, after: Callable[[socket.socket], None] | None = None) -> Reply:
    """A status line, exactly ``head_lines`` as headers, then ``body`` verbatim."""
    head = "".join(f"{line}\r\n" for line in head_lines)
    return Reply(f"HTTP/1.1 {status}\r\n{head}\r\n".encode("latin-1") + body, close=close, after=after)


def chunked_body(*chunks: bytes) -> bytes:
    """Well-formed chunked framing of ``chunks``, with the last chunk."""
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


class HostileBackend:
    """Serves scripted raw bytes on an ephemeral loopback port."""

    def __init__(self, default: Reply | None = None, *, tls: ssl.SSLContext | None = None) -> None:
        self.default = default if default is not None else well_formed()
        self._tls = tls
        self._queue: deque[Reply] = deque()
        self._lock = threading.Condition()  # guards _queue, connections, closed, requests
        self.connections = 0  # accepted so far
        self.closed = 0  # connections closed so far (by either side)
        self.requests: list[tuple[int, bytes]] = []  # (connection number, request head) per request
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/v1"
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self._acceptor = threading.Thread(target=self._accept, name="fake-hostile-accept", daemon=True)
        self._acceptor.start()

    def enqueue(self, *replies: Reply) -> HostileBackend:
        with self._lock:
            self._queue.extend(replies)
        return self

    def wait_closed(self, count: int, timeout: float = JOIN_TIMEOUT_S) -> bool:
        """Block until ``count`` connections have closed."""
        with self._lock:
            return self._lock.wait_for(lambda: self.closed >= count, timeout)

    def chats(self) -> list[tuple[int, bytes]]:
        with self._lock:
            return [r for r in self.requests if r[1].startswith(b"POST ")]

    def _next(self, head: bytes) -> Reply:
        if head.startswith(b"GET "):
            return well_formed(b'{"object": "list", "data": [{"id": "hostile"}]}')
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                number = self.connections
                self._socks.append(conn)
            t = threading.Thread(target=self._serve, args=(conn, number), daemon=True,
                                 name=f"fake-hostile-{number}")
            self._threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        conn.settimeout(IDLE_TIMEOUT_S)
        buf = b""
        try:
            if self._tls is not None:
                conn = self._tls.wrap_socket(conn, server_side=True)
                with self._lock:
                    self._socks.append(conn)
            while not self._stopped.is_set():
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(RECV_BYTES)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(buf) < length:
                    data = conn.recv(RECV_BYTES)
                    if not data:
                        return
                    buf += data
                buf = buf[length:]
                with self._lock:
                    self.requests.append((number, head))
                reply = self._next(head)
                conn.sendall(reply.raw)
                if reply.after is not None:
                    reply.after(conn)
                if reply.close:
                    return
        except OSError:
            return
        finally:
            conn.close()
            with self._lock:
                self.closed += 1
                self._lock.notify_all()

    def stop(self) -> None:
        self._stopped.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() would not
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._acceptor.join(JOIN_TIMEOUT_S)
        for t in self._threads:
            t.join(JOIN_TIMEOUT_S)

    def __enter__(self) -> HostileBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
