"""The catalogue as CSV: loading the seed, importing a sheet export, exporting back to the sheet."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.legacy import legacy_name, legacy_start, sheet_origin, sheet_text
from storage.models import (
    LEGACY_PLATFORM,
    OPEN_CLAIM_STATES,
    Claim,
    ClaimState,
    Event,
    LinkStatus,
    Problem,
    WorkLink,
)
from storage.store import Store
from storage.text import canonical_number, normalise

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
SHEET_NAME_LENGTH = 200  # how much of a sheet claim's cell its events name it by (Event.actor_name)
REQUIRED = ("number", "category", "difficulty", "problem")
# How far down a file its header may be: the sheet's own CSV download puts its intro text first.
HEADER_ROWS = 10


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

    @property
    def section(self) -> int:
        """The section: 2 for 2.4."""
        return int(self.number.split(".")[0])

    @property
    def position(self) -> int:
        """The place within the section: 4 for 2.4."""
        return int(self.number.split(".")[1])


@dataclass
class ImportReport:
    """What an import changed."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    claims_added: int = 0
    claims_ended: int = 0

    def summary(self) -> str:
        """One line a person can read."""

        def listed(numbers: list[str]) -> str:
            shown = ", ".join(numbers[:20]) + (" …" if len(numbers) > 20 else "")
            return f" ({shown})" if numbers else ""

        return (
            f"{len(self.added)} added{listed(self.added)}, "
            f"{len(self.changed)} changed{listed(self.changed)}, {self.unchanged} unchanged; "
            f"{self.claims_added} sheet claims added, {self.claims_ended} ended"
        )


def _strip_bot_lines(text: str | None) -> str | None:
    if text is None:
        return None
    return "\n".join(line for line in text.splitlines() if not line.rstrip().endswith(BOT_MARK)).strip()


def _columns(header: list[str]) -> dict[int, str]:
    """Which column each cell of a header row names (our column names or the sheet's headers)."""
    mapping: dict[int, str] = {}
    for index, name in enumerate(header):
        key = name.strip().lower()
        target = key if key in COLUMNS else None
        for sheet_name, column in _SHEET_NAMES.items():
            if key.startswith(sheet_name):
                target = column
        if target and target not in mapping.values():
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


def parse_csv(text: str) -> list[Row]:
    """Parse and validate a catalogue CSV (our column names or the sheet's headers).

    The header is the first of the first :data:`HEADER_ROWS` rows that names the required
    columns: the sheet's own CSV download puts its intro text above it. Errors name the file's
    own line numbers.
    """
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    looked: list[tuple[int, dict[int, str]]] = []  # the rows looked at: first line, columns named
    start = 1
    try:
        for cells in reader:
            looked.append((start, _columns(cells)))
            start = reader.line_num + 1
            if all(c in looked[-1][1].values() for c in REQUIRED) or len(looked) == HEADER_ROWS:
                break
    except csv.Error as exc:
        raise CatalogueError(f"line {reader.line_num}: {exc}") from None
    if not looked:
        raise CatalogueError("line 1: the file is empty")
    mapping = looked[-1][1]
    if any(c not in mapping.values() for c in REQUIRED):
        raise CatalogueError(_no_header(looked, reader.line_num))
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
                    values[column] = cells[index].strip()
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
    return Row(
        number=number,
        category=cells["category"],
        subcategory=cells.get("subcategory"),
        difficulty=difficulty,
        problem=cells["problem"],
        existing_work=_strip_bot_lines(cells.get("existing_work")),
        working_on=_strip_bot_lines(cells.get("working_on")),
    )


