"""One Slack install is one community, whatever team a request names.

Slack names the user's own team in a Slack Connect channel, and another workspace of the
organisation in an Enterprise Grid channel shared between workspaces. Those requests reach the
same install, with its one moderator channel and its moderators: what they store belongs to the
installed workspace (auth.test's team, or an org-wide install's enterprise).
"""

from __future__ import annotations

import pytest

from commands.types import Context
from tests.bot.slack import slack_rig
from tests.bot.slack.slack_rig import (
    ANN,
    BOB,
    MOD,
    MODS,
    SECRET,
    TOKEN,
    Answer,
    add_people,
    moderated,
    running,
)
from tests.fakes.slack_api import FakeSlack, SlackSender, reaction_event

LINK = "https://example.org/acronyms"
TWO = "T0TWO"  # another team than the installed one (T0FAKE)


def other_team(rig: slack_rig.Rig, team_id: str = TWO) -> SlackSender:
    """Slack sending this install's requests with another ``team_id`` in them."""
    return SlackSender(rig.slack.url, SECRET, fake=rig.fake, team_id=team_id)


async def test_a_submission_from_another_team_is_the_installed_moderators_to_decide(
    fake: FakeSlack, ctx: Context
) -> None:
    async with moderated(fake, ctx) as rig:
        async with other_team(rig) as two:
            await two.command("/submit", f"2.4 {LINK}", user_id=ANN)
            await rig.front.drain()
            await two.command("/submit", f"2.4 {LINK}/second", user_id=ANN)
            await rig.front.drain()
        first, second = rig.posts_in(MODS)[-2:]

        pending = await rig.command("/pending", user=MOD)
        approved = await rig.click(Answer.of(first), "Approve", MOD, channel=MODS, ts=first.ts)
        await rig.react(MOD, "x", second.ts)

        assert (
            f"2.4 #1: {LINK} from ann" in pending.shown and f"2.4 #2: {LINK}/second from ann" in pending.shown
        )
        assert "Approved 2.4 #" in approved.shown
        assert "Rejected by mod." in rig.current(MODS, second.ts).shown
        assert "Nothing is waiting for a decision." in (await rig.command("/pending", user=MOD)).shown
        assert LINK in (await rig.command("/problem", "2.4")).shown


async def test_a_reaction_delivered_with_another_team_decides(fake: FakeSlack, ctx: Context) -> None:
    """The event envelope names the team of the channel the reaction was in."""
    async with moderated(fake, ctx) as rig:
        await rig.command("/submit", f"2.4 {LINK}", user=ANN)
        post = rig.posts_in(MODS)[-1]

        async with other_team(rig) as two:
            await two.event(reaction_event(MOD, "white_check_mark", MODS, post.ts))
            await rig.front.drain()

        assert "Approved by mod." in rig.current(MODS, post.ts).shown


async def test_claims_from_another_team_are_the_members_own(fake: FakeSlack, ctx: Context) -> None:
    async with moderated(fake, ctx) as rig:
        async with other_team(rig) as two:
            await two.command("/claim", "3.11", user_id=ANN)
            await rig.front.drain()

        mine = await rig.command("/claims", user=ANN)
        again = await rig.command("/claim", "3.11", user=ANN)
        card = await rig.command("/problem", "3.11")
        released = await rig.command("/release", "3.11", user=ANN)

        assert mine.header == "Your open claims (1)" and "3.11 — " in mine.shown
        assert "You hold no open claims" not in mine.shown
        assert "made in another workspace" not in again.shown
        assert card.shown.count("• ann — ") == 1, card.shown
        assert "Released your claim on 3.11." in released.shown


@pytest.mark.parametrize("auth_team", ["E0ORG", ""], ids=["team-is-the-org", "no-team"])
async def test_an_org_wide_install_is_one_community_across_its_workspaces(
    ctx: Context, auth_team: str
) -> None:
    """Installed for a whole Enterprise Grid organisation, auth.test names no one workspace
    (the organisation's id as its team, or no team at all): what members do in any of its
    workspaces is one community's."""
    async with FakeSlack(tokens={TOKEN}, team_id=auth_team, enterprise_id="E0ORG", org_wide=True) as org:
        add_people(org)
        async with running(org, ctx) as rig, other_team(rig, "T0ONE") as one, other_team(rig) as two:
            await one.command("/claim", "3.11", user_id=ANN)
            await rig.front.drain()
            theirs = await two.command("/claims", user_id=ANN)

    assert "Your open claims (1)" in theirs.text, theirs.text


async def test_an_org_wide_install_knows_moderators_by_a_user_group_of_a_workspace(ctx: Context) -> None:
    """An org-wide install's token must name the workspace of a user group to list it: the
    group of SLACK_MODERATORS is found in its moderators' own workspaces, and they decide."""
    async with FakeSlack(tokens={TOKEN}, team_id="E0ORG", enterprise_id="E0ORG", org_wide=True) as org:
        add_people(org)
        org.add_user(MOD, "mod", team_id="T0ONE", teams=["T0TWO", "T0ONE"])
        org.add_user(BOB, "bob", team_id=TWO, teams=[TWO])
        org.add_usergroup("S0MODS", [MOD], team_id="T0ONE")
        async with moderated(org, ctx, slack_moderators="S0MODS") as rig, other_team(rig) as two:
            await two.command("/submit", f"2.4 {LINK}", user_id=ANN)
            await rig.front.drain()
            (post,) = rig.posts_in(MODS)

            pending = await rig.command("/pending", user=MOD)
            refused = await rig.command("/pending", user=BOB)
            await rig.react(BOB, "white_check_mark", post.ts)
            undecided = rig.current(MODS, post.ts).shown
            await rig.react(MOD, "white_check_mark", post.ts)

            assert f"2.4 #1: {LINK} from ann" in pending.shown, pending.shown
            assert "/pending is for moderators." in refused.shown
            assert "Approved by" not in undecided
            assert "Approved by mod." in rig.current(MODS, post.ts).shown
