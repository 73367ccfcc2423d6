#!/usr/bin/env python3
"""Soak Octoroute under a steady load with random backend faults, and account for everything.

    python scripts/soak.py                 # 10 minutes
    python scripts/soak.py --seconds 60    # a short run
    python scripts/soak.py --minutes 30 --clients 12 --seed 7

Starts six fake OpenAI-compatible backends (two per tier) in this process,
each injecting faults drawn from a seeded RNG — HTTP 5xx, 429 (with and
without Retry-After), slow answers, answers slower than the attempt timeout,
dropped connections, truncated bodies and streams cut mid-way — and an
``octoroute serve`` child in front of them. Client threads send a steady mix
of ``/chat``, ``/v1/chat/completions`` and streamed completions, each with a
unique token in its prompt so every backend exchange can be traced back to
the request that caused it.

Every request is accounted for: it succeeded, or failed with a reason, and
each failure is checked against what the fakes injected for that very
request. A 502/504 (or 503, or 429 for rate limits) is expected only when
every endpoint Octoroute tried for it had a fault injected; anything else is
an unexpected error. Octoroute's own ``octoroute_http_responses_total`` must
agree with the client's count. RSS and thread count of the Octoroute process
are sampled every few seconds. A markdown report is printed at the end.

Exit status: 0 when all is well; 1 on an unexpected error, an unaccounted
request, a server/client count mismatch, or RSS/thread growth beyond the
thresholds (measured from the end of the warm-up); 2 if Octoroute would not
start or stop cleanly.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

TOKEN = re.compile(r"\[soak-(\d+)\]")
TIERS = ("fast", "balanced", "deep")
ATTEMPT_TIMEOUT_S = 2.0  # seconds; one attempt on any tier
REQUEST_TIMEOUT_S = 8.0  # seconds; Octoroute's overall deadline per request
CLIENT_TIMEOUT_S = 30.0  # seconds; a client gives up (and counts an unexpected error) after this
SAMPLE_EVERY_S = 3.0  # seconds between RSS/thread samples
PROMPTS = (  # the rule table spreads these over the three tiers
    "hi there {t}",
    "thanks! {t}",
    "Write a short poem about the sea {t}",
    "Fix this python bug: def f(x): return x +* 1 {t}",
    "What is the capital of France? {t}",
    "Compare Raft and Paxos, with the trade-offs {t}",
)
# Fault mix for chat requests (the rest answer normally, quickly).
FAULTS = (
    ("slow", 0.07),  # answers, after 0.3-1.2 s
    ("too_slow", 0.03),  # answers after the attempt timeout: a timeout
    ("http_500", 0.02), ("http_502", 0.02), ("http_503", 0.02),
    ("rate_limited", 0.01),  # 429 with Retry-After: 1
    ("rate_limited_bare", 0.002),  # 429 without Retry-After (5 s default cool-down)
    ("drop", 0.03),  # closes the connection without answering
    ("truncated", 0.02),  # non-streamed: half a body; streamed: cut after two events
)


# --- fake backends -----------------------------------------------------------------

@dataclass
class Ledger:
    """What every fake did for every soak token: token -> [(endpoint, kind, fault)]."""

    lock: threading.Lock = field(default_factory=threading.Lock)  # guards seen
    seen: dict[int, list[tuple[str, str, str]]] = field(default_factory=lambda: collections.defaultdict(list))

    def record(self, token: int | None, endpoint: str, kind: str, fault: str) -> None:
        if token is None:
            return
        with self.lock:
            self.seen[token].append((endpoint, kind, fault))

    def chat_faults(self, token: int) -> dict[str, list[str]]:
        with self.lock:
            out: dict[str, list[str]] = collections.defaultdict(list)
            for endpoint, kind, fault in self.seen.get(token, []):
                if kind == "chat":
                    out[endpoint].append(fault)
            return out


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._send(200, {"object": "list", "data": [{"id": self.server.name, "object": "model"}]})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        text = json.dumps(body.get("messages", ""))
        match = TOKEN.search(text)
        token = int(match.group(1)) if match else None
        is_brain = all(w in text for w in ("FAST", "BALANCED", "DEEP"))
        fault = self.server.draw()
        self.server.ledger.record(token, self.server.name, "brain" if is_brain else "chat", fault)
        stream = body.get("stream") is True and not is_brain
        self._act(fault, stream, "BALANCED" if is_brain else f"answer from {self.server.name}")

    def _act(self, fault: str, stream: bool, text: str) -> None:
        rng = self.server.rng_for_delays
        if fault == "slow":
            time.sleep(rng.uniform(0.3, 1.2))
        elif fault == "too_slow":
            time.sleep(ATTEMPT_TIMEOUT_S + 1.0)
        elif fault.startswith("http_"):
            self._send(int(fault[5:]), {"error": {"message": "injected", "type": "server_error"}})
            return
        elif fault == "rate_limited":
            self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"})
            return
        elif fault == "rate_limited_bare":
            self._send(429, {"error": {"message": "slow down"}})
            return
        elif fault == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if stream:
            self._stream(text, cut=fault == "truncated")
            return
        payload = {"id": "chatcmpl-soak", "object": "chat.completion", "created": 0,
                   "model": self.server.name,
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}}
        if fault == "truncated":
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(200, payload)

    def _stream(self, text: str, *, cut: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        words = [*text.split(" "), "."]
        for k, word in enumerate(words):
            event = {"id": "chatcmpl-soak", "object": "chat.completion.chunk", "created": 0,
                     "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
            self._chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
            if cut and k == 1:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            time.sleep(0.005)
        self._chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str, seed: int, ledger: Ledger) -> None:
        super().__init__(("127.0.0.1", 0), FakeHandler)
        self.name = name
        self.ledger = ledger
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()  # guards _rng
        self.rng_for_delays = random.Random(seed + 1)  # only delays: races here change nothing
        self.port = int(self.server_address[1])
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                       name=f"soak-fake-{name}", daemon=True)

    def draw(self) -> str:
        with self._rng_lock:
            x = self._rng.random()
        for fault, p in FAULTS:
            if x < p:
                return fault
            x -= p
        return "ok"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # Octoroute hanging up on a slow answer is part of the scenario


# --- octoroute ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, port: int, fakes: dict[str, list[FakeServer]], threads: int) -> None:
    lines = [
        "[server]", 'host = "127.0.0.1"', f"port = {port}", f"threads = {threads}",
        f"request_timeout_seconds = {REQUEST_TIMEOUT_S}", "",
        "[routing]", 'strategy = "hybrid"', "router_timeout_seconds = 1.5", "",
        "[health]", "interval_seconds = 2", "timeout_seconds = 1", "unhealthy_after = 3", "",
        "[timeouts]", *(f"{t} = {ATTEMPT_TIMEOUT_S}" for t in TIERS), "stream_idle = 3", "",
        "[observability]", 'log_level = "warning"', "",
    ]
    for tier, servers in fakes.items():
        for s in servers:
            lines += [f"[[models.{tier}]]", f'id = "{s.name}"', f'name = "{s.name}-model"',
                      f'base_url = "http://127.0.0.1:{s.port}/v1"', "max_tokens = 256", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def proc_status(pid: int) -> tuple[float, int]:
    """(RSS in MiB, thread count) of ``pid``, from /proc."""
    rss_kib, threads = 0, 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kib = int(line.split()[1])
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    return rss_kib / 1024.0, threads


# --- load -------------------------------------------------------------------------------

@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards everything below
    sent: int = 0
    succeeded: int = 0
    failed: collections.Counter[str] = field(default_factory=collections.Counter)  # expected, by reason
    unexpected: collections.Counter[str] = field(default_factory=collections.Counter)
    examples: list[str] = field(default_factory=list)  # a few unexpected ones, for the report
    by_api: collections.Counter[str] = field(default_factory=collections.Counter)

    def add(self, api: str, outcome: str, reason: str, detail: str = "") -> None:
        with self.lock:
            self.by_api[api] += 1
            if outcome == "ok":
                self.succeeded += 1
            elif outcome == "failed":
                self.failed[reason] += 1
            else:
                self.unexpected[reason] += 1
                if len(self.examples) < 10:
                    self.examples.append(f"{reason}: {detail[:300]}")


def all_tried_were_faulty(err: dict[str, Any], faults: dict[str, list[str]]) -> bool:
    attempts = err.get("attempts") or []
    if not attempts:
        return err.get("code") in ("no_endpoint", "rate_limited")  # every candidate cooling down
    for a in attempts:
        if a.get("outcome") == "success":
            return False
        got = faults.get(a.get("endpoint"), [])
        if not got or all(f == "ok" for f in got):
            return False  # Octoroute gave up on an endpoint that answered normally
    return True


def classify(api: str, token: int, resp: requests.Response, body: bytes,
             ledger: Ledger) -> tuple[str, str, str]:
    """(outcome, reason, detail): outcome is ok, failed (expected) or unexpected."""
    status = resp.status_code
    text = body.decode("utf-8", "replace")
    if status == 200:
        if api == "stream":
            if text.rstrip().endswith("data: [DONE]"):
                return "ok", "", ""
            served = resp.headers.get("X-Octoroute-Endpoint", "")
            cut = "truncated" in ledger.chat_faults(token).get(served, [])
            code = "stream_error"
            for line in text.splitlines():
                if line.startswith('data: {"error"'):
                    code = json.loads(line[6:])["error"].get("code") or code
            return ("failed" if cut else "unexpected"), f"200 {code}", text[-300:]
        return "ok", "", ""
    try:
        err = json.loads(text)["error"]
    except (ValueError, KeyError, TypeError):
        return "unexpected", f"{status} non-JSON error", text
    reason = f"{status} {err.get('code')}"
    if status in (429, 502, 503, 504) and all_tried_were_faulty(err, ledger.chat_faults(token)):
        return "failed", reason, ""
    return "unexpected", reason, json.dumps(err)[:300]


def client_loop(n: int, base: str, stop: threading.Event, counter: TokenCounter, tally: Tally,
                ledger: Ledger, seed: int) -> None:
    rng = random.Random(seed * 1000 + n)
    session = requests.Session()
    session.trust_env = False
    while not stop.is_set():
        token = next(counter)
        prompt = rng.choice(PROMPTS).format(t=f"[soak-{token}]")
        api = rng.choices(("chat", "openai", "stream"), weights=(4, 3, 3))[0]
        with tally.lock:
            tally.sent += 1
        try:
            if api == "chat":
                resp = session.post(base + "/chat", json={"prompt": prompt}, timeout=CLIENT_TIMEOUT_S)
                body = resp.content
            else:
                payload = {"model": "auto", "stream": api == "stream",
                           "messages": [{"role": "user", "content": prompt}]}
                with session.post(base + "/v1/chat/completions", json=payload, timeout=CLIENT_TIMEOUT_S,
                                  stream=api == "stream") as resp:
                    body = resp.content
            # The fakes record each exchange before answering it, so the ledger is complete here.
            outcome, reason, detail = classify(api, token, resp, body, ledger)
        except requests.RequestException as exc:
            outcome, reason, detail = "unexpected", f"client {type(exc).__name__}", str(exc)
        tally.add(api, outcome, reason, detail)
        if reason.startswith("429"):
            # A well-behaved client backs off as told (capped, to keep the load steady).
            time.sleep(min(1.0, float(resp.headers.get("Retry-After", "1"))))
        time.sleep(rng.uniform(0.0, 0.02))
    session.close()


class TokenCounter:
    """A thread-safe ``itertools.count``: one token per request."""

    def __init__(self) -> None:
        self._n = 0
        self._lock = threading.Lock()  # guards _n

    def __next__(self) -> int:
        with self._lock:
            self._n += 1
            return self._n


def server_count(base: str) -> float:
    text = requests.get(base + "/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("octoroute_http_responses_total{") and (
                'route="/chat"' in line or 'route="/v1/chat/completions"' in line):
            total += float(line.rsplit(" ", 1)[1])
    return total


# --- main -----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    span = parser.add_mutually_exclusive_group()
    span.add_argument("--minutes", type=float, default=10.0, help="run this long (default 10)")
    span.add_argument("--seconds", type=float, help="run this long instead (a short run)")
    parser.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--threads", type=int, default=16, help="Octoroute's server.threads (default 16)")
    parser.add_argument("--seed", type=int, default=1, help="RNG seed for faults and load (default 1)")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds before the RSS/thread baseline (default: 10%% of the run, 5-60 s)")
    parser.add_argument("--max-rss-growth-mib", type=float, default=20.0,
                        help="fail if RSS grows more than this after the warm-up (default 20)")
    parser.add_argument("--max-thread-growth", type=int, default=4,
                        help="fail if the thread count grows more than this after the warm-up (default 4)")
    args = parser.parse_args(argv)
    duration = args.seconds if args.seconds is not None else args.minutes * 60.0
    warmup = args.warmup if args.warmup is not None else min(60.0, max(5.0, duration * 0.1))

    ledger = Ledger()
    fakes = {tier: [FakeServer(f"{tier}-{k}", args.seed * 100 + i * 10 + k, ledger) for k in (1, 2)]
             for i, tier in enumerate(TIERS)}
    for servers in fakes.values():
        for s in servers:
            s.thread.start()
    workdir = Path(tempfile.mkdtemp(prefix="octoroute-soak-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    write_config(workdir / "octoroute.toml", port, fakes, args.threads)
    log_path = workdir / "octoroute.log"
    log_file = log_path.open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCTOROUTE")}
    argv = [sys.executable, "-m", "octoroute", "serve", "--config", str(workdir / "octoroute.toml")]
    proc = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env)
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(base + "/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            print(f"octoroute did not start; log in {log_path}:\n{log_path.read_text()}", file=sys.stderr)
            proc.kill()
            return 2
        time.sleep(0.1)

    tally = Tally()
    stop = threading.Event()
    counter = TokenCounter()
    clients = [threading.Thread(target=client_loop, args=(n, base, stop, counter, tally, ledger, args.seed),
                                name=f"soak-client-{n}", daemon=True) for n in range(args.clients)]
    samples: list[tuple[float, float, int]] = []  # (seconds since start, RSS MiB, threads)
    started = time.monotonic()
    samples.append((0.0, *proc_status(proc.pid)))
    for c in clients:
        c.start()
    while (elapsed := time.monotonic() - started) < duration:
        time.sleep(min(SAMPLE_EVERY_S, max(0.0, duration - elapsed)))
        if proc.poll() is not None:
            break
        samples.append((time.monotonic() - started, *proc_status(proc.pid)))
    stop.set()
    for c in clients:
        c.join(CLIENT_TIMEOUT_S + 5)
    elapsed = time.monotonic() - started
    hung_clients = sum(c.is_alive() for c in clients)

    alive = proc.poll() is None
    counted_by_server = server_count(base) if alive else -1.0
    if alive:
        samples.append((elapsed, *proc_status(proc.pid)))
        proc.send_signal(signal.SIGTERM)
    try:
        exit_code = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        exit_code = -9
    log_file.close()
    for servers in fakes.values():
        for s in servers:
            s.shutdown()
            s.server_close()

    failed = sum(tally.failed.values())
    unexpected = sum(tally.unexpected.values())
    unaccounted = tally.sent - (tally.succeeded + failed + unexpected)
    after_warmup = [s for s in samples if s[0] >= warmup] or samples[-1:]
    base_rss, base_threads = after_warmup[0][1], after_warmup[0][2]
    end_rss, end_threads = samples[-1][1], samples[-1][2]
    max_rss = max(s[1] for s in samples)
    rss_growth = end_rss - base_rss
    thread_growth = end_threads - base_threads
    injected = collections.Counter(f for entries in ledger.seen.values() for _, kind, f in entries
                                   if kind == "chat")
    problems = []
    if unexpected:
        problems.append(f"{unexpected} unexpected error(s)")
    if unaccounted or hung_clients:
        problems.append(f"{unaccounted} unaccounted request(s), {hung_clients} hung client(s)")
    if counted_by_server != tally.sent:
        problems.append(f"Octoroute counted {counted_by_server:.0f} chat responses, "
                        f"clients sent {tally.sent}")
    if rss_growth > args.max_rss_growth_mib:
        problems.append(f"RSS grew {rss_growth:.1f} MiB after the warm-up "
                        f"(limit {args.max_rss_growth_mib:g})")
    if thread_growth > args.max_thread_growth:
        problems.append(f"threads grew by {thread_growth} after the warm-up "
                        f"(limit {args.max_thread_growth})")
    if exit_code != 0:
        problems.append(f"octoroute exited {exit_code} on SIGTERM")

    out = [f"## Octoroute soak: {elapsed:.0f} s, {args.clients} clients, seed {args.seed}", "",
           "| measure | value |", "|---|---|",
           f"| requests sent | {tally.sent} |",
           f"| requests/s | {tally.sent / elapsed:.1f} |",
           f"| by API | {', '.join(f'{k} {v}' for k, v in sorted(tally.by_api.items()))} |",
           f"| succeeded | {tally.succeeded} ({100.0 * tally.succeeded / max(1, tally.sent):.1f}%) |",
           f"| failed, expected (every endpoint tried was faulty) | {failed} |",
           f"| unexpected errors | {unexpected} |",
           f"| unaccounted | {unaccounted} |",
           f"| counted by Octoroute (/metrics) | {counted_by_server:.0f} |",
           f"| backend chat exchanges / with a fault injected | {sum(injected.values())} / "
           f"{sum(v for k, v in injected.items() if k != 'ok')} |",
           f"| RSS MiB: start / after warm-up ({warmup:.0f} s) / end / max | {samples[0][1]:.1f} / "
           f"{base_rss:.1f} / {end_rss:.1f} / {max_rss:.1f} |",
           f"| threads: start / after warm-up / end | {samples[0][2]} / {base_threads} / {end_threads} |",
           f"| octoroute exit on SIGTERM | {exit_code} |", "",
           "| outcome | count |", "|---|---|", f"| 200 ok | {tally.succeeded} |"]
    out += [f"| {reason} (expected) | {n} |" for reason, n in tally.failed.most_common()]
    out += [f"| {reason} (UNEXPECTED) | {n} |" for reason, n in tally.unexpected.most_common()]
    out += ["", "| injected fault (backend chat exchanges) | count |", "|---|---|"]
    out += [f"| {fault} | {n} |" for fault, n in injected.most_common()]
    out += ["", f"**{'FAIL' if problems else 'PASS'}**" + (": " + "; ".join(problems) if problems else "")]
    if tally.examples:
        out += ["", "Unexpected examples:", *(f"- `{e}`" for e in tally.examples)]
    out += ["", f"Octoroute log: {log_path}"]
    print("\n".join(out))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
