"""The catalogue as the commands show it: finding a problem or a category, a problem's card (which
/problem, /random, /search and the claim commands share), and /problem."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import OSA

from commands.links import URL_KEPT
from commands.parser import Kind, Option
from commands.timefmt import ago, day
from commands.types import (
    Actor,
    BadArgument,
    Button,
    ButtonStyle,
    Context,
    Link,
    Reply,
    ReplyField,
    Request,
    Section,
    UnknownProblem,
    past_the_last,
)
from storage.claims import STATE_ENDED
from storage.legacy import sheet_origin, sheet_text
from storage.models import (
    LEGACY_PLATFORM,
    OPEN_CLAIM_STATES,
    REMINDER_DELIVERED,
    Claim,
    ClaimState,
    Problem,
    WorkLink,
)
from storage.sweep import last_day_to_answer
from storage.text import clip, normalise

LEVELS = "ABCD"
MAX_PROBLEM_TEXT = 1500
SHEET_CELL_SHOWN = 300  # a sheet claim's cell, where a card names the claim by it
CARD_WORK = 10  # existing-work lines on a card, at most (the last says how many more)
# Under a card's claims when all of them are stale, before the problem's number.
STALE_HINT = "Stale, so anyone may still /claim"
CARD_EARLIER = STATE_ENDED  # earlier claims on a card: the latest ended, all a problem's state holds


@functools.lru_cache(maxsize=256)
def level_range(difficulty: str) -> tuple[int, int]:
    """``A-C`` → (0, 2)."""
    first, _, last = difficulty.partition("-")
    return LEVELS.index(first), LEVELS.index(last or first)


def difficulty_matches(problem: str, wanted: str) -> bool:
    """A level matches every range that includes it; a range matches every range it overlaps."""
    low, high = level_range(problem)
    want_low, want_high = level_range(wanted)
    return low <= want_high and want_low <= high


async def get_problem(ctx: Context, number: str) -> Problem:
    """The problem, or an UnknownProblem that says which numbers exist."""
    problem = await ctx.store.get_problem(number)
    if problem is not None:
        return problem
    problems = await ctx.store.problems()
    section = number.split(".")[0]
    in_section = [p.number for p in problems if str(p.section) == section]
    if in_section:
        hint = f"section {section} runs {in_section[0]}–{in_section[-1]}"
    else:
        sections = sorted({p.section for p in problems})
        hint = "sections are " + ", ".join(str(s) for s in sections)
    raise UnknownProblem(f"No problem {number} — {hint}.")


def match_category(problems: Sequence[Problem], wanted: str, hint: str = "") -> str:
    """The category ``wanted`` names: by section number, exact name or a close spelling; a
    BadArgument listing them (then ``hint``) when none is close."""
    categories: dict[str, str] = {}
    for p in problems:
        categories.setdefault(str(p.section), p.category)
    # Folded as search folds words (NFKC: full-width ｃｉｒｃｕｉｔｓ or ２ as a CJK input method types
    # them, the ligature ﬁ; invisible characters dropped), the names as well as what was typed.
    text = " ".join(normalise(wanted).split())
    if text in categories:
        return categories[text]
    names = list(dict.fromkeys(categories.values()))
    # Compared without the words any name or sentence has (``and a toy model`` is no match for
    # "Exploring Polysemanticity and Superposition" by its "and", nor ``the`` for "Circuits In The Wild").
    by_words = {category_words(name): name for name in names}
    wanted_words = category_words(text)
    found = (
        process.extractOne(wanted_words, list(by_words), scorer=fuzz.WRatio, score_cutoff=80)
        if wanted_words
        else None
    )
    if found is not None:
        return by_words[str(found[0])]
    # A typo in a word of a name (``circuts``, ``cricuits wild``) the whole-name comparison
    # misses when the name is longer than the words: each word near one of a single name's.
    near = [name for words, name in by_words.items() if wanted_words and _near_words(wanted_words, words)]
    if len(near) == 1:
        return near[0]
    listed = "; ".join(f"{s} {n}" for s, n in categories.items())
    raise BadArgument(f"No category {clip(text, 41)!r}. Categories: {listed}.{hint}")


def named_in_full(problems: Sequence[Problem], words: Sequence[str]) -> int:
    """How many of ``words`` (a category's value typed without quotes, then the words after it)
    spell a category's full name: the most that do (``circuits in the wild`` of "circuits in the
    wild heads"), in any case, accents, punctuation and spacing aside; 1 (the value) when none do."""
    names = {_spelled(name) for name in dict.fromkeys(p.category for p in problems)}
    for count in range(len(words), 1, -1):
        if _spelled(" ".join(words[:count])) in names:
            return count
    return 1


def _spelled(text: str) -> str:
    """``text`` as named_in_full compares names: NFKC-folded, without accents, lower case, its
    words alone (no punctuation)."""
    letters = unicodedata.normalize("NFKD", normalise(text))
    return " ".join(
        utils.default_process("".join(ch for ch in letters if not unicodedata.combining(ch))).split()
    )


def _near_words(wanted: str, name: str) -> bool:
    """Whether every word of ``wanted`` is a word of ``name`` or, longer than four letters,
    one typo from one (a letter missing, extra, wrong, or two swapped)."""
    words = name.split()
    return all(
        w in words or (len(w) > 4 and any(OSA.distance(w, word, score_cutoff=1) <= 1 for word in words))
        for w in wanted.split()
    )


# Words that say nothing of a category: articles, joining words, and "problem" (every category's).
CATEGORY_FILLER = frozenset(
    "a an the and or of in on at to for with from about some any me give problem problems category".split()
)


def category_words(text: str) -> str:
    """A category name, or words given for one, as match_category compares them: NFKC-folded,
    lower case, no punctuation, without CATEGORY_FILLER; "" when only such words are left."""
    return " ".join(w for w in utils.default_process(normalise(text)).split() if w not in CATEGORY_FILLER)


# What people call each platform, and the community the bot serves there.
PLATFORMS = {"discord": ("Discord", "server"), "slack": ("Slack", "workspace")}


def platform_name(platform: str) -> str:
    """``Discord``, ``Slack``; another platform by its id, capitalised (``Console``)."""
    return PLATFORMS.get(platform, (platform.title(), ""))[0]


def community_word(platform: str) -> str:
    """``server`` on Discord, ``workspace`` on Slack, ``community`` elsewhere (the local console):
    for "made in another server"."""
    return PLATFORMS.get(platform, ("", "community"))[1]


def named(name: str, platform: str, viewer: str) -> str:
    """A person's name as ``viewer``'s platform shows it: ``Ann (Slack)`` when they are of another
    platform than the viewer's, so Discord's Ann and Slack's Ann are told apart; just ``Ann`` on
    their own platform (a one-platform community sees no labels). The sheet marks its own."""
    if not platform or platform == viewer or platform == LEGACY_PLATFORM:
        return name
    return f"{name} ({platform_name(platform)})"


def sheet_name(cell: str) -> str:
    """How a sheet claim is named wherever it is shown (cards, claim lists, /history, a refused
    /release): its whole cell on one line, cut where a card cuts it. The cell is kept whole."""
    return clip(sheet_text(cell), SHEET_CELL_SHOWN)


def claimant(claim: Claim, viewer: str) -> str:
    """Who holds (or held) ``claim``, as seen from platform ``viewer``: a sheet claim by its cell
    (:func:`sheet_name`), anyone else by their name (:func:`named`)."""
    if claim.platform == LEGACY_PLATFORM:
        return sheet_name(claim.source_text)
    return named(claim.display_name, claim.platform, viewer)


def is_stale(claim: Claim, now: datetime, stale_after_days: int) -> bool:
    """Whether an open claim shows as stale: the sweep marked it, or (a sheet claim, which the
    sweep leaves alone) its known date is ``stale_after_days`` old."""
    if claim.platform == LEGACY_PLATFORM:
        return claim.date_known and (now - claim.renewed_at).days >= stale_after_days
    return claim.state == ClaimState.STALE


async def stale_after_days(ctx: Context, actor: Actor, claims: Sequence[Claim] | None = None) -> int:
    """The days after which a claim shows stale to ``actor``: their community's /setup stale_days,
    else (and in a direct message, outside any community) the process default.

    Given ``claims``, the setting is read only if it matters to them: it dates only the sheet's
    claims (the sweep marks the others), so most cards read no settings at all."""
    days = ctx.stale_after_days
    if actor.direct:
        return days
    if claims is not None and not any(c.platform == LEGACY_PLATFORM and c.date_known for c in claims):
        return days
    settings = await ctx.store.recent_settings(actor.platform, actor.community_id)
    return settings.stale_after_days if settings and settings.stale_after_days else days


# How a stale claim's reminder (``Claim.delivery``) finally failed to reach its claimant: its
# grace runs from that last attempt all the same (storage.sweep.record_deliveries).
UNDELIVERED = ("unreachable", "failed")


def claim_line(claim: Claim, now: datetime, stale_after_days: int, viewer: str, grace_days: int) -> str:
    """Who is on a problem and since when, with its state (as seen from platform ``viewer``); a
    stale claim whose reminder went out says when it expires (at the end of the UTC day
    ``grace_days`` after the reminder, as the sweep expires it), and whether the reminder could
    not reach its claimant."""
    if claim.platform == LEGACY_PLATFORM:
        text = sheet_name(claim.source_text)
        if not claim.date_known:
            return f"{text} ({sheet_origin(claim.date_known)})"
        age = ago(claim.renewed_at, now)
        stale = is_stale(claim, now, stale_after_days)
        return f"{text} ({sheet_origin(claim.date_known)}, {age}{', stale' if stale else ''})"
    who = claimant(claim, viewer)
    line = f"{who} — since {day(claim.claimed_at)} ({ago(claim.claimed_at, now)})"
    if claim.renewed_at > claim.claimed_at and claim.renewed_at.date() != claim.claimed_at.date():
        line += f", renewed {day(claim.renewed_at)}"
    if claim.state == ClaimState.STALE:
        line += f" · stale: no news since {day(claim.renewed_at)}"
        # A reminder still on its way (refused, being sent) starts no countdown yet.
        if claim.reminded_at is not None and claim.delivery in (*REMINDER_DELIVERED, *UNDELIVERED):
            if claim.delivery in UNDELIVERED:
                line += ", my reminder could not reach them"
            last = last_day_to_answer(claim.reminded_at, grace_days).isoformat()
            line += f", expires at the end of {last} unless renewed"
    return line


def earlier_line(claim: Claim, viewer: str) -> str:
    """A claim that ended, with how and the note left (as seen from platform ``viewer``)."""
    how = "expired" if claim.state == ClaimState.EXPIRED else "released"
    # A sheet claim is named by its whole cell, as while it was open (its first line may be a date).
    who = claimant(claim, viewer)
    if claim.date_known:
        ended = f" to {day(claim.ended_at)}" if claim.ended_at else ""
        line = f"{who} — {day(claim.claimed_at)}{ended}, {how}"
    else:  # its claimed_at is only the day an import found it, so it is not shown as a start
        ended = f", until {day(claim.ended_at)}" if claim.ended_at else ""
        line = f"{who} — {sheet_origin(claim.date_known)}{ended}, {how}"
    if claim.note:
        note = " ".join(claim.note.split())
        line += f": “{note}”"
    return line


def existing_work(problem: Problem, links: Sequence[WorkLink]) -> list[str | Link]:
    """A problem's existing work as a card and /problem NUMBER all list it: its approved
    ``links`` first, newest first, then the sheet's lines (which the sheet itself still shows
    whole), so that a card cut short leaves out the oldest, never a newly approved link. An
    approved link shows its own URL; the submitter's note goes beside it as text."""
    newest = sorted(links, key=lambda link: (link.decided_at or link.created_at, link.id or 0), reverse=True)
    work: list[str | Link] = [Link(link.url, link.url, link.note) for link in newest]
    work += [line for line in problem.existing_work.splitlines() if line.strip()]
    return work


def all_work(number: str, page: int = 1) -> str:
    """The command that lists all of a problem's existing work: ``/problem 2.4 all [page:2]``."""
    return f"/problem {number} all" + (f" page:{page}" if page > 1 else "")


def problem_title(problem: Problem, limit: int = 80, *, links: bool = True) -> str:
    """``2.4 — 3 letter acronyms…``: number and the start of the text. ``links=False``: shown
    where nothing is a link (an autocomplete choice), so a link there is cut like any words."""
    text = " ".join(problem.text.split()) or "(no problem text in the sheet)"
    return f"{problem.number} — {clip(text, limit, links=links)}"


async def problem_card(
    ctx: Context,
    problem: Problem,
    actor: Actor,
    *,
    private: bool = False,
    text: str = "",
    extra: tuple[Button, ...] = (),
) -> Reply:
    """The full card of a problem: text, fields, existing work, who is on it, earlier claims,
    as ``actor`` sees it (their platform's names, their community's stale_days, and only the
    buttons they can use there)."""
    now = ctx.clock()
    viewer = actor.platform
    claims, links = await ctx.store.problem_state(problem.number)
    body = problem.text or "(The sheet has no problem sentence for this one; see its existing work.)"
    body = clip(body, MAX_PROBLEM_TEXT)  # never half a link: it would still open, another page
    fields = [ReplyField("Category", problem.category)]
    if problem.subcategory:
        fields.append(ReplyField("Subcategory", problem.subcategory))
    fields.append(ReplyField("Difficulty", problem.difficulty))
    sections: list[Section] = []
    work = existing_work(problem, links)
    # At most CARD_WORK lines, the last counting the rest and naming the command that lists them
    # all, so that who is working on it always shows, on every platform.
    more = len(work) - CARD_WORK + 1 if len(work) > CARD_WORK else 0
    shown = tuple(work[: len(work) - more]) or ("None yet.",)
    sections.append(Section("Existing work", shown, more, hint=all_work(problem.number) if more else ""))
    open_claims = [c for c in claims if c.state in OPEN_CLAIM_STATES]
    ended = [c for c in claims if c.state not in OPEN_CLAIM_STATES]
    days = await stale_after_days(ctx, actor, open_claims)
    working = tuple(claim_line(c, now, days, viewer, ctx.stale_grace_days) for c in open_claims)
    # /claim works in a server only (commands.registry): a direct message says where to run it.
    where = " in a server" if actor.direct else ""
    if open_claims and all(is_stale(c, now, days) for c in open_claims):
        # Stale says nobody has given news for a while, not that the problem is taken.
        working += (f"{STALE_HINT} {problem.number}{where}",)
    sections.append(Section("Working on it", working or (f"Nobody yet: /claim {problem.number}{where}",)))
    if ended:
        sections.append(
            Section("Earlier claims", tuple(earlier_line(c, viewer) for c in ended[-CARD_EARLIER:]))
        )
    # Claim and Release work in a community, not in a direct message; Release only when a member
    # holds the problem (nobody releases the sheet's claims here).
    buttons: tuple[Button, ...] = ()
    if not actor.direct:
        buttons += (Button("Claim", "claim", problem.number, ButtonStyle.PRIMARY),)
        if any(c.user_id is not None for c in open_claims):
            buttons += (Button("Release", "release", problem.number),)
    # Another random: any problem, but not this one (see random_problem.showing).
    buttons += (Button("Another random", "random", f"///{problem.number}"), *extra)
    return Reply(
        title=problem_title(problem, 90),
        text=(text + "\n\n" + body) if text else body,
        difficulty=problem.difficulty,
        fields=tuple(fields),
        sections=tuple(sections),
        buttons=buttons,
        private=private,
    )


PROBLEM_OPTIONS = (
    Option("number", Kind.NUMBER, "problem number, like 2.4", required=True),
    Option("all", Kind.FLAG, "list all of its existing work (the card shows ten lines)"),
    Option("page", Kind.PAGE, "which page of all its existing work"),
)


async def problem_command(ctx: Context, request: Request) -> Reply:
    """/problem NUMBER [all] [page]: the problem's card, in the channel; with all (or a page),
    every line of its existing work, privately, a page at a time."""
    problem = await get_problem(ctx, request.args["number"])
    if request.args.get("all") or "page" in request.args:
        return await work_list(ctx, problem, request.args.get("page", 1))
    return await problem_card(ctx, problem, request.actor)


# A page of /problem NUMBER all: at most WORK_PAGE lines, and at most WORK_PAGE_CHARS characters
# of them (each counting at most WORK_LINE_MOST, about the most of one line a platform shows:
# Discord 984), so that a page of the longest links /submit takes (900-character links,
# 500-character notes) still fits in one Discord embed (6,000 characters) and one Slack message
# (about 12,000) and no line is left off a page for want of room.
WORK_PAGE = 20
WORK_PAGE_CHARS = 3000
WORK_LINE_MOST = 1000


def work_size(line: str | Link) -> int:
    """The characters a line of existing work takes to show, as WORK_PAGE_CHARS counts them: a
    link as platforms send it (each letter beyond A-Z as its %XX codes), then its note."""
    if isinstance(line, Link):
        size = len(quote(line.url, safe=URL_KEPT)) + (len(" — ") + len(line.note) if line.note else 0)
    else:
        size = len(line)
    return min(size, WORK_LINE_MOST)


def work_pages(work: Sequence[str | Link], most: int = WORK_PAGE) -> list[list[str | Link]]:
    """``work`` in pages (see WORK_PAGE): each as many lines as fit (at most ``most``), at least one."""
    pages: list[list[str | Link]] = []
    size = 0
    for line in work:
        cost = work_size(line)
        if not pages or len(pages[-1]) >= most or size + cost > WORK_PAGE_CHARS:
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += cost
    return pages


def _lines(count: int, what: str) -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"


async def work_list(ctx: Context, problem: Problem, wanted: int) -> Reply:
    """/problem NUMBER all [page]: every line of a problem's existing work, as its card orders
    them, a page at a time (WORK_PAGE), privately, as /claims everyone and /search page theirs."""
    _, links = await ctx.store.problem_state(problem.number)
    work = existing_work(problem, links)
    title = f"Existing work on {problem_title(problem)}"
    number = problem.number
    if not work:
        return Reply(
            title=title,
            text=f"Nothing lists existing work on {number} yet. Know of some? /submit {number} LINK "
            "sends it to the moderators.",
        )
    pages = work_pages(work)
    page = min(wanted, len(pages))
    shown = pages[page - 1]
    first = sum(len(p) for p in pages[: page - 1]) + 1
    approved, sheet = len(links), len(work) - len(links)
    counted = (
        [_lines(approved, "approved link") + (", newest first" if approved > 1 else "")] if approved else []
    )
    if sheet:
        counted.append(_lines(sheet, "line") + " from the sheet")
    footer = ", then ".join(counted) + "."
    if len(pages) > 1:
        footer = (
            f"Page {page} of {len(pages)} (lines {first}–{first + len(shown) - 1} of {len(work)}). {footer}"
        )
    if page < len(pages):
        footer += f" Next: {all_work(number, page + 1)}"
    return Reply(
        title=title,
        text=past_the_last(wanted, len(pages)),
        sections=(Section("Existing work", tuple(shown)),),
        footer=footer,
    )
