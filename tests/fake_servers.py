"""Fake llama-server, llama-cpp-python, Ollama, LM Studio and vLLM servers, for tests.

Each ``KindServer`` is a ``FakeBackend`` (real sockets, threads, recorded
requests, scripted behaviours) that also answers its kind's own cheap reads,
in the shapes their documentation and sources give:

- llama.cpp ``llama-server``: ``/v1/models`` with ``models`` and ``data[].meta``
  (router mode: ``data[].status.value``), ``/health`` (503 "Loading model"
  while loading), ``/props`` (``total_slots``,
  ``default_generation_settings.n_ctx``, ``is_sleeping``), ``/metrics``
  (``llamacpp:*``; 501 without ``--metrics``); overflow: 400
  ``exceed_context_size_error`` with ``n_prompt_tokens`` and ``n_ctx``.
- llama-cpp-python: ``/v1/models`` with ``owned_by: "me"``; overflow: 400
  ``context_length_exceeded``, and a streamed overflow is HTTP 200 with an
  empty body.
- Ollama: ``/v1/models`` (``owned_by: "library"``), ``/api/tags``, ``/api/ps``
  (``context_length``), ``POST /api/show`` (``parameters`` with ``num_ctx``);
  a too-long prompt is truncated silently.
- LM Studio: ``/v1/models`` (``owned_by: "organization_owner"``),
  ``/api/v1/models`` (``key``, ``loaded_instances[].config.context_length``,
  ``max_context_length``); overflow: 400 "Trying to keep the first N tokens
  when context the overflows ...".
- vLLM: ``/v1/models`` (``owned_by: "vllm"``, ``max_model_len``), ``/metrics``
  (``vllm:num_requests_running``/``waiting``, ``vllm:prompt_tokens_total``,
  ``vllm:request_prefill_time_seconds``); overflow: 400 "This model's maximum
  context length is N tokens ...".

The server counts a prompt as ``tokens_per_char`` tokens a character (1.0 by
default: four times Octoroute's first estimate, so an overflow the estimate
misses can be staged), and answers a prompt beyond ``context_window`` with
its kind's overflow. Native reads are recorded like any request;
``raw_paths`` keeps them with their query strings.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

from fakes import Behaviour, Exchange, FakeBackend, Received, completion, delta_events, error, stream

KIND_NAMES = ("llamacpp", "llama-cpp-python", "ollama", "lmstudio", "vllm")


def prompt_chars(request: Received) -> int:
    messages = request.json.get("messages") if isinstance(request.json, dict) else None
    total = 0
    for m in messages or []:
        if isinstance(m, dict) and isinstance(m.get("content"), str):
            total += len(m["content"])
    return total


def empty_stream() -> Behaviour:
    """HTTP 200, ``text/event-stream``, chunked, and no body at all (llama-cpp-python's overflow)."""
    def run(ex: Exchange) -> None:
        h = ex.handler
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()
    return run


def overflow(kind: str, prompt_tokens: int, window: int, *, streamed: bool) -> Behaviour:
    """The overflow answer of ``kind`` for a prompt of ``prompt_tokens`` in ``window``."""
    if kind == "llamacpp":
        return _json(400, {"error": {
            "code": 400, "type": "exceed_context_size_error",
            "message": f"request ({prompt_tokens} tokens) exceeds the available context size "
                       f"({window} tokens), try increasing it",
            "n_prompt_tokens": prompt_tokens, "n_ctx": window}})
    if kind == "llama-cpp-python":
        if streamed:
            return empty_stream()
        return _json(400, {"error": {
            "message": f"This model's maximum context length is {window} tokens. However, you requested "
                       f"{prompt_tokens + 16} tokens ({prompt_tokens} in the messages, 16 in the "
                       "completion). Please reduce the length of the messages or completion.",
            "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}})
    if kind == "vllm":
        return _json(400, {"object": "error", "type": "BadRequestError", "param": None, "code": 400,
                           "message": f"This model's maximum context length is {window} tokens. However, "
                                      f"you requested {prompt_tokens + 16} tokens ({prompt_tokens} in the "
                                      "messages, 16 in the completion). Please reduce the length of the "
                                      "messages or completion."})
    if kind == "lmstudio":
        return _json(400, {"error": f"Trying to keep the first {prompt_tokens} tokens when context the "
                                    f"overflows. However, the model is loaded with context length of only "
                                    f"{window} tokens, which is not enough. Try to load the model with a "
                                    "larger context length, or provide a shorter input"})
    raise ValueError(f"{kind} has no overflow answer (Ollama truncates)")


def _json(status: int, payload: Any) -> Behaviour:
    def run(ex: Exchange) -> None:
        ex.send_json(status, payload)
    return run


class KindServer(FakeBackend):
    """A fake of one server kind: its native reads, its model list, its overflow."""

    def __init__(self, name: str, kind: str, *, model: str | None = None,
                 models: Sequence[str] | None = None, context_window: int | None = 4096,
                 advertise_window: bool = True, resident: bool = True, total_slots: int = 1,
                 sleeping: bool = False, metrics: bool = True, router_mode: bool = False,
                 tokens_per_char: float = 1.0) -> None:
        assert kind in KIND_NAMES, kind
        super().__init__(name, model=model)
        self.kind = kind
        self.models = list(models) if models is not None else [self.model]
        self.context_window = context_window
        self.advertise_window = advertise_window
        self.resident = resident
        self.total_slots = total_slots
        self.sleeping = sleeping
        self.metrics_enabled = metrics
        self.router_mode = router_mode
        self.loading = False
        self.tokens_per_char = tokens_per_char
        self.processing = 0
        self.waiting = 0
        self.prompt_tokens_total = 0.0  # counters, as /metrics exports them
        self.prompt_seconds_total = 0.0
        self.raw_paths: list[str] = []
        self._paths_lock = threading.Lock()  # guards raw_paths
        self.probe_default = self._models_list
        self.chat_default = self._sized_chat

    def native_reads(self) -> list[Received]:
        """Requests other than chats and the ``/v1/models`` probe."""
        return [r for r in self.received if not r.is_chat and not r.is_probe]

    # --- behaviours

    def _window(self) -> int | None:
        return self.context_window if self.advertise_window else None

    def _models_list(self, ex: Exchange) -> None:
        owner = {"llamacpp": "llamacpp", "llama-cpp-python": "me", "ollama": "library",
                 "lmstudio": "organization_owner", "vllm": "vllm"}[self.kind]
        data: list[dict[str, Any]] = []
        for name in self.models:
            entry: dict[str, Any] = {"id": name, "object": "model", "created": 1764800000, "owned_by": owner}
            if self.kind == "llamacpp":
                entry["meta"] = {"vocab_type": 2, "n_vocab": 151936, "n_ctx_train": 40960, "n_embd": 1024,
                                 "n_params": 596049920, "size": 484220928}
                if self.router_mode:
                    loaded = self.resident and name == self.model
                    entry["status"] = {"value": "loaded" if loaded else "unloaded", "args": []}
            elif self.kind == "llama-cpp-python":
                entry["permissions"] = []
            elif self.kind == "vllm":
                entry.update(root=name, parent=None, permission=[])
                if self._window() is not None:
                    entry["max_model_len"] = self._window()
            data.append(entry)
        payload: dict[str, Any] = {"object": "list", "data": data}
        if self.kind == "llamacpp":
            payload["models"] = [{"name": n, "model": n, "type": "model", "capabilities": ["completion"]}
                                 for n in self.models]
        ex.send_json(200, payload)

    def _sized_chat(self, ex: Exchange) -> None:
        tokens = math.ceil(prompt_chars(ex.request) * self.tokens_per_char) + 4
        window = self.context_window
        streamed = isinstance(ex.request.json, dict) and bool(ex.request.json.get("stream"))
        if window is not None and tokens > window and self.kind != "ollama":
            overflow(self.kind, tokens, window, streamed=streamed)(ex)
            return
        self.prompt_tokens_total += tokens
        self.prompt_seconds_total += tokens / 500.0  # a 500 tokens/s prefill
        if streamed:
            stream(delta_events([f"answer from {self.name}"]))(ex)
            return
        body = completion(self.model, {"role": "assistant", "content": f"answer from {self.name}"}, 5)
        body["usage"]["prompt_tokens"] = tokens
        ex.send_json(200, body)

    # --- routing of the native reads

    def next_behaviour(self, request: Received) -> Behaviour:
        if request.is_probe or request.is_chat:
            return super().next_behaviour(request)
        route = {
            "llamacpp": {("GET", "/health"): self._health, ("GET", "/props"): self._props,
                         ("GET", "/metrics"): self._llamacpp_metrics},
            "ollama": {("GET", "/api/tags"): self._tags, ("GET", "/api/ps"): self._ps,
                       ("POST", "/api/show"): self._show},
            "lmstudio": {("GET", "/api/v1/models"): self._lmstudio_models},
            "vllm": {("GET", "/metrics"): self._vllm_metrics},
            "llama-cpp-python": {},
        }[self.kind].get((request.method, request.path))
        if route is None:
            return error(404, f"no route {request.method} {request.path}")

        def run(ex: Exchange) -> None:
            with self._paths_lock:
                self.raw_paths.append(ex.handler.path)
            route(ex)
        return run

    def _health(self, ex: Exchange) -> None:
        if self.loading:
            ex.send_json(503, {"error": {"code": 503, "message": "Loading model",
                                         "type": "unavailable_error"}})
        else:
            ex.send_json(200, {"status": "ok"})

    def _props(self, ex: Exchange) -> None:
        ex.send_json(200, {"default_generation_settings": {"n_ctx": self._window() or 0, "params": {}},
                           "total_slots": self.total_slots, "model_path": f"/models/{self.model}.gguf",
                           "is_sleeping": self.sleeping, "modalities": {"vision": False}})

    def _llamacpp_metrics(self, ex: Exchange) -> None:
        if not self.metrics_enabled:
            ex.send_json(501, {"error": {"code": 501, "type": "not_supported_error",
                                         "message": "This server does not support metrics endpoint. "
                                                    "Start it with `--metrics`"}})
            return
        text = "\n".join([
            "# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.",
            "# TYPE llamacpp:prompt_tokens_total counter",
            f"llamacpp:prompt_tokens_total {self.prompt_tokens_total}",
            "# HELP llamacpp:prompt_seconds_total Prompt process time",
            "# TYPE llamacpp:prompt_seconds_total counter",
            f"llamacpp:prompt_seconds_total {self.prompt_seconds_total}",
            "# HELP llamacpp:prompt_tokens_seconds Average prompt throughput in tokens/s.",
            "# TYPE llamacpp:prompt_tokens_seconds gauge",
            "llamacpp:prompt_tokens_seconds 9999",  # a gauge reset by each scrape: must not be used
            "# HELP llamacpp:requests_processing Number of requests processing.",
            "# TYPE llamacpp:requests_processing gauge",
            f"llamacpp:requests_processing {self.processing}",
            "# HELP llamacpp:requests_deferred Number of requests deferred.",
            "# TYPE llamacpp:requests_deferred gauge",
            f"llamacpp:requests_deferred {self.waiting}", ""])
        ex.send(200, text.encode(), headers={"Content-Type": "text/plain; version=0.0.4"})

    def _vllm_metrics(self, ex: Exchange) -> None:
        label = f'{{model_name="{self.model}"}}'
        text = "\n".join([
            "# TYPE vllm:num_requests_running gauge", f"vllm:num_requests_running{label} {self.processing}.0",
            "# TYPE vllm:num_requests_waiting gauge", f"vllm:num_requests_waiting{label} {self.waiting}.0",
            "# TYPE vllm:prompt_tokens_total counter",
            f"vllm:prompt_tokens_total{label} {self.prompt_tokens_total}",
            "# TYPE vllm:request_prefill_time_seconds histogram",
            f'vllm:request_prefill_time_seconds_bucket{{le="+Inf",model_name="{self.model}"}} 1.0',
            f"vllm:request_prefill_time_seconds_count{label} 1.0",
            f"vllm:request_prefill_time_seconds_sum{label} {self.prompt_seconds_total}", ""])
        ex.send(200, text.encode())

    def _tags(self, ex: Exchange) -> None:
        ex.send_json(200, {"models": [
            {"name": n, "model": n, "modified_at": "2026-11-30T10:00:00Z", "size": 5225388164,
             "digest": "0" * 64, "details": {"format": "gguf", "family": "qwen3", "families": ["qwen3"],
                                             "parameter_size": "8.2B", "quantization_level": "Q4_K_M"}}
            for n in self.models]})

    def _ps(self, ex: Exchange) -> None:
        running = [self.model] if self.resident else []
        ex.send_json(200, {"models": [
            {"name": n, "model": n, "size": 6654289920, "digest": "0" * 64,
             "details": {"format": "gguf", "family": "qwen3", "parameter_size": "8.2B"},
             "expires_at": "2026-12-04T01:00:00Z", "size_vram": 6654289920,
             "context_length": self._window() or 4096} for n in running]})

    def _show(self, ex: Exchange) -> None:
        params = "stop \"<|im_end|>\"\ntemperature 0.6"
        if self._window() is not None:
            params = f"num_ctx {self._window()}\n" + params
        ex.send_json(200, {"parameters": params, "model_info": {"qwen3.context_length": 40960},
                           "details": {"format": "gguf", "family": "qwen3"}, "capabilities": ["completion"]})

    def _lmstudio_models(self, ex: Exchange) -> None:
        entries = []
        for n in self.models:
            loaded = self.resident and n == self.model
            instances = [{"id": n, "config": {"context_length": self.context_window or 4096,
                                              "eval_batch_size": 512,
                                              "parallel": self.total_slots}}] if loaded else []
            entries.append({"type": "llm", "publisher": "qwen", "key": n, "display_name": n,
                            "architecture": "qwen3",
                            "quantization": {"name": "Q4_K_M", "bits_per_weight": 4.8},
                            "size_bytes": 5000000000, "params_string": "8B", "loaded_instances": instances,
                            "max_context_length": 40960, "format": "gguf"})
        ex.send_json(200, {"models": entries})


def long_prompt(tokens_on_server: int) -> str:
    """A prompt the fakes count as about ``tokens_on_server`` tokens (one a character)."""
    return ("lorem ipsum " * (tokens_on_server // 12 + 1))[:tokens_on_server]
