"""One argument parser for every text front end (console, Slack), and the value checks shared
with front ends that receive typed options (Discord)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from commands.types import BadArgument, UserRef
from storage.models import ID_LENGTH
from storage.text import ascii_digits, canonical_number, clip, normalise, plain_number, shows_nothing, visible

# The dashes a range may be written with: phones and Macs turn "A-B" into "A–B" as people type.
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
DIFFICULTY_RE = re.compile(rf"^([A-D])(?:\s*[{DASHES}]\s*([A-D]))?$")
# A level range ending a text, joined by a dash, spaced or not (``induction A - B``, ``A–B``), or
# two capital levels side by side (``induction A B``, as /random reads ``A B``): a search's level
# (see parse_line). Joined by "to" it is a search's words (``mapping A to B``).
RANGE_AT_END_RE = re.compile(
    rf"(?<!\S)(?:(?i:difficulty|levels?|lvl)\s+)?([A-D])(\s*[{DASHES}]\s*|\s+)([A-D])\s*$"
)
# What joins two levels into a range as typed: ``b to c``, ``b through c``, ``easy – medium``.
LEVEL_JOINERS = frozenset(["to", "through", "thru", "and", *DASHES])
MENTION_RE = re.compile(r"^<@!?([A-Za-z0-9]+)(?:\|([^>]*))?>$")
CHANNEL_RE = re.compile(r"^<#([A-Za-z0-9]+)(?:\|([^>]*))?>$|^([A-Z][A-Z0-9]{6,}|[0-9]{15,21})$")
ROLE_RE = re.compile(
    r"^<@&([0-9]+)>$|^<!subteam\^([A-Za-z0-9]+)(?:\|[^>]*)?>$|^([0-9]{15,21}|S[A-Z0-9]{6,})$"
)
# The invisible format characters (Unicode's category Cf: zero-width spaces, word joiners, a
# byte-order mark, bidi marks) that pasted text carries; every one is below U+20000 or a tag.
FORMAT_CHARS = "".join(
    ch for ch in map(chr, (*range(0x20000), *range(0xE0000, 0xE1000))) if unicodedata.category(ch) == "Cf"
)
_CF = "[" + FORMAT_CHARS + "]"
# A named option's name may carry such characters, as pasted (``\u200bnumber:3.11``, and after a
# quoted value ``note:"X"\u200b``): they are not there when it is read (normalise drops them).
TOKEN_RE = re.compile(
    rf'(?P<key>{_CF}*[A-Za-z_][A-Za-z_{FORMAT_CHARS}]*):(?:"(?P<qval>[^"]*)"{_CF}*|(?P<val>\S*))'
    r'|"(?P<quoted>[^"]*)"|(?P<word>\S+)'
)
MAX_LINE = 4000
# Quote marks, straight and smart: a text of nothing else ("", “”) is empty.
QUOTE_MARKS = "\"'\u201c\u201d\u2018\u2019\u201e\u00ab\u00bb"
# Words for a level on the catalogue's scale (A: a beginner's problem, D: the hardest), so that
# /random easy picks an A rather than looking for a category called easy.
LEVEL_WORDS = {
    **dict.fromkeys("easy easiest beginner beginners novice simple starter intro introductory".split(), "A"),
    "easier": "A-B",
    **dict.fromkeys("medium intermediate moderate".split(), "B-C"),
    **dict.fromkeys("hard harder difficult advanced challenging".split(), "C-D"),
    **dict.fromkeys("hardest expert".split(), "D"),
}
# Words that say a level follows (``between A and B``, ``circuits level A``).
LEVEL_CUES = frozenset("between difficulty from level levels lvl".split())
# Those a search's last word may follow as a level (``induction level A``): they go with it.
SEARCH_CUES = frozenset("difficulty level levels lvl".split())
# ``page 2`` (or ``page2``) ending a search, as people type it without the colon: the page, not
# words to look for (see commands/search.py); a level typed just before it is typed last.
PAGE_AT_END_RE = re.compile(r"(?<!\S)page\s*(\d+)\s*$", re.IGNORECASE)
# ``page2`` as one word: elsewhere (/problem, /history, /claims) ``page 2`` is read anywhere.
PAGE_WORD_RE = re.compile(r"page(\d+)", re.IGNORECASE)
# Words that go with a level (``level A``, ``easy to medium``, ``A - B``).
LEVEL_FILLER = frozenset("an one or problem problems".split()) | LEVEL_CUES | LEVEL_JOINERS
# Typographic double quotes (phones and Macs turn " into them as people type) read as ".
SMART_QUOTES = str.maketrans(dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\uff02", '"'))
# A word people put before a number: "/problem problem 2.4", "/claim # 2.4".
NUMBER_PREFIXES = ("problem", "#")
NUMBER_PREFIX_RE = re.compile(r"^(?:problem|#)\s+", re.IGNORECASE)
# A problem's number written with a dash (``2-4``, ``2–4``): a dash also writes a range (2 to 4,
# as A-B is a range of levels), so it is not read as 2.4; the answer asks whether 2.4 was meant.
DASHED_NUMBER_RE = re.compile(rf"^#?\s*([0-9]{{1,3}})\s*[{DASHES}]\s*([0-9]{{1,3}})(?:[.,):]|[?!]+)?$")


# What ends a command's name: a space of any kind (a tab, a newline, a wide or no-break space).
NAME_END = re.compile(r"\s")


def split_command(text: str, names: Container[str]) -> tuple[str, str]:
    """``claim 3.11`` → (``claim``, ``3.11``): a typed line (without its ``/``) as the command's name
    and its arguments. The name ends at the first space of any kind; when what comes before that is
    no command in ``names`` (lower-case), an invisible format character (a zero-width space, a word
    joiner, a bidi mark, as pasted text carries them) right after a command's name ends it too:
    ``claim\u200b3.11`` is /claim 3.11. Inside a name one is dropped, as elsewhere
    (``cl\u200baim`` is /claim)."""
    name, *rest = NAME_END.split(text, maxsplit=1)
    if name.isascii() or normalise(name).lower() in names:
        return name, rest[0] if rest else ""
    for at, ch in enumerate(name):
        if unicodedata.category(ch) == "Cf" and normalise(name[:at]).lower() in names:
            # The characters that ended it go with it, as a space does: left at the front of the
            # arguments they would hide a named option (``claims\u200bnumber:3.11``).
            end = at
            while end < len(text) and unicodedata.category(text[end]) == "Cf":
                end += 1
            return name[:at], text[end:]
    return name, rest[0] if rest else ""


class Kind(StrEnum):
    """What an option holds; decides how it is read and how front ends offer it."""

    # In order of specificity: a bare word goes to the first kind that fits it.
    NUMBER = "number"
    DIFFICULTY = "difficulty"
    FLAG = "flag"
    USER = "user"
    LINK = "link"
    CHANNEL = "channel"
    ROLE = "role"
    PAGE = "page"  # a whole number within the option's bounds (a page, a number of days)
    CATEGORY = "category"
    COMMAND = "command"  # a command's name (/help's): front ends may offer the names
    CHOICE = "choice"  # one of the option's own choices, named (``reset:stale_days``), never bare
    TEXT = "text"


@dataclass(frozen=True)
class Option:
    """One option of a command."""

    name: str
    kind: Kind
    description: str
    required: bool = False
    max_length: int = 200
    rest: bool = False  # a text option that takes every word not claimed by another option
    minimum: int = 1  # the bounds of a whole number (Kind.PAGE)
    maximum: int = 1000
    # A difficulty that may also be given in words (``easy``, ``A B``): see level_words.
    words: bool = False
    choices: tuple[str, ...] = ()  # what a Kind.CHOICE option takes: front ends offer these


@dataclass(frozen=True)
class ValueRun:
    """A category named without quotes in a line whose other words are free text (``/search heads
    category:circuits in the wild``), with the bare words typed right after its value: which of
    them still belong to it only the command can tell, knowing the categories' names.
    ``words``: the value, then those words, as typed; ``texts[k]``: the free text when the value
    takes the first ``k`` of them (``texts[0]``: the value alone, as the line reads otherwise)."""

    words: tuple[str, ...]
    texts: tuple[str, ...]


# The most words after a category's value a ValueRun offers it (a name's longest is four).
RUN_WORDS = 10


def parse_choice(option: Option, raw: str) -> str:
    """One of ``option``'s choices, in any case; anything else is refused, naming them all."""
    text = normalise(raw).lower()
    if text not in option.choices:
        *first, last = option.choices
        named = f"{', '.join(first)} or {last}" if first else last
        raise BadArgument(f"{clip(text, 31)!r} is not something {option.name} takes: {named}")
    return text


