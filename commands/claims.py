"""Working on problems: /claim, /release, /claims, /history."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from commands.catalogue import (
    STALE_HINT,
    claim_line,
    claimant,
    community_word,
    earlier_line,
    get_problem,
    is_stale,
    named,
    problem_card,
    problem_title,
    sheet_name,
    stale_after_days,
    work_pages,
)
from commands.parser import Kind, Option, parse_whole_number
from commands.timefmt import day
from commands.types import (
    Actor,
    BadArgument,
    Button,
    Context,
    NotYourClaim,
    Reply,
    Request,
    Section,
    TooManyClaims,
    UserRef,
    page_of,
    past_the_last,
)
from storage.catalogue import SHEET_NAME_LENGTH
from storage.claims import ClaimLimitReached
from storage.legacy import sheet_text
from storage.models import LEGACY_PLATFORM, OPEN_CLAIM_STATES, Claim, ClaimState, CommunitySettings, Event
from storage.text import clip

CLAIM_OPTIONS = (Option("number", Kind.NUMBER, "problem number, like 2.4", required=True),)


async def claim_command(ctx: Context, request: Request) -> Reply:
    """/claim NUMBER: record that you work on it, stamped today; again renews it."""
    actor = request.actor
    problem = await get_problem(ctx, request.args["number"])
    try:
        outcome = await ctx.store.claim(
            problem.number,
            actor.person,
            ctx.clock(),
            limit=await max_claims(ctx, actor),
            limit_of=lambda settings: _cap(settings, ctx.max_claims),
        )
    except ClaimLimitReached as full:
        held = len(full.held)
        numbers = ", ".join(full.held[:10]) + (", …" if held > 10 else "")
        where = community_word(actor.platform)
        holding = f"You already hold {held} open {'claim' if held == 1 else 'claims'} here ({numbers})"
        if held > full.limit:  # the cap was lowered since: releasing one is not enough
            cap = f"; this {where} now allows a member at most {full.limit}. Release {held - full.limit + 1}"
        else:
            cap = f", the most this {where} allows a member. Release one"
        raise TooManyClaims(
            f"{holding}{cap} you are no longer working on first: /release NUMBER, or the buttons "
            "under /claims."
        ) from None
    claim, number = outcome.claim, problem.number
    release = f" /release {number} when you stop; a note there helps the next person."
    if outcome.created:
        text = f"You claimed {number} on {day(claim.claimed_at)}. Good luck!{release}"
    elif claim.community_id != actor.community_id:
        # One claim per person and problem on a platform: the one made elsewhere, renewed.
        where = community_word(actor.platform)
        text = (
            f"You already hold {number}, claimed in another {where} on {day(claim.claimed_at)}: "
            f"renewed that claim today ({day(ctx.clock())}). It stays that {where}'s: "
            f"/release {number} there when you stop."
        )
    else:
        text = f"You already hold {number}: renewed your claim today ({day(ctx.clock())}).{release}"
    return await problem_card(ctx, problem, actor, private=True, text=text)


async def max_claims(ctx: Context, actor: Actor) -> int | None:
    """The most open claims ``actor`` may hold in their community: its /setup max_claims, else the
    process default (MAX_CLAIMS); None when there is no limit (0 in either)."""
    return _cap(await ctx.store.recent_settings(actor.platform, actor.community_id), ctx.max_claims)


def _cap(settings: CommunitySettings | None, default: int | None) -> int | None:
    """The cap a community's settings row sets (``default`` when it sets none); None: no cap."""
    limit = settings.max_claims if settings and settings.max_claims is not None else default
    return limit or None


RELEASE_OPTIONS = (
    Option("number", Kind.NUMBER, "problem number, like 2.4", required=True),
    Option("note", Kind.TEXT, "what you tried, for the next person", rest=True, max_length=1000),
)


