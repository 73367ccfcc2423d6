"""A raw-socket HTTP/1.1 client that timestamps every server-sent event.

The same parser serves one blocking stream (``stream_once``, for time to first
byte and inter-chunk gaps) and hundreds of multiplexed ones (``StreamPool``,
for the many-streams check), so the direct path and Octoroute are always read
by identical code. Times are ``time.perf_counter()`` seconds from just before
connecting.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time

RECV_BYTES = 65536


class StreamReader:
    """Incremental response parser: status, headers, de-chunking, SSE event times."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.t_headers: float | None = None  # seconds from start to the end of the headers
        self.t_first_byte: float | None = None  # ... to the first body byte
        self.events: list[float] = []  # ... to the end of each event that is not [DONE]
        self.saw_done = False
        self.saw_error_event = False
        self.complete = False  # the response ended properly (last chunk or full length)
        self.error: str | None = None
        self._buf = bytearray()
        self._sse = bytearray()
        self._state = "headers"
        self._remaining: int | None = 0

    @property
    def finished(self) -> bool:
        return self.complete or self.error is not None

    def feed(self, data: bytes, now: float) -> None:
        self._buf += data
        while not self.complete:
            if not self._step(now):
                return

    def eof(self, now: float) -> None:
        if self._state == "body" and self._remaining is None:
            self.complete = True  # close-delimited body
        elif not self.complete and self.error is None:
            self.error = f"connection closed in state {self._state}"

    def _step(self, now: float) -> bool:
        """Consume what the buffer allows; False when more bytes are needed."""
        buf = self._buf
        if self._state == "headers":
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            del buf[:end + 4]
            self.status = int(lines[0].split()[1])
            for line in lines[1:]:
                name, _, value = line.partition(":")
                self.headers[name.strip().lower()] = value.strip()
            self.t_headers = now - self.started
            if "chunked" in self.headers.get("transfer-encoding", "").lower():
                self._state = "size"
            else:
                length = self.headers.get("content-length")
                self._remaining = int(length) if length is not None else None
                self._state = "body"
                if self._remaining == 0:
                    self.complete = True
            return True
        if self._state == "size":
            end = buf.find(b"\r\n")
            if end < 0:
                return False
            size = int(bytes(buf[:end]).split(b";")[0], 16)
            del buf[:end + 2]
            if size == 0:
                self.complete = True  # trailers, if any, are ignored
                return False
            self._remaining, self._state = size, "data"
            return True
        if self._state == "data":
            if not buf:
                return False
            assert self._remaining is not None
            take = bytes(buf[:self._remaining])
            del buf[:len(take)]
            self._remaining -= len(take)
            self._body(take, now)
            if self._remaining == 0:
                self._state = "crlf"
            return True
        if self._state == "crlf":
            if len(buf) < 2:
                return False
            del buf[:2]
            self._state = "size"
            return True
        # "body": Content-Length or close-delimited
        if not buf:
            return False
        take = bytes(buf if self._remaining is None else buf[:self._remaining])
        del buf[:len(take)]
        self._body(take, now)
        if self._remaining is not None:
            self._remaining -= len(take)
            if self._remaining == 0:
                self.complete = True
        return True

    def _body(self, data: bytes, now: float) -> None:
        if self.t_first_byte is None and data:
            self.t_first_byte = now - self.started
        self._sse += data
        while (end := self._sse.find(b"\n\n")) >= 0:
            event = bytes(self._sse[:end]).strip()
            del self._sse[:end + 2]
            if not event:
                continue
            if b"[DONE]" in event:
                self.saw_done = True
            else:
                if event.startswith(b'data: {"error"'):
                    self.saw_error_event = True
                self.events.append(now - self.started)


def _request(port: int, path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Accept: text/event-stream\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode() + body


def _connect(port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def stream_once(port: int, path: str, body: bytes, *, timeout: float = 60.0) -> StreamReader:
    """POST ``body`` and read the whole response, timestamping each event."""
    started = time.perf_counter()
    reader = StreamReader(started)
    deadline = started + timeout
    try:
        sock = _connect(port, timeout)
    except OSError as exc:
        reader.error = f"connect: {exc}"
        return reader
    with sock:
        sock.sendall(_request(port, path, body))
        while not reader.finished:
            sock.settimeout(max(0.01, deadline - time.perf_counter()))
            try:
                data = sock.recv(RECV_BYTES)
            except OSError as exc:
                reader.error = f"recv: {exc}"
                break
            now = time.perf_counter()
            if not data:
                reader.eof(now)
                break
            reader.feed(data, now)
    return reader


class StreamPool:
    """Hold many streams open at once from one thread (a selector over raw sockets)."""

    def __init__(self, port: int, path: str, bodies: list[bytes], *, timeout: float) -> None:
        self.port = port
        self.path = path
        self.bodies = bodies
        self.timeout = timeout
        self.readers: list[StreamReader] = []
        self._thread = threading.Thread(target=self._run, name="stream-pool", daemon=True)

    def start(self) -> StreamPool:
        self._thread.start()
        return self

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def opened(self) -> int:
        return len(self.readers)

    def streaming(self) -> int:
        """Streams that have received at least one event."""
        return sum(1 for r in list(self.readers) if r.events)

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        deadline = time.perf_counter() + self.timeout
        live: dict[int, tuple[socket.socket, StreamReader]] = {}
        try:
            for body in self.bodies:
                reader = StreamReader(time.perf_counter())
                self.readers.append(reader)
                try:
                    sock = _connect(self.port, 10.0)
                    sock.sendall(_request(self.port, self.path, body))
                except OSError as exc:
                    reader.error = f"connect: {exc}"
                    continue
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ, reader)
                live[sock.fileno()] = (sock, reader)
            while live and time.perf_counter() < deadline:
                for key, _ in selector.select(timeout=0.5):
                    sock, reader = live[key.fd]
                    try:
                        data = sock.recv(RECV_BYTES)
                    except BlockingIOError:
                        continue
                    except OSError as exc:
                        reader.error, data = f"recv: {exc}", b""
                    now = time.perf_counter()
                    if data:
                        reader.feed(data, now)
                    else:
                        reader.eof(now)
                    if reader.finished:
                        selector.unregister(sock)
                        live.pop(sock.fileno(), None)
                        sock.close()
            for sock, reader in live.values():
                reader.error = reader.error or "still open at the deadline"
                sock.close()
        finally:
            selector.close()
