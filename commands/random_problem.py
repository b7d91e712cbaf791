"""/random: a problem picked by chance, at a level, in a category, nobody working on it; and the
card's Another random button, which picks again with the same filters."""

from __future__ import annotations

from collections.abc import Sequence

from commands.catalogue import category_words, match_category, problem_card
from commands.levels import SCALE, read_difficulty, read_levels
from commands.parser import NUMBER_PREFIX_RE, Kind, Option
from commands.search import STOP_WORDS, index_of, matching, processed_text
from commands.types import Actor, BadArgument, Button, Context, Reply, Request
from storage.models import Problem
from storage.text import canonical_number, clip, normalise

RANDOM_OPTIONS = (
    Option("difficulty", Kind.DIFFICULTY, "A (easiest) to D, or a range like A-B", words=True),
    Option("category", Kind.CATEGORY, "a category name or section number", rest=True),
    Option("unclaimed", Kind.FLAG, "only problems nobody is working on"),
)


async def random_command(ctx: Context, request: Request) -> Reply:
    """/random [difficulty] [category] [unclaimed]: one matching problem, by chance.

    Words for a level in the category (``/random easy``, ``/random A B``) are read as the
    difficulty, and the answer says how."""
    problems = await ctx.store.catalogue()
    # difficulty:easy is read as /random easy is: ``given`` is what was read as a level in words.
    difficulty, given = read_difficulty(request.args.get("difficulty"))
    # Folded (NFKC) as search folds words: full-width ｅａｓｙ or ｃｉｒｃｕｉｔｓ read as typed in ASCII.
    category = normalise(request.args.get("category") or "") or None
    unclaimed = bool(request.args.get("unclaimed"))
    if category and not _is_category_name(problems, category):
        before = given or difficulty
        difficulty, category, taken = read_levels(difficulty, category)
        given = " ".join(filter(None, [before, taken])) if taken else given
    if given == difficulty:  # ``difficulty: A``: the letter alone needs no explaining
        given = ""
    read = ""
    if given:
        shown = clip(given, 41)
        read = f"Read {shown!r} as difficulty {difficulty} ({SCALE}). "
    pool: Sequence[Problem] = problems
    if difficulty:
        pool = index_of(problems).at_level(difficulty)
    if category and not category_words(category) and processed_text(category):
        # Only words that name nothing ("a problem", "and the"): no category, not one they resemble.
        # No word at all (🤖, ???) is refused below as a category nobody has is, not ignored.
        category = None
    if category:
        scale = f" For a difficulty: {SCALE} (/random B, /random A-B)."
        try:
            name = match_category(problems, category)
        except BadArgument as refused:
            raise BadArgument(f"{refused}{scale}{_found_elsewhere(problems, category, difficulty)}") from None
        pool = [p for p in pool if p.category == name]
        words = set(category_words(category).split())
        if not _is_category_name(problems, category) and not words <= set(category_words(name).split()):
            # Words only close to a category's name (a typo, ``a toy model``) filter by it: the
            # answer says which it took. Words of its name (``circuits``, ``in the wild``) need not.
            read += f"Read {clip(category, 41)!r} as category {name}. "
    if not pool:
        raise BadArgument(f"{read}No problem matches all of that; try fewer filters.")
    # A problem nobody is working on, when there is one: what a newcomer asking for a problem
    # expects. When all are claimed, one of them all the same, saying so (several people may
    # work on one problem), unless only unclaimed ones were asked for.
    claimed = await ctx.store.claimed_numbers()
    free = [p for p in pool if p.number not in claimed]
    # Problems "match" only what was asked for: with nothing asked, they are the catalogue's.
    matching = (
        f"{len(pool)} matching problem{'s' if len(pool) != 1 else ''}"
        if difficulty or category
        else f"the catalogue's {len(pool)} problems"
    )
    every = f"All {matching} are" if len(pool) > 1 else "The one matching problem is"
    if not free and unclaimed:
        raise BadArgument(f"{read}{every} claimed; try other filters, or /random without unclaimed.")
    last = ctx.shown.get((request.actor.platform, request.actor.user_id))
    if not free:
        picked = (
            f"{every} claimed{', this one too' if len(pool) > 1 else ''}: see who is on it below "
            "(several people may work on one problem), or try other filters."
        )
    elif not unclaimed and len(free) == 1 and free[0].number == last and len(pool) > 1:
        # The one nobody is working on was just shown (a second /random, Another random under
        # it): one somebody is on, saying so, rather than the same card again.
        picked = (
            f"{last}, just shown, is the only one of {matching} nobody is working on; this one is "
            "claimed: see who is on it below (several people may work on one problem)."
        )
        free = []
    elif len(free) < len(pool):
        picked = f"Picked at random from the {len(free)} of {matching} nobody is working on."
    else:
        picked = f"Picked at random from {matching}."
    problem = _pick(ctx, request.actor, free or pool)
    filters = f"{difficulty or ''}/{problem.section if category else ''}/{'u' if unclaimed else ''}"
    card = await problem_card(ctx, problem, request.actor, text=read + picked)
    # The button carries the filters and the problem it is under (``A/2/u/3.11``).
    again = f"{filters}/{problem.number}"
    buttons = tuple(b if b.action != "random" else Button(b.label, "random", again) for b in card.buttons)
    return Reply(**{**card.__dict__, "buttons": buttons})


