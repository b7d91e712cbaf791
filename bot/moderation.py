"""Moderation on the platforms: posting submissions to moderators, showing decisions, telling
submitters. Implements the core's :class:`commands.types.Effects`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot import outbound as sent
from bot.departures import community_left
from bot.outbound import (
    ChannelGone,
    ChannelRefused,
    Gone,
    Outbound,
    Posted,
    Revoked,
    Unreachable,
    delivered,
    scope_of,
)
from bot.reminders import STUCK_SENDING
from commands.submissions import APPROVE_EMOJI, REJECT_EMOJI, moderator_post, moved_post, submitter_notice
from commands.types import Clock, Reply
from storage import departures, posts, submissions
from storage.models import LinkStatus, Problem, WorkLink
from storage.store import Store

log = logging.getLogger("copbot.moderation")

# A submitter the DM found gone (they left the community, or their account was deleted or
# deactivated: :class:`bot.outbound.Gone`): pinged nowhere, their notice recorded "unreachable".
GONE = "gone"

# A post taken longer ago than this and never recorded was cut short by a crash: post it again.
STUCK_POSTING = timedelta(minutes=10)
# Tries at recording a post the platform accepted, within the command that made it, before it is
# left to the next sweep (each on a fresh connection: a restarted database's are replaced).
RECORD_TRIES = 2
# A moderator channel copbot may not post in (a missing permission, not invited) or that is gone
# (deleted, archived) is tried again this long after it refused a post, with one post (the
# community's oldest waiting): not at every sweep, whose refused requests a platform counts
# against copbot (Discord bans an address that makes too many). A new /submit tries at once, and
# so does an admin's /setup (run to check or change the settings after mending them), and a start.
BLOCKED_RETRY = timedelta(hours=1)
# Edits of one post in a row at most, when decisions keep coming while the edits are on their
# way (see Moderation._edit); the next press or sweep goes on from there.
EDIT_ROUNDS = 3
# What :meth:`Moderation._submit` answers for a post the platform as a whole failed (see there).
OUTAGE = "outage"


@dataclass(frozen=True)
class ModeratorChannel:
    """A community's moderator channel as this process has it, and since when: the time its
    setting was saved (/setup), or this process's start for one read from the environment."""

    id: str
    since: datetime


@dataclass
class Sweep:
    """What one run of moderation work on the platforms (a sweep, a start, an admin's /setup)
    learned so far: the platforms that failed as a whole (an outage, copbot's token refused:
    :class:`bot.outbound.Outage`), asked nothing more until the next run (each request would
    fail alike, and Discord counts the refused ones toward banning copbot's address), and how
    much that left waiting."""

    down: dict[str, str] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    # (platform, channel) of the moderator channels that refused an edit of a post in this run
    # (copbot may no longer see them): their other posts wait for the next run, not asked now.
    refusing: set[tuple[str, str]] = field(default_factory=set)
    # (platform, community) of the communities found to have removed copbot in this run (its
    # credentials refused on an edit): their other posts are not asked for.
    left: set[tuple[str, str]] = field(default_factory=set)

    def holds(self, platform: str) -> bool:
        """Whether ``platform`` failed as a whole in this run (counting what waits for it)."""
        if platform not in self.down:
            return False
        self.held[platform] = self.held.get(platform, 0) + 1
        return True

    def note(self, platform: str, exc: BaseException) -> None:
        """``exc`` is what a request to ``platform`` failed with: an outage stops the run there."""
        if isinstance(exc, sent.Outage):
            self.down.setdefault(platform, str(exc))

    def report(self) -> None:
        """One line per platform that failed as a whole: what waits for the next run (its first
        failure said why, in its own warning)."""
        for platform, count in self.held.items():
            log.info(
                "%s failed as a whole (%s): %d more moderator post(s), move(s), edit(s) or "
                "notice(s) wait for the next sweep",
                platform,
                self.down[platform],
                count,
            )


