"""/setup: a community's settings, for its admins."""

from __future__ import annotations

from datetime import datetime, timedelta

from commands.parser import Kind, Option
from commands.submissions import refused_posts, refused_posts_section
from commands.timefmt import days
from commands.types import BadArgument, Context, Reply, ReplyField, Request
from storage.models import ClaimState, CommunitySettings

MAX_CLAIMS = 200  # the largest /setup max_claims (more than the catalogue holds)
# What /setup reset:NAME clears, by option → column (NULL): a channel or role is unset, a number
# follows the operator's default again (STALE_AFTER_DAYS, MAX_CLAIMS). In the options' order.
RESETTABLE = {
    "moderator_channel": "moderator_channel_id",
    "moderator_role": "moderator_role_id",
    "reminder_channel": "reminder_channel_id",
    "stale_days": "stale_after_days",
    "max_claims": "max_claims",
}
# What now happens without a setting once reset cleared it ({rights}: who moderates without the
# role; {grace}: STALE_GRACE_DAYS); the numbers say "(default)" in the fields instead.
CLEARED = {
    "moderator_channel": "The moderator channel is cleared: new submissions wait, unposted, until one "
    "is set again with /setup; moderators find them in /pending and can decide them there. Those "
    "already posted stay in the old channel until then, and move to the new one.",
    "moderator_role": "The moderator role is cleared: only {rights} moderate submissions now.",
    "reminder_channel": "The reminder channel is cleared: reminders go by DM only. A member whose DMs "
    "are closed cannot be reminded: their claim's history says so, and the claim expires {grace} "
    "after the reminder was due, at the end of that day (UTC).",
}
# What reset answers when there was nothing to clear.
NOT_SET = {
    "moderator_channel": "No moderator channel was set: nothing to clear.",
    "moderator_role": "No moderator role was set: nothing to clear.",
    "reminder_channel": "No reminder channel was set: nothing to clear.",
    "stale_days": "stale_days already follows the default: nothing to reset.",
    "max_claims": "max_claims already follows the default: nothing to reset.",
}
# Who moderates without a moderator role, on each platform with /setup: the rights that make a
# member a moderator there by themselves (bot.discord.people).
MODERATOR_RIGHTS = {"discord": "members with Manage Messages or Administrator"}
OTHER_MODERATORS = "members whose own rights make them moderators"

SETUP_OPTIONS = (
    Option("show", Kind.FLAG, "only show the current settings"),
    Option("moderator_channel", Kind.CHANNEL, "where submissions go for review"),
    Option("moderator_role", Kind.ROLE, "who may approve or reject submissions"),
    Option("reminder_channel", Kind.CHANNEL, "where reminders go when a DM fails"),
    Option("stale_days", Kind.PAGE, "days without news before a claim is stale", maximum=365),
    Option(
        "max_claims",
        Kind.PAGE,
        "the most open claims a member may hold here (0: no limit)",
        minimum=0,
        maximum=MAX_CLAIMS,
    ),
    Option(
        "reset",
        Kind.CHOICE,
        "a setting to clear: a channel or role unset, a number back to the operator's default",
        choices=tuple(RESETTABLE),
    ),
)


def _max_claims(own: int | None, default: int | None) -> str:
    """How /setup shows the cap on a member's open claims: the community's own, else the default."""
    limit, suffix = (own, "") if own is not None else (default, " (default)")
    return (f"{limit} a member" if limit else "no limit") + suffix


async def _due_now(
    ctx: Context, platform: str, community: str, now: datetime, row: CommunitySettings | None
) -> str:
    """After stale days changed: how many active claims here the next sweep turns stale and
    reminds their claimants of (a lower setting may remind many members at once), and how many
    are stale already (a higher setting does not make them fresh again), or ""."""
    quiet = row.stale_after_days if row and row.stale_after_days else ctx.stale_after_days
    limit = now - timedelta(days=quiet)
    due = await ctx.store.count_claims(platform, community, ClaimState.ACTIVE, limit)
    stale = await ctx.store.count_claims(platform, community, ClaimState.STALE)
    notes = []
    if due == 1:
        notes.append(
            f"1 open claim here has had no news for more than {days(quiet)}: it turns stale at the "
            "next sweep, and its claimant gets a reminder."
        )
    elif due:
        notes.append(
            f"{due} open claims here have had no news for more than {days(quiet)}: they turn stale at "
            "the next sweep, and their claimants get a reminder."
        )
    if stale:
        if stale == 1:
            notes.append(
                "1 claim here is stale already, reminded under the old setting: it stays stale, and "
                "expires as its reminder said unless renewed."
            )
        else:
            notes.append(
                f"{stale} claims here are stale already, reminded under the old setting: they stay "
                "stale, and each expires as its reminder said unless renewed."
            )
    return " ".join(notes)


async def _over_cap(ctx: Context, platform: str, community: str, row: CommunitySettings | None) -> str:
    """After max_claims changed (or was reset): how many members here already hold more open
    claims than the cap now allows (they keep them, but cannot claim another), or ""."""
    cap = row.max_claims if row and row.max_claims is not None else ctx.max_claims
    if not cap:
        return ""
    over = await ctx.store.members_over_cap(platform, community, cap)
    if not over:
        return ""
    who = "1 member here already holds" if over == 1 else f"{over} members here already hold"
    return (
        f"{who} more than {cap} open {'claim' if cap == 1 else 'claims'}: they keep them and may "
        f"renew them, but cannot claim another until they hold {'none' if cap == 1 else f'fewer than {cap}'}."
    )


