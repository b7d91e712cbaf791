"""HTTP mode: Bolt's request, with a correct body parser, served by aiohttp on one path.

Bolt 1.30 decides that a form body is an interactivity payload when the word ``payload``
appears anywhere in it (``slack_bolt.request.internals.parse_body``), so ``/search payload``,
or a user or channel whose name contains it, reaches no listener and gets a 404. We parse the
form properly (only a ``payload`` *field* is a payload) and hand Bolt the right body, keeping
the raw body for the copies Bolt makes of a request (``to_copyable``).

The signature is checked first, on the raw bytes, before anything parses or logs the body: a
stranger's request is refused with one line that holds nothing of it. So is a body that does
not arrive in time (408), one larger than Slack's requests ever are (413), and one whose sender
hangs up halfway: one INFO line each, not a traceback anyone could flood the log with. This is
the only check: Bolt's own signature and certificate-check middleware are off
(:func:`bot.slack.app.bolt_app`), so nothing but :func:`web_app` may hand Bolt an HTTP request.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import build_normalized_headers, extract_content_type
from slack_sdk.signature import SignatureVerifier

from bot.logs import refusing_strays

log = logging.getLogger("copbot.slack")

PATH = "/slack/events"

# Bolt's answer to a request whose signature does not check out.
REFUSED = {"error": "invalid request"}

# Slack's requests are refused when their timestamp is further than this from the clock (s).
MAX_SKEW = 5 * 60

# The largest body read (aiohttp's default, 1 MiB): Slack's requests are a few kB.
MAX_BODY = 1 << 20
# An answer after which the connection is closed: what is left of its body is not read.
_CLOSE = {"Connection": "close"}


def parse_body(raw: str, content_type: str | None) -> dict[str, Any]:
    """A Slack request body as a dict: JSON events, ``payload=`` interactions, or a form."""
    if not raw:
        return {}
    if content_type == "application/json" or raw.startswith("{"):
        body = json.loads(raw)
        return body if isinstance(body, dict) else {}
    form = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in form:
        payload = json.loads(form["payload"])
        return payload if isinstance(payload, dict) else {}
    return form


class Refusal(NamedTuple):
    """Why a request was refused, and how loudly to log it."""

    level: int
    why: str


def check_signature(
    verifier: SignatureVerifier, raw: bytes, headers: Mapping[str, str], now: float
) -> Refusal | None:
    """Why a request is not Slack's, or None when its signature and timestamp check out.

    Checked before anything parses the body or logs it: what a stranger sends is not parsed (a
    JSON nested 200,000 deep) nor logged (Bolt's own check logs the whole body of a request it
    refuses). slack_sdk's SignatureVerifier computes the signature; it reads the timestamp with
    ``int()`` and the body as UTF-8, raising on anything else, so those are refused first (Slack
    sends only UTF-8). Unlike ``is_valid``, this tells a wrong signature from a clock that is off.
    """
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp or not signature:
        return Refusal(logging.INFO, "without a signature")
    try:
        stamp = int(timestamp)
        body = raw.decode("utf-8")
    except ValueError:  # UnicodeDecodeError is one
        return Refusal(logging.INFO, "whose timestamp is not a number or body is not UTF-8")
    expected = verifier.generate_signature(timestamp=timestamp, body=body) or ""
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "surrogateescape")):
        return Refusal(logging.INFO, "with a wrong signature")
    if abs(now - stamp) > MAX_SKEW:
        # Correctly signed, so Slack's own (or a replay): the clocks disagree, which an
        # operator wants to know, as every request from Slack is refused meanwhile.
        off = f"{abs(now - stamp) // 60:.0f} min {'behind' if stamp < now else 'ahead of'}"
        return Refusal(logging.WARNING, f"correctly signed but {off} this machine's clock (is it right?)")
    return None


def is_ssl_check(raw: bytes) -> bool:
    """Whether a body is Slack's certificate check (``ssl_check=1&token=…``), which is unsigned."""
    if len(raw) > 1024 or not raw.startswith(b"ssl_check=") and b"&ssl_check=" not in raw:
        return False
    return dict(parse_qsl(raw.decode("utf-8", "replace"))).get("ssl_check") == "1"


