"""Who a Slack user is: display name, admin rights, moderators by id or user group, cached."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.people import Directory
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
