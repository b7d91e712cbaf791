"""Answering Discord interactions: slash commands, autocomplete, buttons and the reason form.

Each interaction is run through the core once per interaction id (a replayed event is skipped)
and answered within Discord's 3 s: at once, or deferred ("thinking…") and followed up. **Reject
with reason** answers with a modal instead, whose submission rejects (:mod:`bot.discord.review`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from bot.discord import channels, render, review
from bot.discord.inflight import InFlight
from bot.discord.people import Directory
from bot.discord.suggest import Catalogue
from bot.pressed import PressedMessages
from bot.seen import Seen
from commands import dispatch
from commands.parser import Kind
from commands.registry import COMMANDS
from commands.submissions import NO_SUCH_SUBMISSION, decide_link, decided_already, decision_target_or_none
from commands.types import Actor, BadArgument, CommandError, Context, Reply, parse_custom_id, record_id
from storage import submissions
from storage.models import LinkStatus, WorkLink
from storage.text import without_bidi
from storage.units import AlreadyApplied

log = logging.getLogger("copbot.discord")

DEFER_AFTER = 2.0  # Discord drops an interaction not answered within 3 s
# The longest copbot waits for Discord to take one answer (a deferral, a reply, a follow-up).
# discord.py sends these through its webhook client, which sleeps out any 429's retry_after
# without a bound (its max_ratelimit_timeout does not apply there): a rate limit of minutes held
# the answer, its user looking at "thinking…", and the follow-ups queued behind it.
ANSWER_WAIT = 10.0
ALREADY_ACKNOWLEDGED = 40060  # Discord's code for a second answer to one interaction
OUTDATED = "That command has changed; Discord will show the new version shortly. Please try again."
NOT_A_MODERATOR = "Only moderators can decide submissions."
NO_FORM = "Sorry, I could not open the form. Try again, or react ❌ to reject without a reason."
NO_REASON = "Please say why, in a few words; nothing changed."
SETUP = "setup"  # the core command that names the moderator and reminder channels


# Options that turn a command's answer into a private list: /problem 2.4 all (or page:2) lists its
# existing work privately, /problem 2.4 posts the card. A deferral guesses each shape apart.
LISTING = ("all", "page")


def answer_key(command: str, values: dict[str, Any]) -> str:
    """The kind of answer a slash command's ``values`` ask of it, for the deferral's guess (see
    Interactions._answer): ``problem`` (its card) and ``problem all`` (its list) apart."""
    listing = any(values.get(name) not in (None, False, "") for name in LISTING)
    return f"{command} all" if listing else command


class Interactions:
    """Answers interactions through the core in ``ctx``: the :class:`bot.discord.commands.Host`
    of the command tree, and what the client hands buttons and forms to."""

    def __init__(
        self,
        ctx: Context,
        directory: Directory,
        catalogue: Catalogue,
        inflight: InFlight,
        *,
        defer_after: float = DEFER_AFTER,
        answer_wait: float = ANSWER_WAIT,
    ) -> None:
        """``defer_after``: seconds the core may take before the interaction is deferred;
        ``answer_wait``: seconds Discord may take to accept one answer before copbot gives it up."""
        self.ctx, self.directory, self.catalogue, self.inflight = ctx, directory, catalogue, inflight
        self.defer_after = defer_after
        self.answer_wait = answer_wait
        self.skipped_duplicates = 0
        self._seen = Seen()
        self._public: dict[str, bool] = {}
        self._pressed = PressedMessages()

    async def run_command(
        self, interaction: discord.Interaction[Any], command: str, values: dict[str, Any]
    ) -> None:
        """A slash command: run it through the core and answer."""

        def vet(name: str) -> None:
            if name == SETUP and (refusal := channels.setup_refusal(interaction)) is not None:
                raise BadArgument(refusal)

        async def produce() -> Reply:
            actor = await self.directory.actor(interaction)
            reply = await dispatch.run_named(self.ctx, actor, command, values, vet)
            spec = COMMANDS.get(command)
            if spec is not None and spec.admin_only and interaction.guild_id:
                self.directory.forget(interaction.guild_id)  # settings may have changed
            if command == SETUP and interaction.guild_id:
                # Say which channel copbot cannot use as it must (Discord let the admin pick it).
                # The server as the gateway sent it to copbot's bot user (interaction.guild falls
                # back to a bare one from the interaction: no channels, no roles, to check against).
                reply = await channels.with_warnings(
                    self.ctx.store,
                    interaction.client.get_guild(interaction.guild_id),
                    interaction.guild_id,
                    reply,
                    self.ctx.stale_grace_days,
                    interaction.application_id,
                )
            return reply

        await self._answer(interaction, f"/{command}", answer_key(command, values), produce)

    async def on_click(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        """A button: run its action through the core and answer.

        **Reject with reason** (``cop:reject:<id>``) opens the reason form instead.
        """
        parsed = parse_custom_id(custom_id)
        if parsed is not None and parsed[0] == "reject":
            if await self._open_reject_form(interaction, parsed[1]):
                await self._answer_decided(interaction, parsed[1])
            return
        action = custom_id.split(":")[1] if custom_id.count(":") >= 2 else "?"

        async def produce() -> Reply:
            return await dispatch.run_action(self.ctx, await self.directory.actor(interaction), custom_id)

        await self._answer(interaction, f"button {action}", f"button:{action}", produce)

    async def suggest(
        self, interaction: discord.Interaction[Any], command: str, kind: Kind, current: str
    ) -> list[app_commands.Choice[str]]:
        """Autocomplete from the cached catalogue; /release's lists the user's claims first."""
        if kind is Kind.NUMBER:
            mine: list[str] = []
            mark = "Your claim"
            community = str(interaction.guild_id) if interaction.guild_id else "dm"
            if command == "release":  # claims are released where they were made: this server's
                mine = await self.catalogue.claimed("discord", community, str(interaction.user.id))
            elif command == "withdraw":  # so are submissions withdrawn
                mine = await self.catalogue.submitted("discord", community, str(interaction.user.id))
                mark = "Your link"
            found = await self.catalogue.numbers(current, mine, mark)
        else:
            found = await self.catalogue.categories(current)
        # A problem's text holding a bidi control (stored before imports dropped them) would
        # turn the choice around: shown without them, as replies are (render.escape).
        return [app_commands.Choice(name=without_bidi(s.name), value=s.value) for s in found]

    async def on_tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """A command the tree could not run (unknown, out of date, bad option): say so privately."""
        outdated = isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch)
        if outdated:
            log.warning("unknown or outdated command in guild %s: %s", interaction.guild_id, error)
        else:
            log.error("command failed in guild %s", interaction.guild_id, exc_info=error)
        answer = OUTDATED if outdated else dispatch.APOLOGY
        await self._send_quietly(interaction, dispatch.error_reply(answer))

    # -- reject with reason ------------------------------------------------------------------

    async def _open_reject_form(self, interaction: discord.Interaction[Any], target: str) -> bool:
        """**Reject with reason**: a moderator gets the form; anyone else a private answer why not.
        True, with nothing answered, when the submission is decided already: the caller answers
        it as Approve pressed there is (:meth:`_answer_decided`).

        A modal must be the first answer (a deferred interaction cannot open one), so this only
        does what is quick: the moderator check (role cached) and one row.
        """
        if self.inflight.closing:
            await self._send_quietly(interaction, dispatch.error_reply(dispatch.RESTARTING))
            return False
        with self.inflight.busy():
            try:
                if not self._seen.first(interaction.id):
                    self.skipped_duplicates += 1
                    log.info("skipped interaction %s (button reject): already handled", interaction.id)
                    return False
                actor = await self.directory.actor(interaction)
                named = decision_target_or_none(target)
                link = await self._submission_for(actor, str(named[0])) if named else None
                if not actor.is_moderator:
                    reply = dispatch.error_reply(NOT_A_MODERATOR)
                elif link is None:
                    reply = dispatch.error_reply(NO_SUCH_SUBMISSION)
                elif link.status != LinkStatus.PENDING:
                    return True
                else:
                    # A form is an answer too: bounded as the others are (see ANSWER_WAIT).
                    opened = interaction.response.send_modal(
                        review.reject_modal(link, bool(named and named[1]))
                    )
                    where = f"open the reject form for submission {link.id} in guild {interaction.guild_id}"
                    if not await self._within(opened, where):
                        return False
                    log.info(
                        "button reject in guild %s: form opened for submission %s",
                        interaction.guild_id,
                        link.id,
                        extra={"command": "button reject", "community": str(interaction.guild_id or "dm")},
                    )
                    return False
            except Exception:
                log.exception("opening the reject form for submission %s failed", target)
                reply = dispatch.error_reply(NO_FORM)
            await self._send_quietly(interaction, reply)
            return False

    async def _answer_decided(self, interaction: discord.Interaction[Any], target: str) -> None:
        """**Reject** pressed on a submission decided already: answered as Approve pressed there
        is, saying who decided it, and a /pending list pressed shows what still waits."""

        async def produce() -> Reply:
            try:
                await decided_already(self.ctx, await self.directory.actor(interaction), target)
            except CommandError as exc:
                return dispatch.error_of(exc)

        # The interaction id was claimed by the form's checks (_open_reject_form).
        await self._answer(interaction, "button reject", "button:reject", produce, claimed=True)

    async def on_reject_reason(
        self, interaction: discord.Interaction[Any], link_id: int, listed: bool, reason: str
    ) -> None:
        """The reason form was submitted: reject with that reason (moderators only, once); one
        opened from a /pending list (``listed``) brings that list up to date, as its buttons do."""

        async def produce() -> Reply:
            actor = await self.directory.actor(interaction)

            async def reject() -> Reply:
                if not actor.is_moderator:
                    raise CommandError(NOT_A_MODERATOR)
                if await self._submission_for(actor, str(link_id)) is None:
                    raise CommandError(NO_SUCH_SUBMISSION)
                if not reason:
                    raise CommandError(NO_REASON)
                return await decide_link(self.ctx, actor, link_id, False, reason, listed=listed)

            return await dispatch.run_form(self.ctx, actor, "reject", reject)

        await self._answer(interaction, "form reject", "form:reject", produce)

    async def _submission_for(self, actor: Actor, target: str) -> WorkLink | None:
        """The submission a button or form names, if it belongs to the actor's community."""
        link_id = record_id(target)
        link = await submissions.get_link(self.ctx.store, link_id) if link_id is not None else None
        if link is None or link.id is None:
            return None
        if (link.platform, link.community_id) != (actor.platform, actor.community_id):
            return None
        return link

    # -- answering ---------------------------------------------------------------------------

    async def _answer(
        self,
        interaction: discord.Interaction[Any],
        label: str,
        key: str,
        produce: Callable[[], Awaitable[Reply]],
        *,
        claimed: bool = False,
    ) -> None:
        """Run ``produce`` once per interaction id (``claimed``: the caller saw it first in this
        process already); answer at once, or defer and follow up.

        ``key`` names the kind of answer: a deferral guesses the reply's visibility from the last
        reply under the same key, and fixes a wrong guess by replacing the "thinking" message.
        """
        if self.inflight.closing:
            await self._send_quietly(interaction, dispatch.error_reply(dispatch.RESTARTING))
            return
        started = time.perf_counter()
        with self.inflight.busy():
            try:
                # The answer is produced in this task; if it takes longer than defer_after, a timer
                # sends the deferral from a task of its own meanwhile (defer_after 0: at once).
                deferred_public: bool | None = None
                deferral: asyncio.Task[bool] | None = None

                def defer() -> None:
                    nonlocal deferred_public, deferral
                    deferred_public = self._public.get(key, False)
                    deferral = asyncio.ensure_future(self._defer(interaction, label, not deferred_public))

                loop = asyncio.get_running_loop()
                timer = loop.call_later(self.defer_after, defer) if self.defer_after > 0 else None
                if timer is None:
                    defer()
                try:
                    reply = await self._once(interaction, produce, claimed=claimed)
                    place = self._note_press(interaction, reply)
                finally:
                    if timer is not None:
                        timer.cancel()
                    if deferral is not None:
                        await deferral  # the deferral reaches Discord before the reply
                if reply is None:
                    self.skipped_duplicates += 1
                    log.info("skipped interaction %s (%s): already handled", interaction.id, label)
                    return
                try:
                    answered = await self._within(
                        self._deliver(interaction, reply, deferred_public, place),
                        f"answer {label} in guild {interaction.guild_id}",
                        "the answer",
                    )
                except discord.HTTPException as exc:
                    if deferral is None or deferral.result():
                        raise
                    # The deferral was given up: most likely Discord never took it, so there is
                    # no answer to follow up (had it taken it late, the follow-up went out).
                    log.warning(
                        "could not answer %s in guild %s after its deferral was given up: %s",
                        label,
                        interaction.guild_id,
                        exc,
                    )
                    await self._update_pressed(interaction, reply, place)
                    return
                if not answered:
                    # The press did its work (a claim made, a reminder answered): the message
                    # pressed still shows it, through a route of its own the limit may spare.
                    await self._update_pressed(interaction, reply, place)
                    return
                await self._update_pressed(interaction, reply, place)
                if not reply.error:
                    self._public[key] = not reply.private
                # The core already logs each command and button press (with its outcome and
                # latency); say more only for deferrals and forms.
                quiet = deferred_public is None and key != "form:reject"
                log.log(
                    logging.DEBUG if quiet else logging.INFO,
                    "%s in guild %s: %s in %.0f ms%s",
                    label,
                    interaction.guild_id or "dm",
                    "error" if reply.error else "ok",
                    (time.perf_counter() - started) * 1000,
                    " (deferred)" if deferred_public is not None else "",
                    extra={"command": label, "community": str(interaction.guild_id or "dm")},
                )
            except Exception:
                log.exception("answering %s in guild %s failed", label, interaction.guild_id)

    async def _defer(self, interaction: discord.Interaction[Any], label: str, ephemeral: bool) -> bool:
        """Tell Discord the answer comes later (it shows "thinking…"); a failure is only logged.
        False when it was given up after ``answer_wait`` (Discord may never have taken it)."""
        try:
            deferral = interaction.response.defer(ephemeral=ephemeral, thinking=True)
            if not await self._within(deferral, f"defer {label} in guild {interaction.guild_id}"):
                return False
        except discord.HTTPException as exc:
            if exc.code == ALREADY_ACKNOWLEDGED:  # a duplicate: another process (or delivery) answered
                log.info(
                    "could not defer %s in guild %s, already answered: %s", label, interaction.guild_id, exc
                )
                return True
            log.warning("could not defer %s in guild %s: %s", label, interaction.guild_id, exc)
        return True

    async def _once(
        self, interaction: discord.Interaction[Any], produce: Callable[[], Awaitable[Reply]], *, claimed: bool
    ) -> Reply | None:
        """The reply, or None when this interaction id was handled before (a replayed event).

        A replay reaching this process is caught in memory (unless ``claimed``: the caller
        caught it); one reaching another process (or this one after a restart) at its first
        write, which records the id with the change.
        """
        if not claimed and not self._seen.first(interaction.id):
            return None
        try:
            with self.ctx.store.applying(f"discord:interaction:{interaction.id}", self.ctx.clock()):
                return await produce()
        except AlreadyApplied:
            return None
        except Exception as exc:  # before the core took it (who the user is): said as the core says it
            log.exception("interaction %s failed", interaction.id)
            return dispatch.failure_reply(exc)

    async def _deliver(
        self, interaction: discord.Interaction[Any], reply: Reply, deferred_public: bool | None, place: int
    ) -> None:
        kwargs = _render(reply)
        if deferred_public is None:
            if self._through_interaction(interaction, reply):
                # The pressed message is brought up to date by the answer itself (UPDATE_MESSAGE),
                # and the reply follows it up.
                async with self._pressed_edit(interaction, reply, place, embeds=True) as edit:
                    if edit is not None:
                        await interaction.response.edit_message(**edit)
                if interaction.response.is_done():
                    await interaction.followup.send(**kwargs, ephemeral=reply.private)
                    return
            await interaction.response.send_message(**kwargs, ephemeral=reply.private)
            return
        if deferred_public == reply.private:
            # The "thinking" message has the wrong visibility: replace it.
            try:
                await interaction.delete_original_response()
            except discord.HTTPException as exc:
                log.warning("could not remove the deferred message of %s: %s", interaction.id, exc)
        await interaction.followup.send(**kwargs, ephemeral=reply.private)

    def _note_press(self, interaction: discord.Interaction[Any], reply: Reply | None) -> int:
        """Note a press whose answer updates the pressed message, as soon as it is worked out:
        its place in line (bot.pressed), 0 for any other interaction."""
        message = interaction.message
        if reply is None or message is None or not (reply.spent or reply.refresh):
            return 0
        return self._pressed.answered(str(message.id), reply.spent, reply.answered)

    def _through_interaction(self, interaction: discord.Interaction[Any], reply: Reply) -> bool:
        """Whether the pressed message is brought up to date through the press's own answer
        (Discord's UPDATE_MESSAGE), where an edit through the channel cannot do it well: an
        ephemeral message (a private /claims list), which the channel cannot edit at all, and a
        card refreshed where copbot lacks Embed Links (a channel edit would lose its embed; an
        interaction's answer keeps it)."""
        message = interaction.message
        if message is None or not (reply.spent or reply.refresh):
            return False
        if message.flags.ephemeral:
            return True
        refreshed = reply.refreshing(render.buttons_of(message)) is not None
        return refreshed and not interaction.app_permissions.embed_links

    @contextlib.asynccontextmanager
    async def _pressed_edit(
        self, interaction: discord.Interaction[Any], reply: Reply, place: int, *, embeds: bool
    ) -> AsyncIterator[dict[str, Any] | None]:
        """While no other update of the pressed message runs: the edit that brings it up to
        date, or None to leave it. A card whose Claim or Release was pressed shows who holds the
        problem now (:attr:`Reply.refresh`); any other message loses its spent buttons (an
        answered reminder's, a /claims list's released one: :attr:`Reply.spent`)."""
        message = interaction.message
        assert message is not None
        pressed = render.buttons_of(message)
        card = reply.refreshing(pressed)
        # The message as this press carried it may predate an earlier press's edit, and a later
        # press may have updated it already (bot.pressed).
        async with self._pressed.editing(str(message.id), place) as update:
            if card is not None:
                # The whole message is the card: text a card left as plain text before (an
                # edit where copbot lacked Embed Links) goes, or it would show above the embed.
                # A list left without buttons (nothing waits any more) loses those it had.
                whole = {"content": None, "view": None, **render.message(card, embeds=embeds)}
                yield None if update.superseded else whole
            else:
                kept = tuple(b for b in pressed if b.custom_id not in update.taken)
                edit: dict[str, Any] = {} if len(kept) == len(pressed) else {"view": render.view(kept)}
                if (said := render.answered(message, update.notes)) is not None:
                    edit.update(said)  # how it was answered, said on the message itself
                yield edit or None

    async def _update_pressed(self, interaction: discord.Interaction[Any], reply: Reply, place: int) -> None:
        """Bring the message whose button was pressed up to date through the channel, so that
        the next person is not misled (see :meth:`_pressed_edit`), unless the answer did
        (:meth:`_through_interaction`). A failure is only logged.

        Only a message in a channel copbot can see is edited (an ephemeral one cannot be,
        through the channel; nor one where copbot answers only as an app).
        """
        message = interaction.message
        if message is None or message.flags.ephemeral or not (reply.spent or reply.refresh):
            return
        if interaction.response.type == discord.InteractionResponseType.message_update:
            return  # the answer updated it
        perms = interaction.app_permissions
        if reply.refreshing(render.buttons_of(message)) is not None and not perms.view_channel:
            return
        async with self._pressed_edit(interaction, reply, place, embeds=perms.embed_links) as edit:
            if edit is None:
                return
            try:
                await message.edit(**edit)
            except (discord.HTTPException, discord.RateLimited) as exc:  # RateLimited: past RATE_LIMIT_WAIT
                log.warning("could not update message %s after a button press: %s", message.id, exc)

    async def _within(self, send: Awaitable[Any], doing: str, what: str = "it") -> bool:
        """Await ``send`` (one answer to Discord) for at most ``answer_wait`` seconds; False, with
        one warning ("could not <doing>"), when Discord did not take ``what`` by then."""
        try:
            async with asyncio.timeout(self.answer_wait):
                await send
        except TimeoutError:
            log.warning(
                "could not %s: Discord did not take %s within %g s (rate limited, or slow to answer)",
                doing,
                what,
                self.answer_wait,
            )
            return False
        return True

    async def _send_quietly(self, interaction: discord.Interaction[Any], reply: Reply) -> None:
        """Answer privately if nothing answered yet; a failure here is only logged. Bounded by
        ``answer_wait`` as every answer is."""
        try:
            if interaction.response.is_done():
                send = interaction.followup.send(**_render(reply), ephemeral=True)
            else:
                send = interaction.response.send_message(**_render(reply), ephemeral=True)
            await self._within(send, f"answer interaction {interaction.id}")
        except discord.HTTPException as exc:
            log.warning("could not answer interaction %s: %s", interaction.id, exc)


def _render(reply: Reply) -> dict[str, Any]:
    try:
        return render.message(reply)
    except Exception:  # a rendering bug must still leave the user an answer
        log.exception("rendering a Discord reply failed")
        return render.message(dispatch.error_reply(dispatch.APOLOGY))
