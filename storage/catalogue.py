"""The catalogue as CSV: loading the seed, importing a sheet export, exporting back to the sheet."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.catalogue_csv import BOT_MARK, OPTIONAL, SHEET_HEADER, CatalogueError, Row, parse_csv
from storage.catalogue_csv import COLUMNS as COLUMNS  # re-exported: bench and tests use it here
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

SHEET_NAME_LENGTH = 200  # how much of a sheet claim's cell its events name it by (Event.actor_name)


@dataclass(frozen=True)
class Held:
    """What copbot holds on a problem whose text an import changed: it stays with the number."""

    claims: int = 0
    approved: int = 0
    pending: int = 0

    def __str__(self) -> str:
        counts = (
            (self.claims, "open claim"),
            (self.approved, "approved link"),
            (self.pending, "pending link"),
        )
        return ", ".join(f"{n} {what}{'s' if n > 1 else ''}" for n, what in counts if n)


def _shown(items: list[str]) -> str:
    return ", ".join(items[:20]) + (" …" if len(items) > 20 else "")


def _listed(items: list[str]) -> str:
    return f" ({_shown(items)})" if items else ""


@dataclass
class ImportReport:
    """What an import changed, and what it left that the admin should know about."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    claims_added: int = 0
    claims_ended: int = 0
    kept: list[str] = field(default_factory=list)  # problems the file does not have, left as they are
    bot_lines: int = 0  # lines marked (via copbot) skipped
    # Problems whose text changed while copbot's own claims or links are on them: those follow
    # the number, not the text (a renumbered file puts them under another problem).
    held: dict[str, Held] = field(default_factory=dict)

    def summary(self) -> str:
        """One line a person can read."""
        line = f"{len(self.added)} added{_listed(self.added)}, "
        line += f"{len(self.changed)} changed{_listed(self.changed)}, {self.unchanged} unchanged"
        if self.kept:
            line += f", {len(self.kept)} not in the file, kept{_listed(self.kept)}"
        line += f"; {self.claims_added} sheet claims added, {self.claims_ended} ended"
        if self.bot_lines:
            line += (
                f"; {self.bot_lines} line{'s' if self.bot_lines > 1 else ''} marked {BOT_MARK} skipped "
                "(copbot's own claims and links, "
                "which an import never adds)"
            )
        if self.held:
            held = [f"{number} ({what})" for number, what in self.held.items()]
            line += (
                "; the text changed under copbot's claims and links, which stay with their number "
                f"(check they still fit): {_shown(held)}"
            )
        return line


async def import_rows(
    store: Store, rows: Iterable[Row], now: datetime, *, finish_commit: bool = False
) -> ImportReport:
    """Upsert problems by number and sync the sheet's claims, all in one transaction.

    Nothing is deleted: problems missing from the file stay, bot claims and approved links are
    untouched, and a sheet claim whose cell disappeared is ended, not removed. A column the file
    does not have changes nothing: without "working on", the sheet's claims stay as they are.
    The report names the problems the file lacks, the lines of copbot's own it skipped, and the
    problems whose text changed under copbot's claims and links (they keep their number, so a
    file that renumbers problems leaves them under another problem's text).

    ``finish_commit`` (``catalogue import``, which a signal may stop): a signal that lands while
    the commit goes through waits for its answer (see
    :meth:`storage.database.Database.transaction`), so that the command reports the import it
    made rather than "nothing was imported".
    """
    rows = list(rows)
    report = ImportReport(bot_lines=sum(row.bot_lines for row in rows))
    retexted: list[str] = []
    async with store.session(finish_commit=finish_commit) as s:
        existing = {p.number: p for p in await s.exec(select(Problem))}
        # The sheet's open claims by problem: (source text, id). The columns named, not the model:
        # a database at an older revision (a migration test planting rows) lacks its newer ones.
        legacy: dict[str, list[tuple[str, int]]] = {}
        legacy_rows = await s.exec(
            select(Claim.problem_number, Claim.source_text, Claim.id).where(
                Claim.platform == LEGACY_PLATFORM, col(Claim.state).in_(OPEN_CLAIM_STATES)
            )
        )
        for number, text, claim_id in legacy_rows:
            legacy.setdefault(number, []).append((text, claim_id or 0))
        ended: list[int] = []
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
                if current.text != row.problem:
                    retexted.append(row.number)
                for key, value in values.items():
                    setattr(current, key, value)
                report.changed.append(row.number)
            else:
                report.unchanged += 1
        if new_problems:
            await s.exec(sa.insert(Problem), params=new_problems)
        in_file = {row.number for row in rows}
        missing = [p for p in existing.values() if p.number not in in_file]
        report.kept = [p.number for p in sorted(missing, key=lambda p: (p.section, p.position))]
        report.held = await _held(s, retexted)
        claims: list[dict[str, object]] = []
        events: list[dict[str, object]] = []
        for row in rows:
            wanted = row.working_on
            if wanted is None:
                continue
            open_legacy = dict(legacy.get(row.number, []))
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
            for text, claim_id in open_legacy.items():
                if text != wanted:
                    ended.append(claim_id)
                    events.append(_sheet_event(row.number, "released", now, text))
                    report.claims_ended += 1
        if ended:
            await s.exec(
                sa.update(Claim)
                .where(col(Claim.id).in_(ended))
                .values(state=ClaimState.RELEASED.value, ended_at=now, note="removed from the sheet")
            )
        if claims:
            await s.exec(sa.insert(Claim), params=claims)
            report.claims_added = len(claims)
        if events:
            await s.exec(sa.insert(Event), params=events)
    store.catalogue_changed()
    return report


async def _held(s: AsyncSession, numbers: list[str]) -> dict[str, Held]:
    """copbot's open claims and its approved and pending links on these problems, by number."""
    if not numbers:
        return {}
    counts: dict[str, dict[str, int]] = {}
    claims = await s.exec(
        select(Claim.problem_number, sa.func.count())
        .where(
            col(Claim.problem_number).in_(numbers),
            col(Claim.state).in_(OPEN_CLAIM_STATES),
            Claim.platform != LEGACY_PLATFORM,
        )
        .group_by(col(Claim.problem_number))
    )
    for number, count in claims:
        counts.setdefault(number, {})["claims"] = count
    links = await s.exec(
        select(WorkLink.problem_number, WorkLink.status, sa.func.count())
        .where(
            col(WorkLink.problem_number).in_(numbers),
            col(WorkLink.status).in_((LinkStatus.APPROVED, LinkStatus.PENDING)),
        )
        .group_by(col(WorkLink.problem_number), col(WorkLink.status))
    )
    for number, status, count in links:
        counts.setdefault(number, {})[str(LinkStatus(status).value)] = count
    return {n: Held(**counts[n]) for n in numbers if n in counts}


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


async def read_catalogue(path: Path) -> list[Row]:
    """The rows of a CSV file, checked; a malformed file raises :class:`CatalogueError`, one that
    cannot be read OSError (before any database is touched)."""
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_csv(text)


async def import_file(store: Store, path: Path, now: datetime) -> ImportReport:
    """Import a CSV file; a malformed file raises :class:`CatalogueError` and changes nothing."""
    return await import_rows(store, await read_catalogue(path), now)


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
