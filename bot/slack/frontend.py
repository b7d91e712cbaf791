"""The Slack front end: slash commands, buttons and events through slack-bolt's AsyncApp.

HTTP mode serves ``/slack/events`` (commands, interactivity and events on one path) on
``BIND_HOST:SLACK_PORT``; Socket Mode is used instead when ``SLACK_APP_TOKEN`` is set. Bolt runs
with ``process_before_response=True``: a listener finishes before Slack gets its answer, so a
command whose reply is ready within ``answer_within`` seconds is answered in the ack itself
(one round trip), and a slower one is acked empty and answered through its response_url.

It is also an :class:`bot.outbound.Outbound` (reminder DMs, moderator posts, their edits and
reactions, through :class:`bot.slack.outbound.Messenger`), decides submissions by ✅ / ❌
reactions in ``SLACK_MODERATOR_CHANNEL`` (:mod:`bot.slack.events`), and asks for a rejection's
reason in a modal (:mod:`bot.slack.review`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware import RequestVerification
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import departures, eager, idle_gc
from bot.config import Settings, StartupError, cannot_listen, unreachable
from bot.outbound import Posted
from bot.seen import Seen
from bot.slack import events, render, review, slash, transport
from bot.slack.outbound import Messenger, slack_error
from bot.slack.people import PLATFORM, Directory
from commands import dispatch
from commands.submissions import NO_SUCH_SUBMISSION, decide_link, ours
from commands.types import Actor, CommandError, Context, Reply, parse_custom_id, record_id
from storage import submissions
from storage.models import LinkStatus
from storage.units import AlreadyApplied

log = logging.getLogger("copbot.slack")

# Slack wants an answer within 3 s; what the core has not finished by then goes by response_url.
ANSWER_WITHIN = 2.0


def response(reply: Reply) -> dict[str, Any]:
    """A reply as an ack or response_url body: public ones in the channel, private ephemeral."""
    try:
        body = render.message(reply)
    except Exception:  # a rendering bug must still leave the user an answer
        log.exception("rendering a Slack reply failed")
        reply = dispatch.error_reply(dispatch.APOLOGY)
        body = render.message(reply)
    return {**body, "response_type": "ephemeral" if reply.private else "in_channel"}


class _TokenFromEnvironment(logging.Filter):
    """Drops Bolt's warning that a token it found in ``SLACK_BOT_TOKEN`` goes unused beside
    copbot's client: Bolt reads that variable itself whenever the process environment has it
    (docker's ``-e``, compose's ``env_file``), so the warning came at every start of a correctly
    configured copbot. The client holds the same token, from the same setting."""

    MESSAGE = warning_client_prioritized_and_token_skipped()

    def filter(self, record: logging.LogRecord) -> bool:
        """False for that one message."""
        return record.getMessage() != self.MESSAGE


class CopApp(AsyncApp):
    """Bolt's app, with each request (HTTP or Socket Mode) counted in flight while it is handled,
    so that garbage collection waits for its answer (see :mod:`bot.idle_gc`)."""

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        """Bolt's dispatch, marked busy."""
        with idle_gc.COLLECTOR.busy():
            return await super().async_dispatch(req)


