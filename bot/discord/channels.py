"""Whether copbot can do its work in the channels ``/setup`` names, said to the admin who runs it.

Discord lets an admin pick any text or announcement channel, also one copbot cannot see or post
in (a private channel it was not added to, one that denies its role a permission). Discord
refuses the posts there only later, and only the log said so: submissions waited unposted and
reminders waited, while ``/setup`` answered "Settings saved.". So ``/setup`` (show and set) reads
copbot's permissions in each channel from discord.py's cache of the server (its channels, roles
and overwrites and copbot's own member, all sent with the GUILDS intent) and lists what is
missing. A server in an outage (cached as unavailable) is not checked: nothing is said then. A
server the gateway never sent copbot (it added copbot's commands without its bot user, which
then can post nowhere there) is said to be so, with the invite that adds the bot.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import discord

from bot.discord.client import invite_url
from commands.submissions import ATTENTION
from commands.timefmt import days
from commands.types import Reply, Section
from storage.store import Store

TITLE = ATTENTION
_SEE, _SEND, _EMBED = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
)
# Each channel's job, what waits while copbot cannot do it, and the permissions it takes there
# (docs/discord.md): posts are embeds; ✅ and ❌ go under a moderator post.
_MODERATOR = (
    "moderator channel",
    "submissions wait there unposted",
    (
        _SEE,
        _SEND,
        _EMBED,
        ("read_message_history", "Read Message History"),
        ("add_reactions", "Add Reactions"),
    ),
)
# What copbot's posts lack without a permission they are posted without: embeds become plain text
# (bot.discord.outbound); ✅ and ❌ under a moderator post need both of the others.
_NO_REACTIONS = "without ✅ and ❌ to react with (their Approve and Reject with reason buttons still decide)"
_LACKING = {
    _EMBED[1]: "as plain text",
    "Read Message History": _NO_REACTIONS,
    "Add Reactions": _NO_REACTIONS,
}
_REMINDER = ("reminder channel", "reminders for members with closed DMs wait", (_SEE, _SEND, _EMBED))


def trouble(
    guild: discord.Guild,
    channel_id: str | None,
    job: tuple[str, str, tuple[tuple[str, str], ...]],
    grace: str = "",
) -> str | None:
    """What keeps copbot from doing ``job`` in the channel, or None when nothing does (or when
    the cache cannot tell); ``grace``: STALE_GRACE_DAYS, in words."""
    what, waits, needs = job
    me = guild.me
    if not channel_id or not channel_id.isdigit() or guild.unavailable or me is None:
        return None
    channel = guild.get_channel_or_thread(int(channel_id))
    if channel is None:
        unseen = f"copbot cannot see the {what} (it was deleted, or copbot's role lacks View Channel there)"
        if job is _REMINDER:  # a deleted one is no channel: nothing waits (bot.reminders, CHANNEL_GONE)
            return (
                f"{unseen}. Deleted, it reminds no one, so a member whose DMs are closed cannot be "
                f"reminded: their claim's history says so, and the claim expires {grace} after the "
                "reminder was due, at the end of that day (UTC). Without View Channel, their reminders "
                f"wait. Give copbot access, or /setup set another {what}."
            )
        return f"{unseen}, so {waits}: give copbot access, or /setup set another {what}."
    granted = channel.permissions_for(me)
    missing = [label for flag, label in needs if not getattr(granted, flag)]
    if not missing:
        return None
    if _SEE[1] not in missing and _SEND[1] not in missing:  # posts still go, only lacking something
        lacking = " and ".join(dict.fromkeys(_LACKING[label] for label in missing))
        these = missing[0] if len(missing) == 1 else "these"
        return (
            f"copbot lacks {', '.join(missing)} in the {what} #{channel.name}, so its posts there "
            f"come {lacking}: give copbot's role {these} in the channel's permissions."
        )
    return (
        f"copbot lacks {', '.join(missing)} in the {what} #{channel.name}, so {waits}: give "
        "copbot's role these in the channel's permissions."
    )


# The channels /setup may name (copbot posts messages there; Discord's picker offers only these),
# and what to call the others in a refusal.
_POSTABLE = (discord.ChannelType.text, discord.ChannelType.news)
_KINDS = {
    discord.ChannelType.category: "a category",
    discord.ChannelType.voice: "a voice channel",
    discord.ChannelType.stage_voice: "a stage channel",
    discord.ChannelType.forum: "a forum",
    discord.ChannelType.media: "a media channel",
    discord.ChannelType.public_thread: "a thread",
    discord.ChannelType.private_thread: "a thread",
    discord.ChannelType.news_thread: "a thread",
}


def setup_refusal(interaction: discord.Interaction[Any]) -> str | None:
    """Why ``/setup set`` cannot take the channel or role it names, or None when it can.

    Discord offers every role, also @everyone (which no member's role ids list, so it made no
    one a moderator while /setup showed it saved) and roles an integration manages (a bot's own,
    the booster or a subscription role), which an admin cannot give to moderators. Its channel
    picker offers text and announcement channels only, but another client may send any channel
    (a category, a forum), where copbot's posts could never go."""
    namespace = interaction.namespace
    for option in ("moderator_channel", "reminder_channel"):
        channel = getattr(namespace, option, None)
        kind = getattr(channel, "type", None)
        if isinstance(kind, discord.ChannelType) and kind not in _POSTABLE:
            return (
                f"#{getattr(channel, 'name', '')} is {_KINDS.get(kind, 'not a text channel')}, not a text or "
                "announcement channel: pick one of those (copbot posts its messages there). Nothing changed."
            )
    role = getattr(namespace, "moderator_role", None)
    if not isinstance(role, discord.Role):
        return None
    if role.id == interaction.guild_id:
        return (
            "@everyone cannot be the moderator role: pick a role you give to moderators (members "
            "with Manage Messages moderate without one). Nothing changed."
        )
    if role.managed:
        return (
            f"@{role.name} is managed by an integration (a bot's own role, the booster or a "
            "subscription role), so you cannot give it to moderators: pick a role you hand out. "
            "Nothing changed."
        )
    return None