def parse_number(raw: str) -> str:
    """``2.4``, `` 2.4 ``, ``#2.4``, ``２.４``, ``2,4``, ``2_4``, ``2.4.``, ``2.4?`` or ``problem 2.4``
    → ``2.4``; anything else is a BadArgument, which asks "Did you mean 2.4?" of ``2-4`` (see
    DASHED_NUMBER_RE) and points words at /search."""
    text = normalise(raw)
    number = canonical_number(NUMBER_PREFIX_RE.sub("", text, count=1))
    if number is None:
        shown = clip(text, 41)
        if dashed := DASHED_NUMBER_RE.match(ascii_digits(NUMBER_PREFIX_RE.sub("", text, count=1))):
            meant = f"{int(dashed.group(1))}.{int(dashed.group(2))}"
            raise BadArgument(f"{shown!r} is not a problem number. Did you mean {meant}?")
        section = ascii_digits(text).lstrip("#").strip()
        if section.isascii() and section.isdecimal() and len(section) <= 3 and int(section):
            # A section alone (``/problem 2``), as the sheet heads them: which of its problems?
            raise BadArgument(
                f"{shown!r} is not a problem number: write it like 2.4 (section, point, problem); "
                f"/search category:{int(section)} lists section {int(section)}."
            )
        message = f"{shown!r} is not a problem number: write it like 2.4"
        # Words where a number belongs: most likely the problem's own words, suggested as one line
        # of what can be seen of them (no control character reaches a terminal).
        words = " ".join(visible(text).split())
        if any(ch.isalpha() for ch in words):
            message += f", or /search {words}" if len(words) <= 40 else ", or /search a few of its words"
        raise BadArgument(message)
    return number


def parse_difficulty(raw: str) -> str:
    """``A``, ``a``, ``b-c`` → ``A``, ``A``, ``B-C``; ranges run from easier to harder."""
    text = normalise(raw).upper()
    match = DIFFICULTY_RE.match(text)
    if not match or (match.group(2) and match.group(2) <= match.group(1)):
        shown = clip(text, 21)
        raise BadArgument(
            f"{shown!r} is not a difficulty: use A (easiest), B, C or D (hardest), or a range like A-B"
        )
    return match.group(1) + (f"-{match.group(2)}" if match.group(2) else "")


