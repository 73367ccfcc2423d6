"""Config loading and validation: every rule, every message names the key and the fix."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any

import pytest
from octoroute.config import (
    DEFAULT_CLAUDE_MODELS,
    TASK_TYPES,
    AnthropicConfig,
    BusyTierConfig,
    Config,
    EndpointConfig,
    HealthConfig,
    ObservabilityConfig,
    RoutingConfig,
    ServerConfig,
    TimeoutsConfig,
    config_path,
    effective_log_level,
    load_config,
    parse_config,
    parse_toml,
)
from octoroute.errors import ConfigError

MINIMAL_TOML = """
[models.fast]
name = "qwen3-8b"
base_url = "http://localhost:11434/v1"
max_tokens = 1024

[models.balanced]
name = "qwen3-30b"
base_url = "http://localhost:11435/v1"
max_tokens = 4096

[models.deep]
name = "gpt-oss-120b"
base_url = "http://gpu-box:8000/v1"
max_tokens = 8192
"""

# A fix always starts with one of these verbs, so the user knows what to do.
FIX_VERBS = ("write", "add", "remove", "rename", "use", "export", "did you mean", "create", "save",
             "fix", "check")


def minimal() -> dict[str, Any]:
    return {
        "models": {
            "fast": {"name": "qwen3-8b", "base_url": "http://localhost:11434/v1", "max_tokens": 1024},
            "balanced": {"name": "qwen3-30b", "base_url": "http://localhost:11435/v1", "max_tokens": 4096},
            "deep": {"name": "gpt-oss-120b", "base_url": "http://gpu-box:8000/v1", "max_tokens": 8192},
        },
    }


def with_value(path: str, value: Any) -> dict[str, Any]:
    """The minimal config with the dotted ``path`` set to ``value``."""
    data = minimal()
    node = data
    *parents, last = path.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value
    return data


def problems_of(data: Any, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, env={} if env is None else env)
    assert info.value.problems, "ConfigError without problems"
    return info.value.problems


def assert_problem(line: str, path: str) -> None:
    """``path: what is wrong; how to fix it``."""
    assert line.startswith(path + ": "), line
    what, sep, fix = line[len(path) + 2:].partition("; ")
    assert what and sep and fix, f"no fix in {line!r}"
    assert any(v in fix.lower() for v in FIX_VERBS), f"fix does not say what to do: {line!r}"


# --- defaults and happy paths -----------------------------------------------


def test_minimal_config_gets_documented_defaults() -> None:
    config = parse_toml(MINIMAL_TOML, env={})
    assert config.server.host == "127.0.0.1"
    assert config.server.request_timeout_seconds == 120
    assert config.server.threads == 36
    assert config.server.max_body_bytes == 2 * 1024 * 1024
    r = config.routing
    assert (r.strategy, r.default_importance, r.default_tier, r.router_tier) == (
        "hybrid", "normal", "balanced", "balanced")
    assert (r.router_timeout_seconds, r.max_attempts, r.tier_fallback) == (10, 3, True)
    assert (config.health.interval_seconds, config.health.timeout_seconds,
            config.health.unhealthy_after) == (15, 3, 3)
    assert (config.timeouts.fast, config.timeouts.balanced, config.timeouts.deep) == (30, 60, 120)
    assert (config.timeouts.stream_idle, config.timeouts.stream_total_seconds) == (60, 600)
    assert (config.observability.log_level, config.observability.log_format) == ("info", "text")
    fast = config.tier_endpoints("fast")[0]
    assert fast.id == fast.name == "qwen3-8b"
    assert (fast.temperature, fast.weight, fast.priority) == (0.7, 1.0, 1)
    assert fast.api_key_env is None and fast.api_key is None and fast.timeout_seconds is None


def test_full_config_is_read() -> None:
    text = MINIMAL_TOML + """
[server]
host = "0.0.0.0"
port = 8080
request_timeout_seconds = 90
threads = 8
max_body_bytes = 1000

[routing]
strategy = "tool"
default_importance = "high"
default_tier = "deep"
router_tier = "fast"
router_timeout_seconds = 2.5
max_attempts = 5
tier_fallback = false

[health]
interval_seconds = 0.5
timeout_seconds = 1
unhealthy_after = 1

[timeouts]
fast = 5
balanced = 10.5
deep = 300

