"""/random: a problem picked by chance, at a level, in a category, nobody working on it; and the
card's Another random button, which picks again with the same filters."""

from __future__ import annotations

from collections.abc import Sequence

from commands.catalogue import match_category, problem_card
from commands.parser import DIFFICULTY_RE, LEVEL_FILLER, LEVEL_WORDS, Kind, Option, level_of
from commands.search import index_of
from commands.types import BadArgument, Button, Context, Reply, Request
from storage.models import Problem

RANDOM_OPTIONS = (
    Option("difficulty", Kind.DIFFICULTY, "A (easiest) to D, or a range like A-B", words=True),
    Option("category", Kind.CATEGORY, "a category name or section number", rest=True),
    Option("unclaimed", Kind.FLAG, "only problems nobody is working on"),
)


SCALE = "A is the easiest level, D the hardest; two levels make a range like A-B"


async def random_command(ctx: Context, request: Request) -> Reply:
    """/random [difficulty] [category] [unclaimed]: one matching problem, by chance.

    Words for a level in the category (``/random easy``, ``/random A B``) are read as the
    difficulty, and the answer says how."""
    problems = await ctx.store.catalogue()
    # difficulty:easy is read as /random easy is: ``given`` is what was read as a level in words.
    difficulty, given = read_difficulty(request.args.get("difficulty"))
    category = request.args.get("category")
    unclaimed = bool(request.args.get("unclaimed"))
    if category and not _is_category_name(problems, category):
        before = given or difficulty
        difficulty, category, taken = read_levels(difficulty, category)
        given = " ".join(filter(None, [before, taken])) if taken else given
    read = ""
    if given:
        shown = given if len(given) <= 40 else given[:40] + "…"
        read = f"Read {shown!r} as difficulty {difficulty} ({SCALE}). "
    pool: Sequence[Problem] = problems
    if difficulty:
        pool = index_of(problems).at_level(difficulty)
    if category:
        name = match_category(problems, category, f" For a difficulty: {SCALE} (/random B, /random A-B).")
        pool = [p for p in pool if p.category == name]
    if unclaimed:
        claimed = await ctx.store.claimed_numbers()
        pool = [p for p in pool if p.number not in claimed]
    if not pool:
        raise BadArgument(f"{read}No problem matches all of that; try fewer filters.")
    problem = ctx.rng.choice(pool)
    filters = f"{difficulty or ''}/{problem.section if category else ''}/{'u' if unclaimed else ''}"
    picked = f"Picked at random from {len(pool)} matching problem{'s' if len(pool) != 1 else ''}."
    card = await problem_card(ctx, problem, request.actor, text=read + picked)
    buttons = tuple(b if b.action != "random" else Button(b.label, "random", filters) for b in card.buttons)
    return Reply(**{**card.__dict__, "buttons": buttons})


def random_filters(target: str) -> dict[str, object]:
    """The filters an "Another random" button carries (``A/2/u``) as /random arguments."""
    difficulty, _, rest = target.partition("/")
    section, _, unclaimed = rest.partition("/")
    args: dict[str, object] = {}
    if difficulty:
        args["difficulty"] = difficulty
    if section:
        args["category"] = section
    if unclaimed:
        args["unclaimed"] = True
    return args


def _is_category_name(problems: Sequence[Problem], text: str) -> bool:
    """Whether ``text`` is a section number or a category's name, as written (any case)."""
    text = " ".join(text.split()).casefold()
    return any(text in (str(p.section), p.category.casefold()) for p in problems)


def read_difficulty(value: str | None) -> tuple[str | None, str]:
    """The difficulty option, which the parser leaves in words when given so (``easy``, ``A B``):
    (the difficulty, the words read as a level, or "" for a letter or range as such)."""
    if value is None or DIFFICULTY_RE.match(value):
        return value, ""
    difficulty, _, taken = read_levels(None, value)
    return difficulty, taken


def read_levels(difficulty: str | None, words: str) -> tuple[str | None, str, str]:
    """/random's category words read for a level: (difficulty, the words left for the category,
    the words read as a level). Words for a level (``easy``, ``hard``) count wherever they are
    (``easy circuits``); letters when every word names a level (``/random A B``: the difficulty
    A and the word B), not in a name (``a toy model``). Several levels make their span (A-B)."""
    tokens = words.replace(",", " ").split()
    if all(level_of(t) or t.lower() in LEVEL_FILLER for t in tokens):
        taken = [t for t in tokens if level_of(t)]
        rest: list[str] = []
    else:
        taken = [t for t in tokens if t.lower() in LEVEL_WORDS]
        rest = [t for t in tokens if t.lower() not in LEVEL_WORDS]
    if not taken:  # words only around a level ("/random level A") say nothing more
        return difficulty, "" if difficulty and not rest else words, ""
    levels = "".join(str(level_of(t)) for t in [*filter(None, [difficulty]), *taken]).replace("-", "")
    low, high = min(levels), max(levels)
    return (low if low == high else f"{low}-{high}"), " ".join(rest), " ".join(taken)
