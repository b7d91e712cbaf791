"""What the bot sends on its own initiative (reminders, moderator posts), per platform.

Each front end implements :class:`Outbound`; the reminder sweep and the submission flow only
see this neutral interface.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from commands.types import Reply


@dataclass(frozen=True)
class Posted:
    """A message the bot posted: where it is, and a link people can click when there is one."""

    channel_id: str
    message_id: str
    url: str | None = None


class Unreachable(Exception):
    """The user or channel cannot be messaged (DMs closed, channel gone or archived; an edit
    without access). A channel post copbot's own permissions forbid is :class:`ChannelRefused`."""


class Revoked(Unreachable):
    """copbot may no longer act in the community at all: the platform refuses its credentials
    there (a Slack app uninstalled, its token revoked or its account deactivated). Nothing can be
    sent there until copbot is added again: see :mod:`bot.departures`."""


class Gone(Unreachable):
    """The user can never be reached in the community: they left it (on Discord, sharing no
    server with copbot, their DMs are refused too), or their account was deleted or deactivated.
    Nobody is pinged for them in a channel they can no longer read."""


class ChannelGone(Unreachable):
    """A channel post found no channel to post in: deleted, or (Slack) archived. The message
    names the channel for the log; ``shown`` says it to a member (under "Needs attention"),
    without an id they could not look up (Slack: as ``<#id>``, which it shows by its name)."""

    def __init__(self, message: str, shown: str) -> None:
        super().__init__(message)
        self.shown = shown


class NotDelivered(Exception):
    """The platform answered with an error (rate limit, outage): the message was certainly not
    sent, so sending it again later cannot make a duplicate."""


class Rejected(NotDelivered):
    """The platform refused the message itself, for good: a form it will not take (Discord's 400
    "Invalid Form Body", 50035; Slack's ``invalid_blocks``, ``msg_too_long``). Nothing was sent,
    and the same message would be refused at every try, so it is never sent again: a reminder
    counts as one that cannot arrive, a notice as failed, a moderator post as refused (decided
    with /pending), an edit of one as shown. ``code`` is the platform's error code,
    which the one error logged names."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class ChannelRefused(NotDelivered):
    """The platform refused copbot's post in a channel for copbot's own lack of access (a missing
    permission, not invited): nothing was posted, and an admin can fix it. The message names
    the channel and what to change, for the log; ``shown`` says it to a member (under "Needs
    attention"), naming the channel as ``<#id>``, which Discord and Slack show by its name."""

    def __init__(self, message: str, shown: str | None = None) -> None:
        super().__init__(message)
        self.shown = shown or message


class MaybeSent(Exception):
    """The platform failed while the message was on its way (a server error, a dropped
    connection, a timeout): it may have been posted all the same. A reminder is sent again (a
    second reminder harms less than a claim expiring unreminded), and so is a moderator post (a
    second post of a submission harms less than none: its buttons decide it wherever they are);
    a notice to a person (a submitter's DM, an expiry notice) is not, so none is sent twice."""


class Outage(Exception):
    """Marks a :class:`NotDelivered` or :class:`MaybeSent` the platform as a whole caused, not
    the message: a server error, the platform out of reach, a connection lost, on Discord a rate
    limit still in force after discord.py's five tries (each further request would count toward
    the 10,000 refused requests in 10 minutes after which Discord bans the bot's address for an
    hour). Whatever is sent next is likely to fail the
    same way, so the reminder sweep sends nothing more there until its next run."""


class Unavailable(NotDelivered, Outage):
    """The platform refused the message for an outage or a rate limit, or could not be reached:
    nothing was sent."""


class HeldBack(NotDelivered):
    """Not sent for an outage of the platform's (an :class:`Unavailable`) that the caller reports
    once for all the messages it held back: sent again later, without a warning of its own."""


class FailedOnTheWay(MaybeSent, Outage):
    """The platform failed (a server error) or the connection dropped while the message was on
    its way: it may have been posted."""


@runtime_checkable
class Outbound(Protocol):
    """Messages the bot sends unprompted, rendered by the platform's own renderer."""

    name: str

    async def send_dm(
        self, community_id: str, user_id: str, reply: Reply, *, ask_if_gone: bool = True
    ) -> Posted:
        """Message a user directly; raises :class:`Unreachable` when their DMs are closed, and
        :class:`Gone` when the user left the community or their account is gone. Where telling
        that takes a request of its own (Discord), ``ask_if_gone=False`` leaves it unasked: a
        refused DM is then :class:`Unreachable` (the caller knows the user was there lately)."""

    async def send_channel(self, community_id: str, channel_id: str, reply: Reply) -> Posted:
        """Post in a channel; ``reply.mention`` is the one user who may be pinged. Raises
        :class:`Unreachable` when the channel is gone, :class:`ChannelRefused` when copbot may
        not post there."""

    async def edit(self, posted: Posted, reply: Reply) -> None:
        """Replace a message the bot posted earlier. Raises :class:`Unreachable` when the
        message or its channel is gone, :class:`ChannelRefused` when copbot may no longer see
        the channel (an admin can give it back its access)."""

    async def react(self, posted: Posted, emojis: list[str]) -> None:
        """Add the bot's own reactions under a message (unicode emoji)."""


@runtime_checkable
class OneCommunity(Protocol):
    """A sender that can reach one community of its platform only (a Slack install: one
    workspace or organisation, its own token), not all of them (a Discord application)."""

    @property
    def served_community(self) -> str | None:
        """The community's id, once the platform said which it is (at start)."""


def scope_of(outbounds: Mapping[str, Outbound]) -> dict[str, str | None]:
    """What the senders ``outbounds`` (platform → sender) send for: per platform, the one
    community a :class:`OneCommunity` sender serves, else None for all of the platform's (see
    :mod:`storage.scope`). A sender that does not know its community yet serves none."""
    return {
        platform: (outbound.served_community or "") if isinstance(outbound, OneCommunity) else None
        for platform, outbound in outbounds.items()
    }


async def delivered(
    send: Awaitable[Posted], sent: str, log: logging.Logger, what: str, *, again_if_unsure: bool = False
) -> str:
    """Await one unprompted message and say how it went, in the words the delivery columns keep:
    ``sent`` when it went out; "retry" when the platform refused it (certainly not sent, so
    sending it again later cannot make a duplicate); "unreachable" (DMs closed, channel gone).
    With ``again_if_unsure`` (reminders), a message that may have gone out (:class:`MaybeSent`)
    is "retry" too, with a warning.

    :class:`Revoked` propagates: the caller records the community as gone; so does
    :class:`Rejected` (refused for good: the caller writes it off, never sending it again). Any other error
    propagates too: it is unknown whether the message went out, so the caller records "failed"
    and never sends it again (at most once).
    """
    try:
        await send
    except Rejected:
        raise  # the same message would be refused again: the caller writes it off
    except HeldBack:
        return "retry"  # the caller reports the outage once
    except NotDelivered as exc:
        log.warning("%s refused, will retry: %s", what, exc)
        return "retry"
    except MaybeSent as exc:
        if not again_if_unsure:
            raise
        log.warning("%s may not have gone out, sent again at the next sweep: %s", what, exc)
        return "retry"
    except Revoked:
        raise  # the whole community is out of reach: the caller records it (bot.departures)
    except Unreachable:
        return "unreachable"
    return sent
