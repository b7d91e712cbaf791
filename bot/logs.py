"""Logging: readable text or one JSON object a line (LOG_FORMAT=json); never a token.

Every line passes `Redact` first: a Discord interaction or webhook token, a Slack response_url
or Socket Mode ticket (valid for a while, and enough to answer as copbot) and any configured
secret are masked in the message, its arguments and its traceback. Libraries copbot leans on
are held quieter than the root level where their INFO lines are noise or carry such URLs
(discord.py at INFO, slack_sdk and APScheduler at WARNING), and malformed HTTP from the
internet is one INFO line, not a traceback.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO
from urllib.parse import quote, unquote, urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler, Middleware

from bot.config import Settings

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

# A path separator, as written or percent-encoded (a URL inside a form body or a query).
_SEP = r"(?:/|%2[Ff])"
# One path segment: a token ends at the next separator, quote, space, query or fragment.
_SEGMENT = r"[^/%\s'\"?#&<>]+"
# Secret URL parts wherever they appear, whatever the host (a proxy at DISCORD_API_URL, a fake).
_PATTERNS = [
    # an interaction's callback and its follow-ups: the token answers for 15 minutes
    re.compile(rf"({_SEP}interactions{_SEP}\d+{_SEP}){_SEGMENT}"),
    re.compile(rf"({_SEP}webhooks{_SEP}\d+{_SEP}){_SEGMENT}"),
    # Slack's response_urls and incoming webhooks: the whole path is the secret
    re.compile(r"(hooks\.slack\.com(?:/|%2[Ff]))[^\s'\"<>]+", re.IGNORECASE),
    re.compile(
        rf"({_SEP}(?:commands|actions|services|workflows|triggers){_SEP}T\w+{_SEP}\w+{_SEP}){_SEGMENT}"
    ),
    # Socket Mode's websocket URL (in slack_sdk's errors): its ticket opens a session as copbot
    re.compile(r"([?&]ticket=)[^\s&'\"<>]+"),
]
# Secrets shorter than this are masked only where they stand as a whole word (between characters
# that are not letters, digits or _): masked wherever they appear, every word holding them would be.
MIN_SECRET = 6
_PLAIN = logging.Formatter()
# What discord.py warns at each start, about voice, which copbot does not use.
_VOICE = "is not installed, voice will NOT be supported"


class Redact(logging.Filter):
    """Masks secret URL parts and the configured secrets in a record before any formatter sees
    it: its message (arguments merged in), traceback, stack and extra string fields."""

    def __init__(self, secrets: Iterable[str] = (), slack_api_url: str | None = None) -> None:
        super().__init__()
        self.patterns = list(_PATTERNS)
        api = urlsplit(slack_api_url or "")
        if api.netloc and api.path.strip("/"):
            # a response_url on SLACK_API_URL's host (a proxy, a test's fake): all but the Web API
            base = re.escape(f"{api.scheme}://{api.netloc}")
            self.patterns.append(re.compile(rf"({base}/)(?!{re.escape(api.path.lstrip('/'))})[^\s'\"<>]+"))
        shown = {form for s in secrets if s for form in (s, quote(s, safe=""))}
        # longest first, so that a secret holding another is masked whole
        self.secrets = sorted((s for s in shown if len(s) >= MIN_SECRET), key=len, reverse=True)
        short = sorted((s for s in shown if len(s) < MIN_SECRET), key=len, reverse=True)
        self.short = re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, short))})(?!\w)") if short else None

    def redact(self, text: str) -> str:
        """``text`` with every secret masked as ``***``."""
        for pattern in self.patterns:
            text = pattern.sub(r"\1***", text)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return self.short.sub("***", text) if self.short else text

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; always keep it."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: the handler reports it
            return True
        record.msg, record.args = self.redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _PLAIN.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


class MalformedRequests(logging.Filter):
    """On ``aiohttp.server``: a request that is not valid HTTP (a header without a colon, a bad
    version, a line too long) is one INFO line, not an ERROR with a traceback per request that
    anyone on the internet could flood the log with."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Turn a malformed request's record into one quiet line; leave any other alone."""
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        remote = args[0] if record.msg == "Error handling request from %s" and args else None
        record.msg, record.args = "refused a malformed HTTP request from %s: %s", (remote, type(exc).__name__)
        record.levelno = min(record.levelno, logging.INFO)
        record.levelname = logging.getLevelName(record.levelno)
        record.exc_info, record.exc_text = None, None
        return logging.getLogger(record.name).isEnabledFor(record.levelno)


