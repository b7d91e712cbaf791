"""Links to existing work: /submit, /pending, and the moderators' decisions."""

from __future__ import annotations

from dataclasses import replace
from typing import NoReturn
from urllib.parse import urlsplit

from commands.catalogue import PLATFORMS, community_word, get_problem, platform_name, problem_title
from commands.links import (
    LINK_IN_TEXT,
    MAX_LINK,
    BadLink,
    check_link,
    check_public,
    links_in,
    listed_in,
    normalise_link,
    without_tracking,
)
from commands.names import refresh_name
from commands.parser import LIST_JOINERS, QUOTE_MARKS, Kind, Option, visible
from commands.timefmt import ago, clock_time, day, minutes_until, next_minute
from commands.types import (
    Actor,
    BadArgument,
    Button,
    ButtonStyle,
    CommandError,
    Context,
    Link,
    NotAllowed,
    RefLine,
    Reply,
    ReplyField,
    Request,
    Section,
    record_id,
    ref_line,
)
from storage import posts, submissions
from storage.models import LinkStatus, Problem, WorkLink
from storage.text import canonical_number, clip, shows_nothing

APPROVE_EMOJI = "✅"
REJECT_EMOJI = "❌"
MAX_REASON = 500

SUBMIT_OPTIONS = (
    Option("number", Kind.NUMBER, "problem number, like 2.4", required=True),
    Option("link", Kind.LINK, "an http(s) link to the work", required=True, max_length=MAX_LINK),
    Option("note", Kind.TEXT, "what it is, in a few words", rest=True, max_length=500),
)


async def submit_command(ctx: Context, request: Request) -> Reply:
    """/submit NUMBER LINK [note]: send a link to existing work to the moderators."""
    problem = await get_problem(ctx, request.args["number"])
    # Stored and shown without its tracking parameters (utm_source, fbclid…): a clean link.
    link, tracking = without_tracking(request.args["link"].strip().strip("<>"))
    link = check_link(link)
    check_public(link)
    if urlsplit(link).hostname != urlsplit(request.args["link"].strip().strip("<>")).hostname:
        # A host with letters beyond A-Z, which can pass for another site's name: say so.
        host_note = f" Its host has letters beyond A–Z, so it is listed as browsers reach it: {link}"
    else:
        host_note = ""
    note = request.args.get("note", "")
    if more := _only_links(note):
        # Saved as this link's note, the others would never be reviewed or listed as work.
        raise BadArgument(
            f"/submit takes one link at a time: /submit {problem.number} {link}, then "
            f"/submit {problem.number} {more[0]}. Nothing was submitted."
        )
    if others := _only_numbers(note, problem.number):
        # As /claim 2.4 3.1 is answered: the link saved for 2.4 alone, "3.1" its note.
        raise BadArgument(
            f"/submit takes one problem at a time: /submit {problem.number} {link}, then "
            f"/submit {others[0]} {link}. Nothing was submitted."
        )
    if listed_in(problem.existing_work, link):
        raise BadLink(f"That work is already listed under existing work for {problem.number}.")
    try:
        stored = await submissions.submit(
            ctx.store,
            problem.number,
            link,
            normalise_link(link),
            note,
            request.actor.person,
            ctx.clock(),
            ctx.submissions_per_hour,
        )
    except submissions.DuplicateLink as dup:
        if dup.existing.status == LinkStatus.APPROVED:
            state = "approved"
        elif ours(dup.existing, request.actor):
            state = "waiting for the moderators"
        else:  # another community's moderators decide it; this one's /pending does not show it
            state = f"waiting for the moderators {_elsewhere(dup.existing, request.actor)}"
        raise BadLink(f"That work is already submitted for {problem.number} ({state}).") from None
    except submissions.TooManySubmissions as limit:
        links = "link" if limit.per_hour == 1 else "links"
        ready = next_minute(limit.retry_at)
        raise CommandError(
            f"You can submit at most {limit.per_hour} {links} an hour; you can submit again at "
            f"{clock_time(ready)} UTC ({minutes_until(limit.retry_at, ctx.clock())})."
        ) from None
    # Without effects nothing is posted anywhere (the local console): moderators use /pending.
    posted = await ctx.effects.submitted(stored) if ctx.effects else "nowhere"
    if posted == "posted":
        text = (
            f"Thanks! Your link for {problem.number} went to the moderators; I'll tell you what they decide."
        )
    elif posted == "later":
        text = (
            f"Thanks! Your link for {problem.number} is saved; I could not reach the moderators' channel "
            "just now and will post it there shortly."
        )
    elif posted == "blocked":
        text = (
            f"Thanks! Your link for {problem.number} is saved and pending, but I may not post in the "
            "moderators' channel (it is gone, or I lack a permission there): please tell an admin. "
            "It goes to the moderators as soon as I can post there."
        )
    elif posted == "refused":
        text = (
            f"Thanks! Your link for {problem.number} is saved and pending, but "
            f"{platform_name(stored.platform)} refused my post of it in the moderators' channel, so "
            "a moderator decides it with /pending instead; I'll tell you what they decide."
        )
    elif posted == "nowhere":
        text = (
            f"Thanks! Your link for {problem.number} is saved and pending. This console posts "
            "nowhere: a moderator decides it with /pending."
        )
    else:
        text = (
            f"Thanks! Your link for {problem.number} is saved, but no moderator channel is set: it stays "
            "pending (moderators see it in /pending) and is posted for them as soon as one is set."
        )
    if tracking:
        names = list(dict.fromkeys(tracking))
        which = "parameter" if len(names) == 1 else "parameters"
        text += f" It is listed without its tracking {which} ({', '.join(names)})."
    return Reply(text=text + host_note, private=True)


