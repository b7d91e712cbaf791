"""Recently seen inbound ids, in memory: a replayed event is skipped without a database trip."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class Seen:
    """The last ``capacity`` ids this process handled, oldest forgotten first.

    The fast half of de-duplication: a gateway replay after a resume reaches the process that
    saw the original, so memory catches it. The durable half is Store.applying, which records
    the id with the first change the event makes (replays in another process, after a restart).
    """

    def __init__(self, capacity: int = 50_000) -> None:
        """Remember up to ``capacity`` ids."""
        self.capacity = capacity
        self._ids: OrderedDict[Hashable, None] = OrderedDict()

    def first(self, key: Hashable) -> bool:
        """Record ``key``; True only the first time it is seen (while remembered)."""
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True

    def forget(self, key: Hashable) -> None:
        """Forget ``key`` (its handling failed): the next delivery of it is handled."""
        self._ids.pop(key, None)

    def __len__(self) -> int:
        return len(self._ids)
