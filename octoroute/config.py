"""Load and validate the TOML configuration into one frozen ``Config``.

Every problem is collected (not just the first) and reported as one line:
file, key path, what is wrong and how to fix it, so ``octoroute check`` can
print them all at once. Unknown keys are errors with a did-you-mean hint,
because a silently ignored typo (``intervall_seconds``) is a production bug.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from octoroute.errors import ConfigError
from octoroute.messages import routed_text

TIERS: tuple[str, ...] = ("fast", "balanced", "deep")
ENDPOINT_KINDS: tuple[str, ...] = ("auto", "llamacpp", "llama-cpp-python", "ollama", "lmstudio",
                                   "vllm", "openai")
DEFAULT_PARAMS_B = {"fast": 8.0, "balanced": 30.0, "deep": 120.0}  # billions, by tier
# The seed's six task types, then the kinds small models lose most on.
TASK_TYPES: tuple[str, ...] = ("casual_chat", "code", "creative_writing", "deep_analysis",
                               "document_summary", "question_answer", "math", "reasoning", "extraction")
RULE_PRESETS: tuple[str, ...] = ("default", "seed", "none")
STRATEGIES: tuple[str, ...] = ("rule", "llm", "hybrid", "tool")
IMPORTANCES: tuple[str, ...] = ("low", "normal", "high")
LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error", "critical")
LOG_FORMATS: tuple[str, ...] = ("text", "json")
# What a request does when every endpoint of its routed tier is saturated (backends/capacity.py).
BUSY_POLICIES: tuple[str, ...] = ("send", "queue", "degrade", "reject")
# RUST_LOG spellings a user of the seed types out of habit.
_LOG_ALIASES = {"warn": "warning", "trace": "debug"}

CONFIG_ENV = "OCTOROUTE_CONFIG"
LOG_ENV = "OCTOROUTE_LOG"


@dataclass(frozen=True)
class EndpointConfig:
    """One OpenAI-compatible server that serves one tier."""

    id: str
    name: str  # the model id sent upstream
    tier: str
    base_url: str  # normalised: no trailing slash, e.g. http://host:11434/v1
    max_tokens: int  # tokens; caps what a client may ask for
    temperature: float = 0.7  # 0..2; used when the client sends none
    weight: float = 1.0  # relative share within its priority group
    priority: int = 1  # higher is tried first
    api_key_env: str | None = None  # env var holding a bearer key for this backend
    timeout_seconds: float | None = None  # overrides [timeouts].<tier> for one attempt
    verify: bool | str = True  # TLS: true (default trust store), false (no check), or a CA bundle path
    kind: str = "auto"  # server software (ENDPOINT_KINDS); "auto" detects it from cheap responses
    context_window: int | None = None  # tokens; None: ask the server (n_ctx, context_length, max_model_len)
    capacity: int | None = None  # generations at once it serves well; None: the server's slots, else 1
    params_b: float | None = None  # model size in billions of parameters; None: 8/30/120 by tier
    cost_per_million_tokens: float | None = None  # optional money figure for /stats
    watts: float | None = None  # optional power draw while generating, for /stats
    api_key: str | None = field(default=None, repr=False, compare=False)

    @property
    def size_b(self) -> float:
        """``params_b``, or the tier's nominal size: what compute accounting multiplies by."""
        return self.params_b if self.params_b is not None else DEFAULT_PARAMS_B[self.tier]


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"  # loopback by default: opening to the LAN is a choice
    port: int = 3000  # TCP port
    request_timeout_seconds: float = 120.0  # seconds; overall deadline for one request
    threads: int = 36  # waitress worker threads; each in-flight generation holds one
    max_body_bytes: int = 2 * 1024 * 1024  # bytes; larger request bodies get 413
    max_in_flight: int | None = None  # chat requests at once; None: threads - 4 (429 beyond)
    max_response_bytes: int = 16 * 1024 * 1024  # bytes; a larger backend answer is a failure
    api_keys_env: str | None = None  # env var with comma-separated client keys; unset: open
    trusted_proxy: str | None = None  # address of a reverse proxy whose X-Forwarded-* to trust
    api_keys: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def chat_slots(self) -> int:
        """Chat requests served at once; the rest of the threads stay free for /health etc."""
        if self.max_in_flight is not None:
            return self.max_in_flight
        return max(1, self.threads - 4)


@dataclass(frozen=True)
class SessionsConfig:
    """[routing.sessions]: hysteresis for conversations (octoroute.routing.sessions)."""

    enabled: bool = True  # route /v1 conversations per session, not per message
    downgrade_after: int = 3  # consecutive lower decisions before a session comes down one tier
    max_sessions: int = 10_000  # sessions remembered at once; the least recently seen is forgotten
    idle_seconds: float = 1800.0  # seconds; a session silent this long is forgotten


@dataclass(frozen=True)
class ShadowConfig:
    """routing.shadow: another strategy decides off the request path, for comparison."""

    strategy: str  # rule | llm | hybrid | tool; must differ from routing.strategy
    sample: float = 0.1  # share of routed requests (0 < sample <= 1) also decided in shadow
    max_pending: int = 8  # shadow decisions queued or running at once; more are dropped


@dataclass(frozen=True)
class RuleConfig:
    """One ``[[routing.rules]]`` entry: every condition given must hold (None: not checked)."""

    name: str
    tier: str
    task_type: tuple[str, ...] | None = None  # any of these (explicit or inferred)
    importance: tuple[str, ...] | None = None  # any of these
    min_tokens: int | None = None  # tokens, inclusive (the whole conversation)
    max_tokens: int | None = None  # tokens, inclusive
    keywords: tuple[str, ...] | None = None  # any, whole words, case-insensitive
    regex: str | None = None  # Python re syntax, searched in the routed text
    has_tools: bool | None = None  # the request offers tools
    has_images: bool | None = None  # the conversation holds an image part
    json_response: bool | None = None  # response_format asks for JSON
    header: tuple[str, str] | None = None  # (name, value): the request carries this header value
    min_turns: int | None = None  # user turns in the conversation, inclusive
    max_turns: int | None = None  # user turns, inclusive


@dataclass(frozen=True)
class Exemplar:
    """One example prompt of the semantic layer, and the tier it belongs to."""

    id: str  # reported as the nearest exemplar; never the prompt text
    tier: str
    prompt: str = field(repr=False)


