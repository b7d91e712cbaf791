"""Reading a catalogue CSV: finding its header and separator, validating its rows."""

from __future__ import annotations

import _csv
import csv
import io
import re
from dataclasses import dataclass

from storage.text import canonical_number, normalise, without_bidi

DIFFICULTIES = ("A", "B", "C", "D", "A-B", "A-C", "B-C", "C-D")
COLUMNS = (
    "number",
    "category",
    "subcategory",
    "difficulty",
    "problem",
    "existing_work",
    "working_on",
)
SHEET_HEADER = (
    "Category",
    "Subcategory",
    "Difficulty",
    "Number",
    "Problem",
    "Existing Work",
    "Currently Working On (include date!)",
)
_SHEET_NAMES = {
    "category": "category",
    "subcategory": "subcategory",
    "difficulty": "difficulty",
    "number": "number",
    "problem": "problem",
    "existing work": "existing_work",
    "currently working on": "working_on",
}
# Lines the export writes for the bot's own links and claims end with this; import skips them,
# since the bot's tables, not the sheet's cells, hold them.
BOT_MARK = "(via copbot)"
# Columns a file may leave out; a problem keeps what it has in a column its file does not have.
OPTIONAL = ("subcategory", "existing_work", "working_on")
MAX_CELL = 20_000
REQUIRED = ("number", "category", "difficulty", "problem")
# How far down a file its header may be: the sheet's own CSV download puts its intro text first.
HEADER_ROWS = 10
# The separators a file's columns may have, tried in turn: a spreadsheet saves "CSV" with
# semicolons where the comma is the decimal sign (Excel in much of Europe), or with tabs.
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}


class CatalogueError(ValueError):
    """A catalogue file that cannot be imported; the message names the line."""


@dataclass(frozen=True)
class Row:
    """One problem as a CSV row gives it; None for an optional column the file does not have."""

    number: str
    category: str
    subcategory: str | None
    difficulty: str
    problem: str
    existing_work: str | None
    working_on: str | None
    bot_lines: int = 0  # lines marked (via copbot) its cells had, which are not imported

    @property
    def section(self) -> int:
        """The section: 2 for 2.4."""
        return int(self.number.split(".")[0])

    @property
    def position(self) -> int:
        """The place within the section: 4 for 2.4."""
        return int(self.number.split(".")[1])


def _strip_bot_lines(text: str | None) -> tuple[str | None, int]:
    """A cell without the lines the export added for copbot's own links and claims; how many."""
    if text is None:
        return None, 0
    lines = text.splitlines()
    kept = [line for line in lines if not line.rstrip().endswith(BOT_MARK)]
    return "\n".join(kept).strip(), len(lines) - len(kept)


def _column_of(key: str, exact: bool) -> str | None:
    """The column a header cell names: exactly, or by starting with a sheet header's name."""
    if exact:
        return key if key in COLUMNS else _SHEET_NAMES.get(key)
    return next((column for name, column in _SHEET_NAMES.items() if key.startswith(name)), None)


def _columns(header: list[str]) -> dict[int, str]:
    """Which column each cell of a header row names (our column names or the sheet's headers).

    Exact names first: a cell that only starts with a column's name ("Number of votes") takes
    the column only when no cell names it exactly ("Number"), wherever the two stand.
    """
    mapping: dict[int, str] = {}
    for exact in (True, False):
        for index, name in enumerate(header):
            target = _column_of(name.strip().lower(), exact)
            if index not in mapping and target and target not in mapping.values():
                mapping[index] = target
    return mapping


def _no_header(looked: list[tuple[int, dict[int, str]]], last_line: int) -> str:
    """Why none of the rows looked at is a header: which rows, and what the closest lacks."""
    lacking = [[c for c in REQUIRED if c not in columns.values()] for _, columns in looked]
    if len(looked) == 1:
        return f"line 1: the header has no column for {', '.join(lacking[0])}"
    where = f"rows 1-{len(looked)} (lines 1-{last_line})"
    closest = min(range(len(looked)), key=lambda i: len(lacking[i]))  # the first, on a tie
    if len(lacking[closest]) == len(REQUIRED):
        found = "none of them names any"
    else:
        found = f"the closest, line {looked[closest][0]}, has no column for {', '.join(lacking[closest])}"
    return f"no header in {where}: a header names the columns {', '.join(REQUIRED)}; {found}"


class _NoHeader(CatalogueError):
    """No header read with one separator; ``lacking``: how many required columns the closest
    row lacks (one more than all of them when the file does not even split into rows)."""

    def __init__(self, message: str, lacking: int) -> None:
        super().__init__(message)
        self.lacking = lacking