@dataclass(frozen=True)
class Asker:
    """Who a response_url answer is for and where they asked (a channel, a DM, or "" for a
    form): where the answer goes when the response_url fails."""

    team_id: str
    user_id: str
    channel_id: str

    @classmethod
    def of_command(cls, command: dict[str, Any]) -> Asker:
        """The person who typed a slash command, in its channel."""
        return cls(*(str(command.get(k) or "") for k in ("team_id", "user_id", "channel_id")))

    @classmethod
    def of_action(cls, body: dict[str, Any]) -> Asker:
        """The person who clicked a button (in its message's channel) or submitted a form."""
        user, team, channel = body.get("user") or {}, body.get("team") or {}, body.get("channel") or {}
        team_id = team.get("id") or user.get("team_id") or ""
        return cls(str(team_id), str(user.get("id") or ""), str(channel.get("id") or ""))


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
        self.answer_within = answer_within
        self.socket_mode = settings.slack_app_token is not None
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        if not self.socket_mode and not secret:
            raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)")
        base_url = settings.slack_api_url.rstrip("/") + "/"
        self.client = AsyncWebClient(base_url=base_url, token=settings.slack_bot_token.get_secret_value())
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        # Socket Mode requests are authenticated by the socket; Bolt skips the signature for them.
        # Bolt formats a debug line per middleware and listener for every request unless its
        # logger's own level says not to; give it the level copbot logs at.
        bolt_logger = logging.getLogger("copbot.slack.bolt")
        if bolt_logger.level == logging.NOTSET:
            bolt_logger.setLevel(logging.getLogger().getEffectiveLevel())
        if not any(isinstance(f, _TokenFromEnvironment) for f in bolt_logger.filters):
            bolt_logger.addFilter(_TokenFromEnvironment())
        self.app = CopApp(
            client=self.client,
            signing_secret=secret,
            process_before_response=True,
            logger=bolt_logger,
        )
        # Bolt's signature check logs the whole body of a request it refuses, at INFO: anyone's
        # text, newlines included. transport.web_app refuses those first; keep Bolt's line off.
        logging.getLogger(f"slack_bolt.{RequestVerification.__name__}").setLevel(logging.WARNING)
        self.directory = directory or Directory(self.client, settings.slack_moderator_ids)
        self.messenger = Messenger(self.client)
        self.bot_user_id: str | None = None  # from auth.test at start
        # The community every request is attributed to: the installed workspace (auth.test at
        # start), whatever team a request names; see installed_community.
        self.community_id: str | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._seen = Seen()  # event ids handled here: Slack's retries reaching this process
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._port: int | None = None
        self._closing = False
        self._register()
        for problem in settings_problems(settings):
            log.warning("%s", problem)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen (HTTP) or connect (Socket Mode); returns once requests can arrive."""
        self._closing = False
        # A wrong or revoked bot token fails here, at start, rather than on every request.
        identity = await self._ask("SLACK_BOT_TOKEN", self.client.auth_test())
        self.community_id = installed_community(identity)
        log.info("Slack bot %s in workspace %s", identity.get("user_id"), self.community_id)
        self.bot_user_id = identity.get("user_id")
        # Slack takes the token: the app is installed (again, if it was removed before).
        await departures.community_back(self.ctx.store, PLATFORM, self.community_id or "")
        self.messenger.workspace_url = identity.get("url")
        if self.socket_mode:
            await self._start_socket_mode()
            return
        secret = self.settings.slack_signing_secret
        app = transport.web_app(self.app, signing_secret=secret.get_secret_value() if secret else "")
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        host, port = self.settings.bind_host, self.settings.slack_port
        try:
            await web.TCPSite(self._runner, host, port).start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise cannot_listen(host, port, "SLACK_PORT", exc) from exc
        self._port = self._runner.addresses[0][1]
        log.info("Slack HTTP mode on http://%s:%s%s", self.settings.bind_host, self._port, transport.PATH)

    async def _start_socket_mode(self) -> None:
        assert self.settings.slack_app_token is not None
        app_token = self.settings.slack_app_token.get_secret_value()
        self._socket = AsyncSocketModeHandler(
            self.app, app_token, logger=logging.getLogger("copbot.slack.socket"), web_client=self.client
        )
        # Ask for the socket URL here, so a wrong app token fails start() instead of being
        # retried forever inside the Socket Mode client.
        opened = await self._ask("SLACK_APP_TOKEN", self.client.apps_connections_open(app_token=app_token))
        self._socket.client.wss_uri = opened["url"]
        await self._socket.connect_async()
        log.info("Slack Socket Mode connected")

    async def _ask(self, token: str, call: Awaitable[Any]) -> Any:
        """A start-up call to Slack's API; StartupError when Slack refuses ``token`` (the name of
        its setting) or cannot be reached."""
        try:
            return await call
        except SlackApiError as exc:
            error = (exc.response.get("error") if exc.response is not None else None) or str(exc)
            answer = f"Slack answered {error!r} to the token in {token} (see docs/slack.md)"
            raise StartupError(answer) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise unreachable("Slack", self.client.base_url, "SLACK_API_URL", exc) from exc

    def stop_taking_work(self) -> None:
        """Answer new commands, buttons and forms that copbot is restarting, and stop being ready
        (still listening, so that they get that answer)."""
        self._closing = True

    async def close(self) -> None:
        """Stop taking requests, let answers in flight finish, disconnect."""
        self.stop_taking_work()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.drain()
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None

    @property
    def ready(self) -> bool:
        """Whether Slack can reach copbot: the server listens or the socket is open."""
        if self._closing:
            return False
        if self._socket is not None:
            client = self._socket.client
            session = client.current_session
            return not client.closed and session is not None and not session.closed
        return self._runner is not None

    async def drain(self) -> None:
        """Wait until the work of every request received so far has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @property
    def port(self) -> int | None:
        """The port HTTP mode listens on (useful with ``SLACK_PORT=0``), once started."""
        return self._port

    # -- outbound (bot.outbound.Outbound) ------------------------------------------------------

    async def send_dm(self, community_id: str, user_id: str, reply: Reply) -> Posted:
        """DM a user (``conversations.open`` + ``chat.postMessage``); raises Unreachable."""
        return await self.messenger.send_dm(community_id, user_id, reply)

    async def send_channel(self, community_id: str, channel_id: str, reply: Reply) -> Posted:
        """Post in a channel, pinging ``reply.mention`` only; with the message's permalink."""
        return await self.messenger.send_channel(community_id, channel_id, reply)

    async def edit(self, posted: Posted, reply: Reply) -> None:
        """Replace a message copbot posted (``chat.update``)."""
        await self.messenger.edit(posted, reply)

    async def react(self, posted: Posted, emojis: list[str]) -> None:
        """Add copbot's reactions (✅ → ``white_check_mark``, ❌ → ``x``)."""
        await self.messenger.react(posted, emojis)

    # -- listeners ---------------------------------------------------------------------------

    def _register(self) -> None:
        # One listener for every slash command: the registry decides what exists.
        self.app.command(slash.COMMAND_PATTERN)(self._on_command)
        self.app.action(slash.ACTION_PATTERN)(self._on_action)
        self.app.view(review.CALLBACK_ID)(self._on_reject_reason)
        for event_type in events.EVENT_HANDLERS:
            self.app.event(event_type)(self._event_listener(event_type))
        self.app.error(self._on_error)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(work)
        self._track(task)
        return task

    def _track(self, work: asyncio.Future[Any]) -> None:
        """Count ``work`` among the requests in flight until it is done (see :meth:`drain`)."""
        self._tasks.add(work)
        work.add_done_callback(self._tasks.discard)

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        """A slash command: answer in the ack when quick, else ack now and answer later."""
        if self._closing:
            await ack(**_ack_args(response(dispatch.error_reply(dispatch.RESTARTING))))
            return
        # Most commands finish without waiting for anything: then there is no task to wait for.
        work = eager.start(self._command_reply(command))
        if not work.done():
            self._track(work)
            await asyncio.wait({work}, timeout=self.answer_within)
        if work.done():
            await ack(**_ack_args(response(work.result())))
            return
        await ack()
        self._spawn(self._respond_when_done(work, respond, Asker.of_command(command)))

    async def _command_reply(self, command: dict[str, Any]) -> Reply:
        """Run a slash command through the core; never raises."""
        try:
            name = slash.core_name(str(command.get("command", "")))
            if name in slash.NOT_ON_SLACK:
                return dispatch.error_reply(slash.NOT_ON_SLACK[name])
            actor = await self.directory.actor(
                self._community(command.get("team_id")),
                str(command.get("user_id", "")),
                str(command.get("user_name", "")),
            )
            # Slack escapes &, < and > in what people type; the core wants their real text.
            text = render.unescape(str(command.get("text", "")))
            return await dispatch.run_text(self.ctx, actor, name, text)
        except Exception:
            log.exception("Slack command %s failed", command.get("command"))
            return dispatch.error_reply(dispatch.APOLOGY)

    async def _respond_when_done(
        self, work: asyncio.Future[Reply], respond: AsyncRespond | None, asker: Asker
    ) -> None:
        reply = await work
        await self._respond(respond, reply, asker)

    async def _respond(self, respond: AsyncRespond | None, reply: Reply, asker: Asker | None = None) -> None:
        """Answer through the response_url, as a new message (never replacing the original).

        Slack answers a response_url that failed with an HTTP status, not an exception: a 5xx is
        tried once more (a lost connection was, by the webhook client itself); then, when the
        asker is known, the answer goes by the Web API instead (:meth:`_answer_elsewhere`), with
        a warning that never holds the response_url (it is a secret: it can post as copbot).
        """
        failure = "no response_url" if respond is None else await _post_response(respond, reply)
        if failure is None:
            return
        if asker is None:
            log.warning("answering a Slack request failed (%s); the answer is lost", failure)
            return
        try:
            how = await self._answer_elsewhere(asker, reply)
        except Exception as exc:
            error = slack_error(exc) or type(exc).__name__
            log.warning("answering a Slack request failed (%s), and by the Web API too: %s", failure, error)
            return
        log.warning("answering a Slack request by its response_url failed (%s); sent by %s", failure, how)

    async def _answer_elsewhere(self, asker: Asker, reply: Reply) -> str:
        """An answer the response_url could not take, by the Web API: shown only to the asker
        where they asked (a slash command, a click in a channel), or in their DM with copbot (a
        click there, a form). Returns the method used."""
        if asker.channel_id and not asker.channel_id.startswith("D"):
            await self.messenger.whisper(asker.channel_id, asker.user_id, reply)
            return "chat.postEphemeral"
        await self.messenger.send_dm(asker.team_id, asker.user_id, reply)
        return "chat.postMessage"

    async def _on_action(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """A button click: ack at once, run the button's action, answer by response_url.

        **Reject** (``cop:reject:<id>``) opens the reason modal instead.
        """
        await ack()
        parsed = parse_custom_id(str(action.get("action_id", "")))
        if self._closing:
            restarting = dispatch.error_reply(dispatch.RESTARTING)
            work = self._spawn(self._respond(respond, restarting, Asker.of_action(body)))
        elif parsed is not None and parsed[0] == "reject":
            work = self._spawn(self._open_reject_form(body, parsed[1], respond))
        else:
            work = self._spawn(self._answer_action(body, action, respond))
        await asyncio.wait({work}, timeout=self.answer_within)

    def _community(self, team_id: object) -> str:
        """The community of a request that names ``team_id``: the installed workspace's.

        One install is one community, with one moderator channel and one set of moderators.
        Slack names another team in requests from the same install: a user's own workspace in
        a Slack Connect channel, another workspace of an Enterprise Grid organisation in a
        channel shared between them. Keyed by that team, a submission was posted to the
        moderators but theirs to decide nowhere, and a member's claims split in two. The
        request's team serves only before ``start`` has asked Slack (never, in service).
        """
        return self.community_id or str(team_id or "")

    async def _actor(self, body: dict[str, Any]) -> Actor:
        """Who clicked or submitted: their community is the installed workspace (also in a DM)."""
        user = body.get("user") or {}
        team = body.get("team") or {}
        return await self.directory.actor(
            self._community(team.get("id") or user.get("team_id")),
            str(user.get("id", "")),
            str(user.get("username") or user.get("name") or ""),
        )

    async def _answer_action(
        self, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        try:
            actor = await self._actor(body)
            reply = await dispatch.run_action(self.ctx, actor, str(action.get("action_id", "")))
        except Exception:
            log.exception("Slack button %s failed", action.get("action_id"))
            reply = dispatch.error_reply(dispatch.APOLOGY)
        await self._respond(respond, reply, Asker.of_action(body))

    async def _open_reject_form(self, body: dict[str, Any], target: str, respond: AsyncRespond) -> None:
        """**Reject with reason**: a moderator gets the modal; anyone else an answer saying why not.

        Slack's trigger_id lasts 3 s, so this checks only what is quick (cached rights, one row).
        """
        try:
            actor = await self._actor(body)
            link_id = record_id(target)
            link = await submissions.get_link(self.ctx.store, link_id) if link_id is not None else None
            if not actor.is_moderator:
                reply = dispatch.error_reply("Only moderators can decide submissions.")
            elif link is None or link.id is None or not ours(link, actor):
                reply = dispatch.error_reply(NO_SUCH_SUBMISSION)
            elif link.status != LinkStatus.PENDING:
                who = link.decided_by_name or "someone"
                reply = dispatch.error_reply(f"Already {link.status} by {who}; nothing changed.")
            else:
                pending = review.Pending(link.id, body.get("response_url"))
                await self.client.views_open(
                    trigger_id=str(body.get("trigger_id", "")), view=review.reject_view(link, pending)
                )
                return
        except Exception:
            log.exception("opening the reject form for submission %s failed", target)
            reply = dispatch.error_reply(
                "Sorry, I could not open the form. Try again, or react ❌ to reject without a reason."
            )
        await self._respond(respond, reply, Asker.of_action(body))

    async def _on_reject_reason(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The reason modal was submitted: ack within 3 s (closing it), then reject."""
        reason = review.submitted_reason(view)
        if self._closing:  # the form stays open, to be sent again in a minute
            await ack(response_action="errors", errors={review.BLOCK_ID: dispatch.RESTARTING})
            return
        if not reason:
            await ack(response_action="errors", errors={review.BLOCK_ID: "Please say why, in a few words."})
            return
        await ack()
        work = self._spawn(self._reject_with_reason(body, view, reason))
        await asyncio.wait({work}, timeout=self.answer_within)

    async def _reject_with_reason(self, body: dict[str, Any], view: dict[str, Any], reason: str) -> None:
        pending = review.Pending.load(str(view.get("private_metadata") or ""))
        try:
            if pending is None:
                reply = dispatch.error_reply("That form is broken; use /pending instead.")
            else:
                actor = await self._actor(body)
                reply = await decide_link(self.ctx, actor, pending.link_id, False, reason)
        except CommandError as exc:
            reply = dispatch.error_reply(str(exc))
        except Exception:
            log.exception("rejecting with a reason failed")
            reply = dispatch.error_reply(dispatch.APOLOGY)
        url = self._slacks(pending.response_url) if pending else None
        await self._respond(AsyncRespond(response_url=url) if url else None, reply, Asker.of_action(body))

    def _slacks(self, url: str | None) -> str | None:
        """``url`` if it is Slack's to answer through (https://hooks.slack.com/…, or on
        SLACK_API_URL's own host: a proxy, or a test's fake); else None, with a warning. A
        form's response_url comes back in its private_metadata: copbot wrote it there, but the
        form could be forged by whoever holds the signing secret, and copbot posts to no one else."""
        if not url:
            return None
        parts, api = urlsplit(url), urlsplit(self.settings.slack_api_url)
        if (parts.scheme, parts.netloc) in {("https", "hooks.slack.com"), (api.scheme, api.netloc)}:
            return url
        log.warning("a reject form named a response_url that is not Slack's; not answered there")
        return None

    def _event_listener(
        self, event_type: str
    ) -> Callable[[dict[str, Any], dict[str, Any], AsyncBoltRequest], Awaitable[None]]:
        async def listener(body: dict[str, Any], event: dict[str, Any], request: AsyncBoltRequest) -> None:
            work = self._spawn(self._handle_event(event_type, body, event))
            done, _ = await asyncio.wait({work}, timeout=self.answer_within)
            if work not in done:
                # Slack gets its 200 now and will not send the event again: if the work fails
                # after all, the person must hear it from copbot.
                self._spawn(self._tell_if_not_applied(event_type, body, event, work))
            elif not work.result():
                if _slack_will_retry(request, socket_mode=self.socket_mode):
                    raise EventNotApplied(str(body.get("event_id") or ""), event_type)
                await self._tell_not_applied(event_type, body, event)

        return listener

    def _slack_event(self, body: dict[str, Any], event: dict[str, Any]) -> events.SlackEvent:
        return events.SlackEvent(
            self.ctx,
            self.client,
            self._community(body.get("team_id")),
            str(body.get("event_id") or ""),
            event,
            directory=self.directory,
            moderator_channel=self.settings.slack_moderator_channel,
            bot_user_id=self.bot_user_id,
        )

    async def _handle_event(self, event_type: str, body: dict[str, Any], event: dict[str, Any]) -> bool:
        """Apply an event once: a retry (or any replay) of an event that was applied changes nothing.

        A retry reaching this process is caught in memory; one reaching another process (or this
        one after a restart) at its first write, which records the id with the change. So an
        event whose handling died before its change committed is applied by Slack's retry.

        False when the handling failed before its first change committed (nothing was applied,
        and handling it again may succeed), else True.
        """
        event_id = str(body.get("event_id") or "")
        if event_id and not self._seen.first(event_id):
            log.info("skipped Slack event %s (%s): already handled", event_id, event_type)
            return True
        handler = events.EVENT_HANDLERS.get(event_type)
        if handler is None:
            return True
        once = (
            self.ctx.store.applying(events.dedup_key(event_id), self.ctx.clock())
            if event_id
            else nullcontext()
        )
        try:
            with once as applying:
                await handler(self._slack_event(body, event))
        except AlreadyApplied:
            log.info("skipped Slack event %s (%s): already applied", event_id, event_type)
        except Exception:
            # A retry reaching this process tries again: if the change committed before the
            # failure, its id did too, and the retry's first write finds it.
            self._seen.forget(event_id)
            log.exception("Slack event %s (%s) failed", event_id, event_type)
            return applying is not None and applying.recorded
        return True

    async def _tell_if_not_applied(
        self, event_type: str, body: dict[str, Any], event: dict[str, Any], work: asyncio.Future[bool]
    ) -> None:
        if not await work:
            await self._tell_not_applied(event_type, body, event)

    async def _tell_not_applied(self, event_type: str, body: dict[str, Any], event: dict[str, Any]) -> None:
        """An event failed and Slack will not send it again: tell whoever caused it (a
        moderator's ✅ is not recorded), through the event type's notice if it has one."""
        notice = events.NOT_APPLIED_NOTICES.get(event_type)
        log.warning(
            "Slack event %s (%s) was not applied and Slack will not send it again",
            body.get("event_id"),
            event_type,
        )
        if notice is None:
            return
        try:
            await notice(self._slack_event(body, event))
        except Exception as exc:
            log.warning("telling that Slack event %s was not applied failed: %s", body.get("event_id"), exc)

    async def _on_error(self, error: Exception) -> None:
        """Whatever escaped a listener or middleware: logged with its traceback (Bolt answers
        Slack 500). An event left unapplied was logged already, with its cause."""
        if isinstance(error, EventNotApplied):
            log.warning("%s", error)
            return
        log.error("Slack request failed", exc_info=error)


class EventNotApplied(Exception):
    """An event whose handling failed before anything was applied, raised from its listener so
    that Bolt answers Slack with a 500 and Slack sends the event again (its id makes sure a
    retry applies it at most once)."""

    def __init__(self, event_id: str, event_type: str) -> None:
        """The event that failed."""
        super().__init__(f"Slack event {event_id} ({event_type}) not applied: answered 500, Slack retries")


# Slack sends an event it got no 2xx for three more times (X-Slack-Retry-Num 1, 2, 3; at once,
# after a minute, after five), then gives up.
SLACK_RETRIES = 3


def _slack_will_retry(request: AsyncBoltRequest, *, socket_mode: bool) -> bool:
    """Whether Slack sends this event again if it is answered with an error: in HTTP mode, until
    its last retry. Socket Mode is not counted on: Bolt then sends no acknowledgement at all."""
    if socket_mode:
        return False
    retry = (request.headers.get("x-slack-retry-num") or ["0"])[0]
    return not retry.isdigit() or int(retry) < SLACK_RETRIES


def installed_community(identity: Any) -> str | None:
    """The community of the install that ``auth.test`` describes: its workspace's team id, or
    for an organisation-wide Enterprise Grid install (which has no one workspace) the
    organisation's enterprise id."""
    enterprise = identity.get("enterprise_id")
    if identity.get("is_enterprise_install") and enterprise:
        return str(enterprise)
    team = identity.get("team_id") or enterprise
    return str(team) if team else None


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
    return problems


async def _post_response(respond: AsyncRespond, reply: Reply) -> str | None:
    """Post a reply to a response_url, a second time after a 5xx; None once it is taken, else
    what went wrong (never the response_url itself)."""
    failure = None
    for _ in range(2):
        try:
            answer = await respond(**response(reply), replace_original=False)
        except Exception as exc:  # a connection error, after the webhook client's own retry
            return type(exc).__name__
        if 200 <= answer.status_code < 300:
            return None
        failure = f"HTTP {answer.status_code} {str(answer.body or '')[:60]!r}"
        if answer.status_code < 500:
            break
    return failure


def _ack_args(body: dict[str, Any]) -> dict[str, Any]:
    """An answer in the shape ``ack()`` takes."""
    return {"text": body["text"], "blocks": body["blocks"], "response_type": body["response_type"]}
