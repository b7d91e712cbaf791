"""Who a Slack user is: display name, admin rights, moderators by id or user group, cached."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.people import Directory
from commands.types import Context
from tests.bot.slack.slack_rig import ANN, BOB, running
from tests.bot.slack.slack_rig import TOKEN as RIG_TOKEN
from tests.fakes.slack_api import FakeSlack

TOKEN = "xoxb-people"


class Timer:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_names_rights_and_moderators() -> None:
    async with FakeSlack(tokens={TOKEN}) as fake:
        fake.add_user("U0ANN", "ann", display_name="", real_name="Ann Lee")
        fake.add_user("U0BOB", "bob", display_name="Bobby")
        fake.add_user("U0CAT", "cat", is_owner=True)
        fake.add_user("U0DAN", "dan")
        fake.add_usergroup("S0MODS", ["U0BOB"])
        client = AsyncWebClient(base_url=fake.api_url, token=TOKEN)
        people = Directory(client, {"S0MODS", "U0DAN", "S0GONE"})

        ann = await people.actor("T1", "U0ANN", "ann-handle")
        bob = await people.actor("T1", "U0BOB")
        cat = await people.actor("T1", "U0CAT")
        dan = await people.actor("T1", "U0DAN")

    assert (ann.platform, ann.community_id, ann.user_id, ann.display_name) == (
        "slack",
        "T1",
        "U0ANN",
        "Ann Lee",
    )
    assert (bob.display_name, bob.is_moderator, bob.is_admin) == ("Bobby", True, False)
    assert (cat.is_moderator, cat.is_admin) == (False, True)
    assert (dan.is_moderator, dan.is_admin) == (True, False)
    assert not ann.is_moderator


async def test_lookups_are_cached_and_failures_fall_back_to_the_request() -> None:
    async with FakeSlack(tokens={TOKEN}) as fake:
        fake.add_user("U0BOB", "bob")
        fake.add_usergroup("S0MODS", [])
        timer = Timer()
        people = Directory(
            AsyncWebClient(base_url=fake.api_url, token=TOKEN), {"S0MODS"}, group_ttl=60, timer=timer
        )

        for _ in range(3):
            await people.actor("T1", "U0BOB")
        fake.add_usergroup("S0MODS", ["U0BOB"])
        still_cached = await people.actor("T1", "U0BOB")
        timer.now += 61
        refreshed = await people.actor("T1", "U0BOB")
        fake.fail_method("users.info", "user_not_found")
        stranger = await people.actor("T1", "U0EXT", "ext-person")

        assert len(fake.calls_to("users.info")) == 2  # bob once, the stranger once
        assert len(fake.calls_to("usergroups.users.list")) == 2

    assert not still_cached.is_moderator and refreshed.is_moderator
    assert (stranger.display_name, stranger.is_admin, stranger.is_moderator) == ("ext-person", False, False)


async def test_many_passers_by_leave_the_cache_bounded_and_a_regular_is_still_named() -> None:
    """300 people drop by, one a second, with room for 50: at most 50 are remembered, and Ann, a
    regular among them, stays cached (one lookup). After ten quiet minutes the next newcomer
    finds every expired entry dropped; Ann, back then, is looked up again and named as before."""
    async with FakeSlack(tokens={TOKEN}) as fake:
        fake.add_user("U0ANN", "ann", display_name="", real_name="Ann  Lee", is_admin=True)
        timer = Timer()
        people = Directory(AsyncWebClient(base_url=fake.api_url, token=TOKEN), timer=timer, capacity=50)

        sizes, regular = [], []
        for i in range(300):
            if i % 10 == 0:
                regular.append(await people.actor("T1", "U0ANN", "ann-handle"))
            passer = await people.actor("T1", f"U{i:08d}", "someone")
            assert passer.display_name == f"u{i:08d}"  # the fake's display name: looked up
            sizes.append(people.remembered)
            timer.now += 1.0
        assert max(sizes) == 50
        assert len(fake.calls_to("users.info")) == 301  # each passer-by once, Ann once

        timer.now += 600
        await people.actor("T1", "U0NEW")
        assert people.remembered == 1
        back = await people.actor("T1", "U0ANN", "ann-handle")
        assert len(fake.calls_to("users.info")) == 303

    assert {(a.display_name, a.is_admin) for a in regular} == {("Ann Lee", True)}
    assert (back.display_name, back.is_admin, back.is_moderator) == ("Ann Lee", True, False)


async def test_a_renamed_member_shows_under_the_new_name_once_they_use_any_command(
    fake: FakeSlack, ctx: Context
) -> None:
    """Ann claims 1.5, then changes her display name to Annie and presses nothing but /random:
    Bob's card and /history of 1.5 name Annie (names are looked up afresh after a while; here
    at every request)."""
    people = Directory(AsyncWebClient(base_url=fake.api_url, token=RIG_TOKEN), user_ttl=0)
    async with running(fake, ctx, directory=people) as rig:
        await rig.command("/claim", "1.5")
        fake.add_user(ANN, "ann", display_name="Annie")
        await rig.command("/random")
        card = await rig.command("/problem", "1.5", user=BOB)
        history = await rig.command("/history", "1.5", user=BOB)
    for answer in (card, history):
        assert "Annie" in answer.shown and "ann " not in answer.shown, answer.shown


async def test_a_name_slack_could_not_look_up_is_not_stored_over_the_real_one(
    fake: FakeSlack, ctx: Context
) -> None:
    """users.info failing, copbot knows Ann only by her handle for that request: her claim keeps
    showing the display name Slack gave before."""
    people = Directory(AsyncWebClient(base_url=fake.api_url, token=RIG_TOKEN), user_ttl=0)
    fake.add_user(ANN, "ann", display_name="Ann Lee")
    async with running(fake, ctx, directory=people) as rig:
        await rig.command("/claim", "1.5")
        fake.fail_method("users.info", "user_not_found", times=1)
        await rig.command("/random", user_name="ann.handle")
        card = await rig.command("/problem", "1.5", user=BOB)
    assert "Ann Lee" in card.shown and "ann.handle" not in card.shown, card.shown
