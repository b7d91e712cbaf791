"""The buttons taken off the messages whose buttons were pressed, so that no edit puts them back.

A press carries the message as the presser's app showed it, which may be from before an earlier
press's edit landed: Alice answers for 3.11 in a reminder about two claims and, a moment later,
for 2.4. Edited from her second press's copy alone, the reminder would get 3.11's buttons back.
So each front end remembers, per message, every button taken off it so far (for the last
:data:`REMEMBERED` messages), and edits one message at a time, in the order the presses got there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator

# Messages whose taken-off buttons are remembered (the most recently pressed): a press on an older
# copy of one pressed long ago is answered, and its edit may show a button its claim already lost.
REMEMBERED = 1024


class PressedMessages:
    """The buttons taken off each recently pressed message, and one edit of a message at a time."""

    def __init__(self, remembered: int = REMEMBERED) -> None:
        """Remember the buttons taken off the last ``remembered`` messages."""
        self.remembered = remembered
        self._spent: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def editing(self, message: str, spent: tuple[str, ...] = ()) -> AsyncIterator[frozenset[str]]:
        """While ``message`` is edited (no other edit of it runs meanwhile): every button id taken
        off it so far, the ``spent`` ones of this press included."""
        lock, users = self._locks.get(message) or (asyncio.Lock(), 0)
        self._locks[message] = (lock, users + 1)
        try:
            async with lock:
                taken = self._spent.pop(message, frozenset()) | frozenset(spent)
                if taken:
                    self._spent[message] = taken
                    while len(self._spent) > self.remembered:
                        self._spent.popitem(last=False)
                yield taken
        finally:
            lock, users = self._locks[message]
            if users > 1:
                self._locks[message] = (lock, users - 1)
            else:
                del self._locks[message]
