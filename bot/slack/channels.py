"""Whether copbot can do its work in the channels its SLACK_* settings name, said as it starts.

An admin sets SLACK_MODERATOR_CHANNEL and SLACK_REMINDER_CHANNEL by id, and Slack says nothing
about them until copbot uses them: a public moderator channel copbot was not invited to takes
its posts (``chat:write.public``), but Slack sends copbot no ``reaction_added`` from it, so every
✅ / ❌ there decided nothing; a private channel it was not invited to (or a mistyped id) was
found out at the first post or reminder. So at start copbot asks ``conversations.info`` (the
manifest's ``channels:read`` / ``groups:read``) about each and warns, with what to do, about a
channel it cannot see, one that is archived, and a moderator channel it is not in. A check Slack
does not answer (a scope an older app lacks, an outage) says nothing: copbot starts as before.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.outbound import slack_error
from commands.timefmt import days

log = logging.getLogger("copbot.slack")

INVITE = "Type /invite @copbot in the channel"


async def channel_problems(client: AsyncWebClient, settings: Settings, grace_days: int) -> list[str]:
    """A warning for each configured channel copbot cannot use as it must; ``grace_days``:
    STALE_GRACE_DAYS."""
    jobs = (
        ("SLACK_MODERATOR_CHANNEL", settings.slack_moderator_channel, "submissions wait there unposted"),
        (
            "SLACK_REMINDER_CHANNEL",
            settings.slack_reminder_channel,
            "reminders for members who cannot get DMs wait until it can post there",
        ),
    )
    problems = []
    for name, channel_id, waits in jobs:
        if not channel_id:
            continue
        try:
            answer = await client.conversations_info(channel=channel_id)
        except SlackApiError as exc:
            if slack_error(exc) == "channel_not_found":
                problems.append(
                    f"{name}: Slack finds no channel {channel_id} for copbot (a private channel it was "
                    f"not invited to, or a wrong id), so {waits}. {INVITE}, or check the id."
                )
            else:  # missing_scope (an app made from an older manifest), an outage: not checked
                log.debug("could not check %s: %s", name, slack_error(exc) or exc)
            continue
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.debug("could not check %s: %s", name, exc)
            continue
        channel = answer.get("channel") or {}
        shown = f"#{channel.get('name') or channel_id} ({channel_id})"
        if channel.get("is_archived"):
            if name == "SLACK_REMINDER_CHANNEL":  # an archived one reminds no one (docs/slack.md)
                waits = (
                    "it reminds no one: a member who cannot get DMs is marked not reachable, and "
                    f"their claim expires {days(grace_days)} after the reminder was due"
                )
            problems.append(f"{name}: {shown} is archived, so {waits}. Unarchive it, or set another channel.")
        elif name == "SLACK_MODERATOR_CHANNEL" and channel.get("is_member") is False:
            problems.append(
                f"{name}: copbot is not in {shown}, so Slack sends it no reaction there: moderators' "
                f"✅ / ❌ decide nothing (the posts' buttons still do). {INVITE}."
            )
    return problems