def _list_items(text: str) -> list[str]:
    """The items of a list a member typed (``a, b and c``): its words without the commas,
    semicolons and joining words (:data:`commands.parser.LIST_JOINERS`) between them."""
    words = text.replace(",", " ").replace(";", " ").split()
    return [word for word in words if word.lower() not in LIST_JOINERS]


def _only_links(note: str) -> list[str]:
    """The links a note holds when it is nothing else (``https://a.org/x, https://b.org/y`` or
    ``and https://b.org/y``): more links to submit, not words about the first; else []."""
    found = links_in(note)
    return found if found and not _list_items(LINK_IN_TEXT.sub(" ", note)) else []


def _only_numbers(note: str, number: str) -> list[str]:
    """The problem numbers other than ``number`` a note holds when it is nothing else (``3.1``,
    ``3.1 and 3.2``): more problems to submit the link for, not words about it; else []."""
    found = [canonical_number(word) for word in _list_items(note)]
    if not found or None in found:
        return []
    return [other for other in dict.fromkeys(found) if other is not None and other != number]


WITHDRAW_OPTIONS = (
    Option("number", Kind.NUMBER, "problem number, like 2.4 (none: list all of yours that wait)"),
    Option("link", Kind.LINK, "which of your links, when several wait for that problem", max_length=MAX_LINK),
)


async def withdraw_command(ctx: Context, request: Request) -> Reply:
    """/withdraw [NUMBER [link]]: take back your own submission while it waits for the moderators
    (a wrong link, or one submitted twice under other problems); its moderator post then says so
    and offers nothing to decide. Only its submitter may, only before a decision."""
    who = request.actor.person
    if "number" not in request.args:
        # All of the member's links waiting here, each with its button: what they may withdraw.
        if request.args.get("link"):
            raise BadArgument("Give the problem number too, e.g. /withdraw 2.4 https://example.org/post")
        return _all_waiting(await submissions.pending(ctx.store, who.platform, who.community_id, who.user_id))
    problem = await get_problem(ctx, request.args["number"])
    mine = await submissions.submitted_by(ctx.store, who, problem.number)
    if raw := request.args.get("link", "").strip().strip("<>"):
        try:
            wanted = normalise_link(check_link(without_tracking(raw)[0]))
        except BadLink:  # none of theirs, which /submit checked: said with those that wait
            wanted = None
        chosen = [link for link in mine if link.normalized_url == wanted]
    else:
        chosen = mine
    waiting = [link for link in chosen if link.status == LinkStatus.PENDING]
    if not waiting:
        raise CommandError(_nothing_to_withdraw(problem.number, mine, chosen, bool(raw)))
    if len(waiting) > 1:
        return _which(problem.number, waiting)
    return await _withdraw(ctx, request.actor, waiting[0])


def _all_waiting(waiting: list[WorkLink]) -> Reply:
    """/withdraw alone: all of the member's links waiting here, oldest first, each with its
    problem, a Withdraw button for the first few; as brought up to date after a press, too."""
    if not waiting:
        return Reply(text="None of your links waits for the moderators here.", private=True)
    return Reply(
        text=(
            f"Your links waiting for the moderators here: {len(waiting)}. Press Withdraw to take "
            "one back, or type /withdraw NUMBER."
        ),
        sections=(_waiting_section([f"{link.problem_number} #{link.id}: {link.url}" for link in waiting]),),
        buttons=tuple(withdraw_button(link, everything=True) for link in waiting[:WITHDRAW_BUTTONS]),
        private=True,
    )


def _which(number: str, waiting: list[WorkLink]) -> Reply:
    """/withdraw's question when several of the member's links for ``number`` wait (newest
    first): a Withdraw button each (as many as a message holds), or the link typed. As the
    question is brought up to date after a press: one left, or none."""
    if not waiting:
        return Reply(text=f"None of your links for {number} waits for the moderators now.", private=True)
    many = len(waiting) > 1
    return Reply(
        text=(
            f"{len(waiting)} of your links for {number} {'wait' if many else 'waits'} for the moderators. "
            f"Which do you withdraw? Press its button, or type /withdraw {number} and the link."
        ),
        sections=(_waiting_section([f"#{link.id}: {link.url}" for link in waiting]),),
        buttons=tuple(withdraw_button(link) for link in waiting[:WITHDRAW_BUTTONS]),
        private=True,
        error=many,
    )


