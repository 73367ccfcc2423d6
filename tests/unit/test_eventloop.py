"""The epoll step that drives waitress's socket map (``octoroute.eventloop``).

Fake channels over real socket pairs: they answer ``readable()``/``writable()``
as a test sets them and record which events the loop handed them.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from octoroute.eventloop import ACCEPT_BATCH, EventLoop

needs_epoll = pytest.mark.skipif(not hasattr(select, "epoll"), reason="epoll is Linux-only")


class FakeChannel:
    """What waitress's loop asks of a dispatcher, and nothing more."""

    def __init__(self, sock: socket.socket, *, readable: bool = True, writable: bool = False) -> None:
        self.sock = sock
        self.want_read = readable
        self.want_write = writable
        self.accepting = False
        self.events: list[str] = []

    def fileno(self) -> int:
        return self.sock.fileno()

    def readable(self) -> bool:
        return self.want_read

    def writable(self) -> bool:
        return self.want_write

    def handle_read_event(self) -> None:
        self.events.append("read")
        self.sock.recv(65536)

    def handle_write_event(self) -> None:
        self.events.append("write")
        self.want_write = False

    def handle_expt_event(self) -> None:
        self.events.append("expt")

    def handle_close(self) -> None:
        self.events.append("close")

    def handle_error(self) -> None:  # pragma: no cover - would hide a bug in the test
        raise AssertionError("handle_error called")


@pytest.fixture(params=[True, False], ids=["epoll", "select"])
def use_epoll(request: pytest.FixtureRequest) -> bool:
    if request.param and not hasattr(select, "epoll"):
        pytest.skip("epoll is Linux-only")
    return bool(request.param)


@pytest.fixture
def pairs() -> Iterator[list[tuple[socket.socket, socket.socket]]]:
    made: list[tuple[socket.socket, socket.socket]] = []
    yield made
    for a, b in made:
        a.close()
        b.close()


def pair(made: list[tuple[socket.socket, socket.socket]]) -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    made.append((a, b))
    return a, b


def test_read_event_reaches_only_the_channel_with_data(use_epoll: bool, pairs: list) -> None:
    (a, peer_a), (b, _) = pair(pairs), pair(pairs)
    ca, cb = FakeChannel(a), FakeChannel(b)
    loop = EventLoop({a.fileno(): ca, b.fileno(): cb}, use_epoll=use_epoll)
    assert loop.uses_epoll is use_epoll
    peer_a.sendall(b"GET / HTTP/1.1\r\n\r\n")
    loop.step(1.0)
    assert ca.events == ["read"]
    assert cb.events == []
    loop.close()


def test_interest_changes_between_steps_are_honoured(use_epoll: bool, pairs: list) -> None:
    a, peer = pair(pairs)
    channel = FakeChannel(a, readable=False)
    loop = EventLoop({a.fileno(): channel}, use_epoll=use_epoll)
    peer.sendall(b"x")
    loop.step(0.01)  # data waits, but the channel does not want to read yet
    assert channel.events == []
    channel.want_read = True
    loop.step(1.0)
    assert channel.events == ["read"]
    channel.want_write = True  # a socket pair is always writable
    loop.step(1.0)
    assert channel.events == ["read", "write"]
    loop.step(0.01)  # write interest dropped by the handler: nothing more
    assert channel.events == ["read", "write"]
    loop.close()


@needs_epoll
def test_a_channel_without_interest_hears_no_hang_up(pairs: list) -> None:
    """As with waitress's own loops, a channel asking for nothing is not watched at all."""
    a, peer = pair(pairs)
    channel = FakeChannel(a, readable=False)
    loop = EventLoop({a.fileno(): channel})
    peer.close()  # a hang-up epoll would report even with no events requested
    loop.step(0.01)
    assert channel.events == []
    channel.want_read = True
    loop.step(1.0)
    assert channel.events and channel.events[0] == "read"
    loop.close()


@needs_epoll
def test_a_reused_descriptor_number_is_watched_again(pairs: list) -> None:
    """A closed channel's number handed to a new socket: the kernel dropped the old entry."""
    a, _peer = pair(pairs)
    fd = a.fileno()
    socket_map: dict[int, FakeChannel] = {fd: FakeChannel(a)}
    loop = EventLoop(socket_map)
    loop.step(0.01)  # registers fd
    a.close()  # the kernel drops the registration with the socket
    del socket_map[fd]
    b, peer_b = pair(pairs)
    if b.fileno() != fd:  # take the exact number back, as a busy server would
        os.dup2(b.fileno(), fd)
        b.close()
        b = socket.socket(fileno=fd)
        pairs.append((b, peer_b))
    channel = FakeChannel(b)  # the same interest as the closed channel had
    socket_map[fd] = channel
    peer_b.sendall(b"hello")
    loop.step(1.0)
    assert channel.events == ["read"]
    channel.want_write = True  # and a later change of interest reaches the kernel too
    loop.step(1.0)
    assert channel.events == ["read", "write"]
    loop.close()


