"""The lean HTTP/1.1 exchange (octoroute/backends/wire.py) against a raw-socket server.

The server here answers with exact bytes, so every framing an LLM server may
use (Content-Length, chunked with extensions and trailers, close-delimited,
HTTP/1.0, 1xx interim answers, gzip) and every way an answer can go wrong
(truncated, oversized, trickled, garbage) is sent as such. Reuse is checked by
counting the connections the server accepted.
"""

from __future__ import annotations

import gzip
import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from octoroute.backends import wire
from octoroute.backends.client import BackendClient
from octoroute.config import EndpointConfig
from octoroute.errors import BackendError

OK_BODY = json.dumps({"choices": [{"message": {"role": "assistant", "content": "hi"}}]}).encode()
HEAD = b"POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"

Reply = Callable[[socket.socket, bytes], bool]  # sends an answer; returns False to close the connection


def fixed(raw: bytes, keep: bool = True) -> Reply:
    def reply(conn: socket.socket, _request: bytes) -> bool:
        conn.sendall(raw)
        return keep
    return reply


def ok(body: bytes = OK_BODY, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body), extra, body)


class RawServer:
    """Accepts connections; answers each request with the next reply in ``replies`` (the last repeats)."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.requests: list[bytes] = []
        self.accepted = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="test-raw-server", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, rest = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(rest) < length:
                    rest += conn.recv(65536)
                request, buf = head + b"\r\n\r\n" + rest[:length], rest[length:]
                self.requests.append(request)
                reply = self.replies[min(len(self.requests) - 1, len(self.replies) - 1)]
                if not reply(conn, request):
                    return
        except OSError:
            return
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass


@pytest.fixture
def serve() -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(*replies: Reply) -> RawServer:
        s = RawServer(list(replies))
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.close()


def post(pool: wire.WirePool, body: bytes = b'{"x":1}', timeout: float = 5.0,
         max_bytes: int = 1 << 20) -> wire.Answer:
    return wire.post(pool, HEAD, body, deadline=time.monotonic() + timeout, timeout=timeout,
                     connect_timeout=1.0, connect_retries=2, max_bytes=max_bytes)


def fails(pool: wire.WirePool, kind: str, **kw: Any) -> BackendError:
    with pytest.raises(BackendError) as info:
        post(pool, **kw)
    assert info.value.kind == kind, info.value.message
    return info.value


def test_request_is_one_well_formed_message(serve: Callable[..., RawServer]) -> None:
    server = serve(fixed(ok()))
    answer = post(wire.WirePool(server.url, 4), body=b'{"model":"m"}')
    assert (answer.status, answer.body) == (200, OK_BODY)
    assert answer.headers["content-type"] == "application/json"
    request = server.requests[0]
    assert request.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert b"\r\nContent-Length: 13\r\n\r\n" in request and request.endswith(b'{"model":"m"}')


def test_keep_alive_connection_is_reused(serve: Callable[..., RawServer]) -> None:
    server = serve(fixed(ok()))
    pool = wire.WirePool(server.url, 4)
    for _ in range(20):
        assert post(pool).status == 200
    assert server.accepted == 1
    assert pool.idle_count() == 1


@pytest.mark.parametrize("raw,keep", [
    (ok(extra=b"Connection: close\r\n"), False),
    (b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(OK_BODY), OK_BODY), False),
    (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: %d\r\n\r\n%s" % (len(OK_BODY), OK_BODY),
     True),
])
def test_connection_reuse_follows_the_protocol(serve: Callable[..., RawServer], raw: bytes,
                                               keep: bool) -> None:
    server = serve(fixed(raw, keep=keep))
    pool = wire.WirePool(server.url, 4)
    for _ in range(3):
        assert post(pool).body == OK_BODY
    assert server.accepted == (1 if keep else 3)


def test_chunked_body_with_extensions_and_trailers(serve: Callable[..., RawServer]) -> None:
    a, b = OK_BODY[:10], OK_BODY[10:]
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"%x;ext=1\r\n%s\r\n%X\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n" % (len(a), a, len(b), b))
    server = serve(fixed(raw))
    pool = wire.WirePool(server.url, 4)
    assert post(pool).body == OK_BODY
    assert post(pool).body == OK_BODY  # the trailers were consumed: the next answer parses
    assert server.accepted == 1


def test_close_delimited_body_is_read_to_the_end_and_not_pooled(serve: Callable[..., RawServer]) -> None:
    server = serve(fixed(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + OK_BODY, keep=False))
    pool = wire.WirePool(server.url, 4)
    assert post(pool).body == OK_BODY
    assert pool.idle_count() == 0


def test_interim_1xx_answers_are_skipped(serve: Callable[..., RawServer]) -> None:
    server = serve(fixed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n" + ok()))
    assert post(wire.WirePool(server.url, 4)).body == OK_BODY


def test_gzip_body_is_decoded(serve: Callable[..., RawServer]) -> None:
    packed = gzip.compress(OK_BODY)
    server = serve(fixed(ok(packed, extra=b"Content-Encoding: gzip\r\n")))
    assert post(wire.WirePool(server.url, 4)).body == OK_BODY


def test_repeated_headers_are_joined(serve: Callable[..., RawServer]) -> None:
    server = serve(fixed(ok(extra=b"X-A: 1\r\nx-a: 2\r\n")))
    assert post(wire.WirePool(server.url, 4)).headers["x-a"] == "1, 2"


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + OK_BODY[:20],                      # truncated
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + OK_BODY[:10],       # cut chunk
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",                      # bad chunk size
    b"HTTP/1.1 200 OK\r\nContent-Len",                                                   # cut headers
    b"",                                                                                 # closed at once
    b"SSH-2.0-OpenSSH_9.2\r\n\r\n",                                                      # not HTTP
    b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",                                    # nonsense length
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Encoding: br\r\n\r\nabc",          # unknown coding
], ids=["truncated", "cut-chunk", "bad-chunk-size", "cut-headers", "closed", "not-http", "negative-length",
        "unknown-coding"])
def test_broken_answers_are_bad_responses_and_not_pooled(serve: Callable[..., RawServer], raw: bytes) -> None:
    server = serve(fixed(raw, keep=False))
    pool = wire.WirePool(server.url, 4)
    fails(pool, "bad_response")
    assert pool.idle_count() == 0


@pytest.mark.parametrize("raw", [
    ok(b"x" * 5000),
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + (b"400\r\n" + b"y" * 1024 + b"\r\n") * 5
    + b"0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n\r\n" + b"z" * 5000,
], ids=["content-length", "chunked", "close-delimited"])
def test_answers_over_the_size_limit_are_refused(serve: Callable[..., RawServer], raw: bytes) -> None:
    server = serve(fixed(raw, keep=False))
    err = fails(wire.WirePool(server.url, 4), "bad_response", max_bytes=4096)
    assert "larger than 4096 bytes" in err.message


def test_a_trickled_answer_is_a_timeout(serve: Callable[..., RawServer]) -> None:
    stop = threading.Event()

    def trickle(conn: socket.socket, _request: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        while not stop.wait(0.02):
            try:
                conn.sendall(b"x")
            except OSError:
                break
        return False

    server = serve(trickle)
    started = time.monotonic()
    try:
        fails(wire.WirePool(server.url, 4), "timeout", timeout=0.3)
    finally:
        stop.set()
    assert time.monotonic() - started < 5.0  # one-sided: the deadline held although bytes kept coming


def test_a_silent_backend_is_a_timeout(serve: Callable[..., RawServer]) -> None:
    gate = threading.Event()

    def silent(conn: socket.socket, _request: bytes) -> bool:
        gate.wait(10)
        return False

    server = serve(silent)
    try:
        fails(wire.WirePool(server.url, 4), "timeout", timeout=0.2)
    finally:
        gate.set()


def test_a_pooled_connection_closed_by_the_server_is_replaced(serve: Callable[..., RawServer]) -> None:
    # The server answers with keep-alive framing, then closes the connection (its idle timeout).
    server = serve(fixed(ok(), keep=False))
    pool = wire.WirePool(server.url, 4)
    assert post(pool).status == 200
    assert pool.idle_count() == 1
    conn = pool._idle[0]
    assert socket_closed_by_peer(conn.sock)
    assert post(pool).status == 200  # not "connection dropped": the dead one was noticed
    assert server.accepted == 2


def socket_closed_by_peer(sock: socket.socket, wait: float = 5.0) -> bool:
    readable, _, _ = select.select([sock], [], [], wait)
    return bool(readable)


def test_connection_refused_is_retried_then_a_connect_error() -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    slept: list[float] = []
    pool = wire.WirePool(f"http://127.0.0.1:{port}/v1", 4, sleep=slept.append)
    err = fails(pool, "connect_error")
    assert "connection failed" in err.message
    assert slept == [0.0, 0.1]


def test_pool_keeps_at_most_maxsize_idle_connections(serve: Callable[..., RawServer]) -> None:
    server = serve(fixed(ok()))
    pool = wire.WirePool(server.url, 2)
    conns = [pool.acquire(1.0, 0) for _ in range(4)]
    for c in conns:
        pool.release(c)
    assert pool.idle_count() == 2
    assert sum(1 for c in conns if c.sock.fileno() == -1) == 2  # the extra two were closed
    pool.close()
    assert pool.idle_count() == 0
    assert all(c.sock.fileno() == -1 for c in conns)


def test_backend_client_uses_the_lean_exchange_with_its_headers(serve: Callable[..., RawServer],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIRE_TEST_KEY", "sk-backend")
    server = serve(fixed(ok(extra=b"Retry-After: 7\r\n")))
    e = EndpointConfig(id="a", name="m", tier="fast", base_url=server.url + "/", max_tokens=10,
                       api_key_env="WIRE_TEST_KEY", api_key="sk-backend")
    client = BackendClient(e, pool_size=2)
    try:
        reply = client.chat(b'{"model":"m"}', timeout=5)
        assert reply.data["choices"][0]["message"]["content"] == "hi"
        request = server.requests[0].decode()
        assert request.startswith("POST /v1/chat/completions HTTP/1.1\r\n")
        assert f"\r\nHost: 127.0.0.1:{server.port}\r\n" in request
        assert "\r\nAuthorization: Bearer sk-backend\r\n" in request
        assert "\r\nContent-Type: application/json\r\n" in request
    finally:
        client.close()


def test_backend_client_429_reads_retry_after_from_the_lean_answer(serve: Callable[..., RawServer]) -> None:
    server = serve(fixed(b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\nContent-Length: 2\r\n\r\n{}"))
    e = EndpointConfig(id="a", name="m", tier="fast", base_url=server.url, max_tokens=10)
    client = BackendClient(e, pool_size=2)
    try:
        with pytest.raises(BackendError) as info:
            client.chat(b"{}", timeout=5)
        assert (info.value.kind, info.value.retry_after) == ("rate_limited", 7.0)
    finally:
        client.close()


# --- streams -----------------------------------------------------------------


def open_stream(pool: wire.WirePool, timeout: float = 5.0, idle: float = 5.0) -> wire.Answer | wire.Stream:
    return wire.open_stream(pool, HEAD, b"{}", deadline=time.monotonic() + timeout, timeout=timeout,
                            connect_timeout=1.0, connect_retries=0, max_bytes=1 << 20, idle_timeout=idle)


def drain(stream: wire.Stream) -> bytes:
    out = stream.first
    while chunk := stream.read():
        out += chunk
    return out


def stepped(parts: list[bytes], keep: bool = True) -> tuple[Reply, list[threading.Event]]:
    """Send ``parts`` one at a time, each after the test opens its gate."""
    gates = [threading.Event() for _ in parts]

    def reply(conn: socket.socket, _request: bytes) -> bool:
        for gate, part in zip(gates, parts, strict=True):
            gate.wait(10)
            conn.sendall(part)
        return keep
    gates[0].set()
    return reply, gates


SSE = [b"data: {\"n\":1}\n\n", b"data: {\"n\":2}\n\n", b"data: [DONE]\n\n"]


def test_chunked_stream_hands_over_each_piece_as_it_arrives_and_is_reused(
        serve: Callable[..., RawServer]) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    # The second event's chunk arrives in two halves; the reader must not wait for the whole chunk.
    half = len(SSE[1]) // 2
    parts = [head + b"%x\r\n%s\r\n" % (len(SSE[0]), SSE[0]),
             b"%x\r\n%s" % (len(SSE[1]), SSE[1][:half]),
             SSE[1][half:] + b"\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(SSE[2]), SSE[2])]
    reply, gates = stepped(parts)
    server = serve(reply, fixed(ok()))
    pool = wire.WirePool(server.url, 4)
    stream = open_stream(pool)
    assert isinstance(stream, wire.Stream)
    assert stream.first == SSE[0] and stream.headers["content-type"] == "text/event-stream"
    gates[1].set()
    assert stream.read() == SSE[1][:half]  # returned although the rest of the chunk is not sent yet
    gates[2].set()
    rest = b""
    while chunk := stream.read():
        rest += chunk
    assert rest == SSE[1][half:] + SSE[2]
    stream.close()
    assert pool.idle_count() == 1
    assert post(pool).body == OK_BODY
    assert server.accepted == 1  # the finished stream's connection served the next call


@pytest.mark.parametrize("framing", ["content-length", "close"])
def test_unchunked_streams_are_relayed_whole(serve: Callable[..., RawServer], framing: str) -> None:
    body = b"".join(SSE)
    length = b"Content-Length: %d\r\n" % len(body) if framing == "content-length" else b""
    server = serve(fixed(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" + length + b"\r\n" + body,
                         keep=framing == "content-length"))
    pool = wire.WirePool(server.url, 4)
    stream = open_stream(pool)
    assert isinstance(stream, wire.Stream)
    assert drain(stream) == body
    stream.close()
    assert pool.idle_count() == (1 if framing == "content-length" else 0)


def test_a_stream_closed_early_closes_its_connection(serve: Callable[..., RawServer]) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    reply, gates = stepped([head + b"%x\r\n%s\r\n" % (len(SSE[0]), SSE[0]), b"0\r\n\r\n"])
    server = serve(reply)
    pool = wire.WirePool(server.url, 4)
    stream = open_stream(pool)
    assert isinstance(stream, wire.Stream)
    sock = stream._conn.sock
    stream.close()  # the client went away mid-stream
    gates[1].set()
    assert sock.fileno() == -1 and pool.idle_count() == 0


def test_a_stalled_stream_is_an_idle_timeout(serve: Callable[..., RawServer]) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    reply, gates = stepped([head + b"%x\r\n%s\r\n" % (len(SSE[0]), SSE[0]), b"0\r\n\r\n"])
    server = serve(reply)
    stream = open_stream(wire.WirePool(server.url, 4), idle=0.2)
    assert isinstance(stream, wire.Stream)
    try:
        with pytest.raises(BackendError) as info:
            stream.read()
        assert info.value.kind == "timeout"
    finally:
        gates[1].set()
        stream.close()


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_abort_wakes_a_blocked_read_from_another_thread_and_never_pools(
        serve: Callable[..., RawServer], framing: str) -> None:
    """The stream watchdog's way in: a read blocked on a silent backend returns at once."""
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" if framing == "chunked" else (
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    first = b"%x\r\n%s\r\n" % (len(SSE[0]), SSE[0]) if framing == "chunked" else SSE[0]
    reply, gates = stepped([head + first, b"0\r\n\r\n"])
    server = serve(reply)
    pool = wire.WirePool(server.url, 4)
    stream = open_stream(pool, idle=30.0)
    assert isinstance(stream, wire.Stream)
    reading = threading.Event()
    ended: list[bytes | BackendError] = []
    done = threading.Event()

    def read() -> None:
        reading.set()
        try:
            ended.append(stream.read())
        except BackendError as exc:
            ended.append(exc)
        done.set()

    reader = threading.Thread(target=read, name="test-blocked-read", daemon=True)
    reader.start()
    try:
        assert reading.wait(5.0)
        assert not done.wait(0.05)  # blocked on the silent backend (idle timeout 30 s)
        aborted_at = time.monotonic()
        stream.abort()
        assert done.wait(1.0), "abort() did not wake the blocked read"
        print(f"{framing}: read returned {1000 * (time.monotonic() - aborted_at):.1f} ms after abort()")
        assert ended[0] == b"" or isinstance(ended[0], BackendError)
        with pytest.raises(BackendError):
            stream.read()  # an aborted stream stays ended
        stream.abort()  # idempotent
    finally:
        gates[1].set()
        stream.close()
        reader.join(5.0)
    stream.abort()  # after close: a no-op, never a shutdown of a reused descriptor
    assert pool.idle_count() == 0


