"""What a stale claim's reminder and expiry notice say, and the buttons under the reminder.

A member whose claims go stale (or expire) together gets one message naming them all: each claim
on its own line, and under the reminder two buttons per claim, named by its problem, whose ids
name the claim. How many claims one message holds is the front end's business (bot.reminders).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from commands.catalogue import community_word, problem_title
from commands.timefmt import day, days
from commands.types import (
    Actor,
    BadArgument,
    Button,
    ButtonStyle,
    Context,
    NotYourClaim,
    Reply,
    Section,
    record_id,
)
from storage.claims import Person
from storage.models import OPEN_CLAIM_STATES, REMINDER_DELIVERED, Claim, ClaimState, Problem
from storage.sweep import last_day_to_answer


def _made_in(claim: Claim, community: str, *, in_own_channel: bool) -> str:
    """`` in the server “Concrete Problems”``: where the claim was made, for a message that may
    be read outside it (a Discord DM reaches the user of every server); "" when it is not known,
    and in a message posted ``in_own_channel``, the reminder channel of the community the claim
    was made in, where everyone reading it knows. (The messages that mention their claimant are
    those: the sweep mentions only there.)"""
    if not community or in_own_channel:
        return ""
    return f" in the {community_word(claim.platform)} “{' '.join(community.split())}”"


def _since(claim: Claim) -> str:
    """``2026-11-25``, or ``2026-11-25, last renewed 2026-12-05``: when the claim was made and,
    when that was another day, last renewed (its silence counts from then)."""
    renewed = day(claim.renewed_at)
    return day(claim.claimed_at) + ("" if renewed == day(claim.claimed_at) else f", last renewed {renewed}")


def _expiring(grace_days: int, now: datetime) -> str:
    """``in 14 days (by the end of 2026-12-09, UTC)``: the grace runs from the reminder, sent
    ``now``, to the end of that UTC day (storage.sweep.last_day_to_answer); the day helps
    whoever reads it days later."""
    return f"in {days(grace_days)} (by the end of {last_day_to_answer(now, grace_days).isoformat()}, UTC)"


def reminder_reply(
    claim: Claim,
    problem: Problem,
    grace_days: int,
    now: datetime,
    *,
    mention: bool = False,
    community: str = "",
) -> Reply:
    """The one reminder a stale claim gets (sent ``now``): still on it, or release?
    ``community``: the name of the community the claim was made in, when the platform knows it;
    ``mention``: posted in that community's own reminder channel, mentioning the claimant."""
    text = (
        f"You claimed {problem_title(problem, 70)}{_made_in(claim, community, in_own_channel=mention)} on "
        f"{_since(claim)}. Still working on it? "
        f"If I hear nothing {_expiring(grace_days, now)} the claim expires, so others know it is free."
    )
    return Reply(
        title=f"Still working on {problem.number}?",
        text=text,
        buttons=(
            Button("Still working on it", "renew", str(claim.id), ButtonStyle.SUCCESS),
            Button("Release it", "drop", str(claim.id), ButtonStyle.DANGER),
        ),
        private=False,
        mention=claim.user_id if mention else None,
    )


def expiry_reply(claim: Claim, problem: Problem, *, mention: bool = False, community: str = "") -> Reply:
    """Telling a claimant their claim expired, and why: no answer, or no reminder reached them.
    ``community``: as for :func:`reminder_reply`."""
    why = (
        "without an answer to the reminder"
        if claim.delivery in REMINDER_DELIVERED
        else "after a long silence; my reminder may not have reached you"
    )
    return Reply(
        title=f"Your claim on {problem.number} expired",
        text=(
            f"Your claim on {problem_title(problem, 70)}{_made_in(claim, community, in_own_channel=mention)} "
            f"(since {_since(claim)}) expired {why}. "
            f"/claim {problem.number} again any time if you pick it back up."
        ),
        private=False,
        mention=claim.user_id if mention else None,
    )