[observability]
log_level = "debug"
log_format = "json"
"""
    config = parse_toml(text, env={})
    assert config.server == dataclasses.replace(config.server, host="0.0.0.0", port=8080,
                                                request_timeout_seconds=90.0, threads=8,
                                                max_body_bytes=1000)
    assert config.server.port == 8080
    assert config.routing.strategy == "tool"
    assert config.routing.default_importance == "high"
    assert config.routing.default_tier == "deep"
    assert config.routing.router_tier == "fast"
    assert config.routing.router_timeout_seconds == 2.5
    assert config.routing.max_attempts == 5
    assert config.routing.tier_fallback is False
    assert config.health.interval_seconds == 0.5
    assert config.health.unhealthy_after == 1
    assert config.timeouts.for_tier("balanced") == 10.5
    assert config.observability.log_format == "json"


def test_integer_seconds_become_floats() -> None:
    config = parse_config(with_value("health.timeout_seconds", 4), env={})
    assert isinstance(config.health.timeout_seconds, float)
    config = parse_config(with_value("models.fast.temperature", 1), env={})
    assert isinstance(config.endpoint("qwen3-8b").temperature, float)  # type: ignore[union-attr]


def test_config_is_frozen() -> None:
    config = parse_toml(MINIMAL_TOML, env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.server = None  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.endpoints[0].weight = 5  # type: ignore[misc]
    assert isinstance(config.endpoints, tuple)


def test_source_is_kept() -> None:
    assert parse_toml(MINIMAL_TOML, source="/etc/o.toml", env={}).source == "/etc/o.toml"


def test_config_helpers() -> None:
    data = minimal()
    data["models"]["deep"] = [dict(data["models"]["deep"], id="deep-1", timeout_seconds=7),
                              dict(data["models"]["deep"], id="deep-2")]
    config = parse_config(data, env={})
    assert [e.id for e in config.tier_endpoints("deep")] == ["deep-1", "deep-2"]
    assert config.endpoint("deep-2").tier == "deep"  # type: ignore[union-attr]
    assert config.endpoint("nope") is None
    assert config.attempt_timeout(config.endpoint("deep-1")) == 7  # type: ignore[arg-type]
    assert config.attempt_timeout(config.endpoint("deep-2")) == 120  # type: ignore[arg-type]
    assert config.attempt_timeout(config.endpoint("qwen3-8b")) == 30  # type: ignore[arg-type]


# --- field types and ranges -------------------------------------------------

BAD_VALUES: list[tuple[str, Any]] = [
    ("server.host", ""), ("server.host", "  "), ("server.host", 5),
    ("server.port", 0), ("server.port", 65536), ("server.port", -1), ("server.port", "3000"),
    ("server.port", 3000.0), ("server.port", True),
    ("server.threads", 0), ("server.threads", 1025), ("server.threads", 1.5), ("server.threads", True),
    ("server.max_body_bytes", 0), ("server.max_body_bytes", -1), ("server.max_body_bytes", "2MB"),
    ("server.max_body_bytes", 1.0), ("server.max_body_bytes", False),
    ("server.request_timeout_seconds", 0), ("server.request_timeout_seconds", -1),
    ("server.request_timeout_seconds", "10"), ("server.request_timeout_seconds", True),
    ("server.request_timeout_seconds", math.inf), ("server.request_timeout_seconds", math.nan),
    ("routing.strategy", "rules"), ("routing.strategy", ""), ("routing.strategy", 1),
    ("routing.strategy", "RULE"), ("routing.strategy", None),
    ("routing.default_importance", "urgent"), ("routing.default_importance", True),
    ("routing.default_tier", "medium"), ("routing.default_tier", "fast_8b"),
    ("routing.router_tier", "x"), ("routing.router_tier", ["fast"]),
    ("routing.router_timeout_seconds", 0), ("routing.router_timeout_seconds", -0.5),
    ("routing.router_timeout_seconds", False),
    ("routing.max_attempts", 0), ("routing.max_attempts", 101), ("routing.max_attempts", True),
    ("routing.max_attempts", 2.0), ("routing.max_attempts", "3"),
    ("routing.tier_fallback", 1), ("routing.tier_fallback", 0), ("routing.tier_fallback", "true"),
    ("health.interval_seconds", 0), ("health.interval_seconds", -1), ("health.interval_seconds", "15"),
    ("health.interval_seconds", True), ("health.interval_seconds", math.inf),
    ("health.timeout_seconds", 0), ("health.timeout_seconds", -3), ("health.timeout_seconds", True),
    ("health.unhealthy_after", 0), ("health.unhealthy_after", -1), ("health.unhealthy_after", 1.5),
    ("health.unhealthy_after", True), ("health.unhealthy_after", "3"),
    ("timeouts.fast", 0), ("timeouts.fast", -5), ("timeouts.fast", "30"), ("timeouts.fast", True),
    ("timeouts.balanced", 0), ("timeouts.balanced", math.nan), ("timeouts.deep", -1),
    ("timeouts.deep", False),
    ("timeouts.stream_total_seconds", 0), ("timeouts.stream_total_seconds", -1),
    ("timeouts.stream_total_seconds", "600"), ("timeouts.stream_total_seconds", True),
    ("timeouts.stream_total_seconds", math.nan),
    ("observability.log_level", "verbose"), ("observability.log_level", "INFO"),
    ("observability.log_level", 10), ("observability.log_format", "xml"),
    ("observability.log_format", ""),
    ("models.fast.name", ""), ("models.fast.name", "   "), ("models.fast.name", 5),
    ("models.fast.id", ""), ("models.fast.id", " "), ("models.fast.id", "x" * 129), ("models.fast.id", 5),
    ("models.fast.base_url", 5), ("models.fast.base_url", None),
    ("models.fast.max_tokens", 0), ("models.fast.max_tokens", -1), ("models.fast.max_tokens", 1.5),
    ("models.fast.max_tokens", True), ("models.fast.max_tokens", "1024"),
    ("models.fast.temperature", -0.1), ("models.fast.temperature", 2.1), ("models.fast.temperature", "0.7"),
    ("models.fast.temperature", True), ("models.fast.temperature", math.nan),
    ("models.fast.weight", 0), ("models.fast.weight", -1), ("models.fast.weight", True),
    ("models.fast.weight", math.inf),
    ("models.fast.priority", 1.5), ("models.fast.priority", "1"), ("models.fast.priority", True),
    ("models.fast.api_key_env", ""), ("models.fast.api_key_env", 5),
    ("models.fast.timeout_seconds", 0), ("models.fast.timeout_seconds", -1),
    ("models.fast.timeout_seconds", True),
]


@pytest.mark.parametrize(("path", "value"), BAD_VALUES, ids=[f"{p}={v!r}"[:60] for p, v in BAD_VALUES])
def test_bad_value_is_one_problem_naming_the_key_and_the_fix(path: str, value: Any) -> None:
    problems = problems_of(with_value(path, value))
    assert len(problems) == 1, problems
    assert_problem(problems[0], path)
    key = path.rsplit(".", 1)[1]
    if key != "base_url":
        assert f"write e.g. {key} = " in problems[0]
        assert "must be" in problems[0]


GOOD_VALUES: list[tuple[str, Any]] = [
    ("server.port", 1), ("server.port", 65535), ("server.threads", 1), ("server.threads", 1024),
    ("server.max_body_bytes", 1), ("server.request_timeout_seconds", 0.001),
    ("server.host", "::1"),
    ("routing.max_attempts", 1), ("routing.max_attempts", 100),
    ("health.unhealthy_after", 1), ("health.interval_seconds", 0.25),
    ("models.fast.temperature", 0), ("models.fast.temperature", 2), ("models.fast.temperature", 0.0),
    ("models.fast.weight", 0.001), ("models.fast.priority", -3), ("models.fast.priority", 0),
    ("models.fast.id", "x" * 128), ("models.fast.max_tokens", 1), ("models.fast.timeout_seconds", 0.5),
]


@pytest.mark.parametrize(("path", "value"), GOOD_VALUES)
def test_boundary_value_is_accepted(path: str, value: Any) -> None:
    config = parse_config(with_value(path, value), env={})
    section, *rest = path.split(".")
    if section == "models":
        got = getattr(config.tier_endpoints(rest[0])[0], rest[1])
    else:
        got = getattr(getattr(config, section), rest[0])
    assert got == value


@pytest.mark.parametrize("strategy", ["rule", "llm", "hybrid", "tool"])
def test_every_strategy_is_accepted(strategy: str) -> None:
    assert parse_config(with_value("routing.strategy", strategy), env={}).routing.strategy == strategy


@pytest.mark.parametrize("level", ["debug", "info", "warning", "error", "critical"])
def test_every_log_level_is_accepted(level: str) -> None:
    assert parse_config(with_value("observability.log_level", level), env={}).observability.log_level == level


@pytest.mark.parametrize(("line", "path"), [
    ("port = true", "server.port"), ("port = 3000.0", "server.port"), ("port = \"3000\"", "server.port"),
    ("threads = false", "server.threads"), ("port = inf", "server.port"),
    ("request_timeout_seconds = nan", "server.request_timeout_seconds"),
    ("request_timeout_seconds = inf", "server.request_timeout_seconds"),
])
def test_toml_bools_and_specials_are_not_numbers(line: str, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_toml(MINIMAL_TOML + "\n[server]\n" + line + "\n", env={})
    assert len(info.value.problems) == 1
    assert_problem(info.value.problems[0], path)


@pytest.mark.parametrize("section", ["server", "routing", "health", "timeouts", "observability"])
@pytest.mark.parametrize("value", [5, "x", [1], [{"port": 1}]])
def test_section_that_is_not_a_table(section: str, value: Any) -> None:
    data = minimal()
    data[section] = value
    problems = problems_of(data)
    assert len(problems) == 1
    assert_problem(problems[0], section)
    assert f"[{section}]" in problems[0]


def test_section_written_as_array_of_tables_in_toml() -> None:
    with pytest.raises(ConfigError) as info:
        parse_toml(MINIMAL_TOML + "\n[[server]]\nport = 1\n", env={})
    assert_problem(info.value.problems[0], "server")


# --- unknown keys -----------------------------------------------------------


@pytest.mark.parametrize(("path", "suggestion"), [
    ("sever", "server"), ("model", "models"), ("healht", "health"), ("timeout", "timeouts"),
    ("observabilty", "observability"),
    ("server.prot", "port"), ("server.thread", "threads"), ("server.max_body_byte", "max_body_bytes"),
    ("routing.stratgy", "strategy"), ("routing.default-tier", "default_tier"),
    ("routing.tier_fallbacks", "tier_fallback"),
    ("health.intervall_seconds", "interval_seconds"), ("health.unhealthy_afer", "unhealthy_after"),
    ("timeouts.fats", "fast"), ("timeouts.balance", "balanced"),
    ("observability.log_levle", "log_level"), ("observability.format", "log_format"),
    ("models.fast.base-url", "base_url"), ("models.fast.max_token", "max_tokens"),
    ("models.deep.api_key", "api_key_env"), ("models.balanced.wieght", "weight"),
    ("models.balanced.temprature", "temperature"),
])
def test_unknown_key_with_did_you_mean(path: str, suggestion: str) -> None:
    problems = problems_of(with_value(path, 1))
    assert len(problems) == 1, problems
    assert_problem(problems[0], path)
    assert "unknown key" in problems[0]
    assert f"did you mean {suggestion!r}" in problems[0]


@pytest.mark.parametrize(("path", "known"), [
    ("zzzzzz", "server"), ("server.zzzzzz", "port"), ("routing.qqqq", "strategy"),
    ("models.fast.zzzzzz", "base_url"),
])
def test_unknown_key_without_close_match_lists_known_keys(path: str, known: str) -> None:
    problems = problems_of(with_value(path, 1))
    assert len(problems) == 1
    assert_problem(problems[0], path)
    assert "remove it" in problems[0]
    assert known in problems[0]


def test_unknown_tier_suggests_the_tier() -> None:
    data = minimal()
    data["models"]["fats"] = data["models"]["fast"]
    problems = problems_of(data)
    assert len(problems) == 1
    assert_problem(problems[0], "models.fats")
    assert "did you mean 'fast'" in problems[0]


def test_misspelt_tier_reports_the_typo_and_the_missing_tier() -> None:
    data = minimal()
    data["models"]["fats"] = data["models"].pop("fast")
    problems = problems_of(data)
    assert len(problems) == 2
    assert_problem(problems[0], "models.fats")
    assert_problem(problems[1], "models.fast")


def test_unknown_key_in_toml_array_of_tables_names_the_index() -> None:
    text = MINIMAL_TOML.replace("[models.fast]", "[[models.fast]]") + """
