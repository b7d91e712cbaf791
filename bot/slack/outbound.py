"""What copbot posts on Slack on its own initiative: DMs, channel posts, edits and reactions.

:class:`Messenger` implements :class:`bot.outbound.Outbound` for :class:`SlackFrontEnd`. A Slack
error that means the person cannot be messaged, or the channel is archived, raises
:class:`Unreachable` (the reminder sweep then falls back to the reminder channel); a channel
copbot may not post in (not invited, restricted) raises :class:`ChannelRefused`, which an admin
can fix, and so does an edit in a channel copbot was removed from or that is archived
(:data:`EDIT_REFUSED_ERRORS`; an edit of a message deleted is :class:`Unreachable`); a server
error on a post (``internal_error``, ``fatal_error``, an HTTP 5xx), after
which the message may have been posted all the same, or a connection lost on the way
:class:`MaybeSent`; the message itself refused (``invalid_blocks``, ``msg_too_long``:
:data:`REJECTED_ERRORS`) :class:`Rejected`, as it would be refused at every try; any other Slack
error :class:`NotDelivered`. Rate limits are retried by
the client's retry handler. Slack out of reach and its server errors are also
outages (:class:`bot.outbound.Outage`: the reminder sweep stops sending there until its next run).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbound import (
    ChannelGone,
    ChannelRefused,
    FailedOnTheWay,
    Gone,
    NotDelivered,
    Posted,
    Rejected,
    Revoked,
    Unavailable,
    Unreachable,
)
from bot.slack import render
from commands.types import Reply

log = logging.getLogger("copbot.slack")

# Slack errors meaning "this user or channel cannot be messaged", from conversations.open and
# chat.postMessage: reported as Unreachable. Anything else (missing_scope, ratelimited after
# the retries…) is a problem of copbot's own and propagates; a token refused is REVOKED_ERRORS.
# invalid_user_combination: conversations.open's answer for a member of another organisation
# (Slack Connect) who no longer shares a channel with copbot ("all external people must already
# be in at least one channel together").
# Of those, a claimant whose account is deactivated or no longer exists: Gone (nobody pings them).
USER_GONE_ERRORS = frozenset({"user_disabled", "user_not_found", "users_not_found"})
UNREACHABLE_ERRORS = frozenset(
    {
        "cannot_dm_bot",
        "invalid_user_combination",
        "user_disabled",
        "user_not_found",
        "users_not_found",
        "user_not_visible",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "messages_tab_disabled",
        "restricted_action",
        "restricted_action_read_only_channel",
        "team_access_not_granted",
        "access_denied",
    }
)

# chat.postMessage's errors for a channel copbot may not post in, all of which an admin can fix:
# not invited (not_in_channel; channel_not_found is also what Slack answers for a private channel
# copbot was not invited to, and for a mistyped SLACK_REMINDER_CHANNEL), posting restricted.
# A channel post they refuse is sent again later (ChannelRefused), never written off.
CHANNEL_REFUSED_ERRORS = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "team_access_not_granted",
        "access_denied",
    }
)

# chat.postMessage's (and every method's) answers to a message Slack will not take as it is:
# sent again, the same message is refused again (Rejected), so it is never retried.
REJECTED_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "attachment_payload_limit_exceeded",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_array_arg",
        "invalid_charset",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
    }
)

# Slack's answers for a failure on its side, after which "some aspect of the operation may have
# succeeded" (its words for internal_error and fatal_error): a post may have been made.
SERVER_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable"})
# Slack's answers to a token it no longer takes: the app was uninstalled, its token revoked, or
# its bot deactivated. Nothing can be sent until the app is added again (Revoked).
REVOKED_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive"})

# chat.update's errors for a message that was deleted or can no longer be edited.
GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
# chat.update's errors for a channel copbot may not edit in for now, all of which an admin can
# mend: copbot removed from it (not_in_channel; channel_not_found for a private channel, which
# Slack hides from non-members), the channel archived (is_archived; chat.update documents
# is_inactive, "a frozen, archived or deleted channel") and unarchived later, access or posting
# restricted, the channel migrating to Slack Connect. The post is there, edited once they do
# (ChannelRefused), never written off as gone.
EDIT_REFUSED_ERRORS = CHANNEL_REFUSED_ERRORS | {
    "is_archived",
    "is_inactive",
    "no_permission",
    "ekm_access_denied",
    "external_channel_migrating",
}

# Unicode emoji the core uses → Slack's reaction names.
REACTION_NAMES = {"✅": "white_check_mark", "❌": "x"}


def slack_error(exc: BaseException) -> str | None:
    """Slack's error code of an API error (``channel_not_found``), else None."""
    if not isinstance(exc, SlackApiError):
        return None
    try:
        return str(exc.response["error"])
    except (KeyError, TypeError):
        return None


