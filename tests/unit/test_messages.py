"""The text of chat messages: what the router and a calibration bank read of a conversation."""

from __future__ import annotations

from typing import Any

import pytest
from octoroute.evaluate import shipped_set
from octoroute.messages import content_text, has_image, routed_text
from octoroute.routing.conversation import conversation_input

SHAPES: list[list[Any]] = [
    [{"role": "user", "content": "hi"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "and in Rust?"}],
    [{"role": "system", "content": "Summarise what the user pastes."}],  # no user turn: the system prompt
    [{"role": "developer", "content": ""}, {"role": "system", "content": "Second, not empty."}],
    [{"role": "system", "content": "the first"}, {"role": "system", "content": "not this one"}],
    [{"role": "user", "content": "first"}, {"role": "assistant", "content": "ok"},
     {"role": "user", "content": [{"type": "text", "text": "look"},
                                  {"type": "image_url", "image_url": {"url": "data:,"}}]}],
    [{"role": "user", "content": "asked"}, {"role": "user", "content": ""},
     {"role": "system", "content": "fallback"}],  # the last user turn is empty: the system prompt
    ["not an object", {"role": "tool", "content": "42"}, {"role": "user", "content": None}],
    [],
]


def test_content_text_joins_the_text_parts_of_an_array() -> None:
    assert content_text([{"type": "text", "text": "a"}, "b", {"type": "image_url"}, 3]) == "a\nb"
    assert content_text(None) == ""


def test_has_image_sees_image_parts_only_in_arrays() -> None:
    assert has_image([{"type": "input_image"}])
    assert not has_image("image_url")
    assert not has_image([{"type": "text", "text": "image"}])


@pytest.mark.parametrize("messages", SHAPES)
def test_routed_text_is_what_the_router_reads(messages: list[Any]) -> None:
    want = conversation_input(messages, importance="normal", task_type=None, has_tools=False).text
    assert routed_text(messages) == want


def test_routed_text_matches_the_router_on_every_shipped_conversation() -> None:
    # A calibration bank's conversations are embedded by this text (config.parse_labelled); the
    # router embeds conversation_input's. Were they to differ, a bank's neighbours would be found
    # for a text no request ever routes on.
    conversations = [c.messages for split in ("train", "general", "heldout", "blind")
                     for c in shipped_set(split) if c.messages is not None]
    assert len(conversations) > 1000
    for messages in conversations:
        want = conversation_input(messages, importance="normal", task_type=None, has_tools=False).text
        assert routed_text(messages) == want
