"""Read a request body as JSON, with every failure a clear 4xx.

Accepts ``application/json`` (and ``+json`` types), no content type, and
curl's default ``application/x-www-form-urlencoded`` when the body is JSON,
because the seed README's own curl examples omit the header.
"""

from __future__ import annotations

import json
import math
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, NamedTuple, TypeVar

import falcon

from octoroute.errors import RequestError

FORM_TYPE = "application/x-www-form-urlencoded"
_T = TypeVar("_T", str, bytes)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every request: ``json.loads`` with any hook argument builds
# a new ``JSONDecoder`` per call (a few percent of a proxied request's Python).
_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constants)


class Source(NamedTuple):
    """The text a JSON object was parsed from and where each top-level value lies in it.

    A proxy should pass the client's bytes on, not re-encode them: for the
    few fields Octoroute changes (``model``, a capped ``max_tokens``),
    ``splice`` copies the body around the new values instead of running
    ``json.dumps`` over the whole conversation for every attempt.
    """

    whole: bytes | str  # the request's bytes when they are ASCII UTF-8 (offsets agree), else its text
    brace: int  # offset of the object's opening brace
    spans: dict[str, tuple[int, int]]  # top-level key -> (start, end) of its value

    def splice(self, values: dict[str, str]) -> bytes | None:
        """The body with these top-level keys set to these JSON texts (ASCII), or ``None``
        when it cannot be done byte-faithfully (the caller then encodes the object)."""
        spans, whole = self.spans, self.whole
        edits = [(spans[key], text) for key, text in values.items() if key in spans]
        if len(edits) > 1:
            edits.sort()
        if len(edits) < len(values):  # added first, right after the opening brace
            added = ",".join(f"{json.dumps(key)}:{text}" for key, text in values.items() if key not in spans)
            edits.insert(0, ((self.brace + 1, self.brace + 1), added + ("," if spans else "")))
        if isinstance(whole, bytes):
            return _joined(whole, [(span, text.encode()) for span, text in edits])
        try:
            return _joined(whole, edits).encode()
        except UnicodeEncodeError:  # a lone surrogate: only json.dumps's escapes can carry it
            return None


def _joined(whole: _T, edits: list[tuple[tuple[int, int], _T]]) -> _T:
    """``whole`` (str or bytes) with each (start, end) span, in order, replaced by its text."""
    parts: list[_T] = []
    at = 0
    for (start, end), text in edits:
        parts += (whole[at:start], text)
        at = end
    parts.append(whole[at:])
    return whole[:0].join(parts)


_WS = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as json.decoder skips it
_BLANK = " \t\n\r"
# The decoder's C scanner itself: ``raw_decode`` only wraps it (StopIteration -> JSONDecodeError)
# and that wrapper cost more than scanning a short value.
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]


def _object_with_source(text: str, brace: int) -> tuple[dict[str, Any], dict[str, tuple[int, int]] | None]:
    """Parse the object at ``brace`` one top-level value at a time (each by json's C scanner),
    noting where each value lies. Raises ``ValueError`` on anything ``json`` would reject
    (the caller then lets ``json`` raise its own message). ``None`` spans: a key repeats."""
    obj: dict[str, Any] = {}
    spans: dict[str, tuple[int, int]] = {}
    repeated = False
    at = brace + 1
    if text[at:at + 1] in _BLANK:  # whitespace (or the end: the checks below then fail)
        at = _WS.match(text, at).end()  # type: ignore[union-attr]
    if text.startswith("}", at):
        at += 1
    else:
        while True:
            if not text.startswith('"', at):
                raise ValueError("expected a key")
            key, at = scanstring(text, at + 1)
            if not text.startswith(":", at):
                at = _WS.match(text, at).end()  # type: ignore[union-attr]
                if not text.startswith(":", at):
                    raise ValueError("expected ':'")
            at += 1
            if text[at:at + 1] in _BLANK:
                at = _WS.match(text, at).end()  # type: ignore[union-attr]
            try:
                value, end = _SCAN(text, at)
            except StopIteration:
                raise ValueError("expected a value") from None
            if key in obj:
                repeated = True
            obj[key] = value
            spans[key] = (at, end)
            sep = text[end:end + 1]
            if sep in _BLANK:
                end = _WS.match(text, end).end()  # type: ignore[union-attr]
                sep = text[end:end + 1]
            at = end + 1
            if sep == "}":
                break
            if sep != ",":
                raise ValueError("expected ',' or '}'")
            if text[at:at + 1] in _BLANK:
                at = _WS.match(text, at).end()  # type: ignore[union-attr]
    if at != len(text) and _WS.match(text, at).end() != len(text):  # type: ignore[union-attr]
        raise ValueError("extra data")
    return obj, None if repeated else spans


