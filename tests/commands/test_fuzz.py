"""Property-based fuzzing of the command core: typed lines built from the real command and option
names mixed with hostile text (controls, bidi and zero-width marks, quotes, mentions, odd numbers,
links, very long words), run as a member and as a moderator-admin, on Discord and on Slack; button
ids, real and forged, pressed; and Discord's typed options given any value.

Promises checked for every reply:

- no internal-error apology and no exception out of ``run_line`` (``run_action``, ``run_named``);
- it renders on the console, as a Discord message and as a Slack message without exceptions, and
  within those platforms' limits;
- what it shows holds no control character (a terminal's escape sequence) and no bidi mark;
- user text never becomes a ping: no raw ``@everyone``/``@here``, role or user mention on Discord
  (and allowed_mentions pings nobody but ``Reply.mention``), no ``<!everyone>``, ``<!here>``,
  ``<!channel>``, ``<!subteam^…>`` or ``<@…>`` in Slack text but the references copbot means;
- a command answered with an error wrote nothing.

Each example runs one to three lines on a fresh copy of the seeded SQLite database (PostgreSQL
shares the core's code paths; the parametrized suites cover it), so a failing example replays
alone. Examples are derandomized: CI runs the same ones every time, with no example database;
``COPBOT_FUZZ_EXAMPLES=5000`` runs that many new ones per test instead, to hunt deeper.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.console import render
from bot.discord import render as discord_render
from bot.slack import render as slack_render
from bot.slack.slash import ALIASES, PREFIX
from commands import dispatch
from commands.parser import Kind, parse_line
from commands.registry import ACTIONS, COMMANDS
from commands.types import Actor, BadArgument, Context, Reply
from storage.engine import make_engine
from storage.store import Store
from tests.conftest import START
from tests.support.clock import FakeClock

# CI runs the same examples every time; COPBOT_FUZZ_EXAMPLES=5000 hunts deeper, with new ones each run.
DEEPER = os.environ.get("COPBOT_FUZZ_EXAMPLES")
FUZZ = settings(
    max_examples=int(DEEPER or 250),
    deadline=None,
    derandomize=DEEPER is None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Actors: a member and a moderator-admin on each platform (ids as each platform writes them).
MEMBERS = (
    Actor("discord", "guild1", "111111111111111111", "Ann"),
    Actor("slack", "T1", "U0ANN", "ann"),
)
STAFF = (
    Actor("discord", "guild1", "222222222222222222", "Mod", is_moderator=True, is_admin=True),
    Actor("slack", "T1", "U0MOD", "mod", is_moderator=True, is_admin=True),
)
OTHERS = (Actor("discord", "guild1", "333", "Dee\u202eevil", direct=True),)

# --- strategies -------------------------------------------------------------------------------

NAMES = sorted(COMMANDS) + [PREFIX + name for name in COMMANDS] + list(ALIASES.values())
OPTION_NAMES = sorted({option.name for spec in COMMANDS.values() for option in spec.options})
NUMBERS = [
    "2.4", "２.４", "02.04", "#2.4", "# 2.4", "2,4", "2.4.", "2.4)", "3.11", "1.1", "2.40", "0.0",
    "999.999", "1234.5", "2..4", "2.4.5", "problem", "#", "٢.٤", "2\u200b.4", "²․⁴", "-1", "0", "99999",
]  # fmt: skip
MENTIONS = [
    "<@123>", "<@!123456789012345678>", "<@U0BOB|bob>", "<@U0BOB>", "<@&1>", "<@&123456789012345678>",
    "<!everyone>", "<!here>", "<!channel>", "<!subteam^S0MODS|mods>", "<!subteam^S1>", "@everyone",
    "@here", "@ann", "<#C1>", "<#C0123456|general>", "<#123456789012345678>", "C0123456", "S0MODS",
    "123456789012345678", "<@" + "9" * 80 + ">", "<#" + "C" * 80 + ">", "<@&" + "1" * 80 + ">",
    "@\u200beveryone", "<@\u200b123>", "＠everyone", "<:emoji:123456789012345678>", "<t:0:R>",
]  # fmt: skip
LINKS = [
    "https://example.org/post", "http://x.y", "https://example.org/a_b*c~d`e|f]g", "javascript:alert(1)",
    "<https://example.org/angled>", "[label](https://evil.example)", "https://exаmple.org/cyrillic",
    "https://ex.org/" + "p" * 1990, "https://", "http://[::1]/", "http://[bad/", "ftp://x.y/z",
    "https://example.org/?q=<!channel>&x=@everyone", "https://user@evil.example@good.example/",
    "www.example.org", "https://xn--80ak6aa92e.com/", "https://例え.jp/パス",
]  # fmt: skip
WORDS = [
    "A", "b-c", "C-A", "a - d", "easy", "hard", "medium", "easy to hard", "everyone", "unclaimed", "show",
    "yes", "no", "off", "1", "2", "365", "366", "0", "page", "note:", "Note:", "number:3", "help",
    "claim", "/claim", "cop-help", "circuits in the wild", "superposition", "induction heads",
]  # fmt: skip
ODD = [
    "\u202e", "\u202d", "\u2066", "\u2069", "\u200b", "\u200c", "\u200d", "\ufeff", "\x00", "\x1b[31m",
    "\x7f", "\r", "\n", "\t", "\u2028", '"', "\u201c", "\u201d", "'", "`", "```", "*", "_", "~", "||",
    ">", ">>> ", "# ", "-# ", "1. ", "&lt;", "&amp;", "&", "<", ">", "\\", "[", "]", "(", ")", ":",
    "\U0001f469\u200d\U0001f4bb", "\U000e0067", "\u0301", "ﷺ", "\ud7ff", "𝕬", "Ａ",
]  # fmt: skip

_free = st.text(st.characters(codec="utf-8"), max_size=40)
_long = st.builds(lambda word, n: word * n, st.sampled_from(["x", "é", "<@&1>", "a b ", "\u200b", "@here "]),
                  st.integers(100, 4500))  # fmt: skip
_atom = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(MENTIONS),
    st.sampled_from(LINKS),
    st.sampled_from(WORDS),
    st.sampled_from(ODD),
    _free,
)
_value = st.one_of(_atom, st.lists(_atom, max_size=3).map("".join), _long)
_named = st.builds(
    lambda key, value, quoted: f'{key}:"{value}"' if quoted else f"{key}:{value}",
    st.one_of(st.sampled_from(OPTION_NAMES), st.sampled_from([n.upper() for n in OPTION_NAMES]), _free),
    _value,
    st.booleans(),
)
_token = st.one_of(_atom, _atom, _named, _long)
_separator = st.sampled_from([" ", " ", " ", "  ", "\n", "\t", "", "\u3000", "\u200b"])


@st.composite
def lines(draw: st.DrawFn) -> str:
    """One typed line: a command (mostly a real one) and its words."""
    name = draw(st.one_of(st.sampled_from(NAMES), st.sampled_from(NAMES).map(str.upper), _free))
    slash = draw(st.sampled_from(["/", "/", "", " /", "／"]))
    tokens = draw(st.lists(_token, max_size=6))
    words = "".join(draw(_separator) + token for token in tokens)
    return f"{slash}{name}{draw(_separator) if tokens else ''}{words}"


# Lines that leave something behind for the others to show: claims and notes, submissions, settings.
_setup_lines = st.one_of(
    st.builds(lambda n, note: f"/claim {n}\n" + f"/release {n} {note}", st.sampled_from(NUMBERS[:4]), _value),
    st.builds(
        lambda n, link, note: f"/submit {n} {link} {note}",
        st.sampled_from(NUMBERS[:4]),
        st.sampled_from(LINKS),
        _value,
    ),
    st.builds(
        lambda opt, value: f"/setup {opt}:{value}",
        st.sampled_from(["moderator_channel", "moderator_role", "reminder_channel", "stale_days"]),
        st.sampled_from(MENTIONS + NUMBERS + WORDS),
    ),
)
_follow_up = st.sampled_from(
    ["/problem 2.4", "/claims", "/claims everyone", "/claims 2.4", "/history 2.4", "/pending", "/setup",
     "/help", "/help claim", "/claims @ann", "/claims <@111111111111111111>", "/claims <@U0ANN>"]
)  # fmt: skip
_scripts = st.one_of(
    st.lists(lines(), min_size=1, max_size=3),
    st.builds(lambda first, then, last: [*first.split("\n"), then, last], _setup_lines, lines(), _follow_up),
)

# --- the fixture: a fresh seeded database per example -----------------------------------------


@pytest.fixture(scope="module")
def template(sqlite_template: Path) -> Path:
    """The session's seeded SQLite file (session-scoped: no per-test state leaks into examples)."""
    return sqlite_template


