"""Delivering Events API events to their handlers (:mod:`bot.slack.events`): each applied once.

Slack waits up to ``answer_within`` seconds for an event's handling. One that failed before
applying anything is answered with a 500 (:class:`EventNotApplied`) while Slack will send it
again; after its last retry, or when the answer has already gone, the person who caused it is
told that nothing happened (:data:`bot.slack.events.NOT_APPLIED_NOTICES`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

from bot.seen import Seen
from bot.slack import events
from bot.slack.inflight import InFlight
from bot.slack.installation import Installation
from commands.types import Context
from storage.units import AlreadyApplied

log = logging.getLogger("copbot.slack")

# Slack sends an event it got no 2xx for three more times (X-Slack-Retry-Num 1, 2, 3; at once,
# after a minute, after five), then gives up.
SLACK_RETRIES = 3

Listener = Callable[[dict[str, Any], dict[str, Any], AsyncBoltRequest], Awaitable[None]]


class EventNotApplied(Exception):
    """An event whose handling failed before anything was applied, raised from its listener so
    that Bolt answers Slack with a 500 and Slack sends the event again (its id makes sure a
    retry applies it at most once)."""

    def __init__(self, event_id: str, event_type: str) -> None:
        """The event that failed."""
        super().__init__(f"Slack event {event_id} ({event_type}) not applied: answered 500, Slack retries")


def _slack_will_retry(request: AsyncBoltRequest, *, socket_mode: bool) -> bool:
    """Whether Slack sends this event again if it is answered with an error: in HTTP mode, until
    its last retry. Socket Mode is not counted on: Bolt then sends no acknowledgement at all."""
    if socket_mode:
        return False
    retry = (request.headers.get("x-slack-retry-num") or ["0"])[0]
    return not retry.isdigit() or int(retry) < SLACK_RETRIES


class Delivery:
    """The Bolt listeners of the event types :data:`bot.slack.events.EVENT_HANDLERS` lists."""

    def __init__(
        self,
        ctx: Context,
        installation: Installation,
        inflight: InFlight,
        *,
        moderator_channel: str | None,
        socket_mode: bool,
        answer_within: float,
    ) -> None:
        """``moderator_channel``: SLACK_MODERATOR_CHANNEL; ``socket_mode``: whether events come
        by Socket Mode (where Slack does not retry them)."""
        self.ctx, self.installation, self.inflight = ctx, installation, inflight
        self.moderator_channel, self.socket_mode = moderator_channel, socket_mode
        self.answer_within = answer_within
        self._seen = Seen()  # event ids handled here: Slack's retries reaching this process

    def listener(self, event_type: str) -> Listener:
        """The Bolt listener of ``event_type``."""

        async def listener(body: dict[str, Any], event: dict[str, Any], request: AsyncBoltRequest) -> None:
            work = self.inflight.spawn(self._handle_event(event_type, body, event))
            done, _ = await asyncio.wait({work}, timeout=self.answer_within)
            if work not in done:
                # Slack gets its 200 now and will not send the event again: if the work fails
                # after all, the person must hear it from copbot.
                self.inflight.spawn(self._tell_if_not_applied(event_type, body, event, work))
            elif not work.result():
                if _slack_will_retry(request, socket_mode=self.socket_mode):
                    raise EventNotApplied(str(body.get("event_id") or ""), event_type)
                await self._tell_not_applied(event_type, body, event)

        return listener

    def _slack_event(self, body: dict[str, Any], event: dict[str, Any]) -> events.SlackEvent:
        return events.SlackEvent(
            self.ctx,
            self.installation.client,
            self.installation.community(body.get("team_id")),
            str(body.get("event_id") or ""),
            event,
            directory=self.installation.directory,
            moderator_channel=self.moderator_channel,
            bot_user_id=self.installation.bot_user_id,
        )

    async def _handle_event(self, event_type: str, body: dict[str, Any], event: dict[str, Any]) -> bool:
        """Apply an event once: a retry (or any replay) of an event that was applied changes nothing.

        A retry reaching this process is caught in memory; one reaching another process (or this
        one after a restart) at its first write, which records the id with the change. So an
        event whose handling died before its change committed is applied by Slack's retry.

        False when the handling failed before its first change committed (nothing was applied,
        and handling it again may succeed), else True.
        """
        event_id = str(body.get("event_id") or "")
        if event_id and not self._seen.first(event_id):
            log.info("skipped Slack event %s (%s): already handled", event_id, event_type)
            return True
        handler = events.EVENT_HANDLERS.get(event_type)
        if handler is None:
            return True
        once = (
            self.ctx.store.applying(events.dedup_key(event_id), self.ctx.clock())
            if event_id
            else nullcontext()
        )
        try:
            with once as applying:
                await handler(self._slack_event(body, event))
        except AlreadyApplied:
            log.info("skipped Slack event %s (%s): already applied", event_id, event_type)
        except Exception:
            # A retry reaching this process tries again: if the change committed before the
            # failure, its id did too, and the retry's first write finds it.
            self._seen.forget(event_id)
            log.exception("Slack event %s (%s) failed", event_id, event_type)
            return applying is not None and applying.recorded
        return True

    async def _tell_if_not_applied(
        self, event_type: str, body: dict[str, Any], event: dict[str, Any], work: asyncio.Future[bool]
    ) -> None:
        if not await work:
            await self._tell_not_applied(event_type, body, event)

    async def _tell_not_applied(self, event_type: str, body: dict[str, Any], event: dict[str, Any]) -> None:
        """An event failed and Slack will not send it again: tell whoever caused it (a
        moderator's ✅ is not recorded), through the event type's notice if it has one."""
        notice = events.NOT_APPLIED_NOTICES.get(event_type)
        log.warning(
            "Slack event %s (%s) was not applied and Slack will not send it again",
            body.get("event_id"),
            event_type,
        )
        if notice is None:
            return
        try:
            await notice(self._slack_event(body, event))
        except Exception as exc:
            log.warning("telling that Slack event %s was not applied failed: %s", body.get("event_id"), exc)
