"""Events API: one table from event type to handler, and the de-duplication every event gets.

To handle another event, write ``async def on_x(event: SlackEvent) -> None``, add it to
:data:`EVENT_HANDLERS` (or call :func:`register_event`), and list the event under
``bot_events`` in ``slack/manifest.yml`` with the scope it needs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.departures import community_left
from bot.slack import render
from bot.slack.people import PLATFORM, Directory, RightsUnknown
from commands.submissions import decide_post_by_reaction, reacted_post
from commands.types import Context

log = logging.getLogger("copbot.slack")

# Reactions that decide a submission under its moderator post: ✅ approves, ❌ rejects.
REVIEW_REACTIONS = frozenset({"white_check_mark", "x"})


@dataclass(frozen=True)
class SlackEvent:
    """One delivered event: its envelope's ids, the event itself, and what handlers need."""

    ctx: Context
    client: AsyncWebClient
    team_id: str
    event_id: str
    event: dict[str, Any]
    directory: Directory | None = None  # who is a moderator
    moderator_channel: str | None = None  # SLACK_MODERATOR_CHANNEL
    bot_user_id: str | None = None  # copbot's own user, whose reactions never count

    @property
    def type(self) -> str:
        """``reaction_added``…"""
        return str(self.event.get("type", ""))


EventHandler = Callable[[SlackEvent], Awaitable[None]]


def reaction_name(event: dict[str, Any]) -> str:
    """An event's emoji name without a skin tone (``+1::skin-tone-2`` → ``+1``)."""
    return str(event.get("reaction") or "").split("::", 1)[0]


def _review(event: SlackEvent) -> tuple[str, str, str, str] | None:
    """(user, reaction, channel, message ts) of a ✅ / ❌ someone other than copbot added to a
    message, else None."""
    item = event.event.get("item") or {}
    user = str(event.event.get("user") or "")
    reaction = reaction_name(event.event)
    channel = str(item.get("channel") or "")
    if (
        item.get("type") != "message"
        or not channel
        or reaction not in REVIEW_REACTIONS
        or not user
        or user == event.bot_user_id
    ):
        return None
    return user, reaction, channel, str(item.get("ts") or "")


async def on_reaction_added(event: SlackEvent) -> None:
    """✅ / ❌ by a moderator under a submission's moderator post decides it, in whichever
    channel that post is (one made before SLACK_MODERATOR_CHANNEL changed still counts until
    copbot moves it to the new channel).

    Reactions on any other message (the post is looked up by channel and timestamp), other
    emoji, copbot's own reactions and anyone who is not a moderator change nothing; the first
    decision wins (the core's guarded update).
    """
    review = _review(event)
    if review is None or event.directory is None:
        return
    user, reaction, channel, ts = review
    # ✅ and ❌ are everyday emoji: only one on a submission's post costs a look-up of the person.
    link = await reacted_post(event.ctx, PLATFORM, ts, channel)
    if link is None:
        return
    actor = await event.directory.actor(event.team_id, user)
    if not actor.is_moderator:
        rights = await event.directory.moderator_rights(user)
        if rights is None:  # nothing applied: Slack sends it again (then it is told, if it failed)
            raise RightsUnknown(f":{reaction}: by {user}: Slack could not list a moderator group")
        if not rights:
            log.info("ignored :%s: by %s: not a moderator", reaction, user)
            return
        actor = replace(actor, is_moderator=True)
    reply = await decide_post_by_reaction(event.ctx, actor, link, reaction)
    if reply is not None and reply.error:  # decided the other way already: say so, to them alone
        try:
            await event.client.chat_postEphemeral(channel=channel, user=user, **render.message(reply))
        except Exception as exc:  # the reaction itself is handled: Slack must not send it again
            log.warning("answering :%s: by %s on %s failed: %r", reaction, user, ts, exc)
    elif reply is not None:
        log.info("submission decided by :%s: from %s (%s)", reaction, user, event.event_id)


async def on_app_uninstalled(event: SlackEvent) -> None:
    """The app was uninstalled from the workspace: copbot is gone from it (:mod:`bot.departures`).

    Bolt lets this event through without checking the token, which Slack has revoked already."""
    why = "the Slack app was uninstalled from the workspace (app_uninstalled)"
    await _removed(event, why)