@asynccontextmanager
async def fresh_ctx(template: Path) -> AsyncIterator[Context]:
    """A context on a new copy of the seeded database, closed and removed afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "copbot.db"
        shutil.copyfile(template, path)
        store = Store(make_engine(f"sqlite+aiosqlite:///{path}"))
        try:
            yield Context(store=store, clock=FakeClock(START), rng=random.Random(4))
        finally:
            await store.close()


async def snapshot(ctx: Context) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in order."""
    async with ctx.store.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        return {
            name: sorted(map(tuple, (await conn.execute(sa.text(f'SELECT * FROM "{name}"'))).all()), key=repr)
            for name in names
            if name != "alembic_version"
        }


# --- the properties ---------------------------------------------------------------------------

_DISCORD_PING = re.compile(r"@(everyone|here)|<@[!&]?[0-9]+>")
_SLACK_MARKUP = re.compile(r"<([^>]*)>")
_SLACK_PING = re.compile(r"<!(everyone|here|channel)\b|<!subteam\^")


# What must never reach a screen from what someone typed: control characters (a terminal's
# escape sequences, NUL) and the marks that reverse or isolate the text after them.
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def check_shown(text: str) -> None:
    """Text as a platform shows it holds no control character or bidi mark."""
    hidden = _HIDDEN.search(text)
    assert hidden is None, (hidden.group(0), text[max(hidden.start() - 60, 0) : hidden.end() + 60])