def server_failed(exc: SlackApiError) -> bool:
    """Whether Slack failed on its side (an HTTP 5xx or a server error in its answer), rather
    than refusing the call (rate limits, 4xx-type errors): the call may have taken effect."""
    status = exc.response.status_code if exc.response is not None else 0
    return status >= 500 or slack_error(exc) in SERVER_ERRORS


def refused(exc: SlackApiError, message: str) -> NotDelivered:
    """What a Slack error nothing else explains is: :class:`Unavailable` for an outage of
    Slack's, :class:`Rejected` for a message Slack will never take (:data:`REJECTED_ERRORS`),
    else :class:`NotDelivered`. A rate limit that outlasted the client's retries is not
    an outage: Slack's limits are per method (and per channel for posts), the retries honour
    its Retry-After, and the next message may well go out (a sweep that stopped at the first one
    left most of its reminders for an hour later)."""
    if server_failed(exc):
        return Unavailable(message)
    if (code := slack_error(exc)) in REJECTED_ERRORS:
        return Rejected(message, code or "")
    return NotDelivered(message)


@contextlib.contextmanager
def _connection(what: str) -> Iterator[None]:
    """Slack out of reach → NotDelivered (nothing was sent); a connection lost or timed out on
    the way → MaybeSent (Slack may have posted the message); copbot's token refused → Revoked."""
    try:
        yield
    except SlackApiError as exc:
        if (code := slack_error(exc)) in REVOKED_ERRORS:
            raise Revoked(
                f"Slack refused copbot's token ({code}): the Slack app was uninstalled from the "
                "workspace or its token revoked; reinstall it and set SLACK_BOT_TOKEN to its new token"
            ) from exc
        raise
    except aiohttp.ClientConnectorError as exc:
        raise Unavailable(f"{what}: cannot reach Slack ({exc})") from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FailedOnTheWay(
            f"{what}: the connection to Slack failed ({str(exc) or type(exc).__name__})"
        ) from exc


def _mend(code: str | None) -> str:
    """What an admin does about a channel's refusal ``code`` of a post or an edit."""
    return {
        "not_in_channel": "invite copbot to it",
        "channel_not_found": "check the channel id; invite copbot if it is private",
        "is_archived": "unarchive it",
        "is_inactive": "unarchive it",
    }.get(code or "", "let copbot post there")


def permalink_from(workspace_url: str | None, channel: str, ts: str) -> str | None:
    """Slack's permalink shape, for when ``chat.getPermalink`` fails: ``…/archives/C…/p…``."""
    if not workspace_url:
        return None
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


