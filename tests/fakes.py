"""Fault-injecting fake OpenAI-compatible servers, and config helpers, for tests.

A ``FakeBackend`` listens on an ephemeral loopback port and serves
``GET /v1/models`` and ``POST /v1/chat/completions`` with HTTP/1.1
keep-alive, like llama.cpp, Ollama or vLLM would. What it answers is
scripted per kind of request (chat, router-brain question, health probe):
a default behaviour plus a queue of one-shot behaviours taken first. Every
request is recorded, so a test can assert on what Octoroute forwarded.

Behaviours are plain functions of an ``Exchange``; the factories below
(``answer``, ``error``, ``rate_limited``, ``delayed``, ``hang``,
``truncated`` ...) cover the faults the router must survive. Anything that
waits does so on a ``threading.Event`` that the test (or ``stop()``)
releases, never on a sleep.

Streamed answers are scripted with ``SSEScript``: server-sent events framed
with chunked encoding or by closing the connection, each chunk written only
when the test releases it, with the time of every write recorded, and an
ending that is clean (``[DONE]``), clean without ``[DONE]``, or a cut.
"""

from __future__ import annotations

import io
import json
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from octoroute.config import TIERS, Config, parse_config
from prometheus_client.parser import text_string_to_metric_families

HANG_LIMIT_S = 30.0  # seconds; a held request gives up even if nobody releases it
PEER_POLL_S = 0.005  # seconds; how often a held stream looks for its client's hang-up
JOIN_TIMEOUT_S = 5.0  # seconds; waiting for handler threads when a fake stops
CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
ROUTER_WORDS = ("FAST", "BALANCED", "DEEP")  # a router-brain question names all three


@dataclass(frozen=True)
class Received:
    """One request as the fake saw it."""

    method: str
    path: str  # without query string or trailing slash
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    json: Any  # the parsed body, or None when it is not JSON

    @property
    def is_probe(self) -> bool:
        return self.method == "GET" and self.path == MODELS_PATH

    @property
    def is_chat(self) -> bool:
        return self.method == "POST" and self.path == CHAT_PATH

    @property
    def user_text(self) -> str | None:
        """The content of the last user message, if any."""
        messages = self.json.get("messages") if isinstance(self.json, dict) else None
        for m in reversed(messages or []):
            if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str):
                return str(m["content"])
        return None

    @property
    def is_router_question(self) -> bool:
        text = self.user_text
        return self.is_chat and text is not None and all(w in text for w in ROUTER_WORDS)


class Exchange:
    """What a behaviour gets: the backend, the request and ways to answer it."""

    def __init__(self, backend: FakeBackend, handler: _Handler, request: Received) -> None:
        self.backend = backend
        self.handler = handler
        self.request = request

    def send(self, status: int, body: bytes, *, headers: Mapping[str, str] | None = None,
             content_length: int | None = None, close: bool = False) -> None:
        h = self.handler
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body) if content_length is None else content_length))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        if close:
            h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
        if close:
            h.close_connection = True

    def send_json(self, status: int, payload: Any, *, headers: Mapping[str, str] | None = None) -> None:
        self.send(status, json.dumps(payload).encode(), headers=headers)

    def drop(self) -> None:
        """Close the connection without a single byte of answer."""
        self.handler.close_connection = True
        try:
            self.handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def wait(self, gate: threading.Event) -> bool:
        """Block until ``gate`` is set (the test, or ``stop()``, releases it)."""
        self.backend.track(gate)
        return gate.wait(HANG_LIMIT_S)


Behaviour = Callable[[Exchange], None]


# --- behaviours -----------------------------------------------------------

def completion(model: str, message: dict[str, Any], tokens: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": message,
                     "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
    }
    if tokens is not None:
        body["usage"] = {"prompt_tokens": 3, "completion_tokens": tokens, "total_tokens": 3 + tokens}
    return body


def answer(text: str | None = None, *, tokens: int | None = 7) -> Behaviour:
    """A normal completion; the default text names the backend."""
    def run(ex: Exchange) -> None:
        content = text if text is not None else f"answer from {ex.backend.name}"
        model = ex.request.json.get("model", "") if isinstance(ex.request.json, dict) else ""
        ex.send_json(200, completion(model, {"role": "assistant", "content": content}, tokens))
    return run