@dataclass(frozen=True)
class LabelledPrompt:
    """One prompt of the calibration bank, with every tier a reviewer found good enough for it."""

    id: str  # reported among the neighbours; never the prompt text
    acceptable: tuple[str, ...]  # in tier order, cheapest first
    prompt: str = field(repr=False)

    @property
    def tier(self) -> str:
        """The cheapest acceptable tier (what the prompt shows as a neighbour)."""
        return self.acceptable[0]


@dataclass(frozen=True)
class SemanticConfig:
    """[routing.semantic]: nearest example prompts by embeddings (octoroute.routing.semantic)."""

    enabled: bool = False  # off unless the user runs an embeddings server
    base_url: str | None = None  # OpenAI-style base URL serving POST /embeddings, e.g. http://host:11434/v1
    model: str = ""  # the embeddings model id sent upstream
    api_key_env: str | None = None  # env var holding a bearer key for the embeddings server
    verify: bool | str = True  # TLS: true, false, or a CA bundle path
    timeout_ms: int = 300  # milliseconds; one embeddings call on the request path, hard limit
    k: int = 5  # nearest exemplars that vote
    min_confidence: float = 0.3  # 0..1; a verdict less sure than this is no verdict
    examples: tuple[Exemplar, ...] = ()  # from `examples` or `examples_file`; empty: the shipped set
    examples_file: str | None = None  # JSONL path the examples came from, if any
    calibrate: bool = False  # move the scorer's tier one step when the nearest labelled prompts agree
    calibrate_k: int = 10  # nearest labelled prompts that are weighed
    calibrate_share: float = 0.9  # 0.5..1; similarity-weighted share of them that must accept the new tier
    calibration: tuple[LabelledPrompt, ...] = ()  # from calibration_file; empty: the shipped labelled set
    calibration_file: str | None = None  # JSONL path (octoroute eval's format) the bank came from, if any
    vector_file: str | None = None  # where example and labelled prompts' vectors are kept across restarts
    api_key: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class RoutingConfig:
    strategy: str = "hybrid"  # rule | llm | hybrid | tool
    default_importance: str = "normal"  # low | normal | high, when a request omits it
    default_tier: str = "balanced"  # when no rule decides and no router brain answers
    router_tier: str = "balanced"  # whose endpoints act as the router brain
    router_timeout_seconds: float = 10.0  # seconds; the whole router-brain call
    max_attempts: int = 3  # distinct endpoints tried per tier
    tier_fallback: bool = True  # try neighbouring tiers when a tier is exhausted
    sessions: SessionsConfig = SessionsConfig()  # [routing.sessions]
    shadow: ShadowConfig | None = None  # routing.shadow; None: no shadow decisions
    rules_preset: str = "default"  # default | seed | none: the rules after the user's own
    rules: tuple[RuleConfig, ...] = ()  # the user's [[routing.rules]], checked before the preset's
    brain_confidence: float = 0.5  # 0..1; hybrid asks the brain below this scorer confidence
    brain_cache_size: int = 1024  # brain answers kept for repeated prompts (by hash); 0: no cache
    semantic: SemanticConfig = SemanticConfig()  # [routing.semantic]
    learned_prior: bool = True  # lower the scorer's tier one step when the fitted prior is sure it serves


@dataclass(frozen=True)
class HealthConfig:
    interval_seconds: float = 15.0  # seconds between probe rounds
    timeout_seconds: float = 3.0  # seconds; one probe
    unhealthy_after: int = 3  # consecutive failures (probes and requests)


@dataclass(frozen=True)
class TimeoutsConfig:
    fast: float = 30.0  # seconds; one attempt against a fast endpoint
    balanced: float = 60.0  # seconds; one attempt against a balanced endpoint
    deep: float = 120.0  # seconds; one attempt against a deep endpoint
    stream_idle: float = 60.0  # seconds; a stream silent this long after its first byte is cut
    stream_total_seconds: float = 600.0  # seconds; from request start, a stream still running is cut
    first_token_base_seconds: float = 10.0  # seconds; a stream's first byte, before its prompt's share
    prefill_margin: float = 3.0  # times the expected prompt-reading time added to the base

    def for_tier(self, tier: str) -> float:
        return float(getattr(self, tier))


@dataclass(frozen=True)
class BusyTierConfig:
    """[busy.<tier>]: what a request routed to a tier does when all its endpoints are saturated."""

    policy: str = "send"  # send | queue | degrade | reject (BUSY_POLICIES); send: as before this table
    queue_seconds: float = 30.0  # seconds; queue (and degrade with no smaller tier free) waits this long
    retry_after_seconds: float = 5.0  # seconds; the Retry-After of a busy 429


@dataclass(frozen=True)
class BusyConfig:
    """[busy]: one policy per tier; a tier without a table keeps today's behaviour (send)."""

    fast: BusyTierConfig = BusyTierConfig()
    balanced: BusyTierConfig = BusyTierConfig()
    deep: BusyTierConfig = BusyTierConfig()

    def for_tier(self, tier: str) -> BusyTierConfig:
        value: BusyTierConfig = getattr(self, tier)
        return value


@dataclass(frozen=True)
class ObservabilityConfig:
    log_level: str = "info"  # debug | info | warning | error | critical
    log_format: str = "text"  # text | json
    metrics_public: bool = False  # with client API keys set, /metrics needs a key unless true
    decisions_kept: int = 200  # routing decisions kept in memory for /stats/decisions (0: none)
    keep_prompts: bool = False  # keep each kept decision's prompt text too (in memory only)


# Claude model-name substrings -> where /v1/messages sends them (auto, a tier or an endpoint id).
DEFAULT_CLAUDE_MODELS: tuple[tuple[str, str], ...] = (
    ("haiku", "fast"), ("sonnet", "balanced"), ("opus", "deep"))


@dataclass(frozen=True)
class AnthropicConfig:
    """[anthropic]: the Messages API (octoroute.api.anthropic)."""

    # (substring, target) pairs: [anthropic.models] over the defaults; the longest match wins
    models: tuple[tuple[str, str], ...] = DEFAULT_CLAUDE_MODELS


