"""copbot's Bolt app and Web API client, and how Slack reaches them: HTTP or Socket Mode.

:func:`web_client` and :func:`bolt_app` build what the front end listens and calls with (quiet
where Bolt would log too much); :class:`Connection` serves ``/slack/events`` on
``BIND_HOST:SLACK_PORT`` (HTTP mode), or opens the socket when ``SLACK_APP_TOKEN`` is set (Socket
Mode); :func:`ask` turns a start-up call Slack refuses or cannot answer into a StartupError.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import idle_gc
from bot.config import Settings, StartupError, cannot_listen, unreachable
from bot.slack import transport

log = logging.getLogger("copbot.slack")


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


def web_client(settings: Settings) -> AsyncWebClient:
    """The Web API client, on ``SLACK_API_URL`` with the bot token, retrying rate limits twice."""
    assert settings.slack_bot_token is not None
    base_url = settings.slack_api_url.rstrip("/") + "/"
    client = AsyncWebClient(base_url=base_url, token=settings.slack_bot_token.get_secret_value())
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


def bolt_app(client: AsyncWebClient, signing_secret: str) -> CopApp:
    """Bolt's app on ``client``, answering Slack once a listener has finished (see
    :mod:`bot.slack.frontend`), and logging no more than copbot does."""
    # Bolt formats a debug line per middleware and listener for every request unless its
    # logger's own level says not to; give it the level copbot logs at.
    bolt_logger = logging.getLogger("copbot.slack.bolt")
    if bolt_logger.level == logging.NOTSET:
        bolt_logger.setLevel(logging.getLogger().getEffectiveLevel())
    if not any(isinstance(f, _TokenFromEnvironment) for f in bolt_logger.filters):
        bolt_logger.addFilter(_TokenFromEnvironment())
    # transport.web_app checks each HTTP request's signature and answers Slack's certificate
    # check before Bolt sees it (Socket Mode needs neither): Bolt's own middleware for them would
    # only compute the signature a second time on every request.
    return CopApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        logger=bolt_logger,
        request_verification_enabled=False,
        ssl_check_enabled=False,
    )


async def ask(client: AsyncWebClient, token: str, call: Awaitable[Any]) -> Any:
    """A start-up call to Slack's API; StartupError when Slack refuses ``token`` (the name of
    its setting) or cannot be reached."""
    try:
        return await call
    except SlackApiError as exc:
        error = (exc.response.get("error") if exc.response is not None else None) or str(exc)
        answer = f"Slack answered {error!r} to the token in {token} (see docs/slack.md)"
        raise StartupError(answer) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise unreachable("Slack", client.base_url, "SLACK_API_URL", exc) from exc


class Connection:
    """Where Slack's requests come in: copbot's HTTP server, or its Socket Mode connection."""

    def __init__(self, settings: Settings, app: CopApp, client: AsyncWebClient) -> None:
        """Nothing listens or connects until :meth:`open`."""
        self.settings, self.app, self.client = settings, app, client
        self.socket_mode = settings.slack_app_token is not None
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._port: int | None = None

    async def open(self) -> None:
        """Listen (HTTP) or connect (Socket Mode); returns once requests can arrive."""
        if self.socket_mode:
            await self._start_socket_mode()
            return
        secret = self.settings.slack_signing_secret
        patience = self.settings.http_timeout
        app = transport.web_app(
            self.app, signing_secret=secret.get_secret_value() if secret else "", body_within=patience
        )
        # keepalive_timeout also closes a connection whose request's headers have not all come
        # by then (aiohttp's default waits an hour: slow clients could hold every connection).
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0, keepalive_timeout=patience)
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
        # Under slack_sdk's own name, so it is held at WARNING as slack_sdk is (bot/logs.py): at
        # DEBUG it logs every envelope whole and the socket's URL, whose ticket opens a session.
        self._socket = AsyncSocketModeHandler(
            self.app,
            app_token,
            logger=logging.getLogger("slack_sdk.socket_mode.aiohttp"),
            web_client=self.client,
        )
        # Ask for the socket URL here, so a wrong app token fails start() instead of being
        # retried forever inside the Socket Mode client.
        opened = await ask(
            self.client, "SLACK_APP_TOKEN", self.client.apps_connections_open(app_token=app_token)
        )
        self._socket.client.wss_uri = opened["url"]
        await self._socket.connect_async()
        log.info("Slack Socket Mode connected")

    async def stop_listening(self) -> None:
        """Close the HTTP server (HTTP mode); answers in flight are left to finish."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def disconnect(self) -> None:
        """Close the Socket Mode connection (Socket Mode)."""
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None

    @property
    def up(self) -> bool:
        """Whether Slack can reach copbot: the server listens or the socket is open."""
        if self._socket is not None:
            client = self._socket.client
            session = client.current_session
            return not client.closed and session is not None and not session.closed
        return self._runner is not None

    @property
    def port(self) -> int | None:
        """The port HTTP mode listens on (useful with ``SLACK_PORT=0``), once started."""
        return self._port
