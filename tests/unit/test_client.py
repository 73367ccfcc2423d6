"""The backend client: one stack per endpoint for probes, chats and streams.

The Session path (probes, and how its exceptions are translated) is tested
with ``responses``, which intercepts requests' adapter. Chat calls and
streams go straight to the adapter's urllib3 pool, where ``responses``
cannot reach, so they are tested against a raw-socket backend
(``hostile_backend``) that sends exact bytes and counts connections: reuse,
framing, deadlines, size caps, the commit point of a stream and abort().
"""

from __future__ import annotations

import gzip
import http.client
import socket
import ssl
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
import urllib3
from octoroute.backends.client import (
    CONNECT_RETRY,
    BackendClient,
    BackendStream,
    clean,
    translate,
    usage_of,
)
from octoroute.config import EndpointConfig
from octoroute.errors import BackendError

from fakes import refused_url
from faultkit import self_signed_cert
from hostile_backend import HostileBackend, Reply, answer_with, chunked_body, completion_json, well_formed

URL = "http://backend.test:8080/v1"
SSE = [b'data: {"n":1}\n\n', b'data: {"n":2}\n\n', b"data: [DONE]\n\n"]
SSE_HEAD = ["Content-Type: text/event-stream", "Transfer-Encoding: chunked"]
HOLD_S = 10.0  # seconds; a held backend connection lets go after this even if the test forgets


def make_endpoint(base_url: str = URL, **keys: Any) -> EndpointConfig:
    return EndpointConfig(id="ep-1", name="m", tier="fast", base_url=base_url, max_tokens=64, **keys)


@pytest.fixture
def hostile() -> Iterator[Callable[..., HostileBackend]]:
    started: list[HostileBackend] = []

    def start(default: Reply | None = None, **kwargs: Any) -> HostileBackend:
        backend = HostileBackend(default, **kwargs)
        started.append(backend)
        return backend
    yield start
    for backend in started:
        backend.stop()


@pytest.fixture
def client_for() -> Iterator[Callable[..., BackendClient]]:
    clients: list[BackendClient] = []

    def make(base_url: str, **kwargs: Any) -> BackendClient:
        endpoint_keys = {k: kwargs.pop(k) for k in ("verify", "api_key") if k in kwargs}
        client = BackendClient(make_endpoint(base_url, **endpoint_keys), pool_size=4, **kwargs)
        clients.append(client)
        return client
    yield make
    for client in clients:
        client.close()


def fails(call: Callable[[], object], kind: str) -> BackendError:
    with pytest.raises(BackendError) as info:
        call()
    assert info.value.kind == kind, info.value.message
    return info.value


def hold(gate: threading.Event) -> Callable[[socket.socket], None]:
    """Keep the connection open (silent) until ``gate`` opens."""
    def after(_conn: socket.socket) -> None:
        gate.wait(HOLD_S)
    return after


def stepped(*parts: bytes) -> tuple[Callable[[socket.socket], None], list[threading.Event]]:
    """Send ``parts`` one at a time, each once the test opens its gate."""
    gates = [threading.Event() for _ in parts]

    def after(conn: socket.socket) -> None:
        for gate, part in zip(gates, parts, strict=True):
            if not gate.wait(HOLD_S):
                return
            conn.sendall(part)
    return after, gates


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


# --- the Session path: probes (responses) -----------------------------------------


@responses.activate
def test_probe_gets_models_with_the_endpoint_key_and_without_a_body_type() -> None:
    responses.get(URL + "/models", json={"data": []})
    client = BackendClient(make_endpoint(api_key="sekrit"), pool_size=2)
    client.probe(timeout=1.0)
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer sekrit"
    assert "Content-Type" not in sent.headers
    assert sent.headers["User-Agent"].startswith("octoroute/")


