"""Logging set-up: request ids on every line, text or JSON, no forged lines.

The request id lives in a ``ContextVar`` set by the API middleware; a filter
copies it onto every record, so any module's log line during a request
carries it without passing it around. Messages and fields are escaped so a
newline in client input can never start a fake log line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections import deque
from contextvars import ContextVar
from typing import Any, TextIO

request_id_var: ContextVar[str] = ContextVar("octoroute_request_id", default="-")

# C0 and C1 controls, DEL and the Unicode line separators: everything that
# str.splitlines() or a log viewer may treat as the end of a line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# json.dumps(ensure_ascii=False) escapes C0 controls but leaves these raw.
_JSON_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def escape(text: str) -> str:
    """Make ``text`` safe for a single log line (control characters escaped)."""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class TextFormatter(logging.Formatter):
    """``time level logger [request-id] message key=value ...``, one line."""

    # (second, its strftime): one tuple, read and replaced whole, because
    # threads format concurrently (``BackgroundWriter``).
    _stamp: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        stamp = self._stamp
        if stamp[0] != second:  # strftime once a second, not once a line
            stamp = self._stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(second)))
        line = (f"{stamp[1]}.{int(record.msecs):03d} {record.levelname} {record.name} "
                f"[{getattr(record, 'request_id', '-')}] {escape(record.getMessage())}")
        fields: dict[str, Any] | None = getattr(record, "fields", None)
        if fields:
            line += " " + " ".join(f"{k}={_text_value(v)}" for k, v in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _text_value(value: Any) -> str:
    kind = type(value)
    if kind is int or kind is bool:
        return str(value)
    if kind is float:
        return f"{value:.2f}"
    if value is None:
        return "-"
    text = str(value)
    if text and _PLAIN.fullmatch(text):
        return text
    return json.dumps(text)  # JSON escapes control characters and non-ASCII alike


_PLAIN = re.compile(r"[^\x00-\x20\x7f-\x9f\u2028\u2029\"\\]+")  # needs neither escape nor quotes


class JsonFormatter(logging.Formatter):
    """One JSON object per line; fields become top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 3), "level": record.levelname.lower(),
            "logger": record.name, "request_id": getattr(record, "request_id", "-"),
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False).translate(_JSON_LINE_BREAKS)


class BackgroundWriter(logging.Handler):
    """Format and write records on a named writer thread, many lines per write.

    A plain ``StreamHandler`` formats and writes each access line on the
    request's worker thread, under the handler's lock, one ``write`` and
    ``flush`` system call per line. Under load the worker threads queued on
    that lock: measured at 8 connections, logging took 17% of the server's
    wall time and doubled its context switches per request. Here a worker
    only appends the record to a deque (no lock, no system call); the writer
    wakes every ``interval`` seconds, or at once for a warning or worse, and
    writes everything pending in one call. ``flush()`` and ``close()`` (run by
    ``logging.shutdown`` at exit) write what is left, so no line is lost on a
    clean stop.

    Lines are formatted by the thread that logs them, not by the writer: a
    writer formatting a whole batch (12 µs a line, 75 lines per wake-up at
    one connection, thousands under load) held the interpreter lock while
    request threads waited for it. The access line is logged after its
    response has been sent (``api.middleware.AfterResponse``), so its
    formatting costs the client nothing.
    """

    MAX_PENDING = 50_000  # records; beyond this (a stuck stderr) new records are counted, not kept

    def __init__(self, stream: TextIO, *, interval: float = 0.05) -> None:
        super().__init__()
        self.stream = stream
        self.interval = interval
        self.dropped = 0
        self._pending: deque[str] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._write_lock = threading.Lock()  # writer thread vs flush(); never taken by emit()
        self._thread = threading.Thread(target=self._run, name="octoroute-log-writer", daemon=True)
        self._thread.start()

    def handle(self, record: logging.LogRecord) -> bool:
        # NOTE: no handler lock: deque.append is atomic, and the formatters share no state
        # but an atomically replaced cache.
        rv = self.filter(record)
        if rv:
            self.emit(record)
        return bool(rv)

    def emit(self, record: logging.LogRecord) -> None:
        if len(self._pending) >= self.MAX_PENDING:
            self.dropped += 1
            return
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._pending.append(line)
        if record.levelno >= logging.WARNING:
            self._wake.set()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        with self._write_lock:
            lines = []
            pending = self._pending
            while pending:
                try:
                    lines.append(pending.popleft())
                except IndexError:  # emptied under us (only by a handler misuse; be robust)
                    break
            if self.dropped:
                lines.append(f"octoroute: {self.dropped} log lines dropped (log output blocked)")
                self.dropped = 0
            if not lines:
                return
            try:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()
            except Exception:  # a closed stderr must not kill the writer
                pass

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self.flush()
        super().close()


def configure_logging(level: str = "info", fmt: str = "text", stream: Any = None, *,
                      background: bool = False) -> None:
    """Install one handler on the root logger (idempotent).

    ``background``: write on a writer thread (``BackgroundWriter``); the server
    uses it, one-shot commands and tests keep the synchronous handler.
    """
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_octoroute", False):
            root.removeHandler(h)
            if isinstance(h, BackgroundWriter):
                h.close()
    handler: logging.Handler = BackgroundWriter(stream or sys.stderr) if background else \
        logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    handler._octoroute = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # NOTE: waitress warns "Task queue depth is N" for every request that waits
    # for a worker: a log flood under load that says nothing a metric does not.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    # urllib3 logs each connect retry at WARNING; our own failover log says it once, better.
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    if background:
        # NOTE: the logging HOWTO's "Optimization" switches for what no line of
        # ours prints: the caller's file and line (a stack walk per record) and
        # the process id and name (a getpid system call). The access line of
        # every request cost 7.7 µs to log with them, 5.4 µs without.
        logging._srcfile = None
        logging.logProcesses = False
        logging.logMultiprocessing = False
