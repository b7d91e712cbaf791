"""The updates of messages whose buttons were pressed, made so that an older one never wins.

A press carries the message as the presser's app showed it, which may be from before an earlier
press's edit landed: Alice answers for 3.11 in a reminder about two claims and, a moment later,
for 2.4. Edited from her second press's copy alone, the reminder would get 3.11's buttons back.
And two presses on one card a moment apart (Bob's Claim, then Alice's) each work out what the
card shows, but the answers, then the edits, may go out in the other order: Bob's card, which
does not name Alice, would be the one left.

So each front end notes every press as soon as its answer is worked out
(:meth:`PressedMessages.answered`: its place in line, the buttons it takes off and the line it
adds saying how it was answered), and edits
one message at a time (:meth:`PressedMessages.editing`): the buttons taken off so far stay off,
and a card worked out before the one the message already shows is not put back. This holds
for the last :data:`REMEMBERED` messages pressed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

# Messages whose presses are remembered (the most recently pressed).
REMEMBERED = 1024


@dataclass
class Update:
    """What an update of a message must keep to: ``taken``, every button taken off it so far;
    ``superseded``, whether it already shows what a later press worked out."""

    taken: frozenset[str]
    superseded: bool
    # The lines saying how the message was answered so far (Reply.answered), oldest first.
    notes: tuple[str, ...] = ()


@dataclass
class _Known:
    taken: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()
    shown: int = 0  # the place in line of the press whose update the message shows


def answers(shown: Sequence[str], notes: Sequence[str]) -> tuple[str, ...] | None:
    """The lines saying how a message was answered: those it ``shown`` (an earlier edit's, maybe
    from before a restart) and then the ``notes`` noted since; None when that adds nothing."""
    added = tuple(dict.fromkeys(n for n in notes if n not in shown))
    return (*shown, *added) if added else None


class PressedMessages:
    """The presses on recently pressed messages, and one update of a message at a time."""

    def __init__(self, remembered: int = REMEMBERED) -> None:
        """Remember the presses on the last ``remembered`` messages pressed."""
        self.remembered = remembered
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._line = itertools.count(1)
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def _of(self, message: str) -> _Known:
        known = self._known.pop(message, None) or _Known()
        self._known[message] = known
        while len(self._known) > self.remembered:
            self._known.popitem(last=False)
        return known

    def answered(self, message: str, spent: tuple[str, ...] = (), note: str = "") -> int:
        """Note a press on ``message`` whose answer was just worked out, taking the ``spent``
        buttons off it and adding ``note`` (how it was answered) to it; returns its place in
        line, for :meth:`editing`."""
        known = self._of(message)
        known.taken |= frozenset(spent)
        if note and note not in known.notes:
            known.notes += (note,)
        return next(self._line)

    @contextlib.asynccontextmanager
    async def editing(self, message: str, place: int) -> AsyncIterator[Update]:
        """While the press at ``place`` updates ``message`` (no other update of it runs
        meanwhile): what the update must keep to."""
        lock, users = self._locks.get(message) or (asyncio.Lock(), 0)
        self._locks[message] = (lock, users + 1)
        try:
            async with lock:
                known = self._of(message)
                superseded = known.shown > place
                known.shown = max(known.shown, place)
                yield Update(known.taken, superseded, known.notes)
        finally:
            lock, users = self._locks[message]
            if users > 1:
                self._locks[message] = (lock, users - 1)
            else:
                del self._locks[message]