def _waiting_section(lines: list[str]) -> Section:
    """The links /withdraw lists: the first :data:`PENDING_SHOWN`, then how many more."""
    return Section("Waiting", tuple(lines[:PENDING_SHOWN]), more=max(len(lines) - PENDING_SHOWN, 0))


# The most Withdraw buttons /withdraw offers when several of one's links wait for a problem.
WITHDRAW_BUTTONS = 5


# How the target of a Withdraw under /withdraw's list of all one's waiting links ends (``<id>.all``):
# that list, not one problem's question, is what the press brings up to date.
EVERYTHING = ".all"


def withdraw_button(link: WorkLink, everything: bool = False) -> Button:
    """**Withdraw** of one of the member's waiting links, named as /withdraw lists it
    (``everything``: under the list of all of them)."""
    target = f"{link.id}{EVERYTHING if everything else ''}"
    return Button(f"Withdraw {link.problem_number} #{link.id}", "withdraw", target, ButtonStyle.DANGER)


async def withdraw_action(ctx: Context, actor: Actor, target: str) -> Reply:
    """**Withdraw** under /withdraw's question or list: that link, for its submitter alone; the
    question or list is then shown as it now is (:attr:`Reply.relist`), without that link."""
    everything = target.endswith(EVERYTHING)
    link = await submissions.get_link(ctx.store, _link_id(target.removesuffix(EVERYTHING)))
    if link is None or not ours(link, actor) or link.user_id != actor.user_id:
        raise NotAllowed("Only its submitter can withdraw a link.")
    spent = (withdraw_button(link, everything).custom_id,)
    number = None if everything else link.problem_number
    try:
        reply = await _withdraw(ctx, actor, link)
    except CommandError as exc:
        exc.spent, exc.relist = spent, await _which_now(ctx, actor, number)
        raise
    return replace(reply, spent=spent, relist=await _which_now(ctx, actor, number))


async def _which_now(ctx: Context, actor: Actor, number: str | None) -> Reply:
    """/withdraw's question (or list, without ``number``) as it is now, for the front end to put
    in place of the one pressed (:attr:`Reply.relist`): the member's links still waiting."""
    who = actor.person
    if number is None:
        return _all_waiting(await submissions.pending(ctx.store, who.platform, who.community_id, who.user_id))
    waiting = await submissions.submitted_by(ctx.store, who, number)
    return _which(number, [link for link in waiting if link.status == LinkStatus.PENDING])


async def _withdraw(ctx: Context, actor: Actor, link: WorkLink) -> Reply:
    """Withdraw ``link``, the actor's own, found waiting; too late when it was decided (or
    withdrawn) since it was read."""
    assert link.id is not None
    number = link.problem_number
    withdrawn = await submissions.withdraw(ctx.store, link.id, actor.person, ctx.clock())
    if withdrawn is None:
        now = await submissions.get_link(ctx.store, link.id)
        if now is not None and now.status == LinkStatus.WITHDRAWN:
            raise CommandError(f"You withdrew your link for {number} already: {now.url}")
        raise await _unchanged(
            ctx,
            link.id,
            f"Too late: a moderator decided your link for {number} meanwhile ({{status}} by {{who}}); "
            "nothing changed.",
        )
    if ctx.effects:
        await ctx.effects.decided(withdrawn)
    return Reply(
        text=(
            f"Withdrawn: your link for {number} ({withdrawn.url}). The moderators no longer "
            "decide it; /submit sends it again if you change your mind."
        ),
        private=True,
    )


def _nothing_to_withdraw(number: str, mine: list[WorkLink], chosen: list[WorkLink], named: bool) -> str:
    """Why /withdraw found none of the member's links for ``number`` waiting (``chosen``: those
    matching the link they named, when ``named``; ``mine``: all of theirs, newest first)."""
    if chosen:
        last = chosen[0]
        when = day(last.decided_at) if last.decided_at else "earlier"
        if last.status == LinkStatus.WITHDRAWN:
            return f"You withdrew your link for {number} already ({when}): {last.url}"
        how = f"{last.status} by {last.decided_by_name or 'someone'} ({when})"
        then = (
            " A moderator can take the approval back with Undo on its post."
            if last.status == LinkStatus.APPROVED
            else ""
        )
        return (
            f"Too late: your link for {number} was {how}, so there is nothing to withdraw: {last.url}.{then}"
        )
    if named and (waiting := [link.url for link in mine if link.status == LinkStatus.PENDING]):
        return (
            f"You submitted no such link for {number}. Yours waiting for the moderators: {'; '.join(waiting)}"
        )
    if named:
        return f"You submitted no such link for {number}, so there is nothing to withdraw."
    return f"You have submitted nothing for {number} here, so there is nothing to withdraw."