async def release_command(ctx: Context, request: Request) -> Reply:
    """/release NUMBER [note]: end your own claim, leaving a note for the next person."""
    problem = await get_problem(ctx, request.args["number"])
    note = request.args.get("note", "")
    claim = await ctx.store.release(problem.number, request.actor.person, note, ctx.clock())
    if claim is None:
        actor = request.actor
        holding = [
            c
            for c in await ctx.store.claims_for_problem(problem.number, ended=0)
            if c.state in OPEN_CLAIM_STATES
        ]
        if any(c.platform == actor.platform and c.user_id == actor.user_id for c in holding):
            # Their own claim, made in another community of the same platform: it is released there.
            raise NotYourClaim(
                f"Your claim on {problem.number} was made in another {community_word(actor.platform)}; "
                "release it there."
            )
        if (ended := await _ended_here(ctx, actor, problem.number)) is not None:
            # A second press of Release (a card's, a /claims list's), or a /release typed after
            # the claim expired: theirs has ended, which "only its claimant can" would hide.
            when = day(ended.ended_at) if ended.ended_at else "earlier"
            raise NotYourClaim(
                f"Your claim on {problem.number} has already ended ({ended.state} {when}); nothing changed."
            )
        others = [claimant(c, actor.platform) for c in holding]
        if others:
            # Stale claims (a sheet's years-old cell, a claimant silent for weeks) hold nobody
            # back: say so, as the card does, rather than leave them looking like a wall.
            now, days = ctx.clock(), await stale_after_days(ctx, actor, holding)
            free = all(is_stale(c, now, days) for c in holding)
            raise NotYourClaim(
                f"You hold no claim on {problem.number}; only its claimant can release it "
                f"({', '.join(others[:5])})." + (f" {STALE_HINT} {problem.number}." if free else "")
            )
        raise NotYourClaim(
            f"You hold no claim on {problem.number}, so there is nothing to release. "
            + await _held_instead(ctx, actor)
        )
    kept = " Your note is kept for the next person." if note else ""
    return Reply(text=f"Released your claim on {problem.number}.{kept}", private=True)


async def _ended_here(ctx: Context, actor: Actor, number: str) -> Claim | None:
    """``actor``'s latest claim on ``number`` made in this community, when it has ended."""
    latest = await ctx.store.claims_for_problem(number, ended=1, users=[actor.user_id])
    return next(
        (
            c
            for c in latest
            if c.platform == actor.platform
            and c.community_id == actor.community_id
            and c.state not in OPEN_CLAIM_STATES
        ),
        None,
    )


# Problems a refused /release names of those its asker does hold (a typo of one of them is likely).
HELD_NAMED = 3


async def _held_instead(ctx: Context, actor: Actor) -> str:
    """What ``actor`` does hold, said after a /release of a problem they hold no claim on: a few
    of their open claims (as /claims lists them, first), and /claims to list them all."""
    claims = await ctx.store.open_claims_for_user(actor.platform, None, actor.user_id)
    held = [c.problem_number for c in claims]
    if not held:
        return "You hold no open claims; /claims lists yours."
    listed = ", ".join(held[:HELD_NAMED])
    if len(held) > HELD_NAMED:
        listed += f" and {len(held) - HELD_NAMED} more"
    elif len(held) > 1:
        listed = ", ".join(held[:-1]) + f" and {held[-1]}"
    return f"You hold {listed}: /claims lists {'it' if len(held) == 1 else 'them'}."


CLAIMS_EARLIER = 10  # earlier claims /claims number: lists: the latest ended

CLAIMS_PAGE = Option("page", Kind.PAGE, "which page of the claims listed (20 a page)")
CLAIMS_OPTIONS = (
    # Typed, the words no other option takes: a display name may be several (/claims Neel Nanda).
    Option("user", Kind.USER, "whose claims (default: yours)", rest=True),
    Option("number", Kind.NUMBER, "everyone's claims on one problem"),
    Option("everyone", Kind.FLAG, "every open claim in this community, by problem"),
    CLAIMS_PAGE,
)
# Release buttons under /claims (one row of them on Discord).
RELEASE_BUTTONS = 5
# Claims on a page of /claims everyone, and of a member's own (or someone else's) /claims: as many
# lines as one Discord embed takes when every one is a stale claim's, the longest (30 did).
EVERYONE_PAGE = 20
# Words that ask for everyone's claims where /claims takes a name ("/claims all").
# Slack escapes a typed @everyone as <!everyone>.
EVERYONE = frozenset({"everyone", "all", "anyone", "everybody", "<!everyone>"})