async def import_rows(store: Store, rows: Iterable[Row], now: datetime) -> ImportReport:
    """Upsert problems by number and sync the sheet's claims, all in one transaction.

    Nothing is deleted: problems missing from the file stay, bot claims and approved links are
    untouched, and a sheet claim whose cell disappeared is ended, not removed. A column the file
    does not have changes nothing: without "working on", the sheet's claims stay as they are.
    """
    rows = list(rows)
    report = ImportReport()
    async with store.session() as s:
        existing = {p.number: p for p in await s.exec(select(Problem))}
        legacy: dict[str, list[Claim]] = {}
        legacy_rows = await s.exec(
            select(Claim).where(Claim.platform == LEGACY_PLATFORM, col(Claim.state).in_(OPEN_CLAIM_STATES))
        )
        for claim in legacy_rows:
            legacy.setdefault(claim.problem_number, []).append(claim)
        new_problems: list[dict[str, object]] = []
        for row in rows:
            values: dict[str, object] = {
                "number": row.number,
                "section": row.section,
                "position": row.position,
                "category": row.category,
                "difficulty": row.difficulty,
                "text": row.problem,
                "updated_at": now,
            }
            for key in OPTIONAL:  # only the file's columns: one it lacks leaves the problem's as is
                if (value := getattr(row, key)) is not None:
                    values[key] = value
            current = existing.get(row.number)
            if current is None:
                # A new problem has nothing to keep: a column the file lacks is empty.
                new_problems.append({**dict.fromkeys(OPTIONAL, ""), **values})
                report.added.append(row.number)
            elif any(getattr(current, k) != v for k, v in values.items() if k != "updated_at"):
                for key, value in values.items():
                    setattr(current, key, value)
                report.changed.append(row.number)
            else:
                report.unchanged += 1
        if new_problems:
            await s.exec(sa.insert(Problem), params=new_problems)
        claims: list[dict[str, object]] = []
        events: list[dict[str, object]] = []
        for row in rows:
            wanted = row.working_on
            if wanted is None:
                continue
            open_legacy = {c.source_text: c for c in legacy.get(row.number, [])}
            if wanted and wanted not in open_legacy:
                start = legacy_start(wanted)
                claims.append(
                    {
                        "problem_number": row.number,
                        "platform": LEGACY_PLATFORM,
                        "community_id": "",
                        "user_id": None,
                        "display_name": legacy_name(wanted),
                        "claimed_at": start or now,
                        "renewed_at": start or now,
                        "state": ClaimState.ACTIVE.value,
                        "date_known": start is not None,
                        "source_text": wanted,
                        "note": "",
                        "unreachable": True,
                    }
                )
                events.append(_sheet_event(row.number, "claimed", start or now, wanted, start is not None))
            for text, claim in open_legacy.items():
                if text != wanted:
                    claim.state = ClaimState.RELEASED.value
                    claim.ended_at = now
                    claim.note = "removed from the sheet"
                    events.append(_sheet_event(row.number, "released", now, claim.source_text))
                    report.claims_ended += 1
        if claims:
            await s.exec(sa.insert(Claim), params=claims)
            report.claims_added = len(claims)
        if events:
            await s.exec(sa.insert(Event), params=events)
    store.catalogue_changed()
    return report


def _sheet_event(number: str, kind: str, at: datetime, cell: str, dated: bool = True) -> dict[str, object]:
    """An event of a sheet claim, named by its whole cell (as far as the column holds); an
    undated claim's start is only the day an import found it."""
    return {
        "problem_number": number,
        "kind": kind,
        "at": at,
        "actor_platform": LEGACY_PLATFORM,
        "actor_id": None,
        "actor_name": sheet_text(cell, SHEET_NAME_LENGTH),
        "detail": sheet_origin(dated) + ("" if dated else "; this is the day it was imported"),
        "claim_id": None,
        "link_id": None,
    }


async def import_file(store: Store, path: Path, now: datetime) -> ImportReport:
    """Import a CSV file; a malformed file raises :class:`CatalogueError` and changes nothing."""
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return await import_rows(store, parse_csv(text), now)


async def ensure_seeded(store: Store, seed: Path, now: datetime) -> ImportReport | None:
    """Load the seed catalogue into an empty database; None when it already has problems."""
    if await store.problem_count():
        return None
    try:
        return await import_file(store, seed, now)
    except IntegrityError:
        # Another replica starting at the same moment loaded it first (all or nothing, so
        # the catalogue is whole either way).
        if await store.problem_count():
            return None
        raise


async def export_csv(store: Store) -> str:
    """The catalogue in the sheet's columns, with approved links and open claims appended."""
    async with store.session() as s:
        problems = list(await s.exec(select(Problem).order_by(col(Problem.section), col(Problem.position))))
        links = list(
            await s.exec(
                select(WorkLink)
                .where(WorkLink.status == LinkStatus.APPROVED)
                .order_by(col(WorkLink.decided_at), col(WorkLink.id))
            )
        )
        claims = list(
            await s.exec(
                select(Claim)
                .where(col(Claim.state).in_(OPEN_CLAIM_STATES), Claim.platform != LEGACY_PLATFORM)
                .order_by(col(Claim.claimed_at), col(Claim.id))
            )
        )
    links_by: dict[str, list[WorkLink]] = {}
    for link in links:
        links_by.setdefault(link.problem_number, []).append(link)
    claims_by: dict[str, list[Claim]] = {}
    for claim in claims:
        claims_by.setdefault(claim.problem_number, []).append(claim)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(SHEET_HEADER)
    for p in problems:
        work = [p.existing_work] if p.existing_work else []
        for link in links_by.get(p.number, []):
            note = f" — {' '.join(link.note.split())}" if link.note else ""
            work.append(f"{link.url}{note} {BOT_MARK}")
        working = [p.working_on] if p.working_on else []
        for claim in claims_by.get(p.number, []):
            when = claim.renewed_at.date().isoformat()
            working.append(f"{claim.display_name} ({claim.platform.title()}) - {when} {BOT_MARK}")
        writer.writerow(
            [
                p.category,
                p.subcategory,
                p.difficulty,
                p.number,
                p.text,
                "\n".join(work),
                "\n".join(working),
            ]
        )
    return out.getvalue()
