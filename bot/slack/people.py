"""Who a Slack user is to copbot: name, admin and moderator rights, looked up and cached."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from commands.types import Actor

log = logging.getLogger("copbot.slack")

PLATFORM = "slack"
MAX_NAME = 80
V = TypeVar("V")


class RightsUnknown(Exception):
    """Slack could not say whether someone is a moderator (a user group listing failed)."""


class Directory:
    """Turns Slack user ids into :class:`Actor` s through ``users.info`` and user groups.

    ``moderator_ids`` holds user ids and user-group ids (``S…``); a member of a listed group
    is a moderator. For an org-wide Enterprise Grid install (:attr:`org_wide`) a group is listed
    in each workspace the person belongs to: Slack lists a group for an org token only with the
    workspace it is in (``team_id``, "required if org token is used"). Answers are cached
    (users for ``user_ttl`` seconds, group members for ``group_ttl``) so a busy channel costs
    few API calls, the least recently seen dropped past ``capacity``; a failed lookup falls back
    to the name Slack sent with the request and no rights.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        moderator_ids: Iterable[str] = (),
        *,
        user_ttl: float = 600.0,
        group_ttl: float = 60.0,
        timer: Callable[[], float] = time.monotonic,
        capacity: int = 5_000,
    ) -> None:
        """Look people up with ``client``; remember at most ``capacity`` users (and groups)."""
        self.client = client
        self.moderator_ids = frozenset(moderator_ids)
        self.user_ttl, self.group_ttl = user_ttl, group_ttl
        self.timer = timer
        # Bounded: a workspace's every passer-by would otherwise stay for the process's life.
        self._users: _Recent[_Known] = _Recent(capacity)
        # A group's members, or (False, ∅) when listing them failed.
        self._groups: _Recent[tuple[bool, frozenset[str]]] = _Recent(capacity)
        # Installed for a whole Enterprise Grid organisation (auth.test, at start).
        self.org_wide = False

    async def actor(self, community_id: str, user_id: str, fallback_name: str = "") -> Actor:
        """The actor behind ``user_id`` in ``community_id`` (the installed workspace, whichever
        team the user belongs to: user ids are unique across Slack)."""
        known = await self._user(user_id)
        name = known.name or next((_spaced(n) for n in (fallback_name, user_id) if _spaced(n)), user_id)
        return Actor(
            platform=PLATFORM,
            community_id=community_id,
            user_id=user_id,
            display_name=name[:MAX_NAME],
            is_moderator=await self.is_moderator(user_id),
            is_admin=known.is_admin,
            named=known.name is not None,
        )

    @property
    def remembered(self) -> int:
        """How many users are cached (at most ``capacity``)."""
        return len(self._users)

    async def is_moderator(self, user_id: str) -> bool:
        """Whether the user, or a user group they belong to, is listed in SLACK_MODERATORS (not
        when a group's members could not be listed lately: see :meth:`moderator_rights`)."""
        return bool(await self._rights(user_id, again=False))

    async def moderator_rights(self, user_id: str) -> bool | None:
        """:meth:`is_moderator`, asking Slack again for the groups whose listing failed lately;
        None when Slack could not say (a listed group's members could not be listed, and no
        other group lists them): for what Slack sends again when it fails (a ✅ under a post)."""
        return await self._rights(user_id, again=True)

    async def _rights(self, user_id: str, *, again: bool) -> bool | None:
        if user_id in self.moderator_ids:
            return True
        groups = sorted(i for i in self.moderator_ids if i.startswith("S"))
        # An org token names the workspace: a group of one of theirs can hold them.
        teams: tuple[str | None, ...] = (
            (await self._user(user_id)).teams if groups and self.org_wide else (None,)
        )
        unknown = False
        for group_id in groups:
            for team in teams:
                members = await self._members(group_id, team, again=again)
                if members is None:
                    unknown = True
                elif user_id in members:
                    return True
        return None if unknown else False

    async def _user(self, user_id: str) -> _Known:
        now = self.timer()
        cached = self._users.get(user_id, now)
        if cached is not None:
            return cached
        try:
            answer = await self.client.users_info(user=user_id)
            user: dict[str, Any] | None = answer.get("user")
        except Exception as exc:  # an API error or an outage: carry on with what the request says
            log.warning("users.info failed for %s: %s", user_id, _reason(exc))
            user = None
        known = _Known.of(user)
        # A failure is cached briefly too, so an outage does not cost a call per request.
        self._users.put(user_id, known, now, now + (self.user_ttl if user else min(self.user_ttl, 30.0)))
        return known

    async def _members(
        self, group_id: str, team: str | None = None, *, again: bool = False
    ) -> frozenset[str] | None:
        """The members of a user group, None when Slack would not list them (remembered as long
        as a listing is, so an outage does not cost a call per request; ``again``: asked anew);
        ``team``: the workspace to list it in (an org token)."""
        now = self.timer()
        key = f"{group_id}@{team}" if team else group_id
        cached = self._groups.get(key, now)
        if cached is not None and (cached[0] or not again):
            return cached[1] if cached[0] else None
        listed: frozenset[str] | None
        try:
            answer = await self.client.usergroups_users_list(usergroup=group_id, team_id=team)
            listed = frozenset(answer.get("users") or ())
        except Exception as exc:
            if team and _reason(exc) == "no_such_subteam":  # a group of another workspace
                listed = frozenset()
            else:
                log.warning("usergroups.users.list failed for %s: %s", key, _reason(exc))
                listed = None
        self._groups.put(key, (listed is not None, listed or frozenset()), now, now + self.group_ttl)
        return listed


@dataclass(frozen=True, slots=True)
class _Known:
    """What copbot keeps of a Slack user: the name it shows (None: the request's) and rights."""

    name: str | None
    is_admin: bool
    teams: tuple[str, ...] = ()  # the workspaces they belong to (all of them, in a Grid organisation)

    @classmethod
    def of(cls, user: dict[str, Any] | None) -> _Known:
        """From ``users.info``'s user object (None when the lookup failed)."""
        user = user or {}
        profile = user.get("profile") or {}
        names = (
            profile.get("display_name"),
            profile.get("real_name"),
            user.get("real_name"),
            user.get("name"),
        )
        name = next((_spaced(n) for n in names if _spaced(n)), None)
        grid = user.get("enterprise_user") or {}
        teams = tuple(str(t) for t in grid.get("teams") or [user.get("team_id")] if t)
        return cls(
            name[:MAX_NAME] if name else None, bool(user.get("is_admin") or user.get("is_owner")), teams
        )


class _Recent(Generic[V]):
    """Up to ``capacity`` keys, each with an expiry: the least recently used dropped first, and
    the expired ones at the old end dropped as new ones come."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str, now: float) -> V | None:
        """The value of ``key`` if it has not expired by ``now``."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: str, value: V, now: float, expires: float) -> None:
        """Remember ``value`` for ``key`` until ``expires``."""
        self._entries[key] = (expires, value)
        self._entries.move_to_end(key)
        while self._entries:
            oldest_expires, _ = next(iter(self._entries.values()))
            if oldest_expires > now and len(self._entries) <= self.capacity:
                break
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def _spaced(text: object) -> str:
    """A name with its runs of white space made single spaces ('' for none)."""
    return " ".join(str(text).split()) if text else ""


def _reason(exc: Exception) -> str:
    """Slack's error code for an API error, else the exception's type (never a token)."""
    response = getattr(exc, "response", None)
    try:
        return str(response["error"]) if response is not None else type(exc).__name__
    except (KeyError, TypeError):
        return type(exc).__name__
