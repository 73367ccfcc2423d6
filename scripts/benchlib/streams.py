"""Streaming checks: time to first byte and chunk gaps, and many slow streams held at once.

Both read streams with ``sseclient`` from the paced SSE mock (``ssemock``),
directly and through Octoroute, with the same client code.
"""

from __future__ import annotations

import http.client
import time
from collections import Counter
from typing import Any

from benchlib import procs
from benchlib.report import Output, fmt, load_average, median, percentile, table, verdict
from benchlib.servers import Server, encode, openai_body
from benchlib.sseclient import StreamPool, StreamReader, stream_once

PATH = "/v1/chat/completions"
TTFB_TARGET_MS = 2.0  # the issue: time to first byte within 2 ms of the direct path
GAP_MEDIAN_TOLERANCE_MS = 1.0  # "gaps preserved": median gap within this of the direct path's
HEALTH_TARGET_MS = 100.0  # the issue: /health under 100 ms while the streams are held
FIRST_EVENT_MS = 10.0  # the mock's delay before the first event of a timed stream
HOLD_WAIT_S = 30.0  # seconds for every held stream to get its first event


def stream_body(model: str, chunks: int, gap_ms: float, first_ms: float = 0.0) -> bytes:
    return encode(openai_body(model, stream=True, bench_chunks=chunks, bench_gap_ms=gap_ms,
                              bench_first_ms=first_ms))


def _gaps_ms(r: StreamReader) -> list[float]:
    return [(b - a) * 1000.0 for a, b in zip(r.events, r.events[1:], strict=False)]


def _ok(r: StreamReader) -> bool:
    return r.status == 200 and r.complete and r.saw_done and not r.saw_error_event


def stream_check(octo: Server, mock: Server, out: Output, *, streams: int, chunks: int,
                 gap_ms: float) -> dict[str, Any]:
    """Alternate direct and Octoroute streams; compare time to first event and gaps."""
    paths = {"direct": (mock.port, stream_body("mock-model", chunks, gap_ms, FIRST_EVENT_MS)),
             "octoroute": (octo.port, stream_body("auto", chunks, gap_ms, FIRST_EVENT_MS))}
    for port, _ in paths.values():  # warm-up: connection pools, imports, first-request caches
        for _ in range(2):
            stream_once(port, PATH, stream_body("auto", 2, 1.0))
    ttfb: dict[str, list[float]] = {k: [] for k in paths}
    headers: dict[str, list[float]] = {k: [] for k in paths}
    gaps: dict[str, list[float]] = {k: [] for k in paths}
    failed: Counter[str] = Counter()
    for i in range(streams):
        order = list(paths) if i % 2 == 0 else list(reversed(paths))
        for name in order:
            port, body = paths[name]
            r = stream_once(port, PATH, body, timeout=chunks * gap_ms / 1000.0 + 30.0)
            row: dict[str, Any] = {"path": name, "i": i, "status": r.status, "ok": _ok(r), "error": r.error,
                   "events": len(r.events), "t_headers_ms": _ms(r.t_headers),
                   "t_first_byte_ms": _ms(r.t_first_byte),
                   "t_first_event_ms": _ms(r.events[0] if r.events else None), "gaps_ms": _gaps_ms(r)}
            out.record("stream", row)
            if not _ok(r) or not r.events:
                failed[name] += 1
                continue
            ttfb[name].append(r.events[0] * 1000.0)
            if r.t_headers is not None:
                headers[name].append(r.t_headers * 1000.0)
            gaps[name] += row["gaps_ms"]
    rows: list[list[Any]] = []
    summary: dict[str, dict[str, float | None]] = {}
    for name in paths:
        summary[name] = {"ttfb_p50": median(ttfb[name]), "ttfb_p90": percentile(ttfb[name], 90),
                         "headers_p50": median(headers[name]), "gap_p50": median(gaps[name]),
                         "gap_p99": percentile(gaps[name], 99), "gap_max": max(gaps[name], default=None)}
        s = summary[name]
        rows.append([name, len(ttfb[name]), failed[name], fmt(s["headers_p50"]), fmt(s["ttfb_p50"]),
                     fmt(s["ttfb_p90"]), fmt(s["gap_p50"]), fmt(s["gap_p99"]), fmt(s["gap_max"])])
    d, o = summary["direct"], summary["octoroute"]
    delta = None if o["ttfb_p50"] is None or d["ttfb_p50"] is None else o["ttfb_p50"] - d["ttfb_p50"]
    gap_shift = None if o["gap_p50"] is None or d["gap_p50"] is None else o["gap_p50"] - d["gap_p50"]
    result: dict[str, Any] = {
        "ttfb_delta_ms": delta, "gap_shift_ms": gap_shift, "failed": sum(failed.values()),
        "ttfb_ok": delta is not None and delta <= TTFB_TARGET_MS and not failed,
        "gaps_ok": gap_shift is not None and abs(gap_shift) <= GAP_MEDIAN_TOLERANCE_MS}
    out.record("stream", {"summary": summary, **result})
    out.emit(f"### Streaming: {streams} streams per path, {chunks} events {gap_ms:.0f} ms apart, "
             f"first after {FIRST_EVENT_MS:.0f} ms; times in ms from connect "
             f"(load average: {load_average()})\n")
    out.emit(table(["path", "streams ok", "failed", "headers p50", "first event p50", "first event p90",
                    "gap p50", "gap p99", "gap max"], rows))
    out.emit(f"\nTime to first event through Octoroute: {_signed(delta)} ms vs direct (target ≤ "
             f"{TTFB_TARGET_MS:.0f} ms: {verdict(result['ttfb_ok'])}); median gap {fmt(o['gap_p50'])} ms vs "
             f"{fmt(d['gap_p50'])} ms direct (nominal {gap_ms:.0f}; preserved within "
             f"{GAP_MEDIAN_TOLERANCE_MS:.0f} ms: {verdict(result['gaps_ok'])}).\n")
    return result


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)


