"""The endpoint registry: health counting, cool-downs, snapshots and concurrent updates."""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from types import MappingProxyType

import pytest
from octoroute.backends.registry import (
    DEFAULT_COOLDOWN_S,
    MAX_COOLDOWN_S,
    EndpointState,
    Registry,
)
from octoroute.config import EndpointConfig


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def endpoint(endpoint_id: str, tier: str = "fast") -> EndpointConfig:
    return EndpointConfig(id=endpoint_id, name=endpoint_id, tier=tier,
                          base_url=f"http://{endpoint_id}:1/v1", max_tokens=100)


Transitions = list[tuple[EndpointState, EndpointState]]


def make(ids: tuple[str, ...] = ("a", "b", "c"), *, unhealthy_after: int = 3,
         clock: FakeClock | None = None) -> tuple[Registry, FakeClock, Transitions]:
    clock = clock or FakeClock()
    calls: Transitions = []
    registry = Registry([endpoint(i) for i in ids], unhealthy_after=unhealthy_after, clock=clock,
                        listener=lambda old, new: calls.append((old, new)))
    return registry, clock, calls


# --- initial state ------------------------------------------------------------


def test_starts_healthy_in_config_order() -> None:
    registry, _, calls = make(("z", "a", "m"))
    snap = registry.snapshot()
    assert list(snap) == ["z", "a", "m"]
    for s in snap.values():
        assert s.healthy is True
        assert (s.consecutive_failures, s.in_flight, s.cooldown_until) == (0, 0, 0.0)
        assert s.last_check is None and s.last_success is None and s.last_error is None
    assert calls == []


def test_get_and_now() -> None:
    registry, clock, _ = make()
    assert registry.get("b").endpoint.id == "b"
    clock.now = 42.5
    assert registry.now() == 42.5
    with pytest.raises(KeyError):
        registry.get("nope")


def test_unknown_endpoint_update_raises_key_error() -> None:
    registry, _, _ = make()
    with pytest.raises(KeyError):
        registry.record_failure("nope", "x")


# --- health counting ------------------------------------------------------------


@pytest.mark.parametrize("threshold", [1, 2, 3, 5, 10])
def test_unhealthy_exactly_at_the_threshold(threshold: int) -> None:
    registry, _, _ = make(unhealthy_after=threshold)
    for i in range(1, threshold):
        s = registry.record_failure("a", f"err {i}")
        assert s.healthy, f"unhealthy after {i} < {threshold} failures"
        assert s.consecutive_failures == i
    s = registry.record_failure("a", "last")
    assert s.healthy is False
    assert s.consecutive_failures == threshold
    s = registry.record_failure("a", "more")
    assert s.healthy is False
    assert s.consecutive_failures == threshold + 1


def test_failure_records_error_and_time() -> None:
    registry, clock, _ = make()
    clock.now = 1234.0
    s = registry.record_failure("a", "connect refused")
    assert (s.last_error, s.last_check, s.last_success) == ("connect refused", 1234.0, None)
    assert registry.get("a") == s
    assert registry.get("b").consecutive_failures == 0  # other endpoints untouched


def test_one_success_marks_healthy_and_resets() -> None:
    registry, clock, _ = make(unhealthy_after=2)
    registry.record_failure("a", "x")
    registry.record_failure("a", "y")
    assert not registry.get("a").healthy
    clock.now = 2000.0
    s = registry.record_success("a")
    assert s.healthy is True
    assert s.consecutive_failures == 0
    assert s.last_error is None
    assert s.last_check == s.last_success == 2000.0


def test_success_between_failures_resets_the_count() -> None:
    registry, _, _ = make(unhealthy_after=3)
    for _ in range(3):
        registry.record_failure("a", "x")
        registry.record_failure("a", "x")
        registry.record_success("a")
    assert registry.get("a").healthy
    assert registry.get("a").consecutive_failures == 0


