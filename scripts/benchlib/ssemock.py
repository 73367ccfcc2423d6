"""A paced OpenAI-compatible backend: N server-sent events, a fixed gap apart.

nginx cannot pace SSE, so the streaming checks stream from this. The pacing
comes from the request body, which Octoroute forwards with fields it does not
know untouched: ``bench_chunks`` (events before ``[DONE]``), ``bench_gap_ms``
(between events) and ``bench_first_ms`` (before the first). Events follow an
absolute schedule from the request's arrival, so sleeps never accumulate drift.
A thread per connection; ``TCP_NODELAY`` so no event waits for Nagle.

    python -m benchlib.ssemock --port 18500      # (with scripts/ on PYTHONPATH)
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_CHUNKS = 10  # events before [DONE] when the body does not say
DEFAULT_GAP_MS = 50.0  # milliseconds between events
DEFAULT_FIRST_MS = 0.0  # milliseconds before the first event
MAX_CHUNKS = 10_000  # a bound on what one request may ask for
MODEL = "mock-model"


def _number(body: dict[str, Any], key: str, default: float) -> float:
    value = body.get(key)
    return float(value) if isinstance(value, int | float) and value >= 0 else default


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
        elif self.path == "/health":
            self._json(200, {"status": "ok"})
        else:
            self._json(404, {"error": {"message": "not found", "type": "not_found"}})

    def do_POST(self) -> None:
        arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = None
        if self.path.rstrip("/") != "/v1/chat/completions" or not isinstance(body, dict):
            self._json(404 if isinstance(body, dict) else 400,
                       {"error": {"message": "bad request", "type": "invalid_request_error"}})
            return
        if not body.get("stream"):
            self._json(200, {"id": "chatcmpl-sse-mock", "object": "chat.completion",
                             "created": int(time.time()), "model": MODEL,
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": "mock reply"}}],
                             "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}})
            return
        try:
            self._stream(body, arrived)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _stream(self, body: dict[str, Any], arrived: float) -> None:
        chunks = min(int(_number(body, "bench_chunks", DEFAULT_CHUNKS)), MAX_CHUNKS)
        gap = _number(body, "bench_gap_ms", DEFAULT_GAP_MS) / 1000.0
        first = _number(body, "bench_first_ms", DEFAULT_FIRST_MS) / 1000.0
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        base = {"id": "chatcmpl-sse-mock", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": MODEL}
        for k in range(chunks):
            delay = arrived + first + k * gap - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            delta = {"role": "assistant", "content": "tok0 "} if k == 0 else {"content": f"tok{k} "}
            self._chunk(_event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}))
        tail = _event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}) + \
            b"data: [DONE]\n\n"
        self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(tail), tail))

    def _chunk(self, raw: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))


def _event(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # hundreds of streams connect at once


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args(argv)
    server = Server((args.host, args.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
