"""``/dashboard`` in a real browser: Debian's headless Chromium against a live Octoroute.

A live server (waitress, fake backends) serves a few dozen routed requests
to every tier, one endpoint goes down; then Chromium loads the page, lets it
poll (``--virtual-time-budget``) and dumps the DOM it rendered. The figures in
that DOM must be the ones ``/stats`` reports; the page must log nothing to
the console (a CSP violation or a script error would be logged), record no
error of its own, and make no request but ``/dashboard``, ``/stats`` and
``/stats/decisions`` to the server (every request the server received is
recorded from its access log; outside names do not even resolve for this
browser, and the CSP forbids other origins). Screenshots, wide and phone-wide,
are saved under the test's ``tmp_path`` and their paths printed.

With API keys the page loads but shows its key prompt and no figure; with
the key (handed over in the fragment) it shows them. Behind the example
nginx config, under ``/llm/``, the page finds ``/llm/stats`` from
``/llm/dashboard`` and from ``/llm/dashboard/`` alike.

Skips where Chromium is absent; in CI (``.ci/run`` installs it) it must be there.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fakes import FakeBackend, delta_events, endpoint, make_config, refused_url, sse_event, stream
from faultkit import NGINX, Nginx, free_port, self_signed_cert

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_TIMEOUT_S = 120.0  # seconds; one headless run on a busy shared machine
BUDGET_MS = 8000  # virtual milliseconds the page runs: the first load and at least one more poll
KEYS_ENV = "OCTOROUTE_TEST_DASHBOARD_KEYS"
KEY = "sk-dash-7d1c"
STREAMS_PER_TIER = 2
PAGE_PATHS = {"/dashboard", "/stats", "/stats/decisions"}  # all the page may ask the server for
# The flags the machine notes give for a headless Chromium without a desktop session.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
         # Any name but the loopback address fails to resolve: nothing leaves the machine.
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
TRAFFIC = [  # prompt, extra /chat fields, the tier the default rules pick
    ("hi there", {}, "fast"),
    ("fix this loop for me", {"task_type": "code"}, "balanced"),
    ("Prove that there are infinitely many primes", {}, "deep"),
    ("Tell me about tides", {"importance": "high", "task_type": "question_answer"}, "deep"),
]


# --- the browser ------------------------------------------------------------

class Node:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[Node | str] = []

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def walk(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.walk()


class Dom(HTMLParser):
    """The serialized DOM Chromium dumps, as a tree to query by id and attribute."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self._stack = [self.root]
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self._stack[-1].children.append(node)
        if tag not in VOID:
            self._stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, 0, -1):
            if self._stack[i].tag == tag:
                del self._stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(data)

    def by_id(self, ident: str) -> Node:
        found = [n for n in self.root.walk() if n.attrs.get("id") == ident]
        assert len(found) == 1, f"#{ident}: {len(found)} elements"
        return found[0]

    def having(self, attr: str, under: Node | None = None) -> list[Node]:
        return [n for n in (under or self.root).walk() if attr in n.attrs]


