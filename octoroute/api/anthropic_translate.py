"""Anthropic Messages <-> OpenAI chat completions. Pure functions, no I/O.

``to_openai`` turns a validated ``/v1/messages`` body into the OpenAI chat
body every backend speaks; ``to_anthropic`` turns the backend's answer back
into an Anthropic message; ``StreamTranslator`` does the same, event by
event, for a stream. ``error_body`` is Anthropic's error shape, used by the
error handlers for every route an Anthropic client calls.

What has no OpenAI counterpart is dropped with a note (the resource shows
the notes in ``X-Octoroute-Warnings``), never silently rewritten: server
tools, earlier turns' thinking blocks, citations. Token counts the backend
does not report are estimated (4 characters a token) and flagged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from octoroute.api.streaming import EVENT_END, LINE_END, is_done_event

CHARS_PER_TOKEN = 4  # the estimate when a backend reports no usage (the seed's rule)
IMAGE_TOKENS = 1000  # tokens counted per image in an estimate (Anthropic: ~w*h/750, unknown here)
MESSAGE_OVERHEAD_TOKENS = 4  # tokens of role and framing per message, in an estimate

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                "function_call": "tool_use", "content_filter": "refusal"}
TOOL_CHOICES = {"auto": "auto", "any": "required", "none": "none"}
# Blocks an earlier turn may hold that no OpenAI backend can take back: dropped.
DROPPED_BLOCKS = frozenset({"thinking", "redacted_thinking", "server_tool_use", "web_search_tool_result"})
# status -> Anthropic error type (https://docs.claude.com/en/api/errors)
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
               500: "api_error", 503: "overloaded_error", 529: "overloaded_error"}
OVERLOADED_STATUS = 529  # Anthropic's "the API is overloaded" (our chat slots are all busy)


def error_type(status: int) -> str:
    """Anthropic's error ``type`` for an HTTP status (other 4xx: invalid_request_error)."""
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    return "invalid_request_error" if status < 500 else "api_error"


def error_body(status: int, message: str, request_id: str | None) -> dict[str, Any]:
    """``{"type": "error", "error": {"type", "message"}, "request_id"}``: Anthropic's error shape."""
    return {"type": "error", "error": {"type": error_type(status), "message": message},
            "request_id": request_id}


# --- request: Anthropic -> OpenAI -------------------------------------------------

@dataclass
class Translated:
    """The OpenAI chat body for a Messages request, and what could not be carried over."""

    body: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    wants_thinking: bool = False


def _text_of(blocks: Any) -> str:
    """The text of a string or of the ``text`` blocks of an array."""
    if isinstance(blocks, str):
        return blocks
    if isinstance(blocks, list):
        return "\n".join(b["text"] for b in blocks if isinstance(b, dict) and b.get("type") == "text"
                         and isinstance(b.get("text"), str))
    return ""