[[models.fast]]
name = "other"
base_url = "http://localhost:1/v1"
max_tokens = 10
priorty = 2
"""
    with pytest.raises(ConfigError) as info:
        parse_toml(text, env={})
    assert len(info.value.problems) == 1
    assert_problem(info.value.problems[0], "models.fast[1].priorty")
    assert "did you mean 'priority'" in info.value.problems[0]


# --- tiers and endpoints ----------------------------------------------------


@pytest.mark.parametrize("tier", ["fast", "balanced", "deep"])
def test_missing_tier(tier: str) -> None:
    data = minimal()
    del data["models"][tier]
    problems = problems_of(data)
    assert len(problems) == 1
    assert_problem(problems[0], f"models.{tier}")
    assert f"[models.{tier}]" in problems[0]


def test_all_tiers_missing_is_three_problems() -> None:
    problems = problems_of({"models": {}})
    assert [p.split(":")[0] for p in problems] == ["models.fast", "models.balanced", "models.deep"]


@pytest.mark.parametrize("data", [{}, {"server": {"port": 3000}}])
def test_models_missing(data: dict[str, Any]) -> None:
    problems = problems_of(data)
    assert len(problems) == 1
    assert_problem(problems[0], "models")
    assert "[models.fast]" in problems[0]


@pytest.mark.parametrize("value", [5, "fast", [1, 2], True])
def test_models_not_a_table(value: Any) -> None:
    problems = problems_of({"models": value})
    assert len(problems) == 1
    assert_problem(problems[0], "models")


@pytest.mark.parametrize("value", ["http://x", 5, True])
def test_tier_neither_table_nor_array(value: Any) -> None:
    problems = problems_of(with_value("models.balanced", value))
    assert len(problems) == 1
    assert_problem(problems[0], "models.balanced")
    assert "[[models.balanced]]" in problems[0]


def test_empty_array_of_tables() -> None:
    problems = problems_of(with_value("models.deep", []))
    assert len(problems) == 1
    assert_problem(problems[0], "models.deep")
    assert "has no endpoint" in problems[0]


def test_empty_array_in_toml() -> None:
    text = MINIMAL_TOML.replace("[models.deep]", "[models.unused]").replace(
        "[models.unused]", "[models]\ndeep = []\n[models.unused]")
    with pytest.raises(ConfigError) as info:
        parse_toml(text, env={})
    assert any(p.startswith("models.deep: has no endpoint") for p in info.value.problems)


@pytest.mark.parametrize("entry", [1, "x", [1], True])
def test_array_entry_that_is_not_a_table(entry: Any) -> None:
    data = minimal()
    data["models"]["fast"] = [data["models"]["fast"], entry]
    problems = problems_of(data)
    assert len(problems) == 1
    assert problems[0].startswith("models.fast[1]: ")


@pytest.mark.parametrize("key", ["name", "base_url", "max_tokens"])
def test_required_endpoint_key(key: str) -> None:
    data = minimal()
    del data["models"]["balanced"][key]
    problems = problems_of(data)
    assert len(problems) == 1
    assert_problem(problems[0], f"models.balanced.{key}")
    assert "is required" in problems[0]
    assert f"add e.g. {key} = " in problems[0]


def test_empty_endpoint_table_reports_every_required_key() -> None:
    problems = problems_of(with_value("models.fast", {}))
    assert sorted(p.split(":")[0] for p in problems) == [
        "models.fast.base_url", "models.fast.max_tokens", "models.fast.name"]


def test_single_table_and_array_forms_are_equivalent() -> None:
    single = parse_toml(MINIMAL_TOML, env={})
    array_text = MINIMAL_TOML.replace("[models.", "[[models.").replace("]\nname", "]]\nname")
    assert array_text.count("[[models.") == 3
    array = parse_toml(array_text, env={})
    assert single.endpoints == array.endpoints


def test_array_of_tables_keeps_every_endpoint_in_order() -> None:
    text = MINIMAL_TOML.replace("[models.deep]", "[[models.deep]]") + """
