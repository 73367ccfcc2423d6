"""Know the backends: what server each endpoint is, whether its model exists, what fits.

Once per health round (and once by ``octoroute check``), ``Discovery.read``
asks the server behind a group of endpoints a few cheap questions and turns
the answers into one ``ServerFacts`` per endpoint. Only reads that never load
or wake a model are used:

=================  ===========================================================
kind               reads
=================  ===========================================================
llamacpp           ``GET /v1/models`` (ids, ``meta.n_ctx``; router mode:
                   ``status.value``), ``GET /health`` (503 while loading),
                   ``GET /props`` (``total_slots``,
                   ``default_generation_settings.n_ctx``, ``is_sleeping``; in
                   router mode per model with ``?model=..&autoload=false``),
                   ``GET /metrics`` when enabled (``requests_processing``,
                   ``requests_deferred``, counters ``prompt_tokens_total`` /
                   ``prompt_seconds_total``). Never ``/slots``: it wakes a
                   sleeping server.
llama-cpp-python   ``GET /v1/models`` only: any other request aborts a running
                   generation (the health checker never probes it while busy).
ollama             ``GET /v1/models``, ``GET /api/tags`` (installed),
                   ``GET /api/ps`` (resident, ``context_length``),
                   ``POST /api/show`` (``num_ctx``; never loads) for a model
                   installed but not resident, once.
lmstudio           ``GET /v1/models``, ``GET /api/v1/models`` (``key``,
                   ``loaded_instances[].config.context_length``).
vllm               ``GET /v1/models`` (``max_model_len``), ``GET /metrics``
                   (``num_requests_running``/``waiting``, counters
                   ``prompt_tokens_total`` / ``request_prefill_time_seconds``).
openai             ``GET /v1/models`` only.
=================  ===========================================================

The kind is the endpoint's ``kind`` unless that is ``auto``; then it is
detected once, from the ``/v1/models`` answer (``owned_by``, ``meta``,
``max_model_len``), and where that is not conclusive from whether
``/api/tags`` (Ollama) or ``/api/v1/models`` (LM Studio) answer. A new
``Discovery`` (a reload builds one) detects again.

Prefill speed is the ratio of two counters' growth between reads; the
gauges llama-server also exports are reset by every scrape, so another
scraper would make them lie.
"""

from __future__ import annotations

import difflib
import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from octoroute.backends.client import BackendClient
from octoroute.backends.facts import ServerFacts
from octoroute.config import EndpointConfig
from octoroute.errors import BackendError
from octoroute.metrics import parse_samples

log = logging.getLogger("octoroute.discovery")

KINDS = ("llamacpp", "llama-cpp-python", "ollama", "lmstudio", "vllm", "openai")
MAX_LISTED = 5  # server model names quoted in a "model not served" reason
SUGGEST_CUTOFF = 0.6  # difflib similarity a did-you-mean needs


def server_key(base_url: str) -> str:
    """The server process behind a base URL: scheme, host and port."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


@dataclass(frozen=True)
class ModelInfo:
    """One model a server lists, with what it says of it (``None``: not said)."""

    name: str
    context_window: int | None = None
    resident: bool | None = None
    total_slots: int | None = None
    sleeping: bool | None = None


@dataclass
class ServerReading:
    """What one read of one server found; turned into per-endpoint ``ServerFacts``."""

    kind: str
    models: list[ModelInfo] | None = None  # None: the server did not list its models
    context_window: int | None = None  # single-model servers: the one window
    total_slots: int | None = None
    sleeping: bool | None = None
    processing: int | None = None
    waiting: int | None = None
    prefill_tokens_per_second: float | None = None
    router_mode: bool = False  # llama-server serving several models (status per model)
    extra: dict[str, ModelInfo] = field(default_factory=dict)  # per-model reads, by name


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, float) and value > 0 and math.isfinite(value):
        return int(value)
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _name_variants(name: str, kind: str) -> tuple[str, ...]:
    """The spellings a server treats as ``name``: Ollama adds ``:latest`` to an untagged name."""
    if kind == "ollama" and ":" not in name.rsplit("/", 1)[-1]:
        return (name, name + ":latest")
    return (name,)


def suggest(name: str, names: Sequence[str]) -> str | None:
    """The server's own spelling closest to ``name``: same letters in another case, else difflib."""
    for candidate in names:
        if candidate.lower() == name.lower():
            return candidate
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=SUGGEST_CUTOFF)
    if close:
        return close[0]
    lowered = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=SUGGEST_CUTOFF)
    return lowered[close[0]] if close else None