def rejected_line(rejected: WorkLink, before: str = "") -> str:
    """An earlier rejection of the same work, as moderators read it beside a new submission:
    ``2026-12-02 by Mo: not about acronyms`` (after ``before``)."""
    why = f": {rejected.reason}" if rejected.reason else ""
    when = day(rejected.decided_at) if rejected.decided_at is not None else "earlier"
    return f"{before}{when} by {rejected.decided_by_name}{why}"


def moderator_post(
    link: WorkLink, problem: Problem, rejected: WorkLink | None = None, undone: bool = False
) -> Reply:
    """What moderators see for a submission, with its decision when there is one, and the last
    rejection of the same work for the problem (``rejected``), so none is reviewed blind;
    ``undone`` when a decision on it was undone (:func:`storage.submissions.was_undone`)."""
    fields = [ReplyField("Problem", problem_title(problem, 80)), ReplyField("From", link.display_name)]
    sections = [Section("Link", (Link(link.url, link.url),))]
    if link.note:  # one line, as earlier_line shows a release note: no lines of its own making
        sections.append(Section("Note", (" ".join(link.note.split()),)))
    if rejected is not None and rejected.decided_at is not None:
        sections.append(Section("Rejected before", (rejected_line(rejected),)))
    if link.status == LinkStatus.PENDING:
        text = (
            f"New existing work for {problem.number}: react {APPROVE_EMOJI} to approve, "
            f"{REJECT_EMOJI} to reject."
        )
        if undone:
            # The reactions of the decision stay under the post, and one still there is not sent
            # again when added.
            text = (
                f"New existing work for {problem.number}, pending again: its decision was undone "
                f"(see /history {problem.number}). React {APPROVE_EMOJI} to approve, {REJECT_EMOJI} "
                f"to reject (remove your earlier {APPROVE_EMOJI} or {REJECT_EMOJI} first), or use "
                "the buttons."
            )
        buttons: tuple[Button, ...] = (
            Button("Approve", "approve", str(link.id), ButtonStyle.SUCCESS),
            Button("Reject with reason", "reject", str(link.id), ButtonStyle.DANGER),
        )
    elif link.status == LinkStatus.WITHDRAWN:
        text = f"Withdrawn by {link.decided_by_name}, who submitted it: nothing to decide."
        buttons = ()
    else:
        verb = "Approved" if link.status == LinkStatus.APPROVED else "Rejected"
        text = f"{verb} by {link.decided_by_name}" + (f": {link.reason}" if link.reason else ".")
        buttons = (undo_button(link),)
    return Reply(
        title=f"Submission for {problem.number}",
        text=text,
        fields=tuple(fields),
        sections=tuple(sections),
        buttons=buttons,
        private=False,
    )


def moved_post(link: WorkLink, problem: Problem, new_post: str | None) -> Reply:
    """What a moderator post says once its submission was posted again in the moderator channel
    now in use (the channel changed): no buttons, a link to the new post when there is one."""
    fields = (ReplyField("Problem", problem_title(problem, 80)), ReplyField("From", link.display_name))
    sections = [Section("Link", (Link(link.url, link.url),))]
    if new_post:
        sections.append(
            Section("Decide it on the new post", (Link(f"Submission for {problem.number}", new_post),))
        )
    return Reply(
        title=f"Submission for {problem.number}",
        text="Moved: the moderator channel changed, so this submission was posted again there.",
        fields=fields,
        sections=tuple(sections),
        private=False,
    )


def submitter_notice(link: WorkLink, problem: Problem) -> Reply:
    """Telling the submitter what the moderators decided."""
    if link.status == LinkStatus.APPROVED:
        text = (
            f"Your link for {problem_title(problem, 60)} was approved and is now listed under existing work."
        )
    elif link.status == LinkStatus.REJECTED:
        text = f"Your link for {problem_title(problem, 60)} was not accepted" + (
            f": {link.reason}" if link.reason else "."
        )
    else:
        text = f"The decision on your link for {problem.number} was undone; it is pending again."
    return Reply(title="Your submission", text=text, sections=(Section("Link", (Link(link.url, link.url),)),))


def _require_moderator(actor: Actor) -> None:
    if not actor.is_moderator:
        raise NotAllowed("Only moderators can decide submissions.")


# A withdrawn submission, as moderators' answers name it.
_WITHDREW = "{link.decided_by_name} withdrew {link.problem_number} #{link.id}, which they submitted"


