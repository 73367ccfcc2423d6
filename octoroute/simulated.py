"""Simulated OpenAI-compatible backends for ``octoroute demo``.

Each answers ``GET /v1/models`` and ``POST /v1/chat/completions`` (plain and
streamed) with a short canned text that names its tier, after a small
tier-dependent delay. When asked the router-brain question it answers like a
sensible router would, from cheap cues in the question, so the demo shows
all strategies working without any real model. Every answer is labelled as
simulated.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DELAYS_S = {"fast": 0.02, "balanced": 0.08, "deep": 0.2}  # seconds before answering
_ROUTER_QUESTION = "Reply with exactly one word: FAST, BALANCED or DEEP"


def _brain_answer(question: str) -> str:
    """A plausible router answer from the metadata line of the question."""
    meta = re.search(r"task type (\w+), importance (\w+), about (\d+) tokens", question)
    if not meta:
        return "BALANCED"
    task, importance, tokens = meta.group(1), meta.group(2), int(meta.group(3))
    if importance == "high" or task in ("deep_analysis", "creative_writing") or tokens > 2000:
        return "DEEP"
    if task == "casual_chat" or (tokens < 40 and importance == "low"):
        return "FAST"
    if task == "question_answer" and tokens < 40:
        return "FAST"
    return "BALANCED"


class SimulatedBackend:
    """One fake model server on a loopback port, run on a daemon thread."""

    def __init__(self, tier: str, model: str, *, host: str = "127.0.0.1", port: int = 0,
                 delay: float | None = None) -> None:
        self.tier = tier
        self.model = model
        self.delay = DELAYS_S.get(tier, 0.05) if delay is None else delay
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def send_json(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self.send_json(200, {"object": "list", "data": [
                        {"id": backend.model, "object": "model", "owned_by": "octoroute-demo"}]})
                else:
                    self.send_json(404, {"error": {"message": "not found", "type": "not_found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    req = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self.send_json(400, {"error": {"message": "invalid JSON",
                                                    "type": "invalid_request_error"}})
                    return
                if self.path.rstrip("/") != "/v1/chat/completions" or not isinstance(req, dict):
                    self.send_json(404, {"error": {"message": "not found", "type": "not_found"}})
                    return
                backend.handle_chat(self, req)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://{host}:{self.port}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"simulated-{tier}",
                                        daemon=True)

    def answer(self, req: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
        messages = req.get("messages") or []
        last = ""
        for m in reversed(messages):
            if isinstance(m, dict) and m.get("role") == "user":
                content = m.get("content")
                last = content if isinstance(content, str) else json.dumps(content)
                break
        if _ROUTER_QUESTION in last:
            tier = _brain_answer(last)
            if req.get("tools"):
                return "", [{"id": "call_sim", "type": "function", "function": {
                    "name": "select_tier", "arguments": json.dumps({"tier": tier.lower()})}}]
            return tier, None
        words = len(last.split())
        return (f"[simulated {self.tier} tier, model {self.model}] This is a canned demo answer "
                f"to your {words}-word message; point Octoroute at real models to get real ones."), None

    def handle_chat(self, handler: BaseHTTPRequestHandler, req: dict[str, Any]) -> None:
        time.sleep(self.delay)
        text, tool_calls = self.answer(req)
        created = int(time.time())
        message: dict[str, Any] = {"role": "assistant", "content": text if not tool_calls else None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        if not req.get("stream"):
            usage = {"prompt_tokens": 10, "completion_tokens": len(text.split()),
                     "total_tokens": 10 + len(text.split())}
            finish = "tool_calls" if tool_calls else "stop"
            payload = {"id": "chatcmpl-sim", "object": "chat.completion", "created": created,
                       "model": self.model,
                       "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                       "usage": usage}
            handler.send_json(200, payload)  # type: ignore[attr-defined]
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()

        def event(obj: dict[str, Any] | str) -> None:
            data = obj if isinstance(obj, str) else json.dumps(obj)
            raw = f"data: {data}\n\n".encode()
            handler.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            handler.wfile.flush()

        base = {"id": "chatcmpl-sim", "object": "chat.completion.chunk", "created": created,
                "model": self.model}
        event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                    "finish_reason": None}]})
        for word in text.split(" "):
            time.sleep(self.delay / 10)
            event({**base, "choices": [{"index": 0, "delta": {"content": word + " "},
                                        "finish_reason": None}]})
        event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        event("[DONE]")
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()

    def start(self) -> SimulatedBackend:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
