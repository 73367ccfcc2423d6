"""Pin the server to CPUs (``server.cpu_affinity``).

Only one thread runs Python at a time. With the worker threads free to run on
both cores of a small box, every hand-over of the interpreter lock between
them is a cross-CPU wake-up; pinned to one core, the same server measured
+44-50% requests per second at 8 and 32 connections and a quarter of the
pass-through's CPU per request (README, Performance). It is a setting, not the
default: on a box whose model server keeps every core busy, a pinned router
cannot move off a busy core.

Linux applies an affinity mask per thread and a new thread inherits its
creator's, so every thread that already exists is pinned too (the log writer
starts before the server), not just the calling one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from octoroute.errors import ConfigError

MAX_CPU = 4095  # highest CPU number accepted in a list (Linux's default NR_CPUS ceiling)


def parse_cpu_list(value: object) -> tuple[int, ...]:
    """CPUs from ``1``, ``"1"``, ``"0,2-3"`` (taskset -c / systemd CPUAffinity= syntax) or ``[0, 2]``.

    Raises ``ValueError`` saying what is wrong; the result is sorted and unique.
    """
    if isinstance(value, bool):
        raise ValueError("a CPU number or list, not true/false")
    if isinstance(value, int):
        items: list[int] = [value]
    elif isinstance(value, list):
        if not value or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ValueError("an array of CPU numbers must hold at least one integer and nothing else")
        items = list(value)
    elif isinstance(value, str):
        items = []
        for part in value.split(","):
            part = part.strip()
            low, dash, high = part.partition("-")
            if not _digits(low) or (dash and not _digits(high)):
                raise ValueError(f"{part!r} is not a CPU number or a range like 0-3")
            first, last = int(low), int(high) if dash else int(low)
            if last < first:
                raise ValueError(f"range {part!r} runs backwards")
            if last > MAX_CPU:
                raise ValueError(f"CPU {last} is above {MAX_CPU}")
            items.extend(range(first, last + 1))
    else:
        raise ValueError(f"a CPU number or list, not {type(value).__name__}")
    if any(not 0 <= cpu <= MAX_CPU for cpu in items):
        raise ValueError(f"CPU numbers run from 0 to {MAX_CPU}")
    return tuple(sorted(set(items)))


def _digits(text: str) -> bool:
    text = text.strip()
    return text.isascii() and text.isdigit()


def format_cpu_list(cpus: Iterable[int]) -> str:
    """``0-2,5``: the compact form, for messages."""
    runs: list[list[int]] = []
    for cpu in sorted(set(cpus)):
        if runs and cpu == runs[-1][1] + 1:
            runs[-1][1] = cpu
        else:
            runs.append([cpu, cpu])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def available_cpus() -> set[int] | None:
    """The CPUs this process may use; None where the OS cannot pin (macOS, Windows)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    return set(os.sched_getaffinity(0))


def unavailable_reason(cpus: tuple[int, ...]) -> str | None:
    """Why ``cpus`` cannot be applied here, with the fix; None when they can."""
    available = available_cpus()
    if available is None:
        return ("pinning needs Linux (os.sched_setaffinity); remove server.cpu_affinity and use "
                "the platform's own tool")
    missing = sorted(set(cpus) - available)
    if missing:
        return (f"CPU {format_cpu_list(missing)} is not available to this process (available: "
                f"{format_cpu_list(available)}); pick from those")
    return None


def check(cpus: tuple[int, ...], source: str) -> None:
    """Raise ``ConfigError`` (reported like any config problem) when ``cpus`` cannot be applied here."""
    reason = unavailable_reason(cpus)
    if reason is not None:
        raise ConfigError([f"server.cpu_affinity: {reason}"], source)


def pin(cpus: tuple[int, ...], source: str) -> None:
    """Pin every thread of this process to ``cpus``; threads started later inherit it.

    Raises ``ConfigError`` when the CPUs are not available or the kernel refuses.
    """
    check(cpus, source)
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:  # no /proc: the calling thread is all we can reach
        threads = [0]
    try:
        for tid in threads:
            try:
                os.sched_setaffinity(tid, cpus)
            except ProcessLookupError:  # the thread ended meanwhile
                continue
    except OSError as exc:  # a CPU went offline since the check
        raise ConfigError([f"server.cpu_affinity: the kernel refused to pin to CPU "
                           f"{format_cpu_list(cpus)} ({exc.strerror}); pick another"], source) from None
