"""wrk against the direct path and the servers under test: the matrix and the soak.

The matrix runs, per repetition and per connection count, every target once,
rotating the target order each repetition (A/B interleaving: drift on a noisy
host hits all targets alike). Each run records wrk's figures, the CPU time of
the target server's process tree per request (from /proc), and the CPU burnt
meanwhile by processes that are not part of the bench ("foreign" load).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import procs
from benchlib.report import Output, fmt, median, ratio, table
from benchlib.servers import Server

WRK_LUA = str(Path(__file__).parent / "wrk.lua")
WRK_TIMEOUT_S = 10  # seconds before wrk counts a request as timed out
ERROR_KEYS = ("err_connect", "err_read", "err_write", "err_status", "err_timeout")


@dataclass(frozen=True)
class Target:
    name: str  # direct | octoroute | baseline | litellm
    path: str
    server: Server
    body_file: str

    @property
    def label(self) -> str:
        return f"{self.name} {self.path}"

    @property
    def url(self) -> str:
        return self.server.url(self.path)


def run_wrk(target: Target, conns: int, seconds: int) -> dict[str, Any]:
    env = {**os.environ, "BENCH_BODY_FILE": target.body_file}
    if target.server.key:
        env["BENCH_KEY"] = target.server.key
    cmd = ["wrk", f"-t{min(2, conns)}", f"-c{conns}", f"-d{seconds}s", f"--timeout={WRK_TIMEOUT_S}s",
           "-s", WRK_LUA, target.url]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 60)
    found = re.search(r"^RESULT (\{.*\})$", done.stdout, re.M)
    if not found:
        return {"error": (done.stdout + done.stderr)[-500:], "requests": 0}
    result: dict[str, Any] = json.loads(found.group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    result["non2xx"] = int(non2xx.group(1)) if non2xx else 0
    return result


def measured_run(target: Target, conns: int, seconds: int, our_pids: Callable[[], list[int]]
                 ) -> dict[str, Any]:
    """One wrk run with the server's CPU per request and the host's foreign load."""
    pids = our_pids()
    load1 = os.getloadavg()[0]
    switches0 = procs.context_switches(target.server.pid)
    server0 = procs.cpu_seconds(target.server.pid)
    ours0 = sum(procs.cpu_seconds(p) for p in pids)
    wrk0 = procs.children_cpu_seconds()
    host0 = procs.host_cpu()
    started = time.monotonic()
    result = run_wrk(target, conns, seconds)
    wall = time.monotonic() - started
    host1 = procs.host_cpu()
    wrk1 = procs.children_cpu_seconds()
    ours1 = sum(procs.cpu_seconds(p) for p in pids)
    server1 = procs.cpu_seconds(target.server.pid)
    switches1 = procs.context_switches(target.server.pid)
    busy = 100.0 * (1 - (host1[1] - host0[1]) / max(1, host1[0] - host0[0]))
    ours = (ours1 - ours0) + (wrk1 - wrk0)
    foreign = 100.0 * max(0.0, (host1[2] - host0[2]) / procs.TICK - ours) / wall
    result.update({"target": target.name, "path": target.path, "conns": conns, "url": target.url,
                   "load1_before": round(load1, 2), "host_busy_pct": round(busy, 1),
                   "foreign_cpu_pct_of_core": round(foreign, 1), "wrk_cpu_s": round(wrk1 - wrk0, 2),
                   "ts": time.time()})
    if result.get("requests"):
        result["server_cpu_ms_per_req"] = round(1000 * (server1 - server0) / result["requests"], 4)
        result["server_ctx_switches_per_req"] = round((switches1 - switches0) / result["requests"], 2)
    return result


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_matrix(targets: Sequence[Target], conns: Sequence[int], seconds: int, reps: int, out: Output,
               our_pids: Callable[[], list[int]], *, pause: float = 0.5) -> list[dict[str, Any]]:
    rows = []
    total = reps * len(conns) * len(targets)
    for rep in range(reps):
        shift = rep % len(targets)
        order = list(targets[shift:]) + list(targets[:shift])
        for c in conns:
            for t in order:
                r = measured_run(t, c, seconds, our_pids)
                r["rep"] = rep
                out.record("wrk", r)
                rows.append(r)
                errors = sum(r.get(k, 0) for k in ERROR_KEYS)
                progress(f"  [{len(rows)}/{total}] rep={rep} c={c:<3} {t.label:<32} "
                         f"rps={r.get('rps', 0):>8.0f} p50={r.get('p50_ms', 0):>7.2f}ms "
                         f"p99={r.get('p99_ms', 0):>7.2f}ms cpu/req={r.get('server_cpu_ms_per_req', '-')}ms "
                         f"csw/req={r.get('server_ctx_switches_per_req', '-')} "
                         f"err={errors} foreign={r['foreign_cpu_pct_of_core']:.0f}%")
                time.sleep(pause)
    return rows


def warm_up(targets: Sequence[Target], seconds: int) -> None:
    for t in targets:
        run_wrk(t, 8, seconds)


@dataclass
class Cell:
    """Medians over repetitions for one target, path and connection count."""

    rps: float | None
    p50: float | None
    p99: float | None
    cpu: float | None
    errors: int
    reps: int
    foreign: float | None
    switches: float | None  # server context switches per request (all threads)


def cells(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str, int], Cell]:
    grouped: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        grouped[(r["target"], r["path"], r["conns"])].append(r)
    return {key: Cell(rps=median(r.get("rps") for r in rs), p50=median(r.get("p50_ms") for r in rs),
                      p99=median(r.get("p99_ms") for r in rs),
                      cpu=median(r.get("server_cpu_ms_per_req") for r in rs),
                      errors=sum(int(r.get(k, 0)) for r in rs for k in ERROR_KEYS) + sum(
                          1 for r in rs if "error" in r),
                      reps=len(rs), foreign=median(r.get("foreign_cpu_pct_of_core") for r in rs),
                      switches=median(r.get("server_ctx_switches_per_req") for r in rs))
            for key, rs in grouped.items()}


BASELINE_PATH = "/v1/chat/completions"


def base_of(name: str, by: dict[tuple[str, str, int], Cell]) -> str:
    """The pass-through a target is compared with: the one on the same interpreter when run."""
    if name.endswith("-py") and any(key[0] == "baseline-py" for key in by):
        return "baseline-py"
    return "baseline"


def matrix_table(targets: Sequence[Target], conns: Sequence[int], by: dict[tuple[str, str, int], Cell],
                 rss_after: dict[str, float]) -> str:
    has_base = any(t.name == "baseline" for t in targets)
    headers = ["target", "path", "conns", "req/s", "p50 ms", "p99 ms", "server CPU ms/req",
               "ctx switches/req", "RSS MB after load", "req/s ÷ direct", "p50 added vs direct"]
    if has_base:
        headers += ["req/s ÷ baseline", "CPU ÷ baseline"]
    headers += ["errors", "foreign CPU %"]
    rows = []
    for t in targets:
        for c in conns:
            cell = by.get((t.name, t.path, c))
            if cell is None:
                continue
            direct = by.get(("direct", BASELINE_PATH, c))
            base = by.get((base_of(t.name, by), BASELINE_PATH, c))
            added = "-"
            if t.name != "direct" and direct and cell.p50 is not None and direct.p50 is not None:
                added = f"+{cell.p50 - direct.p50:.3f} ms"
            row = [t.name, t.path, c, fmt(cell.rps, 0), fmt(cell.p50, 3), fmt(cell.p99, 3), fmt(cell.cpu, 3),
                   fmt(cell.switches, 1), fmt(rss_after.get(t.server.name), 1),
                   ratio(cell.rps, direct.rps if direct else None) if t.name != "direct" else "1",
                   added]
            if has_base:
                if t.name == "direct":
                    row += ["-", "-"]
                else:
                    row += [ratio(cell.rps, base.rps if base else None),
                            ratio(cell.cpu, base.cpu if base else None)]
            row += [cell.errors, fmt(cell.foreign, 0)]
            rows.append(row)
    return table(headers, rows, "ll" + "r" * (len(headers) - 2))


def headline_table(targets: Sequence[Target], by: dict[tuple[str, str, int], Cell],
                   rss_after: dict[str, float], startup: dict[str, list[float]]) -> str:
    """The issue's table: req/s at 8 conns, added p50 at 1 conn, CPU per request, RSS, start-up."""
    rows = []
    for t in targets:
        at8 = by.get((t.name, t.path, 8))
        at1 = by.get((t.name, t.path, 1))
        direct1 = by.get(("direct", BASELINE_PATH, 1))
        added = "-"
        if t.name != "direct" and at1 and direct1 and at1.p50 is not None and direct1.p50 is not None:
            added = f"+{at1.p50 - direct1.p50:.3f} ms"
        starts = startup.get(t.server.name, [])
        each = f" ({', '.join(f'{s:.2f}' for s in starts)})" if starts else ""
        rows.append([t.label, fmt(at8.rps if at8 else None, 0), added, fmt(at8.cpu if at8 else None, 3),
                     fmt(rss_after.get(t.server.name), 1), fmt(median(starts), 2) + each])
    return table(["target", "req/s at 8 conns", "added p50 at 1 conn", "server CPU ms/req at 8 conns",
                  "RSS MB after load", "start-up s, median (each)"], rows)


def soak(targets: Sequence[Target], total: int, out: Output, *, conns: int = 8,
         max_seconds: float | None = None) -> list[dict[str, Any]]:
    """Drive ``total`` requests through one server (alternating targets), RSS after each wrk run."""
    server = targets[0].server
    samples = [{"requests": 0, "seconds": 0.0, **procs.memory(server.pid)}]
    out.record("soak", samples[0])
    served, rate, i = 0, 0.0, 0
    started = time.monotonic()
    cap = max_seconds if max_seconds is not None else 60.0 + total / 100.0
    while served < total and time.monotonic() - started < cap:
        seconds = 2 if rate <= 0 else int(min(10, max(1, round((total - served) / rate))))
        result = run_wrk(targets[i % len(targets)], conns, seconds)
        i += 1
        served += int(result.get("requests", 0))
        rate = float(result.get("rps", 0.0))
        sample = {"requests": served, "seconds": round(time.monotonic() - started, 1),
                  "errors": sum(int(result.get(k, 0)) for k in ERROR_KEYS), **procs.memory(server.pid)}
        out.record("soak", sample)
        samples.append(sample)
        progress(f"  soak: {served:,} requests, RSS {sample['rss_mb']} MB")
        if rate <= 0:
            break
    return samples
