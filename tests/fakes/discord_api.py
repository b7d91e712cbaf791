"""A local fake of Discord's REST API and gateway, for end-to-end tests of the real discord.py client.

One aiohttp server on 127.0.0.1 serves both. Point discord.py at it with::

    discord.http.Route.BASE = fake.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)

It holds one guild with roles, members and text channels, records every request, and builds the
gateway payloads Discord sends (interactions, reactions, messages). Where it was cheap, it also
enforces what Discord enforces (3 s interaction deadline, 40060 on a second answer, 25 choices,
2000 characters, permissions, intents, message-content blanking) so tests catch the same mistakes.

Typical test::

    async with FakeDiscord() as fake:          # guild with owner, alice, bob (Moderator), bot;
        ...set Route.BASE / DEFAULT_GATEWAY... # channels "general" and "bot-log"
        task = asyncio.create_task(client.start("fake-token"))
        await fake.wait_ready()                # READY + GUILD_CREATE processed by the client
        iid = await fake.slash("ping")
        callback = await fake.wait_for_callback(iid)
        assert (callback.type, callback.content, callback.ephemeral) == (4, "pong", True)
        await client.close()

Ephemeral messages are kept in ``ephemeral_messages``, not in ``messages``. A 5xx would make
discord.py retry for seconds, so a bug in the fake answers 400 and is listed in ``errors``.
"""

# The waiting helpers take ``timeout=`` on purpose: tests read better than with asyncio.timeout.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import fnmatch
import json
import re
import secrets
import socket
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

__all__ = [
    "ALL_PERMISSIONS",
    "Callback",
    "FakeDiscord",
    "Followup",
    "GatewayConnection",
    "Intents",
    "Option",
    "PERMISSIONS",
    "RecordedRequest",
    "permissions",
    "snowflake",
]

API_VERSION = 10
_THREAD_TYPES = (10, 11, 12)  # announcement, public and private threads
DISCORD_EPOCH = 1420070400000

# --------------------------------------------------------------------------------------------
# snowflakes, permissions, intents


_last_snowflake = 0


_ATOMS = frozenset({str, int, float, bool, type(None), bytes})


def _copy(value: Any) -> Any:
    """``copy.deepcopy`` of JSON-shaped data (dicts, lists, strings, numbers), several times
    faster: the fake copies every message, payload and answer it keeps or hands out, and under
    the benchmarks' load that copying made its event loop (which stamps when answers arrive)
    the busiest part of the benchmark process. Anything else is deep-copied as before."""
    kind = type(value)
    if kind is dict:
        return {key: _copy(item) for key, item in value.items()}
    if kind is list:
        return [_copy(item) for item in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


def snowflake() -> int:
    """Return a new snowflake for the current time, strictly greater than any returned before."""
    global _last_snowflake
    now_ms = int(time.time() * 1000)
    value = ((now_ms - DISCORD_EPOCH) << 22) | (1 << 17) | (7 << 12)
    value = max(value, _last_snowflake + 1)
    _last_snowflake = value
    return value


def snowflake_time(value: int) -> datetime:
    """Return the creation time encoded in a snowflake."""
    return datetime.fromtimestamp(((value >> 22) + DISCORD_EPOCH) / 1000, tz=UTC)


def _iso(value: datetime) -> str:
    return value.isoformat()


_PERMISSION_BITS = {
    "create_instant_invite": 0,
    "kick_members": 1,
    "ban_members": 2,
    "administrator": 3,
    "manage_channels": 4,
    "manage_guild": 5,
    "add_reactions": 6,
    "view_audit_log": 7,
    "priority_speaker": 8,
    "stream": 9,
    "view_channel": 10,
    "send_messages": 11,
    "send_tts_messages": 12,
    "manage_messages": 13,
    "embed_links": 14,
    "attach_files": 15,
    "read_message_history": 16,
    "mention_everyone": 17,
    "use_external_emojis": 18,
    "view_guild_insights": 19,
    "connect": 20,
    "speak": 21,
    "mute_members": 22,
    "deafen_members": 23,
    "move_members": 24,
    "use_voice_activation": 25,
    "change_nickname": 26,
    "manage_nicknames": 27,
    "manage_roles": 28,
    "manage_webhooks": 29,
    "manage_expressions": 30,
    "use_application_commands": 31,
    "request_to_speak": 32,
    "manage_events": 33,
    "manage_threads": 34,
    "create_public_threads": 35,
    "create_private_threads": 36,
    "use_external_stickers": 37,
    "send_messages_in_threads": 38,
    "use_embedded_activities": 39,
    "moderate_members": 40,
    "view_creator_monetization_analytics": 41,
    "use_soundboard": 42,
    "create_expressions": 43,
    "create_events": 44,
    "use_external_sounds": 45,
    "send_voice_messages": 46,
    "send_polls": 49,
    "use_external_apps": 50,
    "pin_messages": 51,
    "bypass_slowmode": 52,
}
#: Permission name (discord.py's flag names) -> bit value.
PERMISSIONS: dict[str, int] = {name: 1 << bit for name, bit in _PERMISSION_BITS.items()}
PERMISSIONS["read_messages"] = PERMISSIONS["view_channel"]
ALL_PERMISSIONS = 0
for _bit in _PERMISSION_BITS.values():
    ALL_PERMISSIONS |= 1 << _bit


def permissions(*names: str) -> int:
    """Return the permission integer for discord.py-style names, e.g. ``permissions("kick_members")``."""
    value = 0
    for name in names:
        value |= PERMISSIONS[name]
    return value


def _perm_value(value: int | str | Iterable[str] | None) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value) if value.isdigit() else PERMISSIONS[value]
    return permissions(*value)


DEFAULT_EVERYONE_PERMISSIONS = permissions(
    "create_instant_invite",
    "add_reactions",
    "stream",
    "view_channel",
    "send_messages",
    "embed_links",
    "attach_files",
    "read_message_history",
    "use_external_emojis",
    "connect",
    "speak",
    "use_voice_activation",
    "change_nickname",
    "use_application_commands",
    "create_public_threads",
    "send_messages_in_threads",
    "send_polls",
    "use_external_apps",
)
DEFAULT_BOT_PERMISSIONS = permissions(
    "view_channel",
    "send_messages",
    "send_messages_in_threads",
    "embed_links",
    "attach_files",
    "read_message_history",
    "add_reactions",
    "use_external_emojis",
    "use_application_commands",
)
DEFAULT_MODERATOR_PERMISSIONS = permissions(
    "kick_members", "manage_messages", "manage_threads", "moderate_members"
)
_DM_PERMISSIONS = permissions(
    "add_reactions",
    "view_channel",
    "send_messages",
    "embed_links",
    "attach_files",
    "read_message_history",
    "use_external_emojis",
    "use_application_commands",
)


class Intents:
    """Gateway intent bits the fake looks at."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


# event -> (intent needed in a guild, intent needed in a DM); absent = always sent
_EVENT_INTENTS: dict[str, tuple[int, int]] = {
    "GUILD_CREATE": (Intents.GUILDS, 0),
    "GUILD_UPDATE": (Intents.GUILDS, 0),
    "GUILD_DELETE": (Intents.GUILDS, 0),
    "GUILD_ROLE_CREATE": (Intents.GUILDS, 0),
    "GUILD_ROLE_UPDATE": (Intents.GUILDS, 0),
    "GUILD_ROLE_DELETE": (Intents.GUILDS, 0),
    "CHANNEL_CREATE": (Intents.GUILDS, 0),
    "CHANNEL_UPDATE": (Intents.GUILDS, 0),
    "CHANNEL_DELETE": (Intents.GUILDS, 0),
    "GUILD_MEMBER_ADD": (Intents.GUILD_MEMBERS, 0),
    "GUILD_MEMBER_UPDATE": (Intents.GUILD_MEMBERS, 0),
    "GUILD_MEMBER_REMOVE": (Intents.GUILD_MEMBERS, 0),
    "PRESENCE_UPDATE": (Intents.GUILD_PRESENCES, 0),
    "MESSAGE_CREATE": (Intents.GUILD_MESSAGES, Intents.DIRECT_MESSAGES),
    "MESSAGE_UPDATE": (Intents.GUILD_MESSAGES, Intents.DIRECT_MESSAGES),
    "MESSAGE_DELETE": (Intents.GUILD_MESSAGES, Intents.DIRECT_MESSAGES),
    "MESSAGE_REACTION_ADD": (Intents.GUILD_MESSAGE_REACTIONS, Intents.DIRECT_MESSAGE_REACTIONS),
    "MESSAGE_REACTION_REMOVE": (
        Intents.GUILD_MESSAGE_REACTIONS,
        Intents.DIRECT_MESSAGE_REACTIONS,
    ),
}

EPHEMERAL = 1 << 6
LOADING = 1 << 7
COMPONENTS_V2 = 1 << 15

# interaction types and callback types
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9

# --------------------------------------------------------------------------------------------
# records


@dataclass
class RecordedRequest:
    """One REST request as the fake saw it (path is relative to ``api_url``, decoded)."""

    method: str
    path: str
    route: str | None
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[dict[str, Any]]
    headers: dict[str, str]
    status: int = 0
    response: Any = None
    at: float = 0.0

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class Callback:
    """An accepted initial interaction response (``POST /interactions/{id}/{token}/callback``)."""

    interaction_id: int
    type: int
    data: dict[str, Any] | None
    files: list[dict[str, Any]] = field(default_factory=list)
    message: dict[str, Any] | None = None  # snapshot of the message it created or updated

    @property
    def content(self) -> str | None:
        return (self.data or {}).get("content")

    @property
    def flags(self) -> int:
        return int((self.data or {}).get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        return (self.data or {}).get("choices")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return (self.data or {}).get("embeds") or []

    @property
    def components(self) -> list[dict[str, Any]]:
        return (self.data or {}).get("components") or []


@dataclass
class Followup:
    """A webhook call on an interaction token: follow-up POST, or GET/PATCH/DELETE of a message."""

    interaction_id: int
    method: str
    target: str  # "" for POST, else "@original" or a message id
    data: dict[str, Any] | None
    message: dict[str, Any] | None  # snapshot of the message right after this call

    @property
    def content(self) -> str | None:
        """The content this call sent, else the message's content."""
        if self.data and "content" in self.data:
            return self.data["content"]
        return (self.message or {}).get("content")

    @property
    def ephemeral(self) -> bool:
        return bool(int((self.message or {}).get("flags") or 0) & EPHEMERAL)


@dataclass
class Option:
    """An option value with an explicit type (3 str, 4 int, 5 bool, 6 user, 7 channel, 8 role,
    9 mentionable, 10 number), for when the command was not synced to the fake."""

    type: int
    value: Any


# An injected answer HTTP clients cannot parse (a header line without a colon), as a broken
# proxy in front of Discord might send.
GARBLED = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nBad Header\r\n\r\n{}"


@dataclass
class _Injection:
    method: str
    pattern: str
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int


@dataclass
class _Limit:
    """A rate limit as Discord keeps it: ``limit`` requests per ``per`` seconds, in windows that
    start with the first request after the last one ended; one per route and major parameter
    (channel, guild, webhook), or for the whole bot (the global limit)."""

    pattern: str
    limit: int
    per: float
    bucket: str = field(default_factory=lambda: secrets.token_hex(16))
    windows: dict[str, tuple[float, int]] = field(default_factory=dict)  # key -> (ends, used)

    def take(self, key: str, now: float) -> tuple[bool, int, float]:
        """Count one request under ``key``: (allowed, remaining, seconds until the window ends)."""
        ends, used = self.windows.get(key, (0.0, 0))
        if now >= ends:
            ends, used = now + self.per, 0
        if used >= self.limit:
            return False, 0, ends - now
        self.windows[key] = (ends, used + 1)
        return True, self.limit - used - 1, ends - now


# Paths Discord exempts from the global rate limit: interaction callbacks and their follow-ups.
_INTERACTION_PATHS = ("/interactions/", "/webhooks/")


@dataclass
class GatewaySession:
    """A gateway session (survives reconnects; RESUME replays what the client missed)."""

    id: str
    shard: tuple[int, int]
    intents: int
    token: str
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    invalid: bool = False
    connection: GatewayConnection | None = None  # None while the client is away

    async def dispatch(self, event: str, data: Any) -> dict[str, Any]:
        """Send to the live connection, or buffer for RESUME while there is none."""
        conn = self.connection
        if conn is not None and not conn.closed:
            return await conn.dispatch(event, data)
        self.seq += 1
        payload = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.sent.append(payload)
        return payload


