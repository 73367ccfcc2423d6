"""The stream watchdog (octoroute/api/watchdog.py) with fake streams and a hand-moved clock."""

from __future__ import annotations

import logging
import threading

import pytest
from octoroute.api.watchdog import THREAD_NAME, StreamWatchdog

WAIT_S = 5.0  # seconds; bounded waits on events


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeStream:
    """Stops at ``deadline`` (clock time) or once ``gone`` is set; records its aborts."""

    def __init__(self, deadline: float = float("inf")) -> None:
        self.deadline = deadline
        self.gone = threading.Event()
        self.reasons: list[str] = []
        self.aborted = threading.Event()

    def stop_reason(self, now: float) -> str | None:
        if self.gone.is_set():
            return "client_disconnected"
        return "stream_timeout" if now >= self.deadline else None

    def abort(self, reason: str) -> None:
        self.reasons.append(reason)
        self.aborted.set()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def watchdog(clock: Clock):
    dog = StreamWatchdog(interval=3600.0, clock=clock)  # ticks only when woken
    yield dog
    assert dog.stop(WAIT_S)


def test_check_once_aborts_only_the_streams_due_and_forgets_them(watchdog, clock):
    early, late, gone = FakeStream(deadline=10.0), FakeStream(deadline=20.0), FakeStream()
    for s in (early, late, gone):
        watchdog.watch(s)
    assert watchdog.check_once() == []
    gone.gone.set()
    clock.now = 10.0
    assert sorted(r for _, r in watchdog.check_once()) == ["client_disconnected", "stream_timeout"]
    assert (early.reasons, late.reasons, gone.reasons) == (["stream_timeout"], [], ["client_disconnected"])
    assert watchdog.watching() == 1
    clock.now = 30.0
    watchdog.check_once()
    assert early.reasons == ["stream_timeout"]  # aborted once, never again
    assert late.reasons == ["stream_timeout"]


def test_a_forgotten_stream_is_not_checked(watchdog, clock):
    s = FakeStream(deadline=1.0)
    watchdog.watch(s)
    watchdog.forget(s)
    clock.now = 5.0
    assert watchdog.check_once() == [] and s.reasons == []


def test_the_thread_starts_with_the_first_stream_and_wake_runs_a_check(watchdog, clock):
    assert not watchdog.running  # nothing starts before a stream needs it
    s = FakeStream(deadline=5.0)
    watchdog.watch(s)
    assert watchdog.running
    (thread,) = [t for t in threading.enumerate() if t.name == THREAD_NAME]
    assert thread.daemon
    clock.now = 5.0
    watchdog.wake()  # the interval is an hour: only the wake can make it check now
    assert s.aborted.wait(WAIT_S)
    assert s.reasons == ["stream_timeout"]


def test_the_thread_checks_every_interval_on_its_own(clock):
    dog = StreamWatchdog(interval=0.01, clock=clock)
    s = FakeStream()
    try:
        dog.watch(s)
        s.gone.set()
        assert s.aborted.wait(WAIT_S)
    finally:
        assert dog.stop(WAIT_S)
    assert not dog.running


def test_one_failing_stream_does_not_keep_the_others_alive(watchdog, clock, caplog):
    class Broken(FakeStream):
        def stop_reason(self, now: float) -> str | None:
            raise RuntimeError("broken")

    good = FakeStream(deadline=1.0)
    watchdog.watch(Broken())
    watchdog.watch(good)
    clock.now = 2.0
    with caplog.at_level(logging.ERROR, logger="octoroute.stream"):
        watchdog.check_once()
    assert good.reasons == ["stream_timeout"]
    assert "checking a stream failed" in caplog.text


def test_stop_gives_up_with_a_log_line_instead_of_hanging(clock, caplog):
    release = threading.Event()
    entered = threading.Event()

    class Stuck(FakeStream):
        def stop_reason(self, now: float) -> str | None:
            entered.set()
            release.wait(WAIT_S)
            return None

    dog = StreamWatchdog(interval=3600.0, clock=clock)
    dog.watch(Stuck())
    dog.wake()
    assert entered.wait(WAIT_S)
    with caplog.at_level(logging.ERROR, logger="octoroute.stream"):
        assert dog.stop(0.05) is False
    assert "did not stop within" in caplog.text
    release.set()
    assert dog.stop(WAIT_S)


def test_no_thread_starts_after_stop(clock):
    dog = StreamWatchdog(interval=3600.0, clock=clock)
    assert dog.stop(WAIT_S)
    dog.watch(FakeStream())
    assert not dog.running
