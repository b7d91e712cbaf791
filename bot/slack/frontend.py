"""The Slack front end: slash commands, buttons and events through slack-bolt's AsyncApp.

HTTP mode serves ``/slack/events`` (commands, interactivity and events on one path) on
``BIND_HOST:SLACK_PORT``; Socket Mode is used instead when ``SLACK_APP_TOKEN`` is set
(:mod:`bot.slack.app`). Bolt runs with ``process_before_response=True``: a listener finishes
before Slack gets its answer, so a command whose reply is ready within ``answer_within`` seconds
is answered in the ack itself (one round trip), and a slower one is acked empty and answered
through its response_url (:mod:`bot.slack.answers`).

:class:`SlackFrontEnd` starts and stops the app and wires it to its parts:
:mod:`bot.slack.interactions` answers slash commands, buttons and the reject-reason modal
(:mod:`bot.slack.review`); :mod:`bot.slack.delivery` applies events once each through
:mod:`bot.slack.events`, which decides submissions by ✅ / ❌ reactions in
``SLACK_MODERATOR_CHANNEL``, posts what that channel refused once copbot is invited to it (or it
is unarchived), and
notices the app's uninstall. It is also an
:class:`bot.outbound.Outbound` (reminder DMs, moderator posts, their edits and reactions, through
:class:`bot.slack.outbound.Messenger`).
"""

from __future__ import annotations

import logging
import re

from bot import departures
from bot.config import Settings
from bot.outbound import Posted
from bot.slack import channels, events, review, slash
from bot.slack.answers import ANSWER_WITHIN, Responder
from bot.slack.app import Connection, ask, bolt_app, web_client
from bot.slack.delivery import Delivery, EventNotApplied
from bot.slack.inflight import InFlight
from bot.slack.installation import Installation
from bot.slack.interactions import Interactions
from bot.slack.outbound import Messenger
from bot.slack.people import PLATFORM, Directory
from commands.types import Context, Reply, ReplyField

log = logging.getLogger("copbot.slack")


class SlackFrontEnd:
    """copbot on Slack: implements :class:`bot.runner.FrontEnd`."""

    name = "slack"

    def __init__(
        self,
        settings: Settings,
        ctx: Context,
        *,
        answer_within: float = ANSWER_WITHIN,
        directory: Directory | None = None,
    ) -> None:
        """Build the Bolt app and its listeners; nothing connects until :meth:`start`."""
        if settings.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        self.settings, self.ctx = settings, ctx
        ctx.fixed_settings[PLATFORM] = fixed_settings(settings)
        self.answer_within = answer_within
        self.socket_mode = settings.slack_app_token is not None
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        if not self.socket_mode and not secret:
            raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)")
        self.client = web_client(settings)
        self.app = bolt_app(self.client, secret)
        self.connection = Connection(settings, self.app, self.client)
        self.directory = directory or Directory(self.client, settings.slack_moderator_ids)
        self.messenger = Messenger(self.client)
        # The community and bot user come from auth.test at start.
        self.installation = Installation(self.client, self.directory)
        self.inflight = InFlight()
        # How copbot was removed from the workspace, once known (its events, or a refused token):
        # nothing is left to serve, so /healthz says so (see bot.runner.MayBeRemoved).
        self.removed: str | None = None
        responder = Responder(self.messenger, settings.slack_api_url)
        self.interactions = Interactions(
            ctx, self.installation, self.inflight, responder, answer_within=answer_within
        )
        self.delivery = Delivery(
            ctx,
            self.installation,
            self.inflight,
            moderator_channel=settings.slack_moderator_channel,
            socket_mode=self.socket_mode,
            answer_within=answer_within,
        )
        self._register()
        for problem in settings_problems(settings):
            log.warning("%s", problem)

    def _register(self) -> None:
        # One listener for every slash command: the registry decides what exists.
        self.app.command(slash.COMMAND_PATTERN)(self.interactions.on_command)
        self.app.action(slash.ACTION_PATTERN)(self.interactions.on_action)
        self.app.view(review.CALLBACK_ID)(self.interactions.on_reject_reason)
        for event_type in events.EVENT_HANDLERS:
            self.app.event(event_type)(self.delivery.listener(event_type))
        self.app.error(self._on_error)

    async def _on_error(self, error: Exception) -> None:
        """Whatever escaped a listener or middleware: logged with its traceback (Bolt answers
        Slack 500). An event left unapplied was logged already, with its cause."""
        if isinstance(error, EventNotApplied):
            log.warning("%s", error)
            return
        log.error("Slack request failed", exc_info=error)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen (HTTP) or connect (Socket Mode); returns once requests can arrive."""
        self.inflight.closing = False
        # A wrong or revoked bot token fails here, at start, rather than on every request.
        identity = await ask(self.client, "SLACK_BOT_TOKEN", self.client.auth_test())
        self.installation.learn(identity)
        # Slack takes the token: the app is installed (again, if it was removed before). Its
        # community is recorded as served: copbots of other workspaces on the same database
        # leave its claims alone (storage.scope).
        community = self.installation.community_id or ""
        await self.ctx.store.update_settings(PLATFORM, community, self.ctx.clock())
        await departures.community_back(self.ctx.store, PLATFORM, community)
        self.removed = None
        if self._departed not in departures.WATCHERS:  # once, however many starts
            departures.WATCHERS.append(self._departed)
        self.messenger.workspace_url = identity.get("url")
        # The channels the settings name, as Slack sees them for copbot: said now, not at the
        # first post or reminder they refuse (or never, for reactions Slack does not send).
        for problem in await channels.channel_problems(self.client, self.settings, self.ctx.stale_grace_days):
            log.warning("%s", problem)
        await self.connection.open()

    def stop_taking_work(self) -> None:
        """Answer new commands, buttons and forms that copbot is restarting, and stop being ready
        (still listening, so that they get that answer)."""
        self.inflight.closing = True

    async def close(self) -> None:
        """Stop taking requests, let answers in flight finish, disconnect."""
        self.stop_taking_work()
        if self._departed in departures.WATCHERS:
            departures.WATCHERS.remove(self._departed)
        await self.connection.stop_listening()
        await self.drain()
        await self.connection.disconnect()

    def _departed(self, platform: str, community_id: str, why: str | None) -> None:
        if platform == PLATFORM and community_id == self.installation.community_id:
            self.removed = why

    @property
    def ready(self) -> bool:
        """Whether Slack can reach copbot: the server listens or the socket is open."""
        return not self.inflight.closing and self.connection.up

    async def drain(self) -> None:
        """Wait until the work of every request received so far has finished."""
        await self.inflight.drain()

    @property
    def served_community(self) -> str | None:
        """The one community this install serves (:class:`bot.outbound.OneCommunity`): its
        workspace, or its organisation, as ``auth.test`` said at start."""
        return self.installation.community_id

    @property
    def port(self) -> int | None:
        """The port HTTP mode listens on (useful with ``SLACK_PORT=0``), once started."""
        return self.connection.port

    # -- outbound (bot.outbound.Outbound) ------------------------------------------------------

    async def send_dm(
        self, community_id: str, user_id: str, reply: Reply, *, ask_if_gone: bool = True
    ) -> Posted:
        """DM a user (``conversations.open`` + ``chat.postMessage``); raises Unreachable."""
        return await self.messenger.send_dm(community_id, user_id, reply, ask_if_gone=ask_if_gone)

    async def send_channel(self, community_id: str, channel_id: str, reply: Reply) -> Posted:
        """Post in a channel, pinging ``reply.mention`` only; with the message's permalink."""
        return await self.messenger.send_channel(community_id, channel_id, reply)

    async def edit(self, posted: Posted, reply: Reply) -> None:
        """Replace a message copbot posted (``chat.update``)."""
        await self.messenger.edit(posted, reply)

    async def react(self, posted: Posted, emojis: list[str]) -> None:
        """Add copbot's reactions (✅ → ``white_check_mark``, ❌ → ``x``)."""
        await self.messenger.react(posted, emojis)