def level_of(word: str) -> str | None:
    """The level or range a word names: ``b``, ``A-C``, ``easy`` (A), two words for a level
    joined by a dash (``easy-medium``: A-C, their span), or one and a letter (``easy-b``: A-B);
    None for any other word."""
    if match := DIFFICULTY_RE.match(word.upper()):
        return match.group(1) + (f"-{match.group(2)}" if match.group(2) else "")
    if (level := LEVEL_WORDS.get(word.lower())) is not None:
        return level
    parts = re.split(f"[{DASHES}]", word.lower())
    if len(parts) == 2 and all(part in LEVEL_WORDS or part in ("a", "b", "c", "d") for part in parts):
        # Words for a level, or one and a letter (``easy-b``, as ``easy to b`` is read).
        levels = "".join(LEVEL_WORDS.get(part, part.upper()) for part in parts).replace("-", "")
        low, high = min(levels), max(levels)
        return low if low == high else f"{low}-{high}"
    return None


def level_words(raw: str) -> str:
    """A difficulty as /random also reads it in its category's words: a letter or range as
    parse_difficulty reads it (``b-c`` → ``B-C``), else words that all name a level or go with
    one (``easy``, ``A B``, ``easy to medium``), kept as typed for the command to read and
    explain; anything else is refused as parse_difficulty refuses it. A range written backwards
    (``C-A``, ``c - b``) is kept as typed too: it is read as its span, as ``c to b`` is, and the
    answer says so."""
    text = normalise(raw)
    tokens = text.replace(",", " ").split()
    if match := DIFFICULTY_RE.match(text.upper()):
        if match.group(2) and (match.group(2) <= match.group(1) or " " in text):
            return text  # also a range spaced as words are (``A – B``): the answer says how it read
    elif any(level_of(t) for t in tokens):
        if all(level_of(t) or t.lower() in LEVEL_FILLER for t in tokens):
            return text
    return parse_difficulty(raw)


def _checked_id(found: str, what: str) -> str:
    """An id read from a mention, refused when longer than storage keeps one: SQLite would store
    it whole while PostgreSQL refuses it, so the same command would work on one and fail on the other."""
    if len(found) > ID_LENGTH:
        raise BadArgument(f"that {what} id is too long: at most {ID_LENGTH} characters")
    return found


def parse_user(raw: str) -> UserRef:
    """A mention (``<@U123>``, ``<@U123|ann>``, ``<@!123>``) or a display name."""
    text = normalise(raw).removeprefix("@")
    match = MENTION_RE.match(normalise(raw))
    if match:
        return UserRef(user_id=_checked_id(match.group(1), "user"), name=match.group(2) or None)
    if not text:
        raise BadArgument("name someone, e.g. @ann")
    return UserRef(name=text[:200])


def parse_channel(raw: str) -> str:
    """A channel mention (``<#C123|general>``, ``<#123>``) or a bare channel id → the id."""
    text = normalise(raw)
    match = CHANNEL_RE.match(text)
    if not match:
        # Typed (console), a channel's name is no channel: its id or its mention is (Discord's picker
        # and Slack's setting give those).
        raise BadArgument(
            f"{text[:40]!r} is not a channel: give its id or its mention (<#123456789012345678>)"
        )
    return _checked_id(next(group for group in (match.group(1), match.group(3)) if group), "channel")


def parse_role(raw: str) -> str:
    """A role mention (``<@&123>``), a Slack user group (``<!subteam^S1>``) or an id → the id."""
    text = normalise(raw)
    match = ROLE_RE.match(text)
    if not match:
        raise BadArgument(f"{text[:40]!r} is not a role: give its id or its mention (<@&123456789012345678>)")
    return _checked_id(next(group for group in match.groups() if group), "role")


def parse_flag(raw: str) -> bool:
    """yes/no style values."""
    text = normalise(raw).lower()
    if text in {"", "1", "yes", "y", "true", "on"}:
        return True
    if text in {"0", "no", "n", "false", "off"}:
        return False
    raise BadArgument(f"{text[:20]!r} is not yes or no")


def parse_whole_number(option: Option, raw: str) -> int:
    """A whole number within ``option``'s bounds; the error names the option and its range."""
    text = normalise(raw)
    # isdecimal, not isdigit: int() refuses digits such as superscripts that isdigit accepts.
    if not text.isdecimal() or not option.minimum <= int(text) <= option.maximum:
        raise BadArgument(f"{option.name} must be a whole number from {option.minimum} to {option.maximum}")
    return int(text)


def check_text(option: Option, raw: str) -> str:
    """Free text: trimmed, control characters removed, within the option's length."""
    text = visible(raw)
    if shows_nothing(text, QUOTE_MARKS):  # "", '' or a zero-width joiner: an empty text
        text = ""
    if len(text) > option.max_length:
        # As a line too long for its command is answered: how long it is, and how long it may be.
        raise BadArgument(
            f"That {option.name} is too long ({len(text)} characters): at most {option.max_length}."
        )
    return text


def convert(option: Option, raw: Any) -> Any:
    """Check and convert one raw value for ``option``; front ends with typed options call this."""
    if option.kind is Kind.FLAG and (isinstance(raw, bool) or normalise(str(raw)).lower() == option.name):
        return True if not isinstance(raw, bool) else raw
    if option.kind is Kind.PAGE and isinstance(raw, int):
        return parse_whole_number(option, str(raw))
    if isinstance(raw, ValueRun):  # its value checked as a lone one is (its texts: see the command)
        return ValueRun((check_text(option, raw.words[0]), *raw.words[1:]), raw.texts)
    raw = str(raw)
    match option.kind:
        case Kind.NUMBER:
            return parse_number(raw)
        case Kind.DIFFICULTY:
            return level_words(raw) if option.words else parse_difficulty(raw)
        case Kind.USER:
            return parse_user(raw)
        case Kind.FLAG:
            return parse_flag(raw)
        case Kind.PAGE:
            return parse_whole_number(option, raw)
        case Kind.CHANNEL:
            return parse_channel(raw)
        case Kind.ROLE:
            return parse_role(raw)
        case Kind.CHOICE:
            return parse_choice(option, raw)
        case _:
            return check_text(option, raw)


