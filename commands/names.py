"""A renamed member's stored name brought up to date by whatever they do with copbot."""

from __future__ import annotations

import logging

from commands.types import Actor, Context

log = logging.getLogger("copbot.commands")


async def refresh_name(ctx: Context, actor: Actor) -> None:
    """Show a renamed member under their new name everywhere from now on (their cards, lists,
    history and moderator posts, the decisions they made): see Store.refresh_name. Run before
    every command, button press and form, and before a moderator's ✅ / ❌ decides, with the name
    the platform's event already carries (no call of its own). Not from a direct message (a
    Discord DM knows only the account's name, not a server's nickname), nor under a stand-in
    name; a failure here leaves the names as they were and what the member did goes on."""
    if actor.direct or not actor.named:
        return
    try:
        await ctx.store.refresh_name(actor.person)
    except Exception:
        log.warning("could not refresh the stored name of %s", actor.user_id, exc_info=True)