def tool_call(tier: str, *, name: str = "select_tier") -> Behaviour:
    """Answer with a function call ``name(tier=...)`` instead of text."""
    def run(ex: Exchange) -> None:
        call = {"id": "call_1", "type": "function",
                "function": {"name": name, "arguments": json.dumps({"tier": tier})}}
        ex.send_json(200, completion("router", {"role": "assistant", "content": None,
                                                "tool_calls": [call]}, 5))
    return run


def models_list() -> Behaviour:
    """The ``/v1/models`` answer of a healthy server."""
    def run(ex: Exchange) -> None:
        ex.send_json(200, {"object": "list", "data": [
            {"id": ex.backend.model, "object": "model", "owned_by": "fake"}]})
    return run


def error(status: int, message: str = "injected failure") -> Behaviour:
    """An HTTP error with an OpenAI-style JSON body."""
    def run(ex: Exchange) -> None:
        ex.send_json(status, {"error": {"message": message, "type": "server_error", "code": status}})
    return run


def rate_limited(retry_after: str | None = None) -> Behaviour:
    """HTTP 429, with ``Retry-After`` when given."""
    def run(ex: Exchange) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        ex.send_json(429, {"error": {"message": "slow down", "type": "rate_limit"}}, headers=headers)
    return run


def invalid_json() -> Behaviour:
    """HTTP 200 whose body is not JSON."""
    def run(ex: Exchange) -> None:
        ex.send(200, b"<html>this is not json{")
    return run


def no_choices() -> Behaviour:
    """HTTP 200 with a JSON object that has no ``choices``."""
    def run(ex: Exchange) -> None:
        ex.send_json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "usage": {}})
    return run