# How the target of a Release under page 2 or later of one's own /claims ends (``2.4.page2``): the
# page a front end that shows the list anew after the press (Slack) shows again.
ON_PAGE = ".page"


def release_button(number: str, page: int = 1) -> Button:
    """The Release button of one claim in a member's own /claims list, on its ``page`` (a card's
    says "Release")."""
    return Button(f"Release {number}", "release", number if page == 1 else f"{number}{ON_PAGE}{page}")


def release_target(target: str) -> tuple[str, int]:
    """The problem a Release button names (as typed after /release) and the page of /claims it
    was pressed on: 1 for page 1, a card, or a target naming no page."""
    number, mark, page = target.partition(ON_PAGE)
    if mark and page.isascii() and page.isdecimal() and len(page) <= 6:
        return number, max(int(page), 1)
    return target, 1


async def own_claims(ctx: Context, actor: Actor, page: int = 1) -> Reply:
    """``actor``'s own /claims list as it is now, on ``page`` (the last when there are fewer): a
    front end shows it in place of a list whose Release was pressed on that page, where it cannot
    take that one button off."""
    return await claims_command(ctx, Request("claims", actor, {"page": page}))


async def claims_command(ctx: Context, request: Request) -> Reply:
    """/claims [user] [number] [everyone] [page]: your open claims, someone else's, everyone's on a
    problem, or (everyone) every open claim in this community, paged."""
    now = ctx.clock()
    actor = request.actor
    if "number" in request.args:
        problem = await get_problem(ctx, request.args["number"])
        user: UserRef | None = request.args.get("user")
        ids = None if user is None else await _user_ids(ctx, request, user)
        on_problem = await ctx.store.claims_for_problem(problem.number, ended=CLAIMS_EARLIER, users=ids)
        held = [c for c in on_problem if c.state in OPEN_CLAIM_STATES]
        days = await stale_after_days(ctx, actor, held)
        open_lines = [claim_line(c, now, days, actor.platform, ctx.stale_grace_days) for c in held]
        ended = [earlier_line(c, actor.platform) for c in on_problem if c.state not in OPEN_CLAIM_STATES]
        sections = [Section("Working on it", tuple(open_lines) or ("Nobody.",))]
        if ended:
            sections.append(Section("Earlier claims", tuple(ended[-CLAIMS_EARLIER:])))
        # Only one member's, when one was named: the title says whose ("Ann's claims on 2.4").
        whose = ""
        if ids is not None and actor.user_id in ids:
            whose = "Your "
        elif ids is not None:
            # As their claims name them (a name typed may be in any case), else as typed.
            typed = user.name if user is not None else None
            name = next((c.display_name for c in on_problem), None) or typed
            whose = f"{name}'s " if name else "Their "
        title = f"{whose}{'claims' if whose else 'Claims'} on {problem_title(problem)}"
        return Reply(title=title, sections=tuple(sections))
    user = request.args.get("user")
    if user is not None and "page" not in request.args:
        # ``/claims everyone 2``, ``/claims all 2``: the number after everyone is its page.
        user, page = _bare_page(user, bool(request.args.get("everyone")))
        if page is not None:
            args = {key: value for key, value in request.args.items() if key != "user"}
            request = Request(
                request.command, actor, {**args, "page": page, **({"user": user} if user else {})}
            )
    everyone = bool(request.args.get("everyone")) or (user is not None and _everyone_word(user))
    if everyone:
        if user is not None and not _everyone_word(user):
            raise BadArgument(
                "Give a user or everyone, not both: /claims everyone lists every open claim here."
            )
        return await _everyone(ctx, request)
    if user is None:
        ids, whose = {actor.user_id}, "Your"
    else:
        ids = await _user_ids(ctx, request, user)
        whose = f"{user.name or 'Their'}'s" if user.name else "Their"
        if actor.user_id in ids:
            whose = "Your"
    # A user id names the same person in every community of the platform: their claims made in
    # the others are listed too, marked, as they are released there.
    claims: list[Claim] = []
    for user_id in sorted(ids):
        claims += await ctx.store.open_claims_for_user(actor.platform, None, user_id)
    if not claims:
        if whose == "Your":
            return Reply(text="You hold no open claims. /random finds a problem to start on.")
        if user is not None and user.name:  # named as asked; a mention that carries no name: "They"
            return Reply(text=f"{user.name} holds no open claims.")
        return Reply(text="They hold no open claims.")
    if user is not None and not user.user_id and len(ids) == 1 and whose != "Your":
        # A typed name (``/claims ANN``) is said as their claims show it (Ann): as their newest
        # one here does (a nickname is a community's), else their newest one.
        newest = next((c for c in reversed(claims) if c.community_id == actor.community_id), claims[-1])
        whose = f"{newest.display_name or user.name}'s"
    problems = {p.number: p for p in await ctx.store.problems()}
    elsewhere = f" (another {community_word(actor.platform)})"
    days = await stale_after_days(ctx, actor, claims)  # reads nothing: members' claims only

    def line(c: Claim) -> str:
        where = elsewhere if c.community_id != actor.community_id else ""
        title = problem_title(problems[c.problem_number], 60)
        return f"{title}: {claim_line(c, now, days, actor.platform, ctx.stale_grace_days)}{where}"

    # A page at a time, oldest first: a member holding dozens would otherwise see those that fit
    # in one message (30 stale ones on Discord) and never the rest.
    wanted = request.args.get("page", 1)
    chunk, page, pages = page_of(claims, wanted, EVERYONE_PAGE)
    lines = tuple(line(c) for c in chunk)
    buttons: tuple[Button, ...] = ()
    notes = []
    if pages > 1:
        following = ""
        if page < pages:
            # Their list as typed again: a name is typed as it was, a mention cannot be written here.
            typed = "" if whose == "Your" else f" {user.name}" if user and not user.user_id else None
            following = (
                f" Next: /claims{typed} page:{page + 1}"
                if typed is not None
                else f" Next: the same /claims with page:{page + 1}"
            )
        notes.append(f"Page {page} of {pages}.{following}")
    if whose == "Your":
        here = [c for c in chunk if c.community_id == actor.community_id]
        buttons = tuple(release_button(c.problem_number, page) for c in here[:RELEASE_BUTTONS])
        if len(here) > RELEASE_BUTTONS:
            notes.append(
                f"Buttons release the first {RELEASE_BUTTONS}; /release NUMBER releases any of them."
            )
        if any(c.state == ClaimState.STALE for c in claims):
            # The reminder may never have reached them (closed DMs): this list is where they look.
            notes.append("/claim NUMBER renews a stale claim, so it does not expire.")
    return Reply(
        title=f"{whose} open claims ({len(claims)})",
        text=past_the_last(wanted, pages),
        sections=(Section("Claims", lines),),
        buttons=buttons,
        footer=" ".join(notes) or None,
    )


