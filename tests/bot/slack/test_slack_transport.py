"""Reading Slack's request bodies: the word "payload" in a slash command is just a word."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.transport import SlackRequest, parse_body

FORM = "application/x-www-form-urlencoded"


def command_body(text: str, **extra: str) -> str:
    return urlencode({"command": "/search", "text": text, "team_id": "T1", "user_id": "U1", **extra})


@pytest.mark.parametrize(
    "body",
    [
        command_body("payload"),
        command_body("what is a payload?"),
        command_body("heads", user_name="payload"),
        command_body("heads", response_url="https://hooks.slack.com/commands/payload/1"),
    ],
)
def test_a_command_that_mentions_payload_is_a_command(body: str) -> None:
    parsed = parse_body(body, FORM)
    request = SlackRequest(body=body, headers={"content-type": FORM})

    assert parsed["command"] == "/search" and request.body == parsed
    assert request.context["team_id"] == "T1" and request.context["user_id"] == "U1"
    assert request.raw_body == body  # the signature is checked over the raw body
    assert request.to_copyable().body == parsed


def test_bolt_alone_loses_such_a_command() -> None:
    """Why SlackRequest exists: Bolt 1.30 sees "payload" anywhere and finds no payload field."""
    assert AsyncBoltRequest(body=command_body("payload"), headers={"content-type": FORM}).body == {}


def test_interactivity_payloads_and_json_events_still_parse() -> None:
    payload = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}}
    form = urlencode({"payload": json.dumps(payload)})
    event = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": {"type": "reaction_added"}})

    assert parse_body(form, FORM) == payload
    assert parse_body(event, "application/json")["event_id"] == "Ev1"
    assert parse_body("", FORM) == {}
    assert parse_body("[1, 2]", "application/json") == {}
    with pytest.raises(ValueError):
        parse_body(urlencode({"payload": "{not json"}), FORM)