def check_console(reply: Reply) -> None:
    """The console prints it, wrapped or not."""
    assert isinstance(render(reply), str)
    check_shown(render(reply, width=None))


def check_discord(reply: Reply) -> None:
    """One embed within Discord's limits; nothing pings but the reply's own mention."""
    kwargs = discord_render.message(reply)
    embed = kwargs["embed"]
    assert len(embed) <= 6000, len(embed)
    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert len(embed.footer.text or "") <= 2048
    assert len(embed.fields) <= 25
    for field in embed.fields:
        assert 0 < len(field.name or "") <= 256 and (field.name or "").strip()
        assert 0 < len(field.value or "") <= 1024 and (field.value or "").strip()
    assert len(embed) > 0
    json.dumps(embed.to_dict())
    mentions = kwargs["allowed_mentions"]
    assert mentions.everyone is False and mentions.roles is False
    meant = {f"<@{reply.mention}>"} if "content" in kwargs else set()
    assert mentions.users is False or [u.id for u in mentions.users] == [int(reply.mention or 0)]
    refs = {f"<@&{i}>" for k, i in (f.ref for f in reply.fields if f.ref) if k == "role"}
    refs |= {f"<@{i}>" for k, i in (f.ref for f in reply.fields if f.ref) if k == "user"}
    texts = [kwargs.get("content") or "", embed.title or "", embed.description or "", embed.footer.text or ""]
    texts += [f"{field.name}\n{field.value}" for field in embed.fields]
    for text in texts:
        check_shown(text)
        for ping in _DISCORD_PING.finditer(text):
            assert ping.group(0) in meant | refs, (ping.group(0), text[:300])
    if "view" in kwargs:
        for item in kwargs["view"].children:
            assert len(item.custom_id) <= 100 and 0 < len(item.item.label or "") <= 80


def _slack_texts(blocks: Any) -> list[str]:
    if isinstance(blocks, dict):
        own = [blocks["text"]] if isinstance(blocks.get("text"), str) else []
        return own + [t for value in blocks.values() for t in _slack_texts(value)]
    if isinstance(blocks, list):
        return [t for item in blocks for t in _slack_texts(item)]
    return []


