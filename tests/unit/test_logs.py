"""The server's logging: ``QueueHandler`` on the logging thread, ``QueueListener`` writing.

Nothing is lost or reordered on the way through the queue, the request id is
the one current when a line was logged, ``stop_logging`` writes what is left,
a reconfiguration leaves one handler and one writer thread, and the caller's
file and line stay on every record (a ``waitress-serve --call`` host keeps them).
"""

from __future__ import annotations

import contextvars
import io
import logging
import queue
import threading
from collections.abc import Iterator

import pytest
from octoroute.logs import GatheringListener, configure_logging, request_id_var, stop_logging


class SignallingStream(io.StringIO):
    """A stream that says when something was written, and from which thread."""

    def __init__(self) -> None:
        super().__init__()
        self.written = threading.Event()
        self.writers: set[str] = set()

    def write(self, text: str) -> int:
        self.writers.add(threading.current_thread().name)
        n = super().write(text)
        self.written.set()
        return n


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, with its handlers and level restored (and our writer stopped) after."""
    lg = logging.getLogger()
    handlers, level = list(lg.handlers), lg.level
    yield lg
    stop_logging()
    for h in list(lg.handlers):
        if h not in handlers:
            lg.removeHandler(h)
    lg.setLevel(level)


def test_lines_are_written_by_the_listener_thread_not_the_caller(root: logging.Logger) -> None:
    stream = SignallingStream()
    configure_logging("info", "text", stream, background=True)
    logging.getLogger("octoroute.test").info("hello", extra={"fields": {"status": 200}})
    assert stream.written.wait(5)
    stop_logging()
    assert threading.current_thread().name not in stream.writers
    (line,) = stream.getvalue().splitlines()
    assert line.endswith(" INFO octoroute.test [-] hello status=200")


def test_the_request_id_is_the_one_current_when_logged(root: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("info", "text", stream, background=True)

    def inside() -> None:
        token = request_id_var.set("rid-1")
        logging.getLogger("octoroute.test").info("during the request")
        request_id_var.reset(token)

    contextvars.copy_context().run(inside)
    logging.getLogger("octoroute.test").info("after it")
    stop_logging()
    first, second = stream.getvalue().splitlines()
    assert "[rid-1] during the request" in first and "[-] after it" in second


def test_stop_writes_everything_from_concurrent_loggers_in_each_threads_order(root: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("info", "json", stream, background=True)
    log = logging.getLogger("octoroute.test")
    start = threading.Barrier(4)

    def burst(n: int) -> None:
        start.wait()
        for i in range(300):
            log.info("line", extra={"fields": {"thread": n, "i": i}})

    threads = [threading.Thread(target=burst, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop_logging()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1200
    for n in range(4):
        mine = [line for line in lines if f'"thread": {n},' in line]
        assert [int(line.rsplit('"i": ', 1)[1].rstrip("}")) for line in mine] == list(range(300))


def test_a_traceback_crosses_the_queue_as_text(root: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("info", "text", stream, background=True)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("octoroute.test").exception("failed")
    stop_logging()
    text = stream.getvalue()
    assert "[-] failed" in text and "ValueError: boom" in text and "Traceback" in text


def test_reconfiguring_keeps_one_handler_and_one_writer_thread(root: logging.Logger) -> None:
    before, threads_before = len(root.handlers), set(threading.enumerate())
    first, second = io.StringIO(), io.StringIO()
    configure_logging("info", "text", first, background=True)
    logging.getLogger("octoroute.test").info("to the first")
    configure_logging("warning", "text", second, background=True)  # a reload
    logging.getLogger("octoroute.test").info("hidden at warning")
    logging.getLogger("octoroute.test").warning("to the second")
    assert len(root.handlers) == before + 1
    assert len(set(threading.enumerate()) - threads_before) == 1  # the first writer has ended
    stop_logging()
    assert not set(threading.enumerate()) - threads_before
    assert "to the first" in first.getvalue() and "to the first" not in second.getvalue()
    assert second.getvalue().count("\n") == 1 and "to the second" in second.getvalue()


def test_the_callers_file_and_line_stay_on_the_record(root: logging.Logger) -> None:
    """Nothing process-wide is switched off: a host application keeps its line numbers."""
    configure_logging("info", "text", io.StringIO(), background=True)
    captured: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(record)

    keep = Keep()
    root.addHandler(keep)
    try:
        logging.getLogger("octoroute.test").info("where")
    finally:
        root.removeHandler(keep)
    (record,) = captured
    assert record.pathname == __file__ and record.lineno > 0 and record.process is not None


class Gate:
    """A fake ``sleep`` that holds the writer until the test lets it go, counting its naps."""

    def __init__(self) -> None:
        self.naps = 0
        self.napping = threading.Semaphore(0)
        self.wake = threading.Semaphore(0)

    def __call__(self, seconds: float) -> None:
        self.naps += 1
        self.napping.release()
        self.wake.acquire()


def test_lines_logged_while_the_writer_naps_are_written_in_one_wake_up() -> None:
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    stream = io.StringIO()
    writer = logging.StreamHandler(stream)
    writer.setFormatter(logging.Formatter("%(message)s"))
    gate = Gate()
    listener = GatheringListener(records, writer, interval=0.02, sleep=gate)
    listener.start()
    try:
        assert gate.napping.acquire(timeout=5)  # found the queue empty: naps before blocking
        for i in range(50):
            records.put(logging.makeLogRecord({"msg": f"line {i}"}))
        gate.wake.release()
        assert gate.napping.acquire(timeout=5)  # took all 50, then found the queue empty again
        assert gate.naps == 2
        assert stream.getvalue().splitlines() == [f"line {i}" for i in range(50)]
    finally:
        gate.wake.release()
        listener.stop()