def channel_blocked(exc: Exception) -> bool:
    """Whether ``exc`` says copbot may not post in a channel, or that it is gone (an admin can
    mend it), not that it was removed from the community."""
    return isinstance(exc, ChannelRefused | Unreachable) and not isinstance(exc, Revoked)


def shown(exc: Exception) -> str:
    """Why a channel refused a post, as "Needs attention" shows it to a member: the channel named
    so they can find it (:attr:`bot.outbound.ChannelRefused.shown`, ``ChannelGone.shown``); the
    log keeps ``str(exc)``."""
    return exc.shown if isinstance(exc, ChannelRefused | ChannelGone) else str(exc)


# (platform, community id) → the moderator channel, or None when none is configured.
ChannelLookup = Callable[[str, str], Awaitable[ModeratorChannel | None]]
# (platform, community id) → the channel where members whose DMs are closed are told what
# concerns them (the reminder channel), or None when there is none.
NoticeChannelLookup = Callable[[str, str], Awaitable[str | None]]


class Moderation:
    """Posts submissions for review and reflects decisions, per platform."""

    def __init__(
        self,
        store: Store,
        outbounds: Mapping[str, Outbound],
        clock: Clock,
        channel: ChannelLookup,
        notice_channel: NoticeChannelLookup | None = None,
        *,
        stuck_after: timedelta = STUCK_SENDING,
    ) -> None:
        """Wire moderation to the platforms this process serves; ``notice_channel`` is where a
        submitter whose DMs are closed is told the decision instead (the reminder channel);
        ``stuck_after``: a submitter's notice taken this long ago and never recorded is taken
        back by a sweep (the sweep's own bound for reminders, :data:`bot.reminders.STUCK_SENDING`)."""
        self.store = store
        self.outbounds = dict(outbounds)
        self.clock = clock
        self.channel = channel
        self.notice_channel = notice_channel
        self.stuck_after = stuck_after
        # Submission id → how its submitter's notice went, sent by this process but not recorded
        # (the database failed just then): recorded at the next sweep, before any notice is taken,
        # so a notice that went out is not taken back as stuck and sent again.
        self._unrecorded_notices: dict[int, str] = {}
        # Submission id → the revision an edit of its post on its way from this process shows:
        # a second press during a decision's own edit does not edit the post again.
        self._editing: dict[int, int] = {}
        # Submission id → its moderator post that this process made but could not record (the
        # database went away just then), and the revision the post shows: recorded at the next
        # sweep, or at the first reaction that finds no post, instead of being posted again.
        self._unrecorded: dict[int, tuple[Posted, int]] = {}
        # Held while they are recorded: a reaction that finds no post waits for a recording
        # under way (a sweep's, another reaction's) instead of recording the same post again.
        self._recording = asyncio.Lock()

    async def submitted(self, link: WorkLink) -> str:
        """Post a stored submission to its moderators: "posted", "no_channel" (it stays pending
        until one is configured), "later" (the platform refused; the next sweep retries),
        "blocked" (copbot may not post in the moderator channel, or it is gone: only an admin can
        mend it; tried again :data:`BLOCKED_RETRY` later), "refused" (the platform refused the
        message itself: never tried again, moderators decide it with /pending) or "nowhere" (this
        process serves no platform of the submission's: it waits in /pending)."""
        how = await self._submit(link)
        return "later" if how == OUTAGE else how

    async def _submit(self, link: WorkLink, sweep: Sweep | None = None) -> str:
        """:meth:`submitted`, with "later" for a failure of the platform as a whole (a server
        error, out of reach, its token refused: :class:`bot.outbound.Outage`) told apart as
        :data:`OUTAGE`, after which :meth:`post_waiting` asks the platform nothing more."""
        outbound = self.outbounds.get(link.platform)
        if outbound is None or not self._serves(link.platform, link.community_id):
            return "nowhere"
        setting = await self.channel(link.platform, link.community_id)
        if setting is None or link.id is None:
            return "no_channel"
        channel = setting.id
        if not await posts.take_for_posting(self.store, link.id, channel, self.clock()):
            return "posted"  # another task or process is posting it
        problem = await self.store.get_problem(link.problem_number)
        assert problem is not None
        try:
            posted = await outbound.send_channel(link.community_id, channel, await self._post(link, problem))
        except sent.Rejected as exc:  # the same message would be refused at every try: written off
            log.error(
                "the moderator post of submission %s was refused by %s for good (%s), not posted "
                "again; moderators decide it with /pending: %s",
                link.id,
                link.platform,
                exc.code,
                exc,
            )
            why = f"{link.platform.capitalize()} refused the message ({exc.code})"
            await posts.record_refused(self.store, link, why, self.clock(), None)
            return "refused"
        except Exception as exc:
            if channel_blocked(exc):
                retry_at = self._blocked(f"posting submission {link.id}", link, channel, exc)
                await posts.record_refused(self.store, link, shown(exc), self.clock(), retry_at)
                return "blocked"
            if sweep is not None:
                sweep.note(link.platform, exc)
            log.warning("posting submission %s failed: %s", link.id, exc)
            await posts.record_posted(self.store, link.id, None, None, self.clock())
            if isinstance(exc, Revoked):  # removed from the community: its submissions close
                await self._removed(link, exc)
            return OUTAGE if isinstance(exc, sent.Outage) else "later"
        # Posted: whatever the database does now, the moderators have it and the member is told.
        self._unrecorded[link.id] = (posted, link.revision)
        for attempt in range(1, RECORD_TRIES + 1):
            try:
                await self.record_posts(only=link.id)
                break
            except Exception as exc:
                log.warning(
                    "recording the post of submission %s failed (try %d of %d), kept for the next sweep: %r",
                    link.id,
                    attempt,
                    RECORD_TRIES,
                    exc,
                )
        await self._add_reactions(outbound, posted, link.id)
        try:  # the channel takes posts (again): what waited for it is due now, not in an hour
            await posts.retry_refused(self.store, link.platform, link.community_id, self.clock())
        except Exception as exc:  # they are tried at their time
            log.warning("marking the posts waiting in %s due failed: %r", channel, exc)
        return "posted"

    async def _post(self, link: WorkLink, problem: Problem) -> Reply:
        """The moderator post of ``link``, naming the last rejection of the same work for the
        problem: a member may submit it again, and its moderators should know. Pending with a
        revision, it was undone, or its submitter renamed since it was posted: its history tells."""
        undone = link.status == LinkStatus.PENDING and link.revision > 0
        if undone:
            undone = await submissions.was_undone(self.store, link)
        return moderator_post(link, problem, await submissions.rejected_before(self.store, link), undone)

    def _blocked(self, what: str, link: WorkLink, channel: str, exc: Exception) -> datetime:
        """Warn that the moderator channel refused ``what`` (a post of ``link``'s); returns when
        it is tried again."""
        retry_at = self.clock() + BLOCKED_RETRY
        log.warning(
            "%s refused in the moderator channel %s of %s community %s, tried again at %s: %s",
            what,
            channel,
            link.platform,
            link.community_id,
            f"{retry_at:%Y-%m-%d %H:%M} UTC",
            exc,
        )
        return retry_at

    async def record_posts(self, only: int | None = None) -> int:
        """Record the moderator posts this process made but could not record yet (all, or only
        submission ``only``'s); returns how many it recorded. Raises when the database fails (the
        rest are kept). One call at a time: a second waits for the first, then finds its posts
        recorded (0 when none is waiting costs nothing)."""
        count = 0
        if not self._unrecorded:
            return count
        async with self._recording:
            for link_id, (posted, revision) in list(self._unrecorded.items()):
                if only is not None and link_id != only:
                    continue
                # Apart from a reaction being handled: the decision it makes next records its event.
                with self.store.apart():
                    recorded = await posts.record_posted(
                        self.store, link_id, posted.message_id, posted.url, self.clock(), revision
                    )
                if recorded:
                    count += 1
                else:  # posted again meanwhile by another process, which recorded its own post
                    unused = posted.url
                    log.warning("submission %s has another post recorded; %s stays unused", link_id, unused)
                del self._unrecorded[link_id]
        return count

    def _serves(self, platform: str, community_id: str) -> bool:
        """Whether this process posts and tells for ``community_id``: on a platform where it
        serves one community (a Slack install), only that one; another install's moderators and
        members are out of its reach (:mod:`storage.scope`)."""
        own = self._own(platform)
        return own is None or own == community_id

    @staticmethod
    async def _add_reactions(outbound: Outbound, posted: Posted, link_id: int) -> None:
        try:
            await outbound.react(posted, [APPROVE_EMOJI, REJECT_EMOJI])
        except Exception as exc:  # the buttons still work without the bot's reactions
            log.warning("adding reactions to submission %s failed: %s", link_id, exc)

    async def move_misplaced(
        self, platform: str, community_id: str | None = None, sweep: Sweep | None = None
    ) -> int:
        """Post again, in the moderator channel now configured, each pending submission whose
        post is in another channel (the channel was changed, or deleted and replaced), and say
        on the old post where it went; returns how many moved.

        Each post is taken once (a guarded update on its message), so two processes, or a sweep
        and a /setup at once, move it once. Only posts made before this process's setting came
        into force are moved: a replica whose setting is behind (a rolling deploy, a setting read
        just before it changed) leaves alone the posts the others made in the new channel, rather
        than moving them back and forth with them each sweep.

        A new channel copbot may not post in (or that is gone) is paced as a first post is: the
        community's moves wait :data:`BLOCKED_RETRY` (shown under "Needs attention"); once the
        platform fails as a whole, nothing more is asked of it (see :class:`Sweep`)."""
        outbound = self.outbounds.get(platform)
        if outbound is None:
            return 0
        sweep = sweep or Sweep()
        count = 0
        moves: dict[str, tuple[str, list[WorkLink]]] = {}
        for community, old_channel in await posts.posted_channels(self.store, platform, community_id):
            if not self._serves(platform, community):
                continue
            setting = await self.channel(platform, community)
            if setting is None or setting.id == old_channel:
                continue
            due = await posts.posted_in(
                self.store, platform, community, old_channel, setting.since, due_at=self.clock()
            )
            moves.setdefault(community, (setting.id, []))[1].extend(due)
        for channel, links in moves.values():
            for i, link in enumerate(links):
                if sweep.holds(platform):
                    continue
                how = await self._move(outbound, channel, link, links[i + 1 :], sweep)
                if how == "moved":
                    count += 1
                elif how == "blocked":  # the rest of the community's moves wait with it
                    break
        return count

    async def _move(
        self, outbound: Outbound, channel: str, link: WorkLink, rest: list[WorkLink], sweep: Sweep
    ) -> str:
        """Move ``link``'s post to ``channel``: "moved", "blocked" (copbot may not post there:
        it and ``rest`` wait :data:`BLOCKED_RETRY`) or "later"."""
        assert link.id is not None and link.mod_channel_id and link.mod_message_id
        moving = await posts.take_for_moving(
            self.store, link.id, link.mod_message_id, channel, self.clock(), from_channel=link.mod_channel_id
        )
        if moving is None:
            return "later"  # decided, or moved by another process, meanwhile
        problem = await self.store.get_problem(moving.problem_number)
        assert problem is not None
        try:
            posted = await outbound.send_channel(
                moving.community_id, channel, await self._post(moving, problem)
            )
        except Exception as exc:
            if channel_blocked(exc):
                what = f"moving submission {link.id} (its post stays in channel {link.mod_channel_id})"
                retry_at = self._blocked(what, link, channel, exc)
                await posts.return_post(self.store, link, refused=(shown(exc), retry_at), rest=rest)
                return "blocked"
            sweep.note(link.platform, exc)
            log.warning("moving submission %s to channel %s failed, will retry: %s", link.id, channel, exc)
            await posts.return_post(self.store, link)
            return "later"
        await posts.record_posted(
            self.store, link.id, posted.message_id, posted.url, self.clock(), moving.revision
        )
        log.info("submission %s moved from channel %s to %s", link.id, link.mod_channel_id, channel)
        await self._add_reactions(outbound, posted, link.id)
        old = Posted(link.mod_channel_id, link.mod_message_id, link.mod_url)
        try:
            await outbound.edit(old, moved_post(moving, problem, posted.url))
        except Unreachable as exc:  # the old channel or post is gone: nobody will see it anyway
            log.info("the old post of submission %s cannot say it moved: %s", link.id, exc)
        except Exception as exc:  # its buttons still work (they name the submission, not the post)
            sweep.note(link.platform, exc)
            log.warning("the old post of submission %s could not say it moved: %s", link.id, exc)
        try:  # the channel takes posts (again): what waited for it is due now, not in an hour
            await posts.retry_refused(self.store, link.platform, link.community_id, self.clock())
        except Exception as exc:  # they are tried at their time
            log.warning("marking the posts waiting in %s due failed: %r", channel, exc)
        return "moved"

    async def decided(self, link: WorkLink) -> None:
        """Show a decision (or its undoing) on the moderator post and tell the submitter, once.

        Both are recorded as due in the decision's own update, so what fails here (or what a
        restart cuts short) is done at the next sweep (:meth:`catch_up`)."""
        await self.refresh(link)
        if link.id is not None and link.platform in self.outbounds:
            # This one's alone: taking back others' stuck notices is the sweep's (catch_up).
            taken = await submissions.take_notices(
                self.store, scope_of(self.outbounds), link.id, now=self.clock()
            )
            await self._notify(taken)

    async def refresh(self, link: WorkLink, sweep: Sweep | None = None) -> None:
        """Edit the moderator post when it shows an older state than ``link`` has (an edit can be
        repeated: a failure is left for the next sweep or the next press on the post)."""
        outbound = self.outbounds.get(link.platform)
        sweep = sweep or Sweep()
        if (
            outbound is None
            or not self._serves(link.platform, link.community_id)
            or link.id is None
            or link.shown_revision >= link.revision
            or self._editing.get(link.id, -1) >= link.revision
            or (link.platform, link.mod_channel_id or "") in sweep.refusing
            or (link.platform, self._own(link.platform) or link.community_id) in sweep.left
            or sweep.holds(link.platform)
        ):
            return
        self._editing[link.id] = link.revision  # before any await: one edit of a state at a time
        try:
            await self._edit(outbound, link.id, sweep)
        finally:
            if self._editing.get(link.id) == link.revision:
                del self._editing[link.id]

    async def _edit(self, outbound: Outbound, link_id: int, sweep: Sweep) -> None:
        """Edit the post to show the submission as it is now, if it shows an older state.

        Another decision (an Undo, a second approval; through this replica or another) may come
        while the edit is on its way, and its own edit land first: this older one would then
        stay on the post, though the newer state is recorded as shown, so nothing would edit it
        again. So once an edit has landed, the submission is read again and, when it has moved
        on meanwhile, the post is edited again (:data:`EDIT_ROUNDS` edits at most)."""
        shown: int | None = None
        for _ in range(EDIT_ROUNDS):
            # Read again: a press that found the submission decided may have read it just before
            # the decision's own edit was recorded.
            link = await submissions.get_link(self.store, link_id)
            if link is None or not link.mod_channel_id or link.mod_message_id in (None, posts.POSTING):
                return
            if link.revision == shown or (shown is None and link.shown_revision >= link.revision):
                return
            if not await self._edit_once(outbound, link, sweep):
                return
            shown = link.revision

    async def _edit_once(self, outbound: Outbound, link: WorkLink, sweep: Sweep) -> bool:
        """Edit the post to show ``link``; whether the edit landed (and was recorded)."""
        link_id = link.id
        problem = await self.store.get_problem(link.problem_number)
        if problem is None or link_id is None:
            return False
        assert link.mod_channel_id and link.mod_message_id is not None
        try:
            await outbound.edit(
                Posted(link.mod_channel_id, link.mod_message_id, link.mod_url),
                await self._post(link, problem),
            )
        except Revoked as exc:  # removed from the community: nothing there can be edited now
            sweep.left.add((link.platform, self._own(link.platform) or link.community_id))
            await self._removed(link, exc)
            return False
        except Unreachable as exc:  # the post or its channel is gone: editing again cannot help
            log.info("the post of submission %s cannot be edited any more: %s", link_id, exc)
            if link.status == LinkStatus.PENDING and await posts.forget_post(
                self.store, link_id, link.mod_message_id
            ):
                # Pending again (an Undo) under a post that is gone: the moderators need a new one.
                again = await submissions.get_link(self.store, link_id)
                if again is not None:
                    await self.submitted(again)
                return False
            await posts.record_shown(self.store, link_id, link.revision)
            return False
        except ChannelRefused as exc:
            # copbot may no longer see the channel (an admin took its access): the post is there,
            # and shows the decision once they give it back. Left behind its submission, edited
            # by the next sweep or press; the rest of this run asks nothing more of the channel.
            sweep.refusing.add((link.platform, link.mod_channel_id))
            log.warning(
                "editing the post of submission %s was refused, tried again at the next sweep: %s",
                link_id,
                exc,
            )
            return False
        except sent.Rejected as exc:  # the same edit would be refused at every try: written off once
            log.error(
                "the edit of submission %s's moderator post was refused by %s for good (%s), not "
                "tried again; the decision stands and its submitter is told: %s",
                link_id,
                link.platform,
                exc.code,
                exc,
            )
            await posts.record_shown(self.store, link_id, link.revision)
            return False
        except Exception as exc:
            sweep.note(link.platform, exc)
            log.warning("editing the post of submission %s failed, will retry: %s", link_id, exc)
            return False
        await posts.record_shown(self.store, link_id, link.revision)
        return True

    async def _notify(self, links: list[WorkLink], sweep: Sweep | None = None) -> None:
        """Tell each submitter (their notice taken: sent at most once) and record how it went;
        once a platform fails as a whole, its notices are given back for the next sweep.

        When the database fails (reading the problem, recording an outcome), the batch stops and
        the error is raised: the notices not sent yet are given back ("retry") for the next sweep,
        and an outcome that could not be recorded is kept and recorded at this process's next
        sweep (:meth:`catch_up`), so that notice is not sent again. A notice the database would
        not even give back stays "sending" until a sweep takes it back, ``stuck_after`` after it
        was taken (:func:`storage.submissions.take_notices`), as after a crash mid-batch."""
        sweep = sweep or Sweep()
        for done, link in enumerate(links):
            assert link.id is not None
            try:
                if sweep.holds(link.platform):
                    await submissions.record_notice(self.store, link.id, "retry")
                    continue
                problem = await self.store.get_problem(link.problem_number)
            except Exception:  # nothing went out for this one: it goes back with the rest
                await self._give_back(links[done:])
                raise
            how = await self._tell(link, problem, sweep)
            try:
                await submissions.record_notice(self.store, link.id, how)
            except Exception:  # it went (or not) as ``how`` says: never sent again for that
                self._unrecorded_notices[link.id] = how
                await self._give_back(links[done + 1 :])
                raise

    async def _tell(self, link: WorkLink, problem: Problem | None, sweep: Sweep) -> str:
        """Send one submitter their notice; how it went ("failed": unknown whether it went out,
        never sent again: at most once)."""
        gone = False
        try:
            assert problem is not None
            notice = submitter_notice(link, problem)
            how = await self._dm(link, notice, sweep)
            if how == GONE:  # a mention in the channel would ping someone who can never read it
                how, gone = "unreachable", True
            elif how == "unreachable":  # DMs closed: where their reminders would go instead
                how = await self._notify_in_channel(link, notice, sweep)
        except Revoked as exc:
            how = "unreachable"
            await self._removed(link, exc)
        except Exception:  # unknown whether it went out: never sent again (at most once)
            log.exception("telling the submitter of %s failed", link.id)
            how = "failed"
        if how == "unreachable":
            log.info(
                "submitter of %s %s; the decision shows in /problem and /history",
                link.id,
                "left the community or their account is gone, so nobody is pinged"
                if gone
                else "has closed DMs and no reminder channel takes the notice",
            )
        return how

    async def _give_back(self, links: list[WorkLink]) -> None:
        """Give back taken notices not sent (the database failed before them), in one update; if
        the database takes not even that, a sweep takes them back ``stuck_after`` later."""
        ids = [link.id for link in links if link.id is not None]
        if not ids:
            return
        try:
            await submissions.record_notices(self.store, ids, "retry")
        except Exception as exc:
            log.warning(
                "giving back %d submitter notice(s) not sent failed (%r): a sweep takes them back %s after",
                len(ids),
                exc,
                self.stuck_after,
            )

    async def _record_notices(self) -> None:
        """Record the notice outcomes kept from a sweep or request the database failed (each
        once: the update is guarded by the ``"sending"`` they were taken with)."""
        for link_id, how in list(self._unrecorded_notices.items()):
            await submissions.record_notice(self.store, link_id, how)
            del self._unrecorded_notices[link_id]

    async def _dm(self, link: WorkLink, notice: Reply, sweep: Sweep) -> str:
        """DM the submitter ``notice``; how it went (:func:`bot.outbound.delivered`), or
        :data:`GONE` when they left the community or their account is gone."""
        gone = False

        async def send() -> Posted:
            nonlocal gone
            try:
                return await self._watched(
                    self.outbounds[link.platform].send_dm(link.community_id, link.user_id, notice),
                    link.platform,
                    sweep,
                )
            except Gone:
                gone = True
                raise

        how = await delivered(send(), "dm", log, f"telling the submitter of {link.id}")
        return GONE if gone else how

    async def _notify_in_channel(self, link: WorkLink, notice: Reply, sweep: Sweep) -> str:
        """Tell a submitter whose DMs are closed in their community's reminder channel, pinging
        only them (as a reminder would be); how it went, "unreachable" without such a channel."""
        channel = await self.notice_channel(link.platform, link.community_id) if self.notice_channel else None
        if not channel:
            return "unreachable"
        send = self._watched(
            self.outbounds[link.platform].send_channel(
                link.community_id, channel, replace(notice, mention=link.user_id)
            ),
            link.platform,
            sweep,
        )
        return await delivered(
            send, "channel", log, f"telling the submitter of {link.id} in channel {channel}"
        )

    @staticmethod
    async def _watched(send: Awaitable[Posted], platform: str, sweep: Sweep) -> Posted:
        """``send``, noting in ``sweep`` a failure of the platform as a whole."""
        try:
            return await send
        except Exception as exc:
            sweep.note(platform, exc)
            raise

    async def _removed(self, link: WorkLink, exc: Revoked) -> None:
        """The platform refuses copbot's credentials in the community of ``link``: it was removed
        (where this process serves one community, that one: its credentials were refused)."""
        where = (link.platform, self._own(link.platform) or link.community_id)
        try:
            await community_left(self.store, *where, self.clock(), str(exc), level=logging.ERROR)
        except Exception:  # the next refusal, or the next sweep, records it
            log.exception("recording that %s community %s removed copbot failed", *where)

    async def settings_changed(self, platform: str, community_id: str) -> None:
        """A moderator channel may have appeared or changed, or may take copbot's posts now (an
        admin's /setup, copbot invited to it: :func:`bot.slack.events.on_member_joined_channel`):
        post what was waiting for one, and move the pending posts left in another channel. Each
        post is taken once (:func:`storage.posts.take_for_posting`), so a sweep at the same
        moment posts none twice."""
        # An admin may have mended what refused the posts: what waited is tried now.
        await posts.retry_refused(self.store, platform, community_id, self.clock())
        sweep = Sweep()
        await self.post_waiting(platform, community_id, sweep)
        await self.move_misplaced(platform, community_id, sweep)

    async def post_waiting(
        self, platform: str, community_id: str | None = None, sweep: Sweep | None = None
    ) -> int:
        """Post every pending submission that has no moderator post yet and is due (not one
        whose channel refused it lately: see :data:`BLOCKED_RETRY`); returns how many. Once a
        community's channel refuses one, the rest of its submissions wait with it; once the
        platform as a whole fails one (an outage, copbot's token refused), all the rest wait for
        the next sweep, as its reminders do: each request would fail alike, and Discord counts the
        refused ones toward banning copbot's address."""
        count = 0
        blocked: set[str] = set()
        sweep = sweep or Sweep()
        own = community_id or self._own(platform)
        for link in await posts.unposted(self.store, platform, own, self.clock()):
            if link.mod_message_id is not None or link.community_id in blocked:
                continue
            if sweep.holds(platform):
                continue
            how = await self._submit(link, sweep)
            if how == "posted":
                count += 1
            elif how == "blocked":
                blocked.add(link.community_id)
        return count

    async def catch_up(self) -> None:
        """Each sweep, on every platform: close the pending submissions of the communities that
        removed copbot, post waiting submissions (retries refused posts, and posts a crash cut
        short), move pending posts out of a former moderator channel, edit the posts left behind
        their decision, and tell the submitters whose notice is due. A platform that fails as a
        whole is asked nothing more until the next sweep (:class:`Sweep`): all stays due."""
        try:
            # Before the posts cut short are released: these were made, and are not made again.
            await self.record_posts()
        except Exception:
            log.exception("recording moderator posts made while the database was away failed")
            return
        try:
            # Before posting: nothing is posted to a community that removed copbot.
            closed = await departures.close_submissions(self.store, scope_of(self.outbounds), self.clock())
            if closed:
                log.info("closed %d pending submission(s) of communities that removed copbot", len(closed))
        except Exception:
            log.exception("closing the submissions of communities that removed copbot failed")
        sweep = Sweep()
        for platform in self.outbounds:
            try:
                await self._post_due(platform, sweep)
            except Exception:
                log.exception("posting waiting submissions on %s failed", platform)
        # Only the platforms still answering: a taken notice of one that is down would be given
        # back unsent.
        platforms = {p: c for p, c in scope_of(self.outbounds).items() if p not in sweep.down}
        try:
            for link in await posts.posts_behind(self.store, platforms):
                await self.refresh(link, sweep)
            platforms = {p: c for p, c in platforms.items() if p not in sweep.down}
            # Outcomes kept from a failed database first: what went out is not taken back below.
            await self._record_notices()
            if platforms:
                now = self.clock()
                taken = await submissions.take_notices(
                    self.store, platforms, now=now, stuck_before=now - self.stuck_after
                )
                await self._notify(taken, sweep)
        except Exception:
            log.exception("catching up on decided submissions failed")
        sweep.report()

    async def recover(self) -> None:
        """At start-up: re-post submissions whose posting a crash cut short, and any waiting ones;
        move pending posts out of a former moderator channel (Slack's is set at start). Posts a
        moderator channel refused are tried now, once: a restart may be how it was mended (Slack's
        channel is a setting of the environment)."""
        sweep = Sweep()
        for platform in self.outbounds:
            await posts.retry_refused(self.store, platform, self._own(platform), self.clock())
            await self._post_due(platform, sweep)
        sweep.report()

    async def _post_due(self, platform: str, sweep: Sweep) -> None:
        # A post taken STUCK_POSTING ago and never recorded was cut short (a crash, a kill): at a
        # start soon after one, it is too recent to tell from a post in progress, so the sweeps
        # after it look again.
        own = self._own(platform)
        await posts.release_stuck_posting(self.store, platform, self.clock() - STUCK_POSTING, own)
        await self.post_waiting(platform, own, sweep)
        await self.move_misplaced(platform, own, sweep)

    def _own(self, platform: str) -> str | None:
        """The one community of ``platform`` this process serves, or None for all of them."""
        return scope_of(self.outbounds).get(platform)
