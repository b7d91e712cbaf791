"""An in-memory implementation of the Outbound interface, for tests of what the bot sends.

Platform tests use the fakes of Discord and Slack; this one checks the sweep's own rules.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.outbound import NotDelivered, Posted, Unreachable
from commands.types import Reply


class SimulatedCrash(BaseException):
    """The process dying mid-way: not an Exception, so nothing in the bot catches it."""


@dataclass
class Sent:
    """One message the bot sent."""

    kind: str
    community_id: str
    target: str
    reply: Reply


@dataclass
class MemoryOutbound:
    """Records messages; users in ``closed_dms``, channels in ``broken`` and messages in
    ``gone`` (deleted: their edits) are unreachable; ``refuse`` counts the refusals still due to
    a user id (DMs) or a message id (edits); ``delay`` is the platform's latency.

    :meth:`hold_next` keeps the next send, post or edit on its way (taken by the bot, not yet on
    the platform) until the test lets it land: what happens meanwhile is ordered by events that
    the test awaits, not by sleeping."""

    name: str = "discord"
    sent: list[Sent] = field(default_factory=list)
    closed_dms: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)
    crash_after_send: bool = False
    crash_before_post: bool = False
    crash_before_edit: bool = False
    refuse: dict[str, int] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    delay: float = 0.0
    _gate: asyncio.Event | None = field(default=None, init=False, repr=False)
    _on_its_way: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    def hold_next(self) -> asyncio.Event:
        """Hold the next send, post or edit on its way; ``set()`` the event returned to let it land."""
        self._gate = asyncio.Event()
        self._on_its_way.clear()
        return self._gate

    async def on_its_way(self) -> None:
        """Wait until the held send, post or edit has started (the bot is waiting for the platform)."""
        await self._on_its_way.wait()

    async def _travel(self) -> None:
        """The platform's latency: the gate of :meth:`hold_next` (once), then ``delay``."""
        gate, self._gate = self._gate, None
        if gate is not None:
            self._on_its_way.set()
            await gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)

    async def send_dm(
        self, community_id: str, user_id: str, reply: Reply, *, ask_if_gone: bool = True
    ) -> Posted:
        """Record a DM, or refuse it like a closed DM."""
        if user_id in self.closed_dms:
            raise Unreachable(user_id)
        if self.refuse.get(user_id):
            self.refuse[user_id] -= 1
            raise NotDelivered(f"rate limited: {user_id}")
        await self._travel()
        self.sent.append(Sent("dm", community_id, user_id, reply))
        if self.crash_after_send:
            raise SimulatedCrash("crash after the send, before the commit")
        return Posted(f"dm-{user_id}", str(len(self.sent)))

    async def send_channel(self, community_id: str, channel_id: str, reply: Reply) -> Posted:
        """Record a channel post, or refuse it (a broken channel), or crash before it."""
        if channel_id in self.broken:
            raise Unreachable(channel_id)
        if self.crash_before_post:
            raise SimulatedCrash("crash while the post is on its way")
        await self._travel()
        self.sent.append(Sent("channel", community_id, channel_id, reply))
        return Posted(channel_id, str(len(self.sent)))

    async def edit(self, posted: Posted, reply: Reply) -> None:
        """Record an edit, or refuse it (the platform's error), or crash before it."""
        if self.crash_before_edit:
            raise SimulatedCrash("crash after the decision's commit, before the edit")
        if posted.channel_id in self.broken or posted.message_id in self.gone:
            raise Unreachable(f"{posted.channel_id}/{posted.message_id}")
        if self.refuse.get(posted.message_id):
            self.refuse[posted.message_id] -= 1
            raise NotDelivered(f"rate limited: edit of {posted.message_id}")
        await self._travel()
        self.sent.append(Sent("edit", "", posted.message_id, reply))

    async def react(self, posted: Posted, emojis: list[str]) -> None:
        """Record reactions."""
        self.sent.append(Sent("react", "", posted.message_id, Reply(text=" ".join(emojis))))
