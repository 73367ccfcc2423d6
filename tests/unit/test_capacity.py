"""Busy- and residency-aware choice and the [busy.<tier>] policies, with an injected clock.

Every wait here is on the registry's condition or a test event: the queue is
woken by a state change, so the tests release it by changing state, never by
sleeping.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from octoroute.backends.capacity import (
    BusyGate,
    capacity,
    choose,
    gauge_view,
    has_room,
    load_view,
    running,
    saturated,
    would_evict,
)
from octoroute.backends.facts import ServerFacts
from octoroute.backends.health import HealthChecker
from octoroute.backends.registry import EndpointState, Registry
from octoroute.config import BusyConfig, BusyTierConfig, EndpointConfig
from octoroute.errors import ClientGone, UpstreamUnavailable
from octoroute.metrics import Metrics
from prometheus_client import CollectorRegistry

WAIT_S = 5.0  # seconds; a bound on event waits that only a broken test reaches
POLL_S = 0.01  # seconds; how often a queued request looks for its client in these tests


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def ep(endpoint_id: str, *, tier: str = "deep", capacity: int | None = None, priority: int = 1,
       weight: float = 1.0, host: str | None = None, name: str | None = None,
       kind: str = "auto") -> EndpointConfig:
    return EndpointConfig(id=endpoint_id, name=name or f"model-{endpoint_id}", tier=tier,
                          base_url=f"http://{host or endpoint_id}:8080/v1", max_tokens=1024,
                          capacity=capacity, priority=priority, weight=weight, kind=kind)


def st(endpoint: EndpointConfig, *, in_flight: int = 0, **facts: Any) -> EndpointState:
    return EndpointState(endpoint=endpoint, in_flight=in_flight, facts=ServerFacts(**facts))


def states(*items: EndpointState) -> dict[str, EndpointState]:
    return {s.endpoint.id: s for s in items}


class NoRandom(random.Random):
    def random(self) -> float:
        raise AssertionError("rng must not be used here")


# --- capacity and saturation --------------------------------------------------------------


def test_capacity_is_config_else_server_slots_else_one() -> None:
    assert capacity(st(ep("a", capacity=3), total_slots=8)) == 3
    assert capacity(st(ep("a"), total_slots=4)) == 4
    assert capacity(st(ep("a"))) == 1
    assert capacity(st(ep("a"), total_slots=0)) == 1  # a nonsense figure is not a capacity


def test_saturation_takes_the_larger_of_own_count_and_server_processing() -> None:
    now = 1000.0
    assert not saturated(st(ep("a", capacity=2), in_flight=1), now)
    assert saturated(st(ep("a", capacity=2), in_flight=2), now)
    # Another client's generations show in the server's figure, not in ours.
    assert saturated(st(ep("a", capacity=2), in_flight=0, processing=2, read_at=now), now)
    # Ours are in the server's figure too: max, not sum.
    assert running(st(ep("a", capacity=2), in_flight=1, processing=1, read_at=now), now) == 1
    # A server that queues already has no room, whatever the counts.
    assert saturated(st(ep("a", capacity=4), in_flight=0, processing=1, waiting=1, read_at=now), now)


def test_stale_server_queue_figures_are_ignored() -> None:
    stale = st(ep("a"), processing=1, waiting=3, read_at=900.0)
    assert not saturated(stale, 1000.0)
    assert saturated(stale, 920.0)


def test_not_resident_model_beside_a_generating_sibling_would_evict() -> None:
    now = 1000.0
    gen = st(ep("big", host="box"), in_flight=1, resident=True)
    cold = st(ep("small", host="box"), resident=False)
    unknown = st(ep("other", host="box"))
    elsewhere = st(ep("far", host="box2"), resident=False)
    everything = states(gen, cold, unknown, elsewhere)
    assert would_evict(cold, everything, now)
    assert not has_room(cold, everything, now)
    assert not would_evict(unknown, everything, now)  # unknown residency is not "not loaded"
    assert not would_evict(elsewhere, everything, now)  # another server
    idle = states(st(ep("big", host="box"), resident=True), cold)
    assert not would_evict(cold, idle, now)
    # The sibling's server figure counts as generating too (another client's request).
    by_server = states(st(ep("big", host="box"), processing=1, read_at=now), cold)
    assert would_evict(cold, by_server, now)
    # The same model name on the same server (two ids for one model) is no eviction.
    alias = st(ep("alias", host="box", name="model-small"), in_flight=1)
    assert not would_evict(cold, states(alias, cold), now)


# --- choice within a tier --------------------------------------------------------------


def test_room_beats_priority_and_residency_breaks_ties_within_a_group() -> None:
    now = 1000.0
    busy_top = st(ep("top", priority=2), in_flight=1)
    free_low = st(ep("low", priority=1))
    assert choose([busy_top, free_low], states(busy_top, free_low), now, NoRandom()) is free_low
    a = st(ep("a", weight=1000.0), resident=False)
    b = st(ep("b", weight=0.001), resident=True)
    c = st(ep("c", priority=0), resident=True)
    everything = states(a, b, c)
    for seed in range(20):
        assert choose([a, b, c], everything, now, random.Random(seed)) is b


def test_all_saturated_still_chooses_by_priority() -> None:
    now = 1000.0
    top = st(ep("top", priority=2), in_flight=1)
    low = st(ep("low", priority=1), in_flight=1)
    assert choose([top, low], states(top, low), now, NoRandom()) is top
    assert choose([], {}, now, NoRandom()) is None


def test_a_generating_sibling_keeps_the_choice_off_the_cold_model() -> None:
    now = 1000.0
    gen = st(ep("big", host="box", tier="balanced"), in_flight=1, resident=True)
    cold = st(ep("cold", host="box", priority=5), resident=False)
    warm = st(ep("warm", host="box3", priority=1), resident=True)
    assert choose([cold, warm], states(gen, cold, warm), now, NoRandom()) is warm


# --- the policies --------------------------------------------------------------------


class Rig:
    """A registry of one deep, one balanced and one fast endpoint (capacity 1 each)."""

    def __init__(self, **policies: BusyTierConfig) -> None:
        self.clock = Clock()
        self.endpoints = [ep("deep-1", tier="deep"), ep("balanced-1", tier="balanced"),
                          ep("fast-1", tier="fast")]
        self.registry = Registry(self.endpoints, unhealthy_after=3, clock=self.clock)
        self.metrics = Metrics(CollectorRegistry(), self.endpoints)
        self.waiting = threading.Event()  # a request has started waiting
        self._waiters_cv = threading.Condition()  # guards waiters
        self.waiters = 0
        self.gate = BusyGate(BusyConfig(**policies), self.registry, self.metrics, random.Random(7),
                             on_wait=self._on_wait, gone_poll_s=POLL_S)

    def _on_wait(self, tier: str) -> None:
        with self._waiters_cv:
            self.waiters += 1
            self._waiters_cv.notify_all()
        self.waiting.set()

    def wait_for_waiters(self, count: int) -> bool:
        with self._waiters_cv:
            return self._waiters_cv.wait_for(lambda: self.waiters >= count, WAIT_S)

    def busy(self, outcome: str, tier: str = "deep", policy: str | None = None) -> float:
        labels = {"tier": tier, "outcome": outcome}
        if policy is not None:
            labels["policy"] = policy
        value = self.metrics.registry.get_sample_value("octoroute_busy_total", labels)
        return 0.0 if value is None else value


@pytest.fixture
def background() -> Iterator[list[threading.Thread]]:
    threads: list[threading.Thread] = []
    yield threads
    for t in threads:
        t.join(WAIT_S)


def run_in_thread(threads: list[threading.Thread], fn: Any,
                  finished: threading.Event | None = None) -> dict[str, Any]:
    """Run ``fn`` on a thread; ``finished`` is set when it returns or raises."""
    out: dict[str, Any] = {}

    def body() -> None:
        try:
            out["value"] = fn()
        except Exception as exc:
            out["error"] = exc
        if finished is not None:
            finished.set()
    t = threading.Thread(target=body, daemon=True)
    threads.append(t)
    t.start()
    out["thread"] = t
    return out


def test_a_tier_with_room_is_admitted_untouched() -> None:
    rig = Rig(deep=BusyTierConfig("reject"))
    admitted = rig.gate.admit("deep", deadline=rig.clock.now + 60)
    assert admitted.tier == "deep" and admitted.reserved is None and admitted.degraded is None
    assert rig.busy("rejected") == 0


def test_send_is_the_default_and_goes_ahead_counted() -> None:
    rig = Rig()
    rig.registry.begin("deep-1")
    admitted = rig.gate.admit("deep", deadline=rig.clock.now + 60)
    assert admitted.tier == "deep" and admitted.reserved is None
    assert rig.busy("sent", policy="send") == 1


def test_reject_is_a_429_with_retry_after_and_a_metric() -> None:
    rig = Rig(deep=BusyTierConfig("reject", retry_after_seconds=7))
    rig.registry.begin("deep-1")
    with pytest.raises(UpstreamUnavailable) as info:
        rig.gate.admit("deep", deadline=rig.clock.now + 60)
    assert info.value.status == 429 and info.value.retry_after == 7
    assert "tier deep is busy" in info.value.message
    assert rig.busy("rejected", policy="reject") == 1


def test_degrade_goes_to_the_next_smaller_tier_with_room() -> None:
    rig = Rig(deep=BusyTierConfig("degrade"))
    rig.registry.begin("deep-1")
    admitted = rig.gate.admit("deep", deadline=rig.clock.now + 60)
    assert (admitted.tier, admitted.degraded) == ("balanced", "deep->balanced (busy)")
    rig.registry.begin("balanced-1")
    admitted = rig.gate.admit("deep", deadline=rig.clock.now + 60)
    assert (admitted.tier, admitted.degraded) == ("fast", "deep->fast (busy)")
    assert rig.busy("degraded", policy="degrade") == 2


def test_degrade_never_goes_up_and_never_changes_a_named_tier() -> None:
    rig = Rig(balanced=BusyTierConfig("degrade", queue_seconds=0), deep=BusyTierConfig("degrade",
                                                                                     queue_seconds=0))
    rig.registry.begin("balanced-1")
    rig.registry.begin("fast-1")  # deep is free, but larger: degrade never goes up
    with pytest.raises(UpstreamUnavailable) as info:
        rig.gate.admit("balanced", deadline=rig.clock.now + 60)
    assert info.value.status == 429
    assert rig.busy("timed_out", tier="balanced", policy="degrade") == 1
    rig.registry.begin("deep-1")
    rig.registry.end("fast-1")
    with pytest.raises(UpstreamUnavailable):  # the client named deep: no degrading to fast
        rig.gate.admit("deep", deadline=rig.clock.now + 60, may_degrade=False)


def test_queue_waits_for_a_freed_slot_and_takes_it(background: list[threading.Thread]) -> None:
    rig = Rig(deep=BusyTierConfig("queue", queue_seconds=30))
    rig.registry.begin("deep-1")
    out = run_in_thread(background, lambda: rig.gate.admit("deep", deadline=rig.clock.now + 60))
    assert rig.waiting.wait(WAIT_S)
    assert "value" not in out  # still waiting: nothing has freed
    rig.clock.now += 4.0
    rig.registry.end("deep-1")  # the first request finishes: the waiter is woken
    out["thread"].join(WAIT_S)
    admitted = out["value"]
    assert admitted.tier == "deep" and admitted.reserved == "deep-1" and admitted.waited == 4.0
    # The slot was taken for it under the lock: nobody else sees room now.
    assert rig.registry.get("deep-1").in_flight == 1
    assert rig.busy("queued", policy="queue") == 1


def test_queue_gives_up_with_429_when_queue_seconds_pass(background: list[threading.Thread]) -> None:
    rig = Rig(deep=BusyTierConfig("queue", queue_seconds=10, retry_after_seconds=3))
    rig.registry.begin("deep-1")
    out = run_in_thread(background, lambda: rig.gate.admit("deep", deadline=rig.clock.now + 60))
    assert rig.waiting.wait(WAIT_S)
    rig.clock.now += 9.0
    rig.registry.set_facts("fast-1", ServerFacts(kind="llamacpp"))  # a change wakes it: still busy
    rig.clock.now += 1.0
    rig.registry.set_facts("fast-1", ServerFacts(kind="ollama"))  # at queue_seconds: it gives up
    out["thread"].join(WAIT_S)
    exc = out["error"]
    assert isinstance(exc, UpstreamUnavailable) and exc.status == 429 and exc.retry_after == 3
    assert "stayed busy for 10.0s" in exc.message
    assert rig.registry.get("deep-1").in_flight == 1  # no slot was taken
    assert rig.busy("timed_out", policy="queue") == 1


def test_a_queued_request_whose_client_hangs_up_leaves_without_a_slot(
        background: list[threading.Thread]) -> None:
    rig = Rig(deep=BusyTierConfig("queue", queue_seconds=30))
    rig.registry.begin("deep-1")
    hung_up = threading.Event()
    out = run_in_thread(background, lambda: rig.gate.admit("deep", deadline=rig.clock.now + 60,
                                                           gone=hung_up.is_set))
    assert rig.waiting.wait(WAIT_S)
    assert "value" not in out and "error" not in out  # a present client keeps waiting
    rig.clock.now += 2.0
    hung_up.set()  # nothing in the registry changes: only the poll can see it
    out["thread"].join(WAIT_S)
    exc = out["error"]
    assert isinstance(exc, ClientGone) and exc.status == 499
    assert "hung up after 2.0s queued for tier deep" in exc.message
    assert rig.registry.get("deep-1").in_flight == 1  # no slot was taken for nobody
    assert rig.busy("abandoned", policy="queue") == 1 and rig.busy("timed_out") == 0
    rig.registry.end("deep-1")  # a later free slot goes to whoever asks next, not to the gone client
    assert rig.registry.get("deep-1").in_flight == 0


def test_queue_never_waits_past_the_request_deadline() -> None:
    rig = Rig(deep=BusyTierConfig("queue", queue_seconds=30))
    rig.registry.begin("deep-1")
    with pytest.raises(UpstreamUnavailable):
        rig.gate.admit("deep", deadline=rig.clock.now)  # nothing left: refused without a wait
    assert rig.waiting.is_set()


def test_one_freed_slot_wakes_exactly_one_of_many_waiters(background: list[threading.Thread]) -> None:
    rig = Rig(deep=BusyTierConfig("queue", queue_seconds=30))
    rig.registry.begin("deep-1")
    first_done = threading.Event()
    outs = [run_in_thread(background, lambda: rig.gate.admit("deep", deadline=rig.clock.now + 60),
                          first_done) for _ in range(3)]
    # All three are past the room check (so each can only get a slot from the queue).
    assert rig.wait_for_waiters(3)
    rig.registry.end("deep-1")
    assert first_done.wait(WAIT_S)
    assert sum(1 for o in outs if "value" in o) == 1
    assert rig.registry.get("deep-1").in_flight == 1
    rig.clock.now += 31.0
    rig.registry.set_facts("fast-1", ServerFacts(kind="vllm"))  # the others give up now
    for o in outs:
        o["thread"].join(WAIT_S)
    assert sum(1 for o in outs if "error" in o) == 2


def test_a_tier_with_no_usable_endpoint_is_left_to_failover() -> None:
    rig = Rig(deep=BusyTierConfig("reject"))
    rig.registry.record_failure("deep-1", "down")
    rig.registry.record_failure("deep-1", "down")
    rig.registry.record_failure("deep-1", "down")
    assert rig.gate.admit("deep", deadline=rig.clock.now + 60).tier == "deep"


# --- what /models and the gauges show --------------------------------------------------


def test_load_view_and_gauges() -> None:
    now = 1000.0
    gen = st(ep("big", host="box", capacity=2), in_flight=2, resident=True)
    cold = st(ep("cold", host="box"), resident=False, waiting=0, read_at=now)
    everything = states(gen, cold)
    assert load_view(gen, everything, now) == {
        "capacity": 2, "running": 2, "waiting": None, "saturated": True, "resident": True,
        "would_evict": False}
    assert load_view(cold, everything, now)["would_evict"] is True
    assert gauge_view(gen) == (2.0, 2.0, 1.0)
    assert gauge_view(cold)[2] == 0.0
    assert math.isnan(gauge_view(st(ep("x")))[2])


# --- probes never touch a generating serialising server ---------------------------------


class RecordingClient:
    """Stands in for a BackendClient: records probes."""

    def __init__(self) -> None:
        self.probes = 0

    def probe(self, *, timeout: float) -> None:
        self.probes += 1


def test_probes_skip_a_llama_cpp_python_server_while_any_of_its_models_generates() -> None:
    clock = Clock()
    endpoints = [ep("a", host="cpp", kind="llama-cpp-python"), ep("b", host="cpp", kind="llama-cpp-python"),
                 ep("c", host="other")]
    registry = Registry(endpoints, unhealthy_after=3, clock=clock)
    for e in endpoints:
        registry.set_facts(e.id, ServerFacts(kind=e.kind if e.kind != "auto" else "llamacpp"))
    clients = {e.id: RecordingClient() for e in endpoints}
    checker = HealthChecker(registry, clients, interval=15.0, timeout=1.0)  # type: ignore[arg-type]
    try:
        registry.begin("a")  # a stream on model a: b's probe would abort it
        results = {r.endpoint: r.ok for r in checker.check_once()}
        assert results == {"a": None, "b": None, "c": True}
        assert clients["a"].probes == clients["b"].probes == 0 and clients["c"].probes == 1
        registry.end("a")
        clock.now += 16.0
        results = {r.endpoint: r.ok for r in checker.check_once()}
        assert results["a"] is True and results["b"] is True
        assert clients["a"].probes + clients["b"].probes == 1  # one probe per server
    finally:
        checker.stop(1.0)


def test_with_no_room_anywhere_a_queue_beats_an_eviction() -> None:
    now = 1000.0
    gen = st(ep("big", host="box", tier="balanced"), in_flight=1, resident=True)
    cold = st(ep("cold", host="box", priority=5), resident=False)
    full = st(ep("full", host="box3", priority=1), in_flight=1)
    assert choose([cold, full], states(gen, cold, full), now, NoRandom()) is full


class Sender:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, client: Any, timeout: float) -> str:
        self.sent.append(client)
        return "answer"


def test_the_router_brain_skips_the_busy_policy() -> None:
    from octoroute.backends.failover import Dispatcher, Target
    from octoroute.config import parse_config

    config = parse_config({
        "models": {t: {"id": f"{t}-1", "name": "m", "base_url": f"http://{t}:8080/v1", "max_tokens": 64,
                       "capacity": 1} for t in ("fast", "balanced", "deep")},
        "busy": {"balanced": {"policy": "reject"}}}, env={})
    clock = Clock()
    registry = Registry(config.endpoints, unhealthy_after=3, clock=clock)
    dispatcher = Dispatcher(config, registry, {e.id: e.id for e in config.endpoints},  # type: ignore[misc]
                            Metrics(CollectorRegistry(), config.endpoints), random.Random(1))
    registry.begin("balanced-1")
    send = Sender()
    target = Target.for_tier("balanced", fallback=False)
    with pytest.raises(UpstreamUnavailable) as info:
        dispatcher.run(target, send, deadline=clock.now + 10)
    assert info.value.status == 429 and send.sent == []
    served = dispatcher.run(target, send, deadline=clock.now + 10, busy=False)
    assert served.endpoint.id == "balanced-1" and send.sent == ["balanced-1"]
    assert registry.get("balanced-1").in_flight == 1  # the brain's call ended; the holder's remains
