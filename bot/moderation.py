"""Moderation on the platforms: posting submissions to moderators, showing decisions, telling
submitters. Implements the core's :class:`commands.types.Effects`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from bot.outbound import Outbound, Posted, Unreachable
from commands.submissions import APPROVE_EMOJI, REJECT_EMOJI, moderator_post, submitter_notice
from commands.types import Clock
from storage import submissions
from storage.models import WorkLink
from storage.store import Store

log = logging.getLogger("copbot.moderation")

# A post taken longer ago than this and never recorded was cut short by a crash: post it again.
STUCK_POSTING = timedelta(minutes=10)

# (platform, community id) → the moderator channel id, or None when none is configured.
ChannelLookup = Callable[[str, str], Awaitable[str | None]]


class Moderation:
    """Posts submissions for review and reflects decisions, per platform."""

    def __init__(
        self, store: Store, outbounds: Mapping[str, Outbound], clock: Clock, channel: ChannelLookup
    ) -> None:
        """Wire moderation to the platforms this process serves."""
        self.store = store
        self.outbounds = dict(outbounds)
        self.clock = clock
        self.channel = channel

    async def submitted(self, link: WorkLink) -> str:
        """Post a stored submission to its moderators: "posted", "no_channel" (it stays pending
        until one is configured) or "later" (the platform refused; the next sweep retries)."""
        outbound = self.outbounds.get(link.platform)
        channel = await self.channel(link.platform, link.community_id)
        if outbound is None or channel is None or link.id is None:
            return "no_channel"
        if not await submissions.take_for_posting(self.store, link.id, channel, self.clock()):
            return "posted"  # another task or process is posting it
        problem = await self.store.get_problem(link.problem_number)
        assert problem is not None
        try:
            posted = await outbound.send_channel(link.community_id, channel, moderator_post(link, problem))
        except Exception as exc:
            log.warning("posting submission %s failed: %s", link.id, exc)
            await submissions.record_posted(self.store, link.id, None, None, self.clock())
            return "later"
        await submissions.record_posted(self.store, link.id, posted.message_id, posted.url, self.clock())
        try:
            await outbound.react(posted, [APPROVE_EMOJI, REJECT_EMOJI])
        except Exception as exc:  # the buttons still work without the bot's reactions
            log.warning("adding reactions to submission %s failed: %s", link.id, exc)
        return "posted"

    async def decided(self, link: WorkLink) -> None:
        """Edit the moderator post to show the decision, and tell the submitter."""
        outbound = self.outbounds.get(link.platform)
        problem = await self.store.get_problem(link.problem_number)
        if outbound is None or problem is None:
            return
        if link.mod_channel_id and link.mod_message_id and link.mod_message_id != submissions.POSTING:
            try:
                await outbound.edit(
                    Posted(link.mod_channel_id, link.mod_message_id, link.mod_url),
                    moderator_post(link, problem),
                )
            except Exception as exc:
                log.warning("editing the post of submission %s failed: %s", link.id, exc)
        try:
            await outbound.send_dm(link.community_id, link.user_id, submitter_notice(link, problem))
        except Unreachable:
            log.info("submitter of %s has closed DMs; the decision shows in /problem and /history", link.id)
        except Exception as exc:
            log.warning("telling the submitter of %s failed: %s", link.id, exc)

    async def settings_changed(self, platform: str, community_id: str) -> None:
        """A moderator channel may have appeared: post what was waiting for one."""
        await self.post_waiting(platform, community_id)

    async def post_waiting(self, platform: str, community_id: str | None = None) -> int:
        """Post every pending submission that has no moderator post yet; returns how many."""
        count = 0
        for link in await submissions.unposted(self.store, platform, community_id):
            if link.mod_message_id is None and await self.submitted(link) == "posted":
                count += 1
        return count

    async def post_all_waiting(self) -> None:
        """Post waiting submissions on every platform (each sweep: retries refused posts)."""
        for platform in self.outbounds:
            try:
                await self.post_waiting(platform)
            except Exception:
                log.exception("posting waiting submissions on %s failed", platform)

    async def recover(self) -> None:
        """At start-up: re-post submissions whose posting a crash cut short, and any waiting ones."""
        for platform in self.outbounds:
            await submissions.release_stuck_posting(self.store, platform, self.clock() - STUCK_POSTING)
            await self.post_waiting(platform)