@dataclass(frozen=True)
class Config:
    """The whole, validated configuration. Immutable, so threads share it freely."""

    endpoints: tuple[EndpointConfig, ...]
    server: ServerConfig = ServerConfig()
    routing: RoutingConfig = RoutingConfig()
    health: HealthConfig = HealthConfig()
    timeouts: TimeoutsConfig = TimeoutsConfig()
    observability: ObservabilityConfig = ObservabilityConfig()
    anthropic: AnthropicConfig = AnthropicConfig()
    source: str = "<config>"
    busy: BusyConfig = BusyConfig()  # [busy.<tier>]

    def tier_endpoints(self, tier: str) -> tuple[EndpointConfig, ...]:
        return tuple(e for e in self.endpoints if e.tier == tier)

    def endpoint(self, endpoint_id: str) -> EndpointConfig | None:
        for e in self.endpoints:
            if e.id == endpoint_id:
                return e
        return None

    def attempt_timeout(self, endpoint: EndpointConfig) -> float:
        """Seconds one attempt against ``endpoint`` may take."""
        if endpoint.timeout_seconds is not None:
            return endpoint.timeout_seconds
        return self.timeouts.for_tier(endpoint.tier)


# --- validation -----------------------------------------------------------

Check = Callable[[Any], bool]


@dataclass(frozen=True)
class _Field:
    kind: str  # "str" | "int" | "float" | "bool", or "any" with ``convert`` judging the value
    check: Check | None = None
    expect: str = ""  # what a valid value looks like, for the message
    example: str = ""  # a valid TOML value, shown in the fix
    required: bool = False
    convert: Callable[[Any], Any] | None = None  # raw -> stored value; ValueError says what is wrong


def _positive(v: Any) -> bool:
    return bool(v > 0)


def _one_of(options: tuple[str, ...]) -> _Field:
    return _Field("str", lambda v: v in options, "one of " + ", ".join(repr(o) for o in options),
                  f'"{options[0]}"')