def _signed(x: float | None) -> str:
    return "-" if x is None else f"{x:+.2f}"


def health_probe(port: int) -> tuple[float, int | None]:
    """Milliseconds for one GET /health on a fresh connection, and its status."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/health")
        resp = conn.getresponse()
        resp.read()
        status: int | None = resp.status
    except (OSError, http.client.HTTPException):
        status = None
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000.0, status


def many_streams(octo: Server, out: Output, *, streams: int, chunks: int, gap_ms: float, probes: int,
                 threads: int, max_in_flight: int,
                 fewer_threads: tuple[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Hold ``streams`` slow streams through Octoroute; probe /health and memory meanwhile.

    ``fewer_threads`` is (server.threads, memory) of an idle Octoroute with fewer
    threads, to show what the idle threads themselves cost.
    """
    for _ in range(4):
        stream_once(octo.port, PATH, stream_body("auto", 3, 5.0))
    for _ in range(3):
        health_probe(octo.port)
    time.sleep(1.0)
    idle = procs.memory(octo.pid)
    stream_seconds = chunks * gap_ms / 1000.0
    pool = StreamPool(octo.port, PATH, [stream_body("auto", chunks, gap_ms)] * streams,
                      timeout=stream_seconds + 60.0).start()
    opened_at = time.monotonic()
    waited = procs.wait_for(lambda: pool.streaming() >= streams, timeout=HOLD_WAIT_S, interval=0.05)
    all_open_s = time.monotonic() - opened_at
    held_first = procs.memory(octo.pid)
    cpu0, t0 = procs.cpu_seconds(octo.pid), time.monotonic()
    spacing = max(0.05, min(0.25, (stream_seconds - all_open_s) * 0.5 / max(1, probes)))
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    open_during: list[int] = []
    for _ in range(probes):
        open_during.append(pool.streaming() - sum(1 for r in pool.readers if r.finished))
        ms, status = health_probe(octo.port)
        latencies.append(ms)
        statuses[str(status)] += 1
        time.sleep(spacing)
    held = procs.memory(octo.pid)
    cpu_pct = 100.0 * (procs.cpu_seconds(octo.pid) - cpu0) / max(1e-6, time.monotonic() - t0)
    pool.join(stream_seconds + 90.0)
    readers = pool.readers
    ok = sum(1 for r in readers if _ok(r))
    statuses_streams = Counter(str(r.status) for r in readers)
    errors = Counter((r.error or "error event")[:60] for r in readers if not _ok(r))
    rss_held = max(held_first["rss_mb"], held["rss_mb"])
    per_stream_kb = (rss_held - idle["rss_mb"]) * 1024.0 / streams
    result: dict[str, Any] = {"streams": streams, "opened": len(readers), "completed_ok": ok,
              "all_streaming_after_s": round(all_open_s, 2) if waited is not None else None,
              "min_open_during_probes": min(open_during, default=0),
              "health_p50_ms": median(latencies), "health_max_ms": max(latencies, default=None),
              "health_statuses": dict(statuses), "stream_statuses": dict(statuses_streams),
              "stream_errors": dict(errors), "idle": idle, "held": held, "held_first": held_first,
              "rss_per_stream_kb": round(per_stream_kb, 1), "cpu_pct_while_held": round(cpu_pct, 1),
              "threads": threads, "max_in_flight": max_in_flight}
    result["health_ok"] = (result["health_max_ms"] is not None and result["health_max_ms"] < HEALTH_TARGET_MS
                           and statuses.get("200") == probes and ok == streams
                           and result["min_open_during_probes"] >= streams)
    out.emit(f"### Many streams: {streams} concurrent streams of {chunks} events {gap_ms:.0f} ms apart "
             f"(~{stream_seconds:.0f} s) through Octoroute, server.threads = {threads}, "
             f"max_in_flight = {max_in_flight} (load average: {load_average()})\n")
    rows: list[list[Any]] = [
        ["streams completed with [DONE] / opened", f"{ok} / {len(readers)}"
         + (f" (errors: {dict(errors)})" if errors else "")],
        ["all streams receiving after", f"{fmt(result['all_streaming_after_s'])} s"],
        ["streams open during the probes (min)", result["min_open_during_probes"]],
        [f"/health latency p50 / max ({probes} probes, fresh connections)",
         f"{fmt(result['health_p50_ms'])} / {fmt(result['health_max_ms'])} ms "
         f"(target < {HEALTH_TARGET_MS:.0f} ms: {verdict(result['health_ok'])})"],
        ["Octoroute RSS idle → with streams", f"{idle['rss_mb']} → {rss_held} MB"],
        ["memory per held stream", f"{fmt(per_stream_kb, 0)} KB"],
        ["Octoroute threads idle → with streams (waitress starts all at start-up)",
         f"{idle['threads']} → {held['threads']}"],
        ["Octoroute CPU while holding them", f"{fmt(cpu_pct, 1)} % of a core"],
    ]
    if fewer_threads is not None and fewer_threads[0] < threads:
        few, few_mem = fewer_threads
        per_thread = (idle["rss_mb"] - few_mem["rss_mb"]) * 1024.0 / (threads - few)
        result["rss_per_idle_thread_kb"] = round(per_thread, 1)
        rows.append([f"idle RSS with {few} threads → {threads} threads",
                     f"{few_mem['rss_mb']} → {idle['rss_mb']} MB ({fmt(per_thread, 0)} KB per thread)"])
    out.record("many", result)
    out.emit(table(["figure", "value"], rows, "lr"))
    out.emit()
    return result
