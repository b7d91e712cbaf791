"""Which communities' claims and submissions one process sends for.

A Discord bot is one application in many servers: every process of it (replicas splitting
shards) can reach every server, so each serves all of them. A Slack install is one workspace (or
one Enterprise Grid organisation) with its own token, and several copbots, one per install, may
share a database: each may send only to its own community. A :data:`Scope` says so per platform:
``None`` for all of its communities, else the one community this process serves.

Each Slack copbot records its community (a settings row) when it starts. Claims kept under a
Slack community that no copbot has recorded (an older copbot stored a shared channel's claim
under the other workspace's id, or an org-wide install's under each workspace's) are nobody
else's, so any Slack copbot may remind them, once (the sweep's updates are guarded); so are
those of a community that removed copbot, whose reminders are sent nowhere. Submissions are only
ever their own community's: another's cannot be decided by this one's moderators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from storage.models import CommunitySettings

# Platform → the community this process serves there, or None for all of the platform's.
Scope = Mapping[str, str | None]


def as_scope(platforms: Sequence[str] | Scope) -> dict[str, str | None]:
    """A scope from a scope, or from platform names (all of each platform's communities)."""
    if isinstance(platforms, Mapping):
        return dict(platforms)
    return dict.fromkeys(platforms)


def served(platform: Any, community: Any, platforms: Sequence[str] | Scope) -> sa.ColumnElement[bool]:
    """The rows (by their ``platform`` and ``community`` columns) this process sends for: each
    platform's own community only, where it serves one."""
    conditions = [
        sa.and_(platform == name, *([] if own is None else [community == own]))
        for name, own in as_scope(platforms).items()
    ]
    return sa.or_(sa.false(), *conditions)


def claims_served(platform: Any, community: Any, platforms: Sequence[str] | Scope) -> sa.ColumnElement[bool]:
    """The claims this process reminds: as :func:`served`, and where it serves one community,
    also those of a community no other copbot serves (none recorded it, or it removed copbot)."""
    conditions = []
    for name, own in as_scope(platforms).items():
        if own is None:
            conditions.append(platform == name)
            continue
        others = select(CommunitySettings.community_id).where(
            col(CommunitySettings.platform) == name,
            col(CommunitySettings.left_at).is_(None),
            col(CommunitySettings.community_id) != own,
        )
        conditions.append(sa.and_(platform == name, community.not_in(others)))
    return sa.or_(sa.false(), *conditions)
