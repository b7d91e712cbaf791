"""Loopback fakes for Slack: its Web API (`FakeSlack`) and its side of HTTP mode (`SlackSender`).

`FakeSlack` answers what `slack_sdk.web.async_client.AsyncWebClient` sends when created with
`base_url=fake.api_url`; `SlackSender` posts correctly signed commands, interactions and events
to a Bolt app served on 127.0.0.1 (see `serve_bolt_app`). Nothing here talks to slack.com.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlencode

from aiohttp import ClientSession, web
from multidict import CIMultiDictProxy
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_blocks import ack_errors, message_errors, refusal, view_errors

__all__ = [
    "Call",
    "FakeSlack",
    "InvalidAck",
    "SlackReply",
    "SlackSender",
    "reaction_event",
    "serve_bolt_app",
]

DEFAULT_SCOPES = "chat:write,commands,im:write,reactions:read,reactions:write,users:read,usergroups:read"
JSON_FIELDS = ("blocks", "attachments", "view", "metadata", "user_auth_blocks")
TARGET_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.update",
        "chat.delete",
        "chat.scheduleMessage",
        "chat.getPermalink",
        "conversations.open",
        "reactions.add",
        "reactions.remove",
    }
)


@dataclass(frozen=True)
class Call:
    """One request the fake received: API method (or ``"response_url"``), parsed args, answer."""

    method: str
    args: dict[str, Any]
    token: str | None = None
    status: int = 200
    response: Any = None
    response_id: str | None = None
    block_errors: tuple[str, ...] = ()  # why Slack refused its blocks or view (Block Kit limits)

    @property
    def ok(self) -> bool:
        """True if accepted: HTTP 200 and ``ok: true`` (response_url posts always are)."""
        if self.status != 200:
            return False
        if isinstance(self.response, dict):
            return bool(self.response.get("ok"))
        return self.response == "ok"

    @property
    def error(self) -> str | None:
        """Slack's error code (``ratelimited`` for 429s), else None."""
        return self.response.get("error") if isinstance(self.response, dict) else None

    @property
    def channel(self) -> str | None:
        return self.args.get("channel")

    @property
    def text(self) -> str | None:
        return self.args.get("text")

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return self.args.get("blocks") or []

    @property
    def ts(self) -> str | None:
        """The message ts: the one asked for (update, reactions) or the one the fake assigned."""
        for key in ("ts", "timestamp", "message_ts"):
            if self.args.get(key):
                return self.args[key]
        if isinstance(self.response, dict):
            return self.response.get("ts") or self.response.get("message_ts")
        return None

    def __getitem__(self, key: str) -> Any:
        return self.args[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.args.get(key, default)


@dataclass
class _Fault:
    methods: frozenset[str] | None
    error: str | None = None
    target: str | None = None
    status: int = 200
    retry_after: int | None = None
    times: int | None = None  # None: forever
    drop: bool = False  # close the connection without an answer


@dataclass
class _Hold:
    """Calls of one method kept unanswered until ``until`` of them wait together (see hold)."""

    until: int
    within: float
    waiting: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _State:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    usergroup_teams: dict[str, str] = field(default_factory=dict)  # a group's workspace (Grid)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    reactions: set[tuple[str, str, str]] = field(default_factory=set)
    # Users of another organisation (Slack Connect) who share no channel with the bot any more:
    # conversations.open refuses to start a DM with them.
    apart: set[str] = field(default_factory=set)
    # Channels described by add_channel (conversations.info); any other channel id is a public
    # channel copbot is in.
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)


