"""Read a request body as JSON, with every failure a clear 4xx.

Accepts ``application/json`` (and ``+json`` types), no content type, and
curl's default ``application/x-www-form-urlencoded`` when the body is JSON,
because the seed README's own curl examples omit the header.
"""

from __future__ import annotations

import json
import math
from typing import Any

import falcon

from octoroute.errors import RequestError

FORM_TYPE = "application/x-www-form-urlencoded"
# Arrays and objects nested deeper than this are refused. json parses and encodes them by
# recursion, so a body just shallow enough to parse at the top of the stack could fail
# again, as a 500, when it is re-encoded for a backend further down the request's stack.
MAX_JSON_DEPTH = 100


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


def _read_text(req: falcon.Request, max_bytes: int) -> tuple[str, bool]:
    """The body's text and whether it came form-encoded; 4xx for what cannot be JSON."""
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
    return text, is_form


def _invalid(exc: ValueError, is_form: bool) -> RequestError:
    if is_form:
        return RequestError("form-encoded body is not JSON; send a JSON object with "
                            "Content-Type: application/json", status=415, code="unsupported_media_type")
    detail = str(exc).splitlines()[0][:200] if str(exc) else "parse error"
    return RequestError(f"request body is not valid JSON ({detail})", code="invalid_json")


def read_json(req: falcon.Request, max_bytes: int) -> Any:
    """Return the parsed JSON body or raise ``RequestError`` (400, 413 or 415)."""
    return _parse(*_read_text(req, max_bytes))


def _parse(text: str, is_form: bool) -> Any:
    try:
        data = _DECODER.decode(text)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise _invalid(exc, is_form) from None
    # Only a body with that many brackets at all can be that deep (two C-level counts).
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _deeper_than(data, MAX_JSON_DEPTH):
        raise _too_deep()
    return data


def _too_deep() -> RequestError:
    return RequestError(f"request body is nested too deeply (more than {MAX_JSON_DEPTH} levels of "
                        "arrays and objects); flatten it", code="invalid_json")


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels (a walk, not a recursion)."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, level = pending.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if level + 1 > limit:
                    return True
                pending.append((child, level + 1))
    return False
