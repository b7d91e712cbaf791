"""Reading Slack's request bodies: the word "payload" in a slash command is just a word, and a
request that is not Slack's is refused before anything reads or logs it."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from aiohttp import ClientSession
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.transport import SlackRequest, parse_body
from commands.types import Context
from tests.bot.slack.slack_rig import ANN, Rig, running
from tests.fakes.slack_api import FakeSlack

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


# -- what reaches the log and the parser from a request that is not Slack's ------------------

# A stranger's body: a line that would pass for copbot's own in the log, and a mark to look for.
FORGED = "text=x\n2026-11-29 18:00:00,000 CRITICAL copbot: cannot start: forged-by-a-stranger\n"


@pytest.fixture
async def loud(fake: FakeSlack, ctx: Context, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Rig]:
    """The front end started with everything logged (LOG_LEVEL=DEBUG), Bolt's loggers included."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="copbot.slack.bolt")
    async with running(fake, ctx) as rig:
        yield rig


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything logged, at every level, messages and tracebacks."""
    return "\n".join(caplog.handler.format(r) for r in caplog.records)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (FORGED + "A" * 200_000, FORM),
        (json.dumps({"type": "event_callback", "event": {"text": FORGED}}), "application/json"),
        (urlencode({"payload": json.dumps({"type": "block_actions", "note": FORGED})}), FORM),
    ],
    ids=["form", "json", "payload"],
)
async def test_an_unsigned_request_leaves_nothing_of_itself_in_the_log(
    loud: Rig, caplog: pytest.LogCaptureFixture, body: str, content_type: str
) -> None:
    """Bolt's own check logged the whole body (up to 1 MB, newlines and all) at INFO."""
    reply = await loud.slack.post(body, content_type, bad_signature=True)

    assert (reply.status, reply.json()) == (401, {"error": "invalid request"})
    assert "forged-by-a-stranger" not in logged(caplog) and "AAAA" not in logged(caplog)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("copbot")] == [
        "refused a Slack request with a wrong signature"
    ]
    assert loud.fake.calls == []


async def test_slack_s_request_refused_for_clock_skew_is_a_warning_without_its_content(
    loud: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """A real request signed 6 minutes ago: the operator learns the clock is off, and nothing
    of the member's command (their text, ids, the response_url, the verification token)."""
    reply = await loud.slack.command("/release", "3.11 my-private-note", user_id=ANN, stale=True)

    assert reply.status == 401
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "refused a Slack request correctly signed but 6 min behind this machine's clock (is it right?)"
    ]
    for secret in ("my-private-note", ANN, "response", "fake-verification-token", "/release"):
        assert secret not in logged(caplog)


JUNK = [
    ("[" * 200_000 + "]" * 200_000, "application/json"),
    ("payload=" + "%5B" * 200_000, FORM),
    (b"\xff\xfe{not utf-8}", "application/json"),
    (b"command=/claim&text=3.11\xff", FORM),
]
# What a signed request of each kind gets: JSON too deep to read is Slack's own (or a proxy's)
# doing, worth a warning; a body that is not UTF-8 cannot be Slack's (it sends only UTF-8, and
# slack_sdk checks signatures on text), so it is refused as unsigned, quietly.
SIGNED = [
    (400, ["refused a signed Slack request whose body is not valid JSON"]),
    (400, ["refused a signed Slack request whose body is not valid JSON"]),
    (401, []),
    (401, []),
]


@pytest.mark.parametrize(
    ("body", "content_type", "answer"),
    [(*junk, answer) for junk, answer in zip(JUNK, SIGNED, strict=True)],
    ids=["deep-json", "deep-payload", "utf-16", "latin"],
)
async def test_unsigned_junk_is_refused_quietly_and_signed_junk_is_a_400(
    loud: Rig,
    ctx: Context,
    caplog: pytest.LogCaptureFixture,
    body: str | bytes,
    content_type: str,
    answer: tuple[int, list[str]],
) -> None:
    """JSON nested 200,000 deep or a body that is not UTF-8 was a 500 and a traceback (a
    RecursionError, a UnicodeDecodeError) for anyone: it is refused before being read."""
    unsigned = await loud.slack.post(body, content_type, bad_signature=True)

    assert (unsigned.status, unsigned.json()) == (401, {"error": "invalid request"})
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info] == []

    signed = await loud.slack.post(body, content_type)

    loud_lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert (signed.status, loud_lines) == answer
    assert loud.fake.calls == []
    assert (await loud.command("/claim", "3.11", user=ANN)).via == "ack"  # and Slack is still served


async def test_slack_s_certificate_check_is_answered_though_unsigned(
    loud: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack checks a Request URL's certificate with an unsigned ``ssl_check=1`` POST, which Bolt
    answers 200 before its signature check; copbot's own check refused it (401, and a "refused"
    line pointing the operator at the signing secret)."""
    plain = {"Content-Type": FORM, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
    async with (
        ClientSession() as session,
        session.post(loud.slack.url, data="ssl_check=1&token=xxx", headers=plain) as response,
    ):
        assert (response.status, await response.text()) == (200, "")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("copbot")] == []
    # Anything else unsigned is still refused, even with ssl_check in it.
    async with (
        ClientSession() as session,
        session.post(loud.slack.url, data="ssl_check=0&command=/claim&text=3.11", headers=plain) as response,
    ):
        assert response.status == 401
    assert loud.fake.calls == []
