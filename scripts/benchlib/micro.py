"""In-process micro-benchmarks of the per-request work Octoroute does itself.

Each case is a zero-argument callable timed call by call with
``time.perf_counter_ns`` (timeit-style: warm-up first, garbage collector off
during the loop), reported as p50/p90/p99 in microseconds. The first row is
the timer and call overhead alone; it is included in every other row.
A case that cannot be built or run (say, an API renamed by work in progress)
is reported in the table instead of stopping the run.
"""

from __future__ import annotations

import gc
import io
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from benchlib.report import Output, fmt, load_average, percentile, table, verdict
from benchlib.servers import SYSTEM_TEXT, USER_TEXT, chat_body, encode, openai_body

ROUTE_P99_TARGET_US = 20.0  # microseconds: the bound for a rule routing decision
CASE_BUDGET_S = 2.0  # seconds of timed calls per case at most (slow cases get fewer calls)
MIN_CALLS = 200  # timed calls per case at least
WARMUP_CALLS = 1000  # untimed calls first ...
WARMUP_S = 0.2  # ... or this many seconds of them, whichever comes first
PAUSE_PROBE_S = 1.0  # seconds of busy loop that count the host's pauses
PAUSE_MIN_US = 5.0  # a gap between two clock reads longer than this is a pause

PROMPTS = {
    "casual": "hi there, how are you today?",
    "bench": USER_TEXT,  # the summary request every wrk target gets
    "code": "Refactor this Python function so it streams the file instead of reading it whole:\n"
            "def load(path):\n    return open(path).read().splitlines()",
    "long 12k chars": ("The committee reviewed the quarterly figures and the operational notes in "
                       "detail. " * 150).strip(),
}


@dataclass
class Case:
    group: str
    name: str
    fn: Callable[[], Any] | None
    target_us: float | None = None  # p99 bound from the issue, when there is one
    error: str | None = None


def _noop() -> None:
    return None


def build_cases() -> list[Case]:
    """Import Octoroute's pieces and bind realistic arguments; one case per row."""
    cases = [Case("overhead", "perf_counter_ns pair + empty call", _noop)]

    def add(group: str, name: str, make: Callable[[], Callable[[], Any]],
            target: float | None = None) -> None:
        try:
            fn = make()
            fn()  # fail while building, not in the timed loop
            cases.append(Case(group, name, fn, target))
        except Exception as exc:  # reported in the table; the other cases still run
            cases.append(Case(group, name, None, target, f"{type(exc).__name__}: {exc}"[:120]))

    def router() -> Any:
        from octoroute.config import parse_config
        from octoroute.metrics import Metrics
        from octoroute.routing.router import Router
        from prometheus_client import CollectorRegistry

        config = parse_config({
            "routing": {"strategy": "rule"},
            "models": {t: {"id": f"{t}-mock", "name": "mock-model", "base_url": "http://127.0.0.1:9/v1",
                           "max_tokens": 4096} for t in ("fast", "balanced", "deep")},
        }, source="<bench>", env={})
        metrics = Metrics(CollectorRegistry(), config.endpoints)
        return Router(config.routing, None, metrics, time.monotonic, {e.id: e.tier for e in config.endpoints})

    def route(text: str, importance: str = "normal", task_type: str | None = None) -> Callable[[], Any]:
        from octoroute.routing.router import RouteInput
        return partial(router().route, RouteInput(text=text, importance=importance, task_type=task_type))

    for key, text in PROMPTS.items():
        add("routing decision", f"Router.route, rule: {key} prompt", partial(route, text),
            ROUTE_P99_TARGET_US)
    add("routing decision", "Router.route, rule: task_type + importance given",
        partial(route, PROMPTS["code"], "high", "code"), ROUTE_P99_TARGET_US)

    def infer(text: str) -> Callable[[], Any]:
        from octoroute.routing.rules import infer_task_type
        return partial(infer_task_type, text)

    for key, text in PROMPTS.items():
        add("rules", f"infer_task_type: {key} prompt", partial(infer, text))

    def rules() -> Callable[[], Any]:
        from octoroute.routing.rules import apply_rules
        return partial(apply_rules, "document_summary", "normal", 40)

    add("rules", "apply_rules (no rule matches: all checked)", rules)

    def conversation() -> Callable[[], Any]:
        from octoroute.routing.conversation import conversation_input
        return partial(conversation_input, openai_body("auto")["messages"], importance="normal",
                       task_type=None, has_tools=False)

    add("rules", "conversation_input (system + user)", conversation)

    def pick(weights: tuple[float, ...], priorities: tuple[int, ...]) -> Callable[[], Any]:
        from octoroute.backends.registry import EndpointState
        from octoroute.backends.selection import pick
        from octoroute.config import EndpointConfig
        candidates = [EndpointState(EndpointConfig(id=f"e{i}", name="m", tier="balanced",
                                                   base_url="http://127.0.0.1:9/v1", max_tokens=4096,
                                                   weight=w, priority=p))
                      for i, (w, p) in enumerate(zip(weights, priorities, strict=True))]
        return partial(pick, candidates, random.Random(42))

    add("endpoint selection", "pick: 1 endpoint", partial(pick, (1.0,), (1,)))
    add("endpoint selection", "pick: 3 endpoints, weights 1/2/3",
        partial(pick, (1.0, 2.0, 3.0), (1, 1, 1)))
    add("endpoint selection", "pick: 3 endpoints, priorities 2/1/1",
        partial(pick, (1.0, 1.0, 1.0), (2, 1, 1)))

    def validate(kind: str, body: dict[str, Any]) -> Callable[[], Any]:
        from octoroute.api import schemas
        return partial(getattr(schemas, kind), body)

    long_conversation = openai_body("auto")
    long_conversation["messages"] = [long_conversation["messages"][0]] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}: " + USER_TEXT}
        for i in range(20)]
    add("validation", "validate_chat (/chat body)", partial(validate, "validate_chat", chat_body()))
    add("validation", "validate_openai_chat (system + user)",
        partial(validate, "validate_openai_chat", openai_body("auto")))
    add("validation", "validate_openai_chat (21 messages)",
        partial(validate, "validate_openai_chat", long_conversation))
    add("validation", "validate_openai_chat, jsonschema path (max_tokens 128.0)",
        partial(validate, "validate_openai_chat", openai_body("auto", max_tokens=128.0)))
    add("validation", "reference: json.loads of the /v1 body",
        lambda: partial(json.loads, encode(openai_body("auto"))))

    # A coding assistant's request: a long system prompt (tool descriptions) and files pasted
    # into the conversation, about 100 KB.
    code = "".join(f"def handler_{i}(request):\n    return {{'status': {i}, 'body': request.text}}\n"
                   for i in range(60))
    assistant_body = openai_body("auto", tools=[{"type": "function", "function": {
        "name": f"tool_{i}", "description": "Reads a file of the project and returns its text. " * 6,
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}} for i in range(30)])
    assistant_body["messages"] = [{"role": "system", "content": SYSTEM_TEXT * 200}] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"file {i}:\n" + code} for i in range(12)]
    sized = [("system + user", openai_body("auto")), ("21 messages", long_conversation),
             (f"coding assistant, {len(encode(assistant_body)) // 1000} KB", assistant_body)]

    def read(body: dict[str, Any]) -> Callable[[], Any]:
        from octoroute.api.body import read_json
        raw = encode(body)
        return lambda: read_json(_Request(raw), 1 << 24)  # type: ignore[arg-type]

    def forward(body: dict[str, Any]) -> Callable[[], Any]:
        from octoroute.api.body import read_json
        from octoroute.api.openai import forward_body
        data = read_json(_Request(encode(body)), 1 << 24)  # type: ignore[arg-type]
        return partial(forward_body, data, "mock-model", 4096)

    for label, body in sized:
        add("body", f"read_json ({label})", partial(read, body))
    add("body", f"reference: json.loads ({sized[-1][0]})",
        lambda: partial(json.loads, encode(assistant_body)))
    for label, body in sized:
        add("body", f"forward_body ({label})", partial(forward, body))
    return cases


