"""Catalogue import of a large CSV (10,000 rows): seconds for a first import and a re-import."""

from __future__ import annotations

import csv
import io
import time

from bench.common import NOW, fresh_store
from storage.catalogue import COLUMNS, import_rows, parse_csv


def big_csv(rows: int) -> str:
    """A synthetic catalogue of ``rows`` problems in our columns."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for i in range(rows):
        section, position = divmod(i, 999)
        writer.writerow(
            [
                f"{section + 1}.{position + 1}",
                f"Category {section}",
                "Sub",
                "A-B",
                f"Problem text number {i} " * 8,
                "https://example.org/x" if i % 7 == 0 else "",
                "Someone - 5 May 2023" if i % 11 == 0 else "",
            ]
        )
    return out.getvalue()


async def run(backend: str, rows: int) -> list[list[str]]:
    """Rows of (backend, rows, first import s, re-import s)."""
    text = big_csv(rows)
    async with fresh_store(backend, seed=False) as store:
        started = time.perf_counter()
        report = await import_rows(store, parse_csv(text), NOW)
        first = time.perf_counter() - started
        assert len(report.added) == rows
        started = time.perf_counter()
        again = await import_rows(store, parse_csv(text), NOW)
        second = time.perf_counter() - started
        assert again.unchanged == rows
    return [[backend, str(rows), f"{first:.2f}", f"{second:.2f}"]]
