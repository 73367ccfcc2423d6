"""Every body over ``server.max_body_bytes`` gets Octoroute's JSON 413, not waitress's plain text.

waitress answers a body above its own limit itself, before the app runs; that
limit sits far above ours (``server.WAITRESS_BODY_FACTOR``), so the sizes a
client plausibly sends by mistake (just over, one and a half times, ten times
the limit) all reach our reader. Through a real waitress socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fakes import make_config

MiB = 1024 * 1024
LIMIT = 2 * MiB  # the default server.max_body_bytes


def body_of(size: int) -> bytes:
    head, tail = b'{"prompt": "', b'"}'
    return head + b"p" * (size - len(head) - len(tail)) + tail


def chunks_of(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.mark.parametrize("size", [LIMIT + 1, int(3.5 * MiB), 20 * MiB])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/chat", "/v1/chat/completions"])
def test_an_oversize_body_gets_the_json_413(size: int, framing: str, path: str, trio: Any,
                                            serve: Any) -> None:
    live = serve(make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                             server={"max_body_bytes": LIMIT}))
    data = body_of(size)
    resp = live.post(path, data=data if framing == "content-length" else chunks_of(data),
                     headers={"Content-Type": "application/json"})
    assert resp.status_code == 413, resp.text[:300]
    assert resp.headers["Content-Type"].startswith("application/json")
    error = resp.json()["error"]
    assert error["code"] == "body_too_large" and str(LIMIT) in error["message"]
    assert "server.max_body_bytes" in error["message"]
    assert error["request_id"] == resp.headers["X-Request-ID"]
    assert not trio.fast.chats() and not trio.balanced.chats() and not trio.deep.chats()