def _bare_page(user: UserRef, everyone: bool) -> tuple[UserRef | None, int | None]:
    """A page typed bare where /claims reads a name: alone (``/claims 2``, one's own list's, or
    everyone's beside the flag) or beside a word for everyone or oneself (``all 2``, ``me 2``):
    the name left (None, or that word) and the page; else ``user`` as it is and None."""
    words = [] if user.user_id else (user.name or "").split()
    numbers = [w for w in words if w.isdecimal()]
    rest = [w for w in words if not w.isdecimal()]
    if len(numbers) != 1 or not (not rest or len(rest) == 1 and rest[0].lower() in EVERYONE | MYSELF):
        return user, None
    page = parse_whole_number(CLAIMS_PAGE, numbers[0])
    return (UserRef(name=rest[0]) if rest else None), page


def _everyone_word(user: UserRef) -> bool:
    return not user.user_id and (user.name or "").lower() in EVERYONE


async def _everyone(ctx: Context, request: Request) -> Reply:
    """/claims everyone [page]: the open claims made in this community, by problem number (as the
    catalogue orders them), EVERYONE_PAGE a page: who is working on what here."""
    actor = request.actor
    claims = await ctx.store.open_claims_for_user(actor.platform, actor.community_id, None)
    where = f"this {community_word(actor.platform)}"
    if not claims:
        return Reply(text=f"Nobody in {where} holds an open claim. /random finds a problem to start on.")
    problems = await ctx.store.problems()
    order = {p.number: i for i, p in enumerate(problems)}
    by_number = {p.number: p for p in problems}
    claims.sort(key=lambda c: (order.get(c.problem_number, len(order)), c.claimed_at, c.id or 0))
    wanted = request.args.get("page", 1)
    chunk, page, pages = page_of(claims, wanted, EVERYONE_PAGE)
    now = ctx.clock()
    days = await stale_after_days(ctx, actor, chunk)  # reads nothing: members' claims only
    grace = ctx.stale_grace_days
    lines = tuple(
        f"{problem_title(by_number[c.problem_number], 60)}: {claim_line(c, now, days, actor.platform, grace)}"
        for c in chunk
    )
    held = len({c.problem_number for c in claims})
    counted = f"{len(claims)} open {'claim' if len(claims) == 1 else 'claims'} on {held} " + (
        "problem" if held == 1 else "problems"
    )
    more = f" Next: /claims everyone page:{page + 1}" if page < pages else ""
    elsewhere = "Claims from the sheet and from other communities show on each problem: /problem NUMBER."
    return Reply(
        title=f"Open claims in {where} ({len(claims)})",
        text=past_the_last(wanted, pages),
        sections=(Section("Who is working on what", lines),),
        footer=f"Page {page} of {pages}. {counted}. {elsewhere}{more}",
    )