class Chromium:
    """Headless runs of Debian's Chromium, each with a fresh profile under ``tmp_path``."""

    def __init__(self, tmp_path: Path, *extra: str) -> None:
        self.tmp_path = tmp_path
        self.extra = extra
        self.runs = 0
        self.console: list[str] = []

    def run(self, url: str, *args: str) -> str:
        self.runs += 1
        profile = self.tmp_path / f"profile-{self.runs}"
        done = subprocess.run([CHROMIUM, *FLAGS, *self.extra, f"--user-data-dir={profile}", *args, url],
                              capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S)
        assert done.returncode == 0, f"chromium exited {done.returncode}:\n{done.stderr[-3000:]}"
        self.console += [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
        return done.stdout

    def dom(self, url: str) -> Dom:
        return Dom(self.run(url, f"--virtual-time-budget={BUDGET_MS}", "--dump-dom"))

    def screenshot(self, url: str, name: str, width: int, height: int) -> Path:
        path = self.tmp_path / name
        self.run(url, f"--virtual-time-budget={BUDGET_MS}", f"--window-size={width},{height}",
                 f"--screenshot={path}")
        assert path.stat().st_size > 10_000, f"{path} looks empty"
        print(f"dashboard screenshot: {path}")
        return path


@pytest.fixture
def chromium(tmp_path: Path) -> Chromium:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    return Chromium(tmp_path)


class Access(logging.Handler):
    """Every request the server received, from its access log (DEBUG lines included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, str, int]] = []
        self.levels: dict[str, set[int]] = {}  # path -> the levels its lines were logged at

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "fields", {})
        path = fields.get("path", "?")
        self.seen.append((fields.get("method", "?"), path, fields.get("status", 0)))
        self.levels.setdefault(path, set()).add(record.levelno)

    def clear(self) -> None:
        self.seen.clear()
        self.levels.clear()


@pytest.fixture
def access() -> Iterator[Access]:
    logger = logging.getLogger("octoroute.access")
    handler, old = Access(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old)


# --- a server with traffic ---------------------------------------------------

@pytest.fixture
def backends(fake_backend: Callable[..., FakeBackend]) -> dict[str, FakeBackend]:
    return {name: fake_backend(name) for name in ("fast-1", "balanced-1", "deep-1")}


def busy_server(serve: Callable[..., Any], backends: dict[str, FakeBackend], **config: Any) -> Any:
    """A live Octoroute after a few dozen routed requests; its second fast endpoint is down."""
    fast_2 = endpoint(refused_url(), id="fast-2", name="fast-2-model")
    live = serve(make_config({"fast": [backends["fast-1"], fast_2], "balanced": [backends["balanced-1"]],
                              "deep": [backends["deep-1"]]}, **config), rng=random.Random(17))
    headers = {"Authorization": f"Bearer {KEY}"}
    for round_ in range(9):
        for prompt, fields, tier in TRAFFIC:
            resp = live.chat(f"{prompt} ({round_})" if tier != "fast" else prompt, headers=headers, **fields)
            assert resp.status_code == 200, resp.text
            assert resp.json()["tier"] == tier
    for _ in range(3):  # the refused endpoint fails its probes and is marked down
        live.runtime.health.check_once(force=True)
    usage = sse_event({"id": "chatcmpl-stream", "object": "chat.completion.chunk", "choices": [],
                       "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}})
    for tier, name in (("fast", "fast-1"), ("balanced", "balanced-1"), ("deep", "deep-1")):
        for _ in range(STREAMS_PER_TIER):  # streams, so each tier has a time to first token
            backends[name].enqueue(stream([*delta_events(["Once", " upon"]), usage]))
            resp = live.post("/v1/chat/completions", headers=headers, stream=True, json={
                "model": tier, "stream": True, "messages": [{"role": "user", "content": "a story"}]})
            assert resp.status_code == 200 and b"[DONE]" in resp.content, resp.text
    live.settle()
    return live


def truth(live: Any, headers: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    stats = live.get("/stats", headers=headers)
    decisions = live.get("/stats/decisions?limit=25", headers=headers)
    assert stats.status_code == 200 and decisions.status_code == 200, (stats.text, decisions.text)
    live.settle()  # their access lines are written after the responses: before the browser's
    return stats.json(), decisions.json()


def assert_renders(dom: Dom, stats: dict[str, Any], decisions: dict[str, Any]) -> None:
    """The DOM shows the figures of ``stats`` (the page's default window, the last hour)."""
    app = dom.by_id("app")
    assert app.attrs["data-state"] == "ok" and app.attrs["data-window"] == "hour", app.attrs
    hour = stats["windows"]["hour"]
    assert hour["requests"] >= 36 + 3 * STREAMS_PER_TIER
    assert dom.by_id("requests").attrs["data-value"] == str(hour["requests"])
    legend = {n.attrs["data-tier"]: int(n.attrs["data-value"])
              for n in dom.having("data-tier", dom.by_id("mix-legend"))}
    assert legend == {t: hour["by_tier"][t]["requests"] for t in ("fast", "balanced", "deep")}
    assert all(legend.values()), "traffic reached every tier"
    for row in dom.having("data-tier", dom.by_id("tiers")):
        cells = [c.text for c in row.walk() if c.tag == "td"]
        by_tier = hour["by_tier"][row.attrs["data-tier"]]
        assert cells[1] == str(by_tier["requests"])
        assert by_tier["ttft_ms"]["p50"] is not None and cells[5].endswith(" ms"), (cells, by_tier)
    # The tier mix chart has one bar segment per tier in the minute that had traffic.
    bars = [n for n in dom.by_id("mix").walk() if n.tag == "rect" and n.attrs.get("class") in legend]
    assert {b.attrs["class"] for b in bars} == {"fast", "balanced", "deep"}
    saved = dom.by_id("saved")
    assert hour["saved_ratio"] is not None and 0 < hour["saved_ratio"] < 1
    assert float(saved.attrs["data-value"]) == pytest.approx(hour["saved_ratio"], rel=1e-12)
    assert saved.text.endswith("%")
    assert float(saved.text[:-1]) == pytest.approx(100 * hour["saved_ratio"], abs=0.5)
    assert float(dom.by_id("compute").attrs["data-value"]) == pytest.approx(hour["compute_units"], rel=1e-12)
    rows = {n.attrs["data-endpoint"]: n.attrs["data-healthy"]
            for n in dom.having("data-endpoint", dom.by_id("health"))}
    assert rows == {h["id"]: str(h["healthy"]).lower() for h in stats["health"]}
    assert rows["fast-2"] == "false" and rows["fast-1"] == "true"
    # Its health timeline turns from up to down; the others stay up.
    segments = {n.attrs["data-endpoint"]: [r.attrs["class"] for r in n.walk() if r.tag == "rect"][1:]
                for n in dom.having("data-endpoint", dom.by_id("health"))}
    assert segments["fast-2"] == ["up", "down"] and segments["fast-1"] == ["up"], segments
    fallbacks = {n.attrs["data-reason"]: int(n.attrs["data-value"])
                 for n in dom.having("data-reason", dom.by_id("fallbacks"))}
    assert fallbacks == hour["fallbacks"]
    shown = [n.attrs["data-request-id"] for n in dom.having("data-request-id", dom.by_id("decisions"))]
    assert shown == [d["request_id"] for d in decisions["decisions"][:25]] and shown
    assert dom.by_id("page-errors").children == [], dom.by_id("page-errors").text


# --- the tests ---------------------------------------------------------------

def test_renders_the_real_stats_with_no_error_and_no_outside_request(
        backends: dict[str, FakeBackend], serve: Callable[..., Any], chromium: Chromium, access: Access,
        tmp_path: Path) -> None:
    live = busy_server(serve, backends, observability={"keep_prompts": True})
    stats, decisions = truth(live)
    access.clear()
    dom = chromium.dom(live.url + "/dashboard")
    assert_renders(dom, stats, decisions)
    # Kept prompts are in /stats/decisions, never on the page.
    assert any("prompt" in d for d in decisions["decisions"])
    assert "infinitely many primes" not in dom.root.text
    chromium.screenshot(live.url + "/dashboard", "dashboard-wide.png", 1280, 1800)
    chromium.screenshot(live.url + "/dashboard", "dashboard-phone.png", 390, 2600)
    live.settle()
    assert chromium.console == [], "\n".join(chromium.console)
    assert {path for _, path, _ in access.seen} == PAGE_PATHS, access.seen
    assert all(method == "GET" and status == 200 for method, _, status in access.seen), access.seen
    polls = sum(1 for _, path, _ in access.seen if path == "/stats")
    assert polls >= 3 * 2, f"each of 3 loads polls at least twice in {BUDGET_MS} ms: {polls}"
    # Polls log at DEBUG (an open tab would write a line every few seconds); page loads at INFO.
    assert access.levels == {"/dashboard": {logging.INFO}, "/stats": {logging.DEBUG},
                             "/stats/decisions": {logging.DEBUG}}


def test_with_api_keys_the_page_asks_for_the_key_and_shows_nothing_without_it(
        backends: dict[str, FakeBackend], serve: Callable[..., Any], chromium: Chromium,
        access: Access) -> None:
    live = busy_server(serve, backends, server={"api_keys_env": KEYS_ENV}, env={KEYS_ENV: KEY})
    stats, decisions = truth(live, {"Authorization": f"Bearer {KEY}"})
    access.clear()

    dom = chromium.dom(live.url + "/dashboard")
    assert dom.by_id("app").attrs["data-state"] == "locked"
    assert "hidden" not in dom.by_id("lock").attrs
    assert dom.by_id("requests").attrs["data-value"] == "" and dom.by_id("requests").text == "\N{EN DASH}"
    assert dom.having("data-request-id") == [] and dom.having("data-endpoint") == []
    live.settle()
    # It asked once, was refused, and waits for a key instead of polling on.
    assert sorted((p, s) for _, p, s in access.seen) == [("/dashboard", 200), ("/stats", 401),
                                                         ("/stats/decisions", 401)], access.seen

    refused = chromium.dom(live.url + "/dashboard#key=sk-wrong")
    assert refused.by_id("app").attrs["data-state"] == "locked"
    assert refused.by_id("lock-msg").text == "That key was refused."

    access.clear()
    unlocked = chromium.dom(live.url + f"/dashboard#key={KEY}")
    assert_renders(unlocked, stats, decisions)
    assert "hidden" in unlocked.by_id("lock").attrs
    live.settle()
    assert {(p, s) for _, p, s in access.seen} == {("/dashboard", 200), ("/stats", 200),
                                                   ("/stats/decisions", 200)}
    assert chromium.console == [], "\n".join(chromium.console)


def test_behind_nginx_under_a_prefix_with_and_without_the_trailing_slash(
        backends: dict[str, FakeBackend], serve: Callable[..., Any], tmp_path: Path, access: Access) -> None:
    if not Path(NGINX).exists() and not os.environ.get("CI"):
        pytest.skip(f"{NGINX} is missing: apt-get install -y nginx (.ci/run does)")
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    live = busy_server(serve, backends)
    stats, decisions = truth(live)
    prefix = Path(tempfile.mkdtemp(prefix="octoroute-nginx-"))
    prefix.chmod(0o755)  # nginx workers run unprivileged when we are root
    cert, key = self_signed_cert(prefix)
    port = free_port()
    nginx = Nginx(prefix, {
        "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
        "server 127.0.0.1:3000;": f"server 127.0.0.1:{live.server.port};",
        "/etc/ssl/certs/llm.example.lan.pem": str(cert),
        "/etc/ssl/private/llm.example.lan.key": str(key),
    })
    browser = Chromium(tmp_path, "--ignore-certificate-errors")
    try:
        nginx.wait_listening(port)
        access.clear()
        for path in ("/llm/dashboard", "/llm/dashboard/"):
            assert_renders(browser.dom(f"https://127.0.0.1:{port}{path}"), stats, decisions)
    finally:
        nginx.stop()
        shutil.rmtree(prefix, ignore_errors=True)
    live.settle()
    assert {p for _, p, _ in access.seen} == PAGE_PATHS, access.seen
    assert browser.console == [], "\n".join(browser.console)
