"""Health checks, ``/models`` and the endpoint gauge, against fake backends on real sockets.

Rounds are driven with ``runtime.health.check_once()`` so every transition is
deterministic; one test runs the real thread and waits on ``wait_rounds``.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

from fakes import (
    FakeBackend,
    ManualClock,
    barrier,
    delayed,
    error,
    hang,
    make_config,
    models_list,
    rate_limited,
)

MODEL_FIELDS = {"id", "name", "tier", "endpoint", "healthy", "priority", "weight",
                "consecutive_failures", "last_check_seconds_ago", "last_error"}




def trio_config(trio: SimpleNamespace, **sections: Any) -> Any:
    return make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                       **sections)


def probed(*backends: FakeBackend) -> list[int]:
    return [len(b.probes()) for b in backends]


def test_probe_failures_mark_unhealthy_and_one_success_heals(trio, serve):
    trio.fast.probe_default = error(500, "model is loading")
    live = serve(trio_config(trio, health={"unhealthy_after": 2}))
    health = live.runtime.health

    health.check_once()
    fast = live.models()["fast-1"]
    assert fast["healthy"] is True and fast["consecutive_failures"] == 1
    assert "model is loading" in fast["last_error"]
    assert fast["last_check_seconds_ago"] is not None and fast["last_check_seconds_ago"] >= 0
    assert live.metric("octoroute_endpoint_up", endpoint="fast-1", tier="fast") == 1

    health.check_once()
    fast = live.models()["fast-1"]
    assert fast["healthy"] is False and fast["consecutive_failures"] == 2
    assert live.metric("octoroute_endpoint_up", endpoint="fast-1", tier="fast") == 0
    assert live.metric("octoroute_endpoint_up", endpoint="balanced-1", tier="balanced") == 1
    assert live.metric("octoroute_health_checks_total", endpoint="fast-1", result="fail") == 2

    trio.fast.probe_default = models_list()
    health.check_once()
    fast = live.models()["fast-1"]
    assert fast["healthy"] is True and fast["consecutive_failures"] == 0
    assert fast["last_error"] is None
    assert live.metric("octoroute_endpoint_up", endpoint="fast-1", tier="fast") == 1
    assert probed(trio.fast, trio.balanced, trio.deep) == [3, 1, 1]  # healthy ones: fresh success


def test_unreachable_endpoint_becomes_unhealthy(trio, serve):
    from fakes import endpoint, refused_url
    config = make_config({"fast": [endpoint(refused_url(), id="gone")], "balanced": [trio.balanced],
                          "deep": [trio.deep]}, health={"unhealthy_after": 1})
    live = serve(config)
    results = {r.endpoint: r for r in live.runtime.health.check_once()}
    assert results["gone"].ok is False and results["balanced-1"].ok is True
    gone = live.models()["gone"]
    assert gone["healthy"] is False and gone["last_error"]


def test_endpoint_serving_a_request_is_not_probed(trio, serve):
    gate = threading.Event()
    trio.fast.chat_default = delayed(gate)
    live = serve(trio_config(trio))
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(live.chat, "hi there")
        assert trio.fast.wait_for(lambda r: r.is_chat)
        assert live.models()["fast-1"]["in_flight"] == 1
        results = {r.endpoint: r.ok for r in live.runtime.health.check_once()}
        gate.set()
        resp = pending.result(timeout=10)
    assert resp.status_code == 200 and resp.json()["endpoint"] == "fast-1"
    assert results == {"fast-1": None, "balanced-1": True, "deep-1": True}
    assert probed(trio.fast, trio.balanced, trio.deep) == [0, 1, 1]


def test_endpoint_that_succeeded_within_the_interval_is_not_probed(trio, serve):
    clock = ManualClock()
    live = serve(trio_config(trio, health={"interval_seconds": 30}), clock=clock)
    assert live.chat("hi there").json()["endpoint"] == "fast-1"
    live.runtime.health.check_once()
    assert probed(trio.fast, trio.balanced, trio.deep) == [0, 1, 1]

    clock.advance(29)
    live.runtime.health.check_once()
    assert probed(trio.fast, trio.balanced, trio.deep) == [0, 1, 1]

    clock.advance(2)  # 31 s after the request, 31 s after the first round
    live.runtime.health.check_once()
    assert probed(trio.fast, trio.balanced, trio.deep) == [1, 2, 2]


def test_probes_of_a_round_run_in_parallel(trio, serve):
    together = threading.Barrier(3)
    for b in (trio.fast, trio.balanced, trio.deep):
        b.probe_default = barrier(together, timeout=3.0)
    live = serve(trio_config(trio))
    results = live.runtime.health.check_once()
    assert {r.endpoint: r.ok for r in results} == {"fast-1": True, "balanced-1": True, "deep-1": True}


def test_hung_probe_times_out_without_holding_up_the_others(trio, serve):
    trio.fast.probe_default = hang()
    live = serve(trio_config(trio, health={"timeout_seconds": 0.3, "unhealthy_after": 1}))
    results = {r.endpoint: r for r in live.runtime.health.check_once()}
    assert results["fast-1"].ok is False
    assert results["balanced-1"].ok is True and results["deep-1"].ok is True
    assert live.models()["fast-1"]["healthy"] is False


def test_probe_does_not_clear_a_rate_limit_cooldown(fake_backend, trio, serve):
    from fakes import endpoint
    limited = fake_backend("fast-limited", chat=rate_limited("30"))
    config = make_config({"fast": [endpoint(limited, priority=2), trio.fast],
                          "balanced": [trio.balanced], "deep": [trio.deep]})
    live = serve(config)
    assert live.chat("hi there").json()["endpoint"] == "fast-1"
    live.runtime.health.check_once(force=True)
    assert len(limited.probes()) == 1
    state = live.models()["fast-limited"]
    assert state["healthy"] is True and state["consecutive_failures"] == 0
    assert state["cooldown_seconds"] > 20
    assert live.chat("hi there").json()["endpoint"] == "fast-1"
    assert len(limited.chats()) == 1


def test_health_thread_runs_rounds_and_stops(trio, serve):
    live = serve(trio_config(trio, health={"interval_seconds": 0.05}))
    health = live.runtime.health
    health.start()
    assert health.wait_rounds(3, timeout=10)
    assert all(n >= 1 for n in probed(trio.fast, trio.balanced, trio.deep))
    assert any(t.name == "octoroute-health" for t in threading.enumerate())
    assert health.stop(timeout=5) is True
    assert not any(t.name == "octoroute-health" and t.is_alive() for t in threading.enumerate())


def test_health_thread_survives_a_failing_round(trio, serve):
    live = serve(trio_config(trio, health={"interval_seconds": 0.02}))
    health = live.runtime.health
    original = health.check_once
    calls = {"n": 0}

    def flaky(*, force: bool = False) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("injected")
        return original(force=force)

    health.check_once = flaky  # type: ignore[method-assign]
    health.start()
    assert health.wait_rounds(2, timeout=10)  # only real rounds count
    assert live.metric("octoroute_health_loop_errors_total") == 1
    health.stop(timeout=5)


def test_models_lists_every_endpoint_in_config_order_with_all_fields(fake_backend, trio, serve):
    second = fake_backend("fast-2")
    from fakes import endpoint
    config = make_config({"fast": [trio.fast, endpoint(second, priority=5, weight=2.5)],
                          "balanced": [trio.balanced], "deep": [trio.deep]})
    live = serve(config)
    models = live.get("/models").json()["models"]
    assert [m["id"] for m in models] == ["fast-1", "fast-2", "balanced-1", "deep-1"]
    for m in models:
        assert MODEL_FIELDS <= set(m)
        assert m["healthy"] is True and m["consecutive_failures"] == 0
        assert m["last_check_seconds_ago"] is None and m["last_error"] is None
    f2 = models[1]
    assert f2 == {**f2, "name": "fast-2-model", "tier": "fast", "endpoint": second.base_url,
                  "priority": 5, "weight": 2.5}
