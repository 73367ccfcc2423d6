"""``/v1/messages`` and ``/v1/messages/count_tokens``: the Anthropic Messages API.

A Messages body is validated, translated to the OpenAI chat body every
backend speaks (``anthropic_translate``), and from there served exactly as
``/v1/chat/completions`` serves it: the same router on the whole
conversation, sessions, shadow, dispatcher failover and, for streams, the
same relay (failover until the first byte), whose events a
``StreamTranslator`` turns into Anthropic's. Errors get Anthropic's shape in
``api.errors``.
"""

from __future__ import annotations

from collections.abc import Sequence

import falcon

from octoroute.api.anthropic_translate import (
    StreamTranslator,
    estimate_input_tokens,
    to_anthropic,
    to_openai,
)
from octoroute.api.body import read_json
from octoroute.api.openai import (
    IMPORTANCE_HEADER,
    TASK_TYPE_HEADER,
    ChatCompletionsResource,
    request_hint,
)
from octoroute.api.schemas import validate_anthropic
from octoroute.config import IMPORTANCES, Config
from octoroute.errors import UnknownModelError
from octoroute.routing.conversation import conversation_input
from octoroute.routing.models import ModelChoice, resolve_model, valid_models
from octoroute.routing.rules import TASK_TYPES

WARNINGS_HEADER = "X-Octoroute-Warnings"
ESTIMATED_HEADER = "X-Octoroute-Tokens-Estimated"  # "true": a count below is an estimate, not a tokenizer's


def claude_model_choice(model: str, config: Config) -> ModelChoice:
    """``auto``, a tier or an endpoint id as on /v1; else the longest ``[anthropic.models]`` match.

    Raises ``UnknownModelError`` (404) naming what would work.
    """
    try:
        return resolve_model(model, config)
    except UnknownModelError:
        pass
    name = model.lower()
    matches = [(key, target) for key, target in config.anthropic.models if key in name]
    if not matches:
        mapped = (f"any name containing {key!r}" for key, _ in config.anthropic.models)
        valid = [*valid_models(config), *mapped]
        raise UnknownModelError(model[:100], valid) from None
    _, target = max(matches, key=lambda m: len(m[0]))
    return resolve_model(target, config)


def _add_warnings(resp: falcon.Response, notes: Sequence[str]) -> None:
    """Append ``notes`` to the warnings header the /v1 code may already have set."""
    if not notes:
        return
    existing = resp.get_header(WARNINGS_HEADER)
    text = "; ".join([existing, *notes] if existing else notes).encode("ascii", "replace").decode()
    resp.set_header(WARNINGS_HEADER, " ".join(text.split())[:500])


class MessagesResource(ChatCompletionsResource):
    """``POST /v1/messages``: translate, then route and serve as /v1/chat/completions does.

    Tokens are accounted as on /v1 (``api.accounting``), under ``api="anthropic"``.
    """

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data, ignored = validate_anthropic(read_json(req, self._config.server.max_body_bytes))
        translated = to_openai(data, ignored=ignored)
        body = translated.body
        importance = (request_hint(req, IMPORTANCE_HEADER, IMPORTANCES)
                      or self._config.routing.default_importance)
        task_type = request_hint(req, TASK_TYPE_HEADER, TASK_TYPES)
        choice = claude_model_choice(data["model"], self._config)
        inp = conversation_input(body["messages"], importance=importance, task_type=task_type,
                                 has_tools=bool(body.get("tools")),
                                 json_response="response_format" in body, headers=req.headers)
        fields = req.context.log_fields
        fields.update(api="anthropic", messages=len(data["messages"]), prompt_chars=len(inp.text))
        resp.set_header("request-id", req.context.request_id)  # what the anthropic SDKs report
        message_id = f"msg_{req.context.request_id}"
        input_estimate = estimate_input_tokens(data)
        stop_sequences = data.get("stop_sequences") or ()
        translator = None
        if data.get("stream"):
            translator = StreamTranslator(message_id=message_id, model=data["model"],
                                          input_estimate=input_estimate, stop_sequences=stop_sequences,
                                          wants_thinking=translated.wants_thinking)
        served = self._route_and_serve(req, resp, body, inp, choice, api="anthropic", reframe=translator)
        if served is None:  # a stream, relayed through the translator
            _add_warnings(resp, translated.notes)
            return
        answer = to_anthropic(served.value.data, message_id=message_id, model=data["model"],
                              stop_sequences=stop_sequences, input_estimate=input_estimate,
                              wants_thinking=translated.wants_thinking)
        _add_warnings(resp, translated.notes + answer.notes)
        if answer.usage.estimated:
            resp.set_header(ESTIMATED_HEADER, "true")
        resp.media = answer.message



class CountTokensResource:
    """``POST /v1/messages/count_tokens``: an estimate, flagged as one (no backend is asked)."""

    def __init__(self, config: Config) -> None:
        self._config = config

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data, _ = validate_anthropic(read_json(req, self._config.server.max_body_bytes), count=True)
        claude_model_choice(data["model"], self._config)  # an unknown model is a 404 here too
        resp.set_header("request-id", req.context.request_id)
        resp.set_header(ESTIMATED_HEADER, "true")
        resp.media = {"input_tokens": estimate_input_tokens(data), "estimated": True}
