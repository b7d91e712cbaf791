"""When copbot is removed from a community, and when it comes back.

Discord says so with GUILD_DELETE (:class:`bot.discord.client.CopClient`), or, when copbot was
removed while away, by no longer listing a server it was in when a shard is ready after a start or
a new session (:mod:`bot.discord.guilds`);
Slack with the
``app_uninstalled`` and ``tokens_revoked`` events (:mod:`bot.slack.events`), or, when those were
missed, by refusing copbot's token (:class:`bot.outbound.Revoked`, met by the sweep or a post).
Either way the community is recorded as gone and its pending submissions are closed
(:mod:`storage.departures`), with one log line the first time. Adding copbot again clears it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from storage import departures
from storage.store import Store

log = logging.getLogger("copbot.departures")

# What a reminder's history says when its community removed copbot (after "could not be reached: ").
REMOVED = "copbot was removed from the community"

# Told, in this process, each time copbot is found removed from a community (platform, community
# id, why) or back in one (why None): a front end serving only that community stops being ready.
WATCHERS: list[Callable[[str, str, str | None], None]] = []


def _tell(platform: str, community_id: str, why: str | None) -> None:
    for watcher in list(WATCHERS):
        watcher(platform, community_id, why)


async def community_left(
    store: Store, platform: str, community_id: str, now: datetime, why: str, *, level: int = logging.WARNING
) -> bool:
    """Record that copbot was removed from a community (``why``: how the platform said so) and
    close its pending submissions; logs once, at ``level``. True the first time."""
    first = await departures.mark_left(store, platform, community_id, now)
    _tell(platform, community_id, why)
    closed = await departures.close_submissions(store, {platform: community_id}, now)
    if first:
        log.log(
            level,
            "%s: copbot can no longer reach %s community %s. Its claims expire once their reminder "
            "is due (stale, then the grace period); %d pending submission(s) closed, so the same "
            "work can be submitted elsewhere. Adding copbot again brings the community back.",
            why,
            platform,
            community_id,
            len(closed),
        )
    elif closed:
        log.info("closed %d pending submission(s) of %s community %s", len(closed), platform, community_id)
    return first


async def community_back(store: Store, platform: str, community_id: str) -> bool:
    """copbot is in the community (again): no longer gone. True when it was recorded as gone."""
    _tell(platform, community_id, None)
    if back := await departures.mark_back(store, platform, community_id):
        log.info("copbot is back in %s community %s; it is served again", platform, community_id)
    return back