class FakeSlack:
    """A local Slack Web API on 127.0.0.1; ``async with FakeSlack() as fake: ...``.

    Lenient where tests benefit (unknown users are synthesised, ``chat.update`` / ``views.update``
    accept unknown ids) and strict where Slack's answer matters (auth, ``no_text``,
    ``already_reacted``, ``no_reaction``, ``no_such_subteam``, and Block Kit's limits: see
    :mod:`tests.fakes.slack_blocks`; `refused_blocks` lists what was refused for them). Use a
    token starting with ``xoxb-``: Bolt treats other tokens as user tokens.
    """

    def __init__(
        self,
        *,
        tokens: Iterable[str] | None = None,
        team_id: str = "T0FAKE",
        team: str = "Fake Team",
        team_domain: str = "fake-team",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        bot_name: str = "copbot",
        app_id: str = "A0FAKE",
        scopes: str = DEFAULT_SCOPES,
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> None:
        # An Enterprise Grid install: ``enterprise_id`` its organisation; ``org_wide`` installed
        # for the whole organisation (auth.test says so; ``team_id`` is then what it names as
        # the team: the organisation's id, or "" for none).
        self.enterprise_id, self.org_wide = enterprise_id, org_wide
        self.tokens = set(tokens) if tokens is not None else None
        self.team_id, self.team, self.team_domain = team_id, team, team_domain
        self.bot_user_id, self.bot_id = bot_user_id, bot_id
        self.bot_name, self.app_id = bot_name, app_id
        self.scopes = scopes
        self.calls: list[Call] = []
        self.state = _State()
        self._faults: list[_Fault] = []
        # method -> [limit, per seconds, {key: (window ends, calls in it)}]: see limit_rate.
        self._limits: dict[str, tuple[int, float, dict[str, tuple[float, int]]]] = {}
        self._response_faults: list[tuple[int, str]] = []  # (status, body) for response_url posts
        self._holds: dict[str, _Hold] = {}
        self.holds_met: list[str] = []  # the methods whose held calls met (see hold)
        self._per_channel: frozenset[str] = frozenset()
        self._changed = asyncio.Event()
        self._ids = itertools.count(1)
        self._ts_base = int(time.time())
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """Base URL for ``AsyncWebClient(base_url=...)`` (ends with ``/api/``)."""
        return f"{self.base_url}/api/"

    def response_url(self, rid: str | None = None) -> str:
        """A response_url whose POSTs land in `responses`."""
        return f"{self.base_url}/response/{rid or f'R{next(self._ids):04d}'}"

    # ------------------------------------------------------------------ fixtures

    def dm_channel(self, user_id: str) -> str:
        """The id `conversations.open` answers for a DM with ``user_id``."""
        return "D" + user_id[1:]

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        real_name: str | None = None,
        display_name: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        tz: str = "Etc/UTC",
        team_id: str | None = None,
        shares_a_channel: bool = True,
        teams: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """Register a user for `users.info`; returns Slack's user object.

        ``team_id``: the user's own team when it is not the installed one (a member of another
        organisation, met in a Slack Connect channel); ``shares_a_channel=False``: such a user
        no longer shares a channel with the bot, so `conversations.open` refuses a DM with them
        (``invalid_user_combination``, "All external people must already be in at least one
        channel together"). ``teams``: in an Enterprise Grid organisation (``enterprise_id``
        set), the workspaces the user belongs to (``enterprise_user.teams``; default their own).
        """
        name = name or user_id.lower()
        team_id = team_id or self.team_id
        if team_id != self.team_id and not shares_a_channel:
            self.state.apart.add(user_id)
        real_name = real_name if real_name is not None else name.title()
        display_name = display_name if display_name is not None else name
        user = {
            "id": user_id,
            "team_id": team_id,
            "name": name,
            "real_name": real_name,
            "deleted": deleted,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "tz": tz,
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": display_name,
                "display_name_normalized": display_name,
                "team": team_id,
            },
        }
        if user_id in self.state.apart:  # users.info: of another team, in no channel the app sees
            user["is_stranger"] = True
        if self.enterprise_id and (teams is not None or team_id == self.team_id):
            user["enterprise_user"] = {
                "id": user_id,
                "enterprise_id": self.enterprise_id,
                "enterprise_name": self.team,
                "is_admin": is_admin,
                "is_owner": is_owner,
                "teams": list(teams) if teams is not None else [team_id],
            }
        self.state.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        private: bool = False,
        member: bool = True,
        archived: bool = False,
    ) -> None:
        """A channel as ``conversations.info`` describes it: a private one copbot is not a member
        of is ``channel_not_found`` to copbot, as on Slack."""
        self.state.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "is_channel": not private,
            "is_group": private,
            "is_private": private,
            "is_archived": archived,
            "is_member": member,
        }

    def add_usergroup(self, usergroup_id: str, users: Iterable[str], *, team_id: str | None = None) -> None:
        """Register a user group for `usergroups.users.list`; ``team_id``: the workspace of the
        organisation it belongs to, which an org-wide install must name to list it."""
        self.state.usergroups[usergroup_id] = list(users)
        self.state.usergroup_teams[usergroup_id] = team_id or self.team_id

    # ------------------------------------------------------------------ failure injection

    def fail(
        self,
        target: str,
        error: str = "channel_not_found",
        *,
        methods: Iterable[str] | None = None,
        times: int | None = None,
        status: int = 200,
        drop: bool = False,
    ) -> None:
        """Answer ``{"ok": false, "error": error}`` to calls aimed at ``target``.

        A call is aimed at a channel or user id when its ``channel``, ``user`` or ``users`` arg
        names it (or, for a user, its DM channel). ``methods`` defaults to the posting/DM/reaction
        methods; ``times=None`` fails forever. ``status`` answers with that HTTP status instead
        of 200 (a 5xx outage); ``drop`` closes the connection without any answer (recorded with
        status 0), as a proxy or a network cut does.
        """
        ms = frozenset(methods) if methods is not None else TARGET_METHODS
        self._faults.append(
            _Fault(methods=ms, error=error, target=target, times=times, status=status, drop=drop)
        )

    def fail_method(self, method: str, error: str, *, times: int | None = 1, status: int = 200) -> None:
        """Answer the next ``times`` calls of ``method`` (None: all) with Slack error ``error``,
        with HTTP ``status`` (a 5xx: an outage)."""
        self._faults.append(_Fault(methods=frozenset({method}), error=error, times=times, status=status))

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 429 and ``Retry-After``."""
        self._faults.append(
            _Fault(
                methods=frozenset({method}),
                error="ratelimited",
                status=429,
                retry_after=retry_after,
                times=times,
            )
        )

    def limit_rate(self, limits: Mapping[str, tuple[int, float]], *, per_channel: Iterable[str] = ()) -> None:
        """Enforce Slack's rate limits from now on: method → (calls, per seconds), for the app
        as a whole, or per channel for the methods in ``per_channel`` (chat.postMessage: about
        one a second in each). A call beyond it is answered as Slack does: HTTP 429,
        ``ratelimited``, and ``Retry-After`` the whole seconds until its window ends."""
        self._limits = {method: (limit, per, {}) for method, (limit, per) in limits.items()}
        self._per_channel = frozenset(per_channel)

    def _limited(self, method: str, args: Mapping[str, Any]) -> int | None:
        """Seconds to wait (Retry-After) when the call is beyond :meth:`limit_rate`'s limits."""
        if method not in self._limits:
            return None
        limit, per, windows = self._limits[method]
        key = str(args.get("channel") or args.get("users") or "") if method in self._per_channel else ""
        now = time.monotonic()
        ends, used = windows.get(key, (0.0, 0))
        if now >= ends:
            ends, used = now + per, 0
        if used >= limit:
            return max(1, int(ends - now + 0.999))
        windows[key] = (ends, used + 1)
        return None

    def fail_responses(self, status: int = 500, body: str = "internal_error", *, times: int = 1) -> None:
        """Answer the next ``times`` response_url posts with HTTP ``status`` and ``body``, taking
        nothing (Slack's ``expired_url``/``used_url`` are 404s; an outage a 5xx)."""
        self._response_faults += [(status, body)] * times

    def hold(self, method: str, *, until: int = 2, within: float = 5.0) -> None:
        """Keep the next calls of ``method`` unanswered until ``until`` of them wait at once, then
        answer them all (once): two tasks are then surely in the middle of the same work
        together. ``within`` seconds bounds the wait, so that a test whose calls never meet
        fails on :attr:`holds_met` instead of hanging."""
        self._holds[method] = _Hold(until, within)

    async def _held(self, method: str) -> None:
        hold = self._holds.get(method)
        if hold is None:
            return
        hold.waiting += 1
        if hold.waiting >= hold.until:
            del self._holds[method]
            self.holds_met.append(method)
            hold.released.set()
            return
        try:
            await asyncio.wait_for(hold.released.wait(), hold.within)
        except TimeoutError:
            self._holds.pop(method, None)

    def clear_failures(self) -> None:
        self._faults.clear()
        self._limits.clear()
        self._response_faults.clear()

    # ------------------------------------------------------------------ recorded calls

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Calls of ``method`` (all, or only accepted/refused ones)."""
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    @property
    def posts(self) -> list[Call]:
        """Accepted `chat.postMessage` calls."""
        return self.calls_to("chat.postMessage", ok=True)

    @property
    def ephemerals(self) -> list[Call]:
        """Accepted `chat.postEphemeral` calls."""
        return self.calls_to("chat.postEphemeral", ok=True)

    @property
    def updates(self) -> list[Call]:
        """Accepted `chat.update` calls."""
        return self.calls_to("chat.update", ok=True)

    @property
    def reactions(self) -> list[Call]:
        """Accepted `reactions.add` calls (see `reactions_removed`)."""
        return self.calls_to("reactions.add", ok=True)

    @property
    def reactions_removed(self) -> list[Call]:
        return self.calls_to("reactions.remove", ok=True)

    @property
    def refused_blocks(self) -> list[Call]:
        """Messages and views refused for breaking Block Kit's limits (``errors`` say where)."""
        return [c for c in self.calls if c.block_errors]

    @property
    def responses(self) -> list[Call]:
        """POSTs to response_urls; args hold the JSON (``response_type``, ``replace_original``)."""
        return self.calls_to("response_url")

    def dms(self, user_id: str) -> list[Call]:
        """Accepted `chat.postMessage` calls to ``user_id`` or to its DM channel."""
        return [c for c in self.posts if c.channel in (user_id, self.dm_channel(user_id))]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The current state of a message the bot posted (after any `chat.update`)."""
        return self.state.messages.get((channel, ts))

    def reset(self) -> None:
        """Forget recorded calls (state and failures stay)."""
        self.calls.clear()

    async def wait_for(
        self,
        match: str | Callable[[Call], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the fixture's own deadline
        count: int = 1,
    ) -> Call:
        """Wait until ``count`` recorded calls match; return the ``count``-th one.

        ``match`` is a method name or a predicate over `Call`. Raises AssertionError listing the
        recorded calls on timeout.
        """
        pred = (lambda c: c.method == match) if isinstance(match, str) else match
        try:
            async with asyncio.timeout(timeout):
                while True:
                    found = [c for c in self.calls if pred(c)]
                    if len(found) >= count:
                        return found[count - 1]
                    await self._changed.wait()
        except TimeoutError:
            seen = "\n  ".join(f"{c.method} {c.status} {c.args}" for c in self.calls) or "(none)"
            raise AssertionError(
                f"no {count} call(s) matching {match!r} within {timeout}s; recorded:\n  {seen}"
            ) from None

    # ------------------------------------------------------------------ HTTP side

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()
        self._changed = asyncio.Event()

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        text = await request.text()
        try:
            body = json.loads(text) if text else {}
        except ValueError:
            body = {"_raw": text}
        rid = request.match_info["rid"]
        if self._response_faults:
            status, answer = self._response_faults.pop(0)
            self._record(Call("response_url", body, status=status, response=answer, response_id=rid))
            return web.Response(status=status, text=answer)
        errors = tuple(message_errors(body))
        if errors:  # Slack answers a response_url post it cannot show with a 400
            call = Call("response_url", body, status=400, response="invalid_blocks", response_id=rid)
            self._record(dataclasses.replace(call, block_errors=errors))
            return web.Response(status=400, text="invalid_blocks")
        self._record(Call("response_url", body, response="ok", response_id=rid))
        return web.Response(text="ok")

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _parse_args(request)
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else args.pop("token", None)
        headers = {"X-OAuth-Scopes": self.scopes}
        await self._held(method)

        status, answer = 200, None
        fault = self._take_fault(method, args)
        if fault is not None and fault.drop:
            self._record(Call(method, args, token=token, status=0))
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if fault is not None and fault.status != 200:
            status, answer = fault.status, {"ok": False, "error": fault.error}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
        elif (wait := self._limited(method, args)) is not None:
            status, answer = 429, {"ok": False, "error": "ratelimited"}
            headers["Retry-After"] = str(wait)
        elif not token:
            answer = {"ok": False, "error": "not_authed"}
        elif self.tokens is not None and token not in self.tokens:
            answer = {"ok": False, "error": "invalid_auth"}
        elif fault is not None:
            answer = {"ok": False, "error": fault.error}
        else:
            handler = getattr(self, "_api_" + method.replace(".", "_"), None)
            answer = handler(args) if handler else {"ok": True}
        problems = tuple(answer.pop("_block_errors", ())) if isinstance(answer, dict) else ()
        self._record(Call(method, args, token, status, answer, block_errors=problems))
        return web.json_response(answer, status=status, headers=headers)

    def _take_fault(self, method: str, args: Mapping[str, Any]) -> _Fault | None:
        for fault in self._faults:
            if fault.methods is not None and method not in fault.methods:
                continue
            if fault.target is not None and not self._aims_at(args, fault.target):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            return fault
        return None

    def _aims_at(self, args: Mapping[str, Any], target: str) -> bool:
        names = {args.get("channel"), args.get("user")}
        names.update(str(args.get("users") or "").split(","))
        return target in names or self.dm_channel(target) in names

    def _new_ts(self) -> str:
        n = next(self._ids)
        return f"{self._ts_base + n // 1_000_000}.{n % 1_000_000:06d}"

    def _bot_message(self, args: Mapping[str, Any], ts: str) -> dict[str, Any]:
        msg = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
            "text": args.get("text", ""),
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if args.get(key) is not None:
                msg[key] = args[key]
        return msg

    # ------------------------------------------------------------------ API methods

    @staticmethod
    def _refuse_blocks(error: str, errors: list[str]) -> dict[str, Any]:
        """Slack's answer to a message or view it cannot show: which limits, where."""
        messages = [f"[ERROR] {e}" for e in errors]
        answer: dict[str, Any] = {"ok": False, "error": error, "_block_errors": errors}
        if error == "invalid_blocks":
            answer["errors"] = errors
        answer["response_metadata"] = {"messages": messages}
        return answer

    def _api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": self.org_wide,
            **({"enterprise_id": self.enterprise_id} if self.enterprise_id else {}),
        }

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        if errors := message_errors(args):
            return self._refuse_blocks(refusal(errors), errors)
        if channel[0] in "UW":  # posting to a user id lands in the app's DM with them
            channel = self.dm_channel(channel)
        ts = self._new_ts()
        message = self._bot_message(args, ts)
        self.state.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_found"}
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        if errors := message_errors(args):
            return self._refuse_blocks(refusal(errors), errors)
        return {"ok": True, "message_ts": self._new_ts()}

    def _api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        if errors := message_errors(args):
            return self._refuse_blocks(refusal(errors), errors)
        message = {**self.state.messages.get((channel, ts), {}), **self._bot_message(args, ts)}
        self.state.messages[(channel, ts)] = message
        text = message["text"]
        return {"ok": True, "channel": channel, "ts": ts, "text": text, "message": message}

    def _api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), str(args.get("message_ts", ""))
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if any(user in self.state.apart for user in users):
            return {"ok": False, "error": "invalid_user_combination"}
        if len(users) == 1:
            channel_id = self.dm_channel(users[0])
        else:
            digest = hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()
            channel_id = "G" + digest[:9].upper()
        return {"ok": True, "channel": {"id": channel_id}}

    def _api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(args.get("channel") or "")
        if not channel_id:
            return {"ok": False, "error": "channel_not_found"}
        channel = self.state.channels.get(channel_id) or {
            "id": channel_id,
            "name": channel_id.lower(),
            "is_channel": True,
            "is_group": False,
            "is_private": False,
            "is_archived": False,
            "is_member": True,
        }
        if channel["is_private"] and not channel["is_member"]:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": dict(channel)}

    def _api_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (args.get("channel", ""), args.get("timestamp", ""), args.get("name", ""))
        if not all(key):
            return {"ok": False, "error": "invalid_arguments"}
        if key in self.state.reactions:
            return {"ok": False, "error": "already_reacted"}
        self.state.reactions.add(key)
        return {"ok": True}

    def _api_reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (args.get("channel", ""), args.get("timestamp", ""), args.get("name", ""))
        if key not in self.state.reactions:
            return {"ok": False, "error": "no_reaction"}
        self.state.reactions.discard(key)
        return {"ok": True}

    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        user = self.state.users.get(user_id) or self.add_user(user_id)
        return {"ok": True, "user": user}

    def _api_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = args.get("usergroup", "")
        users = self.state.usergroups.get(group)
        if self.org_wide:  # an org token: "team_id … required if org token is used"
            if not args.get("team_id"):
                return {"ok": False, "error": "missing_argument"}
            if self.state.usergroup_teams.get(group) != args["team_id"]:
                users = None
        if users is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(users)}

    def _view(self, view_id: str, view: Mapping[str, Any]) -> dict[str, Any]:
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "hash": secrets.token_hex(8),
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
            **view,
        }
        self.state.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        if not isinstance(args.get("view"), dict):
            return {"ok": False, "error": "invalid_arguments"}
        if errors := view_errors(args["view"]):
            return self._refuse_blocks("invalid_arguments", errors)
        return self._view(f"V{next(self._ids):08d}", args["view"])

    def _api_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._api_views_open(args)

    def _api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(args.get("view"), dict):
            return {"ok": False, "error": "invalid_arguments"}
        if errors := view_errors(args["view"]):
            return self._refuse_blocks("invalid_arguments", errors)
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            ext = args["external_id"]
            ids = [v["id"] for v in self.state.views.values() if v["external_id"] == ext]
            view_id = ids[0] if ids else None
        if not view_id:
            return {"ok": False, "error": "not_found"}
        return self._view(view_id, args["view"])