def check_slack(reply: Reply) -> None:
    """Block Kit within Slack's limits; the only markup is the links and references copbot means."""
    message = slack_render.message(reply)
    json.dumps(message)
    blocks = message["blocks"]
    assert len(blocks) <= 50
    assert slack_render.text_size(blocks) <= 12000
    assert 0 < len(message["text"]) <= 40000
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            assert 0 < len(block["text"]["text"]) <= 150
        elif kind == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10 and all(0 < len(f["text"]) <= 2000 for f in fields)
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(0 < len(e["text"]) <= 3000 for e in block["elements"])
        elif kind == "actions":
            assert 0 < len(block["elements"]) <= 25
            ids = [e["action_id"] for e in block["elements"]]
            assert len(set(ids)) == len(ids) and all(len(i) <= 255 for i in ids)
            assert all(0 < len(e["text"]["text"]) <= 75 for e in block["elements"])
        else:
            raise AssertionError(f"unexpected block {kind}")
    meant = {f"@{reply.mention}"} if reply.mention else set()
    for kind, ident in (f.ref for f in reply.fields if f.ref):
        meant.add({"channel": "#", "role": "!subteam^", "user": "@"}.get(kind, "?") + ident)
    for text in [message["text"], *_slack_texts(blocks)]:
        check_shown(text)
        for markup in _SLACK_MARKUP.finditer(text):
            inner = markup.group(1)
            if re.match(r"https?://", inner, re.IGNORECASE):
                assert not _SLACK_PING.search(inner), text[:300]
                continue
            assert inner in meant, (inner, text[:300])


async def check_reply(ctx: Context, reply: Reply, what: str, before: Any) -> None:
    """Every promise about a reply (see check_line), for any way it came about."""
    assert reply.text != dispatch.APOLOGY, what
    check_console(reply)
    check_discord(reply)
    check_slack(reply)
    if reply.error:
        assert await snapshot(ctx) == before, f"{what} failed but wrote: {reply.text}"


async def check_line(ctx: Context, actor: Actor, line: str) -> Reply:
    """Run one line as ``actor`` and check every promise about its reply."""
    before = await snapshot(ctx)
    reply = await dispatch.run_line(ctx, actor, line)
    await check_reply(ctx, reply, repr(line), before)
    return reply


async def run_script(template: Path, actors: tuple[Actor, ...], script: list[str]) -> None:
    async with fresh_ctx(template) as ctx:
        for index, line in enumerate(script):
            await check_line(ctx, actors[index % len(actors)], line)


@FUZZ
@given(script=_scripts, platform=st.integers(0, 1))
async def test_members_lines_keep_every_promise(template: Path, script: list[str], platform: int) -> None:
    """A member's lines, on Discord or Slack."""
    await run_script(template, (MEMBERS[platform],), script)


@FUZZ
@given(script=_scripts, platform=st.integers(0, 1))
async def test_staff_lines_keep_every_promise(template: Path, script: list[str], platform: int) -> None:
    """A moderator-admin's lines, then a member's, on Discord or Slack."""
    await run_script(template, (STAFF[platform], MEMBERS[platform]), script)


@settings(FUZZ, max_examples=int(DEEPER or 100))
@given(script=st.lists(lines(), min_size=1, max_size=2))
async def test_direct_messages_keep_every_promise(template: Path, script: list[str]) -> None:
    """Lines in a Discord direct message from someone whose name holds a bidi override."""
    await run_script(template, OTHERS, script)


# --- buttons and typed options ----------------------------------------------------------------

ACTION_NAMES = sorted(ACTIONS)
_targets = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(
        ["1", "2", "0", "-1", "01", "²", "٣", "2147483648", "9" * 30, "", "A/2/1", "//1", "D-A/x/"]
    ),
    _free,
    _long,
)
_custom_ids = st.one_of(
    st.builds(lambda action, target: f"cop:{action}:{target}", st.sampled_from(ACTION_NAMES), _targets),
    _free,
    st.builds(lambda action: f"cop:{action}", st.sampled_from(ACTION_NAMES)),
)


