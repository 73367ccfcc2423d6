"""The worker-thread wake-up order: the most recently idle thread takes the next task."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from octoroute.workers import LifoCondition, LifoTaskDispatcher

WAIT_S = 10.0  # generous bound for a thread to get somewhere; never reached when all is well


def _until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.001)


def test_notify_wakes_the_thread_that_waited_last() -> None:
    cond = LifoCondition()
    woke: list[str] = []
    threads = []

    def waiter() -> None:
        with cond:
            waiting.set()
            cond.wait()
            woke.append(threading.current_thread().name)

    for name in ("first", "second", "third"):
        waiting = threading.Event()
        t = threading.Thread(target=waiter, name=name, daemon=True)
        t.start()
        assert waiting.wait(WAIT_S)
        with cond:  # taken only once the waiter is inside wait(): the order is fixed
            pass
        threads.append(t)
    with cond:
        cond.notify()
    _until(lambda: len(woke) == 1, "one waiter woke")
    assert woke == ["third"]
    with cond:
        cond.notify()
    _until(lambda: len(woke) == 2, "a second waiter woke")
    with cond:
        cond.notify()
    for t in threads:
        t.join(WAIT_S)
    assert woke == ["third", "second", "first"]


def test_notify_all_wakes_every_waiter_and_notify_needs_the_lock() -> None:
    cond = LifoCondition()
    ready = threading.Semaphore(0)
    done: list[int] = []

    def waiter(i: int) -> None:
        with cond:
            ready.release()
            cond.wait()
            done.append(i)

    threads = [threading.Thread(target=waiter, args=(i,), daemon=True) for i in range(5)]
    for t in threads:
        t.start()
    for _ in threads:
        assert ready.acquire(timeout=WAIT_S)
    with cond:
        cond.notify_all()
    for t in threads:
        t.join(WAIT_S)
    assert sorted(done) == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError):
        cond.notify()


class Job:
    """A waitress task stand-in: records the thread that serviced it."""

    def __init__(self) -> None:
        self.thread: str | None = None
        self.done = threading.Event()

    def service(self) -> None:
        self.thread = threading.current_thread().name
        self.done.set()


@pytest.fixture
def dispatcher() -> Iterator[LifoTaskDispatcher]:
    d = LifoTaskDispatcher(8)
    yield d
    d.shutdown(timeout=WAIT_S)


def _all_idle(d: Any) -> bool:
    with d.lock:
        return d.active_count == 0 and not d.queue


def test_one_task_at_a_time_stays_on_one_warm_thread(dispatcher: LifoTaskDispatcher) -> None:
    """waitress's own order hands each task to the thread idle longest: eight
    threads take turns. Here the thread that just finished takes the next one."""
    _until(lambda: _all_idle(dispatcher), "every worker waits")
    threads = []
    for _ in range(20):
        job = Job()
        dispatcher.add_task(job)
        assert job.done.wait(WAIT_S)
        _until(lambda: _all_idle(dispatcher), "the worker is back waiting")
        threads.append(job.thread)
    assert len(set(threads)) == 1, threads


def test_concurrent_tasks_still_spread_over_the_threads(dispatcher: LifoTaskDispatcher) -> None:
    release = threading.Event()
    started = threading.Semaphore(0)
    names: list[str] = []

    class Blocking:
        def service(self) -> None:
            names.append(threading.current_thread().name)
            started.release()
            release.wait(WAIT_S)

    _until(lambda: _all_idle(dispatcher), "every worker waits")
    for _ in range(8):
        dispatcher.add_task(Blocking())
    for _ in range(8):
        assert started.acquire(timeout=WAIT_S)
    release.set()
    assert len(set(names)) == 8


def test_shutdown_stops_every_thread() -> None:
    d = LifoTaskDispatcher(6)
    _until(lambda: _all_idle(d), "every worker waits")
    assert len(d.threads) == 6
    d.shutdown(timeout=WAIT_S)
    assert not d.threads  # each thread removes itself as it exits


def test_octoroute_serve_uses_the_lifo_dispatcher(serve: Any, trio: Any, make_config: Any) -> None:
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]})
    live = serve(config)
    dispatcher = live.server._waitress.task_dispatcher
    assert isinstance(dispatcher, LifoTaskDispatcher)
    assert len(dispatcher.threads) == config.server.threads
    assert live.session.get(live.url + "/health", timeout=5).status_code == 200