def convert_all(options: tuple[Option, ...], raw: dict[str, Any], command: str) -> dict[str, Any]:
    """Convert named raw values and check that required options are present."""
    by_name = {o.name: o for o in options}
    args: dict[str, Any] = {}
    for name, value in raw.items():
        option = by_name.get(name)
        if option is None:
            raise BadArgument(f"/{command} has no option {name!r}")
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        args[name] = convert(option, value)
    missing = [option for option in options if option.required and option.name not in args]
    if missing:
        raise MissingOptions(command, tuple(missing))
    return args


# How an answer names a missing option of these kinds; any other by its name.
_MISSING_WORDS = {Kind.NUMBER: "a problem number", Kind.LINK: "a link"}


class MissingOptions(BadArgument):
    """A command given without options it needs: "/submit needs a problem number and a link"
    (the dispatcher adds how to write it, from the command's examples)."""

    def __init__(self, command: str, options: tuple[Option, ...]) -> None:
        words = [_MISSING_WORDS.get(option.kind, option.name) for option in options]
        super().__init__(f"/{command} needs {' and '.join(words)}")
        self.options = options


# Bare words go to the most specific option that fits them first: the order Kind lists them.
_PRIORITY = list(Kind)


def _looks_like(option: Option, token: str, free_text: bool, has_rest: bool, plain: bool, last: bool) -> bool:
    """Whether a bare word can fill ``option``; ``free_text`` when a query takes the rest;
    ``plain`` when some word of the line is a number written plainly (2.4), which then is the
    number rather than a ``2.4.`` or ``2,4`` before it (``tried it, see 2.4. 3.11``); ``last``
    when no bare word comes after it."""
    text = normalise(token)
    match option.kind:
        case Kind.NUMBER:
            if not plain and DASHED_NUMBER_RE.match(ascii_digits(text)):
                return True  # ``/claims 2-4``: the number, whose check asks whether 2.4 was meant
            return canonical_number(text) is not None and (not plain or plain_number(text))
        case Kind.DIFFICULTY:
            # Next to a free-text query "a" is a word, so only a capital A is a difficulty, and
            # only as the last word (``induction A``): inside a sentence it is a word too
            # (``A harder example…``, ``where A and b are…``).
            if free_text:
                return last and bool(DIFFICULTY_RE.match(text))
            return bool(DIFFICULTY_RE.match(text.upper()))
        case Kind.USER:
            return bool(MENTION_RE.match(text)) or canonical_number(text) is None
        case Kind.FLAG:
            return text.lower() == option.name
        case Kind.LINK:
            return True
        case Kind.CHANNEL:
            return bool(CHANNEL_RE.match(text)) and text.startswith("<#")
        case Kind.ROLE:
            return bool(ROLE_RE.match(text)) and text.startswith("<")
        case Kind.PAGE | Kind.CHOICE:
            return False
        case _:
            return not has_rest


def _another_number(taken: str, leftovers: list[tuple[int, int, int, str]]) -> str | None:
    """Another problem number written plainly in the free text around ``taken``, the one read
    from inside it (``/release see 3.11 and 2.4 stuck``): which of them is meant cannot be told."""
    chosen = canonical_number(taken)
    for *_, token in leftovers:
        if plain_number(token) and (other := canonical_number(token)) not in (None, chosen):
            return other
    return None


def _spaced_word(tokens: list[re.Match[str]], at: int, by_name: Mapping[str, Option]) -> str | None:
    """Token ``at`` as typed, when it is a bare word: a link (``https://…``, read as a name and
    its value) too, but no option named nor a quoted text."""
    if at >= len(tokens) or (token := tokens[at]).group("quoted") is not None:
        return None
    key = token.group("key")
    return token.group(0) if key is None or normalise(key).lower() not in by_name else None


def _spaced_value(option: Option, word: str) -> bool:
    """Whether ``word``, typed after ``option``'s name and a space (``number: 2.4``), is the
    option's value as people type it: one that only such a value can be. A free text's name so
    typed stays a word of it (``Note: tried X``)."""
    text = normalise(word)
    match option.kind:
        case Kind.NUMBER:
            return canonical_number(text) is not None
        case Kind.PAGE:
            return ascii_digits(text).isdecimal()
        case Kind.LINK:
            return "://" in text
        case Kind.USER:
            return bool(MENTION_RE.match(text))
        case Kind.CHANNEL:
            return bool(CHANNEL_RE.match(text))
        case Kind.ROLE:
            return bool(ROLE_RE.match(text))
        case Kind.CHOICE:
            return text.lower() in option.choices
        case _:
            return False


def _free_text(line: str, pieces: list[tuple[int, int, int, str | None]]) -> str:
    """The free text ``pieces`` make, as typed: each piece is (token index, start, end, value);
    neighbouring tokens are one slice of ``line`` (its spaces, quotes and commas kept), a quoted
    named value (``note:"tried X"``) is its value, and separate runs are joined by a space."""
    runs: list[str] = []
    previous: tuple[int, int] | None = None  # (token index, start) of the open run
    for index, start, end, value in sorted(pieces):
        if value is not None:
            runs.append(value)
            previous = None
        elif previous is not None and index == previous[0] + 1 and runs:
            runs[-1] = line[previous[1] : end]
            previous = (index, previous[1])
        else:
            runs.append(line[start:end])
            previous = (index, start)
    return " ".join(runs)