def _refuse_fixed(fixed: dict[str, tuple[str, ReplyField]], request: Request) -> None:
    """Refuse a change, or reset, of an option this platform takes from copbot's own settings:
    saved, it would change nothing here."""
    asked = [option for option in fixed if option in request.args or request.args.get("reset") == option]
    if not asked:
        return
    option = asked[0]
    settable = [o.name for o in SETUP_OPTIONS if o.name in RESETTABLE and o.name not in fixed]
    raise BadArgument(
        f"{option} is not set with /setup here: copbot takes it from its {fixed[option][0]} setting, "
        f"which whoever runs copbot changes. /setup here changes {_listed(settable)}."
    )


async def setup_command(ctx: Context, request: Request) -> Reply:
    """/setup [options]: change the given settings, then show them all."""
    actor = request.actor
    fixed = ctx.fixed_settings.get(actor.platform, {})
    _refuse_fixed(fixed, request)
    changes: dict[str, object] = {}
    for key, column in (
        ("moderator_channel", "moderator_channel_id"),
        ("moderator_role", "moderator_role_id"),
        ("reminder_channel", "reminder_channel_id"),
    ):
        if key in request.args:
            changes[column] = request.args[key]
    if "stale_days" in request.args:  # within its option's bounds: the parser checked them
        changes["stale_after_days"] = request.args["stale_days"]
    if "max_claims" in request.args:  # 0 is kept: no limit here, whatever MAX_CLAIMS says
        changes["max_claims"] = request.args["max_claims"]
    if request.args.get("show") is True and (changes or "reset" in request.args):
        # "only show" with a change as well: saving it would do what the admin said not to do.
        asked = [key for key in request.args if key != "show"]
        raise BadArgument(
            f"show only shows the settings and changes nothing, and {_listed(asked)} would change them: "
            "give show alone to look, or leave it out to save."
        )
    note = ""
    if (reset := request.args.get("reset")) is not None:
        if reset in request.args:
            raise BadArgument(f"{reset} is both set and reset: give one of them")
        column = RESETTABLE[reset]
        before = await ctx.store.get_settings(actor.platform, actor.community_id)
        if before is None or getattr(before, column) is None:
            note = NOT_SET[reset]
        else:
            changes[column] = None
            rights = MODERATOR_RIGHTS.get(actor.platform, OTHER_MODERATORS)
            note = CLEARED.get(reset, "").format(rights=rights, grace=days(ctx.stale_grace_days))
    now = ctx.clock()
    row: CommunitySettings | None
    if changes:
        row = await ctx.store.update_settings(actor.platform, actor.community_id, now, **changes)
        if ctx.effects:
            await ctx.effects.settings_changed(actor.platform, actor.community_id)
    else:
        row = await ctx.store.get_settings(actor.platform, actor.community_id)
        if ctx.effects and any(
            link.mod_retry_at for link in await refused_posts(ctx, actor.platform, actor.community_id)
        ):
            # The moderator channel refused copbot's posts: an admin looking may just have mended
            # it, so what waits is tried now rather than at its time (see bot.moderation).
            await ctx.effects.settings_changed(actor.platform, actor.community_id)

    def show(option: str, name: str, kind: str, value: str | None) -> ReplyField:
        if option in fixed:  # what copbot's own setting holds, as the platform shows it
            return fixed[option][1]
        if not value:
            return ReplyField(name, "not set")
        return ReplyField(name, f"{kind} {value}", ref=(kind, value))

    stale_days = row.stale_after_days if row and row.stale_after_days else None
    fields = (
        show("moderator_channel", "Moderator channel", "channel", row.moderator_channel_id if row else None),
        show("moderator_role", "Moderator role", "role", row.moderator_role_id if row else None),
        show("reminder_channel", "Reminder channel", "channel", row.reminder_channel_id if row else None),
        ReplyField(
            "Stale after", days(stale_days) if stale_days else f"{days(ctx.stale_after_days)} (default)"
        ),
        # Not a /setup option (the operator's STALE_GRACE_DAYS), shown so admins know what follows.
        ReplyField(
            "Expires",
            f"{days(ctx.stale_grace_days)} after an unanswered reminder, at the end of that day (UTC)",
        ),
        ReplyField("Max open claims", _max_claims(row.max_claims if row else None, ctx.max_claims)),
    )
    if "stale_after_days" in changes:
        note = " ".join((note, await _due_now(ctx, actor.platform, actor.community_id, now, row))).strip()
    if "max_claims" in changes:
        note = " ".join((note, await _over_cap(ctx, actor.platform, actor.community_id, row))).strip()
    if changes:
        text = " ".join(("Settings saved.", note)).strip()
    else:
        text = note or "Current settings."
    # Moderator posts the platform refused: what only an admin can mend, said where they look.
    attention = await refused_posts_section(ctx, actor.platform, actor.community_id)
    footer = None
    if fixed:
        shown = [held[1].name for held in fixed.values()]
        named = ", ".join(held[0] for held in fixed.values())
        footer = (
            f"{_listed(shown)} come from copbot's own settings here ({named}): whoever runs "
            "copbot changes them."
        )
    return Reply(
        title="copbot settings",
        text=text,
        fields=fields,
        sections=(attention,) if attention else (),
        footer=footer,
        private=True,
    )


def _listed(names: list[str]) -> str:
    """``["A", "B", "C"]`` → ``"A, B and C"``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