def undo_button(link: WorkLink) -> Button:
    """The Undo of ``link``'s decision: it names the decision (``<id>.<revision>``), so a late
    press, or one on an older answer, never undoes a decision made since."""
    return Button("Undo", "undo", f"{link.id}.{link.revision}")


def _undo_target(target: str) -> tuple[int, int | None]:
    """The submission and decision revision an Undo names; buttons made before Undo named its
    decision carry the submission's id alone (revision None): :func:`undo_action` takes one
    back only on a submission never undone, whose decision can only be the one it was made under."""
    link_part, dot, revision_part = target.partition(".")
    revision = record_id(revision_part) if dot else None
    if dot and revision is None:
        raise BadArgument("That button is broken; use /pending instead.")
    return _link_id(link_part), revision


def _link_id(target: str) -> int:
    link_id = record_id(target)
    if link_id is None:
        raise BadArgument("That button is broken; use /pending instead.")
    return link_id


# How the target of a decision button under /pending ends: ``<id>.pending``. The moderator post's
# buttons name the submission alone (``<id>``); told apart, the /pending list a button was pressed
# in is brought up to date after the decision, and the moderator post is left to moderation.
LISTED = ".pending"


def decision_target(target: str) -> tuple[int, bool]:
    """The submission an Approve or Reject names, and whether it was pressed under /pending."""
    listed = target.endswith(LISTED)
    return _link_id(target.removesuffix(LISTED)), listed


def decision_target_or_none(target: str) -> tuple[int, bool] | None:
    """:func:`decision_target`, or None for a broken one (a front end's form answers it)."""
    try:
        return decision_target(target)
    except BadArgument:
        return None


def listed_buttons(link: WorkLink) -> tuple[Button, Button]:
    """The Approve and Reject of ``link`` under /pending, named for it there."""
    target = f"{link.id}{LISTED}"
    return (
        Button(f"Approve {link.problem_number} #{link.id}", "approve", target, ButtonStyle.SUCCESS),
        Button(f"Reject {link.problem_number} #{link.id}", "reject", target, ButtonStyle.DANGER),
    )


def named(link: WorkLink) -> str:
    """A submission as moderators' answers name it, as /pending lists it: ``2.4 #7: <link> from Ann``."""
    return f"{link.problem_number} #{link.id}: {link.url} from {link.display_name}"


NO_SUCH_SUBMISSION = "That submission does not exist; use /pending instead."


def ours(link: WorkLink, actor: Actor) -> bool:
    """Whether ``link`` was submitted in the actor's community, whose moderators decide it."""
    return (link.platform, link.community_id) == (actor.platform, actor.community_id)


def _elsewhere(link: WorkLink, actor: Actor) -> str:
    """Where another community's submission waits, as the actor would say it: "on Slack",
    "in another Discord server", or "elsewhere" (an imported sheet row)."""
    if link.platform == "console":
        return "on the console"
    if link.platform not in PLATFORMS:
        return "elsewhere"
    name = platform_name(link.platform)
    if link.platform != actor.platform:
        return f"on {name}"
    return f"in another {name} {community_word(link.platform)}"


async def _own_link(ctx: Context, actor: Actor, link_id: int) -> WorkLink:
    """The submission a moderator's button or form names, when it is their community's: each
    community decides only its own (a button id or form can name any submission)."""
    link = await submissions.get_link(ctx.store, link_id)
    if link is None or not ours(link, actor):
        raise BadArgument(NO_SUCH_SUBMISSION)
    return link


def reason_as_said(raw: str) -> str:
    """A rejection's reason as typed, without control or invisible characters (zero-width spaces,
    bidi overrides), whitespace collapsed: what :func:`clean_reason` keeps, before it is cut.
    Nothing but joiners or quote marks is no reason (''), as a note of them is no note."""
    said = " ".join(visible(raw).split())
    return "" if shows_nothing(said, QUOTE_MARKS) else said


def clean_reason(raw: str) -> str:
    """A rejection's reason as the post and the submitter show it: :func:`reason_as_said`, at most
    :data:`MAX_REASON` characters. '' means no reason was given: the forms ask again."""
    return reason_as_said(raw)[:MAX_REASON]


async def _unchanged(ctx: Context, link_id: int, answer: str) -> CommandError:
    """A press that changes nothing: the post may still show an older state (its edit failed or
    a restart cut it short), so bring it up to date; the error to answer with."""
    link = await submissions.get_link(ctx.store, link_id)
    if link is None:
        return BadArgument("That submission does not exist.")
    if ctx.effects:
        await ctx.effects.refresh(link)
    return CommandError(answer.format(status=link.status, who=link.decided_by_name or "someone"))