async def _parse_args(request: web.Request) -> dict[str, Any]:
    """Merge query string, form or JSON body; JSON-decode fields like ``blocks``."""
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, item in (await request.post()).items():
                args[key] = item if isinstance(item, str) else getattr(item, "filename", "")
        else:
            text = await request.text()
            try:
                args.update(json.loads(text))
            except ValueError:
                args["_raw"] = text
    for key in JSON_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value.startswith(("[", "{")):
            try:
                args[key] = json.loads(value)
            except ValueError:
                pass
    return args


# ---------------------------------------------------------------------- Slack -> app


class InvalidAck(AssertionError):
    """The app acked with a message or view Slack would refuse (Block Kit's limits): Slack shows
    the user an error instead of it. ``errors`` say which limits, where."""

    def __init__(self, errors: list[str], body: str) -> None:
        super().__init__("Slack would refuse this ack: " + "; ".join(errors) + f"\n{body[:2000]}")
        self.errors = errors


class SlackReply(NamedTuple):
    """What the app answered: ``status, text, headers = reply``."""

    status: int
    text: str
    headers: CIMultiDictProxy[str]

    def json(self) -> Any:
        return json.loads(self.text)


def reaction_event(
    user_id: str,
    reaction: str,
    channel_id: str,
    ts: str,
    *,
    item_user: str | None = None,
    removed: bool = False,
) -> dict[str, Any]:
    """A ``reaction_added`` (or ``reaction_removed``) event as Slack delivers it."""
    event = {
        "type": "reaction_removed" if removed else "reaction_added",
        "user": user_id,
        "reaction": reaction,
        "item": {"type": "message", "channel": channel_id, "ts": ts},
        "event_ts": f"{time.time():.6f}",
    }
    if item_user:
        event["item_user"] = item_user
    return event