def missing_reason(endpoint: EndpointConfig, facts: ServerFacts) -> str:
    """Why an endpoint is out, in the words that fix it."""
    text = f'model "{endpoint.name}" not served here'
    if facts.suggestion is not None:
        return text + f'; did you mean "{facts.suggestion}"?'
    listed = facts.models or ()
    if listed:
        more = f" (and {len(listed) - MAX_LISTED} more)" if len(listed) > MAX_LISTED else ""
        return text + "; the server lists: " + ", ".join(f'"{n}"' for n in listed[:MAX_LISTED]) + more
    return text + "; the server lists no models"


def detect_from_models(payload: Any) -> str | None:
    """The kind an OpenAI ``/v1/models`` answer gives away, or ``None`` when it does not."""
    if not isinstance(payload, dict):
        return None
    entries = _dicts(payload.get("data"))
    if isinstance(payload.get("models"), list) and entries and "object" in payload:
        return "llamacpp"  # llama-server answers with both "models" and "data"
    for entry in entries:
        owner = entry.get("owned_by")
        meta = entry.get("meta")
        if owner == "llamacpp" or (isinstance(meta, dict) and "n_ctx_train" in meta):
            return "llamacpp"
        if isinstance(entry.get("status"), dict) and "value" in entry["status"]:
            return "llamacpp"  # router mode
        if owner == "vllm" or "max_model_len" in entry:
            return "vllm"
        if owner == "me":
            return "llama-cpp-python"
        if owner == "organization_owner":
            return "lmstudio"
    return None