id = "deep-a"

[[models.deep]]
id = "deep-b"
name = "gpt-oss-120b"
base_url = "http://gpu-box-2:8000/v1/"
max_tokens = 8192
weight = 3
priority = 2
"""
    config = parse_toml(text, env={})
    assert [(e.tier, e.id) for e in config.endpoints] == [
        ("fast", "qwen3-8b"), ("balanced", "qwen3-30b"), ("deep", "deep-a"), ("deep", "deep-b")]
    b = config.endpoint("deep-b")
    assert b is not None
    assert (b.name, b.base_url, b.weight, b.priority) == ("gpt-oss-120b", "http://gpu-box-2:8000/v1", 3.0, 2)


def test_duplicate_ids_in_one_tier_tell_the_user_to_add_id() -> None:
    data = minimal()
    data["models"]["fast"] = [data["models"]["fast"], dict(data["models"]["fast"])]
    problems = problems_of(data)
    assert len(problems) == 1
    assert_problem(problems[0], "models.fast[1].id")
    assert "'qwen3-8b'" in problems[0]
    assert "models.fast[0]" in problems[0]
    assert "add a unique id" in problems[0]


def test_duplicate_ids_across_tiers() -> None:
    data = minimal()
    data["models"]["deep"]["name"] = "qwen3-8b"
    problems = problems_of(data)
    assert len(problems) == 1
    assert_problem(problems[0], "models.deep.id")
    assert "models.fast" in problems[0]


def test_explicit_id_equal_to_another_name_is_a_duplicate() -> None:
    problems = problems_of(with_value("models.deep.id", "qwen3-30b"))
    assert len(problems) == 1
    assert_problem(problems[0], "models.deep.id")


def test_same_name_with_distinct_ids_is_fine() -> None:
    data = minimal()
    data["models"]["fast"] = [dict(data["models"]["fast"], id="f1"), dict(data["models"]["fast"], id="f2")]
    config = parse_config(data, env={})
    assert [e.id for e in config.tier_endpoints("fast")] == ["f1", "f2"]
    assert {e.name for e in config.tier_endpoints("fast")} == {"qwen3-8b"}


def test_id_defaults_to_name_and_is_stripped() -> None:
    config = parse_config(with_value("models.fast.id", "  fast-1  "), env={})
    assert config.tier_endpoints("fast")[0].id == "fast-1"
    assert parse_config(minimal(), env={}).tier_endpoints("deep")[0].id == "gpt-oss-120b"


# --- base_url ---------------------------------------------------------------


@pytest.mark.parametrize(("url", "normalised"), [
    ("http://localhost:11434/v1", "http://localhost:11434/v1"),
    ("http://localhost:11434/v1/", "http://localhost:11434/v1"),
    ("http://localhost:11434/v1///", "http://localhost:11434/v1"),
    ("https://api.example.com/v1", "https://api.example.com/v1"),
    ("  http://host/v1/  ", "http://host/v1"),
    ("http://host", "http://host"),
    ("http://host/", "http://host"),
    ("http://[::1]:8080/v1", "http://[::1]:8080/v1"),
    ("http://10.0.0.5:65535/v1", "http://10.0.0.5:65535/v1"),
])
def test_base_url_normalised(url: str, normalised: str) -> None:
    config = parse_config(with_value("models.fast.base_url", url), env={})
    assert config.tier_endpoints("fast")[0].base_url == normalised


@pytest.mark.parametrize(("url", "says"), [
    ("ftp://host/v1", "http:// or https://"),
    ("localhost:11434/v1", "http:// or https://"),
    ("host/v1", "http:// or https://"),
    ("http://", "http:// or https://"),
    ("http:///v1", "http:// or https://"),
    ("", "http:// or https://"),
    ("file:///etc/passwd", "http:// or https://"),
    ("http://host/v1?key=abc", "query"),
    ("http://host/v1#frag", "query or fragment"),
    ("http://host:99999/v1", "port"),
    ("http://host:abc/v1", "port"),
])
def test_base_url_rejected(url: str, says: str) -> None:
    problems = problems_of(with_value("models.fast.base_url", url))
    assert len(problems) == 1, problems
    assert_problem(problems[0], "models.fast.base_url")
    assert says in problems[0]


# --- api keys ---------------------------------------------------------------


def test_api_key_env_resolved_from_injected_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCTO_TEST_KEY", "from-process-env")
    config = parse_config(with_value("models.deep.api_key_env", "OCTO_TEST_KEY"),
                          env={"OCTO_TEST_KEY": "sk-injected-secret-123"})
    deep = config.tier_endpoints("deep")[0]
    assert deep.api_key == "sk-injected-secret-123"
    assert deep.api_key_env == "OCTO_TEST_KEY"
    assert config.tier_endpoints("fast")[0].api_key is None


def test_api_key_env_defaults_to_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCTO_TEST_KEY", "sk-process")
    config = parse_config(with_value("models.deep.api_key_env", "OCTO_TEST_KEY"))
    assert config.tier_endpoints("deep")[0].api_key == "sk-process"


@pytest.mark.parametrize("env", [{}, {"OCTO_TEST_KEY": ""}, {"OTHER": "x"}])
def test_api_key_env_unset_is_an_error(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCTO_TEST_KEY", "set-in-process-but-not-injected")
    problems = problems_of(with_value("models.deep.api_key_env", "OCTO_TEST_KEY"), env=env)
    assert len(problems) == 1
    assert_problem(problems[0], "models.deep.api_key_env")
    assert "OCTO_TEST_KEY" in problems[0]
    assert "export OCTO_TEST_KEY=" in problems[0]
    assert "set-in-process" not in problems[0]


def test_api_key_never_in_repr() -> None:
    secret = "sk-very-secret-value-42"
    config = parse_config(with_value("models.deep.api_key_env", "K"), env={"K": secret})
    assert config.tier_endpoints("deep")[0].api_key == secret
    for text in (repr(config), str(config), repr(config.endpoints), repr(config.endpoints[2]),
                 str(config.endpoints[2]), repr(dataclasses.astuple(config.server))):
        assert secret not in text
    assert "K" in repr(config.endpoints[2])  # the variable name is fine to show


def test_api_key_not_part_of_equality() -> None:
    a = parse_config(with_value("models.deep.api_key_env", "K"), env={"K": "one"})
    b = parse_config(with_value("models.deep.api_key_env", "K"), env={"K": "two"})
    assert a.endpoints == b.endpoints


# --- TOML and files ---------------------------------------------------------


@pytest.mark.parametrize("text", [
    "[server\nport = 1\n",
    "port = \n",
    "[server]\nport = 1\nport = 2\n",
    "x = 'unterminated\n",
    MINIMAL_TOML + "\n[models.fast]\nname = \"dup\"\n",
])
def test_toml_syntax_error(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_toml(text, source="bad.toml", env={})
    assert len(info.value.problems) == 1
    problem = info.value.problems[0]
    assert problem.startswith("TOML syntax error")
    assert "line" in problem
    assert "fix" in problem
    assert info.value.source == "bad.toml"
    assert str(info.value).count("bad.toml: ") == 1
    assert "Traceback" not in str(info.value)


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL_TOML + '\n[routing]\nstrategy = "rule"\n', encoding="utf-8")
    config = load_config(path, env={})
    assert config.routing.strategy == "rule"
    assert config.source == str(path)
    assert load_config(str(path), env={}) == config


def test_load_config_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.source == str(path)
    assert len(info.value.problems) == 1
    assert "not found" in info.value.problems[0]
    assert "octoroute config > config.toml" in info.value.problems[0]
    assert "--config" in info.value.problems[0]
    assert str(path) in str(info.value)


def test_load_config_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    assert "cannot read" in info.value.problems[0]
    assert "check the path" in info.value.problems[0]


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00garbage", b"[server]\nhost = \"caf\xe9\"\n",
                                 MINIMAL_TOML.encode("utf-16")])
def test_load_config_not_utf8(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(raw)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.problems == ["is not valid UTF-8; save the file as UTF-8"]


def test_load_config_utf8_with_non_ascii_names(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL_TOML.replace("qwen3-8b", "modèle-rapide"), encoding="utf-8")
    assert load_config(path, env={}).endpoints[0].name == "modèle-rapide"


def test_load_config_passes_env_through(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL_TOML.replace('max_tokens = 8192', 'max_tokens = 8192\napi_key_env = "DK"'))
    assert load_config(path, env={"DK": "secret"}).endpoints[2].api_key == "secret"
    with pytest.raises(ConfigError):
        load_config(path, env={})


# --- many problems at once --------------------------------------------------


def test_all_problems_reported_at_once() -> None:
    data = minimal()
    data["sever"] = {}
    data["server"] = {"port": 0, "threads": "many"}
    data["routing"] = {"strategy": "magic", "max_attempts": 0}
    data["health"] = {"intervall_seconds": 5}
    data["timeouts"] = {"deep": -1}
    data["observability"] = {"log_format": "xml"}
    data["models"]["fast"]["base_url"] = "ftp://x"
    data["models"]["balanced"]["temperature"] = 3
    del data["models"]["deep"]
    with pytest.raises(ConfigError) as info:
        parse_config(data, source="conf.toml", env={})
    paths = sorted(p.split(": ")[0] for p in info.value.problems)
    assert paths == sorted([
        "sever", "server.port", "server.threads", "routing.strategy", "routing.max_attempts",
        "health.intervall_seconds", "timeouts.deep", "observability.log_format",
        "models.fast.base_url", "models.balanced.temperature", "models.deep"])
    for line in info.value.problems:
        assert_problem(line, line.split(": ")[0])
    message = str(info.value)
    assert message.startswith("invalid configuration (11 problem(s)):")
    body = message.splitlines()[1:]
    assert len(body) == 11
    assert all(line.startswith("conf.toml: ") for line in body)


@pytest.mark.parametrize(("path", "value"), [
    ("server.host", "\n"), ("server.port", "30\n00"), ("models.fast.base_url", "http://x\n/v1?a"),
    ("models.fast.base_url", "\r\nftp://x"), ("observability.log_level", "info\nERROR fake line"),
])
def test_every_problem_is_a_single_line(path: str, value: Any) -> None:
    problems = problems_of(with_value(path, value))
    assert len(problems) == 1
    assert "\n" not in problems[0] and "\r" not in problems[0]


# --- config_path and log level ----------------------------------------------


@pytest.mark.parametrize(("explicit", "env", "expected"), [
    ("cli.toml", {"OCTOROUTE_CONFIG": "env.toml"}, "cli.toml"),
    ("cli.toml", {}, "cli.toml"),
    (None, {"OCTOROUTE_CONFIG": "env.toml"}, "env.toml"),
    (None, {}, "config.toml"),
    (None, {"OCTOROUTE_CONFIG": ""}, "config.toml"),
    (None, {"OTHER": "x.toml"}, "config.toml"),
])
def test_config_path_precedence(explicit: str | None, env: dict[str, str], expected: str) -> None:
    assert config_path(explicit, env) == expected


def test_config_path_reads_process_env_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCTOROUTE_CONFIG", "/etc/octoroute.toml")
    assert config_path(None) == "/etc/octoroute.toml"
    assert config_path("mine.toml") == "mine.toml"
    monkeypatch.delenv("OCTOROUTE_CONFIG")
    assert config_path(None) == "config.toml"


def _config_with_level(level: str) -> Config:
    return parse_config(with_value("observability.log_level", level), env={})


@pytest.mark.parametrize(("configured", "env", "expected"), [
    ("info", {}, "info"),
    ("warning", {}, "warning"),
    ("info", {"OCTOROUTE_LOG": "debug"}, "debug"),
    ("debug", {"OCTOROUTE_LOG": "error"}, "error"),
    ("info", {"OCTOROUTE_LOG": " DEBUG "}, "debug"),
    ("info", {"OCTOROUTE_LOG": "Critical"}, "critical"),
    ("info", {"OCTOROUTE_LOG": "warn"}, "warning"),  # the RUST_LOG spelling
    ("info", {"OCTOROUTE_LOG": "trace"}, "debug"),  # the RUST_LOG spelling
    ("info", {"OCTOROUTE_LOG": ""}, "info"),
    ("error", {"OCTOROUTE_LOG": "bogus"}, "error"),
    ("info", {"RUST_LOG": "debug"}, "info"),
])
def test_effective_log_level(configured: str, env: dict[str, str], expected: str) -> None:
    assert effective_log_level(_config_with_level(configured), env) == expected


def test_effective_log_level_reads_process_env_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCTOROUTE_LOG", "debug")
    assert effective_log_level(_config_with_level("info")) == "debug"
    monkeypatch.delenv("OCTOROUTE_LOG")
    assert effective_log_level(_config_with_level("error")) == "error"


# --- the shipped example ------------------------------------------------------


def test_example_config_documents_every_key() -> None:
    """Every key the validator knows appears in config.toml.example."""
    example = (Path(__file__).resolve().parents[2] / "octoroute" / "config.toml.example").read_text()
    keys = set(re.findall(r"^#?\s*([a-z_]+)\b", example, re.MULTILINE))
    for dc in (EndpointConfig, ServerConfig, RoutingConfig, HealthConfig, TimeoutsConfig,
               ObservabilityConfig, AnthropicConfig, BusyTierConfig):
        for f in dataclasses.fields(dc):
            if f.name in ("tier", "api_key", "api_keys"):
                continue  # the tier comes from the table name; keys themselves are never in a file
            assert f.name in keys, f"{dc.__name__}.{f.name} is not documented in config.toml.example"


def test_example_config_is_valid() -> None:
    example = (Path(__file__).resolve().parents[2] / "octoroute" / "config.toml.example").read_text()
    env = {name: "x" for name in re.findall(r'^\s*api_key_env\s*=\s*"([^"]+)"', example, re.MULTILINE)}
    assert parse_toml(example, env=env).endpoints


# --- verify: one TLS setting per endpoint ------------------------------------------


def test_verify_defaults_to_true_and_takes_false_or_an_existing_ca_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "homelab-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert parse_config(minimal(), env={}).endpoints[0].verify is True
    assert parse_config(with_value("models.fast.verify", False), env={}).endpoints[0].verify is False
    config = parse_config(with_value("models.fast.verify", str(bundle)), env={})
    assert config.endpoints[0].verify == str(bundle)
    assert parse_config(with_value("models.fast.verify", str(tmp_path)), env={}).endpoints[0].verify \
        == str(tmp_path)  # a directory of CA certificates (c_rehash'ed) works too


@pytest.mark.parametrize("value", ["/nonexistent/ca.pem", "", 1, ["ca.pem"]],
                         ids=["missing_file", "empty", "number", "list"])
def test_bad_verify_is_one_problem_naming_the_key_and_the_fix(value: Any) -> None:
    [line] = problems_of(with_value("models.fast.verify", value))
    assert_problem(line, "models.fast.verify")
    assert "CA bundle" in line and "verify = true" in line


# --- [routing] rules ------------------------------------------------------------

RULES_TOML = MINIMAL_TOML + """
[routing]
rules_preset = "seed"
brain_confidence = 0.4
brain_cache_size = 0

