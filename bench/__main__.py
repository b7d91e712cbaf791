"""`python -m bench [--smoke]`: run every benchmark, print one table, write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bench import catalogue_import, core, discord_e2e, e2e, e2e_parts, slack_e2e, sweep
from bench.common import ROOT, machine

E2E_NOTE = """\
End to end (items 1, 2 and 6): each bot is its own process, configured only by its environment
(copbot: `python -m bot.cli run` on a fresh SQLite file; the floor: bench/floor_discord.py, a bare
discord.py client, or bench/floor_slack.py, a bare Bolt app with process_before_response=True,
answering "ok"). The fake platform and the load generator run in the benchmark process. Open loop:
requests go out at the rate whatever the answers. Each load runs 20 s in all, in 4 slices of 5 s
taken in turns with the other loads at its rate (floor, copbot, floor, copbot…), so a drift in
the shared machine's speed falls on both sides of a ratio alike; a row pools its load's slices.
Latency: from dispatch to the answer reaching the fake (Discord: the interaction callback, stamped
as it arrives; Slack: the HTTP response). dropped: no answer within 5 s. deferred: the answer was
"later" (Discord: a deferral, the reply by follow-up; Slack: an empty ack, the reply by
response_url); it counts as answered at the deferral. failed: refused by the fake, or copbot's
apology. The mix's /search repeats five queries, so the matches of their words are kept by the
search index (the parts table below times a search of new words too); cards are built from
claims and links kept in memory until another connection commits to the SQLite file (SQLite's
count of such commits is read at most once a second; nothing else writes during these runs),
and each /claim is a transaction. send lag: how late the load generator sent, at worst (a
stalled benchmark process). bot CPU: the bot process's CPU time (all threads) per request. peak
RSS: the bot's VmHWM (its high-water mark since it started, so it includes the runs above it).
"""


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table with a heading."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


async def main(smoke: bool) -> str:
    """Run the benchmarks (small counts with ``smoke``) and return the report."""
    parts = [f"Machine: {machine()}{' (smoke run: small counts, numbers not meaningful)' if smoke else ''}\n"]
    # First, while no earlier benchmark's database work (checkpoints, vacuum) competes for the CPU;
    # printed last.
    end_to_end_parts = await end_to_end(smoke)
    rows: list[list[str]] = []
    for backend in ("sqlite", "postgresql"):
        rows += await core.run(backend, callers=10 if smoke else 200, rounds=2 if smoke else 5)
    parts.append(
        table(
            "Command core in process",
            ["backend", "command", "callers", "p50 ms", "p99 ms", "calls/s", "CPU ms per call", "errors"],
            rows,
        )
        + "\n"
        + core.NOTE
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
    parts += end_to_end_parts
    return "\n".join(parts)


async def end_to_end(smoke: bool) -> list[str]:
    """The Discord and Slack end-to-end tables (items 1, 2 and 6), and copbot's parts."""
    parts = [E2E_NOTE]
    e2e.check_numbers()
    for name, module in (("Discord", discord_e2e), ("Slack", slack_e2e)):
        runs = await module.run(smoke)
        parts.append(
            table(
                f"End to end on {name} (targets: copbot p99 ≤ 1.5 × floor p99, nothing dropped, "
                "peak RSS < 150 MB)",
                e2e.HEADER,
                e2e.rows(runs),
            )
        )
        parts.append("\n".join(e2e.verdicts(runs)) + "\n")
        top = max(run.rate for run in runs)
        parts.append(
            table(f"{name}: each command at {top:.0f}/s", e2e.BY_COMMAND_HEADER, e2e.by_command_rows(runs))
        )
    parts.append(
        table(
            "copbot's own parts per request, one call at a time (in process, SQLite)",
            e2e_parts.HEADER,
            await e2e_parts.run(20 if smoke else 500),
        )
        + "\n"
        + e2e_parts.NOTE
    )
    return parts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny counts, for CI")
    args = parser.parse_args()
    report = asyncio.run(main(args.smoke))
    print(report)
    if not args.smoke:
        Path(ROOT / "BENCHMARKS.md").write_text("# Benchmarks\n\n" + report, encoding="utf-8")
