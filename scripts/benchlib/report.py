"""Statistics and markdown: medians, percentiles, tables, JSON lines."""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def median(xs: Iterable[float | None]) -> float | None:
    values = [x for x in xs if x is not None]
    return statistics.median(values) if values else None


def percentile(xs: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile, ``q`` in 0..100."""
    if not xs:
        return None
    ordered = sorted(xs)
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, for section headings."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def fmt(x: float | int | None, digits: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and abs(x) >= 1000:
        return f"{x:,.0f}"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:.{digits}f}"


def ratio(a: float | None, b: float | None, digits: int = 2) -> str:
    if a is None or not b:
        return "-"
    return f"{a / b:.{digits}f}x"


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("yes" if ok else "**no**")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A markdown table; ``align`` is one letter per column, l or r (default: first l, rest r)."""
    align = align or "l" + "r" * (len(headers) - 1)
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


class Output:
    """The run's directory: JSON lines per section and the markdown report."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.report = self.dir / "report.md"

    def record(self, section: str, row: dict[str, Any]) -> None:
        with open(self.dir / f"{section}.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")

    def emit(self, text: str = "") -> None:
        """Print to stdout and append to report.md."""
        print(text, flush=True)
        with open(self.report, "a") as f:
            f.write(text + "\n")