async def decide_link(
    ctx: Context, actor: Actor, link_id: int, approve: bool, reason: str = "", listed: bool = False
) -> Reply:
    """A moderator approves or rejects a submission; the first decision wins.

    ``listed``: decided with a button of a /pending list, whose reply (also when the submission
    was decided already) names that button's pair spent and carries the list as it now is
    (:attr:`Reply.relist`), for the front end to put in place of the list pressed."""
    _require_moderator(actor)
    own = await _own_link(ctx, actor, link_id)
    reason = clean_reason(reason)
    decided = await submissions.decide(ctx.store, link_id, actor.person, approve, reason, ctx.clock())
    if decided is None:
        raise await _decided_already(ctx, actor, own, listed)
    if ctx.effects:
        await ctx.effects.decided(decided)
    text = f"{'Approved' if approve else 'Rejected'} {named(decided)}."
    if decided.reason:
        text += f" Reason: {decided.reason}"
    # Undo here too: a decision made from /pending (no moderator channel, or its post refused)
    # has no moderator post whose Undo could take back a mistake.
    reply = Reply(text=text, buttons=(undo_button(decided),))
    if listed:
        spent = tuple(b.custom_id for b in listed_buttons(decided))
        reply = replace(reply, spent=spent, relist=await pending_command(ctx, Request("pending", actor)))
    return reply


async def _decided_already(ctx: Context, actor: Actor, own: WorkLink, listed: bool) -> CommandError:
    """The answer to a decision pressed on ``own``, a submission decided already: who decided it
    (its moderator post brought up to date, see :func:`_unchanged`); pressed on a /pending list
    (``listed``), with that button's pair spent and the list as it now is (see :func:`decide_link`)."""
    assert own.id is not None
    error = await _unchanged(
        ctx,
        own.id,
        "Already withdrawn by {who}, who submitted it: nothing to decide."
        if own.status == LinkStatus.WITHDRAWN
        else "Already {status} by {who}; nothing changed.",
    )
    if listed:
        error.spent = tuple(b.custom_id for b in listed_buttons(own))
        error.relist = await pending_command(ctx, Request("pending", actor))
    return error


async def decided_already(ctx: Context, actor: Actor, target: str) -> NoReturn:
    """**Reject** (``cop:reject:<target>``) pressed on a submission the front end found decided
    already, so that it opens no reason form: raised as Approve pressed there would be, so that
    a /pending list it was pressed on is brought up to date too (:attr:`Reply.relist`)."""
    _require_moderator(actor)
    link_id, listed = decision_target(target)
    own = await _own_link(ctx, actor, link_id)
    if own.status == LinkStatus.PENDING:  # its decision was undone meanwhile
        raise CommandError("That submission is pending again: press Reject once more to reject it.")
    raise await _decided_already(ctx, actor, own, listed)


async def approve_action(ctx: Context, actor: Actor, target: str) -> Reply:
    """**Approve** under a moderator post or a /pending list."""
    link_id, listed = decision_target(target)
    return await decide_link(ctx, actor, link_id, True, listed=listed)


async def reject_action(ctx: Context, actor: Actor, target: str, reason: str = "") -> Reply:
    """**Reject**, with ``reason`` when the front end asked for one (the console's ``!2 reason``;
    Discord's and Slack's forms read theirs and call :func:`decide_link`)."""
    link_id, listed = decision_target(target)
    return await decide_link(ctx, actor, link_id, False, reason, listed=listed)


async def undo_action(ctx: Context, actor: Actor, target: str) -> Reply:
    """**Undo** under a decided post: back to pending, the link leaves the catalogue."""
    _require_moderator(actor)
    link_id, revision = _undo_target(target)
    own = await _own_link(ctx, actor, link_id)
    if own.status == LinkStatus.WITHDRAWN:
        # Its name is filled in by _unchanged ({who}), never formatted twice: a name may hold braces.
        where = f"{own.problem_number} #{own.id}"
        raise await _unchanged(
            ctx, link_id, "{who} withdrew " + where + ", which they submitted: nothing to undo."
        )
    if revision is None and own.status != LinkStatus.PENDING:
        # A revision past its one decision: undone and decided again, or its submitter renamed
        # while it waited (see storage.names), which its history tells apart.
        if own.revision > 1 and await submissions.was_undone(ctx.store, own):
            # An Undo made before Undo named its decision, on a submission undone and decided
            # again since: it may be for an earlier decision. Offer the current one's instead.
            return Reply(
                text=(
                    f"This Undo is older than the decision on {own.problem_number} #{own.id}: it was "
                    f"undone and decided again since, and is now {own.status} by "
                    f"{own.decided_by_name or 'someone'}. Nothing changed: to undo that decision, "
                    "press Undo below."
                ),
                buttons=(undo_button(own),),
                error=True,
            )
        # Never undone: the decision it was made under is the one it takes back, and no other.
        revision = own.revision
    try:
        link = await submissions.undo(ctx.store, link_id, actor.person, ctx.clock(), revision)
    except submissions.DuplicateLink as dup:
        again = dup.existing
        where = "" if ours(again, actor) else f" {_elsewhere(again, actor)}"
        if again.status == LinkStatus.APPROVED:  # nothing left to decide there
            raise CommandError(
                f"The same work was submitted again{where} meanwhile and approved by "
                f"{again.decided_by_name or 'someone'}: {again.url}. Nothing changed."
            ) from None
        if not where:
            raise CommandError(
                f"The same work was submitted again meanwhile; decide that one instead: {named(again)}."
            ) from None
        raise CommandError(
            f"The same work was submitted again{where} meanwhile; its moderators there decide it."
        ) from None
    if link is None:
        now = await submissions.get_link(ctx.store, link_id)
        if now is not None and revision is not None and now.status != LinkStatus.PENDING:
            raise await _unchanged(
                ctx,
                link_id,
                "This Undo was for an earlier decision; since then it was {status} by {who}. "
                "Nothing changed: use the Undo under that decision to take it back.",
            )
        raise await _unchanged(ctx, link_id, "That submission is already pending; nothing to undo.")
    if ctx.effects:
        await ctx.effects.decided(link)
    return Reply(text=f"Undone: {named(link)}. It is pending again.")