@settings(FUZZ, max_examples=int(DEEPER or 120))
@given(
    setup=st.lists(_setup_lines, max_size=2),
    clicks=st.lists(st.tuples(st.booleans(), _custom_ids), min_size=1, max_size=4),
    platform=st.integers(0, 1),
)
async def test_buttons_keep_every_promise(
    template: Path, setup: list[str], clicks: list[tuple[bool, str]], platform: int
) -> None:
    """Button ids, real and forged, pressed by a member or a moderator after some claims,
    submissions and settings; then every button those replies carried, pressed by its reader."""
    async with fresh_ctx(template) as ctx:
        shown: list[tuple[Actor, str]] = []
        known = ["/submit 2.4 https://example.org/post my note", "/pending", "/claim 3.11", "/claims"]
        for index, line in enumerate([*known, *(line for lines in setup for line in lines.split("\n"))]):
            actor = (MEMBERS, STAFF)[index % 2][platform]
            reply = await check_line(ctx, actor, line)
            shown += [(actor, button.custom_id) for button in reply.buttons]
        for staff, custom_id in clicks:
            actor = (STAFF if staff else MEMBERS)[platform]
            before = await snapshot(ctx)
            reply = await dispatch.run_action(ctx, actor, custom_id)
            await check_reply(ctx, reply, custom_id, before)
            shown += [(actor, button.custom_id) for button in reply.buttons]
        for actor, custom_id in shown[:8]:
            before = await snapshot(ctx)
            await check_reply(ctx, await dispatch.run_action(ctx, actor, custom_id), custom_id, before)


_raw_value = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), _value, _targets)


@FUZZ
@given(
    name=st.sampled_from(sorted(COMMANDS)),
    raw=st.dictionaries(st.one_of(st.sampled_from(OPTION_NAMES), _free), _raw_value, max_size=4),
    staff=st.booleans(),
)
async def test_typed_options_keep_every_promise(
    template: Path, name: str, raw: dict[str, Any], staff: bool
) -> None:
    """Discord's typed options, any value in any option (autocomplete lets people type anything)."""
    actor = (STAFF if staff else MEMBERS)[0]
    async with fresh_ctx(template) as ctx:
        before = await snapshot(ctx)
        reply = await dispatch.run_named(ctx, actor, name, raw)
        await check_reply(ctx, reply, f"{name} {raw!r}", before)


# Invisible format characters (category Cf) as pasted text carries them.
FORMAT = st.text(
    st.sampled_from(["\u200b", "\u2060", "\ufeff", "\u200e", "\u200f", "\u202a", "\u2066"]),
    min_size=1,
    max_size=3,
)
_plain_value = st.one_of(
    st.sampled_from(
        [w for w in (*NUMBERS, *WORDS, *MENTIONS, *LINKS) if not any(c.isspace() or c == '"' for c in w)]
    ),
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Zs", "Zl", "Zp", "Cc"), exclude_characters='"'),
        min_size=1,
        max_size=12,
    ),
)


def _outcome(name: str, line: str) -> object:
    try:
        return parse_line(COMMANDS[name].options, line, name)
    except BadArgument as exc:
        return ("refused", str(exc))


@settings(FUZZ, max_examples=int(DEEPER or 300))
@given(data=st.data(), name=st.sampled_from(sorted(n for n, spec in COMMANDS.items() if spec.options)))
def test_invisible_characters_at_a_named_options_edges_change_nothing(data: st.DataObject, name: str) -> None:
    """A named option reads the same with invisible characters before it (``\u200bnumber:3.11``),
    inside its name, or after its quoted value, and (where no free text takes every word) with
    words of only such characters between the options: they are read as if they were not there."""
    options = COMMANDS[name].options
    chosen = data.draw(st.lists(st.sampled_from(options), unique_by=lambda o: o.name, min_size=1, max_size=3))
    free_text = any(o.rest and o.kind is Kind.TEXT for o in options)
    plain, hidden = [], []
    for option in chosen:
        value = data.draw(_plain_value)
        quoted = data.draw(st.booleans())
        written = f'"{value}"' if quoted else value
        plain.append(f"{option.name}:{written}")
        cut = data.draw(st.integers(0, len(option.name)))
        key = option.name[:cut] + data.draw(st.sampled_from(["", "\u200b", "\u00ad"])) + option.name[cut:]
        after = data.draw(FORMAT) if quoted and data.draw(st.booleans()) else ""
        word = f"{data.draw(FORMAT)}{key}:{written}{after}"
        if not free_text and data.draw(st.booleans()):
            word = data.draw(FORMAT) + " " + word
        hidden.append(word)
    assert _outcome(name, " ".join(hidden)) == _outcome(name, " ".join(plain))
