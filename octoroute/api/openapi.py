"""``GET /openapi.json``: an OpenAPI 3.1 description of what the app accepts.

Built from the same JSON schemas the validators compile, so the document and
the behaviour cannot drift apart; schemathesis fuzzes the running server
against it in CI.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import falcon

from octoroute import __version__
from octoroute.api.schemas import (
    ANTHROPIC_COUNT_SCHEMA,
    ANTHROPIC_MESSAGES_SCHEMA,
    CHAT_SCHEMA,
    OPENAI_CHAT_SCHEMA,
    PROMPT_TEXT_PATTERN,
)
from octoroute.config import IMPORTANCES, MAX_DECISIONS_KEPT
from octoroute.routing.rules import TASK_TYPES

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["message", "type"],
        "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                       "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]},
                       "request_id": {"type": ["string", "null"]}},
    }},
}
CHAT_RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["response", "model_used", "tier", "routed_tier", "endpoint", "routing_strategy",
                 "task_type", "token_count", "processing_time_ms", "request_id", "warnings"],
    "properties": {
        "response": {"type": "string"}, "model_used": {"type": "string"},
        "tier": {"enum": ["fast", "balanced", "deep"]}, "routed_tier": {"enum": ["fast", "balanced", "deep"]},
        "endpoint": {"type": "string"},
        "routing_strategy": {"enum": ["rule", "llm", "tool", "explicit", "default"]},
        "rule": {"type": ["string", "null"]}, "task_type": {"enum": list(TASK_TYPES)},
        "routing_confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "routing_reason": {"type": "string"},
        "token_count": {"type": "integer"}, "processing_time_ms": {"type": "number"},
        "request_id": {"type": "string"}, "warnings": {"type": "array", "items": {"type": "string"}},
    },
}


ANTHROPIC_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["type", "error"],
    "properties": {"type": {"const": "error"}, "request_id": {"type": ["string", "null"]},
                   "error": {"type": "object", "required": ["type", "message"],
                             "properties": {"type": {"type": "string"}, "message": {"type": "string"}}}},
}
ANTHROPIC_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["id", "type", "role", "model", "content", "stop_reason", "usage"],
    "properties": {"type": {"const": "message"}, "role": {"const": "assistant"},
                   "content": {"type": "array", "items": {"type": "object", "required": ["type"]}},
                   "stop_reason": {"enum": ["end_turn", "max_tokens", "stop_sequence", "tool_use",
                                            "refusal"]},
                   "usage": {"type": "object", "required": ["input_tokens", "output_tokens"]}},
}
# The statuses /v1/messages answers with; 529 is Anthropic's "overloaded" (all chat slots busy).
_ANTHROPIC_ERRORS = (400, 401, 404, 413, 415, 429, 502, 503, 504, 529)


def _anthropic_errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "error (Anthropic's shape)", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/AnthropicError"}}}} for c in codes}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "error", "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Error"}}}} for c in codes}


_ROUTED_ERRORS = (400, 401, 404, 413, 415, 429, 502, 503, 504)
_HINTS = [
    {"name": "X-Octoroute-Importance", "in": "header", "required": False,
     "schema": {"enum": list(IMPORTANCES)}},
    {"name": "X-Octoroute-Task-Type", "in": "header", "required": False,
     "schema": {"enum": list(TASK_TYPES)}},
    {"name": "X-Session-ID", "in": "header", "required": False,
     "description": "names the conversation for routing hysteresis ([routing.sessions])",
     "schema": {"type": "string"}},
]


def build_document() -> dict[str, Any]:
    chat = copy.deepcopy(CHAT_SCHEMA)
    # NOTE: the validator also rejects a blank prompt; say so for fuzzers.
    chat["properties"]["prompt"]["pattern"] = PROMPT_TEXT_PATTERN
    return {
        "openapi": "3.1.0",
        "info": {"title": "Octoroute", "version": __version__,
                 "description": "Routes each LLM request to the fast, balanced or deep model tier."},
        "paths": {
            "/chat": {"post": {
                "summary": "Route one prompt and return the answer with the routing decision",
                "requestBody": {"required": True, "content": {"application/json": {"schema": chat}}},
                "responses": {"200": {"description": "the answer", "content": {"application/json": {
                    "schema": CHAT_RESPONSE_SCHEMA}}}, **_errors(*_ROUTED_ERRORS)}}},
            "/v1/chat/completions": {"post": {
                "summary": "OpenAI chat completions; model auto routes",
                "parameters": _HINTS,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": OPENAI_CHAT_SCHEMA}}},
                "responses": {"200": {"description": "the backend's answer (JSON, or SSE when streamed)",
                                      "content": {"application/json": {"schema": {"type": "object"}},
                                                  "text/event-stream": {}}},
                              **_errors(*_ROUTED_ERRORS)}}},
            "/v1/messages": {"post": {
                "summary": "Anthropic Messages API; Claude model names map to tiers ([anthropic.models])",
                "parameters": _HINTS,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": ANTHROPIC_MESSAGES_SCHEMA}}},
                "responses": {"200": {"description": "an Anthropic message (JSON; SSE events when streamed)",
                                      "content": {"application/json": {"schema": ANTHROPIC_MESSAGE_SCHEMA},
                                                  "text/event-stream": {}}},
                              **_anthropic_errors(*_ANTHROPIC_ERRORS)}}},
            "/v1/messages/count_tokens": {"post": {
                "summary": "Estimated input tokens of a Messages body (X-Octoroute-Tokens-Estimated)",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": ANTHROPIC_COUNT_SCHEMA}}},
                "responses": {"200": {"description": "the estimate", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["input_tokens"],
                               "properties": {"input_tokens": {"type": "integer"}}}}}},
                              **_anthropic_errors(400, 401, 404, 413, 415)}}},
            "/v1/models": {"get": {"summary": "OpenAI model list", "responses": {
                "200": {"description": "models", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["object", "data"]}}}}, **_errors(401)}}},
            "/models": {"get": {"summary": "Endpoints and their health", "responses": {
                "200": {"description": "endpoints", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["models"]}}}}, **_errors(401)}}},
            "/health": {"get": {"summary": "Liveness of Octoroute itself", "responses": {
                "200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/dashboard": {"get": {"summary": "The dashboard page (no data in it: its fetches send the key)",
                                   "responses": {"200": {"description": "HTML", "content": {
                                       "text/html": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"summary": "This OpenAPI 3.1 document", "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {
                    "type": "object"}}}}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {
                "200": {"description": "text format", "content": {"text/plain": {
                    "schema": {"type": "string"}}}}, **_errors(401)}}},
            "/stats": {"get": {"summary": "Requests, tokens, compute saved, latency and health, by tier "
                               "and endpoint, since start and over the last hour and day", "responses": {
                "200": {"description": "stats (docs/stats.md)", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["version", "now", "started_at", "windows", "series",
                                                   "health", "params_b"]}}}}, **_errors(401)}}},
            "/stats/decisions": {"get": {
                "summary": "The last routing decisions, newest first",
                "parameters": [{"name": "limit", "in": "query", "required": False,
                                "description": "how many (default 50; at most observability.decisions_kept)",
                                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DECISIONS_KEPT}}],
                "responses": {"200": {"description": "decisions", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["decisions"]}}}}, **_errors(400, 401)}}},
        },
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, "AnthropicError": ANTHROPIC_ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@functools.cache
def document_bytes() -> bytes:
    """The served document, encoded once, on its first request.

    Indented JSON goes through json's pure-Python encoder: about 1% of
    start-up when it was encoded while the app was built.
    """
    return json.dumps(build_document(), indent=1).encode()


class OpenAPIResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = document_bytes()
