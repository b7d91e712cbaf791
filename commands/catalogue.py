"""Looking at the catalogue: /problem, /random, /search, and the problem card they share."""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import OSA

from commands.parser import DIFFICULTY_RE, SMART_QUOTES, Kind, Option
from commands.timefmt import ago, day
from commands.types import (
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
)
from storage.claims import STATE_ENDED
from storage.legacy import sheet_origin, sheet_text
from storage.models import LEGACY_PLATFORM, OPEN_CLAIM_STATES, Claim, ClaimState, Problem
from storage.text import canonical_number

LEVELS = "ABCD"
MAX_PROBLEM_TEXT = 1500
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


# What people call each platform, and the community the bot serves there.
PLATFORMS = {"discord": ("Discord", "server"), "slack": ("Slack", "workspace")}


def platform_name(platform: str) -> str:
    """``Discord``, ``Slack``; another platform by its id, capitalised (``Console``)."""
    return PLATFORMS.get(platform, (platform.title(), ""))[0]


def community_word(platform: str) -> str:
    """``server`` on Discord, ``workspace`` on Slack: for "made in another server"."""
    return PLATFORMS.get(platform, ("", "server"))[1]


def named(name: str, platform: str, viewer: str) -> str:
    """A person's name as ``viewer``'s platform shows it: ``Ann (Slack)`` when they are of another
    platform than the viewer's, so Discord's Ann and Slack's Ann are told apart; just ``Ann`` on
    their own platform (a one-platform community sees no labels). The sheet marks its own."""
    if not platform or platform == viewer or platform == LEGACY_PLATFORM:
        return name
    return f"{name} ({platform_name(platform)})"


def is_stale(claim: Claim, now: datetime, stale_after_days: int) -> bool:
    """Whether an open claim shows as stale: the sweep marked it, or (a sheet claim, which the
    sweep leaves alone) its known date is ``stale_after_days`` old."""
    if claim.platform == LEGACY_PLATFORM:
        return claim.date_known and (now - claim.renewed_at).days >= stale_after_days
    return claim.state == ClaimState.STALE


def claim_line(claim: Claim, now: datetime, stale_after_days: int, viewer: str) -> str:
    """Who is on a problem and since when, with its state (as seen from platform ``viewer``)."""
    if claim.platform == LEGACY_PLATFORM:
        text = sheet_text(claim.source_text, 300)
        if not claim.date_known:
            return f"{text} ({sheet_origin(claim.date_known)})"
        age = ago(claim.renewed_at, now)
        stale = is_stale(claim, now, stale_after_days)
        return f"{text} ({sheet_origin(claim.date_known)}, {age}{', stale' if stale else ''})"
    who = named(claim.display_name, claim.platform, viewer)
    line = f"{who} — since {day(claim.claimed_at)} ({ago(claim.claimed_at, now)})"
    if claim.renewed_at > claim.claimed_at and claim.renewed_at.date() != claim.claimed_at.date():
        line += f", renewed {day(claim.renewed_at)}"
    if claim.state == ClaimState.STALE:
        line += f" · stale: no news since {day(claim.renewed_at)}"
    return line


def earlier_line(claim: Claim, viewer: str) -> str:
    """A claim that ended, with how and the note left (as seen from platform ``viewer``)."""
    how = "expired" if claim.state == ClaimState.EXPIRED else "released"
    # A sheet claim is named by its whole cell, as while it was open (its first line may be a date).
    if claim.platform == LEGACY_PLATFORM:
        who = sheet_text(claim.source_text, 300)
    else:
        who = named(claim.display_name, claim.platform, viewer)
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


def problem_title(problem: Problem, limit: int = 80) -> str:
    """``2.4 — 3 letter acronyms…``: number and the start of the text."""
    text = " ".join(problem.text.split()) or "(no problem text in the sheet)"
    return f"{problem.number} — {text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}"


