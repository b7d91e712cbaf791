"""/setup on Discord, through the real discord.py client and the fake Discord, on SQLite and
PostgreSQL: unsetting the moderator channel, the moderator role and the reminder channel, and what
happens downstream without them (submissions, moderators, reminders).

Moderation and the sweep are wired as ``copbot run`` wires them (``make_moderation``,
``make_sweeper``); the clock moves, nothing sleeps.
"""

from __future__ import annotations

from typing import Any

from bot.discord.frontend import DiscordFrontEnd
from commands.types import Context
from storage import submissions
from storage.models import LinkStatus
from tests.bot.discord.discord_rig import ask, embed, literal, moderated, text_of
from tests.fakes.discord_api import Callback, FakeDiscord
from tests.support.clock import FakeClock
from tests.support.transcript import NOT_ADMIN

LINK = "https://example.org/acronyms"
OTHER = "https://example.org/other"
THIRD = "https://example.org/third"


async def setup_set(fake: FakeDiscord, **options: Any) -> Callback:
    """The owner's ``/setup set`` with ``options``."""
    return await ask(fake, "setup set", options, user_id=fake.owner_id)


def said(answer: Callback) -> str:
    """The answer's text as the admin reads it (escapes read, the zero-width space that keeps an
    @everyone from pinging unseen)."""
    return literal(embed(answer)["description"]).replace("\u200b", "")


def fields(answer: Callback) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed(answer)["fields"]}