@needs_epoll
def test_channels_that_leave_the_map_are_forgotten(pairs: list) -> None:
    a, peer = pair(pairs)
    socket_map: dict[int, FakeChannel] = {a.fileno(): FakeChannel(a)}
    loop = EventLoop(socket_map)
    loop.step(0.01)
    assert loop._watched == {a.fileno(): (socket_map[a.fileno()], select.POLLIN | select.POLLPRI)}
    del socket_map[a.fileno()]
    peer.sendall(b"late")  # ready, but no longer ours
    loop.step(0.01)
    assert loop._watched == {}
    loop.close()


def test_accepting_sockets_are_never_watched_for_writing(use_epoll: bool, pairs: list) -> None:
    a, _ = pair(pairs)
    channel = FakeChannel(a, readable=False, writable=True)
    channel.accepting = True
    loop = EventLoop({a.fileno(): channel}, use_epoll=use_epoll)
    loop.step(0.01)
    assert channel.events == []
    loop.close()


def test_a_server_answers_every_one_of_many_short_connections(serve: Any, trio: Any,
                                                             make_config: Any) -> None:
    """Clients that connect, ask once and hang up, eight at a time: a closed connection's
    descriptor number goes to the next one, often within one loop step. Each must be answered."""
    live = serve(make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]}))
    host, port = live.url.removeprefix("http://").split(":")
    replies: list[bytes] = []
    failures: list[BaseException] = []

    def client() -> None:
        try:
            for _ in range(60):
                with socket.create_connection((host, int(port)), timeout=5.0) as conn:
                    conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    reply = conn.recv(65536)  # then hang up without waiting for more
                replies.append(reply)
        except BaseException as exc:  # reported below; a hang ends in a socket timeout
            failures.append(exc)

    threads = [threading.Thread(target=client, name=f"test-short-{i}") for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60.0)
    assert not failures, failures[:3]
    assert len(replies) == 8 * 60
    assert all(r.startswith(b"HTTP/1.1 200") for r in replies)


@needs_epoll
def test_a_channel_whose_socket_was_closed_is_closed_not_fatal(pairs: list) -> None:
    """poll(2) reports a closed descriptor as POLLNVAL and waitress closes the channel; the
    epoll refuses to register it, and the loop must do the same rather than raise."""
    a, _ = pair(pairs)
    closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fd = closed.fileno()
    channel = FakeChannel(closed)
    socket_map: dict[int, FakeChannel] = {fd: channel, a.fileno(): FakeChannel(a)}
    loop = EventLoop(socket_map)  # first, so its own descriptor cannot take the closed number
    closed.close()  # behind the map's back
    loop.step(5.0)  # returns at once: the invalid channel is dispatched without waiting
    assert channel.events == ["close"]
    assert fd not in loop._watched
    loop.close()


class FakeListener:
    """A listening socket that accepts one connection per read event, as waitress's server does."""

    def __init__(self, socket_map: dict[int, Any], connection_limit: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.accepting = True
        self.adj = SimpleNamespace(connection_limit=connection_limit)
        self.map = socket_map
        self.accepted: list[socket.socket] = []
        socket_map[self.sock.fileno()] = self

    def readable(self) -> bool:
        return len(self.map) < self.adj.connection_limit  # waitress's own overflow rule

    def writable(self) -> bool:
        return False

    def handle_read_event(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return
        self.accepted.append(conn)
        self.map[conn.fileno()] = FakeChannel(conn)

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.sock.close()


def _accept_queue_length(listener: socket.socket) -> int:
    """Connections waiting in a Linux listening socket's accept queue (``tcp_info.tcpi_unacked``)."""
    info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return int(struct.unpack_from("I", info, 24)[0])


def _connect_many(listener: FakeListener, n: int) -> list[socket.socket]:
    clients = [socket.create_connection(listener.sock.getsockname(), timeout=5.0) for _ in range(n)]
    # connect() can return before the kernel has queued the connection on the listening side.
    deadline = time.monotonic() + 5.0
    while _accept_queue_length(listener.sock) < n and time.monotonic() < deadline:
        select.select([], [], [], 0.001)
    assert _accept_queue_length(listener.sock) == n
    return clients


@needs_epoll
@pytest.mark.parametrize(("waiting", "limit", "expected"), [
    (5, 100, 5),  # all that wait, in one step (waitress alone would take five)
    (5, 3, 2),  # never past the connection limit (the listener itself counts, as in waitress)
    (ACCEPT_BATCH + 5, 1000, ACCEPT_BATCH),  # at most ACCEPT_BATCH per step
])
def test_one_step_accepts_every_waiting_connection_within_limits(waiting: int, limit: int,
                                                                 expected: int) -> None:
    socket_map: dict[int, Any] = {}
    listener = FakeListener(socket_map, limit)
    clients = _connect_many(listener, waiting)
    loop = EventLoop(socket_map)
    try:
        loop.step(1.0)
        assert len(listener.accepted) == expected
        loop.step(0.05)  # the rest on a later step (and nothing more when none is left)
        assert len(listener.accepted) == min(waiting, limit - 1, 2 * ACCEPT_BATCH)
    finally:
        loop.close()
        listener.close()
        for c in clients:
            c.close()