# What a reaction under a moderator post decides: True approves, False rejects (Discord sends the
# emoji itself, Slack its name).
_VERDICTS = {APPROVE_EMOJI: True, REJECT_EMOJI: False, "white_check_mark": True, "x": False}


async def reacted_post(
    ctx: Context, platform: str, message_id: str, channel_id: str | None = None
) -> WorkLink | None:
    """The submission whose moderator post is this message (in ``channel_id``, when message ids
    are unique only within a channel), or None. A post this process made while the database was
    away is recorded first when the message is no recorded post: it may be this one (this costs
    nothing when there is none)."""
    link = await posts.link_by_message(ctx.store, platform, message_id, channel_id)
    if link is None and ctx.effects is not None and await ctx.effects.record_posts():
        link = await posts.link_by_message(ctx.store, platform, message_id, channel_id)
    return link


async def decide_by_reaction(
    ctx: Context, actor: Actor, message_id: str, emoji: str, channel_id: str | None = None
) -> Reply | None:
    """A reaction under a moderator post (in ``channel_id``, when message ids are unique only
    within a channel): ✅ approves, ❌ rejects; others' reactions, and reactions on messages that
    are not the recorded post of a submission of the actor's community, do nothing (see
    :func:`decide_post_by_reaction`, :func:`reacted_post`)."""
    if emoji not in _VERDICTS or not actor.is_moderator:
        return None
    link = await reacted_post(ctx, actor.platform, message_id, channel_id)
    return None if link is None else await decide_post_by_reaction(ctx, actor, link, emoji)


async def decide_post_by_reaction(ctx: Context, actor: Actor, link: WorkLink, emoji: str) -> Reply | None:
    """A reaction under ``link``'s moderator post (found by :func:`reacted_post`): ✅ approves, ❌
    rejects; other emoji, others' reactions and another community's submission do nothing.

    On a submission decided the other way already, it changes nothing either, but its reactor
    may take it for their decision (their ❌ under an approved post): the answer, an error to
    them alone (``mention``), says so and how to change it. One agreeing with it answers None."""
    approve = _VERDICTS.get(emoji)
    if approve is None or not actor.is_moderator:
        return None
    if link.id is None or link.community_id != actor.community_id:
        return None
    # A moderator renamed since shows under their new name on this decision and their earlier
    # ones, as after a command or button press of theirs (the name the reaction event carries).
    await refresh_name(ctx, actor)
    try:
        return await decide_link(ctx, actor, link.id, approve)
    except CommandError:
        pass
    now = await submissions.get_link(ctx.store, link.id)
    if now is not None and now.status == LinkStatus.WITHDRAWN:
        return Reply(
            text=(
                _WITHDREW.format(link=now) + f": your {APPROVE_EMOJI if approve else REJECT_EMOJI} "
                "changed nothing, and there is nothing to decide."
            ),
            error=True,
            mention=actor.user_id,
        )
    if now is None or now.status == LinkStatus.PENDING or (now.status == LinkStatus.APPROVED) == approve:
        return None
    return Reply(
        text=(
            f"{now.problem_number} #{now.id} is already {now.status} by {now.decided_by_name or 'someone'}: "
            f"your {APPROVE_EMOJI if approve else REJECT_EMOJI} changed nothing. To change the decision, "
            "press Undo on the post, then decide again."
        ),
        error=True,
        mention=actor.user_id,
    )


PENDING_OPTIONS: tuple[Option, ...] = ()
# The most submissions /pending lists; a last line counts the rest.
PENDING_SHOWN = 20
# How much of a submitter's note a /pending line shows for a submission no post shows.
PENDING_NOTE = 200


