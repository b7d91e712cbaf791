"""/setup show only shows: given with a setting to change, it is refused and nothing is saved."""

from __future__ import annotations

from commands.types import Context
from tests.support.transcript import person, say, shown

BOSS = person("boss", admin=True)


async def test_show_with_a_change_is_refused_and_saves_nothing(ctx: Context) -> None:
    """`/setup show stale_days:5` saved stale_days (and answered "Settings saved.") though show
    says "only show the current settings": now the admin is told to pick one, and the settings
    are as they were."""
    await say(ctx, BOSS, "/setup stale_days:10")
    for line in (
        "/setup show stale_days:5",
        "/setup show:true reset:stale_days",
        "/setup stale_days:5 max_claims:2 show",
    ):
        refused = await say(ctx, BOSS, line)
        assert refused.error, line
        assert refused.text.startswith("show only shows the settings and changes nothing"), refused.text
        assert "give show alone to look, or leave it out to save" in refused.text
    assert "stale_days and max_claims would change them" in refused.text
    row = await ctx.store.get_settings("discord", "guild1")
    assert row is not None and (row.stale_after_days, row.max_claims) == (10, None)
    assert "Stale after: 10 days" in await shown(ctx, BOSS, "/setup show")
    # show:no is no show: the change is saved as without it.
    assert "Settings saved." in await shown(ctx, BOSS, "/setup show:no stale_days:5")
