"""`python -m bench [--smoke]`: run every benchmark, print one table, write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bench import catalogue_import, core, sweep
from bench.common import ROOT, machine


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table with a heading."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


async def main(smoke: bool) -> str:
    """Run the benchmarks (small counts with ``smoke``) and return the report."""
    parts = [f"Machine: {machine()}{' (smoke run: small counts, numbers not meaningful)' if smoke else ''}\n"]
    rows: list[list[str]] = []
    for backend in ("sqlite", "postgresql"):
        rows += await core.run(backend, callers=10 if smoke else 200, rounds=2 if smoke else 5)
    parts.append(
        table(
            "Command core in process", ["backend", "command", "callers", "p50 ms", "p99 ms", "errors"], rows
        )
    )
    rows = []
    for backend in ("sqlite", "postgresql"):
        rows += await catalogue_import.run(backend, rows=200 if smoke else 10_000)
    parts.append(
        table(
            "Catalogue import (target: 10,000 rows under 2 s)",
            ["backend", "rows", "first import s", "re-import s"],
            rows,
        )
    )
    rows = []
    sizes = [(2_000, 20), (2_000, 200)] if smoke else [(10_000, 100), (100_000, 1_000), (1_000_000, 10_000)]
    fixed = [] if smoke else [(10_000, 1_000), (1_000_000, 1_000)]
    for backend in ("sqlite", "postgresql"):
        for total, stale in sizes + fixed:
            if backend == "postgresql" and total > 100_000:
                continue  # filling a million rows over the network takes minutes; SQLite shows the shape
            rows.append(await sweep.run(backend, total, stale))
    parts.append(
        table(
            "Stale sweep (target: 100,000 claims, 1% stale, under 1 s on SQLite)",
            ["backend", "claims", "stale", "sweep s", "ms per stale claim", "idle re-sweep ms"],
            rows,
        )
    )
    return "\n".join(parts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny counts, for CI")
    args = parser.parse_args()
    report = asyncio.run(main(args.smoke))
    print(report)
    if not args.smoke:
        Path(ROOT / "BENCHMARKS.md").write_text("# Benchmarks\n\n" + report, encoding="utf-8")
