"""Events API: one table from event type to handler, and the de-duplication every event gets.

To handle another event, write ``async def on_x(event: SlackEvent) -> None``, add it to
:data:`EVENT_HANDLERS` (or call :func:`register_event`), and list the event under
``bot_events`` in ``slack/manifest.yml`` with the scope it needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from commands.types import Context


@dataclass(frozen=True)
class SlackEvent:
    """One delivered event: its envelope's ids, the event itself, and what handlers need."""

    ctx: Context
    client: AsyncWebClient
    team_id: str
    event_id: str
    event: dict[str, Any]

    @property
    def type(self) -> str:
        """``reaction_added``…"""
        return str(self.event.get("type", ""))


EventHandler = Callable[[SlackEvent], Awaitable[None]]


async def on_reaction_added(event: SlackEvent) -> None:
    """A reaction on a message copbot can see; reviews by reaction will hook in here."""


# The front end subscribes to each type listed when it is built; the handler itself is looked
# up when an event arrives.
EVENT_HANDLERS: dict[str, EventHandler] = {"reaction_added": on_reaction_added}


def register_event(event_type: str, handler: EventHandler) -> None:
    """Handle ``event_type`` with ``handler`` (the front end subscribes to each listed type)."""
    EVENT_HANDLERS[event_type] = handler


def dedup_key(event_id: str) -> str:
    """The processed-events key of a Slack event id."""
    return "slack:" + event_id
