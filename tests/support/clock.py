"""A clock that tests move by hand."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """Callable like ``datetime.now(UTC)``; stands still until advanced."""

    def __init__(self, start: datetime) -> None:
        """Start at ``start`` (timezone-aware)."""
        self.now = start

    def __call__(self) -> datetime:
        """The current fake time."""
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)`` and return the new time."""
        self.now += timedelta(**delta)
        return self.now