def _range_goes_on(tokens: list[re.Match[str]], at: int) -> int:
    """The last token of a range that a named difficulty (token ``at``) begins: each further
    level joined by "to" or a dash, as bare words (``difficulty:b to c``, ``difficulty:easy –
    medium``); ``at`` when none follows it so."""
    end = at
    while end + 2 < len(tokens):
        joiner, level = tokens[end + 1].group("word"), tokens[end + 2].group("word")
        if joiner is None or level is None or not joins_level(normalise(joiner), normalise(level)):
            break
        end += 2
    return end


def joins_level(joiner: str | None, level: str | None) -> bool:
    """Whether ``joiner`` ("to", a dash…) joins a range to ``level`` (``to c``, ``– medium``); not
    "and a" (``A and a toy model``: the word "a")."""
    if joiner is None or level is None or joiner.lower() not in LEVEL_JOINERS:
        return False
    return bool(level_of(level)) and not (joiner.lower() == "and" and level == "a")


def is_article(word: str | None, after: str | None) -> bool:
    """Whether ``word`` is the article "a", not the level A: lowercase, before a word that is no
    level (``a toy model``, ``a problem``). Alone, or before a level, a "to" or an "or", or
    before a section number, it is the level (``a``, ``a b``, ``a to c``, ``a or b``, ``a 2``)."""
    if word != "a" or after is None:
        return False
    bare = after.strip(",")
    return not level_of(bare) and bare.lower() not in LEVEL_JOINERS | {"or"} and not bare.isdigit()


def _level_run(tokens: list[re.Match[str]], at: int) -> tuple[int, int]:
    """The first and last token of the levels typed around a bare level (token ``at``), as
    /random takes them for its difficulty: neighbours joined by "to" or a dash (``easy to b``,
    ``b – c``), side by side (``easy b``, ``A B``), but not a lowercase "a" after a letter
    (``B a toy model``: the word "a"); and the words before them that say a level follows
    (``from``, ``between``, ``level``)."""

    def word(i: int) -> str | None:  # a bare word, as a level is read: ``A, B`` is A and B
        found = tokens[i].group("word") if 0 <= i < len(tokens) else None
        return normalise(found).strip(",") if found is not None else None

    def spoken(i: int) -> bool:  # a word for a level (easy), not a letter
        found = word(i) or ""
        return bool(level_of(found)) and not DIFFICULTY_RE.match(found.upper())

    def beside(i: int, step: int) -> int | None:  # the level joined to token i on that side
        if joins_level(word(i + step), word(i + 2 * step)):
            return i + 2 * step
        neighbour = word(i + step) or ""
        # Two letters side by side are two levels (A B), but "a" after one is a word (B a toy model).
        joined = spoken(i) or spoken(i + step) or neighbour != "a"
        return i + step if level_of(neighbour) and joined else None

    first = last = at
    while (earlier := beside(first, -1)) is not None:
        first = earlier
    while (later := beside(last, 1)) is not None:
        last = later
    while (word(first - 1) or "").lower() in LEVEL_CUES:  # circuits between A and B
        first -= 1
    return first, last


# Words between problem numbers a member lists in one line (``2.4 and 3.11``, ``2.4 & 3.11``).
LIST_JOINERS = frozenset(["and", "&", "+", "then"])


def _more_numbers(
    options: tuple[Option, ...],
    raw: dict[str, Any],
    words_of: str,
    leftovers: list[tuple[int, int, int, str]],
) -> tuple[str, str] | None:
    """The first two problem numbers, as typed, when the words left over beside a command's number
    are more numbers (``/claim 2.4, 3.11``); None when any of them is something else."""
    option = next((o for o in options if o.kind is Kind.NUMBER and o.name in raw), None)
    if option is None:
        return None
    given = canonical_number(NUMBER_PREFIX_RE.sub("", normalise(str(raw[option.name])), count=1))
    found = [(words_of.find(str(raw[option.name])), given)]
    for _, start, _, token in leftovers:
        word = normalise(token).strip(",;")
        if word.lower() in LIST_JOINERS or not word:
            continue
        found.append((start, canonical_number(word)))
    numbers = list(dict.fromkeys(number for _, number in sorted(found, key=lambda pair: pair[0])))
    if len(numbers) < 2 or None in numbers:
        return None
    first, second = numbers[:2]
    return (first, second) if first is not None and second is not None else None


# Lines read lately, by command: the same few lines come again and again (``/claim 2.4``,
# ``/random difficulty:A``), and reading one costs more than the rest of a cached card. Reading
# is a pure function of its arguments, whose values are all immutable; a line refused is read
# again each time. Only short lines are kept, at most PARSED_KEPT of them (oldest out first).
PARSED_KEPT = 1024
PARSED_LONGEST = 200
_parsed: dict[tuple[str, str], tuple[tuple[Option, ...], dict[str, Any]]] = {}


def parse_line(options: tuple[Option, ...], line: str, command: str) -> dict[str, Any]:
    """:func:`read_line`, answered from the lines read lately when it read this one before."""
    key = (command, line)
    kept = _parsed.get(key)
    if kept is not None and kept[0] is options:
        return dict(kept[1])
    args = read_line(options, line, command)
    if len(line) <= PARSED_LONGEST:
        if len(_parsed) >= PARSED_KEPT:
            del _parsed[next(iter(_parsed))]
        _parsed[key] = (options, args)
    return dict(args)