async def problem_card(
    ctx: Context,
    problem: Problem,
    viewer: str,
    *,
    private: bool = False,
    text: str = "",
    extra: tuple[Button, ...] = (),
) -> Reply:
    """The full card of a problem: text, fields, existing work, who is on it, earlier claims,
    for a member of platform ``viewer``."""
    now = ctx.clock()
    claims, links = await ctx.store.problem_state(problem.number)
    body = problem.text or "(The sheet has no problem sentence for this one; see its existing work.)"
    if len(body) > MAX_PROBLEM_TEXT:
        body = body[: MAX_PROBLEM_TEXT - 1] + "…"
    fields = [ReplyField("Category", problem.category)]
    if problem.subcategory:
        fields.append(ReplyField("Subcategory", problem.subcategory))
    fields.append(ReplyField("Difficulty", problem.difficulty))
    sections: list[Section] = []
    work: list[str | Link] = [line for line in problem.existing_work.splitlines() if line.strip()]
    # An approved link shows its own URL; the submitter's note goes beside it as text.
    work += [Link(link.url, link.url, link.note) for link in links]
    # At most CARD_WORK lines, the last counting the rest, so that who is working on it always
    # shows, on every platform.
    more = len(work) - CARD_WORK + 1 if len(work) > CARD_WORK else 0
    sections.append(Section("Existing work", tuple(work[: len(work) - more]) or ("None yet.",), more))
    open_claims = [c for c in claims if c.state in OPEN_CLAIM_STATES]
    ended = [c for c in claims if c.state not in OPEN_CLAIM_STATES]
    working = tuple(claim_line(c, now, ctx.stale_after_days, viewer) for c in open_claims)
    if open_claims and all(is_stale(c, now, ctx.stale_after_days) for c in open_claims):
        # Stale says nobody has given news for a while, not that the problem is taken.
        working += (f"{STALE_HINT} {problem.number}",)
    sections.append(Section("Working on it", working or ("Nobody yet: /claim " + problem.number,)))
    if ended:
        sections.append(
            Section("Earlier claims", tuple(earlier_line(c, viewer) for c in ended[-CARD_EARLIER:]))
        )
    buttons = (
        Button("Claim", "claim", problem.number, ButtonStyle.PRIMARY),
        Button("Release", "release", problem.number),
        Button("Another random", "random", ""),
        *extra,
    )
    return Reply(
        title=problem_title(problem, 90),
        text=(text + "\n\n" + body) if text else body,
        difficulty=problem.difficulty,
        fields=tuple(fields),
        sections=tuple(sections),
        buttons=buttons,
        private=private,
    )


PROBLEM_OPTIONS = (Option("number", Kind.NUMBER, "problem number, like 2.4", required=True),)


async def problem_command(ctx: Context, request: Request) -> Reply:
    """/problem NUMBER: the problem's card, in the channel."""
    problem = await get_problem(ctx, request.args["number"])
    return await problem_card(ctx, problem, request.actor.platform)


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


def _level_of(word: str) -> str | None:
    """The level or range a word names: ``b``, ``A-C``, ``easy`` (A); None for any other word."""
    if DIFFICULTY_RE.match(word.upper()):
        return word.upper()
    return LEVEL_WORDS.get(word.lower())


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


def match_category(problems: Sequence[Problem], wanted: str, hint: str = "") -> str:
    """The category ``wanted`` names: by section number, exact name or a close spelling; a
    BadArgument listing them (then ``hint``) when none is close."""
    categories: dict[str, str] = {}
    for p in problems:
        categories.setdefault(str(p.section), p.category)
    text = " ".join(wanted.split())
    if text in categories:
        return categories[text]
    names = list(dict.fromkeys(categories.values()))
    found = process.extractOne(
        text, names, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=80
    )
    if found is None:
        listed = "; ".join(f"{s} {n}" for s, n in categories.items())
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise BadArgument(f"No category {shown!r}. Categories: {listed}.{hint}")
    return str(found[0])


def _is_category_name(problems: Sequence[Problem], text: str) -> bool:
    """Whether ``text`` is a section number or a category's name, as written (any case)."""
    text = " ".join(text.split()).casefold()
    return any(text in (str(p.section), p.category.casefold()) for p in problems)


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
        pool = _index_of(problems).at_level(difficulty)
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
    card = await problem_card(ctx, problem, request.actor.platform, text=read + picked)
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


