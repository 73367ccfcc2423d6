"""Reading request bodies as JSON (every failure a clear 4xx) and single-line logging."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import falcon
import falcon.testing
import pytest
from octoroute.api import errors as api_errors
from octoroute.api.body import MAX_JSON_DEPTH, read_json
from octoroute.errors import RequestError
from octoroute.logs import (
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    configure_logging,
    escape,
    request_id_var,
)

from fakes import FakeRequest

LIMIT = 200_000  # bytes; above the 100,000-byte nesting bomb below


class EchoResource:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"data": read_json(req, LIMIT)}


@pytest.fixture
def client() -> falcon.testing.TestClient:
    app = falcon.App()
    api_errors.install(app)
    app.add_route("/echo", EchoResource())
    return falcon.testing.TestClient(app)


def post(client: falcon.testing.TestClient, body: bytes | str, content_type: str | None = None
         ) -> falcon.testing.Result:
    raw = body.encode() if isinstance(body, str) else body
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return client.simulate_post("/echo", body=raw, headers=headers)


def assert_error(result: falcon.testing.Result, status: int, code: str | None = None) -> dict[str, Any]:
    assert result.status_code == status, result.text
    assert result.headers["content-type"].startswith("application/json")
    err = result.json["error"]
    assert err["message"]
    assert err["type"] == "invalid_request_error"
    assert "request_id" in err
    assert "Traceback" not in result.text
    if code is not None:
        assert err["code"] == code
    return err


# --- content types ------------------------------------------------------------

PAYLOAD = '{"prompt": "hi", "n": [1, 2.5, true, null]}'


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "Application/JSON", " application/json ",
    "application/vnd.api+json", "application/merge-patch+json",
    None,  # the seed README's curl examples send no header at all ...
    "application/x-www-form-urlencoded",  # ... or curl's default for -d
    "application/x-www-form-urlencoded; charset=utf-8",
])
def test_json_is_accepted(client: falcon.testing.TestClient, content_type: str | None) -> None:
    result = post(client, PAYLOAD, content_type)
    assert result.status_code == 200, result.text
    assert result.json == {"data": json.loads(PAYLOAD)}


@pytest.mark.parametrize("content_type", [
    "text/plain", "text/html", "multipart/form-data; boundary=x", "application/xml", "application/jsonx",
    "application/octet-stream", "image/png",
])
def test_other_content_types_are_415(client: falcon.testing.TestClient, content_type: str) -> None:
    err = assert_error(post(client, PAYLOAD, content_type), 415, "unsupported_media_type")
    assert "application/json" in err["message"]


@pytest.mark.parametrize("body", ["prompt=hello", "a=1&b=2", "{not json", "hello"])
def test_form_body_that_is_not_json_is_415(client: falcon.testing.TestClient, body: str) -> None:
    err = assert_error(post(client, body, "application/x-www-form-urlencoded"), 415,
                       "unsupported_media_type")
    assert "Content-Type: application/json" in err["message"]


@pytest.mark.parametrize("opener", ["[", '{"a": '])
def test_nesting_past_the_limit_is_a_400_at_any_depth(client: falcon.testing.TestClient, opener: str) -> None:
    closer = "]" if opener == "[" else "}"

    def nested(levels: int) -> str:
        return '{"prompt": "hi", "x": ' + opener * levels + "1" + closer * levels + "}"
    # The body object itself is one level: MAX_JSON_DEPTH - 1 more fit, one beyond does not.
    assert post(client, nested(MAX_JSON_DEPTH - 1), None).status_code == 200
    for levels in (MAX_JSON_DEPTH, 900, 20_000):  # 900: parses, yet too deep to re-encode further down
        err = assert_error(post(client, nested(levels), None), 400, "invalid_json")
        assert "nested too deeply" in err["message"] and "flatten" in err["message"]


def test_many_brackets_side_by_side_are_not_depth(client: falcon.testing.TestClient) -> None:
    body = '{"prompt": "hi", "rows": [' + ", ".join(["[1, {\"a\": [2]}]"] * 200) + "]}"
    assert post(client, body, None).status_code == 200


def test_huge_content_type_is_not_echoed_in_full(client: falcon.testing.TestClient) -> None:
    err = assert_error(post(client, PAYLOAD, "text/" + "x" * 5000), 415)
    assert len(err["message"]) < 300


# --- size limits ------------------------------------------------------------------


def _json_of_size(n: int) -> bytes:
    body = b'"' + b"a" * (n - 2) + b'"'
    assert len(body) == n
    return body


def test_body_exactly_at_the_limit_is_accepted(client: falcon.testing.TestClient) -> None:
    result = post(client, _json_of_size(LIMIT), "application/json")
    assert result.status_code == 200
    assert len(result.json["data"]) == LIMIT - 2


@pytest.mark.parametrize("size", [LIMIT + 1, LIMIT + 2, 3 * LIMIT])
def test_body_over_the_limit_is_413(client: falcon.testing.TestClient, size: int) -> None:
    err = assert_error(post(client, _json_of_size(size), "application/json"), 413, "body_too_large")
    assert str(LIMIT) in err["message"]
    assert "server.max_body_bytes" in err["message"]


def test_size_is_checked_before_content(client: falcon.testing.TestClient) -> None:
    # Over the limit and not JSON: the size is what the client must fix first.
    assert_error(post(client, b"x" * (LIMIT + 1), "application/json"), 413)


def test_body_over_the_limit_without_content_length_is_413() -> None:
    with pytest.raises(RequestError) as info:
        read_json(FakeRequest(_json_of_size(101)), 100)  # type: ignore[arg-type]
    assert info.value.status == 413
    assert read_json(FakeRequest(_json_of_size(100)), 100) == "a" * 98  # type: ignore[arg-type]


# --- malformed bodies -------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b" ", b"\r\n\t "])
def test_empty_body_is_400(client: falcon.testing.TestClient, body: bytes) -> None:
    err = assert_error(post(client, body, "application/json"), 400, "invalid_json")
    assert "empty" in err["message"]


@pytest.mark.parametrize("body", [
    b'{"prompt": "caf\xe9"}', b'\xff\xfe{"a": 1}', b'{"prompt": "\xc3"}', b"\x80",
])
def test_invalid_utf8_is_400(client: falcon.testing.TestClient, body: bytes) -> None:
    assert_error(post(client, body, "application/json"), 400, "invalid_json")


@pytest.mark.parametrize("body", [
    "[" * 100_000, "{\"a\":" * 40_000, "[" * 50_000 + "]" * 50_000, '{"a":' * 20_000 + "1" + "}" * 20_000,
])
def test_deep_nesting_is_400_not_500(client: falcon.testing.TestClient, body: str) -> None:
    assert len(body) <= LIMIT
    assert_error(post(client, body, "application/json"), 400, "invalid_json")


@pytest.mark.parametrize("body", [
    '{"t": 1e999}', '{"t": -1e999}', "1e400", '{"t": NaN}', '{"t": Infinity}', '{"t": -Infinity}', "NaN",
    '{"t": ' + "9" * 5000 + "}",  # beyond Python's int digit limit
])
def test_non_finite_numbers_are_400(client: falcon.testing.TestClient, body: str) -> None:
    assert_error(post(client, body, "application/json"), 400, "invalid_json")


@pytest.mark.parametrize("body", [
    '{"prompt": ', "{'prompt': 'hi'}", '{"prompt": "hi",}', "[1, 2", "undefined", '{"a": 1} trailing',
    '"unterminated', "{" + '"k": 1, ' * 10 + "}",
])
def test_invalid_json_is_400_with_a_reason(client: falcon.testing.TestClient, body: str) -> None:
    err = assert_error(post(client, body, "application/json"), 400, "invalid_json")
    assert "not valid JSON" in err["message"]
    assert "\n" not in err["message"]


@pytest.mark.parametrize("body", ['{"t": 1e308}', '{"t": -0.0}', '{"t": 12345678901234567890}', "[]",
                                  '"just a string"', "null", '{"s": "\\u2028\\n"}'])
def test_valid_edge_json_is_returned(client: falcon.testing.TestClient, body: str) -> None:
    result = post(client, body, "application/json")
    assert result.status_code == 200
    assert result.json["data"] == json.loads(body)


# --- escape -------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "escaped"), [
    ("plain text", "plain text"), ("caf\u00e9 \u65e5\u672c", "caf\u00e9 \u65e5\u672c"), ("", ""),
    ("a\nb", "a\\nb"), ("a\rb", "a\\rb"), ("a\r\nb", "a\\r\\nb"), ("tab\there", "tab\\there"),
    ("nul\x00", "nul\\x00"), ("\x1b[31mred", "\\x1b[31mred"), ("del\x7f", "del\\x7f"),
    ("vt\x0bff\x0c", "vt\\x0bff\\x0c"), ("fs\x1cgs\x1drs\x1e", "fs\\x1cgs\\x1drs\\x1e"),
    ("nel\x85", "nel\\x85"), ("ls\u2028ps\u2029", "ls\\u2028ps\\u2029"),
])
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


def test_escape_leaves_no_line_break_anywhere_in_unicode() -> None:
    offenders = [hex(cp) for cp in range(0x110000)
                 if len(("x" + escape(chr(cp)) + "x").splitlines()) != 1]
    assert offenders == []


def test_escape_plain_text_is_untouched() -> None:
    text = "GET /chat 200 in 12 ms \u2013 ok"
    assert escape(text) is text


# --- formatters -----------------------------------------------------------------

FORGED = "hello\nINFO octoroute.api [admin] forged line\r\nand\u2028more\x85end"


def record(msg: str = "message", *, fields: dict[str, Any] | None = None, level: int = logging.INFO,
           request_id: str | None = "req-1", exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            exc_info = sys.exc_info()
    rec = logging.LogRecord("octoroute.test", level, __file__, 1, msg, None, exc_info)
    if fields is not None:
        rec.fields = fields
    if request_id is not None:
        rec.request_id = request_id
    return rec


def test_text_formatter_one_line_for_a_multiline_message() -> None:
    line = TextFormatter().format(record(FORGED))
    assert len(line.splitlines()) == 1
    assert "hello\\nINFO octoroute.api [admin] forged line\\r\\nand\\u2028more\\x85end" in line


def test_text_formatter_layout() -> None:
    line = TextFormatter().format(record("served", level=logging.WARNING, request_id="abc-123"))
    assert " WARNING octoroute.test [abc-123] served" in line
    stamp = line.split(" ", 1)[0]
    assert len(stamp) == len("2024-01-01T00:00:00.000") and stamp[10] == "T"


def test_text_formatter_fields() -> None:
    fields = {"tier": "fast", "status": 200, "duration_ms": 12.345, "endpoint": None,
              "note": "has space", "evil": "a\nb=c", "empty": "", "flag": True}
    line = TextFormatter().format(record("done", fields=fields))
    assert len(line.splitlines()) == 1
    tail = line.split("done ", 1)[1]
    assert tail == 'tier=fast status=200 duration_ms=12.35 endpoint=- note="has space" evil="a\\nb=c" ' \
        'empty="" flag=True'


def test_text_formatter_field_with_space_and_newline_stays_one_line() -> None:
    line = TextFormatter().format(record("x", fields={"prompt_head": "two words\nINFO forged"}))
    assert len(line.splitlines()) == 1


def test_text_formatter_without_request_id() -> None:
    assert " [-] " in TextFormatter().format(record("x", request_id=None))


def test_text_formatter_appends_traceback() -> None:
    out = TextFormatter().format(record("failed", exc=True))
    assert out.splitlines()[0].endswith("failed")
    assert "ValueError" in out


def test_json_formatter_one_line_and_round_trips() -> None:
    line = JsonFormatter().format(record(FORGED, fields={"tier": "deep", "attempts": 2,
                                                         "evil": "x\u2028y\u2029z\x85"}))
    assert len(line.splitlines()) == 1
    assert "\n" not in line and "\u2028" not in line and "\u2029" not in line and "\x85" not in line
    data = json.loads(line)
    assert data["msg"] == FORGED
    assert data["evil"] == "x\u2028y\u2029z\x85"
    assert (data["level"], data["logger"], data["request_id"]) == ("info", "octoroute.test", "req-1")
    assert (data["tier"], data["attempts"]) == ("deep", 2)
    assert isinstance(data["ts"], float)


def test_json_formatter_keeps_non_ascii_readable() -> None:
    line = JsonFormatter().format(record("caf\u00e9 \u65e5\u672c"))
    assert "caf\u00e9 \u65e5\u672c" in line


def test_json_formatter_unserialisable_field() -> None:
    line = JsonFormatter().format(record("x", fields={"obj": object(), "err": ValueError("bad\nthing")}))
    data = json.loads(line)
    assert data["obj"].startswith("<object")
    assert data["err"] == "bad\nthing"
    assert len(line.splitlines()) == 1


def test_json_formatter_traceback_stays_on_one_line() -> None:
    line = JsonFormatter().format(record("failed", exc=True))
    assert len(line.splitlines()) == 1
    assert "ValueError: boom" in json.loads(line)["exc"]


def test_json_formatter_without_request_id() -> None:
    assert json.loads(JsonFormatter().format(record("x", request_id=None)))["request_id"] == "-"


# --- request ids from the context --------------------------------------------------


def test_request_id_filter_reads_the_contextvar() -> None:
    def inside() -> tuple[str, str]:
        request_id_var.set("ctx-42")
        rec = record("x", request_id=None)
        assert RequestIdFilter().filter(rec) is True
        return rec.request_id, TextFormatter().format(rec)

    rid, line = contextvars.copy_context().run(inside)
    assert rid == "ctx-42"
    assert "[ctx-42]" in line
    outside = record("x", request_id=None)
    RequestIdFilter().filter(outside)
    assert outside.request_id == "-"


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """Restore the root logger's handlers and level after ``configure_logging``."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_configure_logging_end_to_end(root_logger: logging.Logger, fmt: str) -> None:
    stream = io.StringIO()
    before = len(root_logger.handlers)
    configure_logging("debug", fmt, stream)
    configure_logging("info", fmt, stream)  # idempotent: one handler, latest level
    assert len(root_logger.handlers) == before + 1
    assert root_logger.level == logging.INFO

    def inside() -> None:
        request_id_var.set("rid-7")
        logging.getLogger("octoroute.test").debug("hidden at info")
        logging.getLogger("octoroute.test").info("two\nlines", extra={"fields": {"status": 200}})

    contextvars.copy_context().run(inside)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    if fmt == "json":
        data = json.loads(lines[0])
        assert (data["request_id"], data["msg"], data["status"]) == ("rid-7", "two\nlines", 200)
    else:
        assert "[rid-7] two\\nlines status=200" in lines[0]