def _words_end(options: tuple[Option, ...], tokens: list[re.Match[str]], named: set[str]) -> int:
    """Where the words a search's level may end do end: before the flag words (``unclaimed``) and
    a ``page 2`` (``page2``, of a command with one unnamed) typed after them, in either order
    (``induction A unclaimed page 2 category:3``: "A" ends the words); ``len(tokens)`` when none
    follows them. A flag word typed twice is the flag both times (see _flag_again)."""
    page = next((o for o in options if o.kind is Kind.PAGE and o.name not in named), None)
    bare = [i for i, match in enumerate(tokens) if match.group("key") is None]
    words = [normalise(str(tokens[i].group("word"))).lower() for i in bare]
    flags = {o.name for o in options if o.kind is Kind.FLAG and o.name not in named}
    end = len(tokens)
    while bare:
        if words[-1] in flags:
            end, count = bare[-1], 1
        elif page is not None and (count := _page_at_end(tokens, bare)):
            page, end = None, bare[-count]
        else:
            break
        del bare[-count:], words[-count:]
    return end


def _flag_again(option: Option, given: Any, word: str) -> bool:
    """Whether bare ``word`` is flag ``option`` typed again, ``given`` (as typed) having turned it
    on: ``unclaimed … unclaimed``, ``unclaimed:yes unclaimed`` (not after ``unclaimed:no``)."""
    if normalise(word).lower() != option.name:
        return False
    try:
        return convert(option, given) is True
    except BadArgument:
        return False


def _category_run(
    line: str,
    tokens: list[re.Match[str]],
    raw: dict[str, Any],
    rest: Option,
    at: int,
    leftovers: list[tuple[int, int, int, str]],
    named_rest: tuple[int, int, int, str | None] | None,
) -> None:
    """The category named unquoted at token ``at`` as a :class:`ValueRun` in ``raw``, when bare
    words the free text took come right after it: ``category:circuits in the wild`` offers
    "circuits" the words "in the wild", the free text being what it is without each run of them."""
    run: list[int] = []  # the token indexes of those words
    for index, *_ in leftovers:
        if index <= at:
            continue
        if index != at + 1 + len(run) or tokens[index].group("word") is None or len(run) == RUN_WORDS:
            break
        run.append(index)
    if not run:
        return

    def text(taken: int) -> str:  # the free text without the first ``taken`` words of the run
        pieces: list[tuple[int, int, int, str | None]] = [
            (i, start, end, None) for i, start, end, _ in leftovers if i not in run[:taken]
        ]
        if named_rest is not None and rest.name in raw:
            return _free_text(line, [named_rest, *pieces])
        return _free_text(line, pieces)

    category = normalise(str(tokens[at].group("key"))).lower()
    words = (raw[category], *(str(tokens[i].group("word")) for i in run))
    raw[category] = ValueRun(words, tuple(text(taken) for taken in range(len(run) + 1)))


def _page_at_end(tokens: list[re.Match[str]], bare: list[int]) -> int:
    """How many of the bare words ``bare`` (token indexes) end in ``page 2`` (``page2``): 0 when
    they do not."""
    for count in (1, 2):
        tail = bare[-count:]
        words = [tokens[i].group("word") for i in tail]
        if len(tail) == count and None not in words and PAGE_AT_END_RE.fullmatch(" ".join(map(str, words))):
            return count
    return 0


def _bare_pages(tokens: list[re.Match[str]]) -> list[tuple[tuple[int, ...], str]]:
    """Each ``page 2`` (``page2``, ``Page 2``) typed as bare words: its token indexes and its
    number as typed."""
    found: list[tuple[tuple[int, ...], str]] = []
    words = [
        normalise(str(match.group("word"))) if match.group("word") is not None else None for match in tokens
    ]
    for index, word in enumerate(words):
        after = words[index + 1] if index + 1 < len(words) else None
        if word is None or found and index in found[-1][0]:
            continue
        if joined := PAGE_WORD_RE.fullmatch(word):
            found.append(((index,), joined.group(1)))
        elif word.lower() == "page" and after is not None and after.isdecimal():
            found.append(((index, index + 1), after))
    return found