# Words for the asker where /claims takes a name ("/claims mine").
MYSELF = frozenset({"me", "my", "mine", "myself"})


async def _user_ids(ctx: Context, request: Request, user: UserRef) -> set[str]:
    if user.user_id:
        return {user.user_id}
    assert user.name is not None
    actor = request.actor
    if user.name.lower() in MYSELF or user.name.lower() == actor.display_name.lower():
        return {actor.user_id}
    ids = await ctx.store.find_claimants(actor.platform, actor.community_id, user.name)
    if not ids:
        shown = clip(user.name, 41)
        raise BadArgument(
            f"I know nobody called {shown!r} here who has claimed a problem. Claims made on another "
            f"platform or in another {community_word(actor.platform)} show on the problem: "
            "/claims number:NUMBER."
        )
    return set(ids)


HISTORY_OPTIONS = (
    Option("number", Kind.NUMBER, "problem number, like 2.4", required=True),
    Option("page", Kind.PAGE, "which page of the timeline (page 1: the newest)"),
)
# The most entries on a page of /history, short ones; long notes make a page shorter (WORK_PAGE_CHARS).
HISTORY_PAGE = 50

# Each kind of history entry as a sentence about ``{who}``: the person who did it, or, for a
# link's posting, the person who submitted it. A detail follows after ": " (a note, a reason),
# or after a space where it is the link the sentence is about.
_LINES = {
    "claimed": "{who} claimed it",
    "renewed": "{who} renewed their claim",
    "released": "{who} released it",
    "stale": "{who} was reminded that their claim had gone stale",
    "expired": "The claim by {who} expired",
    "unreachable": "{who} could not be reached",
    "submitted": "{who} submitted",
    "approved": "{who} approved",
    "rejected": "{who} rejected",
    "withdrawn": "{who} withdrew",
    "posted": "The link from {who} was posted for the moderators",
    "post_refused": "The link from {who} could not be posted for the moderators",
}
# Kinds whose detail is the link itself (and a reason in brackets): "Mod approved https://…".
_ABOUT_A_LINK = {"submitted", "approved", "rejected", "withdrawn"}
# An undone decision's detail, as storage.submissions.undo writes it: "<url> was approved".
_UNDONE = re.compile(r"(?P<url>\S+) was (?P<was>approved|rejected)")
_UNDID = {"approved": "the approval of", "rejected": "the rejection of"}