def _tls_verify(value: Any) -> bool | str:
    """An endpoint's ``verify``: a bool, or a CA bundle file or directory that exists."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError("not a boolean or a path")
    if not os.path.exists(value):
        raise ValueError(f"no file or directory {value!r} (a relative path is taken from the "
                         "directory octoroute starts in)")
    if not os.access(value, os.R_OK):
        raise ValueError(f"{value!r} is not readable by this user")
    return value


_SERVER_FIELDS = {
    "host": _Field("str", lambda v: bool(v.strip()), "a host name or address", '"127.0.0.1"'),
    "port": _Field("int", lambda v: 1 <= v <= 65535, "an integer from 1 to 65535", "3000"),
    "request_timeout_seconds": _Field("float", _positive, "a number > 0", "120"),
    "threads": _Field("int", lambda v: 1 <= v <= 1024, "an integer from 1 to 1024", "36"),
    "max_body_bytes": _Field("int", _positive, "an integer > 0", "2097152"),
    "max_in_flight": _Field("int", lambda v: v >= 1, "an integer >= 1", "32"),
    "max_response_bytes": _Field("int", lambda v: v >= 1024, "an integer >= 1024", "16777216"),
    "api_keys_env": _Field("str", lambda v: bool(v.strip()), "an environment variable name",
                           '"OCTOROUTE_API_KEYS"'),
    "trusted_proxy": _Field("str", lambda v: bool(v.strip()), "an address", '"127.0.0.1"'),
}
# [server] keys that once existed, and what to do instead.
_SERVER_REMOVED = {
    "cpu_affinity": ("was removed: CPU pinning is the operating system's job",
                     "remove it and start the server pinned, e.g. `taskset -c 1 octoroute serve`, or "
                     "with CPUAffinity=1 in its systemd unit (docs/deployment.md, CPU pinning)"),
}
_ROUTING_FIELDS = {
    "strategy": _one_of(STRATEGIES),
    "default_importance": _one_of(IMPORTANCES),
    "default_tier": _one_of(TIERS),
    "router_tier": _one_of(TIERS),
    "router_timeout_seconds": _Field("float", _positive, "a number > 0", "10"),
    "max_attempts": _Field("int", lambda v: 1 <= v <= 100, "an integer from 1 to 100", "3"),
    "tier_fallback": _Field("bool", None, "true or false", "true"),
    "rules_preset": _one_of(RULE_PRESETS),
    "brain_confidence": _Field("float", lambda v: 0 <= v <= 1, "a number from 0 to 1", "0.5"),
    "learned_prior": _Field("bool", None, "true or false", "true"),
    "brain_cache_size": _Field("int", lambda v: 0 <= v <= 1_000_000, "an integer from 0 to 1000000",
                               "1024"),
}
_SESSIONS_FIELDS = {
    "enabled": _Field("bool", None, "true or false", "true"),
    "downgrade_after": _Field("int", lambda v: 1 <= v <= 1000, "an integer from 1 to 1000", "3"),
    "max_sessions": _Field("int", lambda v: 1 <= v <= 10_000_000, "an integer from 1 to 10000000",
                           "10000"),
    "idle_seconds": _Field("float", _positive, "a number of seconds > 0", "1800"),
}
_SHADOW_FIELDS = {
    "strategy": _Field("str", lambda v: v in STRATEGIES,
                       "one of " + ", ".join(repr(s) for s in STRATEGIES), '"llm"', required=True),
    "sample": _Field("float", lambda v: 0 < v <= 1, "a share above 0, at most 1", "0.1"),
    "max_pending": _Field("int", lambda v: 1 <= v <= 1024, "an integer from 1 to 1024", "8"),
}
_RULE_KEYS = ("name", "tier", "task_type", "importance", "min_tokens", "max_tokens", "keywords", "regex",
              "has_tools", "has_images", "json_response", "header", "min_turns", "max_turns")


def _table(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"a {type(value).__name__}, not a table")
    return value


_SEMANTIC_FIELDS = {
    "enabled": _Field("bool", None, "true or false", "true"),
    "base_url": _Field("str", None, "an http(s) URL", '"http://localhost:11434/v1"'),
    "model": _Field("str", lambda v: bool(v.strip()), "a non-empty model id", '"nomic-embed-text"'),
    "api_key_env": _Field("str", lambda v: bool(v.strip()), "an environment variable name",
                          '"EMBEDDINGS_API_KEY"'),
    "verify": _Field("any", None, "true, false, or the path of a CA bundle (PEM) or directory",
                     'true (or false, or "/etc/ssl/homelab-ca.pem")', convert=_tls_verify),
    "timeout_ms": _Field("int", lambda v: 1 <= v <= 60_000, "an integer of milliseconds from 1 to 60000",
                         "300"),
    "k": _Field("int", lambda v: 1 <= v <= 100, "an integer from 1 to 100", "5"),
    "min_confidence": _Field("float", lambda v: 0 <= v <= 1, "a number from 0 to 1", "0.3"),
    "examples": _Field("any", None, "a table of tier = [prompts]",
                       '{ fast = ["hi there"], deep = ["prove that ..."] }', convert=_table),
    "examples_file": _Field("str", lambda v: bool(v.strip()), "the path of a JSONL file",
                            '"/etc/octoroute/exemplars.jsonl"'),
    "calibrate": _Field("bool", None, "true or false", "true"),
    "calibrate_k": _Field("int", lambda v: 1 <= v <= 100, "an integer from 1 to 100", "10"),
    "calibrate_share": _Field("float", lambda v: 0.5 < v <= 1, "a number above 0.5, at most 1", "0.9"),
    "calibration_file": _Field("str", lambda v: bool(v.strip()), "the path of a JSONL file",
                               '"/etc/octoroute/labelled.jsonl"'),
    "vector_file": _Field("str", lambda v: bool(v.strip()), "a file path",
                          '"/var/lib/octoroute/vectors.json"'),
}
MAX_EXEMPLARS = 5000  # example prompts at most: each costs an embedding and a comparison per decision
MAX_DECISIONS_KEPT = 10_000  # decisions; the ring's bound (prompts kept make each one larger)
MAX_EXEMPLAR_CHARS = 2000  # characters per example prompt
_HEALTH_FIELDS = {
    "interval_seconds": _Field("float", _positive, "a number > 0", "15"),
    "timeout_seconds": _Field("float", _positive, "a number > 0", "3"),
    "unhealthy_after": _Field("int", lambda v: v >= 1, "an integer >= 1", "3"),
}
_TIMEOUT_FIELDS = {t: _Field("float", _positive, "a number of seconds > 0", "60")
                   for t in (*TIERS, "stream_idle")}
_TIMEOUT_FIELDS["stream_total_seconds"] = _Field("float", _positive, "a number of seconds > 0", "600")
_TIMEOUT_FIELDS["first_token_base_seconds"] = _Field("float", _positive, "a number of seconds > 0", "10")
_TIMEOUT_FIELDS["prefill_margin"] = _Field("float", lambda v: 1 <= v <= 100, "a number from 1 to 100",
                                           "3")
_BUSY_FIELDS = {
    "policy": _one_of(BUSY_POLICIES),
    "queue_seconds": _Field("float", lambda v: 0 <= v <= 3600, "a number of seconds from 0 to 3600",
                            "10"),
    "retry_after_seconds": _Field("float", lambda v: 1 <= v <= 3600,
                                  "a number of seconds from 1 to 3600", "5"),
}
_OBS_FIELDS = {
    "log_level": _one_of(LOG_LEVELS),
    "log_format": _one_of(LOG_FORMATS),
    "metrics_public": _Field("bool", None, "true or false", "true"),
    "decisions_kept": _Field("int", lambda v: 0 <= v <= MAX_DECISIONS_KEPT,
                             f"an integer from 0 to {MAX_DECISIONS_KEPT}", "200"),
    "keep_prompts": _Field("bool", None, "true or false", "false"),
}
_ENDPOINT_FIELDS = {
    "name": _Field("str", lambda v: bool(v.strip()), "a non-empty model id",
                   '"qwen3-8b-instruct"', required=True),
    "id": _Field("str", lambda v: bool(v.strip()) and len(v) <= 128,
                 "a non-empty string of at most 128 characters",
                 '"fast-1"'),
    "base_url": _Field("str", None, "an http(s) URL", '"http://localhost:11434/v1"', required=True),
    "max_tokens": _Field("int", _positive, "an integer > 0", "4096", required=True),
    "temperature": _Field("float", lambda v: 0 <= v <= 2, "a number from 0 to 2", "0.7"),
    "weight": _Field("float", _positive, "a number > 0", "1.0"),
    "priority": _Field("int", None, "an integer (higher is tried first)", "1"),
    "api_key_env": _Field("str", lambda v: bool(v.strip()), "an environment variable name",
                          '"OLLAMA_API_KEY"'),
    "timeout_seconds": _Field("float", _positive, "a number of seconds > 0", "60"),
    "verify": _Field("any", None, "true, false, or the path of a CA bundle (PEM) or directory",
                     'true (or false, or "/etc/ssl/homelab-ca.pem")', convert=_tls_verify),
    "kind": _one_of(ENDPOINT_KINDS),
    "context_window": _Field("int", _positive, "an integer of tokens > 0", "8192"),
    "capacity": _Field("int", _positive, "an integer > 0 (generations at once)", "1"),
    "params_b": _Field("float", _positive, "a number of billions of parameters > 0", "8"),
    "cost_per_million_tokens": _Field("float", lambda v: v >= 0, "a number >= 0", "0.2"),
    "watts": _Field("float", lambda v: v >= 0, "a number of watts >= 0", "250"),
}
_TOP_LEVEL = ("server", "models", "routing", "health", "timeouts", "observability", "anthropic", "busy")


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, what: str, fix: str) -> None:
        self.items.append(f"{path}: {what}; {fix}")

    def unknown(self, path: str, key: str, known: tuple[str, ...] | list[str]) -> None:
        close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
        where = f"{path}.{key}" if path else key
        if close:
            self.add(where, "unknown key", f"did you mean {close[0]!r}? rename it")
        else:
            self.add(where, "unknown key", "remove it (known keys: " + ", ".join(known) + ")")


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _section(raw: Any, path: str, fields: Mapping[str, _Field], problems: _Problems) -> dict[str, Any]:
    """Check one table against ``fields``; return only the valid values."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.add(path, f"must be a table, got {type(raw).__name__}", f"write it as [{path}]")
        return {}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        spec = fields.get(key)
        if spec is None:
            problems.unknown(path, key, list(fields))
            continue
        where = f"{path}.{key}"
        if spec.convert is not None:
            try:
                values[key] = spec.convert(value)
            except ValueError as exc:
                problems.add(where, f"must be {spec.expect}, got {value!r}: {exc}",
                             f"write e.g. {key} = {spec.example}")
        elif not _type_ok(spec.kind, value) or (spec.check is not None and not spec.check(value)):
            problems.add(where, f"must be {spec.expect}, got {value!r}",
                         f"write e.g. {key} = {spec.example}")
        else:
            values[key] = float(value) if spec.kind == "float" else value
    for key, spec in fields.items():
        if spec.required and key not in raw:
            problems.add(f"{path}.{key}", "is required", f"add e.g. {key} = {spec.example}")
    return values


