"""Dates and ages as people read them."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta


def day(moment: datetime) -> str:
    """The UTC date, e.g. ``2026-11-25``."""
    return moment.date().isoformat()


def days(count: int) -> str:
    """A number of days: ``1 day``, ``14 days`` (settings may be 1)."""
    return f"{count} day" + ("" if count == 1 else "s")


def ago(then: datetime, now: datetime) -> str:
    """How long ago, roughly: ``today``, ``yesterday``, ``3 days ago``, ``2 months ago`` (up to
    ``24 months ago``), ``2 years ago``.

    Counted in calendar days, as :func:`day` prints dates: a claim made at 23:50 was made
    "yesterday" at 00:10, beside yesterday's date.
    """
    days = (now.date() - then.date()).days
    if days < 0:
        return "in the future"
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 60:
        return f"{days} days ago"
    if days < 730:
        return f"{days // 30} months ago"
    return f"{days // 365} years ago"


def clock_time(moment: datetime) -> str:
    """The UTC time of day, e.g. ``14:05``."""
    return moment.astimezone(UTC).strftime("%H:%M")


def minutes_until(then: datetime, now: datetime) -> str:
    """How long until ``then``, in whole minutes rounded up: ``in 1 minute``, ``in 23 minutes``."""
    minutes = max(1, math.ceil((then - now).total_seconds() / 60))
    return f"in {minutes} minute" + ("" if minutes == 1 else "s")


def next_minute(moment: datetime) -> datetime:
    """``moment`` rounded up to a whole minute (a time shown to the minute is never too early)."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)