async def pending_command(ctx: Context, request: Request) -> Reply:
    """/pending: this community's pending submissions, oldest first, with their posts: the
    first :data:`PENDING_SHOWN`, then how many more wait."""
    actor = request.actor
    waiting = await submissions.pending(ctx.store, actor.platform, actor.community_id)
    if not waiting:
        return Reply(text="Nothing is waiting for a decision.")
    now = ctx.clock()
    lines: list[str | Link] = []
    for link in waiting[:PENDING_SHOWN]:
        when = f"{day(link.created_at)} ({ago(link.created_at, now)})"
        # "#id" as the buttons name it: several links for one problem are told apart.
        line = f"{link.problem_number} #{link.id}: {link.url} from {link.display_name}, {when}"
        if link.mod_url:
            lines.append(Link(line, link.mod_url))
            continue
        if link.note:
            # A posted one's note is on its post; one no post shows is decided from this list,
            # which would leave the moderator without the submitter's words on it.
            line += f": “{clip(' '.join(link.note.split()), PENDING_NOTE)}”"
        if (rejected := await submissions.rejected_before(ctx.store, link)) is not None:
            line += f" ({rejected_line(rejected, 'rejected before: ')})"
        if link.mod_refused and link.mod_retry_at is None:
            lines.append(f"{line} — not posted: {link.mod_refused}")
        elif link.mod_refused:
            lines.append(line + " — not posted yet: the moderator channel refuses copbot's posts")
        elif ctx.effects is None:  # the local console: nothing is ever posted, so not "yet"
            lines.append(line)
        else:
            lines.append(line + " — not posted yet")
    # Buttons for two, those without a moderator post first: a post written off (refused for the
    # message itself) or not made yet can be decided here only; a posted one has its own buttons.
    unposted_first = sorted(waiting, key=lambda link: link.mod_message_id is not None)
    buttons = tuple(button for link in unposted_first[:2] for button in listed_buttons(link))
    sections = [Section("Oldest first", tuple(lines), more=len(waiting) - len(lines))]
    if attention := await refused_posts_section(ctx, actor.platform, actor.community_id):
        sections.append(attention)
    return Reply(
        title=f"Pending submissions: {len(waiting)}",
        # The rest counted in a last "… and N more", with those a front end has no room for.
        sections=tuple(sections),
        buttons=buttons,
    )


ATTENTION = "Needs attention"


async def refused_posts(ctx: Context, platform: str, community_id: str) -> list[WorkLink]:
    """A community's pending submissions whose moderator post (or its move to a new moderator
    channel: those have a post, and a time to try again) the platform refused, oldest first."""
    waiting = await submissions.pending(ctx.store, platform, community_id)
    return [
        link
        for link in waiting
        if link.mod_refused is not None and (link.mod_message_id is None or link.mod_retry_at is not None)
    ]


async def refused_posts_section(ctx: Context, platform: str, community_id: str) -> Section | None:
    """What an admin should know about the moderator posts the platform refused in a community
    (:mod:`bot.moderation`): the moderator channel refusing copbot's posts (named, with the
    platform's reason, what waits and when it is tried again), and the submissions whose post
    was refused for the message itself; None when there are none."""
    refused = await refused_posts(ctx, platform, community_id)
    if not refused:
        return None
    lines: list[str | RefLine] = []
    waiting = [link for link in refused if link.mod_retry_at is not None]
    if waiting:
        retry_at = min(link.mod_retry_at for link in waiting if link.mod_retry_at is not None)
        unposted = sum(1 for link in waiting if link.mod_message_id is None)
        unmoved = len(waiting) - unposted
        told = []
        if unposted:
            told.append(f"{unposted} {'submission waits' if unposted == 1 else 'submissions wait'} unposted")
        if unmoved:
            told.append(
                f"{unmoved} {'post waits' if unmoved == 1 else 'posts wait'} in the former moderator "
                "channel (its buttons still decide)"
            )
        when = f"at {clock_time(retry_at)} UTC" if retry_at > ctx.clock() else "at the next sweep"
        # Slack's moderator channel is a setting of the environment (its /setup only shows it);
        # copbot's invitation to it, or its unarchiving, tries at once (bot.slack.events).
        slack = "when copbot is invited to the channel, it is unarchived, or copbot restarts"
        now = slack if platform == "slack" else "by an admin's /setup"
        # The platform's reason names the channel as <#id>: shown by its name, for the member to find it.
        lines.append(
            ref_line(
                f"copbot's posts in the moderator channel are refused ({waiting[-1].mod_refused}), so "
                f"{' and '.join(told)}: tried again {when}, or at once {now}; "
                "moderators can decide them with /pending meanwhile."
            )
        )
    for link in refused:
        if link.mod_retry_at is None:
            lines.append(
                f"The moderator post of {link.problem_number} #{link.id} from {link.display_name} was "
                f"refused: {link.mod_refused}. It is not posted again: decide it with /pending."
            )
    return Section(ATTENTION, tuple(lines))
