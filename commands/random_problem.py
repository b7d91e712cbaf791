"""/random: a problem picked by chance, at a level, in a category, nobody working on it; and the
card's Another random button, which picks again with the same filters."""

from __future__ import annotations

from collections.abc import Sequence

from commands.catalogue import match_category, problem_card
from commands.parser import DIFFICULTY_RE, Kind, Option
from commands.search import index_of
from commands.types import BadArgument, Button, Context, Reply, Request
from storage.models import Problem

RANDOM_OPTIONS = (
    Option("difficulty", Kind.DIFFICULTY, "A (easiest) to D, or a range like A-B"),
    Option("category", Kind.CATEGORY, "a category name or section number", rest=True),
    Option("unclaimed", Kind.FLAG, "only problems nobody is working on"),
)


# Words for a level on the catalogue's scale (A: a beginner's problem, D: the hardest), so that
# /random easy picks an A rather than looking for a category called easy.
LEVEL_WORDS = {
    **dict.fromkeys("easy easiest beginner beginners novice simple starter intro introductory".split(), "A"),
    "easier": "A-B",
    **dict.fromkeys("medium intermediate moderate".split(), "B-C"),
    **dict.fromkeys("hard harder difficult advanced challenging".split(), "C-D"),
    **dict.fromkeys("hardest expert".split(), "D"),
}
LEVEL_FILLER = frozenset("an and difficulty level levels one or problem problems to".split())
SCALE = "A is the easiest level, D the hardest; two levels make a range like A-B"


async def random_command(ctx: Context, request: Request) -> Reply:
    """/random [difficulty] [category] [unclaimed]: one matching problem, by chance.

    Words for a level in the category (``/random easy``, ``/random A B``) are read as the
    difficulty, and the answer says how."""
    problems = await ctx.store.catalogue()
    difficulty = request.args.get("difficulty")
    category = request.args.get("category")
    unclaimed = bool(request.args.get("unclaimed"))
    read = ""
    if category and not _is_category_name(problems, category):
        given = difficulty
        difficulty, category, taken = read_levels(difficulty, category)
        if taken:
            shown = " ".join(filter(None, [given, taken]))
            shown = shown if len(shown) <= 40 else shown[:40] + "…"
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


def read_levels(difficulty: str | None, words: str) -> tuple[str | None, str, str]:
    """/random's category words read for a level: (difficulty, the words left for the category,
    the words read as a level). Words for a level (``easy``, ``hard``) count wherever they are
    (``easy circuits``); letters when every word names a level (``/random A B``: the difficulty
    A and the word B), not in a name (``a toy model``). Several levels make their span (A-B)."""
    tokens = words.replace(",", " ").split()
    if all(_level_of(t) or t.lower() in LEVEL_FILLER for t in tokens):
        taken = [t for t in tokens if _level_of(t)]
        rest: list[str] = []
    else:
        taken = [t for t in tokens if t.lower() in LEVEL_WORDS]
        rest = [t for t in tokens if t.lower() not in LEVEL_WORDS]
    if not taken:  # words only around a level ("/random level A") say nothing more
        return difficulty, "" if difficulty and not rest else words, ""
    levels = "".join(str(_level_of(t)) for t in [*filter(None, [difficulty]), *taken]).replace("-", "")
    low, high = min(levels), max(levels)
    return (low if low == high else f"{low}-{high}"), " ".join(rest), " ".join(taken)


def _level_of(word: str) -> str | None:
    """The level or range a word names: ``b``, ``A-C``, ``easy`` (A); None for any other word."""
    if DIFFICULTY_RE.match(word.upper()):
        return word.upper()
    return LEVEL_WORDS.get(word.lower())