def history_line(event: Event, viewer: str, cells: Mapping[str, str] | None = None) -> str:
    """One line of a timeline, as seen from platform ``viewer``: a sentence a member reads. A sheet
    claim's event is named as the card names the claim: ``cells`` maps the names the events hold
    (the cell cut to SHEET_NAME_LENGTH) to the card's (:func:`sheet_cells`)."""
    who = named(event.actor_name or "copbot", event.actor_platform, viewer)
    if event.actor_platform == LEGACY_PLATFORM:
        who = (cells or {}).get(event.actor_name) or sheet_name(event.actor_name)
        who = f"{who} (sheet)"
    detail = " ".join(event.detail.split())
    undone = _UNDONE.fullmatch(detail) if event.kind == "undone" else None
    if undone is not None:
        sentence = f"{who} undid {_UNDID[undone['was']]} {clip(undone['url'], 300)}"
    elif event.kind == "undone":
        sentence = f"{who} undid a decision" + (f": {clip(detail, 300)}" if detail else "")
    else:
        sentence = _LINES[event.kind].format(who=who) if event.kind in _LINES else f"{who} {event.kind}"
        detail = clip(detail, 300)  # a note's link whole or not at all
        if detail:
            sentence += (" " if event.kind in _ABOUT_A_LINK else ": ") + detail
    return f"{day(event.at)} · {sentence}"


def sheet_cells(claims: Iterable[Claim]) -> dict[str, str]:
    """For a problem's sheet claims: the name their events hold (the cell cut to
    SHEET_NAME_LENGTH, see storage.catalogue) → the name the card shows (cut at
    SHEET_CELL_SHOWN, longer). Two cells that share the event's name but not the card's are left
    out: their events keep their own name, never another cell's."""
    cells: dict[str, str] = {}
    shared: set[str] = set()
    for c in claims:
        if c.platform != LEGACY_PLATFORM:
            continue
        key, shown = sheet_text(c.source_text, SHEET_NAME_LENGTH), sheet_name(c.source_text)
        if cells.setdefault(key, shown) != shown:
            shared.add(key)
    return {key: shown for key, shown in cells.items() if key not in shared}


async def history_command(ctx: Context, request: Request) -> Reply:
    """/history NUMBER [page]: the problem's timeline of claims, releases, expiries and links,
    newest first, a page at a time (pages as /problem NUMBER all cuts them: as many lines as fit
    in one message on every platform), saying how many older entries the later pages hold."""
    problem = await get_problem(ctx, request.args["number"])
    events = await ctx.store.history(problem.number, limit=None)
    cells = None
    if any(e.actor_platform == LEGACY_PLATFORM for e in events):  # read only when named
        cells = sheet_cells(await ctx.store.claims_for_problem(problem.number))
    lines = [history_line(e, request.actor.platform, cells) for e in reversed(events)] or [
        "Nothing has happened here yet."
    ]
    pages = work_pages(lines, HISTORY_PAGE)
    wanted = request.args.get("page", 1)
    page = min(wanted, len(pages))
    shown = pages[page - 1]
    first = sum(len(p) for p in pages[: page - 1]) + 1
    older = len(lines) - first - len(shown) + 1
    following = f"/history {problem.number} page:{page + 1}" if older else ""
    timeline = Section("Timeline, newest first", tuple(shown), more=older, hint=following)
    footer = None
    if len(pages) > 1:
        footer = f"Page {page} of {len(pages)} (entries {first}–{first + len(shown) - 1} of {len(lines)})."
    return Reply(
        title=f"History of {problem_title(problem)}",
        text=past_the_last(wanted, len(pages)),
        sections=(timeline,),
        footer=footer,
    )