def test_a_stream_cut_inside_a_chunk_is_a_dropped_connection(serve: Callable[..., RawServer]) -> None:
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n40\r\ndata: {"
           % (len(SSE[0]), SSE[0]))
    server = serve(fixed(raw, keep=False))
    stream = open_stream(wire.WirePool(server.url, 4))
    assert isinstance(stream, wire.Stream)
    assert stream.read() == b"data: {"
    with pytest.raises(BackendError) as info:
        stream.read()
    assert info.value.kind == "bad_response"


def test_headers_without_a_body_byte_do_not_commit(serve: Callable[..., RawServer]) -> None:
    server = serve(fixed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
    with pytest.raises(BackendError) as info:
        open_stream(wire.WirePool(server.url, 4))
    assert "before its first byte" in info.value.message


def test_a_non_2xx_stream_answer_comes_back_whole(serve: Callable[..., RawServer]) -> None:
    server = serve(fixed(b"HTTP/1.1 503 Busy\r\nContent-Length: 2\r\n\r\n{}"))
    answer = open_stream(wire.WirePool(server.url, 4))
    assert isinstance(answer, wire.Answer) and (answer.status, answer.body) == (503, b"{}")


def test_finish_reads_the_framing_end_after_done_and_pools_the_connection(
        serve: Callable[..., RawServer]) -> None:
    """The relay stops reading at [DONE]; finish() reads the last chunk so the connection is reused."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    done = b"%x\r\n%s\r\n" % (len(SSE[2]), SSE[2])
    reply, gates = stepped([head + b"%x\r\n%s\r\n" % (len(SSE[0]), SSE[0]) + done, b"0\r\n\r\n"])
    server = serve(reply, fixed(ok()))
    pool = wire.WirePool(server.url, 4)
    stream = open_stream(pool)
    assert isinstance(stream, wire.Stream)
    assert stream.read() == SSE[2]  # [DONE]: the caller has all it needs and stops reading
    finisher = threading.Thread(target=stream.finish, args=(5.0,), name="test-finish")
    finisher.start()
    gates[1].set()  # the framing's end arrives a moment later
    finisher.join(10)
    assert pool.idle_count() == 1
    assert post(pool).body == OK_BODY
    assert server.accepted == 1


def test_finish_gives_up_on_a_backend_that_keeps_the_stream_open(serve: Callable[..., RawServer]) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    done = b"%x\r\n%s\r\n" % (len(SSE[2]), SSE[2])
    reply, gates = stepped([head + done, b"0\r\n\r\n"])  # the end is never released
    server = serve(reply)
    pool = wire.WirePool(server.url, 4)
    stream = open_stream(pool)
    assert isinstance(stream, wire.Stream)
    sock = stream._conn.sock
    started = time.monotonic()
    stream.finish(0.05)
    assert time.monotonic() - started < 5.0  # bounded by its own limit (generously)
    assert sock.fileno() == -1 and pool.idle_count() == 0
    gates[1].set()
    assert server.accepted == 1