def read_line(options: tuple[Option, ...], line: str, command: str) -> dict[str, Any]:
    """Read ``line`` (everything after the command name) into converted arguments.

    ``key:value`` and ``key:"quoted value"`` name an option; bare words fill options by what
    they look like (a number, a difficulty, a mention…), and a ``rest`` text option takes the
    words left over.

    Where that rest is free text (a note, a search query), it is the line as typed (quotes,
    commas and spacing kept), less the words other options took, and a quote need not be
    closed (``a 6" gap``). A ``key:`` word that cannot be an option is a word of the text, kept
    as written: one with nothing after the colon (``Note: tried X``), one naming an option
    already given (``see number:3`` after the number), and one naming the free text once it has
    begun. Naming the free text starts it, and the words after it carry on (``note:tried X`` is
    the note "tried X"). Elsewhere a named option given twice is an error; a flag's word typed
    twice (``unclaimed … unclaimed``) is the flag both times. A category named without quotes
    beside free text is a :class:`ValueRun`, offered the words typed after it.

    Invisible format characters (a zero-width space, a word joiner, a bidi mark, as pasted text
    carries them) are not there for reading a name: before it, inside it or after a quoted value
    (``\u200bnumber:3.11`` is ``number:3.11``); a word of nothing else fills no option. Free
    text keeps them where they stand, as typed.
    """
    if len(line) > MAX_LINE:
        # Said with the free text's own limit: a note cut to just under the line's would be refused
        # again for its own.
        rest = next((o for o in options if o.rest and o.max_length < MAX_LINE), None)
        its = f", its {rest.name} at most {rest.max_length}" if rest is not None else ""
        raise BadArgument(
            f"That is too long ({len(line)} characters): /{command} reads at most {MAX_LINE}{its}."
        )
    # Words are split on the line with its smart quotes read as straight ones; free text is
    # sliced from ``line`` itself, as typed (the translation keeps every position).
    words_of = line.translate(SMART_QUOTES)
    by_name = {o.name: o for o in options}
    rest_option = next((o for o in options if o.rest), None)
    free_text = rest_option is not None and rest_option.kind is Kind.TEXT
    if words_of.count('"') % 2 and not free_text:
        raise BadArgument('a quote is not closed: write key:"several words"')
    positional = sorted((o for o in options if not o.rest), key=lambda o: _PRIORITY.index(o.kind))
    raw: dict[str, Any] = {}
    # Words no option took, with where they were typed: (token index, start, end, token).
    leftovers: list[tuple[int, int, int, str]] = []
    named_rest: tuple[int, int, int, str | None] | None = None  # where the free text was named
    tokens = list(TOKEN_RE.finditer(words_of))
    named = {normalise(match.group("key")).lower() for match in tokens if match.group("key") is not None}
    level = next((o for o in options if o.kind is Kind.DIFFICULTY and not o.rest), None)
    # The bare words a search's level may end (``induction A unclaimed page 2``: not the flag or the page).
    words_end = _words_end(options, tokens, named) if free_text else len(tokens)
    if free_text and level is not None and level.name not in named:
        # A range as a search's last words, spaced (``induction A - B page:2``) as well as not
        # (``A–B``), is the level, not a level B after the words "A -".
        end = max((m.end() for m in tokens[:words_end] if m.group("key") is None), default=0)
        if spaced := RANGE_AT_END_RE.search(words_of[:end]):
            low, high = spaced.group(1), spaced.group(3)
            # As typed when backwards (``C - B``) or side by side (``A B``), for the answer to say
            # how it was read.
            dashed = low < high and bool(spaced.group(2).strip())
            raw[level.name] = f"{low}-{high}" if dashed else spaced.string[spaced.start(1) : spaced.end(3)]
            line, words_of = line[: spaced.start()] + line[end:], words_of[: spaced.start()] + words_of[end:]
            tokens = list(TOKEN_RE.finditer(words_of))
            words_end = _words_end(options, tokens, named)
    # "/problem problem 2.4", "/claim # 2.4": the word before a leading number goes.
    skip = (
        len(tokens) > 1
        and tokens[0].group(0).lower() in NUMBER_PREFIXES
        and canonical_number(tokens[1].group(0)) is not None
        and any(o.kind is Kind.NUMBER for o in options)
    )
    plain = any(match.group("key") is None and plain_number(match.group(0).strip('"')) for match in tokens)
    has_rest = rest_option is not None
    # The last word not naming an option (``key:value``): the only one a search reads as a level,
    # unless the level is named (``induction B difficulty:A``: the named one filters, B is a word).
    last = max((i for i, match in enumerate(tokens[:words_end]) if match.group("key") is None), default=-1)
    carried: set[int] = set()  # words a named difficulty's range took (see _range_goes_on)
    in_text: str | None = None  # a number read from inside free text (see _another_number)
    category_at = -1  # the token of a category named unquoted beside free text (see ValueRun)
    page = by_name.get("page")
    if page is not None and page.kind is Kind.PAGE and not free_text:
        # ``/problem 2.4 all page 2``, ``/claims page 2``: typed without the colon, the page (a
        # search reads it ending its words: commands/search.py); named as well, it is given twice.
        for found, number in _bare_pages(tokens):
            if page.name in raw:
                raise BadArgument(f"{page.name} is given twice")
            raw[page.name] = number
            carried.update(found)
    for index, match in enumerate(tokens):
        if (skip and index == 0) or index in carried:
            continue
        key = match.group("key")
        if key is not None:
            quoted = match.group("qval") is not None
            value = match.group("qval") if quoted else match.group("val")
            option = by_name.get(normalise(key).lower())
            after = tokens[index + 1].group("word") if index + 1 < len(tokens) else None
            if (
                option is not None
                and option.kind is Kind.DIFFICULTY
                and option.words
                and not quoted
                and not value
                and option.name not in raw
                and after is not None
                and level_of(normalise(after).strip(","))
            ):
                # ``difficulty: b`` as people type it, a space after the colon: the level after it
                # (and the rest of a range typed out, ``difficulty: b to c``), not words.
                through = _range_goes_on(tokens, index + 1)
                value = words_of[tokens[index + 1].start() : tokens[through].end()]
                carried.update(range(index + 1, through + 1))
            elif (
                option is not None
                and option is not rest_option
                and not quoted
                and not value
                and option.name not in raw
                and (next_word := _spaced_word(tokens, index + 1, by_name)) is not None
                and _spaced_value(option, next_word)
            ):
                # ``number: 2.4``, ``page: 2``, ``link: https://…``: as ``difficulty: b`` above.
                value = next_word
                carried.add(index + 1)
            if option is not None and free_text:
                # A key: that cannot be an option here is a word of the free text (see above).
                empty = not quoted and not value
                begun = option is rest_option and bool(leftovers)
                if empty or begun or option.name in raw:
                    leftovers.append((index, match.start(), match.end(), match.group(0)))
                    continue
            if option is not None:
                if option.name in raw:
                    raise BadArgument(f"{option.name} is given twice")
                if not quoted and value.startswith('"') and option is not rest_option:
                    # Its quote is never closed: the words after it are not the free text's.
                    raise BadArgument(
                        f'the quote after {option.name}: is not closed: write {option.name}:"several words"'
                    )
                if option.kind is Kind.DIFFICULTY and option.words and not quoted and value:
                    # A range typed out after its name (``difficulty:b to c``, ``difficulty:easy -
                    # medium``) is the option's, as one value: not B and the words "to c".
                    through = _range_goes_on(tokens, index)
                    if through > index:
                        value = words_of[match.start("val") : tokens[through].end()]
                        carried.update(range(index + 1, through + 1))
                raw[option.name] = value
                if option.kind is Kind.CATEGORY and free_text and not quoted:
                    category_at = index
                if option is rest_option:
                    # An unquoted value runs on into the words after it as typed.
                    named_rest = (index, match.start("val"), match.end("val"), value if quoted else None)
                continue
            token = match.group(0)
        elif match.group("word") is not None and not normalise(match.group("word")):
            # Only invisible characters (a zero-width space between spaces): no option's value;
            # free text keeps it where it stands.
            if free_text:
                leftovers.append((index, match.start(), match.end(), match.group("word")))
            continue
        else:
            token = match.group("quoted") if match.group("quoted") is not None else match.group("word")
        at_end = index == last
        # A letter ending a search after "to" or a dash is a word of it (``mapping A to B``).
        before = tokens[index - 1].group("word") if index else None
        joined = before is not None and normalise(before).lower() in LEVEL_JOINERS
        after = tokens[index + 1].group("word") if index + 1 < len(tokens) else None
        article = is_article(match.group("word"), normalise(after) if after is not None else None)
        for option in positional:
            ends = at_end and option.name not in named and not (free_text and joined)
            if article and option.kind is Kind.DIFFICULTY:
                continue
            if option.name not in raw and _looks_like(option, token, free_text, has_rest, plain, ends):
                cue = leftovers[-1] if leftovers and leftovers[-1][0] == index - 1 else None
                if option.kind is Kind.DIFFICULTY and free_text and cue and cue[3].lower() in SEARCH_CUES:
                    leftovers.pop()  # induction level A: the word "level" goes with the level
                if option.kind is Kind.DIFFICULTY and option.words and not free_text and match.group("word"):
                    # /random easy to b circuits: the levels typed around the letter are its
                    # difficulty, as typed (not B and the category "easy to circuits").
                    first, through = _level_run(tokens, index)
                    token = words_of[tokens[first].start() : tokens[through].end()]
                    carried.update(range(index + 1, through + 1))
                    leftovers = [left for left in leftovers if not first <= left[0] < index]
                raw[option.name] = token
                if option.kind is Kind.NUMBER and free_text and leftovers:
                    in_text = token  # inside the note or query, not before it
                break
            if option.kind is Kind.FLAG and option.name in raw and match.group("word") is not None:
                if _flag_again(option, raw[option.name], token):
                    break  # ``unclaimed … unclaimed``: the flag again, not a word
        else:
            leftovers.append((index, match.start(), match.end(), token))
    if (
        page is not None
        and page.kind is Kind.PAGE
        and not has_rest
        and page.name not in raw
        and len(leftovers) == 1
        and leftovers[0][3].isdecimal()
        and all(option.name in raw for option in options if option.required)
    ):
        # ``/history 2.4 2``, as the usage ``/history number [page]`` reads: the page.
        raw[page.name] = leftovers.pop()[3]
    for option in positional:
        # A word where a required value belongs is that value, so its own check explains it.
        if option.required and option.name not in raw and leftovers:
            if option.kind is Kind.NUMBER:
                # No word looked like a number: all of them are what was given for it, so the
                # answer is the same as Discord's for the whole field ('Permuting lists' is not…).
                raw[option.name] = _free_text(line, [(i, s, e, None) for i, s, e, _ in leftovers])
                leftovers.clear()
            else:
                raw[option.name] = leftovers.pop(0)[3]
    if in_text is not None and (other := _another_number(in_text, leftovers)) is not None:
        one = canonical_number(in_text)
        raise BadArgument(
            f"Which problem do you mean, {one} or {other}? Give its number first, as /{command} {one} "
            f"…: the {rest_option.name if rest_option else 'text'} after it may name other problems."
        )
    if category_at >= 0 and rest_option is not None:
        _category_run(line, tokens, raw, rest_option, category_at, leftovers, named_rest)
    if leftovers and free_text and rest_option is not None and rest_option.name in raw:
        # The free text was named (note:tried X, …): the words after it carry it on.
        assert named_rest is not None
        raw[rest_option.name] = _free_text(line, [named_rest, *((i, s, e, None) for i, s, e, _ in leftovers)])
    elif leftovers and named_rest is not None and named_rest[3] is None and rest_option is not None:
        # A rest option named unquoted takes the words no other option took, as it does unnamed
        # (``/random category:Circuits In The Wild`` as ``/random Circuits In The Wild``).
        raw[rest_option.name] = " ".join([raw[rest_option.name], *(token for *_, token in leftovers)])
    elif leftovers:
        # More numbers beside a command's number, where no free text takes them (a note may name
        # problems; a user's name is no number).
        if (rest_option is None or rest_option.name in raw or not free_text) and (
            numbers := _more_numbers(options, raw, words_of, leftovers)
        ) is not None:
            one, other = numbers
            raise BadArgument(
                f"/{command} takes one problem at a time: /{command} {one}, then /{command} {other}."
            )
        if rest_option is None or rest_option.name in raw:
            shown = " ".join(token for *_, token in leftovers)
            shown = clip(shown, 61)
            usage = " ".join(o.name if o.required else f"[{o.name}]" for o in options)
            raise BadArgument(f"I don't understand {shown!r}. Usage: /{command} {usage}".rstrip())
        if free_text:
            raw[rest_option.name] = _free_text(line, [(i, s, e, None) for i, s, e, _ in leftovers])
        else:
            raw[rest_option.name] = " ".join(token for *_, token in leftovers)
    return convert_all(options, raw, command)
