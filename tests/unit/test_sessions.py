"""Conversation sessions: keys, hysteresis, tool continuations, bounds, expiry, threads.

The tracker's clock is a hand-set fake, so expiry is tested without sleeping;
the app test at the end runs the real ``/v1/chat/completions`` responder in
process (``falcon.testing``) against fake backends.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from falcon import testing
from octoroute.config import SessionsConfig
from octoroute.errors import ConfigError
from octoroute.metrics import Metrics
from octoroute.routing.sessions import SessionTracker, is_tool_continuation, session_key
from prometheus_client import CollectorRegistry

from fakes import make_config


class FakeClock:
    """A monotonic clock that moves only when a test moves it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def tracker(*, clock: FakeClock | None = None, **keys: Any) -> tuple[SessionTracker, Metrics]:
    metrics = Metrics(CollectorRegistry())
    config = SessionsConfig(**keys)
    return SessionTracker(config, clock=clock or FakeClock(), metrics=metrics), metrics


def value(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    assert found is not None, f"{name}{labels} is not exported"
    return found


# --- session keys ------------------------------------------------------------

CONVERSATION = [{"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Prove that sqrt(2) is irrational."}]


def test_key_prefers_the_header_then_the_user_field_then_the_first_turn() -> None:
    by_header = session_key("abc", "alice", CONVERSATION)
    by_user = session_key(None, "alice", CONVERSATION)
    by_turn = session_key(None, None, CONVERSATION)
    assert len({by_header, by_user, by_turn}) == 3
    assert session_key(" abc ", "bob", []) == by_header
    assert session_key(None, "alice", []) == by_user
    # A blank header or a non-string user falls through to the next source.
    assert session_key("  ", 42, CONVERSATION) == by_turn
    # The same id as header and as user field are different sessions.
    assert session_key("alice", None, []) != by_user


def test_key_from_the_first_turn_survives_later_turns() -> None:
    later = [*CONVERSATION, {"role": "assistant", "content": "Suppose p/q..."},
             {"role": "user", "content": "thanks"}]
    assert session_key(None, None, later) == session_key(None, None, CONVERSATION)
    other_system = [{"role": "system", "content": "You are verbose."}, CONVERSATION[1]]
    assert session_key(None, None, other_system) != session_key(None, None, CONVERSATION)
    parts = [CONVERSATION[0], {"role": "user", "content": [
        {"type": "text", "text": "Prove that sqrt(2) is irrational."}]}]
    assert session_key(None, None, parts) == session_key(None, None, CONVERSATION)


def test_key_from_long_openings_tells_apart_what_follows_the_hashed_head() -> None:
    system = {"role": "system", "content": "You are a coding assistant. " * 200}
    first = session_key(None, None, [system, {"role": "user", "content": "a" * 3000}])
    assert session_key(None, None, [system, {"role": "user", "content": "a" * 3001}]) != first
    assert session_key(None, None, [system, {"role": "user", "content": "a" * 3000},
                                    {"role": "user", "content": "b"}]) == first


def test_key_is_a_short_digest_never_the_clients_text() -> None:
    for key in (session_key("my-secret-session", None, []), session_key(None, "alice@example.com", []),
                session_key(None, None, CONVERSATION)):
        assert re.fullmatch(r"[0-9a-f]{16}", key)


@pytest.mark.parametrize(("messages", "expected"), [
    ([{"role": "user", "content": "hi"}], False),
    ([{"role": "user", "content": "weather?"},
      {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function"}]},
      {"role": "tool", "tool_call_id": "1", "content": "sunny"}], True),
    ([{"role": "user", "content": "weather?"},
      {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function"}]}], True),
    ([{"role": "user", "content": "weather?"},
      {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function"}]},
      {"role": "tool", "tool_call_id": "1", "content": "sunny"},
      {"role": "assistant", "content": "It is sunny."},
      {"role": "user", "content": "thanks"}], False),
    ([{"role": "user", "content": "x"}, {"role": "function", "name": "f", "content": "1"}], True),
    ([{"role": "assistant", "content": "hello", "tool_calls": []}, {"role": "user", "content": "x"}], False),
    ([], False),
])
def test_tool_continuation(messages: list[dict[str, Any]], expected: bool) -> None:
    assert is_tool_continuation(messages) is expected


# --- the hysteresis ----------------------------------------------------------

def test_a_new_session_takes_the_routers_tier() -> None:
    sessions, _ = tracker()
    assert sessions.settle("a", "fast") == ("fast", None)
    assert sessions.tier_of("a") == "fast"


def test_a_session_escalates_at_once() -> None:
    sessions, metrics = tracker()
    sessions.settle("a", "fast")
    assert sessions.settle("a", "deep") == ("deep", None)
    assert value(metrics, "octoroute_session_escalations_total", to_tier="deep") == 1
    assert value(metrics, "octoroute_session_escalations_total", to_tier="balanced") == 0
    assert value(metrics, "octoroute_session_held_decisions_total", reason="hysteresis") == 0


def test_a_session_comes_down_one_tier_after_n_lower_decisions() -> None:
    sessions, metrics = tracker(downgrade_after=3)
    sessions.settle("a", "deep")
    assert sessions.settle("a", "fast") == ("deep", "held by session: 1 of 3 lower decisions")
    assert sessions.settle("a", "fast") == ("deep", "held by session: 2 of 3 lower decisions")
    # One step: deep -> balanced, even though the router said fast.
    tier, note = sessions.settle("a", "fast")
    assert tier == "balanced"
    assert note == "session stepped down from deep to balanced after 3 lower decisions"
    assert [sessions.settle("a", "fast")[0] for _ in range(3)] == ["balanced", "balanced", "fast"]
    assert value(metrics, "octoroute_session_held_decisions_total", reason="hysteresis") == 5


def test_stepping_down_to_the_routers_tier_needs_no_note() -> None:
    sessions, metrics = tracker(downgrade_after=2)
    sessions.settle("a", "deep")
    sessions.settle("a", "balanced")
    assert sessions.settle("a", "balanced") == ("balanced", None)
    assert value(metrics, "octoroute_session_held_decisions_total", reason="hysteresis") == 1


def test_an_equal_or_higher_decision_resets_the_count() -> None:
    sessions, _ = tracker(downgrade_after=3)
    sessions.settle("a", "deep")
    sessions.settle("a", "fast")
    sessions.settle("a", "fast")
    assert sessions.settle("a", "deep") == ("deep", None)
    assert sessions.settle("a", "fast") == ("deep", "held by session: 1 of 3 lower decisions")


def test_downgrade_after_one_follows_the_router_a_tier_at_a_time() -> None:
    sessions, _ = tracker(downgrade_after=1)
    sessions.settle("a", "deep")
    assert sessions.settle("a", "balanced") == ("balanced", None)
    assert sessions.settle("a", "fast") == ("fast", None)


def test_a_tool_continuation_stays_on_the_tier_that_issued_the_call() -> None:
    sessions, metrics = tracker(downgrade_after=2)
    sessions.settle("a", "balanced")
    for decided in ("fast", "fast", "fast", "deep"):
        assert sessions.settle("a", decided, tool_continuation=True) == (
            "balanced", "held by session: tool-call continuation on balanced")
    assert sessions.settle("a", "balanced", tool_continuation=True) == ("balanced", None)
    # Continuations neither count toward coming down nor escalate.
    assert sessions.settle("a", "fast") == ("balanced", "held by session: 1 of 2 lower decisions")
    assert value(metrics, "octoroute_session_held_decisions_total", reason="tool_continuation") == 4
    assert value(metrics, "octoroute_session_escalations_total", to_tier="deep") == 0


def test_sessions_are_independent() -> None:
    sessions, _ = tracker()
    sessions.settle("a", "deep")
    assert sessions.settle("b", "fast") == ("fast", None)
    assert sessions.tier_of("a") == "deep"


# --- bounds and expiry ---------------------------------------------------------

def test_the_least_recently_seen_session_is_evicted_at_the_bound() -> None:
    sessions, _ = tracker(max_sessions=2)
    sessions.settle("a", "deep")
    sessions.settle("b", "deep")
    sessions.settle("a", "fast")  # a is now the most recently seen
    sessions.settle("c", "fast")
    assert sessions.active() == 2
    assert sessions.tier_of("b") is None
    assert sessions.tier_of("a") == "deep"
    # b comes back as a new session: the router's tier, no hysteresis.
    assert sessions.settle("b", "fast") == ("fast", None)


def test_an_idle_session_expires_by_the_injected_clock() -> None:
    clock = FakeClock()
    sessions, metrics = tracker(clock=clock, idle_seconds=60)
    sessions.settle("old", "deep")
    clock.now += 30
    sessions.settle("young", "deep")
    assert value(metrics, "octoroute_sessions_active") == 2
    clock.now += 30  # "old" was seen 60 s ago
    assert sessions.tier_of("old") is None
    assert sessions.tier_of("young") == "deep"
    assert value(metrics, "octoroute_sessions_active") == 1
    assert sessions.settle("old", "fast") == ("fast", None)
    clock.now += 29.5  # "young" was seen 59.5 s ago: still remembered
    assert sessions.settle("young", "fast") == ("deep", "held by session: 1 of 3 lower decisions")
    clock.now += 1000
    assert value(metrics, "octoroute_sessions_active") == 0


def test_a_session_seen_again_is_not_expired_by_its_first_visit() -> None:
    clock = FakeClock()
    sessions, _ = tracker(clock=clock, idle_seconds=60)
    sessions.settle("a", "deep")
    for _ in range(5):
        clock.now += 50
        assert sessions.settle("a", "fast")[0] in ("deep", "balanced")
    assert sessions.active() == 1


SCRIPT = ["deep", "fast", "fast", "fast", "balanced", "fast", "fast", "fast", "fast", "fast"]


def run_threads(target: Any, count: int) -> None:
    """Run ``target(n)`` on ``count`` threads released together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait(5)
            target(n)
        except BaseException as exc:  # re-raised on the test's thread
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(n,), name=f"settle-{n}") for n in range(count)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert not any(w.is_alive() for w in workers)
    if errors:
        raise errors[0]


def test_concurrent_settles_keep_each_sessions_sequence() -> None:
    threads_n, rounds = 8, 300
    sessions, metrics = tracker(downgrade_after=3)
    results: dict[int, list[tuple[str, str | None]]] = {}

    def work(n: int) -> None:
        seen = []
        for i in range(rounds):
            seen.append(sessions.settle(f"own-{n}", SCRIPT[i % len(SCRIPT)]))
            # Every thread also hits the same few keys; "fast" only, so they never hold.
            sessions.settle(f"shared-{i % 5}", "fast")
        results[n] = seen

    run_threads(work, threads_n)
    solo, _ = tracker(downgrade_after=3)
    expected = [solo.settle("solo", SCRIPT[i % len(SCRIPT)]) for i in range(rounds)]
    assert all(results[n] == expected for n in range(threads_n))
    held = sum(1 for _, note in expected if note is not None)
    assert held > rounds // 3
    assert value(metrics, "octoroute_session_held_decisions_total", reason="hysteresis") == threads_n * held
    assert value(metrics, "octoroute_sessions_active") == threads_n + 5


class TickingClock:
    """Advances a millisecond per reading, from any thread: expiry runs all the time."""

    def __init__(self) -> None:
        self._ticks = itertools.count()  # next() on a count is atomic in CPython

    def __call__(self) -> float:
        return next(self._ticks) / 1000.0


def test_concurrent_settles_with_eviction_and_expiry() -> None:
    metrics = Metrics(CollectorRegistry())
    sessions = SessionTracker(SessionsConfig(max_sessions=50, idle_seconds=0.5), clock=TickingClock(),
                              metrics=metrics)

    def work(n: int) -> None:
        for i in range(2000):
            # Shared keys, so one thread's expiry and eviction meet another's update.
            tier, _ = sessions.settle(f"key-{i % 60}", SCRIPT[(i + n) % len(SCRIPT)],
                                      tool_continuation=i % 7 == 0)
            assert tier in ("fast", "balanced", "deep")
            assert sessions.active() <= 50

    # Switch threads every few bytecodes, so an unguarded read-modify-write would interleave.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        run_threads(work, 8)
    finally:
        sys.setswitchinterval(interval)
    assert 0 < value(metrics, "octoroute_sessions_active") <= 50


# --- configuration -------------------------------------------------------------

def test_sessions_are_on_by_default_with_documented_defaults(trio: SimpleNamespace) -> None:
    config = make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]})
    assert config.routing.sessions == SessionsConfig(enabled=True, downgrade_after=3, max_sessions=10_000,
                                                     idle_seconds=1800.0)


@pytest.mark.parametrize(("table", "where", "words"), [
    ({"downgrade_after": 0}, "routing.sessions.downgrade_after", "downgrade_after = 3"),
    ({"downgrade_after": 2.5}, "routing.sessions.downgrade_after", "integer"),
    ({"max_sessions": 0}, "routing.sessions.max_sessions", "max_sessions = 10000"),
    ({"idle_seconds": -1}, "routing.sessions.idle_seconds", "idle_seconds = 1800"),
    ({"enabled": "yes"}, "routing.sessions.enabled", "true or false"),
    ({"downgrade_afer": 2}, "routing.sessions.downgrade_afer", "did you mean 'downgrade_after'"),
])
def test_bad_session_keys_are_config_errors_naming_key_and_fix(trio: SimpleNamespace, table: dict[str, Any],
                                                               where: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                    routing={"sessions": table})
    [problem] = caught.value.problems
    assert problem.startswith(where + ":")
    assert words in problem


def test_sessions_must_be_a_table(trio: SimpleNamespace) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                    routing={"sessions": True})
    assert caught.value.problems == [
        "routing.sessions: must be a table, got bool; write it as [routing.sessions]"]


def test_example_config_documents_every_session_key() -> None:
    example = (Path(__file__).resolve().parents[2] / "octoroute" / "config.toml.example").read_text()
    section = example.split("[routing.sessions]", 1)[1].split("\n[", 1)[0]
    keys = set(re.findall(r"^([a-z_]+) =", section, re.MULTILINE))
    assert keys == {f.name for f in dataclasses.fields(SessionsConfig)}


# --- through the app (falcon.testing, fake backends) ----------------------------

ASK = {"role": "user", "content": "Analyse the trade-offs of event sourcing for a ledger service."}
DEEP_HINT = {"X-Octoroute-Task-Type": "deep_analysis"}


def conversation(*turns: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [ASK]
    for turn in turns:
        messages += [{"role": "assistant", "content": "Here is my analysis."},
                     {"role": "user", "content": turn}]
    return messages


def post(client: testing.TestClient, messages: list[dict[str, Any]],
         headers: dict[str, str] | None = None, **body: Any) -> testing.Result:
    result = client.simulate_post("/v1/chat/completions", headers=headers,
                                  json={"model": "auto", "messages": messages, **body})
    assert result.status_code == 200, result.text
    return result


@pytest.fixture
def trio_config(trio: SimpleNamespace) -> Any:
    def build(**sessions: Any) -> Any:
        return make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                           routing={"sessions": sessions} if sessions else None)
    return build


def test_a_follow_up_thanks_stays_on_deep(trio: SimpleNamespace, trio_config: Any,
                                          runtime_factory: Any) -> None:
    client = testing.TestClient(runtime_factory(trio_config()).app)
    first = post(client, conversation(), {**DEEP_HINT, "X-Session-ID": "chat-42"})
    assert first.headers["X-Octoroute-Tier"] == "deep"
    key = first.headers["X-Octoroute-Session"]
    assert re.fullmatch(r"[0-9a-f]{16}", key)
    # Alone, "thanks" is casual chat for the fast tier ...
    alone = post(client, [{"role": "user", "content": "thanks"}])
    assert alone.headers["X-Octoroute-Tier"] == "fast"
    # ... but in the session it stays on deep, and says why.
    follow_up = post(client, conversation("thanks"), {"X-Session-ID": "chat-42"})
    assert follow_up.headers["X-Octoroute-Tier"] == "deep"
    assert follow_up.headers["X-Octoroute-Session"] == key
    assert "held by session: 1 of 3 lower decisions" in follow_up.headers["X-Octoroute-Warnings"]
    assert len(trio.deep.chats()) == 2


def test_the_first_turn_names_the_session_when_the_client_does_not(trio_config: Any,
                                                                   runtime_factory: Any) -> None:
    client = testing.TestClient(runtime_factory(trio_config(downgrade_after=2)).app)
    post(client, conversation(), DEEP_HINT)
    tiers = [post(client, conversation(*["thanks"] * n)).headers["X-Octoroute-Tier"] for n in (1, 2, 3, 4)]
    assert tiers == ["deep", "balanced", "balanced", "fast"]


def test_the_user_field_names_the_session(trio_config: Any, runtime_factory: Any) -> None:
    client = testing.TestClient(runtime_factory(trio_config()).app)
    post(client, conversation(), DEEP_HINT, user="u-1")
    held = post(client, [{"role": "user", "content": "thanks"}], user="u-1")
    assert held.headers["X-Octoroute-Tier"] == "deep"
    other = post(client, [{"role": "user", "content": "thanks"}], user="u-2")
    assert other.headers["X-Octoroute-Tier"] == "fast"


def test_explicit_models_bypass_the_session(trio_config: Any, runtime_factory: Any) -> None:
    client = testing.TestClient(runtime_factory(trio_config()).app)
    post(client, conversation(), {**DEEP_HINT, "X-Session-ID": "s"})
    result = client.simulate_post("/v1/chat/completions", headers={"X-Session-ID": "s"},
                                  json={"model": "fast", "messages": conversation("thanks")})
    assert result.status_code == 200, result.text
    assert result.headers["X-Octoroute-Tier"] == "fast"
    assert "X-Octoroute-Session" not in result.headers


def test_sessions_disabled_route_each_request_alone(trio_config: Any, runtime_factory: Any) -> None:
    runtime = runtime_factory(trio_config(enabled=False))
    assert runtime.sessions is None
    client = testing.TestClient(runtime.app)
    post(client, conversation(), {**DEEP_HINT, "X-Session-ID": "s"})
    follow_up = post(client, conversation("thanks"), {"X-Session-ID": "s"})
    assert follow_up.headers["X-Octoroute-Tier"] == "fast"
    assert "X-Octoroute-Session" not in follow_up.headers


def test_session_metrics_are_exported(trio_config: Any, runtime_factory: Any) -> None:
    client = testing.TestClient(runtime_factory(trio_config()).app)
    post(client, conversation(), {**DEEP_HINT, "X-Session-ID": "s"})
    post(client, conversation("thanks"), {"X-Session-ID": "s"})
    text = client.simulate_get("/metrics").text
    assert "octoroute_sessions_active 1.0" in text
    assert 'octoroute_session_held_decisions_total{reason="hysteresis"} 1.0' in text
    assert 'octoroute_session_held_decisions_total{reason="tool_continuation"} 0.0' in text
    assert 'octoroute_session_escalations_total{to_tier="deep"} 0.0' in text