class Messenger:
    """Sends rendered replies through one workspace's bot token."""

    def __init__(self, client: AsyncWebClient) -> None:
        """Send with ``client``; :attr:`workspace_url` is set from ``auth.test`` at start."""
        self.client = client
        self.workspace_url: str | None = None

    async def _post(self, channel: str, reply: Reply) -> tuple[str, str]:
        """``chat.postMessage`` a reply; returns (channel, ts) as Slack answered them."""
        body = render.message(reply)
        # The renderer escapes user text and sends mrkdwn verbatim; parse/link_names off keeps
        # Slack from turning a plain "@here" in the fallback text into a mention.
        try:
            answer = await self.client.chat_postMessage(
                channel=channel, text=body["text"], blocks=body["blocks"], parse="none", link_names=False
            )
        except SlackApiError as exc:
            if server_failed(exc):
                failure = slack_error(exc) or f"HTTP {exc.response.status_code}"
                raise FailedOnTheWay(f"Slack failed on a post in {channel}: {failure}") from exc
            raise
        return str(answer.get("channel") or channel), str(answer["ts"])

    async def send_dm(
        self, community_id: str, user_id: str, reply: Reply, *, ask_if_gone: bool = True
    ) -> Posted:
        """Open the app's DM with ``user_id`` and post there; closed or gone users: Unreachable
        (Gone for a deactivated or deleted account, told by the same answer: ``ask_if_gone``
        changes nothing here).
        Opening the DM posts nothing: a connection lost there is :class:`Unavailable` (the
        message was certainly not sent), not :class:`MaybeSent`."""
        what = f"DM to Slack user {user_id}"
        try:
            try:
                with _connection(f"{what} (opening the DM)"):
                    opened = await self.client.conversations_open(users=user_id)
            except FailedOnTheWay as exc:
                raise Unavailable(str(exc)) from exc.__cause__
            with _connection(what):
                channel, ts = await self._post(str(opened["channel"]["id"]), reply)
        except SlackApiError as exc:
            code = slack_error(exc)
            if code in USER_GONE_ERRORS:
                raise Gone(f"cannot DM Slack user {user_id}: {code}") from exc
            if code in UNREACHABLE_ERRORS:
                raise Unreachable(f"cannot DM Slack user {user_id}: {code}") from exc
            raise refused(exc, f"Slack refused a DM to {user_id}: {code}") from exc
        return Posted(channel, ts)

    async def send_channel(self, community_id: str, channel_id: str, reply: Reply) -> Posted:
        """Post in a channel (``reply.mention`` is pinged, nobody else); with its permalink. A
        channel copbot may not post in raises ChannelRefused, an archived one Unreachable."""
        try:
            with _connection(f"post in Slack channel {channel_id}"):
                channel, ts = await self._post(channel_id, reply)
        except SlackApiError as exc:
            code = slack_error(exc)
            if code in CHANNEL_REFUSED_ERRORS:
                hint = _mend(code)
                raise ChannelRefused(
                    f"cannot post in Slack channel {channel_id}: {code} ({hint})",
                    f"cannot post in <#{channel_id}>: {code} ({hint})",  # Slack shows its name
                ) from exc
            if code in UNREACHABLE_ERRORS:
                hint = " (unarchive it)" if code == "is_archived" else ""
                raise ChannelGone(
                    f"cannot post in Slack channel {channel_id}: {code}",
                    f"cannot post in <#{channel_id}>: {code}{hint}",  # Slack shows its name
                ) from exc
            raise refused(exc, f"Slack refused a post in {channel_id}: {code}") from exc
        return Posted(channel, ts, await self._permalink(channel, ts))

    async def whisper(self, channel_id: str, user_id: str, reply: Reply) -> None:
        """Show a reply to one person in a channel (``chat.postEphemeral``)."""
        body = render.message(reply)
        await self.client.chat_postEphemeral(
            channel=channel_id,
            user=user_id,
            text=body["text"],
            blocks=body["blocks"],
            parse="none",
            link_names=False,
        )

    async def _permalink(self, channel: str, ts: str) -> str | None:
        """The message's link; never fails (the message is posted, whatever happens here)."""
        try:
            answer = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
            return str(answer["permalink"])
        except Exception as exc:
            log.warning("chat.getPermalink failed for %s/%s: %s", channel, ts, slack_error(exc) or exc)
            return permalink_from(self.workspace_url, channel, ts)

    async def edit(self, posted: Posted, reply: Reply) -> None:
        """Replace a message the bot posted (text, blocks and buttons); a message that is gone
        or can no longer be edited: Unreachable (editing it again cannot help); a channel copbot
        may not edit in for now (removed from it, archived: :data:`EDIT_REFUSED_ERRORS`)
        ChannelRefused, which an admin can mend: the edit is made once they do. Slack out of
        reach, a connection lost and copbot's token refused are told as for a post
        (:func:`_connection`): an outage, :class:`Revoked`."""
        body = render.message(reply)
        try:
            with _connection(f"edit of Slack message {posted.message_id} in channel {posted.channel_id}"):
                await self.client.chat_update(
                    channel=posted.channel_id,
                    ts=posted.message_id,
                    text=body["text"],
                    blocks=body["blocks"],
                    parse="none",
                    link_names=False,
                )
        except SlackApiError as exc:
            code = slack_error(exc)
            if code in EDIT_REFUSED_ERRORS:
                hint = _mend(code)
                raise ChannelRefused(
                    f"cannot edit Slack message {posted.message_id} in channel {posted.channel_id}: "
                    f"{code} ({hint})",
                    f"cannot edit copbot's post in <#{posted.channel_id}>: {code} ({hint})",
                ) from exc
            if code in UNREACHABLE_ERRORS or code in GONE_ERRORS:
                raise Unreachable(f"cannot edit Slack message {posted.message_id}: {code}") from exc
            raise refused(exc, f"Slack refused an edit of {posted.message_id}: {code}") from exc

    async def react(self, posted: Posted, emojis: list[str]) -> None:
        """Add the bot's reactions in order; one already there is fine."""
        for emoji in emojis:
            name = REACTION_NAMES.get(emoji, emoji.strip(":"))
            try:
                await self.client.reactions_add(
                    channel=posted.channel_id, timestamp=posted.message_id, name=name
                )
            except SlackApiError as exc:
                if slack_error(exc) != "already_reacted":
                    raise
