"""Octoroute behind nginx, with the example config ``scripts/nginx-octoroute.conf``.

Needs Debian's nginx at ``/usr/sbin/nginx`` and ``openssl`` (CI installs
nginx with apt-get). The test runs nginx as its own child under a temporary
prefix, with the example config changed only where a test must: its listen
port, the upstream port and a throwaway certificate. Through nginx over TLS:
``/llm/chat`` answers, ``/llm/v1/chat/completions`` streams chunk by chunk
(each event reaches the client before the fake backend writes the next), and
with ``server.trusted_proxy`` Octoroute's access line names the real client,
which a client cannot spoof with its own ``X-Forwarded-For``.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import ssl
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from fakes import FakeBackend, SSEScript, delta_events, make_config
from faultkit import NGINX, NGINX_EXAMPLE, Nginx, free_port, self_signed_cert

CLIENT_TIMEOUT_S = 10.0  # seconds; per read through nginx
CLIENT_ADDRESS = "127.0.0.5"  # a loopback alias: not nginx's own address, so the log can tell them apart


@pytest.fixture
def backends(fake_backend: Callable[..., FakeBackend]) -> dict[str, FakeBackend]:
    return {name: fake_backend(name) for name in ("fast-1", "balanced-1", "deep-1")}


@pytest.fixture
def octoroute(backends: dict[str, FakeBackend], serve: Any) -> Any:
    return serve(make_config({"fast": [backends["fast-1"]], "balanced": [backends["balanced-1"]],
                              "deep": [backends["deep-1"]]}, server={"trusted_proxy": "127.0.0.1"}))


class Proxy:
    def __init__(self, url: str, port: int, cert: Path) -> None:
        self.url = url
        self.port = port
        self.cert = cert
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = str(cert)

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture
def proxy(octoroute: Any) -> Iterator[Proxy]:
    if not Path(NGINX).exists() and not os.environ.get("CI"):
        pytest.skip(f"{NGINX} is missing: apt-get install -y nginx (.ci/run does)")
    assert Path(NGINX).exists(), f"{NGINX} is missing in CI: .ci/run installs it"
    # Workers run as an unprivileged user when we are root: the prefix must be reachable.
    prefix = Path(tempfile.mkdtemp(prefix="octoroute-nginx-"))
    prefix.chmod(0o755)
    cert, key = self_signed_cert(prefix)
    port = free_port()
    nginx = Nginx(prefix, {
        "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
        "server 127.0.0.1:3000;": f"server 127.0.0.1:{octoroute.server.port};",
        "/etc/ssl/certs/llm.example.lan.pem": str(cert),
        "/etc/ssl/private/llm.example.lan.key": str(key),
    })
    try:
        nginx.wait_listening(port)
        p = Proxy(f"https://127.0.0.1:{port}/llm", port, cert)
        yield p
        p.session.close()
    finally:
        nginx.stop()
        log_path = prefix / "error.log"
        error_log = log_path.read_text(errors="replace") if log_path.exists() else ""
        shutil.rmtree(prefix, ignore_errors=True)
        assert "[emerg]" not in error_log and "[alert]" not in error_log, error_log


def test_the_example_config_is_shipped_with_what_the_readme_promises() -> None:
    text = NGINX_EXAMPLE.read_text()
    for directive in ("location /llm/", "proxy_pass http://octoroute/;", "proxy_http_version 1.1;",
                      "proxy_buffering off;", "X-Forwarded-For $proxy_add_x_forwarded_for",
                      "X-Forwarded-Proto $scheme", "proxy_read_timeout 600s;", "listen 443 ssl;",
                      'trusted_proxy = "127.0.0.1"'):
        assert directive in text, directive


def test_chat_through_the_path_prefix(proxy: Proxy, backends: dict[str, FakeBackend]) -> None:
    resp = proxy.session.post(proxy.url + "/chat", json={"prompt": "hi there"}, timeout=CLIENT_TIMEOUT_S,
                              headers={"X-Request-ID": "via-nginx-1"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["endpoint"] == "fast-1" and body["response"] == "answer from fast-1"
    assert resp.headers["X-Request-ID"] == "via-nginx-1" and body["request_id"] == "via-nginx-1"
    assert len(backends["fast-1"].chats()) == 1
    assert proxy.session.get(proxy.url + "/health", timeout=CLIENT_TIMEOUT_S).text == "OK"
    models = proxy.session.get(proxy.url + "/v1/models", timeout=CLIENT_TIMEOUT_S).json()
    assert "auto" in [m["id"] for m in models["data"]]
    missing = proxy.session.get(proxy.url + "/nope", timeout=CLIENT_TIMEOUT_S)
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"  # Octoroute's


def test_openai_stream_passes_through_chunk_by_chunk(proxy: Proxy, backends: dict[str, FakeBackend]) -> None:
    words = ["Once", " upon", " a", " time"]
    script = SSEScript(delta_events(words))
    backends["fast-1"].enqueue(script.behaviour())
    script.release(0)  # Octoroute commits to a stream on its first body byte
    with proxy.session.post(proxy.url + "/v1/chat/completions", stream=True, timeout=CLIENT_TIMEOUT_S,
                            json={"model": "auto", "stream": True,
                                  "messages": [{"role": "user", "content": "hi there"}]}) as resp:
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        chunks = resp.iter_content(chunk_size=None)
        received = b""
        for k, word in enumerate(words):
            script.release(k)  # (chunk 0 already was)
            while json.dumps(word).encode() not in received:
                received += next(chunks)  # a stall here means nginx (or Octoroute) buffered it
            # Event k arrived while event k+1 was still held by the backend.
            assert script.written() == k + 1
        script.release_all()
        received += b"".join(chunks)
    events = [e for e in received.decode().split("\n\n") if e.strip()]
    assert events[-1] == "data: [DONE]"
    assert "".join(json.loads(e[6:])["choices"][0]["delta"]["content"] for e in events[:-1]) == "".join(words)


def https_from(proxy: Proxy, source: str, path: str, body: dict[str, Any],
               headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPSConnection("127.0.0.1", proxy.port, source_address=(source, 0),
                                       context=proxy.context(), timeout=CLIENT_TIMEOUT_S)
    conn.request("POST", "/llm" + path, body=json.dumps(body),
                 headers={"Content-Type": "application/json", **(headers or {})})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def test_access_log_names_the_forwarded_client_and_ignores_spoofing(proxy: Proxy, logwatch: Any) -> None:
    resp = https_from(proxy, CLIENT_ADDRESS, "/chat", {"prompt": "hi there"})
    assert resp.status == 200
    spoofed = https_from(proxy, "127.0.0.6", "/chat", {"prompt": "hi there"},
                         headers={"X-Forwarded-For": "6.6.6.6"})
    assert spoofed.status == 200
    lines = [f for f in logwatch.fields("request", count=2) if f["path"] == "/chat"]
    assert [f["client"] for f in lines] == [CLIENT_ADDRESS, "127.0.0.6"], lines