class SlackRequest(AsyncBoltRequest):
    """An :class:`AsyncBoltRequest` whose body is parsed by :func:`parse_body`."""

    def __init__(self, **kwargs: Any) -> None:
        """Build the request as Bolt does, with an HTTP body parsed once, by :func:`parse_body`.

        Bolt is handed the parsed body (as it is in Socket Mode, so it does not parse it again)
        and then the raw body (which :meth:`to_copyable` reads), and the HTTP mode.
        """
        raw = kwargs.get("body")
        if kwargs.get("mode", "http") != "http" or not isinstance(raw, str):
            super().__init__(**kwargs)
            return
        content_type = extract_content_type(build_normalized_headers(kwargs.get("headers")))
        body = parse_body(raw, content_type)
        super().__init__(**{**kwargs, "body": body, "mode": "socket_mode"})
        self.raw_body = raw
        self.mode = "http"

    def to_copyable(self) -> SlackRequest:
        """A copy for Bolt's lazy listeners, parsed the same way."""
        return SlackRequest(
            body=self.raw_body if self.mode == "http" else self.body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            mode=self.mode,
        )


async def read_body(request: web.Request, within: float) -> bytes | web.Response:
    """The request's body, or the answer to a request refused while reading it (logged as one
    INFO line): a body that has not all arrived ``within`` seconds (408: a slow client holds a
    connection and a task meanwhile), one larger than :data:`MAX_BODY` (413, the rest left
    unread), or a sender that hung up halfway (nobody is left to answer)."""
    try:
        async with asyncio.timeout(within):
            return await request.read()
    except TimeoutError:
        log.info("refused a Slack request whose body did not arrive within %g s", within)
        return web.Response(status=408, text="request timeout", headers=_CLOSE)
    except web.HTTPRequestEntityTooLarge as too_large:
        log.info("refused a Slack request larger than %d MiB", MAX_BODY >> 20)
        return web.Response(status=too_large.status, text="request too large", headers=_CLOSE)
    except ConnectionError:
        log.info("refused a Slack request whose sender hung up before its body arrived")
        return web.Response(status=400, text="bad request")


def web_app(
    app: AsyncApp, path: str = PATH, signing_secret: str = "", *, body_within: float = 10.0
) -> web.Application:
    """An aiohttp application that hands every POST on ``path`` to ``app`` (whose requests are
    signed with ``signing_secret``); a body must arrive within ``body_within`` seconds."""

    verifier = SignatureVerifier(signing_secret)  # an empty secret is refused here (ValueError)

    async def handle(request: web.Request) -> web.Response:
        raw = await read_body(request, body_within)
        if isinstance(raw, web.Response):
            return raw
        if is_ssl_check(raw):
            # Slack checking the Request URL's certificate sends this unsigned: a 200, before the
            # signature check (Bolt's own answer to it is off, see bot.slack.app.bolt_app).
            return web.Response(status=200, text="")
        if refusal := check_signature(verifier, raw, request.headers, time.time()):
            # One line and nothing of the request: anyone can send these.
            log.log(refusal.level, "refused a Slack request %s", refusal.why)
            return web.json_response(REFUSED, status=401)
        try:
            bolt_request = SlackRequest(
                body=raw.decode("utf-8"),
                query=request.query_string,
                headers=dict(request.headers),
            )
        except (ValueError, RecursionError):  # not JSON, or JSON nested too deep
            # Signed, so Slack's own (or a proxy's doing): worth a warning, without the body.
            log.warning("refused a signed Slack request whose body is not valid JSON")
            return web.Response(status=400, text="bad request")
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    strays = refusing_strays(log, "the Slack port", f"POST {path}")
    application = web.Application(client_max_size=MAX_BODY, middlewares=[strays])
    application.router.add_post(path, handle)
    return application