class _Request:
    """What ``read_json`` reads of a Falcon request (one per call, as each request has
    its own stream)."""

    content_type = "application/json"

    def __init__(self, raw: bytes) -> None:
        self.content_length = len(raw)
        self.bounded_stream = io.BytesIO(raw)


def measure(fn: Callable[[], Any], iterations: int, *, budget_s: float = CASE_BUDGET_S) -> list[float]:
    """Per-call durations in microseconds; fewer than ``iterations`` when a call is slow."""
    started, calls = time.perf_counter(), 0
    while calls < WARMUP_CALLS and time.perf_counter() - started < WARMUP_S:
        fn()
        calls += 1
    per_call = (time.perf_counter() - started) / calls
    iterations = max(MIN_CALLS, min(iterations, int(budget_s / per_call)))
    clock = time.perf_counter_ns
    samples = [0] * iterations
    enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(iterations):
            started_ns = clock()
            fn()
            samples[i] = clock() - started_ns
    finally:
        if enabled:
            gc.enable()
    return [s / 1000.0 for s in samples]


@dataclass
class Pauses:
    """Times a busy thread was not running, seen from inside it (timer ticks, hypervisor exits)."""

    per_second: float
    p50_us: float | None
    p90_us: float | None

    @property
    def one_percent_us(self) -> float | None:
        """Length of call that meets a pause once in 100 calls: above it, a p99 includes one."""
        return 1e6 / (100 * self.per_second) if self.per_second else None