def test_neutral_outcome_changes_no_health() -> None:
    registry, clock, _ = make(unhealthy_after=2)
    registry.record_failure("a", "boom")
    registry.begin("a")
    clock.now = 1500.0
    s = registry.record_neutral("a")
    assert (s.healthy, s.consecutive_failures, s.last_error, s.in_flight) == (True, 1, "boom", 0)
    assert s.last_check == 1500.0


# --- rate limiting ------------------------------------------------------------


def test_rate_limited_default_cooldown() -> None:
    registry, clock, _ = make()
    s = registry.record_rate_limited("a", None)
    assert DEFAULT_COOLDOWN_S == 5.0
    assert s.cooldown_until == clock.now + 5.0
    assert s.cooling(clock.now)
    assert s.cooling(clock.now + 4.999)
    assert not s.cooling(clock.now + 5.0)
    assert "429" in (s.last_error or "")


@pytest.mark.parametrize(("retry_after", "wait"), [
    (0.5, 0.5), (12, 12), (60, 60), (61, 60), (3600, 60), (float("inf"), 60), (-3, 0), (0, 0),
])
def test_rate_limited_retry_after_is_capped(retry_after: float, wait: float) -> None:
    registry, clock, _ = make()
    assert MAX_COOLDOWN_S == 60.0
    s = registry.record_rate_limited("a", retry_after)
    assert s.cooldown_until == clock.now + wait


def test_rate_limited_does_not_count_as_failure() -> None:
    registry, _, calls = make(unhealthy_after=2)
    registry.record_failure("a", "x")
    for _ in range(10):
        s = registry.record_rate_limited("a", 1)
    assert s.healthy is True
    assert s.consecutive_failures == 1
    assert calls == []


def test_rate_limited_leaves_an_unhealthy_endpoint_unhealthy() -> None:
    registry, _, _ = make(unhealthy_after=1)
    registry.record_failure("a", "x")
    s = registry.record_rate_limited("a", None)
    assert s.healthy is False
    assert s.consecutive_failures == 1


def test_cooldown_never_shrinks() -> None:
    registry, clock, _ = make()
    registry.record_rate_limited("a", 60)
    s = registry.record_rate_limited("a", 1)
    assert s.cooldown_until == clock.now + 60
    clock.advance(59)
    s = registry.record_rate_limited("a", 10)
    assert s.cooldown_until == clock.now + 10  # a later, longer wait extends it


# --- in flight ------------------------------------------------------------------


def test_begin_and_end() -> None:
    registry, _, _ = make()
    registry.begin("a")
    registry.begin("a")
    assert registry.get("a").in_flight == 2
    registry.end("a")
    assert registry.get("a").in_flight == 1
    registry.end("a")
    registry.end("a")  # never below zero
    assert registry.get("a").in_flight == 0


@pytest.mark.parametrize("outcome", [
    lambda r: r.record_success("a", finished=True),
    lambda r: r.record_failure("a", "x", finished=True),
    lambda r: r.record_rate_limited("a", None, finished=True),
    lambda r: r.record_neutral("a", finished=True),
    lambda r: r.record_neutral("a"),
], ids=["success", "failure", "rate_limited", "neutral", "neutral-default"])
def test_finished_outcome_ends_the_in_flight_count(outcome: Callable[[Registry], object]) -> None:
    registry, _, _ = make()
    registry.begin("a")
    registry.begin("a")
    outcome(registry)
    assert registry.get("a").in_flight == 1
    outcome(registry)
    outcome(registry)
    assert registry.get("a").in_flight == 0


@pytest.mark.parametrize("outcome", [
    lambda r: r.record_success("a"),
    lambda r: r.record_failure("a", "x"),
    lambda r: r.record_rate_limited("a", None),
    lambda r: r.record_neutral("a", finished=False),
], ids=["success", "failure", "rate_limited", "neutral"])
def test_unfinished_outcome_keeps_the_in_flight_count(outcome: Callable[[Registry], object]) -> None:
    registry, _, _ = make()
    registry.begin("a")
    outcome(registry)
    assert registry.get("a").in_flight == 1