RECENT_PICKS = 4096  # people whose last /random problem Context.shown keeps (the oldest go first)


def _pick(ctx: Context, actor: Actor, pool: Sequence[Problem]) -> Problem:
    """A problem of ``pool`` by chance, not the one ``actor`` was shown last when there is
    another: a second /random (or Another random) never shows the same problem again."""
    last = ctx.shown.get((actor.platform, actor.user_id))
    others = [p for p in pool if p.number != last]
    problem = ctx.rng.choice(others or pool)
    _remember(ctx, actor, problem.number)
    return problem


def _remember(ctx: Context, actor: Actor, number: str) -> None:
    """``number`` is what ``actor`` saw last; the oldest people are forgotten past RECENT_PICKS."""
    key = (actor.platform, actor.user_id)
    ctx.shown.pop(key, None)
    ctx.shown[key] = number
    while len(ctx.shown) > RECENT_PICKS:
        del ctx.shown[next(iter(ctx.shown))]


def showing(ctx: Context, actor: Actor, target: str) -> None:
    """An Another random button pressed: the card it is under (the problem its target names,
    ``A/2/u/3.11``) is the one ``actor`` sees, so the next pick is another."""
    number = target.split("/")[3] if target.count("/") >= 3 else ""
    if number:
        _remember(ctx, actor, number)


def random_filters(target: str) -> dict[str, object]:
    """The filters an "Another random" button carries (``A/2/u``, and after them the problem the
    button is under, see showing) as /random arguments."""
    difficulty, _, rest = target.partition("/")
    section, _, rest = rest.partition("/")
    unclaimed = rest.partition("/")[0]
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
    text = " ".join(normalise(text).split()).casefold()
    return any(text in (str(p.section), p.category.casefold()) for p in problems)


def _found_elsewhere(problems: Sequence[Problem], words: str, difficulty: str | None) -> str:
    """For words /random read as a category that names none: the command that finds what they
    may mean, ready to type (a problem's number: /problem; words some problems have: /search,
    with how many it finds at ``difficulty``); else ""."""
    number = canonical_number(NUMBER_PREFIX_RE.sub("", words.strip()))
    if number is not None:  # one that is no problem: its digits are no words to search for
        if not any(p.number == number for p in problems):
            return ""
        return f" /random picks by level and category; for problem {number}: /problem {number}."
    if STOP_WORDS.issuperset(processed_text(words).split()):
        return ""
    found = matching(words, problems, difficulty, None)
    if not found:
        return ""
    level = f" difficulty:{difficulty}" if difficulty else ""
    matches = f"{found} {'match' if found == 1 else 'matches'}"
    return (
        f" /random picks by level and category; for problems about {clip(words, 41)!r}:"
        f" /search {words}{level} ({matches})."
    )
