"""``server.cpu_affinity``: the CPU-list syntax, its validation, and a real pinned ``octoroute serve``."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from octoroute.affinity import format_cpu_list, parse_cpu_list, unavailable_reason
from octoroute.config import parse_config
from octoroute.errors import ConfigError
from test_cli import (
    Spawn,
    backends,  # noqa: F401 - fixture
    chat,
    child_env,
    config_text,
    free_port,
    one_backend_per_tier,
    problem_lines,
    run,
    script,
    spawn,  # noqa: F401 - fixture
    wait_healthy,
)

MODELS = {t: {"id": f"{t}-1", "name": "m", "base_url": "http://127.0.0.1:9/v1", "max_tokens": 16}
          for t in ("fast", "balanced", "deep")}
CAN_PIN = hasattr(os, "sched_getaffinity") and os.path.isdir("/proc/self/task")


@pytest.mark.parametrize(("value", "cpus"), [
    (1, (1,)), ("1", (1,)), (" 0 , 2-3 ", (0, 2, 3)), ("3,1,1", (1, 3)), ([2, 0], (0, 2)),
    ("0-0", (0,)), ("4095", (4095,)),
])
def test_cpu_lists_in_taskset_syntax(value: Any, cpus: tuple[int, ...]) -> None:
    assert parse_cpu_list(value) == cpus
    config = parse_config({"server": {"cpu_affinity": value}, "models": MODELS}, env={})
    assert config.server.cpu_affinity == cpus


@pytest.mark.parametrize(("value", "reason"), [
    ("", "not a CPU number"), ("a", "not a CPU number"), ("1-", "not a CPU number"),
    ("-1", "not a CPU number"), ("3-1", "runs backwards"), ("0-5000", "above 4095"),
    ("\u00b2", "not a CPU number"), (-1, "from 0 to 4095"), (4096, "from 0 to 4095"),
    (True, "not true/false"), ([], "at least one integer"), (["1"], "at least one integer"),
    ([True], "at least one integer"), (1.5, "not float"), ({"cpu": 1}, "not dict"),
])
def test_bad_cpu_lists_name_the_key_the_problem_and_the_fix(value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_cpu_list(value)
    with pytest.raises(ConfigError) as caught:
        parse_config({"server": {"cpu_affinity": value}, "models": MODELS}, env={})
    [problem] = caught.value.problems
    assert problem.startswith("server.cpu_affinity: must be CPU numbers") and reason in problem
    assert 'write e.g. cpu_affinity = "1"' in problem


def test_default_is_no_pinning() -> None:
    assert parse_config({"models": MODELS}, env={}).server.cpu_affinity is None


@pytest.mark.parametrize(("cpus", "text"), [
    ([0], "0"), ([0, 1, 2, 5], "0-2,5"), ([7, 3, 4], "3-4,7"), ([1, 3, 5], "1,3,5"), ([], ""),
])
def test_cpu_lists_print_compactly(cpus: list[int], text: str) -> None:
    assert format_cpu_list(cpus) == text


def test_unavailable_cpus_are_named_with_what_is_available() -> None:
    if not CAN_PIN:
        pytest.skip("this platform cannot pin (covered by the next test)")
    available = os.sched_getaffinity(0)
    assert unavailable_reason(tuple(sorted(available))) is None
    reason = unavailable_reason((4095,))
    assert reason is not None
    assert "CPU 4095 is not available" in reason and f"(available: {format_cpu_list(available)})" in reason


def test_without_os_support_pinning_is_refused_with_the_alternative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    reason = unavailable_reason((0,))
    assert reason is not None and "needs Linux" in reason and "remove server.cpu_affinity" in reason


def thread_affinities(pid: int) -> dict[int, set[int]]:
    """Every thread of ``pid`` and the CPUs it may run on."""
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            found[int(tid)] = set(os.sched_getaffinity(int(tid)))
        except ProcessLookupError:
            continue
    return found


def pinned_config(tmp_path: Path, urls: dict[str, str | list[str]], cpus: str) -> Path:
    cfg = tmp_path / "pinned.toml"
    cfg.write_text(config_text(urls).replace("[server]\nthreads = 4\n",
                                             f'[server]\nthreads = 4\ncpu_affinity = "{cpus}"\n'),
                   encoding="utf-8")
    return cfg


@pytest.mark.skipif(not CAN_PIN, reason="needs Linux's sched_setaffinity and /proc")
@pytest.mark.parametrize("runner", ["octoroute serve", "waitress-serve --call"])
def test_every_thread_is_pinned_and_the_server_still_serves(
        runner: str, tmp_path: Path, spawn: Spawn, backends: Any) -> None:  # noqa: F811 - fixtures
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        pytest.skip("needs two CPUs to tell a pinned server from an unpinned one")
    cpu = available[-1]
    sims = one_backend_per_tier(backends)
    cfg = pinned_config(tmp_path, {t: b.base_url for t, b in sims.items()}, str(cpu))
    port = free_port()
    if runner == "octoroute serve":
        child = spawn(script("octoroute"), "serve", "--config", str(cfg), "--port", str(port))
        line = child.wait_for("stderr", "listening on")
        assert f"pinned to CPU {cpu})" in line, line
    else:
        child = spawn(script("waitress-serve"), "--host", "127.0.0.1", "--port", str(port), "--threads", "4",
                      "--call", "octoroute.app:create_app", env=child_env(OCTOROUTE_CONFIG=str(cfg)))
        child.wait_for("stderr", f"pinned to CPU {cpu} (server.cpu_affinity)")
        wait_healthy(child, f"http://127.0.0.1:{port}")
    assert chat(f"http://127.0.0.1:{port}", {"prompt": "hi there!"})["tier"] == "fast"

    threads = thread_affinities(child.proc.pid)
    # the main thread, the log writer (started before pinning), the health thread, 4 workers
    assert len(threads) >= 7, threads
    assert all(cpus == {cpu} for cpus in threads.values()), threads


@pytest.mark.skipif(not CAN_PIN, reason="needs Linux's sched_setaffinity and /proc")
@pytest.mark.parametrize("command", ["serve", "check", "waitress-serve"])
def test_a_cpu_this_machine_lacks_stops_serve_and_check(command: str, tmp_path: Path) -> None:
    cfg = pinned_config(tmp_path, {t: "http://127.0.0.1:9/v1" for t in ("fast", "balanced", "deep")}, "4095")
    if command == "waitress-serve":
        done = run(script("waitress-serve"), "--host", "127.0.0.1", "--port", str(free_port()),
                   "--call", "octoroute.app:create_app", cwd=tmp_path,
                   env=child_env(OCTOROUTE_CONFIG=str(cfg)), timeout=30)
    else:
        done = run(script("octoroute"), command, "--config", str(cfg), cwd=tmp_path, timeout=30)
    if command == "waitress-serve":  # create_app prints the error's one-paragraph form
        assert done.returncode != 0, done
        assert "server.cpu_affinity: CPU 4095 is not available" in done.stderr, done.stderr
    else:
        assert done.returncode == 1, done
        [problem] = problem_lines(done.stderr)
        assert problem.startswith("  - server.cpu_affinity: CPU 4095 is not available"), done.stderr
    assert str(cfg) in done.stderr and "Traceback" not in done.stderr
    assert "listening on" not in done.stderr and "Serving on" not in done.stdout + done.stderr


@pytest.mark.skipif(not CAN_PIN, reason="needs Linux's sched_setaffinity and /proc")
def test_a_reload_keeps_the_pinning_and_says_a_change_needs_a_restart(
        tmp_path: Path, spawn: Spawn, backends: Any) -> None:  # noqa: F811 - fixtures
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        pytest.skip("needs two CPUs to tell a pinned server from an unpinned one")
    first, other = available[-1], available[0]
    sims = one_backend_per_tier(backends)
    urls: dict[str, str | list[str]] = {t: b.base_url for t, b in sims.items()}
    cfg = pinned_config(tmp_path, urls, str(first))
    port = free_port()
    child = spawn(script("octoroute"), "serve", "--config", str(cfg), "--port", str(port))
    child.wait_for("stderr", "listening on")
    before = set(thread_affinities(child.proc.pid))

    pinned_config(tmp_path, urls, str(other))  # rewrites the same file
    child.proc.send_signal(signal.SIGHUP)
    line = child.wait_for("stderr", "takes a restart")
    assert "server.cpu_affinity changed" in line, line
    child.wait_for("stderr", "reloaded config from")
    assert chat(f"http://127.0.0.1:{port}", {"prompt": "hi there!"})["tier"] == "fast"
    threads = thread_affinities(child.proc.pid)
    assert set(threads) - before, "the reload started no thread (new health checker, log writer)"
    assert all(cpus == {first} for cpus in threads.values()), threads
