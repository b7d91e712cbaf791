"""End-to-end checks that the real discord.py client works against the fake Discord."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands

from tests.fakes.discord_api import FakeDiscord, permissions

PROBLEMS = [f"Circuit {i}" for i in range(20)] + [f"Probe {i}" for i in range(10)]
CLAIM_ID = "copbot:claim"


@pytest.fixture
async def fake(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        monkeypatch.setattr(discord.http.Route, "BASE", server.api_url)
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
        yield server
        assert server.errors == []
        assert server.unhandled == []
    logged = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert logged == [], "discord.py logged errors (exceptions in handlers?)"


class ClaimView(discord.ui.View):
    """A persistent view: no timeout, fixed custom_id."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Claim", custom_id=CLAIM_ID, style=discord.ButtonStyle.primary)
    async def claim(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_message(f"claimed by {interaction.user.name}", ephemeral=True)


class NoteModal(discord.ui.Modal, title="Add a note"):
    note = discord.ui.TextInput(label="Note", custom_id="note")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"noted: {self.note.value}", ephemeral=True)


class Bot(discord.Client):
    """A small client exercising commands, autocomplete, views, modals and raw reactions."""

    def __init__(self, intents: discord.Intents | None = None, **options: object) -> None:
        super().__init__(
            intents=intents or discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.tree = app_commands.CommandTree(self)
        self.raw_reactions: asyncio.Queue[discord.RawReactionActionEvent] = asyncio.Queue()
        self.seen_messages: asyncio.Queue[discord.Message] = asyncio.Queue()
        self.interactions_seen = 0
        tree = self.tree

        @tree.command(description="Check the bot is alive")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

        @tree.command(description="Look up a problem")
        async def problem(interaction: discord.Interaction, name: str, count: int = 1) -> None:
            await interaction.response.send_message(f"{name} x{count}")

        @problem.autocomplete("name")
        async def problem_name(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            matches = [p for p in PROBLEMS if current.lower() in p.lower()]
            return [app_commands.Choice(name=p, value=p) for p in matches[:25]]

        @tree.command(description="Who is this")
        async def whois(interaction: discord.Interaction, user: discord.Member) -> None:
            await interaction.response.send_message(f"{user.display_name} {user.id}")

        @tree.command(description="Slow work")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("done")

        @tree.command(description="Open a modal")
        async def note(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(NoteModal())

        @tree.command(description="Send a report file")
        async def report(interaction: discord.Interaction) -> None:
            can_kick = interaction.permissions.kick_members
            report = discord.File(io.BytesIO(b"a,b\n1,2\n"), "report.csv")
            await interaction.response.send_message(f"kick={can_kick}", file=report)

    async def setup_hook(self) -> None:
        self.add_view(ClaimView())

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.interactions_seen += 1

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if self.user is not None and payload.user_id != self.user.id:
            await self.raw_reactions.put(payload)

    async def on_message(self, message: discord.Message) -> None:
        if self.user is not None and message.author.id != self.user.id:
            await self.seen_messages.put(message)


@contextlib.asynccontextmanager
async def running(
    fake: FakeDiscord, *clients: discord.Client, ready: int | None = None
) -> AsyncIterator[None]:
    """Start the clients, wait until the fake saw them ready, close them afterwards."""
    tasks = [asyncio.create_task(c.start("fake-token")) for c in clients]
    waiter = asyncio.create_task(fake.wait_ready(ready or len(clients)))
    try:
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task in done:
                task.result()  # a client that stopped early raises here
        await waiter
        yield
    finally:
        waiter.cancel()
        for client in clients:
            await client.close()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_login_and_ping_is_ephemeral(fake: FakeDiscord) -> None:
    client = Bot()
    async with running(fake, client):
        assert [r.route for r in fake.requests[:2]] == [
            "GET /users/@me",
            "GET /oauth2/applications/@me",
        ]
        assert fake.connections[0].compress == "zlib-stream"
        assert fake.identifies[0]["token"] == "fake-token"
        assert client.get_guild(fake.guild_id) is not None

        iid = await fake.slash("ping")
        callback = await fake.wait_for_callback(iid)

    assert (callback.type, callback.content, callback.ephemeral) == (4, "pong", True)
    request = next(r for r in fake.requests if r.route and "/callback" in r.route)
    assert request.query == {"with_response": "1"}
    assert request.status == 200


async def test_autocomplete_then_command(fake: FakeDiscord) -> None:
    async with running(fake, Bot()):
        iid = await fake.autocomplete("problem", {"name": ""}, focused="name")
        callback = await fake.wait_for_callback(iid)
        assert callback.type == 8
        assert len(callback.choices or []) == 25

        iid = await fake.autocomplete("problem", {"name": "prob"}, focused="name")
        choices = (await fake.wait_for_callback(iid)).choices or []
        assert [c["value"] for c in choices] == [f"Probe {i}" for i in range(10)]

        iid = await fake.slash("problem", {"name": "Probe 3", "count": 2})
        callback = await fake.wait_for_callback(iid)
    assert callback.content == "Probe 3 x2"
    assert not callback.ephemeral
    assert fake.messages[fake.general_id][-1]["content"] == "Probe 3 x2"


async def test_persistent_button_on_message_from_before_start(fake: FakeDiscord) -> None:
    button = {"type": 2, "style": 1, "label": "Claim", "custom_id": CLAIM_ID}
    message = await fake.add_message(
        fake.general_id, "Problem 7", components=[{"type": 1, "components": [button]}]
    )
    async with running(fake, Bot()):
        iid = await fake.click(message, CLAIM_ID, user_id=fake.bob_id)
        callback = await fake.wait_for_callback(iid)
    assert callback.content == "claimed by bob"
    assert callback.ephemeral


async def test_dm_to_closed_user_raises_forbidden_50007(fake: FakeDiscord) -> None:
    fake.close_dms(fake.alice_id)
    client = Bot()
    async with running(fake, client):
        alice = await client.fetch_user(fake.alice_id)
        with pytest.raises(discord.Forbidden) as excinfo:
            await alice.send("hello")
        assert excinfo.value.code == 50007

        bob = await client.fetch_user(fake.bob_id)
        await bob.send("hello bob")
    assert [m["content"] for m in fake.dms[fake.bob_id]] == ["hello bob"]
    assert fake.dms[fake.alice_id] == []


async def test_channel_message_and_reaction(fake: FakeDiscord) -> None:
    client = Bot()
    async with running(fake, client):
        channel = client.get_channel(fake.general_id)
        assert isinstance(channel, discord.TextChannel)
        message = await channel.send("hello @everyone")
        await message.add_reaction("👍")
        edited = await message.edit(content="hello again")

    stored = fake.message(message.id)
    assert stored["content"] == edited.content == "hello again"
    assert stored["edited_timestamp"] is not None
    assert fake.reactions[message.id] == [("👍", fake.bot_user_id)]
    send = next(r for r in fake.requests if r.route == "POST /channels/{channel_id}/messages")
    assert send.json["allowed_mentions"] == {"parse": []}


async def test_raw_reaction_add_reaches_client(fake: FakeDiscord) -> None:
    message = await fake.add_message(fake.general_id, "react to me")
    client = Bot()
    async with running(fake, client):
        await fake.react(fake.general_id, int(message["id"]), "🎉", user_id=fake.alice_id)
        payload = await asyncio.wait_for(client.raw_reactions.get(), 2)
    assert (payload.user_id, payload.message_id, str(payload.emoji)) == (
        fake.alice_id,
        int(message["id"]),
        "🎉",
    )
    assert payload.member is not None and payload.member.name == "alice"


async def test_429_is_retried_transparently(fake: FakeDiscord) -> None:
    fake.rate_limit("POST", "/channels/{channel_id}/messages", retry_after=0.05)
    fake.rate_limit("POST", "/interactions/*/callback", retry_after=0.05)
    client = Bot()
    async with running(fake, client):
        channel = client.get_channel(fake.general_id)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("after a 429")
        iid = await fake.slash("ping")
        assert (await fake.wait_for_callback(iid)).content == "pong"

    sends = [r.status for r in fake.requests if r.route == "POST /channels/{channel_id}/messages"]
    callbacks = [r.status for r in fake.requests if r.path.endswith("/callback")]
    assert sends == [429, 200]
    assert callbacks == [429, 200]
    assert [m["content"] for m in fake.messages[fake.general_id]] == ["after a 429"]


async def test_tree_sync_to_guild_is_recorded_and_used(fake: FakeDiscord) -> None:
    client = Bot()
    guild = discord.Object(fake.guild_id)
    async with running(fake, client):
        client.tree.copy_global_to(guild=guild)
        synced = await client.tree.sync(guild=guild)
        again = await client.tree.sync(guild=guild)

        iid = await fake.slash("whois", {"user": fake.bob_id})
        callback = await fake.wait_for_callback(iid)

    assert len(fake.syncs) == 2
    assert fake.syncs[0][0] == fake.guild_id
    assert {c.name for c in synced} == {"ping", "problem", "whois", "slow", "note", "report"}
    assert {c.id for c in synced} == {c.id for c in again}  # overwrite keeps ids
    assert fake.command_creates[fake.guild_id] == 6
    interaction = fake.interactions[iid]
    assert interaction["data"]["guild_id"] == str(fake.guild_id)
    assert interaction["data"]["options"] == [{"name": "user", "type": 6, "value": str(fake.bob_id)}]
    assert callback.content == f"Bob {fake.bob_id}"


async def test_defer_then_followup_resolves_thinking_message(fake: FakeDiscord) -> None:
    async with running(fake, Bot()):
        iid = await fake.slash("slow")
        followup = await fake.wait_for_followup(iid)
    assert fake.callbacks[iid].type == 5
    assert followup.content == "done"
    assert fake.messages[fake.general_id] == [followup.message]
    assert followup.message is not None and followup.message["flags"] == 0


async def test_modal_submit(fake: FakeDiscord) -> None:
    async with running(fake, Bot()):
        opened = await fake.slash("note")
        assert (await fake.wait_for_callback(opened)).type == 9
        iid = await fake.submit_modal(opened, {"note": "looks good"})
        callback = await fake.wait_for_callback(iid)
    assert callback.content == "noted: looks good"


async def test_second_answer_fails_with_40060(fake: FakeDiscord, caplog: pytest.LogCaptureFixture) -> None:
    async with running(fake, Bot()):
        iid = await fake.slash("ping")
        await fake.wait_for_callback(iid)
        await fake.replay(iid)  # the same interaction delivered twice
        rejected = await fake.wait_for(lambda r: r.status == 400)
        await fake.wait_until(lambda: "40060" in caplog.text)
    assert rejected.response["code"] == 40060
    assert fake.callbacks[iid].content == "pong"
    caplog.clear()  # the command's second answer failed, as expected


async def test_message_content_needs_intent(fake: FakeDiscord) -> None:
    client = Bot()
    async with running(fake, client):
        await fake.user_message(fake.general_id, "plain text", user_id=fake.alice_id)
        message = await asyncio.wait_for(client.seen_messages.get(), 2)
    assert message.content == ""
    assert message.author.id == fake.alice_id


async def test_shards_split_between_two_clients(fake: FakeDiscord) -> None:
    clients = [Bot(shard_id=0, shard_count=2), Bot(shard_id=1, shard_count=2)]
    async with running(fake, *clients):
        assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]
        iid = await fake.slash("ping")
        await fake.wait_for_callback(iid)
        await fake.sync()
    owner = (fake.guild_id >> 22) % 2
    assert [c.interactions_seen for c in clients] == [int(owner == 0), int(owner == 1)]
    assert clients[owner].get_guild(fake.guild_id) is not None
    assert clients[1 - owner].get_guild(fake.guild_id) is None


async def test_reconnect_resumes_session(fake: FakeDiscord) -> None:
    client = Bot()
    async with running(fake, client):
        session = fake.connections[0].session
        await fake.reconnect()
        await fake.wait_until(lambda: fake.resumes and any(c.ready for c in fake.connections))
        assert fake.connections[0].session is session
        assert len(fake.identifies) == 1
        iid = await fake.slash("ping")
        assert (await fake.wait_for_callback(iid)).content == "pong"


async def test_events_missed_while_disconnected_are_replayed_on_resume(fake: FakeDiscord) -> None:
    async with running(fake, Bot()):
        await fake.disconnect(4000)
        iid = await fake.slash("ping")  # buffered in the session, replayed after RESUME
        assert (await fake.wait_for_callback(iid)).content == "pong"
    assert len(fake.resumes) == 1
    assert len(fake.identifies) == 1


async def test_files_and_member_permissions(fake: FakeDiscord) -> None:
    client = Bot()
    async with running(fake, client):
        as_bob = await fake.slash("report", user_id=fake.bob_id)  # bob is a Moderator
        as_alice = await fake.slash("report", user_id=fake.alice_id)
        bob_answer = await fake.wait_for_callback(as_bob)
        alice_answer = await fake.wait_for_callback(as_alice)

        channel = client.get_channel(fake.general_id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send(file=discord.File(io.BytesIO(b"hi"), "hi.txt"))

    assert (bob_answer.content, alice_answer.content) == ("kick=True", "kick=False")
    assert bob_answer.files[0]["filename"] == "report.csv"
    assert bob_answer.files[0]["data"] == b"a,b\n1,2\n"
    assert bob_answer.message is not None
    assert bob_answer.message["attachments"][0]["filename"] == "report.csv"
    assert [(a.filename, a.size) for a in sent.attachments] == [("hi.txt", 2)]


async def test_channel_overwrite_denies_bot(fake: FakeDiscord) -> None:
    deny = {"id": fake.bot_role_id, "type": 0, "deny": permissions("send_messages")}
    locked = fake.add_channel("announcements", overwrites=[deny])
    client = Bot()
    async with running(fake, client):
        channel = client.get_channel(locked)
        assert isinstance(channel, discord.TextChannel)
        assert not channel.permissions_for(channel.guild.me).send_messages
        with pytest.raises(discord.Forbidden) as excinfo:
            await channel.send("nope")
    assert excinfo.value.code == 50013


async def test_without_embed_links_the_embeds_are_dropped_as_on_discord(fake: FakeDiscord) -> None:
    """Real Discord posts the message (and its edit) but silently drops its embeds; an embed
    alone is an empty message, refused (50006). Once allowed, embeds go through."""
    everyone = {"id": fake.guild_id, "type": 0, "deny": permissions("embed_links")}
    plain = fake.add_channel("no-embeds", overwrites=[everyone])
    assert not fake.permissions_for(fake.bot_user_id, plain) & permissions("embed_links")
    async with running(fake, client := Bot()):
        target = client.get_partial_messageable(plain, guild_id=fake.guild_id)
        sent = await target.send("hello", embed=discord.Embed(title="lost"))
        await sent.edit(content="edited", embed=discord.Embed(title="lost too"))
        with pytest.raises(discord.HTTPException) as refused:
            await target.send(embed=discord.Embed(title="alone"))
        await fake.set_overwrites(plain, [])
        kept = await target.send("again", embed=discord.Embed(title="kept"))
    assert (fake.message(sent.id)["content"], fake.message(sent.id)["embeds"]) == ("edited", [])
    assert refused.value.code == 50006
    assert [e["title"] for e in fake.message(kept.id)["embeds"]] == ["kept"]


# ------------------------------------------------------------------ what real Discord refuses


def error_paths(errors: Any, prefix: str = "") -> list[str]:
    """The dotted paths of a 50035 error body's ``errors`` tree."""
    found = [prefix.rstrip(".")] if "_errors" in errors else []
    for key, child in errors.items():
        if key != "_errors":
            found += error_paths(child, f"{prefix}{key}.")
    return found


def rows(*labels: list[str]) -> list[dict[str, Any]]:
    return [
        {"type": 1, "components": [{"type": 2, "style": 1, "label": x[:80], "custom_id": x} for x in row]}
        for row in labels
    ]


def fields(count: int, name: str = "n", value: str = "v") -> list[dict[str, Any]]:
    return [{"name": f"{name}{i}", "value": value} for i in range(count)]


REFUSED_MESSAGES: list[tuple[str, dict[str, Any]]] = [
    ("embeds.0.title", {"embeds": [{"title": "t" * 257}]}),
    ("embeds.0.description", {"embeds": [{"description": "d" * 4097}]}),
    ("embeds.0.fields", {"embeds": [{"fields": fields(26)}]}),
    ("embeds.0.fields.0.name", {"embeds": [{"fields": [{"name": "", "value": "v"}]}]}),
    ("embeds.0.fields.0.name", {"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]}),
    ("embeds.0.fields.1.value", {"embeds": [{"fields": [*fields(1), {"name": "n", "value": " "}]}]}),
    ("embeds.0.fields.0.value", {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]}),
    ("embeds.0.footer.text", {"embeds": [{"footer": {"text": "f" * 2049}}]}),
    ("embeds.0.author.name", {"embeds": [{"author": {"name": "a" * 257}}]}),
    ("embeds", {"embeds": [{"description": "d" * 4000}, {"description": "e" * 2001}]}),
    ("components", {"content": "x", "components": rows(*[[f"b{i}"] for i in range(6)])}),
    ("components.0.components", {"content": "x", "components": rows([f"b{i}" for i in range(6)])}),
    (
        "components.0.components.0.label",
        {
            "content": "x",
            "components": [
                {"type": 1, "components": [{**rows(["b"])[0]["components"][0], "label": "L" * 81}]}
            ],
        },
    ),
    ("components.0.components.0.custom_id", {"content": "x", "components": rows(["c" * 101])}),
    ("components.1.components.0.custom_id", {"content": "x", "components": rows(["same"], ["same"])}),
    (
        "components.0.components.0.custom_id",
        {
            "content": "x",
            "components": [
                {
                    "type": 1,
                    "components": [
                        {"type": 2, "style": 5, "label": "l", "url": "https://x.io", "custom_id": "c"}
                    ],
                }
            ],
        },
    ),
]

# Every limit reached, none passed: 256 + 4096 + 1648 = 6000 characters, 5 rows of 5 buttons.
AT_THE_LIMITS = {
    "embeds": [{"title": "t" * 256, "description": "d" * 4096, "footer": {"text": "f" * 1648}}],
    "components": rows(*[[f"{r}{c}".ljust(100, "x")[:100] for c in range(5)] for r in range(5)]),
}


async def post(fake: FakeDiscord, path: str, body: dict[str, Any], method: str = "POST") -> tuple[int, Any]:
    """A raw request with the bot's token: the status and the body Discord would answer."""
    headers = {"Authorization": "Bot fake-token"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.request(method, f"{fake.api_url}{path}", json=body) as response:
            return response.status, (await response.json() if response.status != 204 else None)


def refusal(answer: tuple[int, Any]) -> list[str]:
    """The paths of a 400 / 50035 refusal (fails on any other answer)."""
    status, body = answer
    assert status == 400 and body["code"] == 50035 and body["message"] == "Invalid Form Body", answer
    return error_paths(body["errors"])


@pytest.mark.parametrize(("path", "body"), REFUSED_MESSAGES, ids=[p for p, _ in REFUSED_MESSAGES])
async def test_messages_real_discord_refuses_get_its_400(
    fake: FakeDiscord, path: str, body: dict[str, Any]
) -> None:
    assert refusal(await post(fake, f"/channels/{fake.general_id}/messages", body)) == [path]
    assert fake.messages[fake.general_id] == []


async def test_a_message_at_every_limit_is_taken_and_edits_are_held_to_them_too(fake: FakeDiscord) -> None:
    status, sent = await post(fake, f"/channels/{fake.general_id}/messages", AT_THE_LIMITS)
    assert status == 200 and len(sent["components"]) == 5
    edit = {"embeds": [{"title": "t" * 256, "description": "d" * 4096, "footer": {"text": "f" * 1649}}]}
    path = f"/channels/{fake.general_id}/messages/{sent['id']}"
    assert refusal(await post(fake, path, edit, "PATCH")) == ["embeds"]
    assert fake.message(int(sent["id"]))["embeds"][0]["footer"]["text"] == "f" * 1648


async def test_the_real_client_gets_the_refusal_as_an_http_exception(fake: FakeDiscord) -> None:
    client = Bot()
    async with running(fake, client):
        channel = client.get_channel(fake.general_id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as refused:
            await channel.send(embed=discord.Embed(title="t" * 257))
    assert (refused.value.status, refused.value.code) == (400, 50035)
    assert fake.messages[fake.general_id] == []


class Answerer(discord.Client):
    """Answers each interaction with the raw callback body the test queued, and keeps Discord's answer."""

    def __init__(self, fake: FakeDiscord) -> None:
        super().__init__(intents=discord.Intents.default())
        self.fake = fake
        self.bodies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.answers: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        body = await self.bodies.get()
        path = f"/interactions/{interaction.id}/{interaction.token}/callback"
        await self.answers.put(await post(self.fake, path, body))


def modal(title: str = "Form", **text_input: Any) -> dict[str, Any]:
    field = {"type": 4, "custom_id": "reason", "style": 2, **text_input}
    return {
        "type": 9,
        "data": {
            "custom_id": "form",
            "title": title,
            "components": [{"type": 18, "label": "Reason", "component": field}],
        },
    }


REFUSED_CALLBACKS: list[tuple[str, str, dict[str, Any]]] = [
    ("autocomplete", "data.choices", {"type": 8, "data": {"choices": [{"name": "n", "value": "v"}] * 26}}),
    (
        "autocomplete",
        "data.choices.0.name",
        {"type": 8, "data": {"choices": [{"name": "n" * 101, "value": "v"}]}},
    ),
    (
        "autocomplete",
        "data.choices.0.value",
        {"type": 8, "data": {"choices": [{"name": "n", "value": "v" * 101}]}},
    ),
    ("slash", "data.title", modal("T" * 46)),
    ("slash", "data.components.0.component.max_length", modal(max_length=4001)),
    (
        "slash",
        "data.components.0.label",
        {
            "type": 9,
            "data": {
                **modal()["data"],
                "components": [{**modal()["data"]["components"][0], "label": "L" * 46}],
            },
        },
    ),
    (
        "slash",
        "data.components.0.components.0.label",
        {
            "type": 9,
            "data": {
                "custom_id": "form",
                "title": "Form",
                "components": [
                    {"type": 1, "components": [{"type": 4, "custom_id": "r", "style": 1, "label": "L" * 46}]}
                ],
            },
        },
    ),
    ("slash", "embeds.0.description", {"type": 4, "data": {"embeds": [{"description": "d" * 4097}]}}),
    (
        "click",
        "components.0.components",
        {"type": 7, "data": {"components": rows([f"b{i}" for i in range(6)])}},
    ),
]


@pytest.mark.parametrize(
    ("kind", "path", "body"), REFUSED_CALLBACKS, ids=[f"{k}-{p}" for k, p, _ in REFUSED_CALLBACKS]
)
async def test_interaction_answers_real_discord_refuses_get_its_400(
    fake: FakeDiscord, kind: str, path: str, body: dict[str, Any]
) -> None:
    """Autocomplete choices, modals, messages and message updates, each past one limit: refused,
    and the interaction is still unanswered (an answer within the limits is then taken)."""
    client = Answerer(fake)
    async with running(fake, client):
        message = await fake.add_message(fake.general_id, "x", components=rows(["b"]))
        await client.bodies.put(body)
        if kind == "autocomplete":
            iid = await fake.autocomplete("problem", {"name": ""}, focused="name")
        elif kind == "click":
            iid = await fake.click(message, "b")
        else:
            iid = await fake.slash("problem", {"name": "x"})
        assert refusal(await asyncio.wait_for(client.answers.get(), 5)) == [path]
        assert iid not in fake.callbacks
        await client.bodies.put({"type": 8, "data": {"choices": []}} if kind == "autocomplete" else modal())
        await fake.replay(iid)
        assert (await asyncio.wait_for(client.answers.get(), 5))[0] in (200, 204)