def truncated() -> Behaviour:
    """Promise a body longer than what is sent, then close the connection."""
    def run(ex: Exchange) -> None:
        full = json.dumps(completion("m", {"role": "assistant", "content": "x" * 200}, 7)).encode()
        ex.send(200, full[: len(full) // 2], content_length=len(full), close=True)
    return run


def drop() -> Behaviour:
    """Accept the request, then close the connection without answering."""
    return Exchange.drop


def delayed(gate: threading.Event, then: Behaviour | None = None) -> Behaviour:
    """Hold the request until ``gate`` is set, then behave like ``then`` (a normal answer)."""
    after = then if then is not None else answer()

    def run(ex: Exchange) -> None:
        ex.wait(gate)
        after(ex)
    return run


def hang() -> Behaviour:
    """Accept and never answer; the connection closes when the fake is released or stops."""
    def run(ex: Exchange) -> None:
        ex.wait(ex.backend.released)
        ex.drop()
    return run


def stall_after_headers(gate: threading.Event | None = None) -> Behaviour:
    """Send the status line and headers, then nothing until released; then close."""
    def run(ex: Exchange) -> None:
        h = ex.handler
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.flush()
        ex.wait(gate if gate is not None else ex.backend.released)
        ex.drop()
    return run


def trickle(every: float, *, text: str = "slow answer") -> Behaviour:
    """A complete answer sent one byte per ``every`` seconds (each byte arrives well
    within a read timeout, the whole body does not); stops when the fake is released."""
    def run(ex: Exchange) -> None:
        body = json.dumps(completion("m", {"role": "assistant", "content": text}, 2)).encode()
        h = ex.handler
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.flush()
        for i in range(len(body)):
            h.wfile.write(body[i:i + 1])
            h.wfile.flush()
            # NOTE: the pacing is the fault itself, not test synchronisation.
            if ex.backend.released.wait(every):
                ex.drop()
                return
    return run


def barrier(party: threading.Barrier, then: Behaviour | None = None, *,
            timeout: float = 5.0) -> Behaviour:
    """Pass only when every party of ``party`` arrives together (proves concurrency), else 500."""
    after = then if then is not None else models_list()

    def run(ex: Exchange) -> None:
        try:
            party.wait(timeout)
        except threading.BrokenBarrierError:
            error(500, "barrier broken: requests did not arrive concurrently")(ex)
            return
        after(ex)
    return run


def brain_says(word: str) -> Behaviour:
    """A router-brain answer in plain text."""
    return answer(word, tokens=1)


# --- streamed answers ------------------------------------------------------

DONE_EVENT = b"data: [DONE]\n\n"
FRAMINGS = ("chunked", "close", "http10")  # how a stream's body is delimited
ENDINGS = ("done", "eof", "cut")  # [DONE] then a clean end; a clean end without [DONE]; a cut


def sse_event(payload: Any) -> bytes:
    """One server-sent event carrying ``payload`` as JSON."""
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def delta_event(text: str, *, role: bool = False, finish: str | None = None,
                model: str = "fake-model") -> bytes:
    """A ``chat.completion.chunk`` event whose delta carries ``text``."""
    delta: dict[str, Any] = {"content": text}
    if role:
        delta["role"] = "assistant"
    return sse_event({"id": "chatcmpl-stream", "object": "chat.completion.chunk", "created": 0,
                      "model": model,
                      "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


def delta_events(texts: Sequence[str]) -> list[bytes]:
    """One event per text, the first naming the role, the last finishing with ``stop``."""
    last = len(texts) - 1
    return [delta_event(t, role=i == 0, finish="stop" if i == last else None)
            for i, t in enumerate(texts)]


def _peer_gone(conn: socket.socket) -> bool:
    """Whether the client closed its end (the request body was read, so data means EOF too)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        if not readable:
            return False
        return conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class SSEScript:
    """One streamed answer, written chunk by chunk as the test releases each one.

    ``framing``: ``chunked`` (HTTP/1.1 chunked encoding, like llama.cpp and
    vLLM), ``close`` (HTTP/1.1, no length, ``Connection: close``) or
    ``http10`` (an HTTP/1.0 status line, no length): the body ends when the
    connection closes. ``end``: ``done`` appends ``data: [DONE]`` and ends the
    body cleanly; ``eof`` ends it cleanly without ``[DONE]`` (the last chunk
    of chunked encoding, or a close); ``cut`` closes the connection without
    ending the framing (for close-delimited bodies that looks like ``eof``).

    The status line and headers go out at once; chunk ``k`` is written when
    ``release(k)`` (or ``flow``) lets it, so a chunk never released is a stall,
    and chunk 0 never released is a stall between headers and the first body
    byte. ``written_at[k]`` is ``time.monotonic()`` just before chunk ``k``'s
    write. While it waits the script watches its connection: ``peer_closed``
    is set (with ``peer_closed_at``) when the client hangs up or a write fails.
    ``release=True`` lets every chunk go at once; ``released=n`` only the
    first ``n`` (a stream that stalls after ``n`` chunks). An error status
    before any streaming is the plain ``error(...)`` behaviour. One script
    serves one request.
    """

    def __init__(self, chunks: Sequence[bytes], *, framing: str = "chunked", end: str = "done",
                 release: bool = False, released: int = 0,
                 content_type: str = "text/event-stream") -> None:
        assert framing in FRAMINGS and end in ENDINGS
        self.framing = framing
        self.end = end
        self.content_type = content_type
        self.chunks: list[bytes] = list(chunks) + ([DONE_EVENT] if end == "done" else [])
        self.gates = [threading.Event() for _ in self.chunks]
        self.written_at: list[float | None] = [None] * len(self.chunks)
        self.headers_sent = threading.Event()
        self.headers_sent_at: float | None = None
        self.peer_closed = threading.Event()
        self.peer_closed_at: float | None = None
        self.finished = threading.Event()  # the exchange is over, whichever way it ended
        self.request: Received | None = None
        self._flow_every: float | None = None
        self._released = 0
        if release:
            self.release_all()
        for k in range(released):  # these go at once; chunk ``released`` then stalls
            self.release(k)

    @property
    def body(self) -> bytes:
        """Every chunk's bytes, as a client should receive them."""
        return b"".join(self.chunks)

    def release(self, k: int | None = None) -> None:
        """Let chunk ``k`` (by default the next one not yet released) be written."""
        if k is None:
            k = self._released
        self._released = max(self._released, k + 1)
        self.gates[k].set()

    def release_all(self) -> None:
        for k in range(len(self.gates)):
            self.release(k)

    def flow(self, every: float) -> None:
        """Write every remaining chunk, one each ``every`` seconds (a paced, steady generation)."""
        self._flow_every = every
        self.release_all()

    def written(self) -> int:
        return sum(1 for t in self.written_at if t is not None)

    def behaviour(self) -> Behaviour:
        return self._run

    def _mark_peer_closed(self) -> None:
        if not self.peer_closed.is_set():
            self.peer_closed_at = time.monotonic()
            self.peer_closed.set()

    def _await(self, k: int, ex: Exchange) -> bool:
        """Wait until chunk ``k`` may go; ``False`` if the client hung up first."""
        conn = ex.handler.connection
        gate = self.gates[k]
        give_up = time.monotonic() + HANG_LIMIT_S
        while not gate.wait(PEER_POLL_S):
            if _peer_gone(conn):
                self._mark_peer_closed()
                return False
            if time.monotonic() > give_up:
                return False
        every = self._flow_every
        if every is not None and k > 0:
            # NOTE: the pacing is the scenario (a steady generation), not test synchronisation.
            paced_until = time.monotonic() + every
            while (left := paced_until - time.monotonic()) > 0:
                if ex.backend.released.wait(min(left, PEER_POLL_S)):
                    break
                if _peer_gone(conn):
                    self._mark_peer_closed()
                    return False
        return True

    def _write(self, ex: Exchange, data: bytes) -> bool:
        try:
            ex.handler.wfile.write(data)
            ex.handler.wfile.flush()
        except OSError:
            self._mark_peer_closed()
            return False
        return True

    def _run(self, ex: Exchange) -> None:
        self.request = ex.request
        for gate in self.gates:
            ex.backend.track(gate)
        h = ex.handler
        try:
            if self.framing == "http10":
                h.close_connection = True
                head = (f"HTTP/1.0 200 OK\r\nContent-Type: {self.content_type}\r\n"
                        "Cache-Control: no-cache\r\n\r\n")
                if not self._write(ex, head.encode()):
                    return
            else:
                h.send_response(200)
                h.send_header("Content-Type", self.content_type)
                h.send_header("Cache-Control", "no-cache")
                if self.framing == "chunked":
                    h.send_header("Transfer-Encoding", "chunked")
                else:
                    h.send_header("Connection", "close")
                h.end_headers()
                h.wfile.flush()
            self.headers_sent_at = time.monotonic()
            self.headers_sent.set()
            chunked = self.framing == "chunked"
            for k, chunk in enumerate(self.chunks):
                if not self._await(k, ex):
                    ex.drop()
                    return
                self.written_at[k] = time.monotonic()
                data = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
                if not self._write(ex, data):
                    return
            if self.end == "cut" or not chunked:
                h.close_connection = True
                if self.end == "cut":
                    ex.drop()
                else:
                    h.connection.shutdown(socket.SHUT_WR)
            else:
                self._write(ex, b"0\r\n\r\n")
        finally:
            self.finished.set()


def stream(chunks: Sequence[bytes], **kwargs: Any) -> Behaviour:
    """An ungated ``SSEScript`` (every chunk written at once) as a behaviour."""
    return SSEScript(chunks, release=True, **kwargs).behaviour()


def raw_answer(body: bytes, *, status: int = 200) -> Behaviour:
    """Exactly ``body`` (as ``application/json``), byte for byte."""
    def run(ex: Exchange) -> None:
        ex.send(status, body)
    return run


# --- the server -----------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real model servers
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without NODELAY, Nagle and
        # delayed ACKs add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.backend.connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.backend.connection_closed(self.connection)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        request = Received(self.command, self.path.split("?", 1)[0].rstrip("/") or "/",
                           {k.lower(): v for k, v in self.headers.items()}, body, parsed)
        backend = self.server.backend
        behaviour = backend.next_behaviour(request)
        backend.record(request)
        try:
            behaviour(Exchange(backend, self, request))
        except OSError:  # the client went away: nothing to answer
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # FakeBackend.stop() joins its own threads, with a timeout

    def __init__(self, backend: FakeBackend) -> None:
        self.backend = backend
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        t = threading.Thread(target=self.process_request_thread, args=(request, client_address),
                             name=f"fake-{self.backend.name}-conn", daemon=True)
        self.backend.thread_started(t)
        t.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-answer is a scenario here, not a bug


class FakeBackend:
    """One scripted OpenAI-compatible server on ``127.0.0.1:<ephemeral>``."""

    def __init__(self, name: str = "fake", *, model: str | None = None,
                 chat: Behaviour | None = None, brain: Behaviour | None = None,
                 probe: Behaviour | None = None) -> None:
        self.name = name
        self.model = model or f"{name}-model"
        self.chat_default: Behaviour = chat or answer()
        self.brain_default: Behaviour = brain or brain_says("BALANCED")
        self.probe_default: Behaviour = probe or models_list()
        self.released = threading.Event()  # set on release_all()/stop(): frees held requests
        self._script_lock = threading.Lock()  # guards the queues and defaults' hand-out
        self._queues: dict[str, deque[Behaviour]] = {"chat": deque(), "brain": deque(),
                                                     "probe": deque()}
        self._received_cv = threading.Condition()  # guards _received
        self._received: list[Received] = []
        self._conn_lock = threading.Lock()  # guards _connections, _threads and _gates
        self._connections: set[socket.socket] = set()
        self.connections_accepted = 0  # TCP connections ever accepted (reuse shows as fewer)
        self._threads: list[threading.Thread] = []
        self._gates: list[threading.Event] = []
        self._server = _Server(self)
        self.port: int = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._serve_thread = threading.Thread(target=self._server.serve_forever,
                                              kwargs={"poll_interval": 0.01},
                                              name=f"fake-{name}", daemon=True)

    # --- life cycle

    def start(self) -> FakeBackend:
        self._serve_thread.start()
        return self

    def release_all(self) -> None:
        """Free every held request (``hang`` and ``delayed``)."""
        self.released.set()
        with self._conn_lock:
            gates = list(self._gates)
        for g in gates:
            g.set()

    def stop(self) -> None:
        self.release_all()
        if self._serve_thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        with self._conn_lock:
            conns = list(self._connections)
        for c in conns:  # unblock handlers waiting on idle keep-alive connections
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self._conn_lock:
            threads = list(self._threads)
        for t in threads:
            t.join(JOIN_TIMEOUT_S)

    def __enter__(self) -> FakeBackend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- scripting

    def enqueue(self, *behaviours: Behaviour) -> FakeBackend:
        """One-shot behaviours for the next chat requests (router questions excluded)."""
        with self._script_lock:
            self._queues["chat"].extend(behaviours)
        return self

    def enqueue_brain(self, *behaviours: Behaviour) -> FakeBackend:
        with self._script_lock:
            self._queues["brain"].extend(behaviours)
        return self

    def enqueue_probe(self, *behaviours: Behaviour) -> FakeBackend:
        with self._script_lock:
            self._queues["probe"].extend(behaviours)
        return self

    def next_behaviour(self, request: Received) -> Behaviour:
        if request.is_probe:
            kind, default = "probe", self.probe_default
        elif request.is_router_question:
            kind, default = "brain", self.brain_default
        elif request.is_chat:
            kind, default = "chat", self.chat_default
        else:
            return error(404, f"no route {request.method} {request.path}")
        with self._script_lock:
            queue = self._queues[kind]
            return queue.popleft() if queue else default

    def track(self, gate: threading.Event) -> None:
        """Remember ``gate`` so ``release_all()`` frees whoever waits on it."""
        with self._conn_lock:
            self._gates.append(gate)
        if self.released.is_set():
            gate.set()

    # --- what was received

    def record(self, request: Received) -> None:
        with self._received_cv:
            self._received.append(request)
            self._received_cv.notify_all()

    @property
    def received(self) -> list[Received]:
        with self._received_cv:
            return list(self._received)

    def chats(self) -> list[Received]:
        """Chat requests that are not router-brain questions."""
        return [r for r in self.received if r.is_chat and not r.is_router_question]

    def brain_questions(self) -> list[Received]:
        return [r for r in self.received if r.is_router_question]

    def probes(self) -> list[Received]:
        return [r for r in self.received if r.is_probe]

    def wait_for(self, predicate: Callable[[Received], bool], count: int = 1,
                 timeout: float = 5.0) -> bool:
        """Block until ``count`` received requests satisfy ``predicate``."""
        with self._received_cv:
            return self._received_cv.wait_for(
                lambda: sum(1 for r in self._received if predicate(r)) >= count, timeout)

    # --- bookkeeping for stop()

    def connection_opened(self, conn: socket.socket) -> None:
        with self._conn_lock:
            self._connections.add(conn)
            self.connections_accepted += 1

    def connection_closed(self, conn: socket.socket) -> None:
        with self._conn_lock:
            self._connections.discard(conn)

    def thread_started(self, thread: threading.Thread) -> None:
        with self._conn_lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)

    def __repr__(self) -> str:
        return f"FakeBackend({self.name!r}, {self.base_url})"


def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def refused_url() -> str:
    return f"http://127.0.0.1:{closed_port()}/v1"


class Blackhole:
    """A port where TCP connects hang (like a powered-off host): a listener with
    a full accept queue that never accepts."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._filler = socket.create_connection(("127.0.0.1", self.port), timeout=2.0)

    def close(self) -> None:
        self._filler.close()
        self._listener.close()

    def __enter__(self) -> Blackhole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- configuration --------------------------------------------------------

Endpoint = FakeBackend | Mapping[str, Any]

TEST_TIMEOUTS = {"fast": 5.0, "balanced": 5.0, "deep": 5.0}  # seconds; one attempt
TEST_HEALTH = {"interval_seconds": 60.0, "timeout_seconds": 2.0}  # no probe is "due" by time
TEST_SERVER = {"threads": 8, "request_timeout_seconds": 10.0}


def endpoint(backend: FakeBackend | str, **keys: Any) -> dict[str, Any]:
    """An endpoint table for ``backend`` (or a bare base URL), with ``keys`` overriding."""
    if isinstance(backend, FakeBackend):
        entry: dict[str, Any] = {"id": backend.name, "name": backend.model,
                                 "base_url": backend.base_url, "max_tokens": 256}
    else:
        entry = {"name": "unreachable", "base_url": backend, "max_tokens": 256}
    entry.update(keys)
    return entry


def make_config(tiers: Mapping[str, Iterable[Endpoint]], *,
                routing: Mapping[str, Any] | None = None, health: Mapping[str, Any] | None = None,
                timeouts: Mapping[str, Any] | None = None, server: Mapping[str, Any] | None = None,
                observability: Mapping[str, Any] | None = None,
                env: Mapping[str, str] | None = None) -> Config:
    """A validated ``Config`` from tiers of fakes, with test-friendly defaults.

    Defaults: strategy ``rule`` (no router brain unless asked for), 5 s per
    attempt, a 60 s health interval (so nothing is probed for being stale).
    """
    models: dict[str, list[dict[str, Any]]] = {}
    for tier in TIERS:
        entries = [endpoint(e) if isinstance(e, FakeBackend) else dict(e) for e in tiers.get(tier, ())]
        if entries:
            models[tier] = entries
    data: dict[str, Any] = {
        "models": models,
        "routing": {"strategy": "rule", **(routing or {})},
        "health": {**TEST_HEALTH, **(health or {})},
        "timeouts": {**TEST_TIMEOUTS, **(timeouts or {})},
        "server": {**TEST_SERVER, **(server or {})},
    }
    if observability:
        data["observability"] = dict(observability)
    return parse_config(data, source="<test>", env=env if env is not None else {})


def sample(text: str, name: str, **labels: str) -> float | None:
    """One sample of Prometheus text whose labels include ``labels``; ``None`` when absent."""
    found = [s.value for family in text_string_to_metric_families(text) for s in family.samples
             if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) <= 1, f"{name}{labels} matches {len(found)} samples"
    return found[0] if found else None


class FakeRequest:
    """Just what ``read_json``/``read_json_source`` read of a Falcon request: a body without a
    Content-Length (e.g. chunked), and its content type."""

    def __init__(self, body: bytes, content_type: str | None = "application/json") -> None:
        self.content_type = content_type
        self.content_length = None
        self.bounded_stream = io.BytesIO(body)


class ManualClock:
    """A monotonic clock the test moves by hand (thread-safe: the health thread reads it)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._lock = threading.Lock()  # guards now

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