class GatewayConnection:
    """One client websocket."""

    def __init__(self, ws: web.WebSocketResponse, query: Mapping[str, str]) -> None:
        self.ws = ws
        self.query = dict(query)
        self.compress = self.query.get("compress")
        self._zlib = zlib.compressobj() if self.compress == "zlib-stream" else None
        self._lock = asyncio.Lock()
        self.session: GatewaySession | None = None
        self.identify: dict[str, Any] | None = None
        self.ready = False
        self.closed = False
        self.close_code: int | None = None
        self.closed_by_server = False
        self.received: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self._barriers: list[tuple[int, asyncio.Future[None]]] = []

    @property
    def shard(self) -> tuple[int, int]:
        return self.session.shard if self.session else (0, 1)

    @property
    def intents(self) -> int:
        return self.session.intents if self.session else 0

    def __repr__(self) -> str:
        return f"<GatewayConnection shard={self.shard} ready={self.ready} closed={self.closed}>"

    async def _send_raw(self, payload: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        self.sent.append(payload)
        text = json.dumps(payload, separators=(",", ":"))
        if self._zlib is not None:
            body = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(body)
        else:
            # zstd-stream is answered with text frames: discord.py only decompresses bytes.
            await self.ws.send_str(text)

    async def send(self, payload: dict[str, Any]) -> None:
        async with self._lock:
            await self._send_raw(payload)

    async def dispatch(self, event: str, data: Any) -> dict[str, Any]:
        assert self.session is not None
        async with self._lock:
            self.session.seq += 1
            payload = {"op": 0, "t": event, "s": self.session.seq, "d": data}
            self.session.sent.append(payload)
            await self._send_raw(payload)
        return payload

    async def barrier(self, timeout: float = 5.0) -> None:
        """Return once the client has processed everything sent so far.

        Sends a server HEARTBEAT request (op 1); discord.py answers it from its read loop with
        its last seen sequence number, so the answer proves earlier frames were parsed.
        """
        target = self.session.seq if self.session else 0
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._barriers.append((target, future))
        await self.send({"op": 1, "d": None})
        await asyncio.wait_for(future, timeout)

    def _heartbeat(self, seq: int | None) -> None:
        seen = -1 if seq is None else seq
        for target, future in list(self._barriers):
            if seen >= target:
                self._barriers.remove((target, future))
                if not future.done():
                    future.set_result(None)

    async def close(self, code: int = 1000, message: str = "") -> None:
        """Close from the server side (the session survives unless the client sent 1000/1001)."""
        if not self.closed:
            self.closed = True
            self.close_code = code
            self.closed_by_server = True
        for _, future in self._barriers:
            if not future.done():
                future.cancel()
        if not self.ws.closed:
            await self.ws.close(code=code, message=message.encode())


def _err(status: int, code: int, message: str, errors: Any = None) -> tuple[int, Any]:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return status, body


def _form_error(path: str, code: str, message: str) -> tuple[int, Any]:
    errors: dict[str, Any] = {}
    node = errors
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = {"_errors": [{"code": code, "message": message}]}
    return _err(400, 50035, "Invalid Form Body", errors)


def _too_long(path: str, most: int) -> tuple[int, Any]:
    return _form_error(path, "BASE_TYPE_MAX_LENGTH", f"Must be {most} or fewer in length.")


def _bad_length(path: str, least: int, most: int) -> tuple[int, Any]:
    return _form_error(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {least} and {most} in length.")


def _required(path: str) -> tuple[int, Any]:
    return _form_error(path, "BASE_TYPE_REQUIRED", "This field is required")


# Discord's embed limits: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
EMBED_TITLE_MAX, EMBED_DESCRIPTION_MAX, EMBED_FIELDS_MAX = 256, 4096, 25
FIELD_NAME_MAX, FIELD_VALUE_MAX, FOOTER_MAX, AUTHOR_NAME_MAX = 256, 1024, 2048, 256
EMBEDS_TOTAL_MAX = 6000  # over every embed of one message
ACTION_ROWS_MAX, ROW_ITEMS_MAX, BUTTON_LABEL_MAX, CUSTOM_ID_MAX = 5, 5, 80, 100
LINK_BUTTON = 5
CHOICES_MAX, CHOICE_MAX = 25, 100
MODAL_TITLE_MAX, MODAL_LABEL_MAX, TEXT_INPUT_MAX, TEXT_DISPLAY_MAX, MODAL_COMPONENTS_MAX = (
    45,
    45,
    4000,
    4000,
    5,
)


def _embeds_error(embeds: list[Any]) -> tuple[int, Any] | None:
    """What real Discord refuses in a message's embeds (the same 400 and 50035 shape)."""
    total = 0
    for i, e in enumerate(embeds):
        where = f"embeds.{i}"
        texts: list[tuple[str, Any, int]] = [
            (f"{where}.title", e.get("title"), EMBED_TITLE_MAX),
            (f"{where}.description", e.get("description"), EMBED_DESCRIPTION_MAX),
            (f"{where}.footer.text", (e.get("footer") or {}).get("text"), FOOTER_MAX),
            (f"{where}.author.name", (e.get("author") or {}).get("name"), AUTHOR_NAME_MAX),
        ]
        fields = e.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            return _too_long(f"{where}.fields", EMBED_FIELDS_MAX)
        for n, entry in enumerate(fields):
            for key, most in (("name", FIELD_NAME_MAX), ("value", FIELD_VALUE_MAX)):
                text = entry.get(key)
                if not isinstance(text, str) or not text.strip():
                    return _required(f"{where}.fields.{n}.{key}")
                texts.append((f"{where}.fields.{n}.{key}", text, most))
        for path, text, most in texts:
            if text is None:
                continue
            if len(str(text)) > most:
                return _too_long(path, most)
            total += len(str(text))
    if total > EMBEDS_TOTAL_MAX:
        return _form_error(
            "embeds", "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBEDS_TOTAL_MAX}"
        )
    return None


def _components_error(components: list[Any], v2: bool) -> tuple[int, Any] | None:
    """What real Discord refuses in a message's components (legacy action rows; a message with
    the components-v2 flag is only held to its 40 components)."""
    if v2:
        return _too_long("components", 40) if len(components) > 40 else None
    if len(components) > ACTION_ROWS_MAX:
        return _too_long("components", ACTION_ROWS_MAX)
    seen: set[str] = set()
    for r, row in enumerate(components):
        if row.get("type") != 1:
            return _form_error(
                f"components.{r}.type", "UNION_TYPE_CHOICES", 'Value of field "type" must be 1.'
            )
        items = row.get("components") or []
        if not items:
            return _form_error(
                f"components.{r}.components", "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."
            )
        selects = [item for item in items if item.get("type") in (3, 5, 6, 7, 8)]
        if len(items) > ROW_ITEMS_MAX or (selects and len(items) > 1):
            return _form_error(
                f"components.{r}.components",
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for c, item in enumerate(items):
            where = f"components.{r}.components.{c}"
            custom_id = item.get("custom_id")
            if item.get("type") == 2:
                if len(str(item.get("label") or "")) > BUTTON_LABEL_MAX:
                    return _too_long(f"{where}.label", BUTTON_LABEL_MAX)
                if item.get("style") == LINK_BUTTON:
                    if custom_id is not None:
                        return _form_error(
                            f"{where}.custom_id",
                            "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                            "A link button cannot have a custom id",
                        )
                    if not item.get("url"):
                        return _required(f"{where}.url")
                    continue
            if custom_id is None or custom_id == "":
                return _required(f"{where}.custom_id")
            if len(str(custom_id)) > CUSTOM_ID_MAX:
                return _too_long(f"{where}.custom_id", CUSTOM_ID_MAX)
            if custom_id in seen:
                return _form_error(
                    f"{where}.custom_id",
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(custom_id)
    return None


def _choices_error(data: Mapping[str, Any]) -> tuple[int, Any] | None:
    """What real Discord refuses in an autocomplete answer."""
    choices = data.get("choices") or []
    if len(choices) > CHOICES_MAX:
        return _too_long("data.choices", CHOICES_MAX)
    for i, choice in enumerate(choices):
        if not 1 <= len(str(choice.get("name", ""))) <= CHOICE_MAX:
            return _bad_length(f"data.choices.{i}.name", 1, CHOICE_MAX)
        value = choice.get("value")
        if isinstance(value, str) and not 1 <= len(value) <= CHOICE_MAX:
            return _bad_length(f"data.choices.{i}.value", 1, CHOICE_MAX)
    return None


def _modal_error(data: Mapping[str, Any]) -> tuple[int, Any] | None:
    """What real Discord refuses in a modal: title, custom id, labels, text inputs, text."""
    if not data.get("custom_id"):
        return _required("data.custom_id")
    if len(str(data["custom_id"])) > CUSTOM_ID_MAX:
        return _too_long("data.custom_id", CUSTOM_ID_MAX)
    if not 1 <= len(str(data.get("title") or "")) <= MODAL_TITLE_MAX:
        return _bad_length("data.title", 1, MODAL_TITLE_MAX)
    components = data.get("components") or []
    if not 1 <= len(components) <= MODAL_COMPONENTS_MAX:
        return _bad_length("data.components", 1, MODAL_COMPONENTS_MAX)

    def check(item: Any, where: str) -> tuple[int, Any] | None:
        kind = item.get("type")
        if kind in (4, 18) and len(str(item.get("label") or "")) > MODAL_LABEL_MAX:
            return _too_long(f"{where}.label", MODAL_LABEL_MAX)
        if kind == 10 and not 1 <= len(str(item.get("content") or "")) <= TEXT_DISPLAY_MAX:
            return _bad_length(f"{where}.content", 1, TEXT_DISPLAY_MAX)
        if kind == 4:
            if not item.get("custom_id") or len(str(item["custom_id"])) > CUSTOM_ID_MAX:
                return _bad_length(f"{where}.custom_id", 1, CUSTOM_ID_MAX)
            for key, least in (("min_length", 0), ("max_length", 1)):
                value = item.get(key)
                if value is not None and not least <= int(value) <= TEXT_INPUT_MAX:
                    return _form_error(
                        f"{where}.{key}",
                        "NUMBER_TYPE_MAX" if int(value) > TEXT_INPUT_MAX else "NUMBER_TYPE_MIN",
                        f"int value should be between {least} and {TEXT_INPUT_MAX}.",
                    )
            if len(str(item.get("value") or "")) > TEXT_INPUT_MAX:
                return _too_long(f"{where}.value", TEXT_INPUT_MAX)
            if len(str(item.get("placeholder") or "")) > 100:
                return _too_long(f"{where}.placeholder", 100)
        if isinstance(item.get("component"), dict) and (
            err := check(item["component"], f"{where}.component")
        ):
            return err
        return walk(item.get("components") or [], f"{where}.components")

    def walk(items: list[Any], path: str) -> tuple[int, Any] | None:
        for i, item in enumerate(items):
            if err := check(item, f"{path}.{i}"):
                return err
        return None

    return walk(components, "data.components")


_ROUTE_PARAM = re.compile(r"\{(\w+)\}")
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_CUSTOM_EMOJI = re.compile(r"^<?(a)?:?([\w~]+):(\d+)>?$")
_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")

# --------------------------------------------------------------------------------------------


class FakeDiscord:
    """Fake Discord REST API + gateway. See the module docstring; use as ``async with``."""

    def __init__(
        self,
        *,
        application_id: int | None = None,
        bot_user_id: int | None = None,
        bot_name: str = "copbot",
        guild_id: int | None = None,
        guild_name: str = "Concrete Problems",
        owner_id: int | None = None,
        token: str | None = None,
        shard_count: int = 1,
        heartbeat_interval: int = 41250,
        interaction_timeout: float = 3.0,
        everyone_permissions: int | Iterable[str] = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int | Iterable[str] = DEFAULT_BOT_PERMISSIONS,
        allowed_intents: int | None = None,
        echo_messages: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.port = 0
        self.token = token
        self.shard_count = shard_count
        self.heartbeat_interval = heartbeat_interval
        self.interaction_timeout = interaction_timeout
        self.allowed_intents = allowed_intents
        self.echo_messages = echo_messages
        # IDENTIFY answered by closing with this (code, reason), as Discord does for a token reset
        # since login (4004), too few shards (4011) or intents the bot may not have (4014).
        self.identify_refusal: tuple[int, str] | None = None
        # IDENTIFY answered by a frame that is not JSON (a broken proxy): discord.py cannot read it.
        self.garble_ready = False
        # False: copbot was removed from the guild (while it was away): READY no longer lists it,
        # and no GUILD_CREATE follows.
        self.bot_in_guild = True
        # True: the guild is in an outage: READY lists it as unavailable, no GUILD_CREATE follows.
        self.guild_unavailable = False
        # Other guilds copbot is in, which the fake models only through interactions naming them
        # (tests.support.discord_guilds): READY lists each, on its shard, as unavailable.
        self.other_guilds: set[int] = set()

        self.application_id = application_id or snowflake()
        self.bot_user_id = bot_user_id or self.application_id
        self.guild_id = guild_id or snowflake()
        self.guild_name = guild_name

        # state: payload-shaped dicts keyed by int ids
        self.users: dict[int, dict[str, Any]] = {}
        self.members: dict[int, dict[str, Any]] = {}
        self.roles: dict[int, dict[str, Any]] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.dm_channels: dict[int, dict[str, Any]] = {}  # user id -> DM channel
        self._dm_user: dict[int, int] = {}  # DM channel id -> user id
        self.closed_dms: set[int] = set()

        # captures
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self.errors: list[str] = []
        self.callbacks: dict[int, Callback] = {}
        self.followups: list[Followup] = []
        self.messages: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
        self.ephemeral_messages: list[dict[str, Any]] = []  # not in `messages`
        self.deleted_messages: list[dict[str, Any]] = []
        self.reactions: defaultdict[int, list[tuple[str, int]]] = defaultdict(list)
        self.dms: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
        self.interactions: dict[int, dict[str, Any]] = {}
        self.app_commands: dict[int | None, list[dict[str, Any]]] = {}
        self.syncs: list[tuple[int | None, list[dict[str, Any]]]] = []
        self.command_creates: defaultdict[int | None, int] = defaultdict(int)
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.presence_updates: list[dict[str, Any]] = []
        self.dispatched: list[tuple[str, dict[str, Any], int | None]] = []
        self.connections: list[GatewayConnection] = []
        self.sessions: dict[str, GatewaySession] = {}

        self._message_index: dict[int, dict[str, Any]] = {}
        self._tokens: dict[str, int] = {}
        self._interaction_started: dict[int, float] = {}
        self._originals: dict[int, int] = {}  # interaction id -> @original message id
        self._interaction_messages: defaultdict[int, set[int]] = defaultdict(set)
        self._unsynced_command_ids: dict[str, int] = {}
        self._injections: list[_Injection] = []
        self._holds: list[tuple[str, str, asyncio.Event]] = []
        self._global_limit: _Limit | None = None
        self._route_limits: list[_Limit] = []
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._routes = self._build_routes()

        self._seed(guild_name, owner_id, everyone_permissions, bot_permissions, bot_name)

    # ---------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    async def start(self) -> FakeDiscord:
        """Bind a free port on 127.0.0.1 and start serving."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", f"/api/v{API_VERSION}/{{tail:.*}}", self._handle_api)
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_get("/gateway/", self._handle_gateway)
        app.router.add_get("/", self._handle_gateway)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        """Close every gateway connection and stop the server."""
        for task in list(self._tasks):
            task.cancel()
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---------------------------------------------------------------- model

    def _seed(
        self,
        guild_name: str,
        owner_id: int | None,
        everyone_permissions: int | Iterable[str],
        bot_permissions: int | Iterable[str],
        bot_name: str,
    ) -> None:
        self.users[self.bot_user_id] = {
            **self._user_dict(self.bot_user_id, bot_name, bot=True),
            "discriminator": "4242",
        }
        self.roles[self.guild_id] = self._role_dict(
            self.guild_id, "@everyone", _perm_value(everyone_permissions), 0
        )
        self.bot_role_id = self.add_role(bot_name, bot_permissions)
        self.roles[self.bot_role_id]["managed"] = True
        self.roles[self.bot_role_id]["tags"] = {"bot_id": str(self.bot_user_id)}
        self.moderator_role_id = self.add_role("Moderator", DEFAULT_MODERATOR_PERMISSIONS)
        self.owner_id = self.add_member("owner", user_id=owner_id)
        self._add_member_entry(self.bot_user_id, [self.bot_role_id])
        self.alice_id = self.add_member("alice")
        self.bob_id = self.add_member("bob", roles=[self.moderator_role_id])
        self.general_id = self.add_channel("general", topic="General chat")
        self.bot_log_id = self.add_channel("bot-log")

    def _user_dict(self, user_id: int, username: str, *, bot: bool = False) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": str(user_id),
            "username": username,
            "global_name": None if bot else username.title(),
            "discriminator": "0",
            "avatar": None,
            "avatar_decoration_data": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "clan": None,
            "primary_guild": None,
            "collectibles": None,
        }
        if bot:
            user["bot"] = True
        return user

    @staticmethod
    def _role_dict(role_id: int, name: str, perms: int, position: int) -> dict[str, Any]:
        return {
            "id": str(role_id),
            "name": name,
            "description": None,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": str(perms),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def add_role(
        self,
        name: str,
        permissions: int | Iterable[str] = 0,
        *,
        role_id: int | None = None,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
    ) -> int:
        """Add a guild role (permissions as an int or discord.py flag names); return its id."""
        role_id = role_id or snowflake()
        role = self._role_dict(role_id, name, _perm_value(permissions), len(self.roles))
        role.update(color=color, hoist=hoist, mentionable=mentionable)
        role["colors"]["primary_color"] = color
        self.roles[role_id] = role
        return role_id

    def add_user(self, username: str, *, user_id: int | None = None, bot: bool = False) -> int:
        """Add a user who is not a guild member; return the id."""
        user_id = user_id or snowflake()
        self.users[user_id] = self._user_dict(user_id, username, bot=bot)
        return user_id

    def _add_member_entry(self, user_id: int, roles: Iterable[int], nick: str | None = None) -> None:
        self.members[user_id] = {
            "roles": [str(r) for r in roles],
            "nick": nick,
            "avatar": None,
            "banner": None,
            "joined_at": _iso(datetime.now(UTC)),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
        }

    def add_member(
        self,
        username: str,
        *,
        user_id: int | None = None,
        roles: Iterable[int] = (),
        permissions: int | Iterable[str] | None = None,
        nick: str | None = None,
        bot: bool = False,
        dms_open: bool = True,
    ) -> int:
        """Add a guild member; ``permissions`` creates a dedicated role holding them. Returns the id.

        Call it before the client connects (GUILD_CREATE carries the members) or dispatch
        GUILD_MEMBER_ADD yourself; interaction payloads always carry the current member.
        """
        user_id = self.add_user(username, user_id=user_id, bot=bot)
        role_ids = list(roles)
        if permissions is not None:
            role_ids.append(self.add_role(f"{username}-perms", permissions))
        self._add_member_entry(user_id, role_ids, nick)
        if not dms_open:
            self.closed_dms.add(user_id)
        return user_id

    def give_role(self, user_id: int, role_id: int) -> None:
        """Add a role to a member (state only; no gateway event)."""
        roles = self.members[user_id]["roles"]
        if str(role_id) not in roles:
            roles.append(str(role_id))

    def add_channel(
        self,
        name: str,
        *,
        type: int = 0,
        channel_id: int | None = None,
        parent_id: int | None = None,
        topic: str | None = None,
        overwrites: Iterable[Mapping[str, Any]] = (),
    ) -> int:
        """Add a guild channel (type 0 text, 4 category, 5 news...); return its id.

        ``overwrites``: dicts ``{"id": role_or_user_id, "type": 0 role | 1 member, "allow": int,
        "deny": int}``.
        """
        channel_id = channel_id or snowflake()
        self.channels[channel_id] = {
            "id": str(channel_id),
            "type": type,
            "name": name,
            "position": len(self.channels),
            "permission_overwrites": self._overwrites(overwrites),
            "parent_id": str(parent_id) if parent_id else None,
            "topic": topic,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
            "icon_emoji": None,
            "theme_color": None,
        }
        if type in (2, 13):  # voice and stage channels: Discord's voice fields (their text chat too)
            self.channels[channel_id].update(
                bitrate=64000, user_limit=0, rtc_region=None, video_quality_mode=1
            )
        return channel_id

    def add_thread(
        self,
        name: str,
        parent_id: int,
        *,
        private: bool = False,
        archived: bool = False,
        locked: bool = False,
    ) -> int:
        """Add a thread under a text channel (type 11 public, 12 private); return its id.

        As on Discord, a thread has no overwrites of its own (its parent's apply), GUILD_CREATE
        lists it under ``threads`` (active ones only), and a command or button in it carries
        the thread as the interaction's channel.
        """
        thread_id = self.add_channel(name, type=12 if private else 11, parent_id=parent_id)
        thread = self.channels[thread_id]
        for key in ("topic", "position", "permission_overwrites", "icon_emoji", "theme_color"):
            thread.pop(key, None)
        thread.update(
            owner_id=str(self.owner_id),
            member_count=1,
            message_count=0,
            total_message_sent=0,
            thread_metadata={
                "archived": archived,
                "locked": locked,
                "auto_archive_duration": 1440,
                "archive_timestamp": _iso(datetime.now(UTC)),
                **({"invitable": False} if private else {}),
            },
        )
        return thread_id

    @staticmethod
    def _overwrites(overwrites: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "id": str(o["id"]),
                "type": int(o.get("type", 0)),
                "allow": str(_perm_value(o.get("allow"))),
                "deny": str(_perm_value(o.get("deny"))),
            }
            for o in overwrites
        ]

    async def set_overwrites(self, channel_id: int, overwrites: Iterable[Mapping[str, Any]]) -> None:
        """Replace a channel's permission overwrites (as :meth:`add_channel` takes them), and
        send CHANNEL_UPDATE with the whole channel, as Discord does when an admin edits them."""
        self.channels[channel_id]["permission_overwrites"] = self._overwrites(overwrites)
        await self._broadcast("CHANNEL_UPDATE", self.channel_payload(channel_id), self.guild_id)

    async def delete_channel(self, channel_id: int) -> None:
        """Delete a guild channel, its messages with it, and send CHANNEL_DELETE, as Discord does:
        requests naming it are answered 404 Unknown Channel from then on."""
        payload = self.channel_payload(channel_id)
        del self.channels[channel_id]
        for msg in self.messages.pop(channel_id, []):
            self._message_index.pop(int(msg["id"]), None)
        await self._broadcast("CHANNEL_DELETE", payload, self.guild_id)

    async def delete_role(self, role_id: int) -> None:
        """Delete a guild role, take it from its members, and send GUILD_ROLE_DELETE, as Discord
        does: its id no longer resolves to a role."""
        del self.roles[role_id]
        for member in self.members.values():
            if str(role_id) in member["roles"]:
                member["roles"].remove(str(role_id))
        event = {"guild_id": str(self.guild_id), "role_id": str(role_id)}
        await self._broadcast("GUILD_ROLE_DELETE", event, self.guild_id)

    def close_dms(self, user_id: int) -> None:
        """Make messages to this user's DM channel fail with 403 / 50007."""
        self.closed_dms.add(user_id)

    def open_dms(self, user_id: int) -> None:
        self.closed_dms.discard(user_id)

    def delete_account(self, user_id: int) -> None:
        """The user deleted their Discord account: they leave the server, and opening a DM with
        them is refused with 400 / 50033 Invalid Recipient(s), as real Discord does."""
        self.users.pop(user_id, None)
        self.members.pop(user_id, None)

    def user_id(self, username: str) -> int:
        return next(int(u["id"]) for u in self.users.values() if u["username"] == username)

    def channel_id(self, name: str) -> int:
        return next(int(c["id"]) for c in self.channels.values() if c["name"] == name)

    def role_id(self, name: str) -> int:
        return next(int(r["id"]) for r in self.roles.values() if r["name"] == name)

    def message(self, message_id: int) -> dict[str, Any]:
        """The stored message dict (edits applied)."""
        return self._message_index[int(message_id)]

    def dm_channel(self, user_id: int) -> dict[str, Any]:
        """The DM channel with a user, created on first use."""
        channel = self.dm_channels.get(user_id)
        if channel is None:
            channel_id = snowflake()
            channel = {
                "id": str(channel_id),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [_copy(self.users[user_id])],
            }
            self.dm_channels[user_id] = channel
            self._dm_user[channel_id] = user_id
        return channel

    def permissions_for(self, user_id: int, channel_id: int | None = None) -> int:
        """Compute a member's permissions in the guild or in a channel (overwrites applied)."""
        if channel_id is not None and channel_id in self._dm_user:
            return _DM_PERMISSIONS
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        if member is None:
            return 0
        role_ids = [int(r) for r in member["roles"]]
        base = int(self.roles[self.guild_id]["permissions"])
        for rid in role_ids:
            if rid in self.roles:
                base |= int(self.roles[rid]["permissions"])
        if base & PERMISSIONS["administrator"]:
            return ALL_PERMISSIONS
        channel = self.channels.get(channel_id) if channel_id is not None else None
        if channel is not None and channel["type"] in _THREAD_TYPES:  # a thread: its parent's
            channel = self.channels.get(int(channel["parent_id"]))
        if channel is None:
            return base
        overwrites = {int(o["id"]): o for o in channel["permission_overwrites"]}
        if (ow := overwrites.get(self.guild_id)) is not None:
            base = (base & ~int(ow["deny"])) | int(ow["allow"])
        allow = deny = 0
        for rid in role_ids:
            if (ow := overwrites.get(rid)) is not None and ow["type"] == 0:
                allow |= int(ow["allow"])
                deny |= int(ow["deny"])
        base = (base & ~deny) | allow
        if (ow := overwrites.get(user_id)) is not None and ow["type"] == 1:
            base = (base & ~int(ow["deny"])) | int(ow["allow"])
        if not base & PERMISSIONS["view_channel"]:
            return 0
        return base

    # payload builders

    def user_payload(self, user_id: int) -> dict[str, Any]:
        return _copy(self.users[user_id])

    def member_payload(
        self, user_id: int, *, with_user: bool = True, permissions_in: int | None = None
    ) -> dict[str, Any]:
        """A member object; ``permissions_in`` adds the ``permissions`` string for that channel."""
        member = _copy(self.members[user_id])
        if with_user:
            member["user"] = self.user_payload(user_id)
        if permissions_in is not None:
            member["permissions"] = str(self.permissions_for(user_id, permissions_in))
        return member

    def channel_payload(self, channel_id: int) -> dict[str, Any]:
        if channel_id in self._dm_user:
            return _copy(self.dm_channels[self._dm_user[channel_id]])
        return {**_copy(self.channels[channel_id]), "guild_id": str(self.guild_id)}

    def guild_payload(self) -> dict[str, Any]:
        """The REST guild object."""
        return {
            "id": str(self.guild_id),
            "name": self.guild_name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": _copy(list(self.roles.values())),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.general_id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
            "incidents_data": None,
            "region": "deprecated",
            "home_header": None,
            "hub_type": None,
            "latest_onboarding_question_id": None,
        }

    def guild_create_payload(self) -> dict[str, Any]:
        """The GUILD_CREATE gateway payload: full guild with channels, members, counts."""
        return {
            **self.guild_payload(),
            "joined_at": self.members[self.bot_user_id]["joined_at"],
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [self.member_payload(uid) for uid in self.members],
            "channels": _copy([c for c in self.channels.values() if c["type"] not in _THREAD_TYPES]),
            "threads": _copy(
                [
                    {**c, "guild_id": str(self.guild_id)}
                    for c in self.channels.values()
                    if c["type"] in _THREAD_TYPES and not c["thread_metadata"]["archived"]
                ]
            ),
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
            "activity_instances": [],
            "application_command_counts": {},
            "version": int(time.time() * 1000),
        }

    # ---------------------------------------------------------------- failure injection

    def fail(
        self,
        method: str,
        pattern: str,
        *,
        status: int,
        body: Any = None,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests matching with ``status``/``body``.

        ``method`` may be ``"*"``. ``pattern`` is a route template as in :attr:`requests`'
        ``route`` (``"/channels/{channel_id}/messages"``) or an fnmatch glob over the path
        (``"/channels/*/messages"``).
        """
        self._injections.append(_Injection(method.upper(), pattern, status, body, dict(headers or {}), times))

    def hold(self, method: str, pattern: str) -> asyncio.Event:
        """Leave requests matching (as in :meth:`fail`) unanswered until the event returned is
        set, then answer them as usual: Discord slow to answer, for as long as a test needs."""
        released = asyncio.Event()
        self._holds.append((method.upper(), pattern, released))
        return released

    async def _held(self, method: str, path: str, route: str | None) -> None:
        template = route.split(" ", 1)[1] if route else None
        for h_method, pattern, released in self._holds:
            if h_method in ("*", method) and (pattern == template or fnmatch.fnmatchcase(path, pattern)):
                await released.wait()

    def recover(self) -> None:
        """Discord is back: drop the failures :meth:`fail` injected that are still waiting."""
        self._injections.clear()

    def garble(self, method: str, pattern: str, *, times: int = 1) -> None:
        """Answer the next ``times`` matching requests with `GARBLED` bytes (aiohttp raises
        ``ClientResponseError``), then close the connection; ``pattern`` as in :meth:`fail`."""
        self.fail(method, pattern, status=200, body=GARBLED, times=times)

    def rate_limit(
        self,
        method: str,
        pattern: str,
        *,
        times: int = 1,
        retry_after: float = 0.05,
        global_: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with a Discord-shaped 429 (retried by
        discord.py because of the JSON body and the ``Via`` header)."""
        bucket = secrets.token_hex(16)
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, int(retry_after + 0.999))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Scope": "global" if global_ else "user",
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after}
        body["global"] = global_
        body["code"] = 0
        self.fail(method, pattern, status=429, body=body, times=times, headers=headers)

    def limit_rate(
        self,
        per_second: int | None = None,
        *,
        routes: Mapping[str, tuple[int, float]] | None = None,
    ) -> None:
        """Enforce rate limits as Discord does, from now on.

        ``per_second``: the global limit, requests a second across the bot, interaction callbacks
        and follow-ups exempt (Discord's are not bound to it); beyond it a global 429 (no
        X-RateLimit-Remaining: discord.py cannot see it coming). ``routes``: pattern (as in
        :meth:`fail`, with the method: ``"POST /users/@me/channels"``) → (limit, per seconds), per
        major parameter (a channel's messages, a guild's); every answer on such a route carries
        the X-RateLimit headers discord.py paces itself by, and a request beyond it gets a 429
        whose ``retry_after`` is the rest of the window. 429s are answered the way discord.py
        retries them (JSON body, ``Via`` header); see :attr:`rate_limited`.
        """
        self._global_limit = _Limit("*", per_second, 1.0) if per_second else None
        self._route_limits = [_Limit(pattern, limit, per) for pattern, (limit, per) in (routes or {}).items()]

    @property
    def rate_limited(self) -> list[RecordedRequest]:
        """Requests answered 429 (Discord counts each toward its 10,000 invalid requests in 10
        minutes, after which Cloudflare bans the bot's address for an hour)."""
        return [r for r in self.requests if r.status == 429]

    def _limited(
        self, method: str, path: str, route: str | None, params: Mapping[str, str], headers: dict[str, str]
    ) -> tuple[int, Any] | tuple[None, None]:
        """The 429 a request gets under :meth:`limit_rate`, else (None, None); the answer's
        rate-limit headers go into ``headers``."""
        now = time.time()
        template = route.split(" ", 1)[1] if route else None
        for limit in self._route_limits:
            l_method, _, pattern = limit.pattern.partition(" ")
            if l_method not in ("*", method) or not (
                pattern == template or fnmatch.fnmatchcase(path, pattern)
            ):
                continue
            major = params.get("channel_id") or params.get("guild_id") or params.get("webhook_id") or ""
            allowed, remaining, reset_after = limit.take(major, now)
            headers |= {
                "X-RateLimit-Limit": str(limit.limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": f"{now + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": limit.bucket,
            }
            if not allowed:
                headers |= {"Via": "1.1 google", "Retry-After": str(max(1, round(reset_after + 0.4999)))}
                headers["X-RateLimit-Scope"] = "user"
                body = {"message": "You are being rate limited.", "retry_after": round(reset_after, 3)}
                return 429, body | {"global": False, "code": 0}
            break
        if self._global_limit is not None and not path.startswith(_INTERACTION_PATHS):
            allowed, _, reset_after = self._global_limit.take("", now)
            if not allowed:
                headers.clear()
                headers |= {
                    "Via": "1.1 google",
                    "Retry-After": str(max(1, round(reset_after + 0.4999))),
                    "X-RateLimit-Global": "true",
                    "X-RateLimit-Scope": "global",
                }
                body = {"message": "You are being rate limited.", "retry_after": round(reset_after, 3)}
                return 429, body | {"global": True, "code": 0}
        return None, None

    def _injection_for(self, method: str, path: str, route: str | None) -> _Injection | None:
        for inj in self._injections:
            if inj.remaining <= 0 or inj.method not in ("*", method):
                continue
            template = route.split(" ", 1)[1] if route else None
            if inj.pattern == template or fnmatch.fnmatchcase(path, inj.pattern):
                inj.remaining -= 1
                return inj
        return None

    # ---------------------------------------------------------------- waiting

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_until(
        self, condition: Callable[[], Any], timeout: float = 5.0, *, description: str = ""
    ) -> Any:
        """Re-evaluate ``condition`` after every request and gateway frame (and every 20 ms, so
        client-side state works too); return its first truthy value, or raise TimeoutError
        listing the last requests."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            result = condition()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n  ".join(str(r) for r in self.requests[-12:]) or "(none)"
                errors = "\n  ".join(self.errors) or "(none)"
                raise TimeoutError(
                    f"timed out after {timeout}s waiting for {description or condition!r}\n"
                    f"last requests:\n  {recent}\nfake errors:\n  {errors}"
                )
            with contextlib.suppress(TimeoutError):
                # also poll, so conditions on client-side state work too
                await asyncio.wait_for(changed.wait(), min(remaining, 0.02))

    async def wait_for(
        self,
        predicate: Callable[[RecordedRequest], bool],
        timeout: float = 5.0,
        *,
        after: int = 0,
    ) -> RecordedRequest:
        """Return the first recorded request (from index ``after``) matching ``predicate``."""
        return await self.wait_until(
            lambda: next((r for r in self.requests[after:] if predicate(r)), None),
            timeout,
            description="a matching request",
        )

    async def wait_for_callback(self, interaction_id: int, timeout: float = 5.0) -> Callback:
        """Wait for the initial response to an interaction."""
        return await self.wait_until(
            lambda: self.callbacks.get(interaction_id),
            timeout,
            description=f"the callback of interaction {interaction_id}",
        )

    async def wait_for_followup(
        self, interaction_id: int, timeout: float = 5.0, *, count: int = 1
    ) -> Followup:
        """Wait for the ``count``-th webhook call (follow-up or edit) on an interaction."""

        def found() -> Followup | None:
            calls = [f for f in self.followups if f.interaction_id == interaction_id]
            return calls[count - 1] if len(calls) >= count else None

        return await self.wait_until(found, timeout, description=f"follow-up #{count} of {interaction_id}")

    async def answer(self, interaction_id: int, timeout: float = 10.0) -> dict[str, Any]:
        """What the user reads in answer to an interaction: the reply sent at once, or the
        follow-up message posted after a deferral ("thinking…")."""
        callback = await self.wait_for_callback(interaction_id, timeout)
        if callback.type != DEFERRED_CHANNEL_MESSAGE:
            return callback.data or {}
        followup = await self.wait_until(
            lambda: next(
                (f for f in self.followups if f.interaction_id == interaction_id and f.method == "POST"), None
            ),
            timeout,
            description=f"the follow-up answering interaction {interaction_id}",
        )
        return followup.message or {}

    async def wait_for_message(
        self,
        channel_id: int,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """Wait for a stored message in a channel (DM channels too) matching ``predicate``."""
        return await self.wait_until(
            lambda: next(
                (m for m in self.messages.get(channel_id, []) if predicate is None or predicate(m)),
                None,
            ),
            timeout,
            description=f"a message in channel {channel_id}",
        )

    async def wait_ready(self, count: int = 1, timeout: float = 5.0) -> list[GatewayConnection]:
        """Wait until ``count`` connections identified and processed READY (+ GUILD_CREATE).

        "Processed" is checked with a heartbeat round trip, so the guild is in the client's cache
        when this returns. discord.py's own ``on_ready`` fires only ``guild_ready_timeout``
        (2 s by default) after the last GUILD_CREATE; don't wait for it in fast tests.
        """
        return await self.wait_until(
            lambda: (r := [c for c in self.connections if c.ready]) and len(r) >= count and r,
            timeout,
            description=f"{count} ready gateway connection(s)",
        )

    async def sync(self, timeout: float = 5.0) -> None:
        """Return once every live client has processed all events sent so far."""
        conns = [c for c in self.connections if c.session and not c.closed]
        await asyncio.gather(*(c.barrier(timeout) for c in conns))

    # ---------------------------------------------------------------- REST plumbing

    def _build_routes(self) -> list[tuple[str, str, re.Pattern[str], Callable[..., Any]]]:
        table = [
            ("GET", "/users/@me", self._get_me),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/users/{user_id}", self._get_user),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/applications/{application_id}/commands", self._list_commands),
            ("PUT", "/applications/{application_id}/commands", self._overwrite_commands),
            ("POST", "/applications/{application_id}/commands", self._upsert_command),
            ("GET", "/applications/{application_id}/commands/{command_id}", self._get_command),
            ("PATCH", "/applications/{application_id}/commands/{command_id}", self._edit_command),
            (
                "DELETE",
                "/applications/{application_id}/commands/{command_id}",
                self._delete_command,
            ),
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self._list_commands),
            (
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._overwrite_commands,
            ),
            (
                "POST",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._upsert_command,
            ),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self._get_command,
            ),
            (
                "PATCH",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self._edit_command,
            ),
            (
                "DELETE",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self._delete_command,
            ),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{application_id}/{token}", self._post_followup),
            ("GET", "/webhooks/{application_id}/{token}/messages/{message_id}", self._webhook_msg),
            (
                "PATCH",
                "/webhooks/{application_id}/{token}/messages/{message_id}",
                self._webhook_msg,
            ),
            (
                "DELETE",
                "/webhooks/{application_id}/{token}/messages/{message_id}",
                self._webhook_msg,
            ),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("GET", "/channels/{channel_id}/messages", self._list_messages),
            ("POST", "/channels/{channel_id}/messages", self._post_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._patch_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user}",
                self._put_reaction,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user}",
                self._delete_reaction,
            ),
            ("GET", "/guilds/{guild_id}", self._get_guild),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels),
            ("GET", "/guilds/{guild_id}/roles", self._get_guild_roles),
            ("GET", "/guilds/{guild_id}/members", self._list_members),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
            (
                "PUT",
                "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
                self._member_role,
            ),
            (
                "DELETE",
                "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
                self._member_role,
            ),
        ]
        routes = []
        for method, template, handler in table:
            regex = re.compile("^" + _ROUTE_PARAM.sub(r"(?P<\1>[^/]+)", template) + "$")
            routes.append((method, template, regex, handler))
        return routes

    @staticmethod
    def _response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
        if body is None and status == 204:
            return web.Response(status=204, headers=dict(headers or {}))
        if isinstance(body, bytes):  # an injected answer as sent (a proxy's HTML error page)
            return web.Response(status=status, body=body, headers=dict(headers or {}))
        # exactly "application/json": discord.py compares the header verbatim
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        return web.Response(status=status, body=json.dumps(body).encode(), headers=all_headers)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()  # before this fake reads and parses the body
        path = "/" + request.match_info["tail"]
        method = request.method
        body: Any = None
        files: list[dict[str, Any]] = []
        bad_json = False
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    data = await part.read()
                    files.append(
                        {
                            "field": part.name,
                            "filename": part.filename,
                            "content_type": part.headers.get("Content-Type"),
                            "size": len(data),
                            "data": bytes(data),
                        }
                    )
        elif request.can_read_body:
            raw = await request.read()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    bad_json = True

        route = None
        params: dict[str, str] = {}
        handler = None
        for r_method, template, regex, r_handler in self._routes:
            if r_method == method and (m := regex.match(path)):
                route, params, handler = f"{method} {template}", m.groupdict(), r_handler
                break
        record = RecordedRequest(
            method=method,
            path=path,
            route=route,
            params=params,
            query=dict(request.query),
            json=body,
            files=files,
            headers=dict(request.headers),
            at=arrived,
        )
        headers: Mapping[str, str] | None = None
        limits: dict[str, str] = {}  # the X-RateLimit headers of a limited route (limit_rate)
        await self._held(method, path, route)
        try:
            if handler is None:
                self.unhandled.append(record)
                status, out = _err(404, 0, "404: Not Found")
            elif bad_json:
                status, out = _err(400, 50109, "The request body contains invalid JSON.")
            elif (inj := self._injection_for(method, path, route)) is not None:
                status, out, headers = inj.status, inj.body, inj.headers
            elif (refusal := self._limited(method, path, route, params, limits))[0] is not None:
                status, out = refusal
                headers = limits
            elif not self._authorized(path, request.headers.get("Authorization")):
                status, out = _err(401, 0, "401: Unauthorized")
            else:
                result = await handler(record, **params)
                status, out = result[0], result[1]
                headers = limits
        except Exception as exc:  # a bug in the fake: fail fast (a 5xx would be retried)
            self.errors.append(f"{method} {path}: {exc!r}")
            status, out = _err(400, 0, f"fake error: {exc!r}")
        record.status = status
        record.response = _copy(out)
        self.requests.append(record)
        self._notify()
        if out is GARBLED and request.transport is not None:
            request.transport.write(GARBLED)
            request.transport.close()
        return self._response(status, out, headers)

    def _authorized(self, path: str, header: str | None) -> bool:
        if path.startswith(("/webhooks/", "/interactions/")):
            return True
        if not header or not header.startswith("Bot "):
            return False
        return self.token is None or header == f"Bot {self.token}"

    # ---------------------------------------------------------------- REST: identity

    async def _get_me(self, rq: RecordedRequest) -> tuple[int, Any]:
        me = self.user_payload(self.bot_user_id)
        me.update(verified=True, mfa_enabled=False, email=None, locale="en-US", bio="")
        return 200, me

    async def _get_application(self, rq: RecordedRequest) -> tuple[int, Any]:
        owner = self.user_payload(self.owner_id)
        return 200, {
            "id": str(self.application_id),
            "name": self.users[self.bot_user_id]["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": secrets.token_hex(32),
            "flags": 0,
            "owner": owner,
            "team": None,
            "bot": self.user_payload(self.bot_user_id),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "install_params": {"scopes": ["bot", "applications.commands"], "permissions": "0"},
            "integration_types_config": {"0": {}},
            "approximate_guild_count": 1,
            "approximate_user_install_count": 0,
        }

    async def _get_gateway(self, rq: RecordedRequest) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url}

    async def _get_gateway_bot(self, rq: RecordedRequest) -> tuple[int, Any]:
        return 200, {
            "url": self.gateway_url,
            "shards": self.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000 - len(self.identifies),
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    async def _get_user(self, rq: RecordedRequest, user_id: str) -> tuple[int, Any]:
        if not user_id.isdigit() or int(user_id) not in self.users:
            return _err(404, 10013, "Unknown User")
        return 200, self.user_payload(int(user_id))

    async def _create_dm(self, rq: RecordedRequest) -> tuple[int, Any]:
        recipient = str((rq.json or {}).get("recipient_id", ""))
        if not recipient.isdigit() or int(recipient) not in self.users:
            return _err(400, 50033, "Invalid Recipient(s)")
        return 200, _copy(self.dm_channel(int(recipient)))

    # ---------------------------------------------------------------- REST: guild

    def _check_guild(self, guild_id: str) -> tuple[int, Any] | None:
        if guild_id != str(self.guild_id):
            return _err(404, 10004, "Unknown Guild")
        return None

    async def _get_guild(self, rq: RecordedRequest, guild_id: str) -> tuple[int, Any]:
        if err := self._check_guild(guild_id):
            return err
        guild = self.guild_payload()
        if rq.query.get("with_counts") in ("true", "1"):
            guild["approximate_member_count"] = len(self.members)
            guild["approximate_presence_count"] = 0
        return 200, guild

    async def _get_guild_channels(self, rq: RecordedRequest, guild_id: str) -> tuple[int, Any]:
        if err := self._check_guild(guild_id):
            return err
        return 200, [self.channel_payload(cid) for cid in self.channels]

    async def _get_guild_roles(self, rq: RecordedRequest, guild_id: str) -> tuple[int, Any]:
        if err := self._check_guild(guild_id):
            return err
        return 200, _copy(list(self.roles.values()))

    async def _list_members(self, rq: RecordedRequest, guild_id: str) -> tuple[int, Any]:
        if err := self._check_guild(guild_id):
            return err
        after = int(rq.query.get("after", 0))
        limit = int(rq.query.get("limit", 1))
        ids = sorted(uid for uid in self.members if uid > after)[:limit]
        return 200, [self.member_payload(uid) for uid in ids]

    async def _get_member(self, rq: RecordedRequest, guild_id: str, user_id: str) -> tuple[int, Any]:
        if err := self._check_guild(guild_id):
            return err
        if not user_id.isdigit() or int(user_id) not in self.members:
            return _err(404, 10007, "Unknown Member")
        return 200, self.member_payload(int(user_id))

    async def _member_role(
        self, rq: RecordedRequest, guild_id: str, user_id: str, role_id: str
    ) -> tuple[int, Any]:
        if err := self._check_guild(guild_id):
            return err
        if not user_id.isdigit() or int(user_id) not in self.members:
            return _err(404, 10007, "Unknown Member")
        if not role_id.isdigit() or int(role_id) not in self.roles:
            return _err(404, 10011, "Unknown Role")
        if not self.permissions_for(self.bot_user_id) & PERMISSIONS["manage_roles"]:
            return _err(403, 50013, "Missing Permissions")
        roles = self.members[int(user_id)]["roles"]
        if rq.method == "PUT" and role_id not in roles:
            roles.append(role_id)
        elif rq.method == "DELETE" and role_id in roles:
            roles.remove(role_id)
        return 204, None

    async def _get_channel(self, rq: RecordedRequest, channel_id: str) -> tuple[int, Any]:
        cid = int(channel_id) if channel_id.isdigit() else 0
        if cid not in self.channels and cid not in self._dm_user:
            return _err(404, 10003, "Unknown Channel")
        return 200, self.channel_payload(cid)

    # ---------------------------------------------------------------- REST: app commands

    def _scope(self, application_id: str, guild_id: str | None) -> int | None | tuple[int, Any]:
        if application_id != str(self.application_id):
            return _err(403, 50001, "Missing Access")
        if guild_id is None:
            return None
        if guild_id != str(self.guild_id):
            return _err(403, 50001, "Missing Access")
        return int(guild_id)

    @staticmethod
    def _validate_command(cmd: Mapping[str, Any], path: str) -> tuple[int, Any] | None:
        ctype = int(cmd.get("type", 1))
        name = cmd.get("name") or ""
        if not isinstance(name, str) or not name:
            return _form_error(f"{path}.name", "BASE_TYPE_REQUIRED", "This field is required")
        if ctype == 1:
            if name != name.lower() or not _COMMAND_NAME.match(name):
                return _form_error(
                    f"{path}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            if not 1 <= len(cmd.get("description") or "") <= 100:
                return _form_error(
                    f"{path}.description",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
        elif len(name) > 32:
            return _form_error(f"{path}.name", "BASE_TYPE_BAD_LENGTH", "Must be 32 or fewer.")
        options = cmd.get("options") or []
        if len(options) > 25:
            return _form_error(f"{path}.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer.")
        seen_optional = False
        for i, opt in enumerate(options):
            if opt.get("type") in (1, 2):
                if err := FakeDiscord._validate_command({**opt, "type": 1}, f"{path}.options.{i}"):
                    return err
                continue
            if len(opt.get("choices") or []) > 25:
                return _form_error(
                    f"{path}.options.{i}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer."
                )
            if opt.get("required"):
                if seen_optional:
                    return _form_error(
                        f"{path}.options",
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
        return None

    def _store_command(
        self, cmd: Mapping[str, Any], scope: int | None, old: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "type": 1,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "nsfw": False,
            "name_localizations": None,
            "description_localizations": None,
            "integration_types": [0],
            "contexts": None,
            **_copy(dict(cmd)),
        }
        if old is None:
            self.command_creates[scope] += 1
        stored["id"] = old["id"] if old else str(snowflake())
        stored["application_id"] = str(self.application_id)
        stored["version"] = str(snowflake())
        if scope is not None:
            stored["guild_id"] = str(scope)
        else:
            stored.pop("guild_id", None)
        return stored

    async def _overwrite_commands(
        self, rq: RecordedRequest, application_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(application_id, guild_id)
        if isinstance(scope, tuple):
            return scope
        body = rq.json
        if not isinstance(body, list):
            return _form_error("_", "BASE_TYPE_ARRAY", "Must be an array.")
        seen: set[tuple[str, int]] = set()
        for i, cmd in enumerate(body):
            if err := self._validate_command(cmd, str(i)):
                return err
            key = (cmd["name"], int(cmd.get("type", 1)))
            if key in seen:
                return _form_error(
                    str(i), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
                )
            seen.add(key)
        existing = {(c["name"], int(c["type"])): c for c in self.app_commands.get(scope, [])}
        stored = [
            self._store_command(cmd, scope, existing.get((cmd["name"], int(cmd.get("type", 1)))))
            for cmd in body
        ]
        self.app_commands[scope] = stored
        self.syncs.append((scope, _copy(stored)))
        return 200, stored

    async def _upsert_command(
        self, rq: RecordedRequest, application_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(application_id, guild_id)
        if isinstance(scope, tuple):
            return scope
        cmd = rq.json or {}
        if err := self._validate_command(cmd, "_"):
            return err
        commands = self.app_commands.setdefault(scope, [])
        key = (cmd["name"], int(cmd.get("type", 1)))
        old = next((c for c in commands if (c["name"], int(c["type"])) == key), None)
        stored = self._store_command(cmd, scope, old)
        if old is not None:
            commands[commands.index(old)] = stored
            return 200, stored
        commands.append(stored)
        return 201, stored

    async def _list_commands(
        self, rq: RecordedRequest, application_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(application_id, guild_id)
        if isinstance(scope, tuple):
            return scope
        return 200, _copy(self.app_commands.get(scope, []))

    def _find_stored(self, scope: int | None, command_id: str) -> dict[str, Any] | None:
        return next((c for c in self.app_commands.get(scope, []) if c["id"] == command_id), None)

    async def _get_command(
        self, rq: RecordedRequest, application_id: str, command_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(application_id, guild_id)
        if isinstance(scope, tuple):
            return scope
        cmd = self._find_stored(scope, command_id)
        return (200, _copy(cmd)) if cmd else _err(404, 10063, "Unknown application command")

    async def _edit_command(
        self, rq: RecordedRequest, application_id: str, command_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(application_id, guild_id)
        if isinstance(scope, tuple):
            return scope
        cmd = self._find_stored(scope, command_id)
        if cmd is None:
            return _err(404, 10063, "Unknown application command")
        cmd.update(_copy(rq.json or {}))
        cmd["version"] = str(snowflake())
        return 200, _copy(cmd)

    async def _delete_command(
        self, rq: RecordedRequest, application_id: str, command_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(application_id, guild_id)
        if isinstance(scope, tuple):
            return scope
        cmd = self._find_stored(scope, command_id)
        if cmd is None:
            return _err(404, 10063, "Unknown application command")
        self.app_commands[scope].remove(cmd)
        return 204, None

    # ---------------------------------------------------------------- REST: messages

    def _validate_message(
        self,
        data: Mapping[str, Any],
        files: list[dict[str, Any]],
        *,
        edit: bool = False,
        message: Mapping[str, Any] | None = None,
    ) -> tuple[int, Any] | None:
        """Real Discord's 400 for a message it refuses (``message``: the one being edited)."""
        content = data.get("content")
        if content is not None and len(str(content)) > 2000:
            return _form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        embeds = data.get("embeds") or []
        if len(embeds) > 10:
            return _form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        if err := _embeds_error(embeds):
            return err
        components = data.get("components") or []
        flags = int(data.get("flags") or 0) | int((message or {}).get("flags") or 0)
        if err := _components_error(components, bool(flags & COMPONENTS_V2)):
            return err
        if not edit and not (
            content or embeds or components or files or data.get("sticker_ids") or data.get("poll")
        ):
            return _err(400, 50006, "Cannot send an empty message")
        return None

    @staticmethod
    def _number_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
        counter = 0

        def walk(items: list[dict[str, Any]]) -> None:
            nonlocal counter
            for item in items:
                counter += 1
                item.setdefault("id", counter)
                walk(item.get("components") or [])
                if isinstance(item.get("component"), dict):
                    walk([item["component"]])
                if isinstance(item.get("accessory"), dict):
                    walk([item["accessory"]])

        out = _copy(components)
        walk(out)
        return out

    def _attachments(self, data: Mapping[str, Any], files: list[dict[str, Any]]) -> list[Any]:
        described = {str(a.get("id")): a for a in data.get("attachments") or []}
        out = []
        for index, f in enumerate(files):
            att_id = snowflake()
            filename = (described.get(str(index)) or {}).get("filename") or f["filename"]
            url = f"https://cdn.discordapp.com/attachments/0/{att_id}/{filename}"
            out.append(
                {
                    "id": str(att_id),
                    "filename": filename,
                    "size": f["size"],
                    "url": url,
                    "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
                    "content_type": f.get("content_type"),
                    "description": (described.get(str(index)) or {}).get("description"),
                }
            )
        return out

    async def _create_message(
        self,
        channel_id: int,
        data: Mapping[str, Any],
        files: list[dict[str, Any]],
        *,
        author_id: int | None = None,
        interaction: Mapping[str, Any] | None = None,
        flags: int | None = None,
    ) -> dict[str, Any]:
        message_id = snowflake()
        author_id = author_id or self.bot_user_id
        flags = int(data.get("flags") or 0) if flags is None else flags
        msg: dict[str, Any] = {
            "type": 0,
            "content": str(data.get("content") or ""),
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(data, files),
            "embeds": [{"type": "rich", **e} for e in data.get("embeds") or []],
            "timestamp": _iso(snowflake_time(message_id)),
            "edited_timestamp": None,
            "flags": flags,
            "components": self._number_components(data.get("components") or []),
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": self.user_payload(author_id),
            "pinned": False,
            "mention_everyone": False,
            "tts": bool(data.get("tts")),
        }
        if data.get("nonce") is not None:
            msg["nonce"] = data["nonce"]
        if data.get("poll"):
            msg["poll"] = _copy(data["poll"])
        ref = data.get("message_reference")
        if ref and str(ref.get("message_id", "")).isdigit():
            referenced = self._message_index.get(int(ref["message_id"]))
            msg["type"] = 19
            msg["message_reference"] = {
                "type": 0,
                "message_id": str(ref["message_id"]),
                "channel_id": str(ref.get("channel_id") or channel_id),
            }
            if channel_id in self.channels:
                msg["message_reference"]["guild_id"] = str(self.guild_id)
            msg["referenced_message"] = _copy(referenced) if referenced else None
        if interaction is not None:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
            msg["interaction_metadata"] = self._interaction_metadata(interaction)
            if interaction["type"] == APPLICATION_COMMAND:
                command_type = interaction["data"].get("type", 1)
                msg["type"] = 20 if command_type == 1 else 23
                user = interaction.get("member", {}).get("user") or interaction.get("user")
                msg["interaction"] = {
                    "id": interaction["id"],
                    "type": interaction["type"],
                    "name": interaction["data"]["name"],
                    "user": user,
                }
            self._interaction_messages[int(interaction["id"])].add(message_id)
        self._message_index[message_id] = msg
        if flags & EPHEMERAL:  # only its recipient sees it: not a channel message, no event
            self.ephemeral_messages.append(msg)
            return msg
        self.messages[channel_id].append(msg)
        if channel_id in self._dm_user:
            self.dms[self._dm_user[channel_id]].append(msg)
            self.dm_channels[self._dm_user[channel_id]]["last_message_id"] = str(message_id)
        elif channel_id in self.channels:
            self.channels[channel_id]["last_message_id"] = str(message_id)
        await self._echo("MESSAGE_CREATE", msg)
        return msg

    async def _edit_message(
        self, msg: dict[str, Any], data: Mapping[str, Any], files: list[dict[str, Any]]
    ) -> dict[str, Any]:
        loading = bool(msg["flags"] & LOADING)
        for key in ("content", "components", "embeds", "poll"):
            if key in data:
                value = data[key]
                if key == "components":
                    value = self._number_components(value or [])
                elif key == "embeds":
                    value = [{"type": "rich", **e} for e in value or []]
                elif key == "content":
                    value = str(value or "")
                msg[key] = value
        if "attachments" in data or files:
            keep = {str(a.get("id")) for a in data.get("attachments") or []}
            msg["attachments"] = [a for a in msg["attachments"] if a["id"] in keep]
            msg["attachments"] += self._attachments(data, files)
        if "flags" in data and data["flags"] is not None:
            # only SUPPRESS_EMBEDS (1 << 2) can be changed by an edit
            msg["flags"] = (msg["flags"] & ~4) | (int(data["flags"]) & 4)
        if loading:
            msg["flags"] &= ~LOADING
        else:
            msg["edited_timestamp"] = _iso(datetime.now(UTC))
        if not msg["flags"] & EPHEMERAL:
            await self._echo("MESSAGE_UPDATE", msg)
        return msg

    async def _delete(self, msg: dict[str, Any]) -> None:
        channel_id = int(msg["channel_id"])
        with contextlib.suppress(ValueError):
            self.messages[channel_id].remove(msg)
        with contextlib.suppress(ValueError):
            self.ephemeral_messages.remove(msg)
        if channel_id in self._dm_user:
            with contextlib.suppress(ValueError):
                self.dms[self._dm_user[channel_id]].remove(msg)
        self._message_index.pop(int(msg["id"]), None)
        self.deleted_messages.append(msg)
        if not msg["flags"] & EPHEMERAL:
            data = {"id": msg["id"], "channel_id": msg["channel_id"]}
            if channel_id in self.channels:
                data["guild_id"] = str(self.guild_id)
            await self._broadcast("MESSAGE_DELETE", data, self._guild_of(channel_id))

    def _channel_error(self, channel_id: str, *, send: bool = False) -> tuple[int, Any] | None:
        cid = int(channel_id) if channel_id.isdigit() else 0
        if cid in self._dm_user:
            if send and self._dm_user[cid] in self.closed_dms:
                return _err(403, 50007, "Cannot send messages to this user")
            return None
        if cid not in self.channels:
            return _err(404, 10003, "Unknown Channel")
        perms = self.permissions_for(self.bot_user_id, cid)
        if not perms & PERMISSIONS["view_channel"]:
            return _err(403, 50001, "Missing Access")
        if send and not perms & PERMISSIONS["send_messages"]:
            return _err(403, 50013, "Missing Permissions")
        return None

    def _channel_message(self, channel_id: str, message_id: str) -> dict[str, Any] | tuple[int, Any]:
        if err := self._channel_error(channel_id):
            return err
        msg = self._message_index.get(int(message_id)) if message_id.isdigit() else None
        if msg is None or msg["channel_id"] != channel_id or msg["flags"] & EPHEMERAL:
            return _err(404, 10008, "Unknown Message")
        return msg

    def _without_embeds(self, channel_id: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """``data`` as real Discord keeps it from copbot in a guild channel where copbot lacks
        Embed Links: its embeds silently dropped (the rest is posted; nothing else left is an
        empty message, refused)."""
        cid = int(channel_id) if channel_id.isdigit() else 0
        if (
            cid not in self.channels
            or self.permissions_for(self.bot_user_id, cid) & PERMISSIONS["embed_links"]
        ):
            return data
        return {key: value for key, value in data.items() if key != "embeds"}

    async def _post_message(self, rq: RecordedRequest, channel_id: str) -> tuple[int, Any]:
        if err := self._channel_error(channel_id, send=True):
            return err
        data = self._without_embeds(channel_id, rq.json or {})
        if err := self._validate_message(data, rq.files):
            return err
        return 200, await self._create_message(int(channel_id), data, rq.files)

    async def _list_messages(self, rq: RecordedRequest, channel_id: str) -> tuple[int, Any]:
        if err := self._channel_error(channel_id):
            return err
        limit = int(rq.query.get("limit", 50))
        msgs = [m for m in self.messages.get(int(channel_id), []) if not m["flags"] & EPHEMERAL]
        if "before" in rq.query:
            msgs = [m for m in msgs if int(m["id"]) < int(rq.query["before"])]
        if "after" in rq.query:
            msgs = [m for m in msgs if int(m["id"]) > int(rq.query["after"])]
            return 200, list(reversed(msgs[:limit]))
        return 200, list(reversed(msgs))[:limit]

    async def _get_message(self, rq: RecordedRequest, channel_id: str, message_id: str) -> tuple[int, Any]:
        msg = self._channel_message(channel_id, message_id)
        return msg if isinstance(msg, tuple) else (200, msg)

    async def _patch_message(self, rq: RecordedRequest, channel_id: str, message_id: str) -> tuple[int, Any]:
        msg = self._channel_message(channel_id, message_id)
        if isinstance(msg, tuple):
            return msg
        data = self._without_embeds(channel_id, rq.json or {})
        if msg["author"]["id"] != str(self.bot_user_id) and set(data) - {"flags"}:
            return _err(403, 50005, "Cannot edit a message authored by another user")
        if err := self._validate_message(data, rq.files, edit=True, message=msg):
            return err
        return 200, await self._edit_message(msg, data, rq.files)

    async def _delete_message(self, rq: RecordedRequest, channel_id: str, message_id: str) -> tuple[int, Any]:
        msg = self._channel_message(channel_id, message_id)
        if isinstance(msg, tuple):
            return msg
        own = msg["author"]["id"] == str(self.bot_user_id)
        cid = int(channel_id)
        if not own and not self.permissions_for(self.bot_user_id, cid) & PERMISSIONS["manage_messages"]:
            return _err(403, 50013, "Missing Permissions")
        await self._delete(msg)
        return 204, None

    @staticmethod
    def _emoji_payload(emoji: str) -> dict[str, Any]:
        if m := _CUSTOM_EMOJI.match(emoji):
            return {"id": m.group(3), "name": m.group(2), "animated": bool(m.group(1))}
        return {"id": None, "name": emoji}

    @staticmethod
    def _emoji_key(emoji: str) -> str:
        if m := _CUSTOM_EMOJI.match(emoji):
            return f"{m.group(2)}:{m.group(3)}"
        return emoji

    def _add_reaction(self, msg: dict[str, Any], emoji: str, user_id: int) -> bool:
        key = self._emoji_key(emoji)
        if (key, user_id) in self.reactions[int(msg["id"])]:
            return False
        self.reactions[int(msg["id"])].append((key, user_id))
        reactions = msg.setdefault("reactions", [])
        entry = next((r for r in reactions if self._reaction_key(r) == key), None)
        if entry is None:
            entry = {
                "count": 0,
                "count_details": {"burst": 0, "normal": 0},
                "me": False,
                "me_burst": False,
                "burst_colors": [],
                "emoji": self._emoji_payload(emoji),
            }
            reactions.append(entry)
        entry["count"] += 1
        entry["count_details"]["normal"] += 1
        if user_id == self.bot_user_id:
            entry["me"] = True
        return True

    def _remove_reaction(self, msg: dict[str, Any], emoji: str, user_id: int) -> bool:
        key = self._emoji_key(emoji)
        if (key, user_id) not in self.reactions[int(msg["id"])]:
            return False
        self.reactions[int(msg["id"])].remove((key, user_id))
        reactions = msg.get("reactions", [])
        entry = next((r for r in reactions if self._reaction_key(r) == key), None)
        if entry is not None:
            entry["count"] -= 1
            entry["count_details"]["normal"] -= 1
            if user_id == self.bot_user_id:
                entry["me"] = False
            if entry["count"] <= 0:
                reactions.remove(entry)
        return True

    @staticmethod
    def _reaction_key(entry: Mapping[str, Any]) -> str:
        emoji = entry["emoji"]
        return f"{emoji['name']}:{emoji['id']}" if emoji.get("id") else emoji["name"]

    async def _put_reaction(
        self, rq: RecordedRequest, channel_id: str, message_id: str, emoji: str, user: str
    ) -> tuple[int, Any]:
        if user != "@me":
            return _err(405, 0, "405: Method Not Allowed")
        msg = self._channel_message(channel_id, message_id)
        if isinstance(msg, tuple):
            return msg
        cid = int(channel_id)
        perms = self.permissions_for(self.bot_user_id, cid)
        needed = PERMISSIONS["read_message_history"] | PERMISSIONS["add_reactions"]
        if cid in self.channels and perms & needed != needed:
            return _err(403, 50013, "Missing Permissions")
        if self._add_reaction(msg, emoji, self.bot_user_id):
            await self._echo_reaction("MESSAGE_REACTION_ADD", msg, emoji, self.bot_user_id)
        return 204, None

    async def _delete_reaction(
        self, rq: RecordedRequest, channel_id: str, message_id: str, emoji: str, user: str
    ) -> tuple[int, Any]:
        msg = self._channel_message(channel_id, message_id)
        if isinstance(msg, tuple):
            return msg
        user_id = self.bot_user_id if user == "@me" else int(user)
        cid = int(channel_id)
        if user_id != self.bot_user_id and not (
            self.permissions_for(self.bot_user_id, cid) & PERMISSIONS["manage_messages"]
        ):
            return _err(403, 50013, "Missing Permissions")
        if self._remove_reaction(msg, emoji, user_id):
            await self._echo_reaction("MESSAGE_REACTION_REMOVE", msg, emoji, user_id)
        return 204, None

    # ---------------------------------------------------------------- REST: interactions

    def _interaction_metadata(self, interaction: Mapping[str, Any]) -> dict[str, Any]:
        user = interaction.get("member", {}).get("user") or interaction.get("user")
        meta: dict[str, Any] = {
            "id": interaction["id"],
            "type": interaction["type"],
            "user": user,
            "authorizing_integration_owners": interaction["authorizing_integration_owners"],
        }
        if interaction["type"] == APPLICATION_COMMAND:
            meta["name"] = interaction["data"]["name"]
            meta["command_type"] = interaction["data"].get("type", 1)
        elif interaction.get("message"):
            meta["interacted_message_id"] = interaction["message"]["id"]
        return meta

    def _interaction_channel_id(self, interaction: Mapping[str, Any]) -> int:
        return int(interaction["channel_id"])

    async def _callback(self, rq: RecordedRequest, interaction_id: str, token: str) -> tuple[int, Any]:
        iid = int(interaction_id) if interaction_id.isdigit() else 0
        inter = self.interactions.get(iid)
        if inter is None or inter["token"] != token:
            return _err(404, 10062, "Unknown interaction")
        if iid in self.callbacks:
            return _err(400, 40060, "Interaction has already been acknowledged.")
        age = asyncio.get_running_loop().time() - self._interaction_started[iid]
        if age > self.interaction_timeout:
            return _err(404, 10062, "Unknown interaction")
        body = rq.json or {}
        cb_type = int(body.get("type", 0))
        data = body.get("data")
        itype = inter["type"]
        allowed = {
            APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
            MESSAGE_COMPONENT: {
                CHANNEL_MESSAGE,
                DEFERRED_CHANNEL_MESSAGE,
                DEFERRED_UPDATE,
                UPDATE_MESSAGE,
                MODAL,
            },
            AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
            MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
        }[itype]
        if cb_type not in allowed:
            return _form_error("type", "INTERACTION_CALLBACK_TYPE_INVALID", "Invalid callback type")
        if cb_type in (DEFERRED_UPDATE, UPDATE_MESSAGE) and not inter.get("message"):
            return _form_error("type", "INTERACTION_CALLBACK_TYPE_INVALID", "No message to update")
        if cb_type == CHANNEL_MESSAGE and (err := self._validate_message(data or {}, rq.files)):
            return err
        if cb_type == UPDATE_MESSAGE and (
            err := self._validate_message(data or {}, rq.files, edit=True, message=inter.get("message"))
        ):
            return err
        if cb_type == AUTOCOMPLETE_RESULT and (err := _choices_error(data or {})):
            return err
        if cb_type == MODAL and (err := _modal_error(data or {})):
            return err

        callback = Callback(iid, cb_type, _copy(data), rq.files)
        self.callbacks[iid] = callback
        channel_id = self._interaction_channel_id(inter)
        message = None
        if cb_type in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            flags = int((data or {}).get("flags") or 0) & (EPHEMERAL | 4 | 4096 | 32768)
            if cb_type == DEFERRED_CHANNEL_MESSAGE:
                flags |= LOADING
                message = await self._create_message(channel_id, {}, [], interaction=inter, flags=flags)
            else:
                message = await self._create_message(
                    channel_id, data or {}, rq.files, interaction=inter, flags=flags
                )
            self._originals[iid] = int(message["id"])
        elif cb_type in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            message = self._message_index.get(int(inter["message"]["id"]))
            if message is None:  # a message the fake never saw; adopt the dispatched copy
                message = _copy(inter["message"])
                self._message_index[int(message["id"])] = message
                self.messages[int(message["channel_id"])].append(message)
            self._originals[iid] = int(message["id"])
            self._interaction_messages[iid].add(int(message["id"]))
            if cb_type == UPDATE_MESSAGE:
                await self._edit_message(message, data or {}, rq.files)
        callback.message = _copy(message)
        if rq.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        response: dict[str, Any] = {"interaction": {"id": str(iid), "type": itype}}
        if message is not None:
            response["interaction"].update(
                response_message_id=message["id"],
                response_message_loading=bool(message["flags"] & LOADING),
                response_message_ephemeral=bool(message["flags"] & EPHEMERAL),
            )
            response["resource"] = {"type": cb_type, "message": message}
        return 200, response

    def _token_interaction(self, application_id: str, token: str) -> int | None:
        if application_id != str(self.application_id):
            return None
        return self._tokens.get(token)

    async def _post_followup(self, rq: RecordedRequest, application_id: str, token: str) -> tuple[int, Any]:
        iid = self._token_interaction(application_id, token)
        if iid is None or iid not in self.callbacks:
            return _err(404, 10015, "Unknown Webhook")
        data = rq.json or {}
        if err := self._validate_message(data, rq.files):
            return err
        original = self._message_index.get(self._originals.get(iid, 0))
        if original is not None and original["flags"] & LOADING:
            # the first follow-up after a deferred response resolves the "thinking" message
            message = await self._edit_message(original, data, rq.files)
        else:
            flags = int(data.get("flags") or 0) & (EPHEMERAL | 4 | 4096 | 32768)
            inter = self.interactions[iid]
            message = await self._create_message(
                self._interaction_channel_id(inter), data, rq.files, interaction=inter, flags=flags
            )
        self.followups.append(Followup(iid, "POST", "", _copy(data), _copy(message)))
        if rq.query.get("wait") in ("1", "true", "True"):
            return 200, message
        return 204, None

    async def _webhook_msg(
        self, rq: RecordedRequest, application_id: str, token: str, message_id: str
    ) -> tuple[int, Any]:
        iid = self._token_interaction(application_id, token)
        if iid is None:
            return _err(404, 10015, "Unknown Webhook")
        if message_id == "@original":
            mid = self._originals.get(iid)
        else:
            mid = int(message_id) if message_id.isdigit() else None
            if mid not in self._interaction_messages[iid]:
                mid = None
        msg = self._message_index.get(mid) if mid else None
        if msg is None:
            return _err(404, 10008, "Unknown Message")
        data = rq.json or {}
        if rq.method == "PATCH":
            if err := self._validate_message(data, rq.files, edit=True, message=msg):
                return err
            await self._edit_message(msg, data, rq.files)
        elif rq.method == "DELETE":
            await self._delete(msg)
        self.followups.append(Followup(iid, rq.method, message_id, _copy(data), _copy(msg)))
        return (204, None) if rq.method == "DELETE" else (200, msg)

    # ---------------------------------------------------------------- gateway server

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(ws, request.query)
        self.connections.append(conn)
        try:
            if request.query.get("encoding", "json") != "json":
                await conn.close(4002, "Only JSON encoding is supported by the fake")
                return ws
            await conn.send(
                {
                    "op": 10,
                    "d": {
                        "heartbeat_interval": self.heartbeat_interval,
                        "_trace": ['["fake-gateway",{"micros":0}]'],
                    },
                    "s": None,
                    "t": None,
                }
            )
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    payload = json.loads(msg.data)
                except ValueError:
                    await conn.close(4002, "Error while decoding payload.")
                    break
                conn.received.append(payload)
                await self._on_client_frame(conn, payload)
                self._notify()
        finally:
            conn.ready = False
            if not conn.closed_by_server:
                conn.closed = True
                conn.close_code = ws.close_code
            if conn.session is not None:
                if conn.session.connection is conn:
                    conn.session.connection = None
                if not conn.closed_by_server and ws.close_code in (1000, 1001):
                    conn.session.invalid = True  # the client ended its session cleanly
            with contextlib.suppress(ValueError):
                self.connections.remove(conn)
            self._notify()
        return ws

    async def _on_client_frame(self, conn: GatewayConnection, payload: Mapping[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == 1:
            await conn.send({"op": 11, "d": None})
            conn._heartbeat(data if isinstance(data, int) else None)
        elif op == 2:
            await self._on_identify(conn, data or {})
        elif op == 6:
            await self._on_resume(conn, data or {})
        elif conn.session is None:
            await conn.close(4003, "Not authenticated.")
        elif op == 3:
            self.presence_updates.append(data)
        elif op == 4:
            pass  # voice state: ignored
        elif op == 8:
            await self._on_request_members(conn, data or {})
        else:
            await conn.close(4001, "Unknown opcode.")

    def _token_ok(self, token: Any) -> bool:
        return isinstance(token, str) and bool(token) and (self.token is None or token == self.token)

    async def _on_identify(self, conn: GatewayConnection, data: Mapping[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(4005, "Already authenticated.")
            return
        if self.identify_refusal is not None:
            await conn.close(*self.identify_refusal)
            return
        if self.garble_ready:
            await conn.ws.send_str("<html>502 Bad Gateway</html>")
            return
        token = data.get("token")
        if not self._token_ok(token):
            await conn.close(4004, "Authentication failed.")
            return
        shard_id, shard_count = (data.get("shard") or [0, 1])[:2]
        if not 0 <= shard_id < shard_count:
            await conn.close(4010, "Invalid shard.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            await conn.close(4013, "Invalid intent(s).")
            return
        if self.allowed_intents is not None and intents & Intents.PRIVILEGED & ~self.allowed_intents:
            await conn.close(4014, "Disallowed intent(s).")
            return
        self.identifies.append(_copy(dict(data)))
        session = GatewaySession(uuid.uuid4().hex, (shard_id, shard_count), intents, token)
        self.sessions[session.id] = session
        conn.session = session
        session.connection = conn
        conn.identify = dict(data)
        on_shard = self.bot_in_guild and self._shard_of(self.guild_id, shard_count) == shard_id
        ready = {
            "v": API_VERSION,
            "user_settings": {},
            "user": {
                **self.user_payload(self.bot_user_id),
                "verified": True,
                "mfa_enabled": False,
                "email": None,
            },
            "session_type": "normal",
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guilds": [
                {"id": str(guild_id), "unavailable": True}
                for guild_id in sorted(self.other_guilds | ({self.guild_id} if on_shard else set()))
                if self._shard_of(guild_id, shard_count) == shard_id
            ],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "game_relationships": [],
            "auth": {},
            "application": {"id": str(self.application_id), "flags": 0},
            "shard": [shard_id, shard_count],
            "_trace": ['["fake-gateway",{"micros":0}]'],
        }
        await conn.dispatch("READY", ready)
        if on_shard and intents & Intents.GUILDS and not self.guild_unavailable:
            await conn.dispatch("GUILD_CREATE", self.guild_create_payload())
        self._spawn(self._mark_ready(conn))

    async def _mark_ready(self, conn: GatewayConnection) -> None:
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await conn.barrier(timeout=30)
            conn.ready = True
            self._notify()

    async def _on_resume(self, conn: GatewayConnection, data: Mapping[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        self.resumes.append(_copy(dict(data)))
        if session is None or session.invalid or data.get("token") != session.token:
            await conn.send({"op": 9, "d": False})
            return
        if session.connection is not None and session.connection is not conn:
            old, old.session = session.connection, None
            await old.close(4000)
        conn.session = session
        session.connection = conn
        conn.identify = None
        seq = data.get("seq") or 0
        async with conn._lock:
            for payload in [p for p in session.sent if p["s"] > seq]:
                await conn._send_raw(payload)
        await conn.dispatch("RESUMED", {"_trace": ['["fake-gateway",{"micros":0}]']})
        self._spawn(self._mark_ready(conn))

    async def _on_request_members(self, conn: GatewayConnection, data: Mapping[str, Any]) -> None:
        query = data.get("query")
        user_ids = data.get("user_ids")
        limit = int(data.get("limit") or 0)
        if user_ids is not None:
            wanted = [int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])]
            found = [u for u in wanted if u in self.members]
            not_found = [str(u) for u in wanted if u not in self.members]
        else:
            found = [
                uid
                for uid in self.members
                if not query or self.users[uid]["username"].lower().startswith(query.lower())
            ]
            not_found = []
        if limit:
            found = found[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(self.guild_id),
            "members": [self.member_payload(uid) for uid in found],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": not_found,
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        if data.get("presences"):
            chunk["presences"] = []
        await conn.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    @staticmethod
    def _shard_of(guild_id: int, shard_count: int) -> int:
        return (guild_id >> 22) % shard_count

    def _guild_of(self, channel_id: int) -> int | None:
        return self.guild_id if channel_id in self.channels else None

    def _targets(self, guild_id: int | None, shard: int | None = None) -> list[GatewaySession]:
        """Live sessions (connected, or away but resumable) owning the guild's shard."""
        sessions = [s for s in self.sessions.values() if not s.invalid]
        if shard is not None:
            return [s for s in sessions if s.shard[0] == shard]
        if guild_id is None:
            return [s for s in sessions if s.shard[0] == 0]
        return [s for s in sessions if s.shard[0] == self._shard_of(guild_id, s.shard[1])]

    def _shape_for(self, intents: int, event: str, data: dict[str, Any]) -> Any:
        """Blank message content for clients without the MESSAGE_CONTENT intent, as Discord does."""
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or intents & Intents.MESSAGE_CONTENT:
            return data
        if "guild_id" not in data or data.get("author", {}).get("id") == str(self.bot_user_id):
            return data
        if any(int(m) == self.bot_user_id for m in _USER_MENTION.findall(data.get("content", ""))):
            return data
        return {**data, "content": "", "embeds": [], "attachments": [], "components": []}

    async def _broadcast(
        self,
        event: str,
        data: dict[str, Any],
        guild_id: int | None,
        shard: int | None = None,
    ) -> int:
        guild_intent, dm_intent = _EVENT_INTENTS.get(event, (0, 0))
        intent = guild_intent if guild_id is not None else dm_intent
        sent = 0
        for session in self._targets(guild_id, shard):
            if intent and not session.intents & intent:
                continue
            await session.dispatch(event, self._shape_for(session.intents, event, data))
            sent += 1
        self.dispatched.append((event, data, guild_id))
        self._notify()
        return sent

    async def _echo(self, event: str, msg: dict[str, Any]) -> None:
        if not self.echo_messages:
            return
        channel_id = int(msg["channel_id"])
        data = _copy(msg)
        guild_id = self._guild_of(channel_id)
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
            author_id = int(msg["author"]["id"])
            if author_id in self.members and "webhook_id" not in msg:
                data["member"] = self.member_payload(author_id, with_user=False)
        await self._broadcast(event, data, guild_id)

    async def _echo_reaction(
        self, event: str, msg: dict[str, Any], emoji: str, user_id: int
    ) -> dict[str, Any]:
        channel_id = int(msg["channel_id"])
        guild_id = self._guild_of(channel_id)
        data: dict[str, Any] = {
            "user_id": str(user_id),
            "type": 0,
            "message_id": msg["id"],
            "channel_id": msg["channel_id"],
            "emoji": self._emoji_payload(emoji),
            "burst": False,
        }
        if event == "MESSAGE_REACTION_ADD":
            data["message_author_id"] = msg["author"]["id"]
            data["burst_colors"] = []
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
            if event == "MESSAGE_REACTION_ADD" and user_id in self.members:
                data["member"] = self.member_payload(user_id)
        if self.echo_messages or user_id != self.bot_user_id:
            await self._broadcast(event, data, guild_id)
        return data

    # ---------------------------------------------------------------- dispatch helpers

    async def dispatch(
        self,
        event: str,
        data: dict[str, Any],
        *,
        guild_id: int | None = None,
        shard: int | None = None,
    ) -> dict[str, Any]:
        """Send a DISPATCH to the connection(s) owning the guild's shard (``data["guild_id"]``
        unless given; DMs go to shard 0), honouring intents. Returns ``data``."""
        if guild_id is None and data.get("guild_id"):
            guild_id = int(data["guild_id"])
        if not self._targets(guild_id, shard):
            raise RuntimeError(f"no gateway connection to dispatch {event} to (guild {guild_id})")
        await self._broadcast(event, data, guild_id, shard)
        return data

    async def replay(self, what: int | dict[str, Any]) -> dict[str, Any]:
        """Re-send an earlier dispatch unchanged: an interaction id, or the payload dict itself."""
        if isinstance(what, int):
            payload = self.interactions[what]
            event, guild_id = "INTERACTION_CREATE", int(payload.get("guild_id") or 0) or None
        else:
            found = next(((e, d, g) for e, d, g in reversed(self.dispatched) if d is what or d == what), None)
            if found is None:
                raise ValueError("replay() needs an interaction id or a payload dispatched before")
            event, payload, guild_id = found
        return await self.dispatch(event, payload, guild_id=guild_id)

    def _default_user(self, user_id: int | None) -> int:
        return user_id if user_id is not None else self.alice_id

    def _interaction_payload(
        self,
        itype: int,
        data: dict[str, Any] | None,
        *,
        user_id: int,
        channel_id: int,
        message: Mapping[str, Any] | None = None,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        iid = snowflake()
        raw_token = f"interaction:{iid}:{secrets.token_urlsafe(48)}"
        token = base64.urlsafe_b64encode(raw_token.encode()).decode().rstrip("=")
        in_guild = channel_id in self.channels
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "app_permissions": str(self.permissions_for(self.bot_user_id, channel_id)),
            "channel_id": str(channel_id),
            "channel": self.channel_payload(channel_id),
        }
        if data is not None:
            payload["data"] = data
        if in_guild:
            payload["channel"]["permissions"] = str(self.permissions_for(user_id, channel_id))
            payload["guild_id"] = str(self.guild_id)
            payload["guild"] = {"id": str(self.guild_id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = self.member_payload(user_id, permissions_in=channel_id)
            payload["authorizing_integration_owners"] = {"0": str(self.guild_id)}
            payload["context"] = 0
        else:
            payload["user"] = self.user_payload(user_id)
            payload["authorizing_integration_owners"] = {"0": "0"}
            payload["context"] = 1
        if message is not None:
            payload["message"] = _copy(dict(message))
        self.interactions[iid] = payload
        self._tokens[token] = iid
        self._interaction_started[iid] = asyncio.get_running_loop().time()
        return payload

    def _resolve_channel(self, user_id: int, channel_id: int | None, guild: bool) -> int:
        if channel_id is not None:
            return channel_id
        return self.general_id if guild else int(self.dm_channel(user_id)["id"])

    def _find_command(self, name: str, guild: bool) -> tuple[dict[str, Any] | None, int | None]:
        scopes: list[int | None] = [self.guild_id, None] if guild else [None]
        for scope in scopes:
            for cmd in self.app_commands.get(scope, []):
                if cmd["name"] == name and int(cmd.get("type", 1)) == 1:
                    return cmd, scope
        return None, None

    def _add_resolved(
        self,
        resolved: dict[str, dict[str, Any]],
        otype: int,
        value: int,
        channel_id: int,
        user_id: int | None = None,
    ) -> None:
        """Resolved users, members, roles and channels of an option. A channel's ``permissions``
        are the invoking user's there (Discord's channel object: "computed permissions for the
        invoking user in the channel, including overwrites", in resolved data only), not the
        app's: a bot learns its own from the server it has cached."""
        in_guild = channel_id in self.channels
        if otype in (6, 9) and value in self.users:
            resolved.setdefault("users", {})[str(value)] = self.user_payload(value)
            if in_guild and value in self.members:
                member = self.member_payload(value, with_user=False, permissions_in=channel_id)
                resolved.setdefault("members", {})[str(value)] = member
        elif otype in (8, 9) and value in self.roles:
            resolved.setdefault("roles", {})[str(value)] = _copy(self.roles[value])
        elif otype == 7 and value in self.channels:
            channel = self.channels[value]
            resolved.setdefault("channels", {})[str(value)] = {
                "id": channel["id"],
                "name": channel["name"],
                "type": channel["type"],
                "parent_id": channel["parent_id"],
                "guild_id": str(self.guild_id),
                "nsfw": channel.get("nsfw"),
                "position": channel.get("position"),
                "topic": channel.get("topic"),
                "rate_limit_per_user": channel.get("rate_limit_per_user"),
                "last_message_id": channel.get("last_message_id"),
                "flags": channel.get("flags"),
                "permissions": str(self.permissions_for(self._default_user(user_id), value)),
            }

    def _build_options(
        self,
        options: Mapping[str, Any] | list[dict[str, Any]] | None,
        schema: list[dict[str, Any]],
        resolved: dict[str, dict[str, Any]],
        channel_id: int,
        focused: str | None,
        user_id: int | None = None,
    ) -> list[dict[str, Any]]:
        if options is None:
            return []
        if isinstance(options, list):
            out = _copy(options)
            for opt in out:
                if opt.get("type") in (6, 7, 8, 9):
                    self._add_resolved(resolved, opt["type"], int(opt["value"]), channel_id, user_id)
                if focused and opt["name"] == focused:
                    opt["focused"] = True
            return out
        types = {o["name"]: int(o["type"]) for o in schema}
        out = []
        for name, value in options.items():
            if isinstance(value, Option):
                otype, value = value.type, value.value
            elif name in types:
                otype = types[name]
            elif isinstance(value, bool):
                otype = 5
            elif isinstance(value, int):
                otype = 4
            elif isinstance(value, float):
                otype = 10
            else:
                otype = 3
            opt: dict[str, Any] = {"name": name, "type": otype}
            if name == focused:
                opt["value"] = value if isinstance(value, str) else str(value)
                opt["focused"] = True
            elif otype in (6, 7, 8, 9):
                opt["value"] = str(value)
                self._add_resolved(resolved, otype, int(value), channel_id, user_id)
            elif otype == 4:
                opt["value"] = int(value)
            elif otype == 10:
                opt["value"] = float(value)
            elif otype == 5:
                opt["value"] = bool(value)
            else:
                opt["value"] = str(value)
            out.append(opt)
        return out

    def _command_data(
        self,
        name: str,
        options: Mapping[str, Any] | list[dict[str, Any]] | None,
        *,
        channel_id: int,
        guild: bool,
        focused: str | None = None,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        parts = name.split()
        cmd, scope = self._find_command(parts[0], guild)
        if cmd is not None:
            command_id = cmd["id"]
        else:
            command_id = str(self._unsynced_command_ids.setdefault(parts[0], snowflake()))
        resolved: dict[str, dict[str, Any]] = {}
        schema = (cmd or {}).get("options") or []
        nested: list[tuple[str, int]] = []
        for part in parts[1:]:
            sub = next((o for o in schema if o["name"] == part), None)
            otype = int(sub["type"]) if sub else (1 if part == parts[-1] else 2)
            nested.append((part, otype))
            schema = (sub or {}).get("options") or []
        leaf = self._build_options(options, schema, resolved, channel_id, focused, user_id)
        for part, otype in reversed(nested):
            leaf = [{"name": part, "type": otype, "options": leaf}]
        data: dict[str, Any] = {"id": command_id, "name": parts[0], "type": 1}
        if leaf:
            data["options"] = leaf
        if scope is not None:
            data["guild_id"] = str(scope)
        if resolved:
            data["resolved"] = resolved
        return data

    async def slash(
        self,
        name: str,
        options: Mapping[str, Any] | list[dict[str, Any]] | None = None,
        *,
        user_id: int | None = None,
        channel_id: int | None = None,
        guild: bool = True,
        locale: str = "en-US",
    ) -> int:
        """Dispatch a slash command (INTERACTION_CREATE type 2); return the interaction id.

        ``name`` may be ``"group sub"`` for subcommands. ``options`` is ``{name: value}``
        (types come from the synced command, else from the Python value or :class:`Option`)
        or a raw option list. Defaults: user alice, channel general; ``guild=False`` uses the
        user's DM channel.
        """
        user_id = self._default_user(user_id)
        channel_id = self._resolve_channel(user_id, channel_id, guild)
        data = self._command_data(name, options, channel_id=channel_id, guild=guild, user_id=user_id)
        payload = self._interaction_payload(
            APPLICATION_COMMAND, data, user_id=user_id, channel_id=channel_id, locale=locale
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any] | list[dict[str, Any]] | None = None,
        *,
        focused: str | None = None,
        user_id: int | None = None,
        channel_id: int | None = None,
        guild: bool = True,
        locale: str = "en-US",
    ) -> int:
        """Dispatch an autocomplete request (type 4) for option ``focused`` (or a raw option list
        already carrying ``"focused": True``); return the interaction id."""
        user_id = self._default_user(user_id)
        channel_id = self._resolve_channel(user_id, channel_id, guild)
        data = self._command_data(
            name, options, channel_id=channel_id, guild=guild, focused=focused, user_id=user_id
        )
        payload = self._interaction_payload(
            AUTOCOMPLETE, data, user_id=user_id, channel_id=channel_id, locale=locale
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def context_menu(
        self,
        name: str,
        target: int | Mapping[str, Any],
        *,
        user_id: int | None = None,
        channel_id: int | None = None,
    ) -> int:
        """Dispatch a user command (``target`` a user id) or a message command (``target`` a
        stored message dict); return the interaction id."""
        user_id = self._default_user(user_id)
        channel_id = self._resolve_channel(user_id, channel_id, True)
        resolved: dict[str, dict[str, Any]] = {}
        if isinstance(target, int):
            ctype, target_id = 2, target
            self._add_resolved(resolved, 6, target, channel_id, user_id)
        else:
            ctype, target_id = 3, int(target["id"])
            resolved["messages"] = {str(target_id): _copy(dict(target))}
        cmd = next(
            (
                (c, scope)
                for scope in (self.guild_id, None)
                for c in self.app_commands.get(scope, [])
                if c["name"] == name and int(c["type"]) == ctype
            ),
            None,
        )
        data: dict[str, Any] = {
            "id": cmd[0]["id"] if cmd else str(snowflake()),
            "name": name,
            "type": ctype,
            "target_id": str(target_id),
            "resolved": resolved,
        }
        if cmd and cmd[1] is not None:
            data["guild_id"] = str(cmd[1])
        payload = self._interaction_payload(APPLICATION_COMMAND, data, user_id=user_id, channel_id=channel_id)
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def click(
        self,
        message: Mapping[str, Any] | int,
        custom_id: str,
        *,
        user_id: int | None = None,
        component_type: int = 2,
        values: list[str] | None = None,
    ) -> int:
        """Dispatch a component interaction (type 3) on a stored message (dict or id); return the
        interaction id. For selects pass ``component_type`` (3 string select...) and ``values``."""
        msg = self.message(message) if isinstance(message, int) else message
        user_id = self._default_user(user_id)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None or component_type != 2:
            data["values"] = list(values or [])
        payload = self._interaction_payload(
            MESSAGE_COMPONENT,
            data,
            user_id=user_id,
            channel_id=int(msg["channel_id"]),
            message=msg,
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def submit_modal(
        self,
        interaction_id: int,
        values: Mapping[str, str],
        *,
        user_id: int | None = None,
    ) -> int:
        """Submit the modal that interaction ``interaction_id`` answered with (callback type 9),
        ``values`` keyed by text input custom_id; return the new interaction id."""
        callback = self.callbacks[interaction_id]
        if callback.type != MODAL:
            raise ValueError(f"interaction {interaction_id} was not answered with a modal")
        opened = self.interactions[interaction_id]
        modal = callback.data or {}

        def submitted(component: Mapping[str, Any]) -> dict[str, Any] | None:
            ctype = component.get("type")
            if ctype == 1:
                inner = [s for c in component.get("components", []) if (s := submitted(c))]
                return {"type": 1, "id": component.get("id", 0), "components": inner}
            if ctype == 18:
                inner_component = submitted(component["component"])
                return {"type": 18, "id": component.get("id", 0), "component": inner_component}
            if ctype == 4:
                return {
                    "type": 4,
                    "id": component.get("id", 0),
                    "custom_id": component["custom_id"],
                    "value": values.get(component["custom_id"], component.get("value") or ""),
                }
            if ctype in (3, 5, 6, 7, 8):
                return {
                    "type": ctype,
                    "id": component.get("id", 0),
                    "custom_id": component["custom_id"],
                    "values": list(values.get(component["custom_id"], [])),
                }
            return None

        components = [s for c in modal.get("components", []) if (s := submitted(c))]
        default_user = opened.get("member", {}).get("user") or opened.get("user")
        payload = self._interaction_payload(
            MODAL_SUBMIT,
            {"custom_id": modal["custom_id"], "components": components},
            user_id=user_id if user_id is not None else int(default_user["id"]),
            channel_id=int(opened["channel_id"]),
            message=opened.get("message"),
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def react(
        self, channel_id: int, message_id: int, emoji: str, user_id: int | None = None
    ) -> dict[str, Any]:
        """A user adds a reaction: MESSAGE_REACTION_ADD (with ``member`` in guilds). Returns the
        payload. ``emoji``: a unicode emoji or ``name:id`` / ``<:name:id>``."""
        user_id = self._default_user(user_id)
        msg = self._message_index.get(message_id) or {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": self.user_payload(self.bot_user_id),
        }
        if not self._targets(self._guild_of(channel_id)):
            raise RuntimeError("no gateway connection to dispatch MESSAGE_REACTION_ADD to")
        if message_id in self._message_index:
            self._add_reaction(msg, emoji, user_id)
        return await self._echo_reaction("MESSAGE_REACTION_ADD", msg, emoji, user_id)

    async def unreact(
        self, channel_id: int, message_id: int, emoji: str, user_id: int | None = None
    ) -> dict[str, Any]:
        """A user removes a reaction: MESSAGE_REACTION_REMOVE. Returns the payload."""
        user_id = self._default_user(user_id)
        msg = self._message_index.get(message_id) or {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": self.user_payload(self.bot_user_id),
        }
        if message_id in self._message_index:
            self._remove_reaction(msg, emoji, user_id)
        return await self._echo_reaction("MESSAGE_REACTION_REMOVE", msg, emoji, user_id)

    async def add_message(
        self,
        channel_id: int,
        content: str = "",
        *,
        author_id: int | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Store a message (by the bot unless ``author_id``), e.g. one posted before the client
        started; ``fields`` are message create fields (``components``, ``embeds``...). Returns it."""
        return await self._create_message(channel_id, {"content": content, **fields}, [], author_id=author_id)

    async def user_message(
        self, channel_id: int, content: str, *, user_id: int | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A user posts a message (stored, and MESSAGE_CREATE dispatched even with
        ``echo_messages=False``). Returns the stored message."""
        user_id = self._default_user(user_id)
        echo, self.echo_messages = self.echo_messages, True
        try:
            return await self._create_message(
                channel_id, {"content": content, **extra}, [], author_id=user_id
            )
        finally:
            self.echo_messages = echo

    async def reconnect(self, shard: int | None = None) -> None:
        """Ask clients to reconnect and RESUME (op 7)."""
        for conn in list(self.connections):
            if conn.session and (shard is None or conn.shard[0] == shard):
                await conn.send({"op": 7, "d": None})

    async def disconnect(self, code: int = 4000, *, shard: int | None = None) -> None:
        """Close client websockets with ``code``; sessions stay resumable (unless 1000/1001) and
        events dispatched meanwhile are replayed on RESUME."""
        for conn in list(self.connections):
            if shard is None or conn.shard[0] == shard:
                await conn.close(code)

    async def invalidate_session(self, *, resumable: bool = False, shard: int | None = None) -> None:
        """Send INVALID_SESSION (op 9); without ``resumable`` the session is dropped."""
        for conn in list(self.connections):
            if conn.session and (shard is None or conn.shard[0] == shard):
                if not resumable:
                    conn.session.invalid = True
                await conn.send({"op": 9, "d": resumable})
