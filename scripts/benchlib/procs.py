"""Child processes the bench starts, and what /proc says about them.

Every server runs in its own session (so its workers share one process
group) and is recorded in a ``Procs`` registry; ``stop_all`` signals only
those groups, on normal exit, on an error and on Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

log = logging.getLogger("bench")

TICK = os.sysconf("SC_CLK_TCK")
STOP_TIMEOUT_S = 10.0  # seconds a server gets to exit after its stop signal, then SIGKILL


@dataclass
class Child:
    name: str
    popen: subprocess.Popen[bytes]
    stop_signal: int = signal.SIGTERM
    log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid


class Procs:
    """The servers this run started; stops them all, and only them."""

    def __init__(self) -> None:
        self._children: list[Child] = []

    def spawn(self, name: str, cmd: Sequence[str], *, log_path: str, env: Mapping[str, str] | None = None,
              cwd: str | None = None, stop_signal: int = signal.SIGTERM) -> Child:
        log_file = open(log_path, "ab")  # closed in stop()
        popen = subprocess.Popen(list(cmd), stdout=log_file, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True,
                                 env=dict(env) if env is not None else None, cwd=cwd)
        child = Child(name, popen, stop_signal, log_file)
        self._children.append(child)
        return child

    def stop(self, child: Child, timeout: float = STOP_TIMEOUT_S) -> None:
        """Signal the child's process group, wait, and SIGKILL the group if it lingers."""
        if child.popen.poll() is None:
            _killpg(child.pid, child.stop_signal)
            try:
                child.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s (pid %d) ignored its stop signal; killing it", child.name, child.pid)
                _killpg(child.pid, signal.SIGKILL)
                child.popen.wait(5)
        # Workers of a server whose master already exited (nginx) share its group.
        _killpg(child.pid, signal.SIGKILL)
        if child.log_file is not None:
            child.log_file.close()
        if child in self._children:
            self._children.remove(child)

    def stop_all(self) -> None:
        for child in reversed(list(self._children)):
            try:
                self.stop(child)
            except Exception as exc:  # one stubborn child must not leave the others running
                log.error("could not stop %s (pid %d): %s", child.name, child.pid, exc)

    def pids(self) -> list[int]:
        return [c.pid for c in self._children if c.popen.poll() is None]


def _killpg(pgid: int, sig: int) -> None:
    """Signal a group this run created (a gone group is fine)."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], *, timeout: float, interval: float = 0.02,
             alive: Callable[[], bool] | None = None) -> float | None:
    """Poll ``check`` until true; seconds waited, or None on timeout or when ``alive`` fails."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        if alive is not None and not alive():
            return None
        time.sleep(interval)
    return None


# --- /proc ------------------------------------------------------------------

def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    seen: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return seen


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the live process tree under ``pid``."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / TICK


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(pid: int) -> dict[str, float]:
    """RSS and PSS (MB) summed over the tree, plus its process and thread counts."""
    procs = [p for p in tree(pid) if os.path.exists(f"/proc/{p}")]
    rss = sum(_status_kb(p, "VmRSS") for p in procs)
    pss = 0
    for p in procs:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                        break
        except OSError:
            pass
    threads = sum(_status_kb(p, "Threads") for p in procs)
    return {"rss_mb": round(rss / 1024, 1), "pss_mb": round(pss / 1024, 1), "procs": len(procs),
            "threads": threads}


def context_switches(pid: int) -> int:
    """Voluntary + involuntary context switches of every thread in the tree under ``pid``."""
    total = 0
    for p in tree(pid):
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/status") as f:
                    for line in f:
                        if "ctxt_switches:" in line:
                            total += int(line.split()[1])
            except (OSError, ValueError, IndexError):
                pass
    return total


def host_cpu() -> tuple[int, int, int]:
    """(total, idle + iowait, user + nice + system) ticks from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4], v[0] + v[1] + v[2]


def children_cpu_seconds() -> float:
    """CPU of this process's waited-for children (wrk runs)."""
    t = os.times()
    return t.children_user + t.children_system