def host_pauses(seconds: float = PAUSE_PROBE_S, *, min_us: float = PAUSE_MIN_US,
                clock: Callable[[], int] = time.perf_counter_ns) -> Pauses:
    """Read the clock in a tight loop for ``seconds``; every gap over ``min_us`` is a pause.

    A call of length L meets such a pause with probability about
    ``per_second * L``; once that passes 1 %, the call's p99 is its p50 plus a
    pause, however lean the call. On the development VM: ~1,400 pauses a
    second of ~27 µs, so any call over ~7 µs has a p99 above 20 µs.
    """
    threshold = int(min_us * 1000)
    gaps: list[int] = []
    last = clock()
    end = last + int(seconds * 1e9)
    while last < end:
        now = clock()
        if now - last > threshold:
            gaps.append(now - last)
        last = now
    us = [g / 1000.0 for g in gaps]
    return Pauses(len(gaps) / seconds, percentile(us, 50), percentile(us, 90))


def run(out: Output, *, iterations: int) -> dict[str, Any]:
    """Time every case; print the table; return the routing figures for the targets summary."""
    rows: list[list[Any]] = []
    worst_route = bench_route = None
    pauses = host_pauses()
    for case in build_cases():
        if case.fn is None:
            rows.append([case.group, case.name, "-", "-", "-", "-", "-", f"error: {case.error}"])
            out.record("micro", {"group": case.group, "case": case.name, "error": case.error})
            continue
        samples = measure(case.fn, iterations)
        p50, p90, p99 = (percentile(samples, q) for q in (50, 90, 99))
        mean = sum(samples) / len(samples)
        check = ""
        if case.target_us is not None and p99 is not None:
            check = f"p99 < {case.target_us:.0f} µs: {verdict(p99 < case.target_us)}"
            worst_route = p99 if worst_route is None else max(worst_route, p99)
            if "bench prompt" in case.name:
                bench_route = p99
        rows.append([case.group, case.name, f"{len(samples):,}", fmt(p50), fmt(p90), fmt(p99), fmt(mean),
                     check])
        out.record("micro", {"group": case.group, "case": case.name, "iterations": len(samples),
                             "p50_us": p50, "p90_us": p90, "p99_us": p99, "mean_us": mean,
                             "max_us": max(samples)})
    out.emit(f"### In-process micro-benchmarks (µs per call; up to {iterations:,} calls or "
             f"{CASE_BUDGET_S:.0f} s per case; load average before: {load_average()})\n")
    out.emit(table(["group", "case", "calls", "p50", "p90", "p99", "mean", "target"], rows, "llrrrrrl"))
    out.emit()
    out.record("micro", {"case": "host pauses", "per_second": pauses.per_second, "p50_us": pauses.p50_us,
                         "p90_us": pauses.p90_us, "one_percent_us": pauses.one_percent_us})
    out.emit(f"Host pauses (a {PAUSE_PROBE_S:g} s busy loop reading the clock; gaps over "
             f"{PAUSE_MIN_US:g} µs): {pauses.per_second:,.0f} per second, p50 {fmt(pauses.p50_us)} µs, "
             f"p90 {fmt(pauses.p90_us)} µs. A call longer than {fmt(pauses.one_percent_us)} µs meets one "
             "in more than 1 % of calls, so its p99 is its p50 plus a pause, however lean the code; "
             "compare p50s across prompts.\n")
    return {"route_p99_us": worst_route, "bench_p99_us": bench_route, "pauses": pauses}


def run_elsewhere(out: Output, python: str, *, iterations: int) -> dict[str, Any] | None:
    """The same cases on another interpreter (``--with-python``), its routing rows side by side.

    The other interpreter runs this bench's micro section in a child process;
    the rows are read back from its JSON lines. None when it failed (reported).
    """
    child_dir = out.dir / "micro-py"
    script = str(Path(__file__).resolve().parent.parent / "bench")
    done = subprocess.run([python, script, "--micro", "--micro-iterations", str(iterations),
                           "--out", str(child_dir)], capture_output=True, text=True, timeout=1800)
    lines = child_dir / "micro.jsonl"
    if done.returncode != 0 or not lines.exists():
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        out.emit(f"Micro-benchmarks on `{python}` failed (exit {done.returncode}): {tail}\n")
        return None
    theirs = {r["case"]: r for r in map(json.loads, lines.read_text().splitlines()) if "p50_us" in r}
    ours = {r["case"]: r for r in map(json.loads, (out.dir / "micro.jsonl").read_text().splitlines())
            if "p50_us" in r}
    rows, worst, bench = [], None, None
    for case, r in theirs.items():
        if case == "host pauses":
            continue
        mine = ours.get(case, {})
        rows.append([case, fmt(mine.get("p50_us")), fmt(r["p50_us"]), fmt(mine.get("p99_us")),
                     fmt(r["p99_us"])])
        if case.startswith("Router.route, rule:"):
            worst = r["p99_us"] if worst is None else max(worst, r["p99_us"])
            if "bench prompt" in case:
                bench = r["p99_us"]
    out.emit(f"### The same micro-benchmarks on `{python}` (µs per call; run after this process's "
             "cases, not interleaved with them: this host's speed can change between the two)\n")
    out.emit(table(["case", f"p50 {sys.version.split()[0]}", "p50 there", f"p99 {sys.version.split()[0]}",
                    "p99 there"], rows, "lrrrr"))
    out.emit()
    return {"route_p99_us": worst, "bench_p99_us": bench}