def _base_url(value: str, where: str, problems: _Problems) -> str | None:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.add(where, f"must be an http:// or https:// URL, got {value!r}",
                     'write the OpenAI base URL, e.g. "http://localhost:11434/v1"')
        return None
    if parts.query or parts.fragment:
        problems.add(where, "must not contain a query or fragment", "remove the part after ? or #")
        return None
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        problems.add(where, f"has an invalid port in {value!r}", "use a port from 1 to 65535")
        return None
    return value.strip().rstrip("/")


def _endpoints(raw: Any, env: Mapping[str, str], problems: _Problems) -> list[EndpointConfig]:
    if raw is None:
        problems.add("models", "is missing", "add [models.fast], [models.balanced] and [models.deep]")
        return []
    if not isinstance(raw, dict):
        problems.add("models", "must be a table", "write [models.fast] etc.")
        return []
    for key in raw:
        if key not in TIERS:
            problems.unknown("models", key, TIERS)
    found: list[EndpointConfig] = []
    wheres: list[str] = []
    for tier in TIERS:
        entries = raw.get(tier)
        if entries is None:
            problems.add(f"models.{tier}", "has no endpoint",
                         f"add a [models.{tier}] table (or [[models.{tier}]] for several)")
            continue
        if isinstance(entries, dict):
            listed: list[tuple[str, Any]] = [(f"models.{tier}", entries)]
        elif isinstance(entries, list):
            listed = [(f"models.{tier}[{i}]", e) for i, e in enumerate(entries)]
            if not listed:
                problems.add(f"models.{tier}", "has no endpoint", f"add a [[models.{tier}]] table")
        else:
            problems.add(f"models.{tier}", "must be a table or an array of tables",
                         f"write [models.{tier}] or [[models.{tier}]]")
            continue
        for where, entry in listed:
            values = _section(entry, where, _ENDPOINT_FIELDS, problems)
            if "base_url" in values:
                values["base_url"] = _base_url(values["base_url"], f"{where}.base_url", problems)
            if not all(values.get(k) is not None for k in ("name", "base_url", "max_tokens")):
                continue
            key_env = values.get("api_key_env")
            api_key = None
            if key_env is not None:
                api_key = env.get(key_env)
                if not api_key:
                    problems.add(f"{where}.api_key_env",
                                 f"names environment variable {key_env} which is not set or empty",
                                 f"export {key_env}=<key> before starting, or remove api_key_env")
            wheres.append(where)
            found.append(EndpointConfig(
                id=values.get("id", values["name"]).strip(), name=values["name"], tier=tier,
                base_url=values["base_url"], max_tokens=values["max_tokens"],
                temperature=values.get("temperature", 0.7), weight=values.get("weight", 1.0),
                priority=values.get("priority", 1), api_key_env=key_env,
                timeout_seconds=values.get("timeout_seconds"), verify=values.get("verify", True),
                kind=values.get("kind", "auto"), context_window=values.get("context_window"),
                capacity=values.get("capacity"), params_b=values.get("params_b"),
                cost_per_million_tokens=values.get("cost_per_million_tokens"),
                watts=values.get("watts"), api_key=api_key))
    seen: dict[str, str] = {}
    for e, where in zip(found, wheres, strict=True):
        if e.id in seen:
            problems.add(f"{where}.id", f"endpoint id {e.id!r} is already used by {seen[e.id]}",
                         'add a unique id = "..." to one of them (id defaults to name)')
        else:
            seen[e.id] = where
    return found


def _rules(raw: Any, problems: _Problems) -> tuple[RuleConfig, ...]:
    """Validate ``[[routing.rules]]``; each problem names the rule by index and name."""
    if not isinstance(raw, list):
        problems.add("routing.rules", "must be an array of tables",
                     'write each rule as [[routing.rules]] with name = "..." and tier = "..."')
        return ()
    found: list[RuleConfig] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            problems.add(f"routing.rules[{index}]", "must be a table", "write it as [[routing.rules]]")
            continue
        name = entry.get("name")
        label = f"routing.rules[{index}]" + (f" ({name!r})" if isinstance(name, str) else "")
        rule = _rule(entry, label, problems)
        if rule is None:
            continue
        if rule.name in seen:
            problems.add(f"{label}.name", f"is already used by routing.rules[{seen[rule.name]}]",
                         "rename one of them (a rule's name is reported in responses and metrics)")
            continue
        seen[rule.name] = index
        found.append(rule)
    return tuple(found)