def by_claimant(claims: Sequence[Claim], per_message: int) -> list[list[Claim]]:
    """``claims`` as the messages that tell their claimants: one per claimant in each community,
    in the order their first claim comes, each of at most ``per_message`` claims (as few as fit)."""
    held: dict[tuple[str, str, str | None], list[Claim]] = {}
    for claim in claims:
        held.setdefault((claim.platform, claim.community_id, claim.user_id), []).append(claim)
    return [mine[at : at + per_message] for mine in held.values() for at in range(0, len(mine), per_message)]


def reminders_reply(
    held: Sequence[tuple[Claim, Problem]],
    grace_days: int,
    now: datetime,
    *,
    mention: bool = False,
    community: str = "",
) -> Reply:
    """One reminder for claims of one member that went stale together (``held``: each with its
    problem, in the order listed): each claim a line, and two buttons each, "Still on 3.11" and
    "Release 3.11", acting on that claim alone. One claim gets :func:`reminder_reply`."""
    if len(held) == 1:
        ((claim, problem),) = held
        return reminder_reply(claim, problem, grace_days, now, mention=mention, community=community)
    first = held[0][0]
    text = (
        f"You claimed these {len(held)} problems{_made_in(first, community, in_own_channel=mention)} "
        "and I have heard nothing "
        f"about them for a while. Still working on them? Answer for each with its buttons. "
        f"If I hear nothing about one {_expiring(grace_days, now)} its claim expires, "
        "so others know it is free."
    )
    lines = tuple(f"{problem_title(problem, 70)} — claimed {_since(claim)}" for claim, problem in held)
    buttons = tuple(
        button
        for claim, problem in held
        for button in (
            Button(f"Still on {problem.number}", "renew", str(claim.id), ButtonStyle.SUCCESS),
            Button(f"Release {problem.number}", "drop", str(claim.id), ButtonStyle.DANGER),
        )
    )
    mentioned = first.user_id if mention else None
    listed = (Section("Your claims", lines),)
    return Reply(
        text,
        f"Still working on {len(held)} problems?",
        sections=listed,
        buttons=buttons,
        private=False,
        mention=mentioned,
    )


def expiries_reply(
    held: Sequence[tuple[Claim, Problem]], *, mention: bool = False, community: str = ""
) -> Reply:
    """One expiry notice for claims of one member that expired together, each on its line with
    why; one claim gets :func:`expiry_reply`."""
    if len(held) == 1:
        ((claim, problem),) = held
        return expiry_reply(claim, problem, mention=mention, community=community)
    first = held[0][0]
    lines = tuple(
        f"{problem_title(problem, 70)} — since {_since(claim)}, "
        + (
            "no answer to the reminder"
            if claim.delivery in REMINDER_DELIVERED
            else "my reminder may not have reached you"
        )
        for claim, problem in held
    )
    return Reply(
        title=f"Your claims on {len(held)} problems expired",
        text=(
            f"Your claims on these {len(held)} problems{_made_in(first, community, in_own_channel=mention)} "
            "expired after a long "
            "silence, so others know they are free. /claim NUMBER again any time if you pick one back up."
        ),
        sections=(Section("Expired claims", lines),),
        private=False,
        mention=first.user_id if mention else None,
    )


def _buttons_of(claim_id: int) -> tuple[str, ...]:
    """The custom ids of the two buttons a reminder has for claim ``claim_id``."""
    return tuple(Button("", action, str(claim_id)).custom_id for action in ("renew", "drop"))