class Discovery:
    """Reads servers' facts; remembers kinds, counters and unchanging details between reads.

    ``read`` is called from one health-round thread per server at a time; its
    memory is per server key, guarded by ``_memory_lock`` all the same.
    """

    def __init__(self, clients: Mapping[str, BackendClient], *, timeout: float,
                 clock: Callable[[], float]) -> None:
        self._clients = clients
        self._timeout = timeout
        self._clock = clock
        self._memory_lock = threading.Lock()  # guards the four dicts below
        self._kinds: dict[str, str] = {}  # server key -> detected kind
        self._no_metrics: set[str] = set()  # servers whose /metrics is off (501/404)
        self._counters: dict[str, tuple[float, float]] = {}  # server key -> (prompt tokens, seconds)
        self._speeds: dict[str, float] = {}  # server key -> last prefill tokens per second
        self._shown: dict[tuple[str, str], int | None] = {}  # (server, model) -> Ollama num_ctx

    # --- the public read

    def read(self, endpoints: Sequence[EndpointConfig]) -> dict[str, ServerFacts]:
        """Facts for every endpoint of one server; ``BackendError`` when the server is not up.

        The first request (``/v1/models``) is the liveness probe: when it
        fails the endpoints are down. The other reads are best effort: a
        failure leaves their fields unknown.
        """
        first = endpoints[0]
        client = self._clients[first.id]
        key = server_key(first.base_url)
        payload = client.list_models(timeout=self._timeout)
        kind = self._kind(key, endpoints, client, payload)
        reading = ServerReading(kind=kind)
        self._read_openai_list(reading, payload)
        reader = _READERS.get(kind)
        if reader is not None:
            reader(self, key, client, endpoints, reading)
        now = self._clock()
        return {e.id: facts_for(e, reading, now) for e in endpoints}

    def kind_of(self, base_url: str) -> str | None:
        with self._memory_lock:
            return self._kinds.get(server_key(base_url))

    # --- kind detection

    def _kind(self, key: str, endpoints: Sequence[EndpointConfig], client: BackendClient,
              payload: Any) -> str:
        configured = next((e.kind for e in endpoints if e.kind != "auto"), None)
        if configured is not None:
            return configured
        with self._memory_lock:
            known = self._kinds.get(key)
        if known is not None:
            return known
        kind = detect_from_models(payload) or self._detect_native(client)
        if kind is None:
            return "openai"  # for this read; a transport failure is no answer: ask again next time
        with self._memory_lock:
            self._kinds[key] = kind
        log.info("endpoint server %s detected as %s", key, kind)
        return kind

    def _detect_native(self, client: BackendClient) -> str | None:
        """Ask the native APIs Ollama and LM Studio serve; neither loads a model.

        ``None`` when a question got no answer at all (a timeout, a dropped
        connection): the kind is not settled on a transient failure.
        """
        for path, kind in (("/api/tags", "ollama"), ("/api/v1/models", "lmstudio")):
            try:
                data = client.get_json(path, timeout=self._timeout)
            except BackendError as exc:
                if exc.kind != "http_error":
                    return None
                continue
            entries = _dicts(data.get("models"))
            if kind == "ollama" and isinstance(data.get("models"), list):
                return kind
            if kind == "lmstudio" and any("key" in m for m in entries):
                return kind
        return "openai"

    # --- readers

    @staticmethod
    def _read_openai_list(reading: ServerReading, payload: Any) -> None:
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            return
        models: list[ModelInfo] = []
        for entry in _dicts(payload["data"]):
            name = entry.get("id")
            if not isinstance(name, str):
                continue
            meta = _dict(entry.get("meta"))
            status = entry.get("status") if isinstance(entry.get("status"), dict) else None
            resident = None
            if status is not None:
                reading.router_mode = True
                resident = status.get("value") == "loaded"
            window = _int(entry.get("max_model_len")) or _int(meta.get("n_ctx"))
            models.append(ModelInfo(name, context_window=window, resident=resident))
        reading.models = models

    def _get_json(self, client: BackendClient, path: str, params: Mapping[str, str] | None = None
                  ) -> dict[str, Any] | None:
        try:
            return client.get_json(path, timeout=self._timeout, params=params)
        except BackendError as exc:
            log.debug("%s %s: %s", client.server_root, path, exc)
            return None

    def _read_llamacpp(self, key: str, client: BackendClient, endpoints: Sequence[EndpointConfig],
                       reading: ServerReading) -> None:
        status, body = client.get("/health", timeout=self._timeout)
        if status == 503 and b"loading" in body.lower():
            raise BackendError("llama-server is loading its model (GET /health: 503)",
                               kind="http_error", status_code=503)
        if reading.router_mode:
            for e in endpoints:
                listed = next((m for m in reading.models or () if m.name == e.name), None)
                if listed is None or not listed.resident:
                    continue  # asking an unloaded model's props is pointless, and must never load it
                props = self._get_json(client, "/props", {"model": e.name, "autoload": "false"})
                if props is not None:
                    reading.extra[e.name] = _props_info(e.name, props, resident=True)
        else:
            props = self._get_json(client, "/props")
            if props is not None:
                info = _props_info("", props, resident=None)
                reading.total_slots = info.total_slots
                reading.sleeping = info.sleeping
                reading.context_window = info.context_window
        if key not in self._no_metrics_snapshot():
            self._read_metrics(key, client, reading, running="llamacpp:requests_processing",
                               waiting="llamacpp:requests_deferred",
                               tokens="llamacpp:prompt_tokens_total",
                               seconds="llamacpp:prompt_seconds_total")

    def _read_vllm(self, key: str, client: BackendClient, endpoints: Sequence[EndpointConfig],
                   reading: ServerReading) -> None:
        if key not in self._no_metrics_snapshot():
            self._read_metrics(key, client, reading, running="vllm:num_requests_running",
                               waiting="vllm:num_requests_waiting", tokens="vllm:prompt_tokens_total",
                               seconds="vllm:request_prefill_time_seconds_sum")

    def _read_ollama(self, key: str, client: BackendClient, endpoints: Sequence[EndpointConfig],
                     reading: ServerReading) -> None:
        tags = self._get_json(client, "/api/tags")
        if tags is not None:
            names: list[str] = []
            for m in _dicts(tags.get("models")):
                for field_name in ("name", "model"):
                    value = m.get(field_name)
                    if isinstance(value, str) and value not in names:
                        names.append(value)
            reading.models = [ModelInfo(n, resident=False) for n in names]
        ps = self._get_json(client, "/api/ps")
        resident: dict[str, int | None] = {}
        if ps is not None:
            for m in _dicts(ps.get("models")):
                for field_name in ("name", "model"):
                    value = m.get(field_name)
                    if isinstance(value, str):
                        resident[value] = _int(m.get("context_length"))
        if reading.models is not None and ps is not None:
            reading.models = [ModelInfo(m.name, context_window=resident.get(m.name),
                                        resident=m.name in resident) for m in reading.models]
        elif reading.models is not None:
            reading.models = [ModelInfo(m.name) for m in reading.models]
        for e in endpoints:
            listed = next((m for m in reading.models or () if m.name in _name_variants(e.name, "ollama")),
                          None)
            if listed is None or listed.resident or listed.context_window is not None:
                continue
            window = self._ollama_num_ctx(key, client, listed.name)
            if window is not None:
                reading.extra[listed.name] = ModelInfo(listed.name, context_window=window,
                                                       resident=listed.resident)

    def _ollama_num_ctx(self, key: str, client: BackendClient, name: str) -> int | None:
        """A Modelfile's ``num_ctx`` (``POST /api/show``, which never loads), asked once."""
        with self._memory_lock:
            if (key, name) in self._shown:
                return self._shown[(key, name)]
        window: int | None = None
        try:
            shown = client.post_json("/api/show", {"model": name}, timeout=self._timeout, from_root=True)
        except BackendError as exc:
            log.debug("ollama /api/show %s: %s", name, exc)
            return None
        parameters = shown.get("parameters")
        if isinstance(parameters, str):
            for line in parameters.splitlines():
                words = line.split()
                if len(words) == 2 and words[0] == "num_ctx" and words[1].isdigit():
                    window = int(words[1])
        with self._memory_lock:
            self._shown[(key, name)] = window
        return window

    def _read_lmstudio(self, key: str, client: BackendClient, endpoints: Sequence[EndpointConfig],
                       reading: ServerReading) -> None:
        data = self._get_json(client, "/api/v1/models")
        if data is None:
            return
        models: list[ModelInfo] = []
        for m in _dicts(data.get("models")):
            name = m.get("key")
            if not isinstance(name, str):
                continue
            instances = _dicts(m.get("loaded_instances"))
            window: int | None = None
            slots: int | None = None
            for inst in instances:
                config = _dict(inst.get("config"))
                window = window or _int(config.get("context_length"))
                slots = slots or _int(config.get("parallel"))
            models.append(ModelInfo(name, context_window=window, resident=bool(instances),
                                    total_slots=slots))
            for inst in instances:
                if isinstance(inst.get("id"), str) and inst["id"] != name:
                    models.append(ModelInfo(inst["id"], context_window=window, resident=True,
                                            total_slots=slots))
        reading.models = models

    # --- /metrics

    def _no_metrics_snapshot(self) -> set[str]:
        with self._memory_lock:
            return set(self._no_metrics)

    def _read_metrics(self, key: str, client: BackendClient, reading: ServerReading, *,
                      running: str, waiting: str, tokens: str, seconds: str) -> None:
        try:
            status, body = client.get("/metrics", timeout=self._timeout)
        except BackendError as exc:
            log.debug("%s/metrics: %s", key, exc)
            return
        if status in (404, 501):  # llama-server without --metrics: do not ask again
            with self._memory_lock:
                self._no_metrics.add(key)
            return
        if status >= 400:
            return
        try:
            samples = parse_samples(body.decode("utf-8", "replace"))
        except ValueError:
            log.debug("%s/metrics: not Prometheus text", key)
            return
        sums: dict[str, float] = {}
        for name, _labels, value in samples:
            if math.isfinite(value):
                sums[name] = sums.get(name, 0.0) + value
        if running in sums:
            reading.processing = int(sums[running])
        if waiting in sums:
            reading.waiting = int(sums[waiting])
        reading.prefill_tokens_per_second = self._prefill(key, sums.get(tokens), sums.get(seconds))

    def _prefill(self, key: str, tokens: float | None, seconds: float | None) -> float | None:
        """Prompt tokens per second from two counters' growth since the last read."""
        with self._memory_lock:
            if tokens is None or seconds is None:
                return self._speeds.get(key)
            previous = self._counters.get(key)
            self._counters[key] = (tokens, seconds)
            if previous is not None:
                d_tokens, d_seconds = tokens - previous[0], seconds - previous[1]
                if d_tokens > 0 and d_seconds > 0:
                    self._speeds[key] = d_tokens / d_seconds
                elif d_tokens < 0 or d_seconds < 0:
                    self._speeds.pop(key, None)  # the server restarted: counters began again
            return self._speeds.get(key)


