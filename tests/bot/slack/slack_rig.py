"""A running SlackFrontEnd behind a fake Slack, and helpers that read answers as a user would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.moderation import Moderation
from bot.reminders import Sweeper
from bot.runner import make_moderation, make_sweeper
from bot.slack.frontend import SlackFrontEnd
from commands.types import Context
from tests.fakes.slack_api import Call, FakeSlack, SlackReply, SlackSender, reaction_event

SECRET = "test-signing-secret"
TOKEN = "xoxb-test"
ANN, BOB, CAT = "U0ANN", "U0BOB", "U0CAT"
MOD, MO2 = "U0MOD", "U0MO2"  # moderators when SLACK_MODERATORS names them
MODS, REMIND = "C0MODS", "C0REMIND"  # the moderator and reminder channels of `moderated`


def settings_for(fake: FakeSlack, **overrides: Any) -> Settings:
    """Settings for a front end that talks to ``fake`` and listens on a free loopback port, ignoring
    any .env file (a developer's own, in the folder the tests run in)."""
    values: dict[str, Any] = {
        "database_url": "sqlite+aiosqlite:///unused.db",
        "slack_bot_token": TOKEN,
        "slack_signing_secret": SECRET,
        "slack_app_token": None,
        "slack_api_url": fake.api_url,
        "slack_port": 0,
        "bind_host": "127.0.0.1",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def add_people(fake: FakeSlack) -> None:
    """Ann and Bob, members; Cat, a workspace admin."""
    fake.add_user(ANN, "ann")
    fake.add_user(BOB, "bob")
    fake.add_user(CAT, "cat", is_admin=True)
    fake.add_user(MOD, "mod")
    fake.add_user(MO2, "mo2")


@dataclass
class Answer:
    """What a user got back: through the ack or a response_url post, and the message."""

    via: str
    message: dict[str, Any]

    @classmethod
    def of(cls, call: Call) -> Answer:
        """A message the bot posted or updated through the Web API (``chat.postMessage``…)."""
        return cls("api", dict(call.args))

    @property
    def public(self) -> bool:
        """Posted for the whole channel (``in_channel``) rather than shown only to the user."""
        return self.via == "api" or self.message.get("response_type") == "in_channel"

    @property
    def text(self) -> str:
        """The fallback ``text`` (what notifications show)."""
        return str(self.message.get("text", ""))

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.message.get("blocks") or [])

    @property
    def header(self) -> str:
        """The header block's text, or ''."""
        return next((b["text"]["text"] for b in self.blocks if b["type"] == "header"), "")

    @property
    def shown(self) -> str:
        """Every text a user sees, one per line (Slack markup as sent, i.e. escaped)."""
        return "\n".join(texts(self.blocks))

    @property
    def buttons(self) -> list[str]:
        """The labels of the buttons, in order."""
        return [e["text"]["text"] for b in self.blocks if b["type"] == "actions" for e in b["elements"]]

    def button(self, label: str) -> dict[str, Any]:
        """The button with this label."""
        for block in self.blocks:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                if element["text"]["text"] == label:
                    return dict(element)
        raise AssertionError(f"no button {label!r} in {self.buttons}")

    def field(self, name: str) -> str:
        """The value of the field called ``name``."""
        for block in self.blocks:
            for item in block.get("fields", []):
                title, _, value = item["text"].partition("\n")
                if title == f"*{name}*":
                    return str(value)
        raise AssertionError(f"no field {name!r} in {self.shown}")


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """The visible texts of some blocks."""
    out: list[str] = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [item["text"] for item in block.get("fields", [])]
        out += [e["text"] if e["type"] != "button" else e["text"]["text"] for e in block.get("elements", [])]
    return out


@dataclass
class Rig:
    """The front end under test, the fake Slack it calls, and a sender that acts as Slack."""

    fake: FakeSlack
    front: SlackFrontEnd
    slack: SlackSender
    ctx: Context
    moderation: Moderation | None = None
    sweeper: Sweeper | None = None

    async def command(self, name: str, text: str = "", user: str = ANN, **opts: Any) -> Answer:
        """Type ``/name text`` as ``user``; the answer from the ack, else from the response_url."""
        before = len(self.fake.responses)
        reply = await self.slack.command(name, text, user_id=user, **opts)
        assert reply.status == 200, reply
        if reply.text:
            return Answer("ack", reply.json())
        call = await self.fake.wait_for("response_url", count=before + 1)
        return Answer("response_url", call.args)

    async def click(
        self,
        answer: Answer,
        label: str,
        user: str = ANN,
        *,
        channel: str = "C0GENERAL",
        ts: str = "1764072000.000100",
    ) -> Answer:
        """Press the button ``label`` on a message as ``user``; the answer posted back."""
        before = len(self.fake.responses)
        await self.press(answer, label, user, channel=channel, ts=ts)
        call = await self.fake.wait_for("response_url", count=before + 1)
        return Answer("response_url", call.args)

    async def press(
        self,
        answer: Answer,
        label: str,
        user: str = ANN,
        *,
        channel: str = "C0GENERAL",
        ts: str = "1764072000.000100",
    ) -> None:
        """Press a button and wait for the work it started, expecting no particular answer."""
        button = answer.button(label)
        reply = await self.slack.block_action(
            button["action_id"],
            user_id=user,
            channel_id=channel,
            message={"ts": ts, "text": answer.text, "blocks": answer.blocks},
            is_ephemeral=not answer.public,
        )
        assert (reply.status, reply.text) == (200, ""), reply
        await self.front.drain()

    async def react(self, user: str, reaction: str, ts: str, channel: str = MODS, **opts: Any) -> SlackReply:
        """``user`` adds ``:reaction:`` to message ``ts``; returns once copbot has handled it."""
        reply = await self.slack.event(reaction_event(user, reaction, channel, ts), **opts)
        assert reply.status == 200, reply
        await self.front.drain()
        return reply

    def posts_in(self, channel: str) -> list[Call]:
        """The bot's accepted posts in a channel (a DM channel is ``D`` + the user id's tail)."""
        return [c for c in self.fake.posts if c.response["channel"] == channel]

    def current(self, channel: str, ts: str) -> Answer:
        """A message the bot posted, as it is now (after any ``chat.update``)."""
        message = self.fake.message(channel, ts)
        assert message is not None, f"no message {channel}/{ts}"
        return Answer("api", dict(message))


def tries_in(fake: FakeSlack, channel: str) -> int:
    """How many posts copbot asked Slack to make in ``channel`` (refused ones too)."""
    return len([c for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == channel])


MODERATED = {"slack_moderator_channel": MODS, "slack_moderators": MOD, "slack_reminder_channel": REMIND}


@asynccontextmanager
async def moderated(fake: FakeSlack, ctx: Context, **options: Any) -> AsyncIterator[Rig]:
    """A front end with moderation and the sweep wired into ``ctx`` exactly as ``copbot run`` does.

    Settings default to :data:`MODERATED`; ``options`` override them (None unsets one).
    """
    async with running(fake, ctx, **{**MODERATED, **options}) as rig:
        settings = rig.front.settings
        rig.moderation = make_moderation(settings, ctx, [rig.front])
        ctx.effects = rig.moderation
        rig.sweeper = make_sweeper(settings, ctx, [rig.front], rig.moderation)
        try:
            yield rig
        finally:
            ctx.effects = None


@asynccontextmanager
async def running(fake: FakeSlack, ctx: Context, **options: Any) -> AsyncIterator[Rig]:
    """Start a SlackFrontEnd (``answer_within`` and Settings overrides in ``options``)."""
    front_options = {k: options.pop(k) for k in ("answer_within", "directory") if k in options}
    front = SlackFrontEnd(settings_for(fake, **options), ctx, **front_options)
    await front.start()
    fake.reset()  # tests look at what requests cause, not at the start-up check
    try:
        url = f"http://127.0.0.1:{front.port}/slack/events"
        async with SlackSender(url, SECRET, fake=fake) as sender:
            yield Rig(fake, front, sender, ctx)
    finally:
        await front.close()