def _header(reader: _csv.Reader) -> dict[int, str]:
    """Read up to the header and return its columns; :class:`_NoHeader` when there is none."""
    looked: list[tuple[int, dict[int, str]]] = []  # the rows looked at: first line, columns named
    start = 1
    try:
        for cells in reader:
            looked.append((start, _columns(cells)))
            start = reader.line_num + 1
            if all(c in looked[-1][1].values() for c in REQUIRED) or len(looked) == HEADER_ROWS:
                break
    except csv.Error as exc:
        raise _NoHeader(f"line {reader.line_num}: {exc}", len(REQUIRED) + 1) from None
    if not looked:
        raise CatalogueError("line 1: the file is empty")
    mapping = looked[-1][1]
    if any(c not in mapping.values() for c in REQUIRED):
        lacking = min(sum(c not in columns.values() for c in REQUIRED) for _, columns in looked)
        raise _NoHeader(_no_header(looked, reader.line_num), lacking)
    return mapping


def parse_csv(text: str) -> list[Row]:
    """Parse and validate a catalogue CSV (our column names or the sheet's headers).

    The header is the first of the first :data:`HEADER_ROWS` rows that names the required
    columns: the sheet's own CSV download puts its intro text above it. Columns may be separated
    by commas, semicolons or tabs: the first separator that finds the header reads the file.
    Errors name the file's own line numbers.
    """
    text = text.removeprefix("\ufeff")
    missed: list[tuple[_NoHeader, str]] = []
    for delimiter, name in DELIMITERS.items():
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        try:
            mapping = _header(reader)
        except _NoHeader as exc:
            missed.append((exc, name))
            continue
        return _rows(reader, mapping)
    closest, name = min(missed, key=lambda miss: miss[0].lacking)  # the first, on a tie: commas
    *others, last = DELIMITERS.values()
    raise CatalogueError(
        f"{closest} (its columns read as separated by {name}; {', '.join(others)} and {last} were tried)"
    )


def _rows(reader: _csv.Reader, mapping: dict[int, str]) -> list[Row]:
    """The validated rows below the header."""
    rows: list[Row] = []
    seen: dict[str, tuple[int, str]] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            # A column the header lacks stays None (left as it is); a short row's cells are empty.
            values: dict[str, str | None] = dict.fromkeys(COLUMNS, None)
            values.update(dict.fromkeys(mapping.values(), ""))
            for index, column in mapping.items():
                if index < len(cells):
                    # A cell's bidi controls go (see storage.text.BIDI_CONTROLS): an override left
                    # open in a problem's text turned the rest of its card around.
                    values[column] = without_bidi(cells[index]).strip()
            rows.append(_validate(values, line, seen))
    except csv.Error as exc:
        raise CatalogueError(f"line {reader.line_num}: {exc}") from None
    return rows


def _digits(written: str) -> list[str]:
    return re.findall(r"[0-9]+", normalise(written))


def _validate(values: dict[str, str | None], line: int, seen: dict[str, tuple[int, str]]) -> Row:
    cells = {column: value for column, value in values.items() if value is not None}  # the file's columns
    written = cells["number"]
    # Stored as the commands read it (02.04 is 2.4), or /problem could never reach it.
    number = canonical_number(written)
    if number is None:
        raise CatalogueError(f"line {line}: {written!r} is not a problem number like 2.4")
    if number in seen:
        first_line, first = seen[number]
        if first == written:
            raise CatalogueError(f"line {line}: problem {number} is already on line {first_line}")
        # 2.04 and 2.4 differ in their digits; 2,4 and 2.4. in how they are written around them.
        why = "leading zeros do not count" if _digits(written) != _digits(first) else "spelled differently"
        raise CatalogueError(
            f"line {line}: {written} is the same problem as {first} on line {first_line} "
            f"(both are {number}: {why})"
        )
    seen[number] = (line, written)
    difficulty = cells["difficulty"].upper().replace(" ", "")
    if difficulty not in DIFFICULTIES:
        raise CatalogueError(
            f"line {line}: difficulty {cells['difficulty']!r} of {number} is not one of "
            + ", ".join(DIFFICULTIES)
        )
    if not cells["category"]:
        raise CatalogueError(f"line {line}: problem {number} has no category")
    for column, value in cells.items():
        if len(value) > MAX_CELL:
            raise CatalogueError(f"line {line}: {column} of {number} is over {MAX_CELL} characters")
        # PostgreSQL cannot store a NUL in text (SQLite can): refused here, so both behave alike.
        # A NUL is never typed into a sheet; it means a damaged or non-UTF-8 file (UTF-16 reads as
        # text with a NUL after every letter), which stripping would hide rather than mend.
        if "\x00" in value:
            raise CatalogueError(
                f"line {line}: {column} of {number} holds a NUL character (\\x00); "
                "is the file a UTF-8 CSV export of the sheet?"
            )
    existing_work, bot_links = _strip_bot_lines(cells.get("existing_work"))
    working_on, bot_claims = _strip_bot_lines(cells.get("working_on"))
    return Row(
        number=number,
        category=cells["category"],
        subcategory=cells.get("subcategory"),
        difficulty=difficulty,
        problem=cells["problem"],
        existing_work=existing_work,
        working_on=working_on,
        bot_lines=bot_links + bot_claims,
    )