def _read_text(req: falcon.Request, max_bytes: int) -> tuple[bytes | None, str, bool]:
    """The body's text, its bytes when they are ASCII UTF-8 (each character one byte), and
    whether it came form-encoded; 4xx for what cannot be JSON."""
    ctype = (req.content_type or "").split(";", 1)[0].strip().lower()
    is_form = ctype == FORM_TYPE
    if ctype and not (is_form or ctype == "application/json" or ctype.endswith("+json")):
        raise RequestError(f"unsupported Content-Type {ctype[:100]!r}; send application/json",
                           status=415, code="unsupported_media_type")
    length = req.content_length
    if length is not None and length > max_bytes:
        raise RequestError(f"request body is {length} bytes; the limit is {max_bytes} "
                           "(server.max_body_bytes)", status=413, code="body_too_large")
    raw = req.bounded_stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise RequestError(f"request body exceeds the limit of {max_bytes} bytes "
                           "(server.max_body_bytes)", status=413, code="body_too_large")
    if not raw.strip():
        raise RequestError("request body is empty; send a JSON object", code="invalid_json")
    # as json.loads decodes bytes: UTF-8, -16 or -32 by the first bytes
    encoding = json.detect_encoding(raw)
    try:
        text = raw.decode(encoding, "surrogatepass")
    except UnicodeDecodeError as exc:
        raise _invalid(exc, is_form) from None
    return raw if encoding == "utf-8" and raw.isascii() else None, text, is_form


def _invalid(exc: ValueError, is_form: bool) -> RequestError:
    if is_form:
        return RequestError("form-encoded body is not JSON; send a JSON object with "
                            "Content-Type: application/json", status=415, code="unsupported_media_type")
    detail = str(exc).splitlines()[0][:200] if str(exc) else "parse error"
    return RequestError(f"request body is not valid JSON ({detail})", code="invalid_json")


def read_json(req: falcon.Request, max_bytes: int) -> Any:
    """Return the parsed JSON body or raise ``RequestError`` (400, 413 or 415)."""
    return _parse(*_read_text(req, max_bytes), with_source=False)[0]


def read_json_source(req: falcon.Request, max_bytes: int) -> tuple[Any, Source | None]:
    """``read_json``, plus the ``Source`` of a JSON object body (``None`` for anything else, or
    an object with a repeated top-level key)."""
    return _parse(*_read_text(req, max_bytes), with_source=True)


def _parse(raw: bytes | None, text: str, is_form: bool, *, with_source: bool) -> tuple[Any, Source | None]:
    try:
        if with_source:  # the slower walk over the top-level values only where a body is forwarded
            brace = _WS.match(text).end()  # type: ignore[union-attr]
            if text.startswith("{", brace):
                try:
                    obj, spans = _object_with_source(text, brace)
                except ValueError:
                    pass  # not valid JSON: json's own decoder below says where and why
                else:
                    return obj, None if spans is None else Source(text if raw is None else raw, brace, spans)
        return _DECODER.decode(text), None
    except RecursionError:
        raise RequestError("request body is nested too deeply", code="invalid_json") from None
    except ValueError as exc:
        raise _invalid(exc, is_form) from None
