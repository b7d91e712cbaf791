"""A difficulty given in words (``easy``, ``A B``, ``easy to medium``), as /random reads its
category's words and /random and /search read their named difficulty option."""

from __future__ import annotations

from commands.parser import DIFFICULTY_RE, LEVEL_FILLER, is_article, joins_level, level_of

SCALE = "A is the easiest level, D the hardest; two levels make a range like A-B"
# Every level and range as the parser gives them (A, A-B, A-C…); others are words to read.
LEVELS = tuple(
    f"{low}-{high}" if high else low for low in "ABCD" for high in ["", *"ABCD"] if not high or high > low
)


def read_difficulty(value: str | None) -> tuple[str | None, str]:
    """The difficulty option, which the parser leaves in words when given so (``easy``, ``A B``,
    and a range written backwards, ``C-B``): (the difficulty, the words read as a level, or ""
    for a letter or range as such)."""
    if value is None or value in LEVELS:
        return value, ""
    if match := DIFFICULTY_RE.match(value.upper()):
        # Two letters and a dash, spaced (``A – B``, ``A -B``) or backwards (``C-B``): their span.
        low, high = sorted(filter(None, match.groups()))
        return (low if low == high else f"{low}-{high}"), " ".join(value.upper().split())
    difficulty, _, taken = read_levels(None, value)
    # A letter among words that go with it (``level A``) needs no explaining.
    return difficulty, "" if taken == difficulty else taken


def read_levels(difficulty: str | None, words: str) -> tuple[str | None, str, str]:
    """Words read for a level (/random's category, a named difficulty): (difficulty, the words
    left for the category, the words read as a level). Words for a level (``easy``, ``hard``)
    count wherever they are (``easy circuits``); letters when every word names a level
    (``/random A B``: the difficulty A and the word B), not in a name (``a toy model``). Several
    levels make their span (A-B). The words read as a level come back as the answer may echo
    them: as typed, with the dashes and "to" between levels (``A – B``, ``b to c``: ``B to C``)."""
    tokens = words.replace(",", " ").split()
    # A lowercase "a" before a word that is no level is the article (``a problem``, ``a toy
    # model``), not the level A: as the parser reads it.
    tokens = [
        "an" if is_article(t, after) else t for t, after in zip(tokens, [*tokens[1:], None], strict=True)
    ]
    shown = ""  # the words read as a level, as the answer echoes them
    if all(level_of(t) or t.lower() in LEVEL_FILLER for t in tokens):
        taken = [t for t in tokens if level_of(t)]
        rest: list[str] = []
        # As typed from the first level (from the start after a ``difficulty``: "B" + "to c")
        # to the last, dashes and "to" kept, letters as levels: "A – B", "B to C", "easy to medium".
        at = [i for i, t in enumerate(tokens) if level_of(t)]
        if at:
            span = tokens[0 if difficulty else at[0] : at[-1] + 1]
            shown = " ".join(t.upper() if DIFFICULTY_RE.match(t.upper()) else t for t in span)
    else:
        taken, rest = [], []
        spans: list[str] = []  # each level as typed, with what joins it (``easy to medium``)
        here = 0
        while here < len(tokens):
            # Beside a category's words, a level is a word for one (``easy``, ``easy-medium``), or
            # after a given difficulty a "to" or dash and a level (B + "circuits to c"); levels
            # joined to it so go with it (``easy to medium``, not "easy" and the word "to").
            if level_of(tokens[here]) and not DIFFICULTY_RE.match(tokens[here].upper()):
                end = here
            elif difficulty and _joins(tokens, here):
                end = here + 1
            else:
                rest.append(tokens[here])
                here += 1
                continue
            while _joins(tokens, end + 1):
                end += 2
            span = tokens[here : end + 1]
            taken += [t for t in span if level_of(t)]
            spans.append(" ".join(t.upper() if DIFFICULTY_RE.match(t.upper()) else t for t in span))
            here = end + 1
        shown = " ".join(spans)
    if not taken:  # words only around a level ("/random level A") say nothing more
        return difficulty, "" if difficulty and not rest else words, ""
    levels = "".join(str(level_of(t)) for t in [*filter(None, [difficulty]), *taken]).replace("-", "")
    low, high = min(levels), max(levels)
    return (low if low == high else f"{low}-{high}"), " ".join(rest), shown or " ".join(taken)


def _joins(tokens: list[str], at: int) -> bool:
    """Whether ``tokens[at]`` is a "to" or a dash and a level follows it (``to medium``, ``– C``)."""
    return at + 1 < len(tokens) and joins_level(tokens[at], tokens[at + 1])
