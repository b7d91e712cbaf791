"""Who a Slack user is to copbot: name, admin and moderator rights, looked up and cached."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from commands.types import Actor

log = logging.getLogger("copbot.slack")

PLATFORM = "slack"
MAX_NAME = 80


class Directory:
    """Turns Slack user ids into :class:`Actor` s through ``users.info`` and user groups.

    ``moderator_ids`` holds user ids and user-group ids (``S…``); a member of a listed group
    is a moderator. Answers are cached (users for ``user_ttl`` seconds, group members for
    ``group_ttl``) so a busy channel costs few API calls; a failed lookup falls back to the
    name Slack sent with the request and no rights.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        moderator_ids: Iterable[str] = (),
        *,
        user_ttl: float = 600.0,
        group_ttl: float = 60.0,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        """Look people up with ``client``."""
        self.client = client
        self.moderator_ids = frozenset(moderator_ids)
        self.user_ttl, self.group_ttl = user_ttl, group_ttl
        self.timer = timer
        self._users: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    async def actor(self, team_id: str, user_id: str, fallback_name: str = "") -> Actor:
        """The actor behind ``user_id`` in workspace ``team_id``."""
        user = await self._user(user_id)
        profile = (user or {}).get("profile") or {}
        names = (
            profile.get("display_name"),
            profile.get("real_name"),
            (user or {}).get("real_name"),
            (user or {}).get("name"),
            fallback_name,
            user_id,
        )
        name = next(" ".join(str(n).split()) for n in names if n and str(n).strip())
        return Actor(
            platform=PLATFORM,
            community_id=team_id,
            user_id=user_id,
            display_name=name[:MAX_NAME],
            is_moderator=await self.is_moderator(user_id),
            is_admin=bool(user and (user.get("is_admin") or user.get("is_owner"))),
        )

    async def is_moderator(self, user_id: str) -> bool:
        """Whether the user, or a user group they belong to, is listed in SLACK_MODERATORS."""
        if user_id in self.moderator_ids:
            return True
        for group_id in sorted(i for i in self.moderator_ids if i.startswith("S")):
            if user_id in await self._members(group_id):
                return True
        return False

    async def _user(self, user_id: str) -> dict[str, Any] | None:
        now = self.timer()
        cached = self._users.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            answer = await self.client.users_info(user=user_id)
            user: dict[str, Any] | None = answer.get("user")
        except Exception as exc:  # an API error or an outage: carry on with what the request says
            log.warning("users.info failed for %s: %s", user_id, _reason(exc))
            user = None
        # A failure is cached briefly too, so an outage does not cost a call per request.
        self._users[user_id] = (now + (self.user_ttl if user else min(self.user_ttl, 30.0)), user)
        return user

    async def _members(self, group_id: str) -> frozenset[str]:
        now = self.timer()
        cached = self._groups.get(group_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            answer = await self.client.usergroups_users_list(usergroup=group_id)
            members = frozenset(answer.get("users") or ())
        except Exception as exc:
            log.warning("usergroups.users.list failed for %s: %s", group_id, _reason(exc))
            members = frozenset()
        self._groups[group_id] = (now + self.group_ttl, members)
        return members


def _reason(exc: Exception) -> str:
    """Slack's error code for an API error, else the exception's type (never a token)."""
    response = getattr(exc, "response", None)
    try:
        return str(response["error"]) if response is not None else type(exc).__name__
    except (KeyError, TypeError):
        return type(exc).__name__