async def _own_open_claim(ctx: Context, actor: Actor, target: str, *, releasing: bool) -> Claim:
    """The open claim a reminder's button names, if it is the actor's. A claim that has ended
    is refused with the reminder's buttons for it spent (``releasing``: the press was Release
    it, so the answer says how to release a newer claim, not how to claim again)."""
    claim_id = record_id(target)
    if claim_id is None:
        raise BadArgument("That button is broken; use /claims instead.")
    claim = await ctx.store.get_claim(claim_id)
    if claim is None or claim.user_id != actor.user_id or claim.platform != actor.platform:
        raise NotYourClaim("Only the claimant can answer this reminder.")
    if claim.state not in OPEN_CLAIM_STATES:
        number = claim.problem_number
        spent = _buttons_of(claim_id)
        held = await ctx.store.open_claims_for_user(claim.platform, claim.community_id, actor.user_id)
        newer = next((c for c in held if c.problem_number == number), None)
        # What the reminder then says about the claim, its buttons gone.
        ended = f"{number}: the claim had already ended ({claim.state})"
        if newer is not None:
            then = f": /release {number} releases it." if releasing else "."
            raise NotYourClaim(
                f"That reminder was about an earlier claim on {number}, which has ended ({claim.state}); "
                f"your claim since {day(newer.claimed_at)} is open. Nothing changed{then}",
                spent=spent,
                answered=f"{ended}; claimed again {day(newer.claimed_at)}",
            )
        if releasing:
            raise NotYourClaim(
                f"Your claim on {number} has already ended ({claim.state}); nothing changed.",
                spent=spent,
                answered=ended,
            )
        raise NotYourClaim(
            f"Your claim on {number} has already ended ({claim.state}); /claim {number} to take it up again.",
            spent=spent,
            answered=ended,
        )
    return claim


def _answering(actor: Actor, claim: Claim) -> Person:
    """Who answers ``claim``'s reminder, in the community the claim was made in. From a direct
    message (outside any community: a Discord DM knows only the account's name) they keep the
    name the claim shows there, their server nickname, rather than renaming it on every card."""
    name = claim.display_name if actor.direct and claim.display_name else actor.display_name
    return Person(claim.platform, claim.community_id, actor.user_id, name)


async def renew_action(ctx: Context, actor: Actor, target: str) -> Reply:
    """**Still working on it**: renew the claim, stamped today. The reminder's buttons for the
    claim are spent once it is answered (or found ended)."""
    claim = await _own_open_claim(ctx, actor, target, releasing=False)
    spent = _buttons_of(claim.id or 0)
    now = ctx.clock()
    if claim.state == ClaimState.ACTIVE and claim.renewed_at.date() == now.date():
        # A second press, or a press after /claim renewed it: nothing to add to its history.
        number = claim.problem_number
        return Reply(
            text=f"Your claim on {number} already counts from today ({day(now)}); nothing changed.",
            spent=spent,
            answered=f"{number}: still working on it, renewed {day(claim.renewed_at)}",
        )
    renewed = await ctx.store.renew_claim(claim.id or 0, _answering(actor, claim), now)
    if renewed is None:  # it ended meanwhile (another replica, the sweep): say so, as to a later press
        await _own_open_claim(ctx, actor, target, releasing=False)
        raise NotYourClaim(f"Your claim on {claim.problem_number} has already ended.", spent=spent)
    return Reply(
        text=f"Renewed your claim on {claim.problem_number} today ({day(now)}). Good luck!",
        spent=spent,
        answered=f"{claim.problem_number}: still working on it, renewed {day(now)}",
    )


async def drop_action(ctx: Context, actor: Actor, target: str) -> Reply:
    """**Release it**: end the claim (its reminder's buttons are then spent)."""
    claim = await _own_open_claim(ctx, actor, target, releasing=True)
    spent = _buttons_of(claim.id or 0)
    now = ctx.clock()
    person = _answering(actor, claim)
    released = await ctx.store.release(claim.problem_number, person, "", now)
    if released is None:  # it ended meanwhile: say so, as to a later press
        await _own_open_claim(ctx, actor, target, releasing=True)
        raise NotYourClaim(f"Your claim on {claim.problem_number} has already ended.", spent=spent)
    return Reply(
        text=f"Released your claim on {claim.problem_number}. Thanks for saying so!",
        spent=spent,
        answered=f"{claim.problem_number}: released {day(now)}",
    )