def hidden_from_members(guild: discord.Guild, channel_id: str | None, grace: str) -> str | None:
    """What is wrong with a reminder channel that copbot can use but @everyone may not see (a
    moderators' channel): Discord does not notify a mention in a channel its member cannot see,
    so a reminder there reaches only members whose roles open it. None when @everyone sees it, or
    sees no channel by itself (a server that opens its channels by a role), or the cache cannot
    tell."""
    if not channel_id or not channel_id.isdigit() or guild.unavailable:
        return None
    channel = guild.get_channel_or_thread(int(channel_id))
    everyone = guild.default_role
    if channel is None or not everyone.permissions.view_channel:
        return None
    if channel.permissions_for(everyone).view_channel:
        return None
    return (
        f"Members cannot see the reminder channel #{channel.name} (it is hidden from @everyone): a "
        "member reminded there is not even notified unless a role of theirs opens the channel, and "
        f"their claim expires {grace} after the reminder all the same, at the end of that day (UTC). "
        "Pick a channel your members can read, or open this one to them."
    )


def role_trouble(guild: discord.Guild, role_id: str | None) -> str | None:
    """What is wrong with the moderator role /setup chose: None unless it no longer exists
    (deleted since), or when the cache cannot tell."""
    if not role_id or not role_id.isdigit() or guild.unavailable or guild.me is None:
        return None
    if guild.get_role(int(role_id)) is not None:
        return None
    return (
        "The moderator role no longer exists (it was deleted), so only members with Manage Messages "
        "or Administrator moderate: /setup set another moderator_role, or reset:moderator_role."
    )


def not_a_member(application_id: int) -> str:
    """What /setup says in a server that added only copbot's commands: no bot user is there."""
    return (
        "copbot's bot user is not in this server (it was added with its commands only, without the "
        "bot scope), so it can post in no channel here and sees no reaction: submissions wait "
        "unposted, a reminder cannot fall back to the reminder channel, and ✅ / ❌ decide nothing. "
        f"Add the bot with this invite: {invite_url(application_id)}"
    )


async def with_warnings(
    store: Store,
    guild: discord.Guild | None,
    guild_id: int,
    reply: Reply,
    grace_days: int,
    application_id: int | None = None,
) -> Reply:
    """``reply`` (what /setup answered) with a section on each channel copbot cannot use as it
    must, and on a moderator role that is gone; ``grace_days``: STALE_GRACE_DAYS. ``guild`` is
    the server as the gateway sent it to copbot's bot user: None, the server added copbot's
    commands alone (``application_id`` names the app to invite), so nothing there can be checked
    but that."""
    if reply.error:
        return reply
    if guild is None:
        lines = [not_a_member(application_id)] if application_id is not None else []
    else:
        row = await store.get_settings("discord", str(guild_id))
        if row is None:
            return reply
        lines = [
            line
            for line in (
                trouble(guild, row.moderator_channel_id, _MODERATOR),
                trouble(guild, row.reminder_channel_id, _REMINDER, days(grace_days))
                or hidden_from_members(guild, row.reminder_channel_id, days(grace_days)),
                role_trouble(guild, row.moderator_role_id),
            )
            if line
        ]
    if not lines:
        return reply
    # One section: the core's own (moderator posts Discord refused) follows what the cache tells.
    others = tuple(section for section in reply.sections if section.title != TITLE)
    told = tuple(line for section in reply.sections if section.title == TITLE for line in section.lines)
    return dataclasses.replace(reply, sections=(*others, Section(TITLE, (*lines, *told))))
