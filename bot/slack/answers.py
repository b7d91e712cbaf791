"""Answering a Slack request: in its ack when quick, else by its response_url, else by the Web API.

:func:`response` renders a reply as an ack or response_url body; :class:`Responder` posts it to
the response_url (once more after a 5xx) and, when that fails, shows it to the :class:`Asker`
by ``chat.postEphemeral`` or in their DM, never logging the response_url itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.slack import render
from bot.slack.outbound import Messenger, slack_error
from commands import dispatch
from commands.types import Reply

log = logging.getLogger("copbot.slack")

# Slack wants an answer within 3 s; what the core has not finished by then goes by response_url.
ANSWER_WITHIN = 2.0
# What chat.postEphemeral answers in a conversation copbot is not in (channel_not_found: a
# private one), or cannot post in, or that the asker is not in (user_not_in_channel: a public
# channel they only looked into, e.g. a moderator post opened from /pending's link): the answer
# goes to the asker's DM instead.
NOT_THERE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "user_not_in_channel"})


def response(reply: Reply) -> dict[str, Any]:
    """A reply as an ack or response_url body: public ones in the channel, private ephemeral."""
    try:
        body = render.message(reply)
    except Exception:  # a rendering bug must still leave the user an answer
        log.exception("rendering a Slack reply failed")
        reply = dispatch.error_reply(dispatch.APOLOGY)
        body = render.message(reply)
    return {**body, "response_type": "ephemeral" if reply.private else "in_channel"}


def ack_args(body: dict[str, Any]) -> dict[str, Any]:
    """An answer in the shape ``ack()`` takes."""
    return {"text": body["text"], "blocks": body["blocks"], "response_type": body["response_type"]}


@dataclass(frozen=True)
class Asker:
    """Who a response_url answer is for and where they asked (a channel, a DM, or "" for a
    form): where the answer goes when the response_url fails."""

    team_id: str
    user_id: str
    channel_id: str

    @classmethod
    def of_command(cls, command: dict[str, Any]) -> Asker:
        """The person who typed a slash command, in its channel."""
        return cls(*(str(command.get(k) or "") for k in ("team_id", "user_id", "channel_id")))

    @classmethod
    def of_action(cls, body: dict[str, Any]) -> Asker:
        """The person who clicked a button (in its message's channel) or submitted a form."""
        user, team, channel = body.get("user") or {}, body.get("team") or {}, body.get("channel") or {}
        team_id = team.get("id") or user.get("team_id") or ""
        return cls(str(team_id), str(user.get("id") or ""), str(channel.get("id") or ""))


class Responder:
    """Answers through response_urls, with the Web API (``messenger``) as the way round a
    failed one; ``api_url`` is SLACK_API_URL, whose host may also take response_urls."""

    def __init__(self, messenger: Messenger, api_url: str) -> None:
        """Answer by ``messenger`` when a response_url fails."""
        self.messenger, self.api_url = messenger, api_url

    async def respond(self, respond: AsyncRespond | None, reply: Reply, asker: Asker | None = None) -> None:
        """Answer through the response_url, as a new message (never replacing the original).

        Slack answers a response_url that failed with an HTTP status, not an exception: a 5xx is
        tried once more (a lost connection was, by the webhook client itself); then, when the
        asker is known, the answer goes by the Web API instead (:meth:`_answer_elsewhere`), with
        a warning that never holds the response_url (it is a secret: it can post as copbot).
        """
        failure = "no response_url" if respond is None else await _post_response(respond, reply)
        if failure is None:
            return
        if asker is None:
            log.warning("answering a Slack request failed (%s); the answer is lost", failure)
            return
        try:
            how = await self._answer_elsewhere(asker, reply)
        except Exception as exc:
            error = slack_error(exc) or type(exc).__name__
            log.warning("answering a Slack request failed (%s), and by the Web API too: %s", failure, error)
            return
        log.warning("answering a Slack request by its response_url failed (%s); sent by %s", failure, how)

    async def _answer_elsewhere(self, asker: Asker, reply: Reply) -> str:
        """An answer the response_url could not take, by the Web API: shown only to the asker
        where they asked (a slash command, a click in a channel), or in their DM with copbot (a
        click there, a form, or a channel copbot is not in). Returns the method used."""
        if asker.channel_id and not asker.channel_id.startswith("D"):
            try:
                await self.messenger.whisper(asker.channel_id, asker.user_id, reply)
                return "chat.postEphemeral"
            except Exception as exc:
                # A command typed in a channel copbot was never invited to, a press in one the
                # asker is not in: Slack shows no ephemeral of copbot's to them there, so the
                # answer goes to the asker's DM instead.
                if slack_error(exc) not in NOT_THERE:
                    raise
        await self.messenger.send_dm(asker.team_id, asker.user_id, reply)
        return "chat.postMessage"

    def slacks(self, url: str | None) -> str | None:
        """``url`` if it is Slack's to answer through (https://hooks.slack.com/…, or on
        SLACK_API_URL's own host: a proxy, or a test's fake); else None, with a warning. A
        form's response_url comes back in its private_metadata: copbot wrote it there, but the
        form could be forged by whoever holds the signing secret, and copbot posts to no one else."""
        if not url:
            return None
        parts, api = urlsplit(url), urlsplit(self.api_url)
        if (parts.scheme, parts.netloc) in {("https", "hooks.slack.com"), (api.scheme, api.netloc)}:
            return url
        log.warning("a reject form named a response_url that is not Slack's; not answered there")
        return None


async def _post_response(respond: AsyncRespond, reply: Reply) -> str | None:
    """Post a reply to a response_url, a second time after a 5xx; None once it is taken, else
    what went wrong (never the response_url itself)."""
    failure = None
    for _ in range(2):
        try:
            answer = await respond(**response(reply), replace_original=False)
        except Exception as exc:  # a connection error, after the webhook client's own retry
            return type(exc).__name__
        if 200 <= answer.status_code < 300:
            return None
        failure = f"HTTP {answer.status_code} {str(answer.body or '')[:60]!r}"
        if answer.status_code < 500:
            break
    return failure
