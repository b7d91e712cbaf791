"""A real slack_bolt AsyncApp, served on loopback, driven by SlackSender against FakeSlack."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientSession
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlack, InvalidAck, SlackSender, reaction_event, serve_bolt_app

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
BUTTONS = [
    {
        "type": "actions",
        "block_id": "claim_block",
        "elements": [
            {
                "type": "button",
                "action_id": "claim",
                "text": {"type": "plain_text", "text": "Claim"},
                "value": "problem-42",
            }
        ],
    }
]


@dataclass
class Rig:
    fake: FakeSlack
    app: AsyncApp
    slack: SlackSender
    seen: list[Any] = field(default_factory=list)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(tokens={TOKEN}) as fake:
        yield fake


async def _rig(fake: FakeSlack, *, rate_limit_retries: bool = False) -> AsyncIterator[Rig]:
    client = AsyncWebClient(base_url=fake.api_url, token=TOKEN)
    if rate_limit_retries:
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    # Only `client`: passing `token=` as well makes Bolt log "`token` will be unused".
    app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=True)
    async with serve_bolt_app(app) as url, SlackSender(url, SECRET, fake=fake) as slack:
        yield Rig(fake, app, slack)


@pytest.fixture
async def rig(fake: FakeSlack) -> AsyncIterator[Rig]:
    async for r in _rig(fake):
        yield r


@pytest.fixture
async def retry_rig(fake: FakeSlack) -> AsyncIterator[Rig]:
    async for r in _rig(fake, rate_limit_retries=True):
        yield r


def _register_cop(rig: Rig) -> None:
    @rig.app.command("/cop")
    async def cop(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        rig.seen.append(command)
        try:
            await client.chat_postMessage(
                channel=command["channel_id"], text=f"found {command['text']}", blocks=BUTTONS
            )
        except SlackApiError as e:
            rig.seen.append(e.response["error"])


async def test_command_acks_and_posts(rig: Rig) -> None:
    _register_cop(rig)

    status, body, _ = await rig.slack.command("/cop", "sae features", channel_id="C0PROBLEMS")

    assert (status, body) == (200, "")
    assert rig.seen[0]["user_id"] == "U0ALICE" and rig.seen[0]["team_domain"] == "fake-team"
    # process_before_response=True: the listener finished before Bolt answered.
    assert [c.method for c in rig.fake.calls] == ["auth.test", "chat.postMessage"]
    post = rig.fake.posts[0]
    assert (post.channel, post.text, post.token) == ("C0PROBLEMS", "found sae features", TOKEN)
    assert post.blocks[0]["elements"][0]["value"] == "problem-42"
    stored = rig.fake.message("C0PROBLEMS", post.ts or "")
    assert stored is not None and stored["blocks"] == BUTTONS


async def test_block_action_is_handled(rig: Rig) -> None:
    @rig.app.action("claim")
    async def claim(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()
        rig.seen.append(body)
        await respond(text="claimed", replace_original=True)
        container = body["container"]
        await client.chat_update(channel=container["channel_id"], ts=container["message_ts"], text="taken")

    reply = await rig.slack.block_action(
        "claim", message={"ts": "1700000000.000100", "blocks": BUTTONS}, channel_id="C0PROBLEMS"
    )

    assert reply.status == 200
    action = rig.seen[0]["actions"][0]
    assert (action["block_id"], action["value"]) == ("claim_block", "problem-42")
    assert rig.fake.responses[0]["replace_original"] is True
    update = rig.fake.updates[0]
    assert (update.channel, update.ts, update.text) == ("C0PROBLEMS", "1700000000.000100", "taken")


async def test_view_submission_is_handled(rig: Rig) -> None:
    @rig.app.view("propose")
    async def propose(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        rig.seen.append((view["private_metadata"], view["state"]["values"]))

    reply = await rig.slack.view_submission(
        "propose", {"title": {"input": "Find induction heads"}}, private_metadata="C0PROBLEMS"
    )

    assert (reply.status, reply.text) == (200, "")
    meta, values = rig.seen[0]
    assert meta == "C0PROBLEMS" and values["title"]["input"]["value"] == "Find induction heads"


async def test_reaction_added_event_is_delivered(rig: Rig) -> None:
    @rig.app.event("reaction_added")
    async def on_reaction(event: dict[str, Any]) -> None:
        rig.seen.append(event)

    ok = await rig.slack.event(reaction_event("U0ALICE", "eyes", "C0PROBLEMS", "1.000001"))
    own = await rig.slack.event(reaction_event(rig.fake.bot_user_id, "eyes", "C0PROBLEMS", "1.2"))

    assert ok.status == own.status == 200
    # Bolt drops the bot's own reactions (bot user id from auth.test) yet still answers 200.
    assert [(e["user"], e["item"]["ts"]) for e in rig.seen] == [("U0ALICE", "1.000001")]


async def test_event_retries_are_redelivered(rig: Rig) -> None:
    @rig.app.event("reaction_added")
    async def on_reaction(event: dict[str, Any], request: Any) -> None:
        rig.seen.append(request.headers.get("x-slack-retry-num"))

    event = reaction_event("U0ALICE", "eyes", "C0PROBLEMS", "1.1")
    await rig.slack.event(event, event_id="Ev0SAME")
    await rig.slack.event(event, event_id="Ev0SAME", retry_num=1)

    # Bolt does not de-duplicate on event_id: both reach the listener.
    assert rig.seen == [None, ["1"]]


@pytest.mark.parametrize("tamper", [{"bad_signature": True}, {"stale": True}])
async def test_unsigned_or_stale_requests_get_401(rig: Rig, tamper: dict[str, Any]) -> None:
    _register_cop(rig)

    status, body, _ = await rig.slack.command("/cop", "x", **tamper)
    event = await rig.slack.event(reaction_event("U0ALICE", "eyes", "C1", "1.1"), **tamper)

    assert (status, json.loads(body)) == (401, {"error": "invalid request"})
    assert event.status == 401
    assert rig.seen == [] and rig.fake.calls == []


async def test_url_verification_answers_challenge(rig: Rig) -> None:
    reply = await rig.slack.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")

    assert reply.status == 200
    assert reply.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert rig.fake.calls == []  # no auth.test for the handshake


async def test_429_is_retried_with_rate_limit_handler(
    retry_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []

    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(0)

    # The handler sleeps Retry-After + random(0..1) s; record the delay instead of waiting it.
    monkeypatch.setattr(builtin_async_handlers, "asyncio", SimpleNamespace(sleep=no_wait))
    _register_cop(retry_rig)
    retry_rig.fake.rate_limit("chat.postMessage", times=1, retry_after=1)

    assert (await retry_rig.slack.command("/cop", "x")).status == 200

    attempts = retry_rig.fake.calls_to("chat.postMessage")
    assert [(c.status, c.error) for c in attempts] == [(429, "ratelimited"), (200, None)]
    assert len(retry_rig.fake.posts) == 1 and len(sleeps) == 1 and 1 <= sleeps[0] < 2


async def test_429_without_handler_surfaces_as_ratelimited(rig: Rig) -> None:
    _register_cop(rig)
    rig.fake.rate_limit("chat.postMessage")

    await rig.slack.command("/cop", "x")

    assert rig.seen[-1] == "ratelimited" and rig.fake.posts == []


async def test_bolt_quirk_command_text_containing_payload_is_unhandled(rig: Rig) -> None:
    """Bolt parses any form body containing "payload" as an interactivity payload."""
    _register_cop(rig)

    reply = await rig.slack.command("/cop", "show payload")

    assert reply.status == 404 and rig.seen == []


async def test_fake_web_api_surface(fake: FakeSlack) -> None:
    client = AsyncWebClient(base_url=fake.api_url, token=TOKEN)
    fake.add_user("U0ADMIN", "ada", real_name="Ada L", display_name="ada!", is_admin=True)
    fake.add_usergroup("S0MODS", ["U0ADMIN"])
    fake.fail("U0BOB", "cannot_dm_bot")
    fake.fail("C0GONE")
    fake.fail_method("users.info", "user_not_found")

    with pytest.raises(SlackApiError) as e:
        await client.users_info(user="U0NOBODY")
    assert e.value.response["error"] == "user_not_found"
    user = (await client.users_info(user="U0ADMIN"))["user"]
    assert (user["is_admin"], user["profile"]["display_name"]) == (True, "ada!")
    assert (await client.usergroups_users_list(usergroup="S0MODS"))["users"] == ["U0ADMIN"]

    dm = (await client.conversations_open(users="U0CAROL"))["channel"]["id"]
    await client.chat_postMessage(channel=dm, text="hi carol")
    for call in (
        client.conversations_open(users="U0BOB"),
        client.chat_postMessage(channel="U0BOB", text="hi bob"),
        client.chat_postMessage(channel="C0GONE", text="hi"),
    ):
        with pytest.raises(SlackApiError) as e:
            await call
        assert e.value.response["error"] in {"cannot_dm_bot", "channel_not_found"}
    assert [c.text for c in fake.dms("U0CAROL")] == ["hi carol"] and fake.dms("U0BOB") == []

    posted = await client.chat_postMessage(channel="C0PROBLEMS", text="p")
    await client.reactions_add(channel="C0PROBLEMS", timestamp=posted["ts"], name="eyes")
    with pytest.raises(SlackApiError, match="already_reacted"):
        await client.reactions_add(channel="C0PROBLEMS", timestamp=posted["ts"], name="eyes")
    link = await client.chat_getPermalink(channel="C0PROBLEMS", message_ts=posted["ts"])
    assert link["permalink"].endswith(posted["ts"].replace(".", ""))
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Form"}, "blocks": []}
    view = await client.views_open(trigger_id="1.2.abc", view=modal)
    await client.views_update(view_id=view["view"]["id"], view=modal)
    await client.chat_postEphemeral(channel="C0PROBLEMS", user="U0ADMIN", text="psst")
    await client.api_call("bookmarks.add", params={"channel_id": "C0PROBLEMS"})
    assert [c.ts for c in fake.reactions] == [posted["ts"]] and len(fake.ephemerals) == 1
    assert fake.calls[-1].method == "bookmarks.add" and fake.calls[-1].ok

    bad = AsyncWebClient(base_url=fake.api_url, token="xoxb-wrong")
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await bad.auth_test()


async def test_wait_for_sees_calls_made_after_the_answer(rig: Rig) -> None:
    @rig.app.command("/later")
    async def later(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()

        async def work() -> None:
            await asyncio.sleep(0.01)
            await client.chat_postMessage(channel=command["user_id"], text="done")

        rig.seen.append(asyncio.create_task(work()))

    await rig.slack.command("/later")

    call = await rig.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.ok, timeout=2)
    assert call.response["channel"] == rig.fake.dm_channel("U0ALICE")
    assert rig.fake.dms("U0ALICE")[0].text == "done"
    with pytest.raises(AssertionError, match="no 1 call"):
        await rig.fake.wait_for("views.open", timeout=0.05)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(label: str, action_id: str = "a", value: str = "v") -> dict[str, Any]:
    text = {"type": "plain_text", "text": label}
    return {"type": "button", "text": text, "action_id": action_id, "value": value}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


# Block Kit's limits, each broken once: what Slack refuses, and where it says the problem is.
TOO_BIG = {
    "section text 3001": ([_section("a" * 3001)], "/blocks/0/text/text"),
    "empty section text": ([_section("")], "/blocks/0/text/text"),
    "11 fields": ([{"type": "section", "fields": [_mrkdwn("f")] * 11}], "/blocks/0/fields"),
    "field 2001": ([{"type": "section", "fields": [_mrkdwn("f" * 2001)]}], "/blocks/0/fields/0/text"),
    "header 151": (
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        "/blocks/0/text/text",
    ),
    "mrkdwn header": ([{"type": "header", "text": _mrkdwn("h")}], "/blocks/0/text/type"),
    "context 11": ([{"type": "context", "elements": [_mrkdwn("c")] * 11}], "/blocks/0/elements"),
    "button text 76": (
        [{"type": "actions", "elements": [_button("b" * 76)]}],
        "/blocks/0/elements/0/text/text",
    ),
    "action_id 256": ([{"type": "actions", "elements": [_button("b", "x" * 256)]}], "/elements/0/action_id"),
    "repeated action_id": (
        [{"type": "actions", "elements": [_button("b")]}, {"type": "actions", "elements": [_button("c")]}],
        "/blocks/1/elements/0/action_id",
    ),
    "value 2001": ([{"type": "actions", "elements": [_button("b", value="v" * 2001)]}], "/elements/0/value"),
    "51 blocks": ([_section("a")] * 51, "[json-pointer:/blocks]"),
}
# The same limits, just kept: Slack takes these, each message within 12,000 characters of text.
AT_THE_LIMIT = [
    [
        _section("a" * 3000),
        {"type": "section", "fields": [_mrkdwn("f" * 2000)] * 4},
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        {"type": "actions", "elements": [_button("b" * 75, "x" * 255, "v" * 2000), _button("c", "y")]},
    ]
    + [_section("a")] * 46,
    [{"type": "section", "fields": [_mrkdwn("f" * 1200)] * 10}],
    [{"type": "context", "elements": [_mrkdwn("c" * 1200)] * 10}],
    [_section("a" * 3000)] * 4,
]
# Text in blocks, all together: https://docs.slack.dev/reference/methods/chat.postMessage lists
# msg_blocks_too_long; 12,000 characters in slackapi/bolt-js#2509 (see slack_blocks).
OVER_ALL = [_section("a" * 3000)] * 4 + [_section("a")]


@pytest.mark.parametrize("case", TOO_BIG)
async def test_messages_slack_would_refuse_are_refused_on_every_surface(fake: FakeSlack, case: str) -> None:
    blocks, where = TOO_BIG[case]
    client = AsyncWebClient(base_url=fake.api_url, token=TOKEN)
    posted = await client.chat_postMessage(channel="C0PROBLEMS", text="ok")
    sends = {
        "chat.postMessage": client.chat_postMessage(channel="C0PROBLEMS", text="x", blocks=blocks),
        "chat.postEphemeral": client.chat_postEphemeral(
            channel="C0PROBLEMS", user="U0A", text="x", blocks=blocks
        ),
        "chat.update": client.chat_update(channel="C0PROBLEMS", ts=posted["ts"], text="x", blocks=blocks),
    }
    for method, send in sends.items():
        with pytest.raises(SlackApiError) as refused:
            await send
        assert refused.value.response["error"] == "invalid_blocks", method
        assert where in refused.value.response["errors"][0], method
    async with ClientSession() as session:
        answer = await session.post(fake.response_url(), json={"text": "x", "blocks": blocks})
        assert (answer.status, await answer.text()) == (400, "invalid_blocks")

    assert [c.method for c in fake.refused_blocks] == [*sends, "response_url"]
    assert fake.message("C0PROBLEMS", posted["ts"])["text"] == "ok"  # the refused update changed nothing
    assert fake.responses[-1].ok is False


async def test_messages_at_the_limits_are_accepted(fake: FakeSlack) -> None:
    client = AsyncWebClient(base_url=fake.api_url, token=TOKEN)

    for blocks in AT_THE_LIMIT:
        posted = await client.chat_postMessage(channel="C0PROBLEMS", text="x", blocks=blocks)
        await client.chat_update(channel="C0PROBLEMS", ts=posted["ts"], text="y", blocks=blocks)
        async with ClientSession() as session:
            answer = await session.post(fake.response_url(), json={"text": "x", "blocks": blocks})
        assert answer.status == 200

    assert fake.refused_blocks == []


async def test_messages_over_12000_characters_of_text_are_refused_as_too_long(fake: FakeSlack) -> None:
    client = AsyncWebClient(base_url=fake.api_url, token=TOKEN)
    posted = await client.chat_postMessage(channel="C0PROBLEMS", text="ok")

    for send in (
        client.chat_postMessage(channel="C0PROBLEMS", text="x", blocks=OVER_ALL),
        client.chat_postEphemeral(channel="C0PROBLEMS", user="U0A", text="x", blocks=OVER_ALL),
        client.chat_update(channel="C0PROBLEMS", ts=posted["ts"], text="x", blocks=OVER_ALL),
    ):
        with pytest.raises(SlackApiError) as refused:
            await send
        assert refused.value.response["error"] == "msg_blocks_too_long"
    async with ClientSession() as session:
        answer = await session.post(fake.response_url(), json={"text": "x", "blocks": OVER_ALL})

    assert answer.status == 400 and len(fake.refused_blocks) == 4


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"title": {"type": "plain_text", "text": "t" * 25}}, "/view/title/text"),
        ({"submit": {"type": "plain_text", "text": "s" * 25}}, "/view/submit/text"),
        ({"private_metadata": "m" * 3001}, "/view/private_metadata"),
        ({"blocks": [_section("a")] * 101}, "/view/blocks]"),
        ({"blocks": [_section("a" * 3001)]}, "/view/blocks/0/text/text"),
    ],
)
async def test_modals_slack_would_refuse_are_refused(
    fake: FakeSlack, change: dict[str, Any], where: str
) -> None:
    client = AsyncWebClient(base_url=fake.api_url, token=TOKEN)
    fine = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "t" * 24},
        "blocks": [_section("a")] * 100,
    }
    opened = await client.views_open(trigger_id="1.2.abc", view=fine)

    for send in (
        client.views_open(trigger_id="1.2.abc", view={**fine, **change}),
        client.views_update(view_id=opened["view"]["id"], view={**fine, **change}),
    ):
        with pytest.raises(SlackApiError) as refused:
            await send
        assert refused.value.response["error"] == "invalid_arguments"
        assert where in refused.value.response["response_metadata"]["messages"][0]

    assert [c.method for c in fake.refused_blocks] == ["views.open", "views.update"]


async def test_an_ack_slack_would_refuse_fails_the_sender(rig: Rig) -> None:
    @rig.app.command("/big")
    async def big(ack: Any) -> None:
        await ack(text="x", blocks=[_section("a" * 3001)])

    @rig.app.command("/fine")
    async def fine(ack: Any) -> None:
        await ack(text="x", blocks=[_section("a" * 3000)])

    with pytest.raises(
        InvalidAck, match=r"must be less than 3001 characters \[json-pointer:/blocks/0/text/text\]"
    ):
        await rig.slack.command("/big")
    assert (await rig.slack.command("/fine")).status == 200
