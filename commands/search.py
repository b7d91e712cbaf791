"""/search: problems ranked by how well their words match the query's, typos and all; and the
word index of the catalogue it searches (which /random also picks its levels from)."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import OSA

from commands.catalogue import difficulty_matches, get_problem, match_category, named_in_full, problem_title
from commands.levels import SCALE, read_difficulty, read_levels
from commands.links import LINK_IN_TEXT, BadLink, check_link, check_public, listed_in, normalise_link
from commands.parser import (
    DIFFICULTY_RE,
    LEVEL_FILLER,
    LEVEL_WORDS,
    NUMBER_PREFIX_RE,
    PAGE_AT_END_RE,
    SMART_QUOTES,
    Kind,
    Option,
    ValueRun,
    convert,
)
from commands.types import (
    BUTTON_ID_MAX,
    BadArgument,
    Button,
    Context,
    Reply,
    Request,
    Section,
    page_of,
    past_the_last,
)
from storage import submissions
from storage.models import Problem
from storage.text import canonical_number, clip, normalise

SEARCH_OPTIONS = (
    # Optional: a level (or category) alone lists its problems (see _without_words).
    Option("query", Kind.TEXT, "words to look for", rest=True, max_length=200),
    Option("difficulty", Kind.DIFFICULTY, "A (easiest) to D, or a range like A-B", words=True),
    Option("category", Kind.CATEGORY, "a category name or section number"),
    # As /random's: the same name, the same problems (see claimed_numbers).
    Option("unclaimed", Kind.FLAG, "only problems nobody is working on"),
    Option("page", Kind.PAGE, "which page of results"),
)
PAGE_OPTION = next(o for o in SEARCH_OPTIONS if o.kind is Kind.PAGE)
QUERY_OPTION = SEARCH_OPTIONS[0]
# How the answer says the unclaimed filter is on.
UNCLAIMED = "nobody is working on"


# Two levels joined by "to" ending a search (``mapping A to B``) are its words, not a level range
# as ``A-B`` there is: the answer says how to filter by them.
TO_RANGE_AT_END_RE = re.compile(r"(?<!\S)([A-D])\s+(?i:to|through|thru)\s+([A-D])\s*$")
MATCH_AT = 60.0  # the score a problem needs to be listed
# Words nearly every problem uses: a query of these alone would list most of the catalogue.
STOP_WORDS = frozenset(
    "a an and are as at be by can do does for from how in into is it its of on or than that the "
    "their there this to we what when where which who why with you your".split()
)


async def search_command(ctx: Context, request: Request) -> Reply:
    """/search QUERY [difficulty] [category] [unclaimed] [page]: ranked, typo-tolerant matches."""
    if isinstance(run := request.args.get("category"), ValueRun):
        # category:circuits in the wild, typed without quotes: the category's whole name.
        taken = named_in_full(await ctx.store.catalogue(), run.words) - 1
        words = convert(QUERY_OPTION, run.texts[taken]) if taken else request.args.get("query", "")
        name = " ".join(run.words[: taken + 1])
        request = replace(request, args={**request.args, "category": name, "query": words})
    # On one line, single-spaced: a query pasted over two lines (Slack takes a line break in a
    # slash command) is the same words, and the Next it suggests one command to type.
    query: str = " ".join(request.args.get("query", "").split())
    if "page" not in request.args and (typed := PAGE_AT_END_RE.search(query)):
        # Checked as page:N is (page 0 is refused the same way).
        page = convert(PAGE_OPTION, typed.group(1))
        query = query[: typed.start()].rstrip()
        request = replace(request, args={**request.args, "query": query, "page": page})
    named = request.args.get("difficulty")
    unclaimed = bool(request.args.get("unclaimed"))
    if named is None and _only_levels(query):
        # A level typed as the whole query (Discord's query field: ``A``, ``level A``, ``A - B``).
        named, query = query, ""
    if not query and (named or request.args.get("category") or unclaimed):
        return await _without_words(ctx, request, named)
    processed = processed_text(query)
    if not processed:
        raise BadArgument("Search for some words, e.g. /search induction heads")
    everything = await ctx.store.catalogue()
    # difficulty:easy is read as /random reads it; ``given``: the words read so, to say how.
    difficulty, given = read_difficulty(request.args.get("difficulty"))
    read = f"Read {given[:40]!r} as difficulty {difficulty} ({SCALE})." if given else ""
    category = match_category(everything, request.args["category"]) if request.args.get("category") else None
    in_capitals = "" if difficulty else _in_capitals(query, everything, category)
    if STOP_WORDS.issuperset(processed.split()):
        raise BadArgument(
            "Those words are in nearly every problem: search for what it is about, e.g. induction heads"
            + (f". {in_capitals}" if in_capitals else "")
        )
    # A number, spelled any way /problem takes it (2.4, #2.4, 02.04, ２.４, problem 2.4), is its
    # problem alone: the digits 2 and 4 in other problems' text ("1 2 3 4") are no match for it.
    # One that is no problem is answered as /problem answers it, naming the numbers there are.
    number = canonical_number(NUMBER_PREFIX_RE.sub("", query.strip()))
    found_at: list[tuple[int, float, int, Problem]] = []
    link = _one_link(query)
    if number is not None:
        found_at.append((0, 0.0, 0, await get_problem(ctx, number)))
    elif link is not None:
        # A link (a paper someone pasted) finds the problems whose existing work names the same
        # work, compared as /submit compares links: its words are no match for anything.
        approved = set(await submissions.approved_for(ctx.store, normalise_link(link)))
        for position, p in enumerate(everything):
            if p.number in approved or listed_in(p.existing_work, link):
                found_at.append((0, 0.0, position, p))
    else:
        # Scored against the whole catalogue (its index is built once); the matches, best first
        # and then in catalogue order (its own order: section, position), then filtered.
        scored = zip(everything, scores(query, everything), strict=True)
        for position, (p, (tier, found)) in enumerate(scored):
            if found >= MATCH_AT:
                found_at.append((tier, -found, position, p))
        found_at.sort()
    ranked = [
        (-score, p)
        for _, score, _, p in found_at
        if not (difficulty and not difficulty_matches(p.difficulty, difficulty))
        and not (category and p.category != category)
    ]
    # Only when asked: the claims are read only then (a search's hot path reads none).
    every = len(ranked)
    if unclaimed and ranked:
        claimed = await ctx.store.claimed_numbers()
        ranked = [(score, p) for score, p in ranked if p.number not in claimed]
    shown_query = clip(query, 61)
    # The filters, said in the answer: a level may have come from a bare word (induction A).
    level = f" at difficulty {difficulty}" if difficulty and not read else ""
    within = level + (f" in {category}" if category else "")
    if not ranked and every:  # as /random unclaimed says it
        return Reply(text=f"{read} {_all_claimed(every)}".strip(), private=True)
    as_level = _as_level(query, everything, difficulty, category)
    if not ranked:
        nothing = f"Nothing matches {shown_query!r}{within}."
        if number is not None:  # its problem, outside the filters: where it is, not its digits
            p = found_at[0][3]
            hint = f"{p.number} is at difficulty {p.difficulty} in {p.category}: /problem {p.number}"
        elif link is not None and not found_at:
            nothing = f"Nothing matches {shown_query!r}: no problem lists that work."
            try:  # suggested only as /submit would take it
                check_public(check_link(link))
                hint = f"If it tackles one, /submit NUMBER {link} sends it to the moderators."
            except BadLink as refused:
                hint = f"/submit would not take it: {refused}"
        elif link is not None:
            hint = "Try without the filters."
        else:
            hint = (
                in_capitals
                or as_level
                or _what_would(query, everything, difficulty, category)
                or "Try fewer or other words."
            )
        return Reply(text=f"{read} {nothing} {hint}".strip(), private=True)
    if within or unclaimed:
        read = f"{read} Only problems{within}{f' {UNCLAIMED}' if unclaimed else ''}.".strip()
    wanted = request.args.get("page", 1)
    chunk, page, pages = page_of(ranked, wanted, ctx.page_size)
    read = " ".join(filter(None, [read, past_the_last(wanted, pages), as_level, in_capitals]))
    free = "unclaimed " if unclaimed else ""
    footer = f"Page {page} of {pages} ({len(ranked)} {free}{'match' if len(ranked) == 1 else 'matches'})."
    if page < pages:
        footer += f" Next: {_search_again(query, difficulty, category, page + 1, unclaimed)}"
    title = f"Search: {shown_query}{' (unclaimed)' if unclaimed else ''}"
    turn = _page_buttons(everything, query, difficulty, category, unclaimed, page, pages)
    return _listing(title, read, "Matches", [p for _, p in chunk], footer, turn)


def _listing(
    title: str, text: str, heading: str, problems: Sequence[Problem], footer: str, turn: tuple[Button, ...]
) -> Reply:
    """A page of problems, each with its difficulty and a Show button, then the buttons ``turn``
    that show the page before and after it, privately."""
    return Reply(
        title=title,
        text=text,
        sections=(Section(heading, tuple(f"{problem_title(p, 120)} [{p.difficulty}]" for p in problems)),),
        buttons=(*(Button(f"Show {p.number}", "show", p.number) for p in problems), *turn),
        footer=footer,
        private=True,
    )


def _all_claimed(matches: int) -> str:
    """Why the unclaimed filter left none of ``matches`` problems, as /random unclaimed says it."""
    are = f"All {matches} matching problems are" if matches > 1 else "The one matching problem is"
    return f"{are} claimed; try other filters, or /search without unclaimed."


def _only_levels(query: str) -> bool:
    """Whether ``query`` is only levels as a search reads them (capitals: ``A``, ``A-B``, ``A B``)
    and the words that go with them (``level A``, ``A - B``, ``from A to B``)."""
    tokens = query.replace(",", " ").split()
    letters = [t for t in tokens if DIFFICULTY_RE.match(normalise(t))]
    return bool(letters) and all(t in letters or t.lower() in LEVEL_FILLER for t in tokens)


async def _without_words(ctx: Context, request: Request, named: str | None) -> Reply:
    """/search with a level (or a category) but no words: the problems there, a page at a time,
    and the /random that picks one of them."""
    everything = await ctx.store.catalogue()
    difficulty, given = read_difficulty(named)
    read = f"Read {given[:40]!r} as difficulty {difficulty} ({SCALE}). " if given else ""
    category = match_category(everything, request.args["category"]) if request.args.get("category") else None
    pool = [
        p
        for p in (index_of(everything).at_level(difficulty) if difficulty else everything)
        if not (category and p.category != category)
    ]
    where = (f" at difficulty {difficulty}" if difficulty else "") + (f" in {category}" if category else "")
    filters = (f" difficulty:{difficulty}" if difficulty else "") + (
        f" category:{_quoted(category)}" if category else ""
    )
    if not pool:
        return Reply(text=f"{read}No problem is{where}. Try other filters.", private=True)
    if request.args.get("unclaimed"):
        claimed = await ctx.store.claimed_numbers()
        every, pool = len(pool), [p for p in pool if p.number not in claimed]
        if not pool:
            return Reply(text=f"{read}{_all_claimed(every)}", private=True)
        where, filters = f"{where} {UNCLAIMED}", f"{filters} unclaimed"
    wanted = request.args.get("page", 1)
    chunk, page, pages = page_of(pool, wanted, ctx.page_size)
    listed = f"No words to search for: every problem{where}, in the catalogue's order. "
    said = " ".join(filter(None, [read.strip(), past_the_last(wanted, pages)]))
    text = f"{said} {listed}One picked at random: /random{filters}".strip()
    footer = f"Page {page} of {pages} ({len(pool)} problem{'s' if len(pool) != 1 else ''})."
    if page < pages:
        footer += f" Next: /search{filters} page:{page + 1}"
    unclaimed = bool(request.args.get("unclaimed"))
    turn = _page_buttons(everything, "", difficulty, category, unclaimed, page, pages)
    return _listing(f"Problems{where}", text, "Problems", chunk, footer, turn)


def _page_buttons(
    problems: Sequence[Problem],
    query: str,
    difficulty: str | None,
    category: str | None,
    unclaimed: bool,
    page: int,
    pages: int,
) -> tuple[Button, ...]:
    """Previous and Next under a page of ``pages``: the same search at the page before and after
    it (see page_filters), each left out when there is no such page or its id would be longer
    than a platform carries (a long query: the footer's Next line still names the next page)."""
    section = index_of(problems).section_of(category) if category else ""
    filters = f"{difficulty or ''}/{section}/{'u' if unclaimed else ''}/{query}"
    turn = [
        Button(label, "search", target)
        for label, to in (("Previous", page - 1), ("Next", page + 1))
        if 1 <= to <= pages
        and len(target := f"{to}/{filters}") <= BUTTON_ID_MAX - len("cop:search:")
        and target.isprintable()
    ]
    return tuple(turn)


def page_filters(target: str) -> dict[str, object]:
    """The search a Previous or Next button carries (``2/A-B/2/u/induction heads``: its page,
    difficulty, category's section, unclaimed and words) as /search arguments."""
    page, difficulty, section, unclaimed, query = (target.split("/", 4) + [""] * 5)[:5]
    args: dict[str, object] = {"page": page, "difficulty": difficulty, "category": section, "query": query}
    if unclaimed:
        args["unclaimed"] = True
    return args


def _one_link(query: str) -> str | None:
    """The query when it is one http(s) link, as /submit would take it (chat markup's <…|label>
    and a sentence's punctuation after it left out, :func:`check_link`); else None."""
    try:
        text = check_link(query)
    except BadLink:  # still a link to look for, that /submit would refuse (the hint says why)
        text = query.strip().strip("<>")
    if not LINK_IN_TEXT.fullmatch(text):
        return None
    try:
        normalise_link(text)
    except ValueError:  # a bad port: no link to compare
        return None
    return text


def processed_text(text: str) -> str:
    """Text as search compares it, a query's or the catalogue's: compatibility forms folded
    (full-width ＩＮＤＵＣＴＩＯＮ as typed with a CJK input method, the ligature ﬁ: NFKC), invisible
    characters dropped, then lower case with punctuation as spaces. Only for matching: what
    is shown (titles, the query, notes) stays as written."""
    return utils.default_process(normalise(text))


def _as_level(query: str, problems: Sequence[Problem], difficulty: str | None, category: str | None) -> str:
    """For a search ending in two levels joined by "to" (``mapping A to B``), searched as words:
    the search that filters by them instead, ready to type, when it finds something; else ""."""
    found = TO_RANGE_AT_END_RE.search(query)
    words = query[: found.start()].strip() if found else ""
    if not found or difficulty or STOP_WORDS.issuperset(processed_text(words).split()):
        return ""
    low, high = sorted((found.group(1), found.group(2)))
    level = low if low == high else f"{low}-{high}"
    if not (count := matching(words, problems, level, category)):
        return ""
    filters = f" category:{_quoted(category)}" if category else ""
    matches = f"{count} {'match' if count == 1 else 'matches'}"
    # The level named, as Discord's difficulty field gives it: a query's words there are words.
    again = f"/search {words} difficulty:{level}{filters}"
    return f"Searched {found.group(0).strip()!r} as words; for difficulty {level}: {again} ({matches})."


def _in_capitals(query: str, problems: Sequence[Problem], category: str | None) -> str:
    """For a search of only levels in lower case (``b-c``, ``a–b``, ``level b``), which it
    reads as words (see _only_levels): the listing of that level, ready to type, with how many
    problems it has; else ""."""
    if _only_levels(query) or not _only_levels(query.upper()):
        return ""
    level = read_difficulty(query.upper())[0]
    return "" if level is None else _level_listing(level, problems, category)


def _level_listing(level: str, problems: Sequence[Problem], category: str | None) -> str:
    """The listing of ``level`` (in ``category``), ready to type, with how many problems it has;
    "" when it has none."""
    count = sum(1 for p in index_of(problems).at_level(level) if not (category and p.category != category))
    if not count:
        return ""
    filters = f" category:{_quoted(category)}" if category else ""
    problem_s = "problem" if count == 1 else "problems"
    return f"For difficulty {level}: /search difficulty:{level}{filters} ({count} {problem_s})."


def _search_again(
    query: str, difficulty: str | None, category: str | None, page: int, unclaimed: bool = False
) -> str:
    """The same search at another page, written out with its filters (every option named, so it
    reads the same as Discord's option fields and runs as typed on Slack and in the console)."""
    words = [f"query:{_quoted(query)}"]
    if difficulty:
        words.append(f"difficulty:{difficulty}")
    if category:
        words.append(f"category:{_quoted(category)}")
    if unclaimed:
        words.append("unclaimed")
    return " ".join(["/search", *words, f"page:{page}"])


def matching(query: str, problems: Sequence[Problem], difficulty: str | None, category: str | None) -> int:
    """How many problems /search lists for ``query`` with these filters."""
    return sum(
        1
        for p, (_, found) in zip(problems, scores(query, problems), strict=True)
        if found >= MATCH_AT
        and not (difficulty and not difficulty_matches(p.difficulty, difficulty))
        and not (category and p.category != category)
    )


def _what_would(query: str, problems: Sequence[Problem], difficulty: str | None, category: str | None) -> str:
    """When nothing matches: a search that finds something, ready to type, or "" when none
    is near. A word for a level (``easy induction``) as the filter; else the word that matches
    the most on its own (``induction zebrafish``); else the catalogue's word closest to one that
    matches nothing (``supperpossitoin``: superposition)."""
    words = [w for w in dict.fromkeys(processed_text(query).split()) if w not in STOP_WORDS]
    filters = (f" difficulty:{difficulty}" if difficulty else "") + (
        f" category:{_quoted(category)}" if category else ""
    )

    def counted(n: int) -> str:
        return f"{n} {'match' if n == 1 else 'matches'}"

    levels = [w for w in words if w in LEVEL_WORDS]
    rest = " ".join(w for w in words if w not in LEVEL_WORDS)
    if levels and not rest and not difficulty:
        # Only words for a level (medium), as /random reads them: the listing of that level.
        only = read_levels(None, " ".join(levels))[0]
        return _level_listing(only, problems, category) if only else ""
    if levels and rest and not difficulty:
        level = read_levels(None, " ".join(levels))[0]
        # Words for several levels (easy medium) are their span, named as such: the count is its.
        named = levels[0] if len(levels) == 1 else level
        if found := matching(rest, problems, level, category):
            return f"For a level, name it: /search {rest} difficulty:{named}{filters} ({counted(found)})."
    if len(words) > 1:
        found, word = max((matching(w, problems, difficulty, category), w) for w in words)
        if found:
            problem_s = "problem" if found == 1 else "problems"
            return f"On its own, {word!r} matches {found} {problem_s}: /search {word}{filters}"
    index = index_of(problems)
    for word in words:
        if len(word) < SHORT_WORD:
            continue
        # Among the words with its first letter, as for a typo (see _Index.similar).
        # Never a word too common to search for (that, what), which the suggestion would refuse.
        near = [w for w in index.starting(word[0]) if w not in STOP_WORDS]
        close = process.extractOne(word, near, scorer=fuzz.ratio, score_cutoff=70)
        if close is not None and (found := matching(close[0], problems, difficulty, category)):
            return f"Did you mean {close[0]}? /search {close[0]}{filters} ({counted(found)})"
    return ""


def _quoted(text: str) -> str:
    # A query already in quotes, straight or smart (“induction heads”), is not quoted again.
    return f'"{text}"' if " " in text and '"' not in text.translate(SMART_QUOTES) else text


def scores(query: str, problems: Sequence[Problem]) -> list[tuple[int, float]]:
    """How well each problem matches, as (tier, score): typo-tolerant per word, plus the phrase
    as a whole. Tier 0 is a match in the problem's own text; a problem that reaches MATCH_AT
    only with its existing work too (the title of a paper, a tool named there) is tier 1, listed
    after every tier 0 match.

    Each query word is compared once with the catalogue's vocabulary, not with every problem;
    a problem scores the best of its words per query word, plus a little per mention. A
    problem that cannot reach MATCH_AT gets a lower bound of its score (still below it).
    """
    index = index_of(problems)
    processed = processed_text(query)
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


# The catalogue's word index, built once per catalogue: what scores reads, and /random's levels.
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


_last_index: list[tuple[Sequence[Problem], _Index]] = []


def index_of(problems: Sequence[Problem]) -> _Index:
    """The index of this catalogue (the same tuple object while the store keeps it cached)."""
    if _last_index and _last_index[0][0] is problems:
        return _last_index[0][1]
    index = _Index.build(problems)
    _last_index[:] = [(problems, index)]  # holding ``problems`` keeps its id from being reused
    return index


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
    sections: dict[str, str] = field(default_factory=dict)  # category → its section number
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

    def section_of(self, category: str) -> str:
        """The section number of ``category`` (a category's name as the catalogue has it)."""
        if not self.sections:
            self.sections.update((p.category, str(p.section)) for p in reversed(self.problems))
        return self.sections.get(category, "")

    def at_level(self, difficulty: str) -> tuple[Problem, ...]:
        """The problems whose difficulty matches ``difficulty`` (see difficulty_matches)."""
        found = self.levels.get(difficulty)
        if found is None:
            found = tuple(p for p in self.problems if difficulty_matches(p.difficulty, difficulty))
            self.levels[difficulty] = found
        return found

    @classmethod
    def build(cls, problems: Sequence[Problem]) -> _Index:
        # Folded as queries are (see processed_text); a text with ``-`` joins its words (_joined).
        texts = [normalise(f"{p.number} {p.category} {p.subcategory} {p.text}") for p in problems]
        works = [normalise(URL_RE.sub(" ", p.existing_work)) for p in problems]
        documents = tuple(processed_text(text) for text in texts)
        work = tuple(processed_text(text) for text in works)
        postings, work_postings = _postings(documents, texts), _postings(work, works)
        vocabulary = tuple(sorted({word for text in (*documents, *work) for word in text.split()}))
        return cls(documents, vocabulary, postings, problems, work, work_postings)


@dataclass(frozen=True)
class _Matches:
    """For one query word, by problem position: the best similarity of the problem's words that
    stand for it (see _Index.similar), and how often the problem uses words at least 80 similar;
    in its own text (number, category, subcategory, problem) and in its existing work."""

    best: dict[int, float]
    mentions: dict[int, int]
    work_best: dict[int, float]
    work_mentions: dict[int, int]


def _postings(documents: Sequence[str], texts: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
    """For each word of ``documents``, and each pair of hyphenated words of ``texts`` (the
    documents before processing) joined (see _joined): the documents (by position) that use it
    and how often."""
    postings: dict[str, list[tuple[int, int]]] = {}
    for position, (document, text) in enumerate(zip(documents, texts, strict=True)):
        for word, count in Counter(document.split() + _joined(text)).items():
            postings.setdefault(word, []).append((position, count))
    return postings


def _joined(text: str) -> list[str]:
    """Each pair of neighbouring words a hyphen joins in ``text``, written as one word, as people
    type them: gpt2 for GPT-2, incontext for in-context, gpt2 and 2small for GPT-2-small."""
    joined = []
    for match in HYPHENATED_RE.finditer(text):
        parts = processed_text(match.group(0)).split()
        joined += [first + second for first, second in zip(parts, parts[1:], strict=False)]
    return joined