SEARCH_OPTIONS = (
    Option("query", Kind.TEXT, "words to look for", required=True, rest=True, max_length=200),
    Option("difficulty", Kind.DIFFICULTY, "A (easiest) to D, or a range like A-B"),
    Option("category", Kind.CATEGORY, "a category name or section number"),
    Option("page", Kind.PAGE, "which page of results"),
)


MATCH_AT = 60.0  # the score a problem needs to be listed
# Words nearly every problem uses: a query of these alone would list most of the catalogue.
STOP_WORDS = frozenset(
    "a an and are as at be by can do does for from how in into is it its of on or than that the "
    "their there this to we what when where which who why with you your".split()
)
MATCH_CACHE = 4096  # query words whose matches the index keeps (all dropped when full)
# How a query word finds the catalogue's words (see _Index.similar).
SHORT_WORD = 4  # a word this short has no typos: only itself, its singular and the words it starts
LONG_WORD = 8  # a word this long may have two typos, or one in the start of a longer word
PREFIX_AT = 80.0  # the similarity at least of a word the query word starts (max: maximum)
STEM = 5  # letters a word shares at its start with one it may stand for (pronombres: pronouns) …
STEM_AT = 65.0  # … when they are this similar at least


_LAST = chr(0x10FFFF)  # after every character: a prefix + _LAST sorts after each word it starts
URL_RE = re.compile(r"\S+://\S+")  # links in existing work: their words are not what a problem is about
# Words written with hyphens (GPT-2, in-context, GPT-2-small): the index splits them into words.
HYPHENATED_RE = re.compile(r"[^\W_]+(?:[-\u2010\u2011][^\W_]+)+")


def _joined(text: str) -> list[str]:
    """Each pair of neighbouring words a hyphen joins in ``text``, written as one word, as people
    type them: gpt2 for GPT-2, incontext for in-context, gpt2 and 2small for GPT-2-small."""
    joined = []
    for match in HYPHENATED_RE.finditer(text):
        parts = utils.default_process(match.group(0)).split()
        joined += [first + second for first, second in zip(parts, parts[1:], strict=False)]
    return joined


