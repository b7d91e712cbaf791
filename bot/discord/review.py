"""**Reject with reason** on Discord: a modal asks for the reason, its submission rejects.

The button (``cop:reject:<link id>``, ``cop:reject:<link id>.pending`` under /pending) answers
with a modal whose custom id is ``cop:rejectmodal:<link id>`` (``….pending`` likewise).
discord.py keeps a modal's callback only in the process that opened it, and routes modal
submissions by exact custom id (``add_dynamic_items`` covers message components, not modals).
So copbot never registers its modals: each one is stopped before it is sent, and the client's
``on_interaction`` routes every submission whose id matches :data:`MODAL_TEMPLATE` to the front
end. A form opened before a restart is submitted to the new process the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import discord

from bot.discord import render
from commands.submissions import LISTED, MAX_REASON, clean_reason
from commands.types import Link
from storage.models import WorkLink

# ``.pending`` after the id: opened from a /pending list (see commands.submissions.LISTED), which
# the rejection then brings up to date.
MODAL_TEMPLATE = r"cop:rejectmodal:(?P<link>[0-9]{1,18})(?P<listed>" + re.escape(LISTED) + ")?"
_MODAL_RE = re.compile(MODAL_TEMPLATE)
REASON_ID = "reason"
TITLE = "Reject submission"  # Discord: at most 45 characters
TEXT_MAX = 4000


def modal_id(link_id: int, listed: bool = False) -> str:
    """The custom id of the reason form for submission ``link_id`` (opened from /pending: ``listed``)."""
    return f"cop:rejectmodal:{link_id}{LISTED if listed else ''}"


def form_of(custom_id: str) -> tuple[int, bool] | None:
    """The submission a reason form is about and whether it was opened from /pending, or None
    when the id is not one of ours."""
    match = _MODAL_RE.fullmatch(custom_id)
    return (int(match["link"]), bool(match["listed"])) if match else None


def reject_modal(link: WorkLink, listed: bool = False) -> discord.ui.Modal:
    """The form: what is being rejected, and a required reason the submitter will read.

    It is stopped before it is returned, so sending it leaves no state in discord.py (see the
    module docstring).
    """
    assert link.id is not None
    about = render.clip(
        f"Rejecting the link for {render.escape(link.problem_number)} from "
        f"{render.escape(link.display_name)}:\n{render.link(Link(link.url, link.url))}",
        TEXT_MAX,
    )
    modal = discord.ui.Modal(title=TITLE, custom_id=modal_id(link.id, listed), timeout=None)
    modal.add_item(discord.ui.TextDisplay(about))
    modal.add_item(
        discord.ui.Label(
            text="Reason (the submitter sees it)",
            component=discord.ui.TextInput(
                custom_id=REASON_ID,
                style=discord.TextStyle.paragraph,
                required=True,
                min_length=2,
                max_length=MAX_REASON,
            ),
        )
    )
    modal.stop()
    return modal


def submitted_reason(data: Mapping[str, Any] | None) -> str:
    """The reason typed into the form, cleaned as the core keeps it ('' when nothing visible is left)."""

    def walk(components: Any) -> str | None:
        for component in components if isinstance(components, list) else []:
            if not isinstance(component, dict):
                continue
            if component.get("custom_id") == REASON_ID and isinstance(component.get("value"), str):
                return str(component["value"])
            found = walk(component.get("components")) or walk([component.get("component")])
            if found is not None:
                return found
        return None

    return clean_reason(walk((data or {}).get("components")) or "")
