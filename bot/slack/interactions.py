"""Answering Slack's interactive requests: slash commands, buttons and the reject-reason form.

A slash command is answered in its ack when the core is quick, else acked empty and answered by
response_url (:mod:`bot.slack.answers`). A button is acked at once and answered by response_url;
**Reject with reason** opens a modal instead (:mod:`bot.slack.review`), whose submission rejects.
While copbot is closing, each of them is answered that it is restarting.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import eager
from bot.pressed import PressedMessages
from bot.slack import render, review, slash
from bot.slack.answers import Asker, Responder, ack_args, response
from bot.slack.inflight import InFlight
from bot.slack.installation import Installation
from bot.slack.outbound import slack_error
from commands import dispatch
from commands.claims import own_claims, release_button, release_target
from commands.registry import card_now, typed_card_change
from commands.submissions import (
    NO_SUCH_SUBMISSION,
    decide_link,
    decided_already,
    decision_target_or_none,
    ours,
)
from commands.types import Actor, Button, CommandError, Context, Reply, parse_custom_id
from storage import submissions
from storage.models import LinkStatus

log = logging.getLogger("copbot.slack")

# How long, and how many times, Slack takes posts to a response_url (its interactivity docs: "up
# to 5 times within 30 minutes"); a button press's own answer and its card's refresh are two.
RESPONSE_URL_LIFE = timedelta(minutes=30)
RESPONSE_URL_USES = 5
# The channel cards remembered for the private cards answering a Claim on them (the latest).
CHANNEL_CARDS = 1024


@dataclasses.dataclass
class _ChannelCard:
    """A card in a channel whose Claim someone pressed: the message (``channel/ts``), the press's
    response_url (the way to replace a card copbot posted as the answer to a command: Slack may
    refuse chat.update on those, bolt-js#2063, java-slack-sdk#951), when it was pressed and how
    many posts that response_url took."""

    message: str
    response_url: str
    pressed_at: datetime
    uses: int = 2  # the answer to the Claim, and the card's refresh


class Interactions:
    """The listeners for slash commands, buttons and the reason form, answered by the core."""

    def __init__(
        self,
        ctx: Context,
        installation: Installation,
        inflight: InFlight,
        responder: Responder,
        *,
        answer_within: float,
    ) -> None:
        """``answer_within``: seconds the core may take before a command is answered later."""
        self.ctx, self.installation, self.inflight, self.responder = ctx, installation, inflight, responder
        self.client, self.directory = installation.client, installation.directory
        self.answer_within = answer_within
        self._pressed = PressedMessages()
        # By (team, user, problem): the channel card whose Claim they last pressed (see
        # :meth:`_update_channel_card`).
        self._channel_cards: OrderedDict[tuple[str, str, str], _ChannelCard] = OrderedDict()

    async def on_command(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        """A slash command: answer in the ack when quick, else ack now and answer later."""
        if self.inflight.closing:
            await ack(**ack_args(response(dispatch.error_reply(dispatch.RESTARTING))))
            return
        # Most commands finish without waiting for anything: then there is no task to wait for.
        work = eager.start(self._command_reply(command))
        if not work.done():
            self.inflight.track(work)
            await asyncio.wait({work}, timeout=self.answer_within)
        if work.done():
            await ack(**ack_args(response(work.result())))
            return
        await ack()
        self.inflight.spawn(self._respond_when_done(work, respond, Asker.of_command(command)))

    async def _command_reply(self, command: dict[str, Any]) -> Reply:
        """Run a slash command through the core; never raises."""
        try:
            name = slash.core_name(str(command.get("command", "")))
            actor = await self.directory.actor(
                self.installation.community(command.get("team_id")),
                str(command.get("user_id", "")),
                str(command.get("user_name", "")),
            )
            # Slack escapes &, < and > in what people type; the core wants their real text.
            text = render.unescape(str(command.get("text", "")))
            reply = await dispatch.run_text(self.ctx, actor, name, text)
            if not reply.error and self._channel_cards:
                self._after_typed(command, actor, name, text)
            return reply
        except Exception:
            log.exception("Slack command %s failed", command.get("command"))
            return dispatch.error_reply(dispatch.APOLOGY)

    async def _respond_when_done(
        self, work: asyncio.Future[Reply], respond: AsyncRespond | None, asker: Asker
    ) -> None:
        reply = await work
        await self.responder.respond(respond, reply, asker)

    async def on_action(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """A button click: ack at once, run the button's action, answer by response_url.

        **Reject** (``cop:reject:<id>``) opens the reason modal instead.
        """
        await ack()
        parsed = parse_custom_id(str(action.get("action_id", "")))
        if self.inflight.closing:
            restarting = dispatch.error_reply(dispatch.RESTARTING)
            work = self.inflight.spawn(self.responder.respond(respond, restarting, Asker.of_action(body)))
        elif parsed is not None and parsed[0] == "reject":
            work = self.inflight.spawn(self._open_reject_form(body, parsed[1], respond))
        else:
            work = self.inflight.spawn(self._answer_action(body, action, respond))
        await asyncio.wait({work}, timeout=self.answer_within)

    async def _actor(self, body: dict[str, Any]) -> Actor:
        """Who clicked or submitted: their community is the installed workspace (also in a DM)."""
        user = body.get("user") or {}
        team = body.get("team") or {}
        return await self.directory.actor(
            self.installation.community(team.get("id") or user.get("team_id")),
            str(user.get("id", "")),
            str(user.get("username") or user.get("name") or ""),
        )

    async def _answer_action(
        self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        try:
            actor = await self._actor(body)
            reply = await dispatch.run_action(self.ctx, actor, str(action.get("action_id", "")))
        except Exception:
            log.exception("Slack button %s failed", action.get("action_id"))
            reply = dispatch.error_reply(dispatch.APOLOGY)
        await self._answer_press(body, reply, respond)

    async def _answer_press(self, body: dict[str, Any], reply: Reply, respond: AsyncRespond) -> None:
        """Answer a button press with ``reply``, and bring what it pressed up to date."""
        # Noted as soon as it is worked out: its place in line among the presses on the message.
        updates = reply.spent or reply.refresh
        place = self._pressed.answered(_pressed_message(body), reply.spent, reply.answered) if updates else 0
        channel_card = self._channel_card(body, reply)
        card_place = self._pressed.answered(channel_card.message) if channel_card is not None else 0
        await self.responder.respond(respond, reply, Asker.of_action(body))
        await self._update_pressed(body, reply, respond, place)
        if channel_card is not None:
            await self._update_channel_card(body, reply, channel_card, card_place)

    async def _update_pressed(
        self, body: dict[str, Any], reply: Reply, respond: AsyncRespond, place: int
    ) -> None:
        """Bring the message whose button was pressed up to date, so that the next person is not
        misled; a failure is only logged. A card whose Claim or Release was pressed is replaced
        (by the response_url) by one showing who holds the problem now (:attr:`Reply.refresh`);
        an answered reminder loses that claim's buttons by ``chat.update`` (:attr:`Reply.spent`).
        An ephemeral message (which Slack sends no copy of) is replaced likewise when it is a
        private card or a private /claims list: see :meth:`_update_private`."""
        container = body.get("container") or {}
        message = body.get("message") or {}
        if not (reply.spent or reply.refresh):
            return
        if container.get("is_ephemeral"):
            await self._update_private(body, reply, respond, place)
            return
        if not message:
            return
        card = reply.refreshing(render.buttons_of(message.get("blocks")))
        if card is not None:
            await self._replace(
                respond, card, _pressed_message(body), place, "refresh a card after a button press"
            )
            return
        channel, ts = container.get("channel_id"), container.get("message_ts") or message.get("ts")
        # The message as this press carried it may predate an earlier press's update, and a
        # later press may have updated it already (bot.pressed).
        async with self._pressed.editing(_pressed_message(body), place) as update:
            blocks = render.without(message.get("blocks"), tuple(update.taken))
            # How it was answered, said on the message itself.
            blocks = render.answered(blocks or message.get("blocks"), update.notes) or blocks
            if blocks is None or not channel or not ts:
                return
            try:
                await self.client.chat_update(
                    channel=str(channel),
                    ts=str(ts),
                    text=str(message.get("text") or ""),
                    blocks=blocks,
                    parse="none",
                    link_names=False,
                )
            except Exception as exc:
                failure = slack_error(exc) or exc
                log.warning("could not take spent buttons off Slack message %s: %s", ts, failure)

    async def _update_private(
        self, body: dict[str, Any], reply: Reply, respond: AsyncRespond, place: int
    ) -> None:
        """An ephemeral message whose button was pressed, brought up to date by the response_url
        (Slack sends no copy of it, so it is known by the button pressed): a private card whose
        Claim or Release was pressed (the answer to a Claim) shows who holds the problem now, as
        a card in a channel does; a private /claims list whose Release was pressed shows the
        member's list as it is now, on the page pressed (the last, when that one is gone),
        without the claim released. A failure is only logged."""
        action = (body.get("actions") or [{}])[0]
        pressed = _pressed_card_button(body)
        label = str((action.get("text") or {}).get("text") or "")
        if reply.relist is not None and action.get("action_id") in reply.spent:
            # A /pending list whose Approve or Reject was pressed: what still waits.
            await self._relist(respond, reply.relist, place, _pressed_message(body))
            return
        if pressed is None:
            return
        kind, number, page = pressed
        listed = kind == "release" and label == release_button(number).label
        if listed and action.get("action_id") not in reply.spent:
            return
        # Only a card of that problem holds its Claim, and only a card a Release so labelled.
        card = None if listed else reply.refreshing((Button("Claim", "claim", number),))
        if not listed and card is None:
            return

        async def shown() -> Reply:  # the list read once no other update of it runs
            now = await own_claims(self.ctx, await self._actor(body), page) if card is None else card
            return dataclasses.replace(now, private=True)  # it stays shown to them only

        what = "refresh a /claims list after a release" if card is None else "refresh a private card"
        await self._replace(respond, shown, _pressed_message(body), place, what)

    def _channel_card(self, body: dict[str, Any], reply: Reply) -> _ChannelCard | None:
        """The card in a channel to bring up to date after this press, besides the message
        pressed: a Claim pressed on a channel card is remembered (its answer is a private card
        with Release); a Claim or Release pressed on that private card returns the channel card
        whose Claim the same person last pressed for that problem, while Slack still takes its
        response_url. None otherwise."""
        pressed = _pressed_card_button(body)
        if pressed is None or reply.refresh is None:
            return None
        kind, number, _ = pressed
        user, team = body.get("user") or {}, body.get("team") or {}
        key = (str(team.get("id") or user.get("team_id") or ""), str(user.get("id") or ""), number)
        now = self.ctx.clock()
        if not (body.get("container") or {}).get("is_ephemeral"):
            url = str(body.get("response_url") or "")
            on = render.buttons_of((body.get("message") or {}).get("blocks"))
            if kind == "claim" and url and reply.refreshing(on) is not None:  # a card
                self._channel_cards.pop(key, None)
                self._channel_cards[key] = _ChannelCard(_pressed_message(body), url, now)
                while len(self._channel_cards) > CHANNEL_CARDS:
                    self._channel_cards.popitem(last=False)
            return None
        return self._remembered(key)

    def _remembered(self, key: tuple[str, str, str]) -> _ChannelCard | None:
        """The channel card remembered for ``key`` (team, user, problem), counting the post about
        to be made to its response_url; None (and it is forgotten) once Slack would refuse it."""
        card = self._channel_cards.get(key)
        expired = card is not None and self.ctx.clock() - card.pressed_at >= RESPONSE_URL_LIFE
        if card is None or expired or card.uses >= RESPONSE_URL_USES:
            self._channel_cards.pop(key, None)
            return None
        card.uses += 1
        return card

    def _after_typed(self, command: dict[str, Any], actor: Actor, name: str, text: str) -> None:
        """A /claim or /release typed, and answered without error, by someone whose Claim on a card
        in a channel answered them with a private card: that card is replaced by one showing who
        holds the problem now, as a Claim or Release pressed on the private card would (see
        :meth:`_update_channel_card`), while Slack still takes its response_url."""
        number = typed_card_change(name, text)
        if number is None:
            return
        key = (str(command.get("team_id") or ""), str(command.get("user_id") or ""), number)
        card = self._remembered(key)
        if card is not None:
            place = self._pressed.answered(card.message)
            self.inflight.spawn(self._retell_channel_card(actor, number, card, place))

    async def _retell_channel_card(self, actor: Actor, number: str, card: _ChannelCard, place: int) -> None:
        """Put the card of ``number`` as it now is in place of ``card`` (see :meth:`_after_typed`)."""
        try:
            shown = await card_now(self.ctx, actor, number)
        except Exception:
            log.exception("could not read the card of %s after a typed command", number)
            return
        if shown is not None:
            await self._put_channel_card(card, shown, place, "a typed command")

    async def _update_channel_card(
        self, body: dict[str, Any], reply: Reply, card: _ChannelCard, place: int
    ) -> None:
        """A Claim or Release pressed on a private card answering a Claim on ``card`` (a card in
        a channel): ``card`` is replaced by one showing who holds the problem now, as a press on
        it would, so the channel is not told a problem is taken after its claim was released, or
        the reverse. Slack sends no copy of a private card, nor the channel card's message, so
        the card is replaced through the response_url of the Claim pressed on it, which Slack
        takes for 30 minutes; later (or after a restart) the channel card is brought up to date
        by the next press on it. A failure is only logged."""
        pressed = _pressed_card_button(body)
        shown = reply.refreshing((Button("Claim", "claim", pressed[1]),)) if pressed is not None else None
        if shown is not None:
            await self._put_channel_card(card, shown, place, "a press on a private card")

    async def _put_channel_card(self, card: _ChannelCard, shown: Reply, place: int, after: str) -> None:
        """Put ``shown`` in place of ``card`` through its response_url (see :meth:`_replace`)."""
        respond = AsyncRespond(response_url=card.response_url)
        await self._replace(respond, shown, card.message, place, f"refresh a channel card after {after}")

    async def _relist(self, respond: AsyncRespond, relist: Reply, place: int, message: str) -> None:
        """Put ``relist`` in place of the private list pressed (by ``respond``, its response_url),
        unless a later press showed it already; a failure is only logged."""
        shown = dataclasses.replace(relist, private=True)
        await self._replace(
            respond, shown, message, place, "bring a /pending list up to date after a decision"
        )

    async def _replace(
        self,
        respond: AsyncRespond,
        shown: Reply | Callable[[], Awaitable[Reply]],
        message: str,
        place: int,
        what: str,
    ) -> None:
        """Put ``shown`` in place of ``message`` through ``respond`` (a press's response_url), unless
        a later press showed it already; a failure is only logged ("could not <what>"). ``shown``
        may be worked out once no other update of ``message`` runs: a function that reads it."""
        async with self._pressed.editing(message, place) as update:
            if update.superseded:
                return
            try:
                now = shown if isinstance(shown, Reply) else await shown()
                answer = await respond(**response(now), replace_original=True)
                failure = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
            except Exception as exc:
                failure = type(exc).__name__
            if failure:
                log.warning("could not %s: %s", what, failure)

    async def _open_reject_form(self, body: dict[str, Any], target: str, respond: AsyncRespond) -> None:
        """**Reject with reason**: a moderator gets the modal; anyone else an answer saying why not.

        Slack's trigger_id lasts 3 s, so this checks only what is quick (cached rights, one row).
        """
        link = None
        try:
            actor = await self._actor(body)
            named = decision_target_or_none(target)
            link = await submissions.get_link(self.ctx.store, named[0]) if named is not None else None
            if not actor.is_moderator:
                reply = dispatch.error_reply("Only moderators can decide submissions.")
            elif link is None or link.id is None or not ours(link, actor):
                reply = dispatch.error_reply(NO_SUCH_SUBMISSION)
            elif link.status != LinkStatus.PENDING:
                # Answered as Approve pressed there is: a /pending list shows what still waits.
                try:
                    await decided_already(self.ctx, actor, target)
                except CommandError as exc:
                    reply = dispatch.error_of(exc)
            else:
                pending = review.Pending(link.id, body.get("response_url"), bool(named and named[1]))
                await self.client.views_open(
                    trigger_id=str(body.get("trigger_id", "")), view=review.reject_view(link, pending)
                )
                return
        except Exception:
            log.exception("opening the reject form for submission %s failed", target)
            # A ❌ decides only a submission posted in the moderator channel; one /pending lists
            # without a post (not posted yet, or refused) is decided there alone.
            reply = dispatch.error_reply(
                "Sorry, I could not open the form. Try again, or react ❌ to reject without a reason."
                if link is not None and link.mod_message_id
                else "Sorry, I could not open the form. Press Reject again to try once more."
            )
        await self._answer_press(body, reply, respond)

    async def on_reject_reason(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The reason modal was submitted: ack within 3 s (closing it), then reject."""
        reason = review.submitted_reason(view)
        if self.inflight.closing:  # the form stays open, to be sent again in a minute
            await ack(response_action="errors", errors={review.BLOCK_ID: dispatch.RESTARTING})
            return
        if not reason:
            await ack(response_action="errors", errors={review.BLOCK_ID: "Please say why, in a few words."})
            return
        await ack()
        work = self.inflight.spawn(self._reject_with_reason(body, view, reason))
        await asyncio.wait({work}, timeout=self.answer_within)

    async def _reject_with_reason(self, body: dict[str, Any], view: dict[str, Any], reason: str) -> None:
        pending = review.Pending.load(str(view.get("private_metadata") or ""))
        try:
            actor = await self._actor(body)

            async def reject() -> Reply:
                if pending is None:
                    raise CommandError("That form is broken; use /pending instead.")
                return await decide_link(
                    self.ctx, actor, pending.link_id, False, reason, listed=pending.listed
                )

            reply = await dispatch.run_form(self.ctx, actor, "reject", reject)
        except Exception:
            log.exception("rejecting with a reason failed")
            reply = dispatch.error_reply(dispatch.APOLOGY)
        url = self.responder.slacks(pending.response_url) if pending else None
        respond = AsyncRespond(response_url=url) if url else None
        await self.responder.respond(respond, reply, Asker.of_action(body))
        if respond is not None and reply.relist is not None:
            # The form was opened from a /pending list, known by the response_url of its press.
            place = self._pressed.answered(url or "", reply.spent)
            await self._relist(respond, reply.relist, place, url or "")


def _pressed_card_button(body: dict[str, Any]) -> tuple[str, str, int] | None:
    """The Claim or Release an action payload presses: ``claim`` or ``release``, the problem it
    names, and the page of /claims it was pressed on (1 for a card's); None for any other."""
    parsed = parse_custom_id(str(((body.get("actions") or [{}])[0]).get("action_id") or ""))
    if parsed is None or parsed[0] not in {"claim", "release"}:
        return None
    number, page = release_target(parsed[1]) if parsed[0] == "release" else (parsed[1], 1)
    return parsed[0], number, page


def _pressed_message(body: dict[str, Any]) -> str:
    """The message whose button an action payload presses, as ``channel/ts``."""
    container, message = body.get("container") or {}, body.get("message") or {}
    return f"{container.get('channel_id')}/{container.get('message_ts') or message.get('ts')}"
