"""``GET /dashboard``: one small self-contained page, its headers, its place behind the API key.

How it renders real data is tests/integration/test_dashboard_browser.py's job
(headless Chromium against a live server); here, what can be read without a
browser: size, no outside reference, the Content-Security-Policy matching the
page's inline script and style, auth, and that ``pip install .`` ships it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from falcon import testing
from octoroute.api.dashboard import DashboardResource, content_security_policy, load_page

from fakes import make_config

REPO = Path(__file__).resolve().parents[2]
PAGE_LIMIT_BYTES = 60 * 1024  # issue 17: the page is under 60 KB
KEYS_ENV = "OCTOROUTE_TEST_KEYS"


class Inline(HTMLParser):
    """The page's inline scripts and styles, and every attribute that could load something."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: str | None = None
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.sources: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.handlers: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        for name, value in attrs:
            if name in {"src", "href", "action", "data", "poster", "srcset", "xlink:href"}:
                self.sources.append((tag, name, value or ""))
            if name.startswith("on") or name == "style":
                self.handlers.append(f"{tag} {name}")
        if tag in {"script", "style"}:
            self.open = tag
            (self.scripts if tag == "script" else self.styles).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self.open:
            self.open = None

    def handle_data(self, data: str) -> None:
        if self.open == "script":
            self.scripts[-1] += data
        elif self.open == "style":
            self.styles[-1] += data


def parsed() -> Inline:
    parser = Inline()
    parser.feed(load_page().decode("utf-8"))
    return parser


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


@pytest.fixture
def client(trio: Any, runtime_factory: Any) -> testing.TestClient:
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]})
    return testing.TestClient(runtime_factory(config).app)


@pytest.fixture
def locked(trio: Any, runtime_factory: Any) -> testing.TestClient:
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                         server={"api_keys_env": KEYS_ENV}, env={KEYS_ENV: "k-one,k-two"})
    return testing.TestClient(runtime_factory(config).app)


def test_the_page_is_small_and_phone_ready() -> None:
    page = load_page()
    assert len(page) < PAGE_LIMIT_BYTES, f"{len(page)} bytes"
    tags = parsed().tags
    assert ("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}) in tags
    assert ("meta", {"charset": "utf-8"}) in tags


def test_the_page_refers_to_no_other_origin() -> None:
    text = load_page().decode("utf-8")
    assert not re.search(r"(?i)https?:|wss?:|ftp:", text), "an absolute URL in the page"
    assert not re.search(r"""["'(]//""", text), "a protocol-relative URL in the page"
    page = parsed()
    assert not re.search(r"(?i)@import|url\(", page.styles[0]), "CSS that loads something"
    # The only thing the markup loads is the empty data: favicon (which spares a /favicon.ico request).
    assert page.sources == [("link", "href", "data:,")]
    assert page.handlers == [], "inline handlers and style attributes are blocked by the CSP"
    assert len(page.scripts) == 1 and len(page.styles) == 1
    assert all("src" not in attrs for tag, attrs in page.tags if tag == "script")


def test_the_script_reads_the_stats_next_to_the_page() -> None:
    script = parsed().scripts[0]
    # Relative names resolved against the page's directory: works under any proxy prefix.
    assert "get('stats')" in script and "get('stats/decisions?limit=' + DECISIONS)" in script
    assert "fetch(api(rel)" in script
    assert not re.search(r"""fetch\(\s*['"]/""", script), "an absolute path breaks behind a prefix"


def test_csp_allows_exactly_the_inline_script_and_style_by_hash(client: testing.TestClient) -> None:
    result = client.simulate_get("/dashboard")
    assert result.status_code == 200
    assert result.headers["Content-Type"] == "text/html; charset=utf-8"
    assert result.content == load_page()
    policy = dict(d.strip().split(" ", 1) for d in result.headers["Content-Security-Policy"].split(";"))
    page = parsed()
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == sha256_source(page.scripts[0])
    assert policy["style-src"] == sha256_source(page.styles[0])
    assert policy["connect-src"] == "'self'"
    assert policy["img-src"] == "data:"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert "unsafe" not in result.headers["Content-Security-Policy"]
    assert result.headers["X-Content-Type-Options"] == "nosniff"
    assert result.headers["Referrer-Policy"] == "no-referrer"


def test_a_browser_revalidates_with_the_etag(client: testing.TestClient) -> None:
    first = client.simulate_get("/dashboard")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.simulate_get("/dashboard", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    stale = client.simulate_get("/dashboard", headers={"If-None-Match": '"0123"'})
    assert stale.status_code == 200 and stale.content == load_page()


def test_a_changed_page_gets_a_changed_policy() -> None:
    edited = load_page().replace(b"'use strict';", b"'use strict'; var edited = 1;")
    assert content_security_policy(edited) != content_security_policy(load_page())
    assert DashboardResource(edited) is not None


def test_trailing_slash_and_head(client: testing.TestClient) -> None:
    assert client.simulate_get("/dashboard/").content == load_page()
    head = client.simulate_head("/dashboard")
    assert head.status_code == 200 and head.content == b""
    assert "Content-Security-Policy" in head.headers


def test_with_keys_the_page_is_open_but_its_data_is_not(locked: testing.TestClient) -> None:
    page = locked.simulate_get("/dashboard")
    assert page.status_code == 200 and page.content == load_page()  # no data, no secret in it
    for path in ("/stats", "/stats/decisions", "/models"):
        refused = locked.simulate_get(path)
        assert refused.status_code == 401, path
        wrong = locked.simulate_get(path, headers={"Authorization": "Bearer k-three"})
        assert wrong.status_code == 401, path
        allowed = locked.simulate_get(path, headers={"Authorization": "Bearer k-two"})
        assert allowed.status_code == 200, (path, allowed.text)


def test_the_page_is_package_data(tmp_path: Path) -> None:
    """``pip install .`` ships the page: setuptools' build_py copies it with the code."""
    pytest.importorskip("setuptools")
    done = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py",
                           "--build-lib", str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "octoroute" / "api" / "dashboard.html").read_bytes() == load_page()
