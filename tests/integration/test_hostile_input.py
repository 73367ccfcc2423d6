"""Property tests: hostile bodies and headers on both chat APIs never cause a 500.

Octoroute runs in process (``falcon.testing.TestClient``) in front of three
fake backends started once for the module, which answer like real servers
(SSE when asked to stream). Whatever hypothesis sends — arbitrary JSON,
wrong types in every field, deep nesting, huge strings, invalid UTF-8, lone
surrogates, out-of-range numbers, control characters and long values in
``X-Request-ID`` and the hint headers — the answer is a 2xx, or a 4xx with a
JSON error body that carries the request id, and never a traceback. The
echoed request id is always at most 128 of ``[A-Za-z0-9._-]``, and no input
can make a log record render as more than one line.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator
from typing import Any

import falcon.testing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from octoroute.api.schemas import MAX_PROMPT_CHARS, ROLES
from octoroute.app import Runtime, build_runtime
from octoroute.config import IMPORTANCES
from octoroute.routing.rules import TASK_TYPES

from fakes import FakeBackend, make_config
from faultkit import openai_like, rendered_logs

MAX_BODY_BYTES = 256 * 1024  # bytes; server.max_body_bytes here, so huge bodies stay cheap
FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
CHAT, OPENAI = "/chat", "/v1/chat/completions"
CHAT_FIELDS = ("prompt", "importance", "task_type", "model", "temperature", "max_tokens")
OPENAI_FIELDS = ("model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
                 "n", "temperature", "top_p", "tools", "tool_choice", "response_format")
HINT_HEADERS = ("X-Octoroute-Importance", "X-Octoroute-Task-Type")


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    backends = [FakeBackend(name, chat=openai_like()).start() for name in ("fast-1", "balanced-1", "deep-1")]
    config = make_config({"fast": [backends[0]], "balanced": [backends[1]], "deep": [backends[2]]},
                         server={"max_body_bytes": MAX_BODY_BYTES})
    rt = build_runtime(config)
    try:
        yield rt
    finally:
        rt.close()
        for b in backends:
            b.stop()


@pytest.fixture(scope="module")
def client(runtime: Runtime) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(runtime.app)


def check(result: falcon.testing.Result, sent_request_id: str | None = None) -> None:
    """2xx, or 4xx with a JSON error carrying the request id; never 5xx, never a traceback."""
    status = result.status_code
    assert status < 500, (status, result.text[:500])
    assert 200 <= status < 300 or 400 <= status < 500, status
    assert "Traceback" not in result.text
    rid = result.headers.get("X-Request-ID")
    assert rid is not None and REQUEST_ID.fullmatch(rid), rid
    if sent_request_id is not None and REQUEST_ID.fullmatch(sent_request_id):
        assert rid == sent_request_id
    if status >= 400:
        assert result.headers.get("Content-Type", "").startswith("application/json"), result.headers
        err = json.loads(result.text)["error"]
        assert isinstance(err["message"], str) and err["message"]
        assert err["request_id"] == rid


def post(client: falcon.testing.TestClient, path: str, body: bytes, *,
         headers: dict[str, str] | None = None) -> falcon.testing.Result:
    return client.simulate_post(path, body=body, headers={"Content-Type": "application/json",
                                                          **(headers or {})})


# --- strategies ------------------------------------------------------------------

# Every code point, lone surrogates included (json.dumps writes them as \udXXX escapes).
any_char = st.characters(codec=None, categories=None)
texts = st.text(any_char, max_size=40) | st.sampled_from(
    ["", " ", "\n", "\r\n", "\x00", "\ud800", "\udfff", "a\ud800b", "\u2028", "\x85", "auto", "fast",
     "deep", "high", "code", "user"])
numbers = (st.integers(min_value=-(10**30), max_value=10**30)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.sampled_from([0, -1, 1, 2**63, -(2**63), 1e308, -1e308, 5e-324, 2.0000001, 4.0]))
json_leaves = st.none() | st.booleans() | numbers | texts
json_values = st.recursive(json_leaves, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(texts, inner, max_size=4), max_leaves=8)


def as_body(value: Any) -> bytes:
    return json.dumps(value).encode()


def chat_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """A /chat object with some known fields (any type, often plausible) and maybe extras."""
    plausible = {
        "prompt": st.text(any_char, max_size=200) | json_values,
        "importance": st.sampled_from(IMPORTANCES) | json_values,
        "task_type": st.sampled_from(TASK_TYPES) | json_values,
        "model": st.sampled_from(["auto", "fast", "deep", "fast-1", None]) | json_values,
        "temperature": st.floats(0, 2) | json_values,
        "max_tokens": st.integers(-5, 10**6) | json_values,
    }
    return st.fixed_dictionaries({}, optional=plausible).flatmap(
        lambda d: st.dictionaries(texts, json_values, max_size=2).map(lambda extra: {**extra, **d})
        | st.just(d))


def messages() -> st.SearchStrategy[Any]:
    message = st.fixed_dictionaries(
        {"role": st.sampled_from(ROLES) | json_values},
        optional={"content": st.text(any_char, max_size=100) | json_values, "name": json_values,
                  "tool_calls": json_values})
    return st.lists(message, max_size=4) | json_values


def openai_bodies() -> st.SearchStrategy[dict[str, Any]]:
    plausible = {name: json_leaves | json_values for name in OPENAI_FIELDS}
    plausible.update(
        messages=messages(),
        model=st.sampled_from(["auto", "fast", "balanced", "deep", "deep-1", "nope", None]) | json_values,
        stream=st.booleans() | json_values,
        max_tokens=st.integers(-5, 10**9) | json_values,
        temperature=st.floats(-1, 3, allow_nan=False) | json_values,
    )
    return st.fixed_dictionaries({}, optional=plausible).flatmap(
        lambda d: st.dictionaries(texts, json_values, max_size=2).map(lambda extra: {**extra, **d})
        | st.just(d))


# WSGI header values are latin-1 strings; controls and CR/LF included on purpose.
header_values = (st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=300)
                 | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=120, max_size=140)
                 | st.text(st.sampled_from("abcXYZ019._-"), min_size=1, max_size=140)
                 | st.sampled_from(["", " ", "a\nb", "a\r\nX-Injected: 1", "\x00", "ok\x7f", "ok-id"]))


# --- bodies ----------------------------------------------------------------------

@FUZZ
@given(value=json_values, path=st.sampled_from([CHAT, OPENAI]))
def test_any_json_value_as_the_body(client: Any, value: Any, path: str) -> None:
    check(post(client, path, as_body(value)))


@FUZZ
@given(body=chat_bodies())
def test_chat_fields_of_every_type(client: Any, body: dict[str, Any]) -> None:
    check(post(client, CHAT, as_body(body)))


@FUZZ
@given(body=openai_bodies())
def test_openai_fields_of_every_type(client: Any, body: dict[str, Any]) -> None:
    check(post(client, OPENAI, as_body(body)))


@FUZZ
@given(raw=st.binary(max_size=600), path=st.sampled_from([CHAT, OPENAI]),
       wrap=st.sampled_from(["raw", "chat_prompt", "openai_content"]))
def test_invalid_utf8_and_arbitrary_bytes(client: Any, raw: bytes, path: str, wrap: str) -> None:
    body = {"raw": raw,
            "chat_prompt": b'{"prompt": "' + raw + b'"}',
            "openai_content": b'{"messages": [{"role": "user", "content": "' + raw + b'"}]}'}[wrap]
    check(post(client, path, body))


LONE_SURROGATE_BODIES = [
    (CHAT, rb'{"prompt": "hi \ud800 there"}'),
    (CHAT, rb'{"prompt": "hi", "imp\ud800": 1}'),
    (CHAT, rb'{"prompt": "hi", "\udfff": "x"}'),
    (CHAT, rb'{"prompt": "hi", "model": "fast\udc00"}'),
    (CHAT, rb'{"prompt": "hi", "importance": "\ud800"}'),
    (OPENAI, rb'{"messages": [{"role": "user", "content": "hi \ud800"}]}'),
    (OPENAI, rb'{"messages": [{"role": "user", "content": "hi"}], "user": "\udbff"}'),
    (OPENAI, rb'{"messages": [{"role": "user", "content": "hi"}], "x\ud800": 1}'),
    (OPENAI, rb'{"messages": [{"role": "user", "content": "hi", "name": "\ud83d"}], "stream": true}'),
    (OPENAI, rb'{"messages": [{"role": "\ud800", "content": "hi"}]}'),
    (OPENAI, rb'{"model": "\ud800", "messages": [{"role": "user", "content": "hi"}]}'),
]


@pytest.mark.parametrize(("path", "body"), LONE_SURROGATE_BODIES,
                         ids=[f"{p.strip('/')}-{k}" for k, (p, _) in enumerate(LONE_SURROGATE_BODIES)])
def test_lone_surrogate_escapes(client: Any, path: str, body: bytes) -> None:
    check(post(client, path, body))


NUMBER_LITERALS = ["1e999", "-1e999", "1e-999", "NaN", "Infinity", "-Infinity", "-0", "1E400",
                   "9" * 5000, "-" + "9" * 5000, "0.000000000000000000000000001", "1.5e308",
                   "123456789012345678901234567890"]


@settings(max_examples=300, deadline=None, database=None)
@given(literal=st.sampled_from(NUMBER_LITERALS),
       target=st.sampled_from([(CHAT, f) for f in CHAT_FIELDS] + [(OPENAI, f) for f in OPENAI_FIELDS]
                              + [(OPENAI, "messages.0.content"), (CHAT, "<root>"), (OPENAI, "<root>")]))
def test_out_of_range_numbers_in_every_field(client: Any, literal: str, target: tuple[str, str]) -> None:
    path, field = target
    base = ({"prompt": "hello there"} if path == CHAT
            else {"messages": [{"role": "user", "content": "hello there"}]})
    if field == "<root>":
        body = literal
    elif field == "messages.0.content":
        body = '{"messages": [{"role": "user", "content": LIT}]}'.replace("LIT", literal)
    else:
        body = json.dumps({k: v for k, v in base.items() if k != field})[:-1] + f', "{field}": {literal}}}'
    check(post(client, path, body.encode()))


@settings(max_examples=120, deadline=None, database=None)
@given(depth=st.integers(1, 20_000), opener=st.sampled_from(["[", '{"a":']),
       where=st.sampled_from(["root", "chat_extra", "chat_prompt", "openai_extra", "openai_content",
                              "openai_stream_options"]))
def test_deep_nesting(client: Any, depth: int, opener: str, where: str) -> None:
    closer = "]" if opener == "[" else "}"
    nest = opener * depth + "1" + closer * depth
    path = CHAT if where.startswith("chat") or where == "root" else OPENAI
    msg = '[{"role": "user", "content": "hi"}]'
    template = {
        "root": "NEST",
        "chat_extra": '{"prompt": "hi", "x": NEST}',
        "chat_prompt": '{"prompt": NEST}',
        "openai_extra": '{"messages": MSG, "metadata": NEST}',
        "openai_content": '{"messages": [{"role": "user", "content": NEST}]}',
        "openai_stream_options": '{"messages": MSG, "stream_options": NEST}',
    }[where]
    body = template.replace("MSG", msg).replace("NEST", nest)
    check(post(client, path, body.encode()))


@pytest.mark.parametrize(("path", "body", "status"), [
    (CHAT, {"prompt": "x" * MAX_PROMPT_CHARS}, 200),
    (CHAT, {"prompt": "x" * (MAX_PROMPT_CHARS + 1)}, 400),
    (CHAT, {"prompt": "\u00e9" * (MAX_BODY_BYTES // 7)}, 200),
    (CHAT, {"prompt": " " * MAX_PROMPT_CHARS}, 400),
    (CHAT, {"prompt": "x" * (MAX_BODY_BYTES + 1)}, 413),
    (CHAT, {"prompt": "hi", "model": "m" * 10_000}, 400),
    (CHAT, {"prompt": "hi", "k" * 50_000: 1}, 400),
    (OPENAI, {"messages": [{"role": "user", "content": "x" * (MAX_BODY_BYTES - 200)}]}, 200),
    (OPENAI, {"messages": [{"role": "user", "content": "x" * (MAX_BODY_BYTES + 1)}]}, 413),
    (OPENAI, {"messages": [{"role": "user", "content": "hi"}] * 5000}, 200),
    (OPENAI, {"messages": [{"role": "user", "content": "hi"}], "model": "m" * 10_000}, 400),
    (OPENAI, {"messages": [{"role": "user", "content": "hi"}], "k" * 50_000: 1}, 200),
], ids=lambda v: v if isinstance(v, (str, int)) else None)
def test_huge_strings(client: Any, path: str, body: dict[str, Any], status: int) -> None:
    result = post(client, path, as_body(body))
    check(result)
    assert result.status_code == status, result.text[:300]


# --- headers ---------------------------------------------------------------------

@FUZZ
@given(request_id=header_values, importance=st.none() | header_values, task_type=st.none() | header_values,
       path=st.sampled_from([CHAT, OPENAI, "/health", "/models", "/v1/models", "/nope"]))
def test_hostile_headers(client: Any, request_id: str, importance: str | None, task_type: str | None,
                         path: str) -> None:
    headers = {"X-Request-ID": request_id}
    if importance is not None:
        headers["X-Octoroute-Importance"] = importance
    if task_type is not None:
        headers["X-Octoroute-Task-Type"] = task_type
    if path == CHAT:
        result = post(client, path, b'{"prompt": "hello there"}', headers=headers)
    elif path == OPENAI:
        result = post(client, path, b'{"messages": [{"role": "user", "content": "hello there"}]}',
                      headers=headers)
    else:
        result = client.simulate_get(path, headers=headers)
    check(result, request_id)
    for name, value in result.headers.items():
        assert "\n" not in value and "\r" not in value, (name, value)
    if path == OPENAI and result.status_code == 400:
        err = json.loads(result.text)["error"]
        assert err["param"] in HINT_HEADERS and err["code"] == "invalid_header"
        for v in (importance, task_type):
            if v and len(v) > 3:
                assert v not in err["message"]  # the hint's value is never echoed


@FUZZ
@given(content_type=header_values, path=st.sampled_from([CHAT, OPENAI]))
def test_hostile_content_type(client: Any, content_type: str, path: str) -> None:
    body = (b'{"prompt": "hello"}' if path == CHAT
            else b'{"messages": [{"role": "user", "content": "hello"}]}')
    check(client.simulate_post(path, body=body, headers={"Content-Type": content_type}))


@pytest.mark.parametrize("request_id", ["ok", "A" * 128, "a.b_c-d", "0"])
def test_a_valid_request_id_is_echoed(client: Any, request_id: str) -> None:
    result = client.simulate_get("/health", headers={"X-Request-ID": request_id})
    assert result.headers["X-Request-ID"] == request_id


@pytest.mark.parametrize("request_id", ["", "A" * 129, "a b", "a\nb", "a/b", "é", "a;b", "a\x00"])
def test_an_invalid_request_id_is_replaced(client: Any, request_id: str) -> None:
    result = client.simulate_get("/health", headers={"X-Request-ID": request_id})
    rid = result.headers["X-Request-ID"]
    assert rid != request_id and REQUEST_ID.fullmatch(rid)


# --- log forging -----------------------------------------------------------------

class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1


LINE_BREAKERS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
forged = st.lists(st.sampled_from(LINE_BREAKERS) | st.text(max_size=8)
                  | st.just(" 2025-01-01T00:00:00.000 INFO octoroute.access [x] request status=200"),
                  min_size=1, max_size=6).map("".join)


@FUZZ
@given(request_id=forged, prompt=forged, key=forged, model=forged,
       path=st.sampled_from([CHAT, OPENAI, "/nope%0aINFO%20forged", "/chat%0d%0aX"]))
def test_input_cannot_forge_a_log_line(client: Any, request_id: str, prompt: str, key: str, model: str,
                                       path: str) -> None:
    counter = _Count()
    logger = logging.getLogger("octoroute")
    with rendered_logs() as out:
        logger.addHandler(counter)
        try:
            headers = {"X-Request-ID": request_id.encode("utf-8", "replace").decode("latin-1")}
            if path == OPENAI:
                body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}],
                                        key: prompt}
            else:
                body = {"prompt": prompt, key: 1, "model": model}
            result = post(client, path, as_body(body), headers=headers)
        finally:
            logger.removeHandler(counter)
    check(result)
    assert counter.records >= 1  # at least the access line
    for fmt, stream in out.items():
        text = stream.getvalue()
        assert text.endswith("\n")
        lines = text[:-1].split("\n")
        assert len(lines) == counter.records, (fmt, text)
        assert len(text.splitlines()) == counter.records, (fmt, text)  # no other line breaks either
        if fmt == "json":
            for line in lines:
                json.loads(line)


# --- the same on a real socket: what waitress lets through ------------------------

RAW_HEADERS = [
    b"X-Request-ID: a\x01b\x7fc",
    b"X-Request-ID: " + b"r" * 8000,
    b"X-Request-ID: \xff\xfe\xc3\x28",
    b"X-Request-ID: ok\r\n folded-continuation",
    b"X-Octoroute-Importance: hi\x00gh",
    b"X-Octoroute-Task-Type: " + b"code" * 2000,
    b"X-Octoroute-Importance: \xc3\xa9lev\xc3\xa9",
    b"X-Request-ID: a\rInjected: 1",
    b"X-Request-ID: a\nInjected: 1",
]


@pytest.mark.parametrize("header", RAW_HEADERS, ids=[f"raw-{k}" for k in range(len(RAW_HEADERS))])
def test_raw_control_characters_in_headers_on_a_real_socket(header: bytes, serve: Any,
                                                           fake_backend: Any) -> None:
    live = serve(make_config({t: [fake_backend(f"{t}-1", chat=openai_like())]
                              for t in ("fast", "balanced", "deep")}))
    body = b'{"messages": [{"role": "user", "content": "hello there"}]}'
    request = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header + b"\r\n"
               b"Content-Type: application/json\r\nConnection: close\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    with socket.create_connection(("127.0.0.1", live.server.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    raw = b"".join(chunks)
    head, _, payload = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert status < 500, raw[:500]
    assert b"Traceback" not in raw
    headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
    assert b"Injected" not in headers
    if b"X-Request-ID" in headers:  # the app answered (not waitress's own 400)
        assert REQUEST_ID.fullmatch(headers[b"X-Request-ID"].decode("ascii")), headers
        if status >= 400:
            assert json.loads(payload)["error"]["request_id"] == headers[b"X-Request-ID"].decode()