# --- listener ------------------------------------------------------------------


def test_listener_called_on_transitions_only() -> None:
    registry, _, calls = make(unhealthy_after=2)
    registry.record_failure("a", "1")
    registry.begin("a")
    registry.end("a")
    assert calls == []
    registry.record_failure("a", "2")
    assert len(calls) == 1
    old, new = calls[0]
    assert (old.healthy, new.healthy) == (True, False)
    assert new.consecutive_failures == 2 and new.last_error == "2"
    registry.record_failure("a", "3")
    registry.record_rate_limited("a", None)
    registry.record_neutral("a")
    assert len(calls) == 1
    registry.record_success("a")
    assert len(calls) == 2
    old, new = calls[1]
    assert (old.healthy, new.healthy) == (False, True)
    registry.record_success("a")
    assert len(calls) == 2


def test_no_listener_is_fine() -> None:
    registry = Registry([endpoint("a")], unhealthy_after=1, clock=FakeClock())
    registry.record_failure("a", "x")
    registry.record_success("a")
    assert registry.get("a").healthy


def test_transitions_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    registry, _, _ = make(unhealthy_after=1)
    with caplog.at_level(logging.INFO, logger="octoroute.health"):
        registry.record_failure("a", "refused")
        registry.record_failure("a", "refused again")
        registry.record_success("a")
    messages = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "octoroute.health"]
    assert len(messages) == 2
    assert messages[0][0] == logging.WARNING and "a" in messages[0][1] and "refused" in messages[0][1]
    assert messages[1][0] == logging.INFO and "healthy" in messages[1][1]


# --- snapshots ------------------------------------------------------------------


def test_snapshot_is_read_only() -> None:
    registry, _, _ = make()
    snap = registry.snapshot()
    assert isinstance(snap, MappingProxyType)
    with pytest.raises(TypeError):
        snap["a"] = snap["b"]  # type: ignore[index]
    with pytest.raises(TypeError):
        del snap["a"]  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap["a"].healthy = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap["a"].endpoint.weight = 2.0  # type: ignore[misc]


def test_old_snapshot_does_not_change_after_updates() -> None:
    registry, _, _ = make(unhealthy_after=1)
    before = registry.snapshot()
    a_before = before["a"]
    registry.begin("a")
    registry.record_failure("a", "x")
    registry.record_rate_limited("b", None)
    after = registry.snapshot()
    assert after is not before
    assert before["a"] is a_before
    assert (a_before.healthy, a_before.in_flight, a_before.consecutive_failures) == (True, 0, 0)
    assert before["b"].cooldown_until == 0.0
    assert (after["a"].healthy, after["a"].in_flight) == (False, 1)
    assert after["c"] is before["c"]  # untouched states are shared, not copied


def test_snapshot_of_a_new_registry_is_stable_without_updates() -> None:
    registry, _, _ = make()
    assert registry.snapshot() is registry.snapshot()


# --- concurrency ----------------------------------------------------------------

THREADS = 8
ROUNDS = 500


@pytest.fixture(autouse=True)
def fast_thread_switching() -> Iterator[None]:
    """Switch threads often, so a missing lock shows up as lost updates in every run."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def run_together(target: Callable[[int], None], n: int = THREADS) -> None:
    """Start ``n`` threads at the same instant and wait for all of them."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            target(i)
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,), name=f"test-registry-{i}", daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    assert errors == []


def test_concurrent_failures_are_never_lost() -> None:
    registry, _, calls = make(unhealthy_after=10**9)

    def work(_: int) -> None:
        for _ in range(ROUNDS):
            registry.record_failure("a", "x")

    run_together(work)
    assert registry.get("a").consecutive_failures == THREADS * ROUNDS
    assert calls == []


def test_concurrent_begins_are_never_lost() -> None:
    registry, _, _ = make()

    def work(i: int) -> None:
        for _ in range(ROUNDS):
            registry.begin("abc"[i % 3])

    run_together(work)
    snap = registry.snapshot()
    assert sum(s.in_flight for s in snap.values()) == THREADS * ROUNDS
    assert snap["a"].in_flight == ROUNDS * len([i for i in range(THREADS) if i % 3 == 0])


