"""**Reject with reason** on Slack: a modal asks for the reason, its submission rejects.

The button (``cop:reject:<link id>``) opens the modal with ``views.open``; the modal's
``private_metadata`` carries the link id and the button's response_url, so the answer to the
submission reaches the moderator the same way a button's answer does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.slack import render
from commands.submissions import MAX_REASON, clean_reason
from commands.types import Link
from storage.models import WorkLink

CALLBACK_ID = "cop_reject_reason"
BLOCK_ID = "reason"
ACTION_ID = "reason"
MAX_METADATA = 3000  # Slack's limit on private_metadata
MAX_TEXT = 3000


@dataclass(frozen=True)
class Pending:
    """What the modal remembers between opening and submission."""

    link_id: int
    response_url: str | None = None
    # Opened from a /pending list, which the rejection brings up to date by ``response_url``.
    listed: bool = False

    def dump(self) -> str:
        """As ``private_metadata``."""
        data: dict[str, Any] = {"link": self.link_id}
        if self.response_url:
            data["response_url"] = self.response_url
            if self.listed:
                data["listed"] = True
        text = json.dumps(data, separators=(",", ":"))
        return text if len(text) <= MAX_METADATA else json.dumps({"link": self.link_id})

    @classmethod
    def load(cls, metadata: str) -> Pending | None:
        """Read ``private_metadata`` back; None when it is not ours."""
        try:
            data = json.loads(metadata or "")
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("link"), int):
            return None
        url = data.get("response_url")
        return cls(data["link"], url if isinstance(url, str) and url else None, data.get("listed") is True)


def reject_view(link: WorkLink, pending: Pending) -> dict[str, Any]:
    """The modal: what is being rejected, and a required reason shown to the submitter."""
    about = render.fit(
        f"Rejecting the link for {render.escape(link.problem_number)} from "
        f"{render.inert(link.display_name)}:",
        MAX_TEXT,
    )
    # The link in a block of its own, so that it always has the room to show whole.
    shown = render.link(Link(link.url, link.url), MAX_TEXT)
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": pending.dump(),
        "title": {"type": "plain_text", "text": "Reject submission"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": about, "verbatim": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": shown, "verbatim": True}},
            {
                "type": "input",
                "block_id": BLOCK_ID,
                "label": {"type": "plain_text", "text": "Reason (the submitter sees it)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": ACTION_ID,
                    "multiline": True,
                    "min_length": 2,  # as Discord's form: a reason is a few words, not a key pressed
                    "max_length": MAX_REASON,
                },
            },
        ],
    }


def submitted_reason(view: dict[str, Any]) -> str:
    """The reason typed into the modal, cleaned as the core keeps it ('' when nothing visible is left)."""
    values = (view.get("state") or {}).get("values") or {}
    state = (values.get(BLOCK_ID) or {}).get(ACTION_ID) or {}
    return clean_reason(str(state.get("value") or ""))
