"""The background log writer: nothing lost, order kept, warnings prompt, bounded.

The writer's own timer is set to an hour in most tests, so a line appears only
when the test flushes, closes, or logs a warning: no test waits on the clock.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator

import pytest
from octoroute.logs import BackgroundWriter, RequestIdFilter, TextFormatter, request_id_var

HOUR = 3600.0


class SignallingStream(io.StringIO):
    """A stream that says when something was written (and can be made to block)."""

    def __init__(self) -> None:
        super().__init__()
        self.written = threading.Event()
        self.writes = 0
        self.gate = threading.Event()
        self.gate.set()

    def write(self, text: str) -> int:
        self.gate.wait(10)
        self.writes += 1
        n = super().write(text)
        self.written.set()
        return n


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    lg = logging.getLogger("octoroute.test-writer")
    lg.propagate = False
    lg.setLevel(logging.DEBUG)
    yield lg
    for h in list(lg.handlers):
        lg.removeHandler(h)
        h.close()


def attach(lg: logging.Logger, stream: io.StringIO, interval: float = HOUR) -> BackgroundWriter:
    handler = BackgroundWriter(stream, interval=interval)
    handler.setFormatter(TextFormatter())
    handler.addFilter(RequestIdFilter())
    lg.addHandler(handler)
    return handler


def test_info_lines_wait_for_the_writer_then_come_out_in_order_in_one_write(logger: logging.Logger) -> None:
    stream = SignallingStream()
    handler = attach(logger, stream)
    for i in range(100):
        logger.info("line %d", i)
    assert stream.getvalue() == ""  # nothing written on the logging thread
    handler.flush()
    lines = stream.getvalue().splitlines()
    assert [line.rsplit(" ", 1)[1] for line in lines] == [str(i) for i in range(100)]
    assert stream.writes == 1


def test_a_warning_wakes_the_writer_at_once(logger: logging.Logger) -> None:
    stream = SignallingStream()
    attach(logger, stream)
    logger.info("before")
    logger.warning("backend down")
    assert stream.written.wait(10), "the writer did not wake for a warning"
    text = stream.getvalue()
    assert "before" in text and "WARNING" in text and "backend down" in text


def test_the_timer_writes_info_lines_without_a_flush(logger: logging.Logger) -> None:
    stream = SignallingStream()
    attach(logger, stream, interval=0.01)
    logger.info("ticked")
    assert stream.written.wait(10)
    assert "ticked" in stream.getvalue()


def test_close_writes_everything_left_and_stops_the_thread(logger: logging.Logger) -> None:
    stream = SignallingStream()
    handler = attach(logger, stream)
    for i in range(10):
        logger.info("pending %d", i)
    handler.close()
    assert stream.getvalue().count("pending") == 10
    assert not any(t.name == "octoroute-log-writer" and t is handler._thread and t.is_alive()
                   for t in threading.enumerate())


def test_the_request_id_is_the_one_current_when_logged_not_when_written(logger: logging.Logger) -> None:
    stream = SignallingStream()
    handler = attach(logger, stream)
    token = request_id_var.set("req-123")
    logger.info("inside a request")
    request_id_var.reset(token)
    handler.flush()  # written here, outside the request's context
    assert "[req-123] inside a request" in stream.getvalue()


def test_a_blocked_stream_drops_beyond_the_bound_and_says_so(logger: logging.Logger,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BackgroundWriter, "MAX_PENDING", 5)
    stream = SignallingStream()
    handler = attach(logger, stream)
    for i in range(8):
        logger.info("n%d", i)
    handler.flush()
    text = stream.getvalue()
    assert [f"n{i}" in text for i in range(8)] == [True] * 5 + [False] * 3
    assert "3 log lines dropped" in text


def test_a_failing_stream_does_not_kill_the_writer(logger: logging.Logger) -> None:
    class Broken(SignallingStream):
        fail = True

        def write(self, text: str) -> int:
            if self.fail:
                self.fail = False
                raise OSError("stderr closed")
            return super().write(text)

    stream = Broken()
    handler = attach(logger, stream)
    logger.info("lost")
    handler.flush()
    logger.info("kept")
    handler.flush()
    assert "kept" in stream.getvalue()
    assert handler._thread.is_alive()


def test_concurrent_loggers_lose_nothing(logger: logging.Logger) -> None:
    stream = SignallingStream()
    handler = attach(logger, stream, interval=0.001)
    start = threading.Barrier(8)

    def work(n: int) -> None:
        start.wait()
        for i in range(500):
            logger.info("t%d-%d", n, i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    handler.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4000
    for n in range(8):  # each thread's own lines stay in its order
        mine = [int(line.rsplit("-", 1)[1]) for line in lines if f" t{n}-" in line]
        assert mine == list(range(500))


def test_server_logging_skips_the_caller_and_process_lookups_no_line_prints() -> None:
    """The server's set-up turns off the stack walk and getpid per record (the
    logging HOWTO's optimisation switches); the line itself is unchanged."""
    from octoroute.logs import configure_logging

    saved = (logging._srcfile, logging.logProcesses, logging.logMultiprocessing)
    root = logging.getLogger()
    old_level, old_handlers = root.level, list(root.handlers)
    out = io.StringIO()
    try:
        configure_logging("info", "text", out, background=True)
        captured: list[logging.LogRecord] = []

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                captured.append(record)

        keep = Keep()
        root.addHandler(keep)
        logging.getLogger("octoroute.access").info("request", extra={"fields": {"status": 200}})
        root.removeHandler(keep)
        for handler in root.handlers:
            handler.flush()
        (record,) = captured
        assert record.lineno == 0 and record.pathname == "(unknown file)"  # no stack walk
        assert record.process is None and record.processName is None  # no getpid
        assert " INFO octoroute.access [-] request status=200" in out.getvalue()
    finally:
        for handler in list(root.handlers):
            if handler not in old_handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in old_handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(old_level)
        logging._srcfile, logging.logProcesses, logging.logMultiprocessing = saved