def _props_info(name: str, props: Mapping[str, Any], *, resident: bool | None) -> ModelInfo:
    n_ctx = _int(_dict(props.get("default_generation_settings")).get("n_ctx"))
    sleeping = props.get("is_sleeping")
    return ModelInfo(name, context_window=n_ctx, resident=resident,
                     total_slots=_int(props.get("total_slots")),
                     sleeping=sleeping if isinstance(sleeping, bool) else None)


Reader = Callable[[Discovery, str, BackendClient, Sequence[EndpointConfig], ServerReading], None]
_READERS: dict[str, Reader] = {
    "llamacpp": Discovery._read_llamacpp,
    "vllm": Discovery._read_vllm,
    "ollama": Discovery._read_ollama,
    "lmstudio": Discovery._read_lmstudio,
}


def _first(*values: Any) -> Any:
    """The first value that is said (not ``None``); ``x and x.field`` spells "x's field if any"."""
    return next((v for v in values if v is not None and not isinstance(v, ModelInfo)), None)


def facts_for(endpoint: EndpointConfig, reading: ServerReading, now: float) -> ServerFacts:
    """One endpoint's ``ServerFacts`` from its server's reading."""
    names = tuple(m.name for m in reading.models) if reading.models is not None else None
    listed: ModelInfo | None = None
    found: bool | None = None
    suggestion: str | None = None
    # NOTE: an empty list from a generic OpenAI server may be a proxy that lists nothing; the
    # model servers list what they serve, so there an empty list means the model is missing.
    if names or (names is not None and reading.kind != "openai"):
        variants = _name_variants(endpoint.name, reading.kind)
        listed = next((m for m in reading.models or () if m.name in variants), None)
        found = listed is not None
        if not found:
            suggestion = suggest(endpoint.name, names)
    extra = reading.extra.get(listed.name) if listed is not None else None
    window = _first(extra and extra.context_window, listed and listed.context_window,
                    None if reading.router_mode else reading.context_window)
    resident = _first(extra and extra.resident, listed and listed.resident)
    slots = _first(extra and extra.total_slots, listed and listed.total_slots, reading.total_slots)
    sleeping = _first(extra and extra.sleeping, reading.sleeping)
    return ServerFacts(kind=reading.kind, models=names, model_found=found, suggestion=suggestion,
                       context_window=window, total_slots=slots, resident=resident, sleeping=sleeping,
                       processing=reading.processing, waiting=reading.waiting,
                       prefill_tokens_per_second=reading.prefill_tokens_per_second, read_at=now)


def group_by_server(endpoints: Iterable[EndpointConfig]) -> list[list[EndpointConfig]]:
    """Endpoints grouped by the server process behind them, in config order."""
    groups: dict[str, list[EndpointConfig]] = {}
    for e in endpoints:
        groups.setdefault(server_key(e.base_url), []).append(e)
    return list(groups.values())
