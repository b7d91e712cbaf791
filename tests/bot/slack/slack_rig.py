"""A running SlackFrontEnd behind a fake Slack, and helpers that read answers as a user would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.slack.frontend import SlackFrontEnd
from commands.types import Context
from tests.fakes.slack_api import FakeSlack, SlackSender

SECRET = "test-signing-secret"
TOKEN = "xoxb-test"
ANN, BOB, CAT = "U0ANN", "U0BOB", "U0CAT"


def settings_for(fake: FakeSlack, **overrides: Any) -> Settings:
    """Settings for a front end that talks to ``fake`` and listens on a free loopback port."""
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
    return Settings(**values)


def add_people(fake: FakeSlack) -> None:
    """Ann and Bob, members; Cat, a workspace admin."""
    fake.add_user(ANN, "ann")
    fake.add_user(BOB, "bob")
    fake.add_user(CAT, "cat", is_admin=True)


@dataclass
class Answer:
    """What a user got back: through the ack or a response_url post, and the message."""

    via: str
    message: dict[str, Any]

    @property
    def public(self) -> bool:
        """Posted for the whole channel (``in_channel``) rather than shown only to the user."""
        return self.message.get("response_type") == "in_channel"

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

    async def command(self, name: str, text: str = "", user: str = ANN, **opts: Any) -> Answer:
        """Type ``/name text`` as ``user``; the answer from the ack, else from the response_url."""
        before = len(self.fake.responses)
        reply = await self.slack.command(name, text, user_id=user, **opts)
        assert reply.status == 200, reply
        if reply.text:
            return Answer("ack", reply.json())
        call = await self.fake.wait_for("response_url", count=before + 1)
        return Answer("response_url", call.args)

    async def click(self, answer: Answer, label: str, user: str = ANN) -> Answer:
        """Press the button ``label`` on a message as ``user``; the answer posted back."""
        button = answer.button(label)
        before = len(self.fake.responses)
        reply = await self.slack.block_action(
            button["action_id"],
            user_id=user,
            message={"ts": "1764072000.000100", "blocks": answer.blocks},
            is_ephemeral=not answer.public,
        )
        assert (reply.status, reply.text) == (200, ""), reply
        call = await self.fake.wait_for("response_url", count=before + 1)
        return Answer("response_url", call.args)


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