def refusing_strays(log: logging.Logger, port: str, serves: str) -> Middleware:
    """An aiohttp middleware that logs each request for a path or with a method the server does
    not serve (answered 404 or 405 as ever) as one INFO line: "refused GET '/slack/event' on the
    Slack port: it serves POST /slack/events" tells an operator that Slack's Request URL, or a
    probe, names the wrong path. The path is shown escaped and cut short (anyone can send one,
    with a newline in it); its query, which may carry anything, is left out."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            path = request.path  # decoded: %0A is a newline here
            shown = repr(path if len(path) <= 100 else f"{path[:100]}…")
            log.info("refused %s %s on %s: it serves %s", request.method[:16], shown, port, serves)
            raise

    return middleware


class NoVoice(logging.Filter):
    """On ``discord.client``: drops the warnings that PyNaCl and davey are missing (no voice)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the voice warnings."""
        return not (isinstance(record.msg, str) and _VOICE in record.msg)


class JsonFormatter(logging.Formatter):
    """One JSON object a line, with the record's extra fields (command, community, latency…)."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise one record."""
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = record.stack_info
        return json.dumps(data, default=str)


def _password_and_query(url: str) -> tuple[str | None, str]:
    """The password of ``url``'s ``user:password@`` (None without one), and its query. Split as
    :func:`urllib.parse.urlsplit` splits it, also where urlsplit refuses the URL (an IPv6 host's
    ``[`` left open): copbot refuses that URL at start in one line, its password masked there."""
    try:
        parts = urlsplit(url)
        return parts.password, parts.query
    except ValueError:
        rest = url.partition("://")[2]
        netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
        user, at, _ = netloc.rpartition("@")
        _, colon, password = user.partition(":")
        return (password if at and colon else None), rest.partition("?")[2].partition("#")[0]


def secrets_of(settings: Settings) -> list[str]:
    """The configured secrets' values: tokens, the signing secret, the database password (in
    DATABASE_URL's ``user:password@`` or its query's ``password=``, as written and decoded)."""
    tokens = (
        settings.discord_token,
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_signing_secret,
    )
    values = [t.get_secret_value() for t in tokens if t is not None]
    if settings.database_url:
        written, query_string = _password_and_query(settings.database_url)
        # user:password@, and asyncpg's password= in the query (which copbot passes on to it)
        query = (pair.partition("=") for pair in query_string.split("&"))
        for password in (written, *(value for name, _, value in query if unquote(name) == "password")):
            if password:
                values += [password, unquote(password)]
    return values


def _install(logger: logging.Logger, kind: type[logging.Filter], filter_: logging.Filter) -> None:
    """``filter_`` on ``logger``, in place of any earlier one of its kind (setup runs per process,
    but also more than once in tests)."""
    for old in [f for f in logger.filters if isinstance(f, kind)]:
        logger.removeFilter(old)
    logger.addFilter(filter_)


def setup_logging(settings: Settings, stream: IO[str] | None = None) -> None:
    """Configure the root logger once, per the settings, writing to ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redact(secrets_of(settings), settings.slack_api_url))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    logging.getLogger("discord").setLevel(max(root.level, logging.INFO))
    # slack_sdk's webhook client logs a response_url at INFO when a post is retried, at DEBUG
    # each post; APScheduler two INFO lines each sweep. Their warnings and errors still show.
    for name in ("slack_sdk", "apscheduler"):
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))
    _install(logging.getLogger("aiohttp.server"), MalformedRequests, MalformedRequests())
    _install(logging.getLogger("discord.client"), NoVoice, NoVoice())