[[routing.rules]]
name = "infra"
tier = "deep"
keywords = ["kubernetes", "helm chart"]
task_type = ["code", "extraction"]
importance = ["normal", "high"]
min_tokens = 10
max_tokens = 5000
regex = '(?i)\\bk8s\\b'
has_tools = false
has_images = false
json_response = true
header = "X-Team = research"
min_turns = 1
max_turns = 3

[[routing.rules]]
name = "catch_all"
tier = "fast"
"""


def test_routing_rules_are_read() -> None:
    routing = parse_toml(RULES_TOML, env={}).routing
    assert (routing.rules_preset, routing.brain_confidence, routing.brain_cache_size) == ("seed", 0.4, 0)
    infra, catch_all = routing.rules
    assert infra.name == "infra" and infra.tier == "deep"
    assert infra.keywords == ("kubernetes", "helm chart")
    assert infra.task_type == ("code", "extraction") and infra.importance == ("normal", "high")
    assert (infra.min_tokens, infra.max_tokens, infra.min_turns, infra.max_turns) == (10, 5000, 1, 3)
    assert infra.regex == r"(?i)\bk8s\b"
    assert (infra.has_tools, infra.has_images, infra.json_response) == (False, False, True)
    assert infra.header == ("X-Team", "research")
    assert catch_all.name == "catch_all" and catch_all.task_type is None and catch_all.keywords is None


def test_routing_rule_defaults() -> None:
    routing = parse_config(minimal(), env={}).routing
    assert (routing.rules_preset, routing.rules, routing.brain_confidence, routing.brain_cache_size) == (
        "default", (), 0.5, 1024)


def rules_problems(*rules: Any) -> list[str]:
    data = minimal()
    data["routing"] = {"rules": list(rules)}
    return problems_of(data)


@pytest.mark.parametrize(("rule", "path", "says"), [
    ({"name": "a", "tier": "deap"}, "routing.rules[0] ('a').tier", "did you mean 'deep'"),
    ({"name": "a", "tier": "huge"}, "routing.rules[0] ('a').tier", "use one of 'fast', 'balanced', 'deep'"),
    ({"name": "a", "tier": "fast", "keyword": ["x"]}, "routing.rules[0] ('a').keyword",
     "did you mean 'keywords'"),
    ({"name": "a", "tier": "fast", "when": 1}, "routing.rules[0] ('a').when", "known keys: name, tier"),
    ({"name": "a", "tier": "fast", "regex": "(unclosed"}, "routing.rules[0] ('a').regex",
     "missing ), unterminated subpattern"),
    ({"name": "a", "tier": "fast", "regex": ""}, "routing.rules[0] ('a').regex", "non-empty string"),
    ({"name": "a", "tier": "fast", "task_type": ["coding"]}, "routing.rules[0] ('a').task_type", "'coding'"),
    ({"name": "a", "tier": "fast", "task_type": []}, "routing.rules[0] ('a').task_type", "non-empty list"),
    ({"name": "a", "tier": "fast", "importance": ["urgent"]}, "routing.rules[0] ('a').importance",
     "'urgent'"),
    ({"name": "a", "tier": "fast", "min_tokens": -1}, "routing.rules[0] ('a').min_tokens", "integer >= 0"),
    ({"name": "a", "tier": "fast", "max_turns": 1.5}, "routing.rules[0] ('a').max_turns", "integer >= 0"),
    ({"name": "a", "tier": "fast", "min_tokens": 9, "max_tokens": 3}, "routing.rules[0] ('a').min_tokens",
     "above max_tokens"),
    ({"name": "a", "tier": "fast", "has_tools": "yes"}, "routing.rules[0] ('a').has_tools", "true or false"),
    ({"name": "a", "tier": "fast", "header": "X-Team"}, "routing.rules[0] ('a').header", '"Name=value"'),
    ({"name": "a", "tier": "fast", "keywords": [""]}, "routing.rules[0] ('a').keywords", "non-empty"),
    ({"name": "", "tier": "fast"}, "routing.rules[0] ('').name", "non-empty string"),
    ({"tier": "fast"}, "routing.rules[0].name", "is required"),
    ({"name": "a"}, "routing.rules[0] ('a').tier", "is required"),
])
def test_bad_rule_names_the_rule_and_the_fix(rule: dict[str, Any], path: str, says: str) -> None:
    (line,) = rules_problems(rule)
    assert_problem(line, path)
    assert says in line


def test_bad_rule_is_named_by_index_among_good_ones() -> None:
    (line,) = rules_problems({"name": "ok", "tier": "fast"}, {"name": "bad", "tier": "x"})
    assert line.startswith("routing.rules[1] ('bad').tier: ")


def test_duplicate_rule_names() -> None:
    (line,) = rules_problems({"name": "a", "tier": "fast"}, {"name": "a", "tier": "deep"})
    assert_problem(line, "routing.rules[1] ('a').name")
    assert "routing.rules[0]" in line


@pytest.mark.parametrize("value", [{"name": "a", "tier": "fast"}, "rules", 3])
def test_rules_must_be_an_array_of_tables(value: Any) -> None:
    data = minimal()
    data["routing"] = {"rules": value}
    (line,) = problems_of(data)
    assert_problem(line, "routing.rules")


def test_rule_entry_that_is_not_a_table() -> None:
    (line,) = rules_problems("fast")
    assert_problem(line, "routing.rules[0]")


@pytest.mark.parametrize(("key", "value"), [("rules_preset", "seeds"), ("brain_confidence", 1.5),
                                            ("brain_confidence", -0.1), ("brain_cache_size", -1)])
def test_bad_routing_values(key: str, value: Any) -> None:
    (line,) = problems_of(with_value(f"routing.{key}", value))
    assert_problem(line, f"routing.{key}")


def test_every_task_type_is_accepted_in_a_rule() -> None:
    data = minimal()
    data["routing"] = {"rules": [{"name": "all", "tier": "deep", "task_type": list(TASK_TYPES)}]}
    assert parse_config(data, env={}).routing.rules[0].task_type == TASK_TYPES


def test_endpoint_knowledge_keys_parse_and_default() -> None:
    from octoroute.config import DEFAULT_PARAMS_B, parse_toml
    base = '[models.balanced]\nname = "b"\nbase_url = "http://h:2/v1"\nmax_tokens = 10\n' \
           '[models.deep]\nname = "d"\nbase_url = "http://h:3/v1"\nmax_tokens = 10\n'
    cfg = parse_toml('[models.fast]\nname = "f"\nbase_url = "http://h:1/v1"\nmax_tokens = 10\n'
                     'kind = "ollama"\ncontext_window = 8192\ncapacity = 2\nparams_b = 7.5\n'
                     'cost_per_million_tokens = 0.1\nwatts = 90\n' + base)
    fast = cfg.tier_endpoints("fast")[0]
    assert (fast.kind, fast.context_window, fast.capacity, fast.size_b) == ("ollama", 8192, 2, 7.5)
    assert (fast.cost_per_million_tokens, fast.watts) == (0.1, 90.0)
    deep = cfg.tier_endpoints("deep")[0]
    assert (deep.kind, deep.context_window, deep.capacity, deep.size_b) == ("auto", None, None, 120.0)
    assert DEFAULT_PARAMS_B["balanced"] == cfg.tier_endpoints("balanced")[0].size_b


@pytest.mark.parametrize(("line", "names"), [
    ('kind = "ollamaa"', "models.fast.kind"), ("capacity = 0", "models.fast.capacity"),
    ("context_window = -1", "models.fast.context_window"), ("params_b = 0", "models.fast.params_b"),
    ("watts = -5", "models.fast.watts"),
])
def test_endpoint_knowledge_keys_refuse_bad_values(line: str, names: str) -> None:
    from octoroute.config import parse_toml
    from octoroute.errors import ConfigError
    text = ('[models.fast]\nname = "f"\nbase_url = "http://h:1/v1"\nmax_tokens = 10\n' + line + '\n'
            '[models.balanced]\nname = "b"\nbase_url = "http://h:2/v1"\nmax_tokens = 10\n'
            '[models.deep]\nname = "d"\nbase_url = "http://h:3/v1"\nmax_tokens = 10\n')
    with pytest.raises(ConfigError) as info:
        parse_toml(text)
    assert names in info.value.message


# --- [anthropic.models] -------------------------------------------------------------


def test_anthropic_models_default_and_merge_over_the_defaults() -> None:
    assert parse_config(minimal()).anthropic == AnthropicConfig(models=DEFAULT_CLAUDE_MODELS)
    merged = parse_toml(MINIMAL_TOML + '[anthropic.models]\nSonnet = "deep"\n"claude-3-7" = "auto"\n'
                        'special = "qwen3-8b"\n')
    assert dict(merged.anthropic.models) == {"haiku": "fast", "sonnet": "deep", "opus": "deep",
                                             "claude-3-7": "auto", "special": "qwen3-8b"}


@pytest.mark.parametrize(("table", "words"), [
    ({"models": {"sonnet": "huge"}}, "anthropic.models.sonnet: must be auto, a tier"),
    ({"models": {"sonnet": 3}}, "anthropic.models.sonnet: must be auto"),
    ({"models": {" ": "fast"}}, "is an empty model-name substring; use a word"),
    ({"models": 3}, "anthropic.models: must be a table"),
    ({"model": {}}, "anthropic.model: unknown key; did you mean 'models'"),
    (3, "anthropic: must be a table"),
])
def test_anthropic_models_are_validated(table: Any, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({**minimal(), "anthropic": table})
    assert words in caught.value.message
# --- [busy.<tier>] and the first-token deadline keys ---------------------------------------


def test_busy_defaults_keep_sending_as_before() -> None:
    config = parse_config(minimal(), env={})
    for tier in ("fast", "balanced", "deep"):
        assert config.busy.for_tier(tier) == BusyTierConfig("send", 30.0, 5.0)
    assert config.timeouts.first_token_base_seconds == 10.0 and config.timeouts.prefill_margin == 3.0


def test_busy_tables_are_read_per_tier() -> None:
    data = with_value("busy.deep", {"policy": "degrade", "queue_seconds": 10})
    data["busy"]["fast"] = {"policy": "reject", "retry_after_seconds": 2}
    config = parse_config(data, env={})
    assert config.busy.deep == BusyTierConfig("degrade", 10.0, 5.0)
    assert config.busy.fast == BusyTierConfig("reject", 30.0, 2.0)
    assert config.busy.balanced.policy == "send"


@pytest.mark.parametrize(("path", "value"), [
    ("busy.deep.policy", "wait"),
    ("busy.deep.queue_seconds", -1),
    ("busy.deep.queue_seconds", 4000),
    ("busy.deep.retry_after_seconds", 0),
    ("busy.deep.policy", 1),
    ("timeouts.first_token_base_seconds", 0),
    ("timeouts.prefill_margin", 0.5),
])
def test_bad_busy_and_deadline_values_name_the_key_and_the_fix(path: str, value: Any) -> None:
    [line] = problems_of(with_value(path, value))
    assert_problem(line, path)


def test_busy_shorthand_string_says_how_to_write_the_table() -> None:
    [line] = problems_of(with_value("busy.deep", "degrade"))
    assert_problem(line, "busy.deep")
    assert '[busy.deep]' in line and 'policy = "degrade"' in line


def test_busy_unknown_tier_and_key_get_did_you_mean() -> None:
    [line] = problems_of(with_value("busy.depe", {"policy": "queue"}))
    assert line.startswith("busy.depe: unknown key") and "'deep'" in line
    [line] = problems_of(with_value("busy.deep", {"polcy": "queue"}))
    assert line.startswith("busy.deep.polcy: unknown key") and "'policy'" in line
