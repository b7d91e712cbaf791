"""Where copbot is used on Discord: servers it has not cached, threads, and the channels /setup
names. Through the real client on the fake Discord, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from commands.types import Context
from tests.bot.discord.discord_rig import ask, buttons, embed, moderated, text_of
from tests.fakes.discord_api import Callback, FakeDiscord
from tests.support.clock import FakeClock
from tests.support.discord_guilds import OtherGuild, guild_id_on_shard


async def other_guild_says(other: OtherGuild, name: str, options: dict[str, Any], user_id: int) -> Callback:
    return await other.fake.wait_for_callback(await other.slash(name, options, user_id=user_id))


async def test_a_moderator_by_role_is_one_in_a_server_copbot_has_not_cached(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """A server in an outage (or not yet in after a connect) is not in discord.py's cache, but its
    interactions still come, each with the member's role ids: Carol, a moderator by the /setup role
    only, sees /pending there, and Alice, without the role, is still refused."""
    reviewers = fake.add_role("Reviewers")
    carol = fake.add_member("carol", roles=[reviewers])
    other = OtherGuild(fake, guild_id_on_shard(0, 1), fake.general_id)
    async with moderated(fake, ctx, db_url, discord_guild_id=None):
        saved = await other_guild_says(other, "setup set", {"moderator_role": reviewers}, fake.owner_id)
        assert embed(saved)["description"] == "Settings saved.", embed(saved)
        sent = await other_guild_says(
            other, "submit", {"number": "2.4", "link": "https://example.org/acronyms"}, fake.alice_id
        )
        assert "no moderator channel is set:" in embed(sent)["description"], embed(sent)

        pending = text_of((await other_guild_says(other, "pending", {}, carol)).data or {})
        assert "/pending is for moderators." not in pending
        assert "2.4" in pending and "example.org/acronyms" in pending, pending
        refused = embed(await other_guild_says(other, "pending", {}, fake.alice_id))
        assert refused["description"] == "/pending is for moderators."

        # Nor does /setup take the channels of a server it has not cached for deleted ones.
        reminders = {"reminder_channel": fake.general_id}
        saved = text_of((await other_guild_says(other, "setup set", reminders, fake.owner_id)).data or {})
        assert "Settings saved." in saved and "Needs attention" not in saved, saved


# What a submitter reads when copbot may not post in the moderator channel, or it is gone.
BLOCKED = (
    "Thanks! Your link for 2.4 is saved and pending, but I may not post in the moderators' channel "
    "(it is gone, or I lack a permission there): please tell an admin. It goes to the moderators "
    "as soon as I can post there."
)


async def test_a_post_discord_refuses_for_a_while_is_promised_shortly(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """A moderator post Discord refuses for its own reasons (a rate limit past discord.py's
    retries) is not the admin's to mend: the submitter is told it follows shortly."""
    mods = fake.add_channel("mods")
    async with moderated(fake, ctx, db_url):
        await setup_says(fake, "setup set", {"moderator_channel": mods})
        fake.rate_limit("POST", f"/channels/{mods}/messages", times=5, retry_after=0.01)
        sent = embed(await ask(fake, "submit", {"number": "2.4", "link": "https://example.org/acronyms"}))
        assert (
            "I could not reach the moderators' channel just now and will post it there shortly"
            in (sent["description"])
        ), sent


async def processed(fake: FakeDiscord) -> None:
    """Return once copbot has handled every gateway event sent so far."""
    for conn in fake.connections:
        if not conn.closed and conn.ready:
            await conn.barrier()


async def setup_says(fake: FakeDiscord, command: str, options: dict[str, Any] | None = None) -> str:
    """What the owner reads in the answer to ``/setup show`` or ``/setup set``."""
    answer = await ask(fake, command, options, user_id=fake.owner_id)
    assert answer.ephemeral
    return text_of(answer.data or {})


