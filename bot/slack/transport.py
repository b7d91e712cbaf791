"""HTTP mode: Bolt's request, with a correct body parser, served by aiohttp on one path.

Bolt 1.30 decides that a form body is an interactivity payload when the word ``payload``
appears anywhere in it (``slack_bolt.request.internals.parse_body``), so ``/search payload``,
or a user or channel whose name contains it, reaches no listener and gets a 404. We parse the
form properly (only a ``payload`` *field* is a payload) and hand Bolt the right body, keeping
the raw body for its signature check.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import build_normalized_headers, extract_content_type
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("copbot.slack")

PATH = "/slack/events"

# Bolt's answer to a request whose signature does not check out.
REFUSED = {"error": "invalid request"}


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


def timestamp_readable(headers: Mapping[str, str]) -> bool:
    """Whether a request's ``X-Slack-Request-Timestamp``, if it has one, is a whole number.

    slack_sdk's signature check reads it with ``int()`` and raises ValueError on anything else
    (``abc``, an empty value, ``1e10``): Bolt would answer 500 and log the traceback, for a
    request anyone can send. Such a request cannot be correctly signed, so it is refused first.
    """
    timestamp = headers.get("X-Slack-Request-Timestamp")
    if timestamp is None:
        return True  # Bolt reads it as 0: too old, refused like any bad signature
    try:
        int(timestamp)
    except ValueError:
        return False
    return True


class SlackRequest(AsyncBoltRequest):
    """An :class:`AsyncBoltRequest` whose body is parsed by :func:`parse_body`."""

    def __init__(self, **kwargs: Any) -> None:
        """Build the request as Bolt does, with an HTTP body parsed once, by :func:`parse_body`.

        Bolt is handed the parsed body (as it is in Socket Mode, so it does not parse it again)
        and then the raw body, which its signature check reads, and the HTTP mode.
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


def web_app(app: AsyncApp, path: str = PATH, signing_secret: str = "") -> web.Application:
    """An aiohttp application that hands every POST on ``path`` to ``app`` (whose requests are
    signed with ``signing_secret``)."""
    verifier = SignatureVerifier(signing_secret)

    async def handle(request: web.Request) -> web.Response:
        if not timestamp_readable(request.headers):
            log.info("refused a Slack request whose timestamp is not a number")
            return web.json_response(REFUSED, status=401)
        raw = await request.text()
        try:
            bolt_request = SlackRequest(
                body=raw,
                query=request.query_string,
                headers=dict(request.headers),
            )
        except ValueError:  # a JSON body or payload field that is not JSON
            # Bolt checks signatures after parsing: check this one here, or anyone could make
            # copbot warn (Slack itself sending junk is worth a warning; a stranger is not).
            headers = request.headers
            timestamp = headers.get("X-Slack-Request-Timestamp", "")
            if not verifier.is_valid(raw, timestamp, headers.get("X-Slack-Signature", "")):
                log.info("refused an unsigned Slack request whose body is not valid JSON")
                return web.json_response(REFUSED, status=401)
            log.warning("refused a Slack request whose body is not valid JSON")
            return web.Response(status=400, text="bad request")
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    application = web.Application()
    application.router.add_post(path, handle)
    return application