def member_joined_event(
    user_id: str, channel_id: str, *, inviter: str | None = None, team_id: str = "T0FAKE"
) -> dict[str, Any]:
    """A ``member_joined_channel`` event as Slack delivers it: ``user_id`` joined (or was
    invited by ``inviter`` to) ``channel_id``. copbot gets it for its own join too."""
    event = {
        "type": "member_joined_channel",
        "user": user_id,
        "channel": channel_id,
        "channel_type": "C",
        "team": team_id,
        "event_ts": f"{time.time():.6f}",
    }
    if inviter:
        event["inviter"] = inviter
    return event


def unarchive_event(channel_id: str, *, user_id: str = "U0MOD", private: bool = False) -> dict[str, Any]:
    """A ``channel_unarchive`` event (``group_unarchive`` for a private channel) as Slack
    delivers it: ``user_id`` unarchived ``channel_id``."""
    return {
        "type": "group_unarchive" if private else "channel_unarchive",
        "channel": channel_id,
        "user": user_id,
        "event_ts": f"{time.time():.6f}",
    }


class SlackSender:
    """Sends requests to a Bolt app over HTTP the way Slack does, signed with v0 HMAC.

    Every method takes ``bad_signature`` (signed with another secret), ``stale`` (correctly
    signed, timestamp 6 minutes old), ``retry_num``/``retry_reason`` (``X-Slack-Retry-*``) and
    ``headers`` (extra or overriding headers). When ``fake`` is given, defaults (team, bot user,
    response_url) come from it; without it response_urls point at a closed local port, never
    at slack.com.
    """

    def __init__(
        self,
        url: str,
        signing_secret: str,
        *,
        fake: FakeSlack | None = None,
        team_id: str | None = None,
        team_domain: str | None = None,
        api_app_id: str | None = None,
        bot_user_id: str | None = None,
        bot_id: str | None = None,
        verification_token: str = "fake-verification-token",
        check_acks: bool = True,
    ) -> None:
        self.url = url
        # Whether each ack is checked against Block Kit's limits (InvalidAck): the tests' safety
        # net; a benchmark timing the response turns it off, as it costs the sender's time.
        self.check_acks = check_acks
        self.signing_secret = signing_secret
        self.fake = fake
        self.team_id = team_id or (fake.team_id if fake else "T0FAKE")
        self.team_domain = team_domain or (fake.team_domain if fake else "fake-team")
        self.api_app_id = api_app_id or (fake.app_id if fake else "A0FAKE")
        self.bot_user_id = bot_user_id or (fake.bot_user_id if fake else "U0BOT")
        self.bot_id = bot_id or (fake.bot_id if fake else "B0BOT")
        self.verification_token = verification_token
        self._session: ClientSession | None = None
        self._ids = itertools.count(1)

    async def __aenter__(self) -> SlackSender:
        self._session = ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ transport

    async def post(
        self,
        body: str | bytes,
        content_type: str,
        *,
        bad_signature: bool = False,
        stale: bool = False,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SlackReply:
        """POST a raw body (text, or bytes as they are) with Slack's headers and signature."""
        if self._session is None:
            raise RuntimeError("use `async with SlackSender(...)`")
        timestamp = str(int(time.time()) - (360 if stale else 0))
        secret = self.signing_secret + "-wrong" if bad_signature else self.signing_secret
        if isinstance(body, str):
            data = body.encode()
            signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
        else:  # slack_sdk's signature, on bytes that need not be UTF-8
            data = body
            signature = (
                "v0="
                + hmac.new(
                    secret.encode(), b"v0:%s:%s" % (timestamp.encode(), data), hashlib.sha256
                ).hexdigest()
            )
        hdrs = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature or "",
        }
        if retry_num is not None:
            hdrs["X-Slack-Retry-Num"] = str(retry_num)
            hdrs["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        hdrs.update(headers or {})
        async with self._session.post(self.url, data=data, headers=hdrs) as resp:
            reply = SlackReply(resp.status, await resp.text(), resp.headers)
        if self.check_acks and reply.status == 200 and reply.text.startswith("{"):
            if errors := ack_errors(json.loads(reply.text)):
                raise InvalidAck(errors, reply.text)
        return reply

    async def _form(self, fields: Mapping[str, Any], **opts: Any) -> SlackReply:
        return await self.post(urlencode(fields), "application/x-www-form-urlencoded", **opts)

    async def _payload(self, payload: Mapping[str, Any], **opts: Any) -> SlackReply:
        return await self._form({"payload": json.dumps(payload)}, **opts)

    def _response_url(self, given: str | None) -> str:
        if given:
            return given
        return self.fake.response_url() if self.fake else "http://127.0.0.1:9/response/none"

    def _trigger_id(self) -> str:
        return f"{next(self._ids)}.{int(time.time())}.{secrets.token_hex(16)}"

    def _user(self, user_id: str, user_name: str | None) -> dict[str, str]:
        name = user_name or user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    # ------------------------------------------------------------------ what Slack sends

    async def command(
        self,
        name: str,
        text: str = "",
        *,
        user_id: str = "U0ALICE",
        channel_id: str = "C0GENERAL",
        team_id: str | None = None,
        response_url: str | None = None,
        user_name: str | None = None,
        channel_name: str = "general",
        trigger_id: str | None = None,
        **opts: Any,
    ) -> SlackReply:
        """A slash command (``name`` like ``/cop``), form-encoded as Slack sends it."""
        fields = {
            "token": self.verification_token,
            "team_id": team_id or self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": name,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url(response_url),
            "trigger_id": trigger_id or self._trigger_id(),
        }
        return await self._form(fields, **opts)

    async def block_action(
        self,
        action_id: str,
        value: str | None = None,
        *,
        user_id: str = "U0ALICE",
        channel_id: str = "C0GENERAL",
        message: Mapping[str, Any] | None = None,
        response_url: str | None = None,
        block_id: str | None = None,
        is_ephemeral: bool = False,
        user_name: str | None = None,
        **opts: Any,
    ) -> SlackReply:
        """A button click in a message (``message`` holds ``ts`` and ``blocks``).

        ``block_id``, button text and ``value`` are taken from the button in ``message.blocks``
        when not given. Ephemeral containers carry no ``message``, as in Slack.
        """
        message = dict(message or {"ts": f"{time.time():.6f}", "blocks": []})
        button = _find_element(message.get("blocks") or [], action_id)
        action_ts = f"{time.time():.6f}"
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel_id,
                "is_ephemeral": is_ephemeral,
            },
            "trigger_id": self._trigger_id(),
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": "general"},
            "state": {"values": {}},
            "response_url": self._response_url(response_url),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id or button.get("_block_id", "b0"),
                    "text": button.get("text", {"type": "plain_text", "text": action_id}),
                    "value": value if value is not None else button.get("value", ""),
                    "type": "button",
                    "action_ts": action_ts,
                }
            ],
        }
        if not is_ephemeral:
            payload["message"] = {
                "type": "message",
                "user": self.bot_user_id,
                "bot_id": self.bot_id,
                "team": self.team_id,
                "text": "",
                **message,
            }
        return await self._payload(payload, **opts)

    async def view_submission(
        self,
        callback_id: str,
        values: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        user_id: str = "U0ALICE",
        private_metadata: str = "",
        view_id: str = "V0MODAL",
        blocks: list[dict[str, Any]] | None = None,
        user_name: str | None = None,
        **opts: Any,
    ) -> SlackReply:
        """A modal submit. ``values`` maps block_id -> action_id -> str (a text input) or a dict
        used as the element's state as is (e.g. ``{"type": "static_select", "selected_option":
        ...}``)."""
        state = {
            block: {
                action: (v if isinstance(v, Mapping) else {"type": "plain_text_input", "value": v})
                for action, v in actions.items()
            }
            for block, actions in (values or {}).items()
        }
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": self._trigger_id(),
            "view": {
                "id": view_id,
                "team_id": self.team_id,
                "type": "modal",
                "blocks": blocks or [],
                "private_metadata": private_metadata,
                "callback_id": callback_id,
                "state": {"values": state},
                "hash": secrets.token_hex(8),
                "title": {"type": "plain_text", "text": "Modal"},
                "clear_on_close": False,
                "notify_on_close": False,
                "close": None,
                "submit": {"type": "plain_text", "text": "Submit"},
                "previous_view_id": None,
                "root_view_id": view_id,
                "app_id": self.api_app_id,
                "external_id": "",
                "app_installed_team_id": self.team_id,
                "bot_id": self.bot_id,
            },
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return await self._payload(payload, **opts)

    async def event(
        self,
        event: Mapping[str, Any],
        event_id: str | None = None,
        retry_num: int | None = None,
        **opts: Any,
    ) -> SlackReply:
        """An Events API ``event_callback`` envelope around ``event`` (JSON)."""
        envelope = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}{secrets.token_hex(2).upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_hex(12),
        }
        body = json.dumps(envelope)
        return await self.post(body, "application/json", retry_num=retry_num, **opts)

    async def url_verification(self, challenge: str, **opts: Any) -> SlackReply:
        """The handshake Slack sends when the Request URL is saved."""
        body = {"token": self.verification_token, "challenge": challenge}
        body["type"] = "url_verification"
        return await self.post(json.dumps(body), "application/json", **opts)


def _find_element(blocks: Iterable[Mapping[str, Any]], action_id: str) -> dict[str, Any]:
    for block in blocks:
        elements = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), Mapping):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("action_id") == action_id:
                return {**element, "_block_id": block.get("block_id", "b0")}
    return {}


@asynccontextmanager
async def serve_bolt_app(app: Any, path: str = "/slack/events") -> AsyncIterator[str]:
    """Serve a slack_bolt ``AsyncApp`` on 127.0.0.1 (free port); yield its request URL.

    Uses ``app.web_app(path)`` (Bolt's own aiohttp adapter) under ``web.AppRunner`` +
    ``TCPSite("127.0.0.1", 0)``, so nothing binds 0.0.0.0.
    """
    runner = web.AppRunner(app.web_app(path=path), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    finally:
        await runner.cleanup()
