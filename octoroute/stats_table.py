"""``octoroute stats``: read ``/stats`` from a running server and print it as terminal tables.

Standard library only (urllib): the command talks to our own server, not to a
backend, so it needs none of the backend client stack.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

KEY_ENV = "OCTOROUTE_API_KEY"  # the client key octoroute stats sends, when the server has keys
WINDOWS = ("total", "hour", "day")
WINDOW_TITLES = {"total": "since start", "hour": "last hour", "day": "last day"}


class StatsUnavailable(Exception):
    """``/stats`` could not be read; the message says why and what to do."""


def fetch(url: str, *, key: str | None, timeout: float, path: str = "/stats") -> dict[str, Any]:
    """GET ``<url><path>`` (``/stats``) as JSON; raise ``StatsUnavailable`` with a readable reason."""
    target = url.rstrip("/") + path
    headers = {"Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        with urllib.request.urlopen(urllib.request.Request(target, headers=headers), timeout=timeout) as resp:
            data = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        hint = ""
        if exc.code == 401:
            hint = (f"; set {KEY_ENV} to a client key" if not key
                    else f"; the key in {KEY_ENV} was refused")
        raise StatsUnavailable(f"{target} answered HTTP {exc.code}{hint}") from None
    except (urllib.error.URLError, OSError) as exc:
        why = getattr(exc, "reason", exc)
        raise StatsUnavailable(f"cannot reach {target} ({why}); is octoroute serve running there? "
                               "(--url)") from None
    except ValueError:
        raise StatsUnavailable(f"{target} did not answer JSON; is that an Octoroute server?") from None
    if not isinstance(data, dict) or (path == "/stats" and data.get("version") != 1):
        raise StatsUnavailable(f"{target} answered an unknown format (expected version 1)")
    return data


def _n(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _big(value: float | None) -> str:
    """A compute figure (tokens x billions of parameters) in a few digits."""
    if value is None:
        return "-"
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns, two spaces apart, the first row a header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]


def render(data: Mapping[str, Any], *, url: str, window: str = "total") -> str:
    """The whole report: windows side by side, then tiers, endpoints, fallbacks, brain."""
    windows = data["windows"]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(data["started_at"]))
    lines = [f"Octoroute at {url}: up {_duration(data['uptime_seconds'])} (since {started})", ""]
    summary = [["", *(WINDOW_TITLES[w] for w in WINDOWS)]]
    summary.append(["requests", *(_n(windows[w]["requests"]) for w in WINDOWS)])
    summary.append(["errors", *(_n(windows[w]["errors"]) for w in WINDOWS)])
    summary.append(["tokens in", *(_n(windows[w]["tokens_in"]) for w in WINDOWS)])
    summary.append(["tokens out", *(_n(windows[w]["tokens_out"]) for w in WINDOWS)])
    summary.append(["tokens estimated", *(_n(windows[w]["tokens_estimated"]) for w in WINDOWS)])
    summary.append(["compute (tok x B)", *(_big(windows[w]["compute_units"]) for w in WINDOWS)])
    summary.append(["if all deep", *(_big(windows[w]["compute_always_deep"]) for w in WINDOWS)])
    summary.append(["compute saved", *(_pct(windows[w]["saved_ratio"]) for w in WINDOWS)])
    if windows["total"].get("cost") is not None:
        summary.append(["cost", *(f"{windows[w]['cost']:.4f}" for w in WINDOWS)])
    if windows["total"].get("energy_wh") is not None:
        summary.append(["energy (Wh)", *(f"{windows[w]['energy_wh']:.2f}" for w in WINDOWS)])
    lines += table(summary)

    w = windows[window]
    lines += ["", f"By tier ({WINDOW_TITLES[window]}):"]
    rows = [["TIER", "REQUESTS", "ERRORS", "TOKENS IN", "TOKENS OUT", "COMPUTE", "P50 MS", "P95 MS",
             "TTFT P50", "TTFT P95"]]
    for tier, t in w["by_tier"].items():
        rows.append([tier, _n(t["requests"]), _n(t["errors"]), _n(t["tokens_in"]), _n(t["tokens_out"]),
                     _big(t["compute_units"]), _n(t["latency_ms"]["p50"]), _n(t["latency_ms"]["p95"]),
                     _n(t["ttft_ms"]["p50"]), _n(t["ttft_ms"]["p95"])])
    lines += table(rows)

    health = {h["id"]: h for h in data.get("health", [])}
    lines += ["", f"By endpoint ({WINDOW_TITLES[window]}):"]
    rows = [["ENDPOINT", "TIER", "PARAMS", "HEALTHY", "IN FLIGHT", "REQUESTS", "ERRORS", "TOKENS IN",
             "TOKENS OUT", "P50 MS", "P95 MS"]]
    for endpoint_id, e in w["by_endpoint"].items():
        h = health.get(endpoint_id, {})
        healthy = "-" if not h else ("yes" if h.get("healthy") else "NO")
        rows.append([endpoint_id, e["tier"], f"{data['params_b'].get(endpoint_id, 0):g}B", healthy,
                     _n(h.get("in_flight")), _n(e["requests"]), _n(e["errors"]), _n(e["tokens_in"]),
                     _n(e["tokens_out"]), _n(e["latency_ms"]["p50"]), _n(e["latency_ms"]["p95"])])
    lines += table(rows)

    fallbacks = w["fallbacks"]
    lines += ["", "Fallbacks: " + (", ".join(f"{k} {v}" for k, v in fallbacks.items()) or "none")]
    brain = w["brain"]
    lines.append(f"Router brain: asked {brain['asked']}, agreed with the scorer {brain['agreed']}, "
                 f"failed {brain.get('failed', 0)}")
    return "\n".join(lines)