def image_part(source: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic image ``source`` (base64 or url) as an OpenAI ``image_url`` part."""
    if source.get("type") == "url":
        url = source["url"]
    else:
        url = f"data:{source['media_type']};base64,{source['data']}"
    return {"type": "image_url", "image_url": {"url": url}}


def _document_text(block: dict[str, Any]) -> str:
    source = block.get("source") or {}
    text = source.get("data") if source.get("type") == "text" else _text_of(source.get("content"))
    title = block.get("title")
    return f"{title}\n\n{text}" if isinstance(title, str) and title else str(text or "")


def _tool_result(block: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A ``tool_result`` as an OpenAI ``tool`` message, plus its images (for a user turn)."""
    content = block.get("content")
    images: list[dict[str, Any]] = []
    if isinstance(content, list):
        texts = []
        for part in content:
            if part.get("type") == "image":
                images.append(image_part(part["source"]))
            elif part.get("type") == "document":
                texts.append(_document_text(part))
            elif isinstance(part.get("text"), str):
                texts.append(part["text"])
        text = "\n".join(texts)
    else:
        text = content if isinstance(content, str) else ""
    if block.get("is_error"):
        # NOTE: OpenAI's tool message has no error flag; the model must still learn the call failed.
        text = f"Error: {text}" if text else "Error"
    return {"role": "tool", "tool_call_id": block["tool_use_id"], "content": text}, images


def _user_turn(content: Any, notes: list[str]) -> list[dict[str, Any]]:
    """One user turn: its tool results first (they answer the turn before), then the rest."""
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in content:
        kind = block["type"]
        if kind == "tool_result":
            message, images = _tool_result(block)
            out.append(message)
            parts.extend(images)
        elif kind == "text":
            parts.append({"type": "text", "text": block["text"]})
        elif kind == "image":
            parts.append(image_part(block["source"]))
        elif kind == "document":
            parts.append({"type": "text", "text": _document_text(block)})
        else:
            notes.append(f"dropped a {kind} block of a user turn")
    if parts:
        if all(p["type"] == "text" for p in parts):
            # Plain text as a string: every OpenAI-style server takes that.
            out.append({"role": "user", "content": "\n".join(p["text"] for p in parts)})
        else:
            out.append({"role": "user", "content": parts})
    return out


def _assistant_turn(content: Any, notes: list[str]) -> dict[str, Any] | None:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in content:
        kind = block["type"]
        if kind == "text":
            texts.append(block["text"])
        elif kind == "tool_use":
            calls.append({"id": block["id"], "type": "function",
                          "function": {"name": block["name"], "arguments": json.dumps(block["input"])}})
        elif kind not in DROPPED_BLOCKS:
            notes.append(f"dropped a {kind} block of an assistant turn")
    if not texts and not calls:
        return None  # only thinking: nothing an OpenAI backend can take
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    return message


def _tools(tools: Sequence[dict[str, Any]], notes: list[str]) -> list[dict[str, Any]]:
    out = []
    for tool in tools:
        kind = tool.get("type")
        if kind not in (None, "custom") and "input_schema" not in tool:
            notes.append(f"dropped server tool {tool['name']!r} ({kind}): local backends cannot run it")
            continue
        function: dict[str, Any] = {"name": tool["name"],
                                    "parameters": tool.get("input_schema") or {"type": "object",
                                                                               "properties": {}}}
        if isinstance(tool.get("description"), str):
            function["description"] = tool["description"]
        out.append({"type": "function", "function": function})
    return out


def to_openai(data: dict[str, Any], *, ignored: Iterable[str] = ()) -> Translated:
    """The OpenAI chat body for a validated Messages body (``model`` left to the caller)."""
    notes = [f"ignored field {name!r} (no OpenAI counterpart)" for name in ignored]
    messages: list[dict[str, Any]] = []
    system = _text_of(data.get("system"))
    if system:
        messages.append({"role": "system", "content": system})
    for turn in data["messages"]:
        if turn["role"] == "user":
            messages.extend(_user_turn(turn["content"], notes))
        else:
            message = _assistant_turn(turn["content"], notes)
            if message is not None:
                messages.append(message)
    body: dict[str, Any] = {"messages": messages, "max_tokens": data["max_tokens"]}
    for key in ("temperature", "top_p", "top_k"):
        if data.get(key) is not None:
            body[key] = data[key]
    if data.get("stop_sequences"):
        body["stop"] = list(data["stop_sequences"])
    user = (data.get("metadata") or {}).get("user_id")
    if isinstance(user, str) and user:
        body["user"] = user
    if data.get("stream"):
        # Usage arrives in a last chunk only when asked for.
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    tools = _tools(data.get("tools") or [], notes)
    choice = data.get("tool_choice")
    if tools:
        body["tools"] = tools
        if choice is not None:
            if choice["type"] == "tool":
                body["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
            else:
                body["tool_choice"] = TOOL_CHOICES[choice["type"]]
            if choice.get("disable_parallel_tool_use") is True:
                body["parallel_tool_calls"] = False
    output = data.get("output_config") or {}
    if output.get("format"):
        # Structured output: the same JSON schema, as OpenAI's response_format.
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": "output", "schema": output["format"]["schema"], "strict": True}}
    if output.get("effort"):
        notes.append("ignored output_config.effort (no OpenAI counterpart all backends take)")
    thinking = data.get("thinking")
    wants_thinking = isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive",
                                                                              "between_tools")
    return Translated(body, notes, wants_thinking)


def estimate_input_tokens(data: dict[str, Any]) -> int:
    """An estimate of a Messages body's input tokens: 4 characters a token, images flat.

    Counts the system prompt, every block's text (tool inputs and results
    included) and the tool definitions, as Anthropic's count does.
    """
    chars = len(_text_of(data.get("system")))
    images = 0
    for turn in data.get("messages") or ():
        blocks = turn.get("content")
        chars += len(blocks) if isinstance(blocks, str) else 0
        for block in blocks if isinstance(blocks, list) else ():
            chars_b, images_b = _block_size(block)
            chars += chars_b
            images += images_b
    for tool in data.get("tools") or ():
        chars += len(json.dumps(tool))
    turns = len(data.get("messages") or ())
    return chars // CHARS_PER_TOKEN + images * IMAGE_TOKENS + turns * MESSAGE_OVERHEAD_TOKENS


def _block_size(block: dict[str, Any]) -> tuple[int, int]:
    kind = block.get("type")
    if kind == "image":
        return 0, 1
    if kind == "tool_use":
        return len(block.get("name", "")) + len(json.dumps(block.get("input"))), 0
    if kind == "tool_result":
        content = block.get("content")
        if isinstance(content, list):
            sizes = [_block_size(b) for b in content if isinstance(b, dict)]
            return sum(s[0] for s in sizes), sum(s[1] for s in sizes)
        return len(content) if isinstance(content, str) else 0, 0
    if kind == "document":
        return len(_document_text(block)), 0
    for key in ("text", "thinking"):
        if isinstance(block.get(key), str):
            return len(block[key]), 0
    return 0, 0


# --- response: OpenAI -> Anthropic ---------------------------------------------------

def stop_details(finish: Any, text: str, stop_sequences: Sequence[str], matched: Any = None,
                 has_tools: bool = False) -> tuple[str, str | None]:
    """Anthropic's ``stop_reason`` and ``stop_sequence`` for an OpenAI ``finish_reason``.

    OpenAI servers strip the stop sequence they hit; vLLM names it
    (``stop_reason``), others sometimes leave it at the end of the text.
    A ``stop`` that matches neither is ``end_turn``.
    """
    if has_tools and finish in (None, "stop", "tool_calls", "function_call"):
        return "tool_use", None
    if finish == "stop" or finish is None:
        if isinstance(matched, str) and matched in stop_sequences:
            return "stop_sequence", matched
        for seq in stop_sequences:
            if seq and text.endswith(seq):
                return "stop_sequence", seq
        return "end_turn", None
    return STOP_REASONS.get(str(finish), "end_turn"), None


def _tool_input(arguments: Any, notes: list[str]) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return arguments
    if not arguments:
        return {}
    try:
        value = json.loads(arguments)
    except (TypeError, ValueError):
        value = None
    if isinstance(value, dict):
        return value
    notes.append("a tool call's arguments were not a JSON object; kept as {'_raw': ...}")
    return {"_raw": str(arguments)}


@dataclass(frozen=True)
class Usage:
    """Tokens in and out of one answer; ``estimated`` when the backend did not say."""

    input_tokens: int
    output_tokens: int
    estimated: bool
    cache_read_input_tokens: int | None = None


def usage_of(reported: Any, *, input_estimate: int, output_text_chars: int) -> Usage:
    """The backend's usage, or an estimate (flagged) where it reported none."""
    usage = reported if isinstance(reported, dict) else {}
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    estimated = False
    if not isinstance(prompt, int) or isinstance(prompt, bool):
        prompt, estimated = input_estimate, True
    if not isinstance(completion, int) or isinstance(completion, bool):
        completion, estimated = max(1, output_text_chars // CHARS_PER_TOKEN), True
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return Usage(prompt, completion, estimated, cached if isinstance(cached, int) else None)


def usage_body(usage: Usage) -> dict[str, Any]:
    body: dict[str, Any] = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
    if usage.cache_read_input_tokens is not None:
        body["cache_read_input_tokens"] = usage.cache_read_input_tokens
    return body


@dataclass
class Answer:
    """An Anthropic message built from a backend's answer, and what the client should be told."""

    message: dict[str, Any]
    usage: Usage
    notes: list[str]


def to_anthropic(data: dict[str, Any], *, message_id: str, model: str, stop_sequences: Sequence[str],
                 input_estimate: int, wants_thinking: bool) -> Answer:
    """An OpenAI chat completion (``choices[0]`` already checked) as an Anthropic message."""
    notes: list[str] = []
    choice = data["choices"][0]
    message = choice.get("message") if isinstance(choice, dict) else None
    message = message if isinstance(message, dict) else {}
    content: list[dict[str, Any]] = []
    reasoning = message.get("reasoning_content")
    if wants_thinking:
        if isinstance(reasoning, str) and reasoning:
            content.append({"type": "thinking", "thinking": reasoning, "signature": ""})
        else:
            notes.append("thinking was requested but the backend returned no reasoning; dropped")
    text = message.get("content")
    text = text if isinstance(text, str) else _text_of(text)
    if text:
        content.append({"type": "text", "text": text})
    calls = message.get("tool_calls")
    for i, call in enumerate(calls if isinstance(calls, list) else ()):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            continue
        call_id = call.get("id") or f"toolu_{message_id}_{i}"
        content.append({"type": "tool_use", "id": str(call_id), "name": str(function.get("name", "")),
                        "input": _tool_input(function.get("arguments"), notes)})
    has_tools = any(b["type"] == "tool_use" for b in content)
    reason, sequence = stop_details(choice.get("finish_reason"), text, stop_sequences,
                                    choice.get("stop_reason"), has_tools)
    usage = usage_of(data.get("usage"), input_estimate=input_estimate,
                     output_text_chars=len(text) + sum(len(json.dumps(b.get("input")))
                                                       for b in content if b["type"] == "tool_use"))
    return Answer({"id": message_id, "type": "message", "role": "assistant", "model": model,
                   "content": content, "stop_reason": reason, "stop_sequence": sequence,
                   "usage": usage_body(usage)}, usage, notes)


# --- streams: OpenAI SSE chunks -> Anthropic events ---------------------------------

def sse(event: str, payload: dict[str, Any]) -> bytes:
    """One Anthropic server-sent event: ``event:`` line, ``data:`` line, blank line."""
    return b"event: " + event.encode() + b"\ndata: " + json.dumps(payload).encode() + b"\n\n"


def _data_of(event: bytes) -> bytes | None:
    """The joined ``data:`` lines of one event, or ``None`` if it has none."""
    data = [line[5:].lstrip(b" ") if line.startswith(b"data:") else None
            for line in LINE_END.split(event)]
    found = [d for d in data if d is not None]
    return b"\n".join(found) if found else None


class StreamTranslator:
    """OpenAI chat-completion chunks in, Anthropic's event sequence out, incrementally.

    ``events`` takes whole SSE events (as ``StreamRelay`` hands them over)
    and returns the bytes to send: ``message_start`` and ``ping`` before the
    first content, a ``content_block_start`` / ``_delta`` / ``_stop`` run per
    text, thinking or tool-use block, and ``message_delta`` (stop reason,
    usage) plus ``message_stop`` at ``[DONE]``. ``error`` frames a failure
    after the first byte as Anthropic's ``error`` event. ``usage`` holds the
    final counts once the stream is done (for token accounting).
    """

    def __init__(self, *, message_id: str, model: str, input_estimate: int,
                 stop_sequences: Sequence[str] = (), wants_thinking: bool = False) -> None:
        self._id = message_id
        self._model = model
        self._input_estimate = input_estimate
        self._stop_sequences = tuple(stop_sequences)
        self._tail_chars = max((len(s) for s in self._stop_sequences), default=0)
        self._wants_thinking = wants_thinking
        self._started = False
        self._block = -1  # index of the open block, -1: none open
        self._kind: str | None = None  # "text" | "thinking" | "tool_use" of the open block
        self._tool_blocks: dict[int, int] = {}  # OpenAI tool-call index -> our block index
        self._tail = ""  # the end of the text so far (for stop sequences the backend left in)
        self._finish: Any = None
        self._matched: Any = None
        self._reported: Any = None
        self._out_chars = 0
        self._saw_tool = False
        self.saw_reasoning = False
        self.done = False
        self.usage: Usage | None = None

    def events(self, events: bytes) -> bytes:
        """Translate whole SSE events; unknown or unparsable events are skipped."""
        out: list[bytes] = []
        if not self._started:
            self._started = True
            out.append(sse("message_start", {"type": "message_start", "message": {
                "id": self._id, "type": "message", "role": "assistant", "model": self._model,
                "content": [], "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": self._input_estimate, "output_tokens": 0}}}))
            out.append(sse("ping", {"type": "ping"}))
        start = 0
        for match in EVENT_END.finditer(events):
            event = events[start:match.start()]
            start = match.end()
            if self.done:
                break
            if is_done_event(event):
                out.append(self._finish_message())
                continue
            data = _data_of(event)
            if data is None:
                continue
            try:
                chunk = json.loads(data)
            except ValueError:
                continue
            if isinstance(chunk, dict):
                self._chunk(chunk, out)
        return b"".join(out)

    def error(self, message: str, *, code: str, request_id: str) -> bytes:
        """Anthropic's ``error`` event for a failure after the first byte."""
        kind = "overloaded_error" if code == "stream_timeout" else "api_error"
        prefix = b"" if self._started else self.events(b"")
        return prefix + sse("error", {"type": "error", "error": {"type": kind, "message": message},
                                      "request_id": request_id})

    def _chunk(self, chunk: dict[str, Any], out: list[bytes]) -> None:
        if chunk.get("usage") is not None:
            self._reported = chunk["usage"]
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return
        choice = choices[0]
        delta = choice.get("delta")
        if isinstance(delta, dict):
            reasoning = delta.get("reasoning_content")
            if isinstance(reasoning, str) and reasoning:
                self.saw_reasoning = True
                if self._wants_thinking:
                    self._open("thinking", {"type": "thinking", "thinking": "", "signature": ""}, out)
                    out.append(self._delta({"type": "thinking_delta", "thinking": reasoning}))
            text = delta.get("content")
            if isinstance(text, str) and text:
                self._open("text", {"type": "text", "text": ""}, out)
                out.append(self._delta({"type": "text_delta", "text": text}))
                self._out_chars += len(text)
                if self._tail_chars:
                    self._tail = (self._tail + text)[-self._tail_chars:]
            calls = delta.get("tool_calls")
            for call in calls if isinstance(calls, list) else ():
                if isinstance(call, dict):
                    self._tool_delta(call, out)
        if choice.get("finish_reason") is not None:
            self._finish = choice["finish_reason"]
            self._matched = choice.get("stop_reason")

    def _tool_delta(self, call: dict[str, Any], out: list[bytes]) -> None:
        raw_index, raw_function = call.get("index"), call.get("function")
        index = raw_index if isinstance(raw_index, int) else len(self._tool_blocks)
        function: dict[str, Any] = raw_function if isinstance(raw_function, dict) else {}
        block = self._tool_blocks.get(index)
        if block is None:
            self._close(out)
            self._block += 1
            block = self._tool_blocks[index] = self._block
            self._kind = "tool_use"
            self._saw_tool = True
            call_id = call.get("id") or f"toolu_{self._id}_{index}"
            out.append(sse("content_block_start", {
                "type": "content_block_start", "index": block,
                "content_block": {"type": "tool_use", "id": str(call_id),
                                  "name": str(function.get("name") or ""), "input": {}}}))
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            self._out_chars += len(arguments)
            out.append(sse("content_block_delta", {"type": "content_block_delta", "index": block,
                                                   "delta": {"type": "input_json_delta",
                                                             "partial_json": arguments}}))

    def _open(self, kind: str, block: dict[str, Any], out: list[bytes]) -> None:
        if self._kind == kind:
            return
        self._close(out)
        self._block += 1
        self._kind = kind
        out.append(sse("content_block_start", {"type": "content_block_start", "index": self._block,
                                               "content_block": block}))

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return sse("content_block_delta", {"type": "content_block_delta", "index": self._block,
                                           "delta": delta})

    def _close(self, out: list[bytes]) -> None:
        if self._kind is not None:
            out.append(sse("content_block_stop", {"type": "content_block_stop", "index": self._block}))
            self._kind = None

    def _finish_message(self) -> bytes:
        out: list[bytes] = []
        self._close(out)
        self.done = True
        reason, sequence = stop_details(self._finish, self._tail, self._stop_sequences, self._matched,
                                        self._saw_tool)
        self.usage = usage_of(self._reported, input_estimate=self._input_estimate,
                              output_text_chars=self._out_chars)
        out.append(sse("message_delta", {"type": "message_delta",
                                         "delta": {"stop_reason": reason, "stop_sequence": sequence},
                                         "usage": usage_body(self.usage)}))
        out.append(sse("message_stop", {"type": "message_stop"}))
        return b"".join(out)
