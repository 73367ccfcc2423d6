"""``octoroute stats`` against a live server: tables, JSON, the key from the environment."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from octoroute.cli import main
from octoroute.stats_table import KEY_ENV

from fakes import closed_port, make_config

KEYS_ENV = "TEST_STATS_CLI_KEYS"


@pytest.fixture
def config_for(trio: SimpleNamespace) -> Callable[..., Any]:
    def build(**sections: Any) -> Any:
        return make_config({"fast": [trio.fast], "balanced": [trio.balanced], "deep": [trio.deep]},
                           **sections)
    return build


def test_stats_prints_tables_from_a_live_server(serve: Any, config_for: Callable[..., Any],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    live = serve(config_for())
    for model in ("fast", "fast", "deep"):
        assert live.chat("hello there", model=model).status_code == 200
    live.settle()
    assert main(["stats", "--url", live.url]) == 0
    out = capsys.readouterr().out
    assert f"Octoroute at {live.url}" in out
    lines = out.splitlines()
    requests_line = next(line for line in lines if line.startswith("requests"))
    assert requests_line.split()[1:] == ["3", "3", "3"]
    fast_row = next(line for line in lines if line.startswith("fast-1"))
    assert fast_row.split()[:6] == ["fast-1", "fast", "8B", "yes", "0", "2"]
    assert any(line.startswith("compute saved") and "%" in line for line in lines)
    assert "Fallbacks: none" in out

    assert main(["stats", "--url", live.url + "/", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["windows"]["total"]["by_tier"]["deep"]["requests"] == 1


def test_stats_sends_the_key_from_the_environment(serve: Any, config_for: Callable[..., Any],
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    live = serve(config_for(server={"api_keys_env": KEYS_ENV}, env={KEYS_ENV: "sk-cli"}))
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert main(["stats", "--url", live.url]) == 1
    assert f"HTTP 401; set {KEY_ENV}" in capsys.readouterr().err
    monkeypatch.setenv(KEY_ENV, "sk-wrong")
    assert main(["stats", "--url", live.url]) == 1
    assert "was refused" in capsys.readouterr().err
    monkeypatch.setenv(KEY_ENV, "sk-cli")
    assert main(["stats", "--url", live.url, "--window", "hour"]) == 0
    assert "By tier (last hour)" in capsys.readouterr().out


def test_stats_says_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--url", f"http://127.0.0.1:{closed_port()}", "--timeout", "2"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach" in err and "is octoroute serve running there?" in err


def test_eval_replays_a_live_servers_kept_decisions(serve: Any, config_for: Callable[..., Any],
                                                   capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Any) -> None:
    live = serve(config_for(observability={"keep_prompts": True}))
    prompts = ("thanks!", "Prove that the square root of 2 is irrational, step by step.")
    for prompt in prompts:
        assert live.chat(prompt).status_code == 200
    live.settle()
    assert main(["eval", "--replay", live.url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["sets"][0]
    # The same default rules decide again: every kept decision agrees with the one served.
    assert (report["lines"], report["acceptable_rate"], report["misses_total"]) == (2, 1.0, 0)

    # A saved export whose decision this config would not repeat is listed as a miss.
    saved = tmp_path / "decisions.json"
    saved.write_text(json.dumps({"decisions": [
        {"request_id": "r1", "tier": "deep", "routed_tier": "deep", "prompt": "thanks!"},
        {"request_id": "r2", "tier": "fast", "routed_tier": "fast"}]}))  # no prompt: counted out
    assert main(["eval", str(saved), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["sets"][0]
    assert (report["lines"], report["misses_total"]) == (1, 1)
    assert report["misses"][0]["id"] == "r1" and report["misses"][0]["routed"] != "deep"


def test_eval_replay_says_when_no_prompt_was_kept(serve: Any, config_for: Callable[..., Any],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    live = serve(config_for())
    assert live.chat("thanks!").status_code == 200
    live.settle()
    assert main(["eval", "--replay", live.url]) == 1
    assert "observability.keep_prompts = true" in capsys.readouterr().err
