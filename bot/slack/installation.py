"""Which Slack install copbot is: its bot's Web API client and people, the community every
request is attributed to, and its bot user."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.people import Directory

log = logging.getLogger("copbot.slack")


def installed_community(identity: Any) -> str | None:
    """The community of the install that ``auth.test`` describes: its workspace's team id, or
    for an organisation-wide Enterprise Grid install (which has no one workspace) the
    organisation's enterprise id."""
    enterprise = identity.get("enterprise_id")
    if identity.get("is_enterprise_install") and enterprise:
        return str(enterprise)
    team = identity.get("team_id") or enterprise
    return str(team) if team else None


class Installation:
    """The installed workspace: the ``client`` copbot calls it with, the ``directory`` of its
    people (who is a moderator), and the community and copbot's user in it, as ``auth.test``
    told at start."""

    def __init__(self, client: AsyncWebClient, directory: Directory) -> None:
        """The community and bot user are unknown until :meth:`learn`."""
        self.client, self.directory = client, directory
        self.bot_user_id: str | None = None
        # The community every request is attributed to: the installed workspace (auth.test at
        # start), whatever team a request names; see community.
        self.community_id: str | None = None

    def learn(self, identity: Any) -> None:
        """Take the install's community and bot user from ``auth.test``'s answer."""
        self.community_id = installed_community(identity)
        self.directory.org_wide = bool(identity.get("is_enterprise_install"))
        log.info("Slack bot %s in workspace %s", identity.get("user_id"), self.community_id)
        self.bot_user_id = identity.get("user_id")

    def community(self, team_id: object) -> str:
        """The community of a request that names ``team_id``: the installed workspace's.

        One install is one community, with one moderator channel and one set of moderators.
        Slack names another team in requests from the same install: a user's own workspace in
        a Slack Connect channel, another workspace of an Enterprise Grid organisation in a
        channel shared between them. Keyed by that team, a submission was posted to the
        moderators but theirs to decide nowhere, and a member's claims split in two. The
        request's team serves only before ``start`` has asked Slack (never, in service).
        """
        return self.community_id or str(team_id or "")
