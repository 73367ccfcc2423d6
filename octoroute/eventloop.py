"""One step of waitress's event loop at a time, on a persistent epoll.

``octoroute serve`` drives waitress's socket map itself (``cli.Server``) so a
signal can stop accepting and drain. waitress offers two ways to wait for
sockets: ``select`` (its default), which cannot watch a descriptor numbered
1024 or above, and a ``poll`` that builds a new pollster on every step. The
``poll`` path served a third of the ``select`` path's requests per second at 8
connections on the development machine (400 against 1,340-1,540 req/s in one
side-by-side run: the main thread, which reads every request, took twice as
long per request). An epoll kept across steps matched ``select``
(1,070-1,360 req/s) without its descriptor limit, which hundreds of held
streams and their backend connections can reach; only a channel whose
interest changed costs an ``epoll_ctl`` call.

A step also accepts every connection waiting on the listening socket (up to
``ACCEPT_BATCH`` and waitress's connection limit), where waitress accepts one
per step: with 128 clients connecting at once, the last waited seconds for
their turn (p99 4-5 s at 128 connections, 0.2 s with the batch).

Where there is no epoll (macOS, Windows), the step is waitress's ``select``.
"""

from __future__ import annotations

import select
from collections.abc import MutableMapping
from typing import Any

from waitress import wasyncore

_READ = select.POLLIN | select.POLLPRI
_WRITE = select.POLLOUT
ACCEPT_BATCH = 32  # connections accepted per step at most (waitress accepts one per step)


class EventLoop:
    """Wait for waitress's channels and dispatch their events, one step per call.

    The channels' ``readable()``/``writable()`` answers change as requests
    come and go, so they are asked on every step, as waitress's own loops do;
    the kernel is told only about the changes. Not thread-safe: the serving
    thread owns it.
    """

    def __init__(self, socket_map: MutableMapping[int, Any], *, use_epoll: bool = True) -> None:
        self._map = socket_map
        self._epoll = select.epoll() if use_epoll and hasattr(select, "epoll") else None
        # descriptor -> (channel, interest) as registered with the epoll
        self._watched: dict[int, tuple[Any, int]] = {}

    @property
    def uses_epoll(self) -> bool:
        return self._epoll is not None

    def step(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds and handle whatever became ready."""
        if self._epoll is None:
            wasyncore.poll(timeout, self._map)
            return
        invalid = self._sync_interest()
        try:
            events = self._epoll.poll(0.0 if invalid else timeout)
        except InterruptedError:  # pragma: no cover - PEP 475 retries unless a handler raised
            return
        channels = self._map
        if invalid:
            # A channel whose socket was closed behind waitress's back: poll(2)
            # would report POLLNVAL, which makes readwrite close the channel.
            events += [(fd, select.POLLNVAL) for fd in invalid]
        for fd, flags in events:
            channel = channels.get(fd)
            if channel is not None:  # closed by an earlier event of this step
                # epoll's event bits are poll's on Linux; readwrite handles reads,
                # writes, hang-ups and errors exactly as waitress's poll loop does.
                wasyncore.readwrite(channel, flags)
                if channel.accepting and flags & select.POLLIN:
                    self._accept_more(channel)

    def _accept_more(self, listener: Any) -> None:
        """Accept what else is queued on the listening socket, within the connection limit.

        waitress accepts one connection per step, and a step costs more the
        more connections are open, so a burst of new clients queued for seconds.
        """
        limit = getattr(getattr(listener, "adj", None), "connection_limit", None)
        channels = self._map
        for _ in range(ACCEPT_BATCH - 1):
            before = len(channels)
            if limit is not None and before >= limit:
                return
            wasyncore.readwrite(listener, select.POLLIN)
            if len(channels) == before:  # nothing was waiting (or the connection was aborted)
                return

    def _sync_interest(self) -> list[int]:
        """Tell the epoll what changed; return the descriptors it refused as invalid."""
        assert self._epoll is not None
        previous, current = self._watched, {}
        invalid: list[int] = []
        for fd, channel in list(self._map.items()):
            mask = _READ if channel.readable() else 0
            if not channel.accepting and channel.writable():
                mask |= _WRITE
            if not mask:
                continue  # left in ``previous``: unregistered below
            was = previous.pop(fd, None)
            try:
                if was is None or was[0] is not channel:
                    # New, or a closed channel's number given to a new connection
                    # within one step: the kernel dropped the old entry with the
                    # old socket, so the unchanged mask must be registered anew.
                    self._register(fd, mask)
                elif was[1] != mask:
                    self._modify(fd, mask)
            except OSError:  # EBADF: closed, yet still in waitress's map
                invalid.append(fd)
                continue
            current[fd] = (channel, mask)
        for fd in previous:  # no interest any more, or the channel is gone
            self._unregister(fd)
        self._watched = current
        return invalid

    def _register(self, fd: int, mask: int) -> None:
        assert self._epoll is not None
        try:
            self._epoll.register(fd, mask)
        except FileExistsError:  # defensive: a new channel object over a still-registered socket
            self._epoll.modify(fd, mask)

    def _modify(self, fd: int, mask: int) -> None:
        assert self._epoll is not None
        try:
            self._epoll.modify(fd, mask)
        except FileNotFoundError:
            # Defensive: the kernel dropped the entry although the channel is the
            # same (a reused number under a new channel is caught by identity).
            self._epoll.register(fd, mask)

    def _unregister(self, fd: int) -> None:
        assert self._epoll is not None
        try:
            self._epoll.unregister(fd)
        except OSError:  # closed already: the kernel removed it with the socket
            pass

    def close(self) -> None:
        if self._epoll is not None:
            self._epoll.close()
            self._watched = {}