@responses.activate
def test_probe_error_answer_is_an_http_error_with_a_bounded_clean_message() -> None:
    message = "\x1b[31mdown\x1b[0m\r\nInjected: header\x00 " + "x" * 2000
    responses.get(URL + "/models", status=503, json={"error": {"message": message}})
    client = BackendClient(make_endpoint(), pool_size=2)
    err = fails(lambda: client.probe(timeout=1.0), "http_error")
    assert err.status_code == 503
    text = err.message.removeprefix("probe answered HTTP 503: ")
    assert text.startswith("[31mdown [0m Injected: header x")
    assert len(text) == 300 and all(ch.isprintable() for ch in err.message)


@responses.activate
def test_probe_uses_the_endpoints_tls_setting_not_the_sessions(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not read by responses")
    responses.get(URL + "/models", json={"data": []})

    def session() -> requests.Session:
        s = requests.Session()
        s.verify = False  # a factory's own setting must not weaken the endpoint's
        return s
    client = BackendClient(make_endpoint(verify=str(bundle)), pool_size=2, session_factory=session)
    client.probe(timeout=1.0)
    assert responses.calls[0].request.req_kwargs["verify"] == str(bundle)


@pytest.mark.parametrize(("raised", "kind"), [
    (requests.ConnectionError("refused"), "connect_error"),
    (requests.ConnectTimeout("slow syn"), "connect_error"),
    (requests.ReadTimeout("silent"), "timeout"),
    (requests.exceptions.SSLError("certificate verify failed"), "connect_error"),
    (requests.exceptions.ChunkedEncodingError("broken chunk"), "bad_response"),
    (requests.exceptions.ContentDecodingError("bad gzip"), "bad_response"),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v)
@responses.activate
def test_probe_transport_errors_become_backend_error_kinds(raised: Exception, kind: str) -> None:
    responses.get(URL + "/models", body=raised)
    client = BackendClient(make_endpoint(), pool_size=2)
    fails(lambda: client.probe(timeout=1.0), kind)


# --- translate: the one place exceptions become outcomes ----------------------------

_POOL = urllib3.HTTPConnectionPool("backend.test", 8080)
_CONN = urllib3.connection.HTTPConnection("backend.test", 8080)


@pytest.mark.parametrize(("exc", "kind"), [
    (urllib3.exceptions.MaxRetryError(_POOL, "/", urllib3.exceptions.NewConnectionError(_CONN, "refused")),
     "connect_error"),
    (urllib3.exceptions.MaxRetryError(_POOL, "/", urllib3.exceptions.ConnectTimeoutError("slow")),
     "connect_error"),
    (urllib3.exceptions.MaxRetryError(_POOL, "/", urllib3.exceptions.SSLError("bad cert")), "connect_error"),
    (requests.ConnectionError(urllib3.exceptions.MaxRetryError(
        _POOL, "/", urllib3.exceptions.NewConnectionError(_CONN, "refused"))), "connect_error"),
    (ConnectionRefusedError(111, "refused"), "connect_error"),
    (urllib3.exceptions.ReadTimeoutError(_POOL, "/", "read timed out"), "timeout"),
    (TimeoutError("timed out"), "timeout"),
    (urllib3.exceptions.ProtocolError("Connection broken", http.client.IncompleteRead(b"ab", 3)),
     "bad_response"),
    (urllib3.exceptions.InvalidHeader("conflicting Content-Length"), "bad_response"),
    (http.client.IncompleteRead(b"", 5), "bad_response"),
    (ValueError("read length must be non-negative or -1"), "bad_response"),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v)
def test_translate_maps_each_transport_failure_to_its_kind(exc: Exception, kind: str) -> None:
    err = translate(exc, 2.0)
    assert err.kind == kind and err.retryable
    assert "0x" not in err.message  # no "<object at 0x..>" noise from urllib3's reprs


def test_translate_passes_backend_errors_and_reraises_bugs() -> None:
    mine = BackendError("x", kind="timeout")
    assert translate(mine, 1.0) is mine
    with pytest.raises(KeyError):
        translate(KeyError("a bug, not a backend"), 1.0)


def test_clean_strips_control_characters_and_bounds_the_text() -> None:
    assert clean("a\x1b[2J\r\nb\u202ec\x00d") == "a [2J b c d"
    assert len(clean("y" * 1000)) == 300


def test_connect_retry_never_retries_a_read_or_a_post() -> None:
    assert CONNECT_RETRY.read == 0 and CONNECT_RETRY.other == 0 and CONNECT_RETRY.redirect == 0
    assert not CONNECT_RETRY.is_retry("POST", 503)


# --- chat calls on the pool (raw sockets) ------------------------------------------


def test_chat_reuses_one_keep_alive_connection_shared_with_probes(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    backend = hostile()
    client = client_for(backend.base_url, api_key="k1")
    for _ in range(3):
        assert client.chat(b'{"x":1}', timeout=5).data["choices"][0]["message"]["content"]
    client.probe(timeout=5)
    assert backend.connections == 1
    head = backend.chats()[0][1].lower()
    assert b"accept-encoding: identity" in head and b"authorization: bearer k1" in head
    assert b"content-length: 7" in head


@pytest.mark.parametrize("raw", [
    answer_with(["Transfer-Encoding: chunked"],
                b"5;ext=1\r\n" + completion_json()[:5] + b"\r\n" + chunk(completion_json()[5:])[:-2]
                + b"\r\n0\r\nTrailer: x\r\n\r\n"),
    Reply(b"HTTP/1.1 100 Continue\r\n\r\n" + well_formed().raw),
    answer_with(["Content-Type: application/json", f"Content-Length: {len(completion_json())}",
                 f"Content-Length: {len(completion_json())}"], completion_json()),
], ids=["chunked_with_extension_and_trailer", "interim_100_skipped", "repeated_equal_lengths"])
def test_well_formed_framings_are_read_and_pooled(raw: Reply, hostile: Callable[..., HostileBackend],
                                                  client_for: Callable[..., BackendClient]) -> None:
    backend = hostile(raw)
    client = client_for(backend.base_url)
    client.chat(b"{}", timeout=5)
    client.chat(b"{}", timeout=5)
    assert backend.connections == 1


def test_close_delimited_answer_is_read_to_the_end_and_not_pooled(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    backend = hostile(answer_with(["Content-Type: application/json"], completion_json(), close=True))
    client = client_for(backend.base_url)
    client.chat(b"{}", timeout=5)
    client.chat(b"{}", timeout=5)
    assert backend.connections == 2


@pytest.mark.parametrize(("version", "connection", "reused"), [
    ("HTTP/1.1", None, True), ("HTTP/1.1", "close", False),
    ("HTTP/1.0", None, False), ("HTTP/1.0", "keep-alive", True),
])
def test_connection_reuse_follows_the_protocol(
        version: str, connection: str | None, reused: bool,
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    body = completion_json()
    head = [f"Content-Length: {len(body)}"] + ([f"Connection: {connection}"] if connection else [])
    raw = answer_with(head, body).raw.replace(b"HTTP/1.1", version.encode(), 1)
    backend = hostile(Reply(raw))  # the server would serve a second request: only the headers say no
    client = client_for(backend.base_url)
    client.chat(b"{}", timeout=5)
    client.chat(b"{}", timeout=5)
    assert backend.connections == (1 if reused else 2)


def test_a_pooled_connection_the_server_closed_is_replaced_without_resending(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    backend = hostile()
    backend.enqueue(Reply(well_formed().raw, close=True))  # answers, then closes without saying so
    client = client_for(backend.base_url)
    client.chat(b"{}", timeout=5)
    assert backend.wait_closed(1)
    client.chat(b"{}", timeout=5)
    assert backend.connections == 2 and len(backend.chats()) == 2


def test_a_dropped_request_is_a_bad_response_and_never_resent(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    backend = hostile(Reply(b"", close=True))  # reads the request, then hangs up: it may have started
    client = client_for(backend.base_url)
    fails(lambda: client.chat(b"{}", timeout=5), "bad_response")
    assert len(backend.chats()) == 1


def test_connection_refused_is_a_connect_error(client_for: Callable[..., BackendClient]) -> None:
    client = client_for(refused_url())
    err = fails(lambda: client.chat(b"{}", timeout=2), "connect_error")
    assert "0x" not in err.message


def test_gzip_although_identity_was_asked_is_decoded(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    body = gzip.compress(completion_json("zipped"))
    backend = hostile(answer_with(["Content-Encoding: gzip", f"Content-Length: {len(body)}"], body))
    assert client_for(backend.base_url).chat(b"{}", timeout=5).data["choices"][0]["message"]["content"] \
        == "zipped"


def test_a_gzip_bomb_stops_at_the_size_cap_without_inflating(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=1)  # 64 MiB in about 290 KiB
    backend = hostile(answer_with(["Content-Encoding: gzip", f"Content-Length: {len(bomb)}"], bomb))
    client = client_for(backend.base_url, max_response_bytes=1 << 20)
    tracemalloc.start()
    try:
        err = fails(lambda: client.chat(b"{}", timeout=10), "bad_response")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than 1048576 bytes" in err.message
    assert peak < 8 << 20, f"peak {peak} bytes: the bomb was inflated"


@pytest.mark.parametrize("framing", ["content-length", "chunked", "close"])
def test_an_answer_over_the_cap_is_refused_while_reading(
        framing: str, hostile: Callable[..., HostileBackend],
        client_for: Callable[..., BackendClient]) -> None:
    body = b"x" * (3 << 20)
    raw = {"content-length": answer_with([f"Content-Length: {len(body)}"], body),
           "chunked": answer_with(["Transfer-Encoding: chunked"], chunked_body(body)),
           "close": answer_with([], body, close=True)}[framing]
    backend = hostile(raw)
    client = client_for(backend.base_url, max_response_bytes=1 << 20)
    assert "larger than" in fails(lambda: client.chat(b"{}", timeout=5), "bad_response").message


def test_a_trickled_answer_is_a_timeout_over_the_whole_answer(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    """Bytes keep coming, so no single read times out: the deadline covers the whole answer."""
    stop = threading.Event()

    def trickle(conn: socket.socket) -> None:
        while not stop.wait(0.01):
            conn.sendall(b" ")
    backend = hostile(answer_with(["Content-Length: 100000"], b"{", close=True, after=trickle))
    ticks = iter(range(1000))
    client = client_for(backend.base_url, clock=lambda: float(next(ticks)))  # 1 s per look
    try:
        err = fails(lambda: client.chat(b"{}", timeout=5), "timeout")
    finally:
        stop.set()
    assert "within 5s" in err.message


def test_a_backend_silent_after_part_of_its_answer_times_out_at_the_deadline(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    gate = threading.Event()
    backend = hostile(Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{", after=hold(gate)))
    client = client_for(backend.base_url)
    started = time.monotonic()
    try:
        fails(lambda: client.chat(b"{}", timeout=0.3), "timeout")
    finally:
        gate.set()
    assert time.monotonic() - started < 2.0


def test_error_answers_keep_status_and_retry_after(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    backend = hostile(answer_with(["Retry-After: 7", "Content-Length: 2"], b"{}", status="429 Slow"))
    err = fails(lambda: client_for(backend.base_url).chat(b"{}", timeout=5), "rate_limited")
    assert err.retry_after == 7.0


# --- streams --------------------------------------------------------------------


def open_stream(client: BackendClient, first: float = 5.0, idle: float = 5.0) -> BackendStream:
    return client.open_stream(b'{"stream": true}', first_byte_timeout=first, idle_timeout=idle)


def test_a_chunked_stream_hands_each_chunk_over_as_it_arrives_and_is_pooled(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    after, gates = stepped(chunk(SSE[1])[:5], chunk(SSE[1])[5:], chunk(SSE[2]) + b"0\r\n\r\n")
    backend = hostile()
    backend.enqueue(answer_with(SSE_HEAD, chunk(SSE[0]), after=after))
    client = client_for(backend.base_url)
    stream = open_stream(client)
    assert stream.first == SSE[0] and stream.status == 200
    assert stream.headers["content-type"] == "text/event-stream"
    assert b"accept: text/event-stream" in backend.chats()[0][1].lower()
    gates[0].set()
    gates[1].set()  # a chunk in two TCP segments comes back whole
    assert stream.read() == SSE[1]  # without waiting for the next chunk
    gates[2].set()
    assert stream.read() == SSE[2]
    assert stream.read() == b""
    stream.close()
    client.chat(b"{}", timeout=5)
    assert backend.connections == 1  # the finished stream's connection served the next call


@pytest.mark.parametrize("size_line", [b"-2", b"zz", b""])
def test_a_malformed_chunk_size_fails_a_stream_before_the_commit(
        size_line: bytes, hostile: Callable[..., HostileBackend],
        client_for: Callable[..., BackendClient]) -> None:
    backend = hostile()
    backend.enqueue(answer_with(SSE_HEAD, size_line + b"\r\n" + SSE[0] + b"\r\n0\r\n\r\n"))
    client = client_for(backend.base_url)
    fails(lambda: open_stream(client), "bad_response")
    client.chat(b"{}", timeout=5)
    assert backend.connections == 2


def test_headers_alone_do_not_commit_a_stream(hostile: Callable[..., HostileBackend],
                                              client_for: Callable[..., BackendClient]) -> None:
    backend = hostile(answer_with(SSE_HEAD, b"0\r\n\r\n"))
    err = fails(lambda: open_stream(client_for(backend.base_url)), "bad_response")
    assert "before its first byte" in err.message


def test_a_stall_after_the_headers_is_a_timeout_before_the_commit(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    gate = threading.Event()
    backend = hostile(answer_with(SSE_HEAD, b"", after=hold(gate)))
    try:
        fails(lambda: open_stream(client_for(backend.base_url), first=0.3), "timeout")
    finally:
        gate.set()


def test_a_non_2xx_stream_answer_is_an_http_error(hostile: Callable[..., HostileBackend],
                                                  client_for: Callable[..., BackendClient]) -> None:
    backend = hostile(answer_with(["Content-Length: 2"], b"{}", status="503 Busy"))
    assert fails(lambda: open_stream(client_for(backend.base_url)), "http_error").status_code == 503


def test_a_stream_cut_inside_a_chunk_is_a_bad_response(hostile: Callable[..., HostileBackend],
                                                       client_for: Callable[..., BackendClient]) -> None:
    after, gates = stepped(b"40\r\ndata: {")
    backend = hostile(answer_with(SSE_HEAD, chunk(SSE[0]), close=True, after=after))
    stream = open_stream(client_for(backend.base_url))
    gates[0].set()
    fails(stream.read, "bad_response")  # the connection closed 7 bytes into a 64-byte chunk
    stream.close()


def test_a_silent_stream_is_an_idle_timeout(hostile: Callable[..., HostileBackend],
                                            client_for: Callable[..., BackendClient]) -> None:
    gate = threading.Event()
    backend = hostile(answer_with(SSE_HEAD, chunk(SSE[0]), after=hold(gate)))
    stream = open_stream(client_for(backend.base_url), idle=0.2)
    try:
        fails(stream.read, "timeout")
    finally:
        gate.set()
        stream.close()


def test_finish_reads_the_framing_end_and_pools_the_connection(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    after, gates = stepped(b"0\r\n\r\n")
    backend = hostile()
    backend.enqueue(answer_with(SSE_HEAD, chunk(SSE[0]) + chunk(SSE[2]), after=after))
    client = client_for(backend.base_url)
    stream = open_stream(client)
    assert stream.read() == SSE[2]  # [DONE]: the caller has all it needs
    finisher = threading.Thread(target=stream.finish, args=(5.0,), name="test-finish")
    finisher.start()
    gates[0].set()  # the framing's end arrives a moment later
    finisher.join(10)
    client.chat(b"{}", timeout=5)
    assert backend.connections == 1


def test_finish_gives_up_on_a_backend_that_keeps_the_stream_open(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    gate = threading.Event()
    backend = hostile()
    backend.enqueue(answer_with(SSE_HEAD, chunk(SSE[0]) + chunk(SSE[2]), after=hold(gate)))
    client = client_for(backend.base_url)
    stream = open_stream(client)
    started = time.monotonic()
    stream.finish(0.05)
    assert time.monotonic() - started < 2.0
    gate.set()
    client.chat(b"{}", timeout=5)
    assert backend.connections == 2


def test_a_stream_closed_mid_way_is_never_pooled(hostile: Callable[..., HostileBackend],
                                                 client_for: Callable[..., BackendClient]) -> None:
    gate = threading.Event()
    backend = hostile()
    backend.enqueue(answer_with(SSE_HEAD, chunk(SSE[0]), after=hold(gate)))
    client = client_for(backend.base_url)
    open_stream(client).close()  # the client went away
    gate.set()
    client.chat(b"{}", timeout=5)
    assert backend.connections == 2


def test_abort_from_another_thread_ends_a_blocked_read_promptly(
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    gate = threading.Event()
    backend = hostile()
    backend.enqueue(answer_with(SSE_HEAD, chunk(SSE[0]), after=hold(gate)))
    client = client_for(backend.base_url)
    stream = open_stream(client, idle=30.0)
    outcome: list[BaseException | bytes] = []
    reading = threading.Event()

    def reader() -> None:
        reading.set()
        try:
            outcome.append(stream.read())
        except BackendError as exc:
            outcome.append(exc)
    thread = threading.Thread(target=reader, name="test-reader")
    thread.start()
    assert reading.wait(5)
    started = time.monotonic()
    stream.abort()
    thread.join(5)
    try:
        assert not thread.is_alive() and time.monotonic() - started < 2.0
        assert isinstance(outcome[0], BackendError) and "aborted" in outcome[0].message
        stream.abort()  # idempotent
        stream.close()
        client.chat(b"{}", timeout=5)
        assert backend.connections == 2  # the aborted connection was not pooled
    finally:
        gate.set()


# --- TLS: one setting per endpoint, for probes and chats alike ------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    cert, key = self_signed_cert(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return cert, context


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
@pytest.mark.parametrize("verify", ["ca", False])
def test_a_trusted_or_unchecked_certificate_serves_probes_and_chats(
        verify: str | bool, certificate: tuple[Path, ssl.SSLContext],
        hostile: Callable[..., HostileBackend], client_for: Callable[..., BackendClient]) -> None:
    cert, context = certificate
    backend = hostile(tls=context)
    client = client_for(backend.base_url, verify=str(cert) if verify == "ca" else verify)
    client.probe(timeout=5)
    client.chat(b"{}", timeout=5)
    assert backend.connections == 1  # the probe's TLS connection served the chat: one pool, one trust
    backend.enqueue(answer_with(SSE_HEAD, chunk(SSE[0]) + b"0\r\n\r\n"))
    stream = open_stream(client)
    assert stream.first == SSE[0] and stream.read() == b""
    stream.close()


def test_an_untrusted_certificate_fails_probes_and_chats_alike(
        certificate: tuple[Path, ssl.SSLContext], hostile: Callable[..., HostileBackend],
        client_for: Callable[..., BackendClient]) -> None:
    _, context = certificate
    backend = hostile(tls=context)
    client = client_for(backend.base_url, verify=True)
    for call in (lambda: client.probe(timeout=5), lambda: client.chat(b"{}", timeout=5)):
        err = fails(call, "connect_error")
        assert "TLS" in err.message and "certificate" in err.message.lower()
    assert backend.chats() == []  # nothing was sent over an unverified connection


@pytest.mark.parametrize(("data", "expected"), [
    ({"usage": {"prompt_tokens": 3, "completion_tokens": 7}}, (3, 7)),
    ({"usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}, (0, 0)),
    ({"usage": None}, None),
    ({"usage": {}}, None),
    ({"usage": {"prompt_tokens": "3", "completion_tokens": 7}}, None),
    ({"usage": {"prompt_tokens": True, "completion_tokens": 7}}, None),
    ({"usage": {"prompt_tokens": -1, "completion_tokens": 7}}, None),
    ({}, None),
    ([], None),
])
def test_usage_of(data: Any, expected: tuple[int, int] | None) -> None:
    assert usage_of(data) == expected