def _rule(entry: dict[str, Any], label: str, problems: _Problems) -> RuleConfig | None:
    before = len(problems.items)
    values: dict[str, Any] = {}
    for key, value in entry.items():
        if key not in _RULE_KEYS:
            close = difflib.get_close_matches(key, list(_RULE_KEYS), n=1, cutoff=0.6)
            problems.add(f"{label}.{key}", "unknown condition key",
                         f"did you mean {close[0]!r}? rename it" if close else
                         "remove it (known keys: " + ", ".join(_RULE_KEYS) + ")")
            continue
        where = f"{label}.{key}"
        if key == "name":
            if not isinstance(value, str) or not value.strip() or len(value) > 64:
                problems.add(where, f"must be a non-empty string of at most 64 characters, got {value!r}",
                             'write e.g. name = "code_to_deep"')
            else:
                values[key] = value.strip()
        elif key == "tier":
            if value not in TIERS:
                close = difflib.get_close_matches(str(value), list(TIERS), n=1, cutoff=0.6)
                problems.add(where, f"unknown tier {value!r}",
                             (f"did you mean {close[0]!r}? " if close else "")
                             + "use one of " + ", ".join(repr(t) for t in TIERS))
            else:
                values[key] = value
        elif key in ("task_type", "importance"):
            allowed = TASK_TYPES if key == "task_type" else IMPORTANCES
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
                problems.add(where, f"must be a non-empty list of strings, got {value!r}",
                             f'write e.g. {key} = ["{allowed[1]}"]')
                continue
            bad = [v for v in items if v not in allowed]
            if bad:
                problems.add(where, f"unknown value(s) {', '.join(repr(b) for b in bad)}",
                             "use any of " + ", ".join(repr(a) for a in allowed))
                continue
            values[key] = tuple(items)
        elif key in ("min_tokens", "max_tokens", "min_turns", "max_turns"):
            if not _type_ok("int", value) or value < 0:
                problems.add(where, f"must be an integer >= 0, got {value!r}", f"write e.g. {key} = 1000")
            else:
                values[key] = value
        elif key in ("has_tools", "has_images", "json_response"):
            if not isinstance(value, bool):
                problems.add(where, f"must be true or false, got {value!r}", f"write e.g. {key} = true")
            else:
                values[key] = value
        elif key == "keywords":
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not items or not all(
                    isinstance(v, str) and v.strip() for v in items):
                problems.add(where, f"must be a non-empty list of non-empty strings, got {value!r}",
                             'write e.g. keywords = ["kubernetes", "helm chart"]')
            else:
                values[key] = tuple(v.strip() for v in items)
        elif key == "regex":
            if not isinstance(value, str) or not value:
                problems.add(where, f"must be a non-empty string, got {value!r}",
                             "write e.g. regex = '(?i)\\bsql\\b' (single quotes keep backslashes)")
                continue
            try:
                re.compile(value)
            except re.error as exc:
                problems.add(where, f"invalid regular expression {value!r}: {exc}",
                             "fix the pattern (Python re syntax; use single quotes in TOML)")
                continue
            values[key] = value
        elif key == "header":
            name, sep, wanted = value.partition("=") if isinstance(value, str) else ("", "", "")
            name = name.strip()
            if not sep or not name or any(c in name for c in " :\t"):
                problems.add(where, f"must be \"Name=value\", got {value!r}",
                             'write e.g. header = "X-Team=research"')
            else:
                values[key] = (name, wanted.strip())
    for key in ("name", "tier"):
        if key not in entry:
            problems.add(f"{label}.{key}", "is required",
                         'add e.g. name = "my_rule"' if key == "name" else 'add e.g. tier = "deep"')
    for low, high in (("min_tokens", "max_tokens"), ("min_turns", "max_turns")):
        if low in values and high in values and values[low] > values[high]:
            problems.add(f"{label}.{low}", f"({values[low]}) is above {high} ({values[high]})",
                         "swap them or fix one; the rule could never match")
    if len(problems.items) > before:
        return None
    return RuleConfig(**values)


def _server_limits(server: dict[str, Any], env: Mapping[str, str], problems: _Problems) -> None:
    """Cross-field checks of [server], and the client API keys from the environment."""
    threads = server.get("threads", ServerConfig.threads)
    slots = server.get("max_in_flight")
    if slots is not None and slots >= threads:
        problems.add("server.max_in_flight", f"must be less than server.threads ({threads}), got {slots}",
                     "leave a few threads free so /health and /metrics answer while chats are busy "
                     f"(e.g. max_in_flight = {max(1, threads - 4)})")
    key_env = server.get("api_keys_env")
    if key_env is not None:
        keys = tuple(k.strip() for k in env.get(key_env, "").split(",") if k.strip())
        if not keys:
            problems.add("server.api_keys_env",
                         f"names environment variable {key_env} which is not set or holds no key",
                         f"export {key_env}=key1,key2 before starting (Octoroute refuses to run open "
                         "by accident), or remove api_keys_env to serve without keys")
        server["api_keys"] = keys