async def test_setup_says_which_channel_copbot_cannot_use_and_what_waits_till_it_can(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """Discord lets an admin pick a channel that denies copbot what it needs there: /setup set
    saves it and says, in the same answer, what copbot lacks in which channel and what waits
    meanwhile; /submit keeps the link. Once the admin gives copbot the permissions, /setup show
    posts what waited (it need not wait for the hour a refused channel waits) and says nothing
    more; the next sweep posts nothing again."""
    mods = fake.add_channel(
        "mods", overwrites=[{"id": fake.bot_role_id, "type": 0, "deny": ["send_messages", "add_reactions"]}]
    )
    # Hidden from copbot's role (one hidden from @everyone would also be hidden from members).
    hidden = {"id": fake.bot_role_id, "type": 0, "deny": ["view_channel"]}
    reminders = fake.add_channel("reminders", overwrites=[hidden])
    async with moderated(fake, ctx, db_url) as rig:
        saved = await setup_says(
            fake, "setup set", {"moderator_channel": mods, "reminder_channel": reminders}
        )
        assert "Settings saved." in saved
        assert "Needs attention" in saved, saved
        assert (
            # Embed Links too: without Send Messages Discord denies it as well
            "copbot lacks Send Messages, Embed Links, Add Reactions in the moderator channel #mods, so "
            "submissions wait there unposted: give copbot's role these in the channel's permissions."
        ) in saved, saved
        assert (
            "copbot lacks View Channel, Send Messages, Embed Links in the reminder channel #reminders, "
            "so reminders for members with closed DMs wait"
        ) in saved, saved
        assert "Needs attention" in await setup_says(fake, "setup show")

        sent = embed(await ask(fake, "submit", {"number": "2.4", "link": "https://example.org/acronyms"}))
        assert sent["description"] == BLOCKED, sent
        assert fake.messages[mods] == []

        await fake.set_overwrites(mods, [])
        await fake.set_overwrites(reminders, [])
        await processed(fake)
        shown = await setup_says(fake, "setup show")
        assert "Current settings." in shown and "Needs attention" not in shown, shown

        await rig.sweeper.run_once()
        (post,) = fake.messages[mods]
        assert post["embeds"][0]["title"] == "Submission for 2.4"


async def test_setup_show_says_the_moderator_channel_is_gone(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """The moderator channel set with /setup was deleted since: /setup show says copbot cannot see
    it and that submissions wait, instead of showing it as if all were well."""
    mods = fake.add_channel("mods")
    async with moderated(fake, ctx, db_url):
        saved = await setup_says(fake, "setup set", {"moderator_channel": mods})
        assert "Needs attention" not in saved, saved
        await fake.delete_channel(mods)
        await processed(fake)
        sent = embed(await ask(fake, "submit", {"number": "2.4", "link": "https://example.org/acronyms"}))
        assert sent["description"] == BLOCKED, sent
        shown = await setup_says(fake, "setup show")
        assert (
            "copbot cannot see the moderator channel (it was deleted, or copbot's role lacks View "
            "Channel there), so submissions wait there unposted: give copbot access, or /setup set "
            "another moderator channel."
        ) in shown, shown


# A moderator channel denying copbot only permissions its posts can go without: what /setup says.
DEGRADED = {
    "embed_links": "copbot lacks Embed Links in the moderator channel #mods, so its posts there come "
    "as plain text: give copbot's role Embed Links in the channel's permissions.",
    "add_reactions read_message_history": "copbot lacks Read Message History, Add Reactions in the "
    "moderator channel #mods, so its posts there come without ✅ and ❌ to react with (their Approve "
    "and Reject with reason buttons still decide): give copbot's role these in the channel's "
    "permissions.",
}


@pytest.mark.parametrize("denied", list(DEGRADED))
async def test_setup_says_how_posts_come_in_a_channel_denying_only_what_they_can_go_without(
    fake: FakeDiscord, ctx: Context, db_url: str, denied: str
) -> None:
    """A moderator channel that denies copbot Embed Links alone, or Add Reactions and Read Message
    History: copbot still posts there (as plain text; without its ✅ and ❌, its buttons deciding),
    so /setup says that, not that submissions wait unposted (which it said where only the
    reactions were denied); the submission is posted."""
    overwrite = {"id": fake.bot_role_id, "type": 0, "deny": denied.split()}
    mods = fake.add_channel("mods", overwrites=[overwrite])
    async with moderated(fake, ctx, db_url):
        saved = await setup_says(fake, "setup set", {"moderator_channel": mods})
        assert DEGRADED[denied] in saved, saved
        assert "wait there unposted" not in saved, saved
        await ask(fake, "submit", {"number": "2.4", "link": "https://example.org/acronyms"})
        (post,) = fake.messages[mods]
        labels = [label for label, _ in buttons(post)]
        assert labels == ["Approve", "Reject with reason"], post
        if denied == "embed_links":
            assert "example.org/acronyms" in post["content"] and not post.get("embeds"), post
        else:
            assert not post.get("reactions") and post.get("embeds"), post


def add_place(fake: FakeDiscord, kind: str) -> int:
    """A channel of ``kind`` where members run commands: a thread, or a channel of another type."""
    if kind.endswith("thread"):
        return fake.add_thread("2.4 study group", fake.general_id, private=kind == "private thread")
    return fake.add_channel(kind, type={"announcement": 5, "voice": 2, "stage": 13}[kind])


@pytest.mark.parametrize("kind", ["public thread", "private thread", "announcement", "voice", "stage"])
async def test_commands_and_buttons_work_in_threads_and_other_channel_types(
    fake: FakeDiscord, ctx: Context, db_url: str, kind: str
) -> None:
    """In a thread (public or private, under #general), an announcement channel, or the text
    chat of a voice or stage channel, /problem answers there, and its Claim button, pressed
    there by another member, claims."""
    thread = add_place(fake, kind)
    async with moderated(fake, ctx, db_url):
        card = await ask(fake, "problem", {"number": "3.11"}, channel_id=thread)
        assert not card.ephemeral and card.message is not None
        assert card.message["channel_id"] == str(thread)
        claim = dict(buttons(card.message))["Claim"]
        pressed = await fake.wait_for_callback(await fake.click(card.message, claim, user_id=fake.bob_id))
        assert "You claimed 3.11" in text_of(pressed.data or {}), text_of(pressed.data or {})
        mine = text_of((await ask(fake, "claims", {}, user_id=fake.bob_id, channel_id=thread)).data or {})
        assert "3.11" in mine, mine