async def on_tokens_revoked(event: SlackEvent) -> None:
    """Tokens were revoked: copbot's bot token among them means copbot is gone from the
    workspace; users' own tokens (which copbot does not use) change nothing."""
    bots = [str(user) for user in (event.event.get("tokens") or {}).get("bot") or []]
    if not bots or (event.bot_user_id and event.bot_user_id not in bots):
        return
    await _removed(event, "the Slack app's bot token was revoked (tokens_revoked)")


async def _removed(event: SlackEvent, why: str) -> None:
    guide = "; to bring copbot back, reinstall the app and set SLACK_BOT_TOKEN to its new token"
    now = event.ctx.clock()
    await community_left(event.ctx.store, PLATFORM, event.team_id, now, why + guide, level=logging.ERROR)


async def on_member_joined_channel(event: SlackEvent) -> None:
    """copbot itself joined SLACK_MODERATOR_CHANNEL (someone invited it): the submissions whose
    moderator post that channel refused (``not_in_channel``…, waiting :data:`BLOCKED_RETRY
    <bot.moderation.BLOCKED_RETRY>` for their retry) are posted now, and the pending posts
    whose move there it refused are moved, by the same work as an admin's /setup
    (:meth:`bot.moderation.Moderation.settings_changed`).

    Anyone else joining, and copbot joining any other channel, changes nothing. Each post is
    taken once (a guarded update), so the sweep retrying at the same moment does not post it
    twice; a replayed event is skipped by its id (:mod:`bot.slack.delivery`)."""
    user = str(event.event.get("user") or "")
    if user and user == event.bot_user_id:
        await _moderator_channel_mended(event, "copbot joined the moderator channel")


async def on_channel_unarchive(event: SlackEvent) -> None:
    """SLACK_MODERATOR_CHANNEL was unarchived (``channel_unarchive``; ``group_unarchive`` for a
    private one): the submissions whose post it refused as archived (``is_archived``, waiting for
    their hourly retry) are posted now, as when copbot is invited to it
    (:func:`on_member_joined_channel`). Any other channel changes nothing."""
    await _moderator_channel_mended(event, "the moderator channel was unarchived")


async def _moderator_channel_mended(event: SlackEvent, what: str) -> None:
    """What SLACK_MODERATOR_CHANNEL refused may be mended (``what`` happened to it, for the log):
    what waits for a post there, or a move there, is tried now, by the same
    work as an admin's /setup. An event about any other channel changes nothing."""
    channel = str(event.event.get("channel") or "")
    if not channel or channel != event.moderator_channel or event.ctx.effects is None:
        return
    log.info("%s (%s): posting what waited for it", what, channel)
    await event.ctx.effects.settings_changed(PLATFORM, event.team_id)


# The front end subscribes to each type listed when it is built; the handler itself is looked
# up when an event arrives.
EVENT_HANDLERS: dict[str, EventHandler] = {
    "reaction_added": on_reaction_added,
    "app_uninstalled": on_app_uninstalled,
    "tokens_revoked": on_tokens_revoked,
    "member_joined_channel": on_member_joined_channel,
    "channel_unarchive": on_channel_unarchive,
    "group_unarchive": on_channel_unarchive,
}


async def reaction_not_applied(event: SlackEvent) -> None:
    """A ✅ / ❌ that failed (the database did not answer…) and that Slack will not send again:
    the moderator who reacted is told, in the moderator channel, only they seeing it, that
    nothing was decided and to react again. Nothing is said for other emoji, channels or people.
    """
    review = _review(event)
    if review is None or event.directory is None:
        return
    user, reaction, channel, _ = review
    # Whoever may be a moderator (Slack could not say) is told too: it is shown to them alone.
    if channel != event.moderator_channel or await event.directory.moderator_rights(user) is False:
        return
    await event.client.chat_postEphemeral(
        channel=channel,
        user=user,
        text=(
            f"Your :{reaction}: was not recorded: something failed on my side (the admins have "
            f"it in the log), and nothing was decided. Please remove the reaction and add it "
            f"again in a minute."
        ),
    )


# What the person behind an event is told when it could not be applied and Slack will not send
# it again (see :mod:`bot.slack.delivery`).
NOT_APPLIED_NOTICES: dict[str, EventHandler] = {"reaction_added": reaction_not_applied}


def register_event(event_type: str, handler: EventHandler) -> None:
    """Handle ``event_type`` with ``handler`` (the front end subscribes to each listed type)."""
    EVENT_HANDLERS[event_type] = handler


def dedup_key(event_id: str) -> str:
    """The processed-events key of a Slack event id."""
    return "slack:" + event_id