def _routing_tables(raw: Any, problems: _Problems,
                    env: Mapping[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
    """Split [routing.sessions], routing.shadow and [routing.semantic] off [routing]; validate them."""
    if not isinstance(raw, dict):
        return raw, {}
    rest = {k: v for k, v in raw.items() if k not in ("sessions", "shadow", "semantic")}
    tables: dict[str, Any] = {}
    if "sessions" in raw:
        tables["sessions"] = SessionsConfig(**_section(raw["sessions"], "routing.sessions",
                                                       _SESSIONS_FIELDS, problems))
    if "shadow" in raw:
        values = _section(raw["shadow"], "routing.shadow", _SHADOW_FIELDS, problems)
        primary = raw.get("strategy", RoutingConfig.strategy)
        if values.get("strategy") == primary:
            problems.add("routing.shadow.strategy", f"is the same as routing.strategy ({primary!r})",
                         'shadow another strategy (e.g. strategy = "llm"), or remove routing.shadow')
        elif "strategy" in values:
            tables["shadow"] = ShadowConfig(**values)
    if "semantic" in raw:
        tables["semantic"] = _semantic(raw["semantic"], os.environ if env is None else env, problems)
    return rest, tables


def _anthropic(raw: Any, endpoint_ids: set[str], problems: _Problems) -> AnthropicConfig:
    """[anthropic]: its one table, models (name substring -> auto, a tier or an endpoint id)."""
    if raw is None:
        return AnthropicConfig()
    if not isinstance(raw, dict):
        problems.add("anthropic", f"must be a table, got {type(raw).__name__}", "write it as [anthropic]")
        return AnthropicConfig()
    for key in raw:
        if key != "models":
            problems.unknown("anthropic", key, ["models"])
    table = raw.get("models", {})
    if not isinstance(table, dict):
        problems.add("anthropic.models", f"must be a table, got {type(table).__name__}",
                     'write it as [anthropic.models] with lines like sonnet = "balanced"')
        return AnthropicConfig()
    targets = ("auto", *TIERS)
    mapping = dict(DEFAULT_CLAUDE_MODELS)
    for name, target in table.items():
        where = f"anthropic.models.{name}"
        key = name.strip().lower()
        if not key:
            problems.add(where, "is an empty model-name substring",
                         "use a word of the model names, e.g. sonnet")
        elif not isinstance(target, str) or (target not in targets and target not in endpoint_ids):
            problems.add(where, f"must be auto, a tier ({', '.join(TIERS)}) or an endpoint id, "
                         f"got {target!r}",
                         f'write e.g. {key} = "balanced"')
        else:
            mapping[key] = target
    return AnthropicConfig(models=tuple(mapping.items()))


def _jsonl_objects(text: str, fix: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each line of JSONL; ``ValueError`` naming a line that is no object.

    Blank lines and lines starting with ``#`` are skipped. ``fix`` is the
    line's expected shape, shown in the error.
    """
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise ValueError(f"line {number} is not JSON; write one {fix} object a line") from None
        if not isinstance(item, dict):
            raise ValueError(f"line {number} is not a JSON object; write {fix}")
        yield number, item


def _unique_id(item: Mapping[str, Any], number: int, default: str, seen: set[str]) -> str:
    """The line's ``id`` (or ``default``), added to ``seen``; ``ValueError`` if empty or taken."""
    ident = item.get("id", default)
    if not isinstance(ident, str) or not ident.strip() or ident in seen:
        raise ValueError(f"line {number}: id must be a unique non-empty string, got {ident!r}")
    seen.add(ident)
    return ident


def parse_exemplars(text: str) -> tuple[Exemplar, ...]:
    """Example prompts from JSONL, one ``{"id", "tier", "prompt"}`` object a line.

    Raises ``ValueError`` naming the line and the fix; blank lines and lines
    starting with ``#`` are skipped. ``id`` defaults to ``<tier>-<line>``.
    """
    found: list[Exemplar] = []
    seen: set[str] = set()
    for number, item in _jsonl_objects(text, '{"id": "...", "tier": "fast", "prompt": "..."}'):
        tier, prompt = item.get("tier"), item.get("prompt")
        if tier not in TIERS:
            raise ValueError(f"line {number}: tier must be one of {', '.join(TIERS)}, got {tier!r}")
        if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > MAX_EXEMPLAR_CHARS:
            raise ValueError(f"line {number}: prompt must be a non-empty string of at most "
                             f"{MAX_EXEMPLAR_CHARS} characters")
        ident = _unique_id(item, number, f"{tier}-{number}", seen)
        found.append(Exemplar(id=ident, tier=tier, prompt=prompt))
    return tuple(found)


def parse_labelled(text: str) -> tuple[LabelledPrompt, ...]:
    """A calibration bank from JSONL in ``octoroute eval``'s format.

    Each line is ``{"id", "prompt"|"messages", "acceptable": [tiers]}``;
    other keys (``why``, ``category``) are ignored, so a labelled eval set is a
    bank as it stands. A conversation is represented by the text the router
    embeds for it. Raises ``ValueError`` naming the line and the fix; blank
    lines and lines starting with ``#`` are skipped.
    """
    found: list[LabelledPrompt] = []
    seen: set[str] = set()
    fix = '{"id": "...", "prompt": "...", "acceptable": ["fast", "balanced"]}'
    for number, item in _jsonl_objects(text, fix):
        acceptable = item.get("acceptable")
        if not isinstance(acceptable, list) or not acceptable or any(t not in TIERS for t in acceptable):
            raise ValueError(f"line {number}: acceptable must be a non-empty list of tiers "
                             f"({', '.join(TIERS)}), got {acceptable!r}")
        messages = item.get("messages")
        prompt = item["prompt"] if "prompt" in item else (
            routed_text(messages) if isinstance(messages, list) else None)
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError(f'line {number}: needs "prompt" (a non-empty string) or "messages" with a '
                             "user or system message of text")
        found.append(LabelledPrompt(id=_unique_id(item, number, f"line-{number}", seen),
                                    acceptable=tuple(t for t in TIERS if t in acceptable),
                                    prompt=prompt[:MAX_EXEMPLAR_CHARS]))
    return tuple(found)


def _inline_exemplars(raw: Any, where: str, problems: _Problems) -> tuple[Exemplar, ...]:
    """``examples = { tier = ["prompt", ...] }``; ids are ``<tier>-<n>`` (1-based)."""
    example = 'write e.g. examples = { fast = ["hi there"], deep = ["prove that ..."] }'
    if not isinstance(raw, dict):
        problems.add(where, f"must be a table of tier = [prompts], got {type(raw).__name__}", example)
        return ()
    found: list[Exemplar] = []
    for tier, prompts in raw.items():
        if tier not in TIERS:
            problems.unknown(where, tier, TIERS)
            continue
        if not isinstance(prompts, list) or not all(
                isinstance(p, str) and p.strip() and len(p) <= MAX_EXEMPLAR_CHARS for p in prompts):
            problems.add(f"{where}.{tier}", "must be a list of non-empty strings of at most "
                         f"{MAX_EXEMPLAR_CHARS} characters", example)
            continue
        found.extend(Exemplar(id=f"{tier}-{i}", tier=tier, prompt=p) for i, p in enumerate(prompts, 1))
    return tuple(found)


def _read_prompts(path: str, parse: Callable[[str], tuple[Any, ...]], where: str,
                  problems: _Problems) -> tuple[Any, ...]:
    """A JSONL file of prompts read with ``parse``; a problem (and no prompts) when it cannot be."""
    try:
        with open(path, encoding="utf-8") as fh:
            return parse(fh.read())
    except OSError as exc:
        problems.add(where, f"cannot read {path!r} ({exc.strerror})",
                     "check the path (a relative one is taken from the directory octoroute "
                     "starts in) and its permissions")
    except (ValueError, UnicodeDecodeError) as exc:
        problems.add(where, f"{path!r}: {exc}", "fix that line of the file")
    return ()


def _semantic(raw: Any, env: Mapping[str, str], problems: _Problems) -> SemanticConfig:
    """Validate [routing.semantic]; its examples are read here so a bad file fails `check`."""
    where = "routing.semantic"
    values = _section(raw, where, _SEMANTIC_FIELDS, problems)
    if "base_url" in values:
        values["base_url"] = _base_url(values["base_url"], f"{where}.base_url", problems)
    if "examples" in values and "examples_file" in values:
        problems.add(f"{where}.examples", "and examples_file are both set",
                     "keep one: inline examples or a JSONL file")
        del values["examples"]
    elif "examples" in values:
        values["examples"] = _inline_exemplars(values["examples"], f"{where}.examples", problems)
    elif "examples_file" in values:
        values["examples"] = _read_prompts(values["examples_file"], parse_exemplars, f"{where}.examples_file",
                                           problems)
    examples = values.get("examples", ())
    if examples:
        tiers = {e.tier for e in examples}
        if len(tiers) < 2:
            problems.add(f"{where}.examples", f"name only one tier ({', '.join(sorted(tiers))})",
                         "give example prompts for at least two tiers, or remove them to use the "
                         "shipped set")
        if len(examples) > MAX_EXEMPLARS:
            problems.add(f"{where}.examples", f"has {len(examples)} prompts",
                         f"keep at most {MAX_EXEMPLARS}")
        k = values.get("k", SemanticConfig.k)
        if len(examples) < k:
            problems.add(f"{where}.k", f"is {k}, more than the {len(examples)} example prompts",
                         "lower k or add example prompts")
    if "calibration_file" in values:
        values["calibration"] = _read_prompts(values["calibration_file"], parse_labelled,
                                              f"{where}.calibration_file", problems)
    bank = values.get("calibration", ())
    if len(bank) > MAX_EXEMPLARS:
        problems.add(f"{where}.calibration_file", f"has {len(bank)} prompts", f"keep at most {MAX_EXEMPLARS}")
    calibrate_k = values.get("calibrate_k", SemanticConfig.calibrate_k)
    if bank and len(bank) < calibrate_k:
        problems.add(f"{where}.calibrate_k", f"is {calibrate_k}, more than the {len(bank)} labelled prompts",
                     "lower calibrate_k or label more prompts")
    vector_file = values.get("vector_file")
    if vector_file is not None and not os.path.isdir(os.path.dirname(os.path.abspath(vector_file))):
        problems.add(f"{where}.vector_file", f"{vector_file!r} is in a directory that does not exist",
                     "create the directory (Octoroute writes the file there) or pick another path")
    if values.get("calibrate") and not values.get("enabled"):
        problems.add(f"{where}.calibrate", "is true but the layer is not enabled",
                     "set enabled = true with base_url and model (the bank is embedded by that server), "
                     "or remove calibrate")
    if values.get("enabled"):
        for key in ("base_url", "model"):
            if key not in (raw if isinstance(raw, dict) else {}):
                problems.add(f"{where}.{key}", "is required when enabled = true",
                             f"add e.g. {key} = {_SEMANTIC_FIELDS[key].example}")
    key_env = values.get("api_key_env")
    if key_env is not None:
        values["api_key"] = env.get(key_env)
        if not values["api_key"]:
            problems.add(f"{where}.api_key_env",
                         f"names environment variable {key_env} which is not set or empty",
                         f"export {key_env}=<key> before starting, or remove api_key_env")
    if values.get("base_url") is None:
        values.pop("base_url", None)
    return SemanticConfig(**values)


def parse_config(data: Mapping[str, Any], *, source: str = "<config>",
                 env: Mapping[str, str] | None = None) -> Config:
    """Validate an already-parsed TOML document; raise ``ConfigError`` with every problem."""
    env = os.environ if env is None else env
    problems = _Problems()
    for key in data:
        if key not in _TOP_LEVEL:
            problems.unknown("", key, _TOP_LEVEL)
    raw_server = data.get("server")
    if isinstance(raw_server, dict):
        for key in _SERVER_REMOVED.keys() & raw_server.keys():
            problems.add(f"server.{key}", *_SERVER_REMOVED[key])
        raw_server = {k: v for k, v in raw_server.items() if k not in _SERVER_REMOVED}
    server = _section(raw_server, "server", _SERVER_FIELDS, problems)
    routing_raw, routing_tables = _routing_tables(data.get("routing"), problems, env)
    raw_rules = None
    if isinstance(routing_raw, dict) and "rules" in routing_raw:
        routing_raw = dict(routing_raw)
        raw_rules = routing_raw.pop("rules")
    routing = _section(routing_raw, "routing", _ROUTING_FIELDS, problems)
    routing.update(routing_tables)
    if raw_rules is not None:
        routing["rules"] = _rules(raw_rules, problems)
    health = _section(data.get("health"), "health", _HEALTH_FIELDS, problems)
    timeouts = _section(data.get("timeouts"), "timeouts", _TIMEOUT_FIELDS, problems)
    obs = _section(data.get("observability"), "observability", _OBS_FIELDS, problems)
    endpoints = _endpoints(data.get("models"), env, problems)
    busy = _busy(data.get("busy"), problems)
    _server_limits(server, env, problems)
    anthropic = _anthropic(data.get("anthropic"), {e.id for e in endpoints}, problems)
    if problems.items:
        raise ConfigError(problems.items, source)
    return Config(
        endpoints=tuple(endpoints), server=ServerConfig(**server), routing=RoutingConfig(**routing),
        health=HealthConfig(**health), timeouts=TimeoutsConfig(**timeouts),
        observability=ObservabilityConfig(**obs), anthropic=anthropic, source=source,
        busy=busy)


def _busy(raw: Any, problems: _Problems) -> BusyConfig:
    """Validate [busy.<tier>] tables; a tier not named keeps the default (send)."""
    if raw is None:
        return BusyConfig()
    if not isinstance(raw, dict):
        problems.add("busy", f"must be a table, got {type(raw).__name__}",
                     'write [busy.deep] with policy = "degrade" (one table per tier)')
        return BusyConfig()
    tiers: dict[str, BusyTierConfig] = {}
    for tier, table in raw.items():
        if tier not in TIERS:
            problems.unknown("busy", tier, TIERS)
            continue
        if isinstance(table, str):
            problems.add(f"busy.{tier}", f"must be a table, got the string {table!r}",
                         f'write [busy.{tier}] then policy = "{table}" on the next line')
            continue
        tiers[tier] = BusyTierConfig(**_section(table, f"busy.{tier}", _BUSY_FIELDS, problems))
    return BusyConfig(**tiers)


def parse_toml(text: str, *, source: str = "<config>", env: Mapping[str, str] | None = None) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"TOML syntax error: {exc}; fix the line named"], source) from None
    return parse_config(data, source=source, env=env)


def load_config(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the TOML file at ``path``."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise ConfigError(["file not found; create one with `octoroute config > config.toml` "
                           "or pass --config PATH"], source) from None
    except OSError as exc:
        raise ConfigError([f"cannot read the file ({exc.strerror}); check the path and permissions"],
                          source) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(["is not valid UTF-8; save the file as UTF-8"], source) from None
    return parse_toml(text, source=source, env=env)


def config_path(explicit: str | None, env: Mapping[str, str] | None = None) -> str:
    """``--config``, else ``$OCTOROUTE_CONFIG``, else ``./config.toml``."""
    env = os.environ if env is None else env
    return explicit or env.get(CONFIG_ENV) or "config.toml"


def effective_log_level(config: Config, env: Mapping[str, str] | None = None) -> str:
    """``$OCTOROUTE_LOG`` overrides ``observability.log_level`` when it names a level."""
    env = os.environ if env is None else env
    override = env.get(LOG_ENV, "").strip().lower()
    override = _LOG_ALIASES.get(override, override)
    return override if override in LOG_LEVELS else config.observability.log_level