def fixed_settings(settings: Settings) -> dict[str, tuple[str, ReplyField]]:
    """What Slack's /setup shows of the settings it takes from the environment (see
    :data:`bot.slack.slash.FROM_SETTINGS`): the channels as links to them, and how many members
    and user groups SLACK_MODERATORS lists (their ids would tell an admin little)."""

    def channel(name: str, value: str | None) -> ReplyField:
        if not value:
            return ReplyField(name, "not set")
        return ReplyField(name, f"channel {value}", ref=("channel", value))

    ids = settings.slack_moderator_ids
    groups = sum(1 for i in ids if i.startswith("S"))
    counted = [
        f"{n} {word}{'' if n == 1 else 's'}"
        for n, word in ((len(ids) - groups, "member"), (groups, "user group"))
        if n
    ]
    moderators = " and ".join(counted) if counted else "nobody (none listed)"
    shown = {
        "moderator_channel": channel("Moderator channel", settings.slack_moderator_channel),
        "moderator_role": ReplyField("Moderators", moderators),
        "reminder_channel": channel("Reminder channel", settings.slack_reminder_channel),
    }
    return {option: (source, shown[option]) for option, source in slash.FROM_SETTINGS.items()}


_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_MODERATOR_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")


def settings_problems(settings: Settings) -> list[str]:
    """Slack settings that cannot work as written (a channel name where an id belongs…)."""
    problems = [
        f"{name}={value!r} is not a channel id (C…): moderation and reminders need the id, not the name"
        for name, value in (
            ("SLACK_MODERATOR_CHANNEL", settings.slack_moderator_channel),
            ("SLACK_REMINDER_CHANNEL", settings.slack_reminder_channel),
        )
        if value and not _CHANNEL_ID.match(value)
    ]
    problems += [
        f"SLACK_MODERATORS lists {value!r}, which is not a member (U…) or user-group (S…) id"
        for value in sorted(settings.slack_moderator_ids)
        if not _MODERATOR_ID.match(value)
    ]
    if settings.slack_moderator_channel and not settings.slack_moderator_ids:
        problems.append(
            "SLACK_MODERATOR_CHANNEL is set but SLACK_MODERATORS is empty: submissions are posted "
            "for review, and nobody can approve or reject them (list moderators' member or "
            "user-group ids)"
        )
    if settings.slack_app_token is not None and settings.slack_signing_secret is not None:
        problems.append(
            "SLACK_APP_TOKEN and SLACK_SIGNING_SECRET are both set: Slack runs in Socket Mode and the "
            "signing secret is not used (for HTTP mode, unset SLACK_APP_TOKEN)"
        )
    return problems