def _postings(documents: Sequence[str], texts: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
    """For each word of ``documents``, and each pair of hyphenated words of ``texts`` (the
    documents before processing) joined (see _joined): the documents (by position) that use it
    and how often."""
    postings: dict[str, list[tuple[int, int]]] = {}
    for position, (document, text) in enumerate(zip(documents, texts, strict=True)):
        for word, count in Counter(document.split() + _joined(text)).items():
            postings.setdefault(word, []).append((position, count))
    return postings


@dataclass(frozen=True)
class _Matches:
    """For one query word, by problem position: the best similarity of the problem's words that
    stand for it (see _Index.similar), and how often the problem uses words at least 80 similar;
    in its own text (number, category, subcategory, problem) and in its existing work."""

    best: dict[int, float]
    mentions: dict[int, int]
    work_best: dict[int, float]
    work_mentions: dict[int, int]


@dataclass(frozen=True)
class _Index:
    """The catalogue as search and /random see it, built once per catalogue.

    ``documents``: each problem's processed text; ``work``: its existing work, links left out;
    ``vocabulary``: every distinct word of both; ``postings`` and ``work_postings``: for each
    word, the problems (by position) whose text or existing work uses it, and how often. They
    also hold the hyphenated words joined (gpt2 for GPT-2, see _joined), which are not in the
    vocabulary: a query word finds them only as themselves, never through a typo or a prefix.
    """

    documents: tuple[str, ...]
    vocabulary: tuple[str, ...]
    postings: dict[str, list[tuple[int, int]]]
    problems: Sequence[Problem] = ()
    work: tuple[str, ...] = ()
    work_postings: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    levels: dict[str, tuple[Problem, ...]] = field(default_factory=dict)  # difficulty → its problems
    # query word → its matches; words recur across searches (and a search's next page repeats
    # them all), so each is looked up in the vocabulary once.
    matches: dict[str, _Matches] = field(default_factory=dict)

    def match(self, term: str) -> _Matches:
        """Where one query word matches, in the problems' own text and in their existing work."""
        found = self.matches.get(term)
        if found is not None:
            return found
        found = _Matches({}, {}, {}, {})
        for word, similarity in self.similar(term):
            for postings, best, mentions in (
                (self.postings, found.best, found.mentions),
                (self.work_postings, found.work_best, found.work_mentions),
            ):
                for position, count in postings.get(word, ()):
                    best.setdefault(position, similarity)
                    if similarity >= 80:
                        mentions[position] = mentions.get(position, 0) + count
        if len(self.matches) >= MATCH_CACHE:
            self.matches.clear()
        self.matches[term] = found
        return found

    def known(self, word: str) -> bool:
        """Whether some problem's text or existing work uses ``word``."""
        return word in self.postings or word in self.work_postings

    def starting(self, prefix: str) -> tuple[str, ...]:
        """The vocabulary's words that start with ``prefix`` (it is sorted: two bisections)."""
        words = self.vocabulary
        return words[bisect.bisect_left(words, prefix) : bisect.bisect_left(words, prefix + _LAST)]

    def similar(self, term: str) -> list[tuple[str, float]]:
        """The vocabulary's words that stand for query word ``term``, best first (so that a
        problem's first similarity is its best), with their similarity (fuzz.ratio; the word
        itself 100).

        Those are: the word itself; the words it starts (from 3 letters, not a stop word:
        superpos, superposition), at least PREFIX_AT, but a short word in the catalogue only
        those at most 2 letters longer; a short word's singular (mlps: mlp). Longer than
        SHORT_WORD letters, also: a word with its first letter within a typo of it, singular or
        plural (OSA distance, where two letters swapped are one typo: nueron, neurons), two
        typos from LONG_WORD letters, when the start of a longer word (polysemantc,
        polysemanticity) one; the longest word that starts it, from two thirds of it; and when
        none of those is in the catalogue, the words that start like it: the longest starting
        it from SHORT_WORD letters (copying: copy), or else the words sharing its first STEM
        letters at least STEM_AT similar (pronombres: pronouns). A short word has no typos:
        "sae" would be "same", "head" "hard".
        """
        found: dict[str, float] = {}
        if self.known(term):
            found[term] = 100.0
        # A short word found as itself starts only its inflections (head: heads; solu, not solution).
        longest = len(term) + 2 if found and len(term) <= SHORT_WORD else None
        if len(term) >= 3 and term not in STOP_WORDS:
            for word in self.starting(term):
                if longest is None or len(word) <= longest:
                    found[word] = max(found.get(word, 0.0), fuzz.ratio(term, word), PREFIX_AT)
        if len(term) <= SHORT_WORD:
            singular = term[:-1]
            if len(singular) >= 3 and term.endswith("s") and self.known(singular):
                found[singular] = fuzz.ratio(term, singular)
            return sorted(found.items(), key=lambda item: -item[1])
        typos, long = (1, False) if len(term) < LONG_WORD else (2, True)
        singular = term.removesuffix("s")
        shortest = max(STEM, -(-2 * len(term) // 3))  # a word that starts it: two thirds of it
        # Only words with its first letter: a typo there is rare, and "reduction" is no "induction".
        for word, similarity, _ in process.extract(
            term, self.starting(term[0]), scorer=fuzz.ratio, score_cutoff=70, limit=None
        ):
            if (
                OSA.distance(singular, word.removesuffix("s"), score_cutoff=typos) <= typos
                or (long and OSA.distance(term, word[: len(term)], score_cutoff=1) <= 1)
                or (len(word) >= shortest and term.startswith(word))
            ):
                found.setdefault(word, similarity)
        if not found:  # the words that start like it
            for length in range(len(term) - 1, SHORT_WORD - 1, -1):
                if self.known(start := term[:length]):
                    found[start] = fuzz.ratio(term, start)
                    break
            else:
                for word in self.starting(term[:STEM]):
                    if (similarity := fuzz.ratio(term, word)) >= STEM_AT:
                        found[word] = similarity
        return sorted(found.items(), key=lambda item: -item[1])

    def at_level(self, difficulty: str) -> tuple[Problem, ...]:
        """The problems whose difficulty matches ``difficulty`` (see difficulty_matches)."""
        found = self.levels.get(difficulty)
        if found is None:
            found = tuple(p for p in self.problems if difficulty_matches(p.difficulty, difficulty))
            self.levels[difficulty] = found
        return found

    @classmethod
    def build(cls, problems: Sequence[Problem]) -> _Index:
        texts = [f"{p.number} {p.category} {p.subcategory} {p.text}" for p in problems]
        works = [URL_RE.sub(" ", p.existing_work) for p in problems]
        documents = tuple(utils.default_process(text) for text in texts)
        work = tuple(utils.default_process(text) for text in works)
        postings, work_postings = _postings(documents, texts), _postings(work, works)
        vocabulary = tuple(sorted({word for text in (*documents, *work) for word in text.split()}))
        return cls(documents, vocabulary, postings, problems, work, work_postings)


_last_index: list[tuple[Sequence[Problem], _Index]] = []


def _index_of(problems: Sequence[Problem]) -> _Index:
    """The index of this catalogue (the same tuple object while the store keeps it cached)."""
    if _last_index and _last_index[0][0] is problems:
        return _last_index[0][1]
    index = _Index.build(problems)
    _last_index[:] = [(problems, index)]  # holding ``problems`` keeps its id from being reused
    return index


def _scored(
    terms: int,
    processed: str,
    total: dict[int, float],
    mentions: dict[int, int],
    document: Callable[[int], str],
) -> dict[int, float]:
    """Each problem's score from its summed best similarities and its mentions: the mean over
    the ``terms`` query words, the phrase as a whole against ``document``, a little per mention."""
    out: dict[int, float] = {}
    for position, summed in total.items():
        mean = summed / terms
        bonus = min(mentions.get(position, 0), 5) * 0.5
        phrase = 0.0
        # The phrase adds at most 0.25 × 100: skip it where even that cannot reach a match.
        if terms > 1 and 0.75 * mean + 25 + bonus >= MATCH_AT:
            # Only a phrase score above the mean that lifts the total to MATCH_AT changes what is
            # listed or its score; below that cutoff rapidfuzz may stop early and answer 0.
            needed = max(mean, (MATCH_AT - 0.75 * mean - bonus) / 0.25)
            phrase = fuzz.partial_ratio(processed, document(position), score_cutoff=needed)
        # Ties are common (every exact hit scores 100): more mentions rank a problem higher.
        out[position] = 0.75 * mean + 0.25 * max(phrase, mean) + bonus
    return out


def scores(query: str, problems: Sequence[Problem]) -> list[tuple[int, float]]:
    """How well each problem matches, as (tier, score): typo-tolerant per word, plus the phrase
    as a whole. Tier 0 is a match in the problem's own text; a problem that reaches MATCH_AT
    only with its existing work too (the title of a paper, a tool named there) is tier 1, listed
    after every tier 0 match.

    Each query word is compared once with the catalogue's vocabulary, not with every problem;
    a problem scores the best of its words per query word, plus a little per mention. A
    problem that cannot reach MATCH_AT gets a lower bound of its score (still below it).
    """
    index = _index_of(problems)
    processed = utils.default_process(query)
    terms = processed.split()
    out = [(0, 0.0)] * len(problems)  # a problem none of the words comes near scores 0
    if not terms:
        return out
    total: dict[int, float] = {}  # by position: the sum over words of its best similarity
    mentions: dict[int, int] = {}
    found = [index.match(term) for term in terms]
    for matched in found:
        for position, similarity in matched.best.items():
            total[position] = total.get(position, 0.0) + similarity
        for position, count in matched.mentions.items():
            mentions[position] = mentions.get(position, 0) + count
    own = _scored(len(terms), processed, total, mentions, lambda position: index.documents[position])
    for position, score in own.items():
        out[position] = (0, score)
    # Problems short of a match whose existing work has some of the words: scored again with it,
    # per word the better of the two texts (a problem without such words would score the same).
    again = {p for matched in found for p in matched.work_best if own.get(p, 0.0) < MATCH_AT}
    if not again:
        return out
    total.clear()
    for matched in found:
        for position in again:
            best = max(matched.best.get(position, 0.0), matched.work_best.get(position, 0.0))
            total[position] = total.get(position, 0.0) + best
        for position, count in matched.work_mentions.items():
            mentions[position] = mentions.get(position, 0) + count
    with_work = _scored(
        len(terms),
        processed,
        total,
        mentions,
        lambda position: f"{index.documents[position]} {index.work[position]}",
    )
    for position, score in with_work.items():
        if score >= MATCH_AT:
            out[position] = (1, score)
    return out


def _search_again(query: str, difficulty: str | None, category: str | None, page: int) -> str:
    """The same search at another page, written out with its filters (every option named, so it
    reads the same as Discord's option fields and runs as typed on Slack and in the console)."""
    words = [f"query:{_quoted(query)}"]
    if difficulty:
        words.append(f"difficulty:{difficulty}")
    if category:
        words.append(f"category:{_quoted(category)}")
    return " ".join(["/search", *words, f"page:{page}"])


def _quoted(text: str) -> str:
    # A query already in quotes, straight or smart (“induction heads”), is not quoted again.
    return f'"{text}"' if " " in text and '"' not in text.translate(SMART_QUOTES) else text


async def search_command(ctx: Context, request: Request) -> Reply:
    """/search QUERY [difficulty] [category] [page]: ranked, typo-tolerant matches."""
    query: str = request.args["query"]
    processed = utils.default_process(query)
    if not processed:
        raise BadArgument("Search for some words, e.g. /search induction heads")
    if STOP_WORDS.issuperset(processed.split()):
        raise BadArgument(
            "Those words are in nearly every problem: search for what it is about, e.g. induction heads"
        )
    everything = await ctx.store.catalogue()
    difficulty = request.args.get("difficulty")
    category = match_category(everything, request.args["category"]) if request.args.get("category") else None
    number = canonical_number(query)  # spelled any way /problem takes: 2.4, #2.4, 02.04, ２.４
    exact = number if number is not None and await ctx.store.get_problem(number) is not None else None
    # Scored against the whole catalogue (its index is built once); the matches, best first and
    # then in catalogue order (the catalogue's own order: section, position), then filtered.
    found_at: list[tuple[int, float, int, Problem]] = []
    for position, (p, (tier, found)) in enumerate(zip(everything, scores(query, everything), strict=True)):
        if exact is not None and p.number == exact:
            found_at.append((-1, 0.0, position, p))
        elif found >= MATCH_AT:
            found_at.append((tier, -found, position, p))
    found_at.sort()
    ranked = [
        (-score, p)
        for _, score, _, p in found_at
        if not (difficulty and not difficulty_matches(p.difficulty, difficulty))
        and not (category and p.category != category)
    ]
    shown_query = query if len(query) <= 60 else query[:60] + "…"
    if not ranked:
        return Reply(text=f"Nothing matches {shown_query!r}. Try fewer or other words.", private=True)
    pages = (len(ranked) + ctx.page_size - 1) // ctx.page_size
    page = min(request.args.get("page", 1), pages)
    chunk = ranked[(page - 1) * ctx.page_size : page * ctx.page_size]
    lines = tuple(f"{problem_title(p, 120)} [{p.difficulty}]" for _, p in chunk)
    buttons = tuple(Button(f"Show {p.number}", "show", p.number) for _, p in chunk)
    footer = f"Page {page} of {pages} ({len(ranked)} {'match' if len(ranked) == 1 else 'matches'})."
    if page < pages:
        footer += f" Next: {_search_again(query, difficulty, category, page + 1)}"
    return Reply(
        title=f"Search: {shown_query}",
        sections=(Section("Matches", lines),),
        buttons=buttons,
        footer=footer,
        private=True,
    )
