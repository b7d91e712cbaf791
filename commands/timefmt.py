"""Dates and ages as people read them."""

from __future__ import annotations

from datetime import datetime


def day(moment: datetime) -> str:
    """The UTC date, e.g. ``2026-11-25``."""
    return moment.date().isoformat()


def ago(then: datetime, now: datetime) -> str:
    """How long ago, roughly: ``today``, ``3 days ago``, ``2 months ago``, ``1 year ago``.

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