def test_concurrent_begin_end_pairs_balance() -> None:
    registry, _, _ = make()

    def work(i: int) -> None:
        for r in range(ROUNDS):
            eid = "abc"[(i + r) % 3]
            registry.begin(eid)
            if r % 4 == 0:
                registry.end(eid)
            elif r % 4 == 1:
                registry.record_success(eid, finished=True)
            elif r % 4 == 2:
                registry.record_failure(eid, "x", finished=True)
            else:
                registry.record_rate_limited(eid, 1, finished=True)

    run_together(work)
    assert all(s.in_flight == 0 for s in registry.snapshot().values())


def test_concurrent_overlapping_requests_balance() -> None:
    """Each thread holds several requests open at once before finishing them."""
    registry, _, _ = make(("only",))

    def work(_: int) -> None:
        for _ in range(ROUNDS // 5):
            for _ in range(5):
                registry.begin("only")
            for _ in range(5):
                registry.record_neutral("only")

    run_together(work)
    assert registry.get("only").in_flight == 0


def test_concurrent_transitions_are_consistent() -> None:
    """Every health flip is reported once; the reported flips add up to the final state."""
    registry, _, calls = make(("a",), unhealthy_after=1)
    lock = threading.Lock()
    counted = {"failures": 0, "successes": 0}

    def work(i: int) -> None:
        for r in range(ROUNDS):
            if (i + r) % 2:
                registry.record_failure("a", "x")
                key = "failures"
            else:
                registry.record_success("a")
                key = "successes"
            with lock:
                counted[key] += 1

    run_together(work)
    down = sum(1 for old, new in calls if old.healthy and not new.healthy)
    up = sum(1 for old, new in calls if not old.healthy and new.healthy)
    assert down + up == len(calls)  # the listener only ever sees real flips
    assert down - up == (0 if registry.get("a").healthy else 1)
    assert counted == {"failures": THREADS * ROUNDS // 2, "successes": THREADS * ROUNDS // 2}
    assert down >= 1


def test_readers_see_whole_snapshots_during_writes() -> None:
    registry, _, _ = make(unhealthy_after=2)
    ids = {"a", "b", "c"}
    stop = threading.Event()
    bad: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            snap = registry.snapshot()
            if set(snap) != ids or any(s.in_flight < 0 for s in snap.values()):
                bad.append(repr(snap))
            if not isinstance(snap, MappingProxyType):
                bad.append(type(snap).__name__)

    readers = [threading.Thread(target=reader, name=f"test-reader-{i}", daemon=True) for i in range(2)]
    for t in readers:
        t.start()
    try:
        def work(i: int) -> None:
            for r in range(ROUNDS // 5):
                eid = "abc"[(i + r) % 3]
                registry.begin(eid)
                registry.record_failure(eid, "x", finished=True)
                registry.record_success(eid)

        run_together(work)
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=10)
    assert not any(t.is_alive() for t in readers)
    assert bad == []
    assert all(s.healthy and s.in_flight == 0 for s in registry.snapshot().values())


def test_set_facts_replaces_the_servers_facts_and_leaves_health_alone() -> None:
    from octoroute.backends.facts import ServerFacts
    reg, _clock, _calls = make(("fast-1",))
    reg.record_failure("fast-1", "boom")
    before = reg.get("fast-1")
    facts = ServerFacts(kind="ollama", models=("qwen3:8b",), model_found=True, context_window=8192)
    after = reg.set_facts("fast-1", facts)
    assert after.facts == facts and after.facts.evolve(kind="vllm").kind == "vllm"
    assert after.consecutive_failures == before.consecutive_failures == 1
    assert reg.set_facts("fast-1", ServerFacts(**vars(facts))) is reg.get("fast-1")  # equal: no swap
    assert ServerFacts().kind is None