async def test_reset_offers_the_channels_and_the_role_and_a_cleared_role_moderates_no_more(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """The moderator role was deleted, or the admins want moderation back to Manage Messages: reset
    offers moderator_role (and both channels) beside stale_days and max_claims, the answer says
    who moderates now, Carol (a moderator by the role only) is refused /pending at once, and Bob
    (Manage Messages) is not. A member cannot reset anything."""
    reviewers = fake.add_role("Reviewers")
    carol = fake.add_member("carol", roles=[reviewers])
    async with moderated(fake, ctx, db_url):
        synced = {c["name"]: c for c in fake.app_commands[fake.guild_id]}
        reset = next(o for o in synced["setup"]["options"][1]["options"] if o["name"] == "reset")
        assert [c["value"] for c in reset["choices"]] == [
            "moderator_channel",
            "moderator_role",
            "reminder_channel",
            "stale_days",
            "max_claims",
        ]
        await setup_set(fake, moderator_role=reviewers)
        assert (
            embed(await ask(fake, "pending", user_id=carol))["description"] != "/pending is for moderators."
        )

        refused = await ask(fake, "setup set", {"reset": "moderator_role"}, user_id=fake.alice_id)
        assert embed(refused)["description"] == NOT_ADMIN
        cleared = await setup_set(fake, reset="moderator_role")
        assert cleared.ephemeral
        assert embed(cleared)["description"] == (
            "Settings saved. The moderator role is cleared: only members with Manage Messages or "
            "Administrator moderate submissions now."
        )
        assert fields(cleared)["Moderator role"] == "not set"

        assert (
            embed(await ask(fake, "pending", user_id=carol))["description"] == "/pending is for moderators."
        )
        by_permission = await ask(fake, "pending", user_id=fake.bob_id)
        assert embed(by_permission)["description"] != "/pending is for moderators."
        again = await setup_set(fake, reset="moderator_role")
        assert embed(again)["description"] == "No moderator role was set: nothing to clear."


async def test_a_cleared_moderator_channel_keeps_every_submission_and_a_new_one_takes_them_all(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """#mods is archived: the admin clears the moderator channel. The submissions already posted
    there stay pending, and a reaction on such a post still decides; a new /submit says its link
    waits unposted and that moderators see it in /pending, which lists it; sweeps post nothing
    anywhere. Once #mods2 is set, the new one is posted there and the pending old post moves
    there (the decided one stays), and a reaction on the new post decides."""
    mods = fake.add_channel("mods")
    async with moderated(fake, ctx, db_url) as rig:
        await setup_set(fake, moderator_channel=mods)
        for link in (LINK, THIRD):
            sent = await ask(fake, "submit", {"number": "2.4", "link": link})
            assert "went to the moderators" in embed(sent)["description"]
        old_post, decided_post = fake.messages[mods]
        await rig.settle(4)

        cleared = await setup_set(fake, reset="moderator_channel")
        assert embed(cleared)["description"] == (
            "Settings saved. The moderator channel is cleared: new submissions wait, unposted, until one "
            "is set again with /setup; moderators find them in /pending and can decide them there. Those "
            "already posted stay in the old channel until then, and move to the new one."
        )
        assert fields(cleared)["Moderator channel"] == "not set"
        await rig.react(decided_post, "❌", fake.bob_id)

        second = await ask(fake, "submit", {"number": "2.4", "link": OTHER}, user_id=fake.bob_id)
        assert second.ephemeral and embed(second)["description"] == (
            "Thanks! Your link for 2.4 is saved, but no moderator channel is set: it stays pending "
            "(moderators see it in /pending) and is posted for them as soon as one is set."
        )
        await rig.sweeper.run_once()
        assert [m["id"] for m in fake.messages[mods]] == [old_post["id"], decided_post["id"]]
        pending = text_of((await ask(fake, "pending", user_id=fake.bob_id)).data or {})
        assert f"/{mods}/{old_post['id']})" in pending and THIRD not in pending
        assert f"{OTHER} from Bob" in pending and "not posted yet" in pending

        mods2 = fake.add_channel("mods2")
        handled = rig.bot.reactions_handled
        await setup_set(fake, moderator_channel=mods2)
        await rig.settle(handled + 4)  # the bot's own ✅ ❌ under both new posts
        moved = fake.message(int(old_post["id"]))
        assert moved["embeds"][0]["description"].startswith("Moved: the moderator channel changed")
        posted = fake.messages[mods2]
        assert sorted(p["embeds"][0]["fields"][1]["value"] for p in posted) == ["Alice", "Bob"]
        await rig.react(posted[0], "✅", fake.bob_id)
        links = [await submissions.get_link(ctx.store, i) for i in (1, 2, 3)]
        assert sorted(link.status for link in links if link) == [
            LinkStatus.APPROVED,
            LinkStatus.PENDING,
            LinkStatus.REJECTED,
        ]


async def test_a_cleared_reminder_channel_sends_reminders_by_dm_only(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """The reminder channel was deleted: /setup show says copbot cannot see it; the admin clears it
    and the warning goes. Bob's reminder comes by DM; Alice's DMs are closed, so nothing is posted
    in any channel and her claim's history says she could not be reached, and why."""
    reminders = fake.add_channel("reminders")
    async with moderated(fake, ctx, db_url) as rig:
        await setup_set(fake, reminder_channel=reminders)
        for user, number in ((fake.alice_id, "3.11"), (fake.bob_id, "2.4")):
            assert (
                "You claimed"
                in embed(await ask(fake, "claim", {"number": number}, user_id=user))["description"]
            )
        await fake.delete_channel(reminders)
        shown = text_of((await ask(fake, "setup show", user_id=fake.owner_id)).data or {})
        assert "copbot cannot see the reminder channel" in shown

        cleared = await setup_set(fake, reset="reminder_channel")
        assert embed(cleared)["description"] == (
            "Settings saved. The reminder channel is cleared: reminders go by DM only. A member whose DMs "
            "are closed cannot be reminded: their claim's history says so, and the claim expires 14 days "
            "after the reminder was due, at the end of that day (UTC)."
        )
        assert "Needs attention" not in text_of(cleared.data or {})
        fake.close_dms(fake.alice_id)
        clock.advance(days=31)

        report = await rig.sweeper.run_once()

        assert report.delivered == {"dm": 1, "unreachable": 1}
        assert len(fake.dms[fake.bob_id]) == 1
        posts = [
            m for c in fake.channels for m in fake.messages.get(c, []) if not m.get("interaction_metadata")
        ]
        assert posts == []
        history = text_of((await ask(fake, "history", {"number": "3.11"}, user_id=fake.bob_id)).data or {})
        assert "Alice could not be reached: no DM and no reminder channel" in history


async def test_setup_says_a_deleted_reminder_channel_reminds_no_one_rather_than_that_they_wait(
    fake: FakeDiscord, ctx: Context, db_url: str, clock: FakeClock
) -> None:
    """The reminder channel was deleted: /setup show said reminders for members with closed DMs
    "wait" (till the admin mends it), but none waits: at the sweep Alice (DMs closed) is marked not
    reachable and her claim's grace runs. It now says so, with the grace, beside what a missing
    View Channel (where they do wait) means."""
    reminders = fake.add_channel("reminders")
    async with moderated(fake, ctx, db_url) as rig:
        await setup_set(fake, reminder_channel=reminders)
        assert "You claimed" in embed(await ask(fake, "claim", {"number": "3.11"}))["description"]
        await fake.delete_channel(reminders)
        shown = literal(text_of((await ask(fake, "setup show", user_id=fake.owner_id)).data or {}))
        assert (
            "copbot cannot see the reminder channel (it was deleted, or copbot's role lacks View Channel "
            "there). Deleted, it reminds no one, so a member whose DMs are closed cannot be reminded: "
            "their claim's history says so, and the claim expires 14 days after the reminder was due, at "
            "the end of that day (UTC). Without View Channel, their reminders wait. Give copbot access, "
            "or /setup set another reminder channel."
        ) in shown, shown
        fake.close_dms(fake.alice_id)
        clock.advance(days=31)

        assert (await rig.sweeper.run_once()).delivered == {"unreachable": 1}
        history = text_of((await ask(fake, "history", {"number": "3.11"}, user_id=fake.bob_id)).data or {})
        assert "Alice could not be reached: no DM, and the reminder channel is gone" in history


async def test_setup_says_members_cannot_read_a_reminder_channel_hidden_from_everyone(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """The admin picked #mods (hidden from @everyone, open to copbot) as the reminder channel: a
    member with closed DMs is "reminded" there, in a channel they cannot see, so Discord does not
    even notify them, and the claim expires all the same. /setup said "Settings saved." and
    nothing else; now it says so under Needs attention. A channel members can read is quiet."""
    hidden = [
        {"id": fake.guild_id, "type": 0, "deny": ["view_channel"]},
        {"id": fake.bot_role_id, "type": 0, "allow": ["view_channel"]},
    ]
    mods = fake.add_channel("mods", overwrites=hidden)
    copbot = fake.add_channel("copbot")
    warning = (
        "Members cannot see the reminder channel #mods (it is hidden from @everyone): a member "
        "reminded there is not even notified unless a role of theirs opens the channel, and their "
        "claim expires 14 days after the reminder all the same, at the end of that day (UTC). Pick a "
        "channel your members can read, or open this one to them."
    )
    async with moderated(fake, ctx, db_url):
        saved = literal(text_of((await setup_set(fake, reminder_channel=mods)).data or {}))
        assert warning in saved.replace("\u200b", ""), saved
        fixed = await setup_set(fake, reminder_channel=copbot)
        assert "Needs attention" not in text_of(fixed.data or {})


async def test_everyone_or_a_role_an_integration_manages_cannot_be_the_moderator_role(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """Discord's role picker offers @everyone and the roles integrations manage. @everyone was saved
    and shown as the moderator role but made no one a moderator (no member's role ids list it);
    copbot's own role or the booster role cannot be given to moderators. Each is refused with
    what to pick instead, and the role set before stays."""
    reviewers = fake.add_role("Reviewers")
    boosters = fake.add_role("Server Booster")
    fake.roles[boosters]["managed"] = True
    fake.roles[boosters]["tags"] = {"premium_subscriber": None}
    await setup_set(fake, moderator_role=reviewers)

    everyone = await setup_set(fake, moderator_role=fake.guild_id)
    assert everyone.ephemeral and said(everyone) == (
        "@everyone cannot be the moderator role: pick a role you give to moderators (members with "
        "Manage Messages moderate without one). Nothing changed."
    )
    for managed, name in (
        (fake.bot_role_id, fake.roles[fake.bot_role_id]["name"]),
        (boosters, "Server Booster"),
    ):
        refused = await setup_set(fake, moderator_role=managed, stale_days=20)
        assert said(refused) == (
            f"@{name} is managed by an integration (a bot's own role, the booster or a subscription "
            "role), so you cannot give it to moderators: pick a role you hand out. Nothing changed."
        )
    shown = fields(await ask(fake, "setup show", user_id=fake.owner_id))
    assert shown["Moderator role"] == f"<@&{reviewers}>" and shown["Stale after"] == "30 days (default)"
    row = await bot.ctx.store.get_settings("discord", str(fake.guild_id))
    assert row is not None and row.moderator_role_id == str(reviewers)


async def test_setup_show_says_the_moderator_role_was_deleted(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """The moderator role was deleted in Discord: /setup show still listed it as if it counted
    (Discord shows it as @deleted-role) and said nothing. Now it says, under Needs attention, that
    only Manage Messages moderate and how to mend it; reset:moderator_role clears the warning."""
    reviewers = fake.add_role("Reviewers")
    async with moderated(fake, ctx, db_url):
        await setup_set(fake, moderator_role=reviewers)
        assert "Needs attention" not in text_of(
            (await ask(fake, "setup show", user_id=fake.owner_id)).data or {}
        )
        await fake.delete_role(reviewers)

        shown = literal(text_of((await ask(fake, "setup show", user_id=fake.owner_id)).data or {}))
        assert "Needs attention" in shown
        assert (
            "The moderator role no longer exists (it was deleted), so only members with Manage Messages "
            "or Administrator moderate: /setup set another moderator_role, or reset:moderator_role."
        ) in shown
        cleared = await setup_set(fake, reset="moderator_role")
        assert said(cleared).startswith("Settings saved. The moderator role is cleared")
        assert "Needs attention" not in text_of(cleared.data or {})


async def test_a_channel_that_is_not_a_text_channel_is_refused(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """Discord's picker offers text and announcement channels only, but another client may send
    any channel: a category, a voice channel or a forum was saved as the moderator or reminder
    channel, where copbot's posts cannot go or nobody looks. Each is refused, naming the channel
    and what to pick, and nothing changes."""
    mods = fake.add_channel("mods")
    await setup_set(fake, moderator_channel=mods)
    for name, kind, shown in (
        ("Projects", 4, "a category"),
        ("Lobby", 2, "a voice channel"),
        ("ideas", 15, "a forum"),
    ):
        other = fake.add_channel(name, type=kind)
        for option in ("moderator_channel", "reminder_channel"):
            refused = await setup_set(fake, **{option: other, "stale_days": 20})
            assert refused.ephemeral and said(refused) == (
                f"#{name} is {shown}, not a text or announcement channel: pick one of those (copbot "
                "posts its messages there). Nothing changed."
            ), option
    shown_now = fields(await ask(fake, "setup show", user_id=fake.owner_id))
    assert shown_now["Moderator channel"] == f"<#{mods}>" and shown_now["Reminder channel"] == "not set"
    assert shown_now["Stale after"] == "30 days (default)"


async def test_a_member_without_admin_rights_is_told_so_before_anything_about_the_role(
    fake: FakeDiscord, bot: DiscordFrontEnd
) -> None:
    """A member who may not use /setup (Alice, no Manage Server; the command can be opened to her
    under Server Settings → Integrations) naming @everyone or a category was told how to pick a
    better role or channel, as if /setup would take her next choice, and only then, when she
    did, that she needs admin rights. She is told that at once."""
    category = fake.add_channel("archive", type=4)
    for options in ({"moderator_role": fake.guild_id}, {"reminder_channel": category}):
        refused = await ask(fake, "setup set", options, user_id=fake.alice_id)
        assert embed(refused)["description"] == NOT_ADMIN, options


async def test_setup_says_copbot_is_not_in_a_server_that_added_only_its_commands(
    fake: FakeDiscord, ctx: Context, db_url: str
) -> None:
    """The server added copbot with the applications.commands scope alone (the portal's URL
    generator without ``bot``): its slash commands work, but no bot user is in the server, so
    copbot can post in no channel there, see no reaction and check no permission. /setup said
    "Settings saved." and nothing else, and the admin learnt it only when submissions never
    showed up. It now says so under Needs attention, with the invite URL that adds the bot."""
    fake.bot_in_guild = False
    fake.members.pop(fake.bot_user_id)
    mods = fake.add_channel("mods")
    reviewers = fake.add_role("Reviewers")
    async with moderated(fake, ctx, db_url):
        saved = await setup_set(fake, moderator_channel=mods, moderator_role=reviewers)
        shown = literal(text_of(saved.data or {})).replace("\u200b", "")
        assert said(saved) == "Settings saved."
        assert "Needs attention" in shown, shown
        assert "copbot's bot user is not in this server" in shown, shown
        assert f"client_id={fake.application_id}" in shown and "scope=bot+applications.commands" in shown
        # Not what a server copbot is in would mean: the channel and the role are there.
        assert "it was deleted" not in shown and "no longer exists" not in shown, shown
        again = literal(text_of((await ask(fake, "setup show", user_id=fake.owner_id)).data or {}))
        assert "copbot's bot user is not in this server" in again.replace("\u200b", "")
