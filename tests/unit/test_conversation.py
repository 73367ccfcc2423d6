"""Routing input from a conversation: what the router reads of the messages."""
from __future__ import annotations

from octoroute.routing.conversation import conversation_input
from octoroute.routing.rules import estimate_tokens


def test_the_token_estimate_covers_every_message_in_its_script() -> None:
    japanese = "契約書のこの部分、要点まとめて。" * 10  # 160 characters, about 160 tokens
    messages = [{"role": "system", "content": "You are helpful."},
                {"role": "user", "content": japanese},
                {"role": "assistant", "content": "OK."},
                {"role": "user", "content": "and the renewal fee?"}]
    got = conversation_input(messages, importance="normal", task_type=None, has_tools=False)
    assert got.token_estimate == sum(estimate_tokens(m["content"]) for m in messages)
    assert got.token_estimate >= 160  # at a quarter a character the page counted as 40


def test_the_last_user_turn_is_routed_with_the_earlier_ones_as_context() -> None:
    messages = [{"role": "system", "content": "Answer in French."},
                {"role": "user", "content": "translate: good morning"},
                {"role": "assistant", "content": "Bonjour"},
                {"role": "user", "content": "and in Welsh?"}]
    got = conversation_input(messages, importance="normal", task_type=None, has_tools=False)
    assert got.text == "and in Welsh?" and got.turns == 2
    assert "Answer in French." in got.context and "translate: good morning" in got.context
