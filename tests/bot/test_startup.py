"""Starting copbot as an operator does: from any folder, and with each kind of mistake in its
settings or surroundings, which it names in one line (exit status 2) instead of a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.app import database_url
from bot.config import Settings, StartupError, unreachable
from storage.migrate import ADVISORY_LOCK_KEY
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack, SlackSender
from tests.support.pg import connect, pg_url
from tests.support.process import copbot_process
from tests.support.tcp_proxy import TcpProxy, closed_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-pw"
LOCK_WAITERS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def copbot(
    tmp_path: Path, *args: str, stdin: str = "", wrapper: tuple[str, ...] = (), **settings: str
) -> tuple[int, str]:
    """Run ``copbot ARGS`` in ``tmp_path`` configured only by ``settings``; (status, all output).
    ``wrapper``: a command that runs copbot (such as setpriv with its options)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **settings}
    process = await asyncio.create_subprocess_exec(
        *wrapper,
        sys.executable,
        "-m",
        "bot.cli",
        *(args or ("run",)),
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


def refused(status: int, output: str, *expected: str) -> None:
    """copbot stopped with status 2 and one line that says what is wrong, no traceback."""
    assert status == 2, output
    assert "Traceback" not in output, output
    for text in expected:
        assert text in output, output


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


async def test_starts_from_any_folder_with_the_catalogue_it_ships(tmp_path: Path) -> None:
    """Without SEED_FILE or DATA_DIR, run from elsewhere: the catalogue comes from the project,
    the SQLite file goes to ./data of the folder it was started in."""
    status, output = await copbot(tmp_path, stdin="/problem 2.4\n/quit\n")
    assert status == 0, output
    assert "3 letter acronyms" in output and "loaded the catalogue" in output
    assert (tmp_path / "data" / "copbot.db").exists()


async def test_settings_that_do_not_parse_are_named(tmp_path: Path) -> None:
    status, output = await copbot(tmp_path, STALE_AFTER_DAYS="abc", METRICS_PORT="x", LOG_FORMAT="xml")
    refused(status, output, "STALE_AFTER_DAYS: Input should be a valid integer", "(got 'abc')")
    refused(status, output, "METRICS_PORT: ", "LOG_FORMAT: Input should be 'text' or 'json'")
    assert len(output.splitlines()) == 3


async def test_settings_that_do_not_parse_are_named_in_json_with_log_format_json(tmp_path: Path) -> None:
    """With LOG_FORMAT=json (itself fine) a setting that did not parse was named in a bare text
    line, the one line of copbot's output a JSON log pipeline could not read. Now each is a
    CRITICAL JSON object like the other refusals at start; the token's value is still not shown."""
    status, output = await copbot(
        tmp_path, STALE_AFTER_DAYS="abc", DISCORD_TOKEN="Bot sekrit-token-1", LOG_FORMAT="json"
    )
    assert status == 2 and "sekrit-token-1" not in output, output
    lines = [json.loads(line) for line in output.splitlines()]
    assert [(line["level"], line["message"].split(":")[:2]) for line in lines] == [
        ("CRITICAL", ["cannot start", " DISCORD_TOKEN"]),
        ("CRITICAL", ["cannot start", " STALE_AFTER_DAYS"]),
    ], output


# A value copbot cannot use, on `copbot run` with Discord and Slack configured, and the one line it
# answers ({port}: a closed port; the driver refuses the last two before connecting anywhere).
MISTAKES = {
    "log level": (
        {"LOG_LEVEL": "verbose"},
        "copbot: LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'",
    ),
    "shard ids not numbers": (
        {"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "a,b"},
        "copbot: DISCORD_SHARD_IDS: should be shard numbers separated by commas, such as 0,1 (got 'a,b')",
    ),
    "shard ids without a count": (
        {"DISCORD_SHARD_IDS": "0"},
        "copbot: DISCORD_SHARD_IDS: needs DISCORD_SHARD_COUNT as well",
    ),
    "shard id beyond the count": (
        {"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "0,2"},
        "copbot: DISCORD_SHARD_IDS: shard 2 is not among the shards of DISCORD_SHARD_COUNT=2 (0 to 1)",
    ),
    "metrics port too high": (
        {"METRICS_PORT": "99999"},
        "copbot: METRICS_PORT: Input should be less than or equal to 65535 (got '99999')",
    ),
    "metrics port negative": (
        {"METRICS_PORT": "-1"},
        "copbot: METRICS_PORT: Input should be greater than or equal to 0 (got '-1')",
    ),
    "slack port too high": (
        {"SLACK_PORT": "70000"},
        "copbot: SLACK_PORT: Input should be less than or equal to 65535 (got '70000')",
    ),
    # A number of days meant as "never" overflowed every sweep's date arithmetic after the start.
    "stale grace beyond a year": (
        {"STALE_GRACE_DAYS": "1000000"},
        "copbot: STALE_GRACE_DAYS: Input should be less than or equal to 365 (got '1000000')",
    ),
    "stale after beyond a year": (
        {"STALE_AFTER_DAYS": "366"},
        "copbot: STALE_AFTER_DAYS: Input should be less than or equal to 365 (got '366')",
    ),
    "sweep rarer than daily": (
        {"REMINDER_SWEEP_MINUTES": "1e12"},
        "copbot: REMINDER_SWEEP_MINUTES: Input should be less than or equal to 1440 (got '1e12')",
    ),
    "shutdown grace beyond ten minutes": (
        {"SHUTDOWN_GRACE_SECONDS": "601"},
        "copbot: SHUTDOWN_GRACE_SECONDS: Input should be less than or equal to 600 (got '601')",
    ),
    # A number meant as "no limit" was taken, and every /submit then ended in "Sorry, something
    # went wrong" (beyond the database's 64-bit integers, the rate limit's query could not run).
    "submissions per hour meant as no limit": (
        {"SUBMISSIONS_PER_HOUR": "99999999999999999999"},
        "copbot: SUBMISSIONS_PER_HOUR: Input should be less than or equal to 10000 "
        "(got '99999999999999999999')",
    ),
    # "inf" (meant as "never give up") was taken, and every statement's limit overflowed or never came.
    "database timeout infinite": (
        {"DATABASE_TIMEOUT": "inf"},
        "copbot: DATABASE_TIMEOUT: Input should be a finite number (got 'inf')",
    ),
    "database timeout not a number": (
        {"DATABASE_TIMEOUT": "nan"},
        "copbot: DATABASE_TIMEOUT: Input should be a finite number (got 'nan')",
    ),
    # A token pasted into the wrong line was shown back whole: "(got 'xoxb-…')".
    "a slack token given as the guild id": (
        {"DISCORD_GUILD_ID": "xoxb-1234-5678-abcdefabcdef"},
        "copbot: DISCORD_GUILD_ID: Input should be a valid integer, unable to parse string as an "
        "integer (got a value shaped like a token or a password: not shown)",
    ),
    # DISCORD_GUILD_ID=0 was taken as no server at all: the commands went out globally.
    "guild id zero": (
        {"DISCORD_GUILD_ID": "0"},
        "copbot: DISCORD_GUILD_ID: Input should be greater than or equal to 1 (got '0')",
    ),
    "a discord token given as the local user": (
        {"LOCAL_USER": "MTA4NzY1NDMyMTA5ODc2NTQz.GhIjKl.abcdefghijklmnopqrstuvwxyz0123" + "x" * 40},
        "copbot: LOCAL_USER: String should have at most 64 characters (got a value shaped like a "
        "token or a password: not shown)",
    ),
    # DATA_DIR=postgresql://… (meant for DATABASE_URL) made folders named after the address, and
    # db upgrade printed them, the password in them.
    "a database address as the data folder": (
        {"DATA_DIR": "postgresql://copbot:hunter2pw@db/copbot"},
        "copbot: DATA_DIR: should be a folder, not an address: a database's address goes in "
        "DATABASE_URL (got a value shaped like a token or a password: not shown)",
    ),
    "database timeout beyond an hour": (
        {"DATABASE_TIMEOUT": "1e12"},
        "copbot: DATABASE_TIMEOUT: Input should be less than or equal to 3600 (got '1e12')",
    ),
    "database timeout negative": (
        {"DATABASE_TIMEOUT": "-1"},
        "copbot: DATABASE_TIMEOUT: Input should be greater than 0 (got '-1')",
    ),
    # Said "invalid literal for int() with base 10: 'abc'", which did not say where.
    "database port not a number": (
        {"DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:abc/x"},
        "cannot start: DATABASE_URL has a port that is not a number: write the port in digits after "
        "the host, as in host:5432",
    ),
    # A SQLite URL's query (?mode=ro) was ignored with SQLAlchemy's two-line SAWarning, twice, and
    # the database written all the same.
    "sqlite with a query parameter": (
        {"DATABASE_URL": "sqlite+aiosqlite:///copbot.db?mode=ro&cache=shared"},
        "copbot: DATABASE_URL: has the parameters mode, cache, which copbot cannot honour for a "
        "SQLite file (it opens the file itself, read-write): remove the ?… after the file's name",
    ),
    "database port too high": (
        {"DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:99999/x"},
        "cannot start: cannot open the database postgresql+asyncpg://postgres@127.0.0.1:99999/x "
        "(DATABASE_URL): connect(): port must be 0-65535",
    ),
    # Without a scheme aiohttp's InvalidURL said only the URL: "cannot reach Discord at
    # discord.com/api/v10 (DISCORD_API_URL): discord.com/api/v10/users/@me".
    "discord api url without a scheme": (
        {"DISCORD_API_URL": "discord.com/api/v10"},
        "copbot: DISCORD_API_URL: should be an address beginning with http:// or https://, such as "
        "https://discord.com/api/v10",
    ),
    "slack api url without a scheme": (
        {"SLACK_API_URL": "slack.com/api/"},
        "copbot: SLACK_API_URL: should be an address beginning with http:// or https://, such as "
        "https://slack.com/api/",
    ),
    "discord gateway url over http": (
        {"DISCORD_GATEWAY_URL": "gateway.discord.gg"},
        "copbot: DISCORD_GATEWAY_URL: should be an address beginning with ws:// or wss://, such as "
        "wss://gateway.discord.gg",
    ),
    # An empty path is SQLite's in-memory database: SQLAlchemy refused its pool with a sentence
    # about pool_size and StaticPool that did not say what was wrong.
    "sqlite without a path": (
        {"DATABASE_URL": "sqlite+aiosqlite:///"},
        "cannot start: DATABASE_URL names an in-memory SQLite database, which would keep nothing: name "
        "a file, as in sqlite+aiosqlite:///data/copbot.db",
    ),
    "sqlite in memory": (
        {"DATABASE_URL": "sqlite+aiosqlite:///:memory:"},
        "cannot start: DATABASE_URL names an in-memory SQLite database, which would keep nothing",
    ),
    # Neon's URLs end ?sslmode=require&channel_binding=require: asyncpg has no channel binding, and
    # its connect() stopped at 'unexpected keyword argument channel_binding'. Said so, and what to do.
    "libpq's channel_binding=require": (
        {"DATABASE_URL": "postgresql://postgres@127.0.0.1:{port}/x?sslmode=require&channel_binding=require"},
        "copbot: DATABASE_URL: asks for channel_binding=require, which asyncpg (copbot's PostgreSQL "
        "driver) cannot do: remove channel_binding=require from it",
    ),
    # A libpq URL's parameter asyncpg has nothing like stopped at connect with "connect() got an
    # unexpected keyword argument 'keepalives'"; named now (its value never shown), and why.
    "libpq's parameter asyncpg has nothing like": (
        {"DATABASE_URL": "postgresql://postgres:pw@127.0.0.1:{port}/x?sslmode=require&keepalives=1"},
        "copbot: DATABASE_URL: has the parameter keepalives, which copbot cannot honour (asyncpg, its "
        "PostgreSQL driver, has nothing like it): remove keepalives= from it",
    ),
    "libpq's connect_timeout=0 (wait forever)": (
        {"DATABASE_URL": "postgresql://postgres@127.0.0.1:{port}/x?connect_timeout=0"},
        "copbot: DATABASE_URL: has a connect_timeout that is not a whole number of seconds above 0",
    ),
    "libpq's sslrootcert=system with a weaker sslmode": (
        {"DATABASE_URL": "postgresql://postgres@127.0.0.1:{port}/x?sslmode=require&sslrootcert=system"},
        "copbot: DATABASE_URL: has sslrootcert=system with sslmode=require: the system's certificate "
        "authorities are for sslmode=verify-full alone",
    ),
    "libpq's sslrootcert naming no file": (
        {
            "DATABASE_URL": "postgresql://postgres:pw@127.0.0.1:{port}/x?sslmode=verify-ca&sslrootcert=/nope/ca.pem"
        },
        "cannot start: DATABASE_URL has sslrootcert=/nope/ca.pem, which copbot cannot read as "
        "certificates (No such file or directory)",
    ),
    # In a URL naming asyncpg, a libpq parameter asyncpg has nothing like stopped at connect with
    # "connect() got an unexpected keyword argument 'keepalives'"; named as in a libpq URL now.
    "libpq's parameter asyncpg has nothing like, in an asyncpg URL": (
        {"DATABASE_URL": "postgresql+asyncpg://postgres:pw@127.0.0.1:{port}/x?keepalives=1"},
        "copbot: DATABASE_URL: has the parameter keepalives, which copbot cannot honour (asyncpg, its "
        "PostgreSQL driver, has nothing like it): remove keepalives= from it",
    ),
}


@pytest.mark.parametrize("case", MISTAKES)
async def test_a_value_copbot_cannot_use_is_named_in_one_line(tmp_path: Path, case: str) -> None:
    """Values of the right type that copbot still cannot use: refused at start with the variable
    named, not by a traceback where the value is first used."""
    port = closed_port()
    settings, expected = MISTAKES[case]
    async with FakeDiscord(token="t") as discord, FakeSlack(tokens={"xoxb-right"}) as slack:
        status, output = await copbot(
            tmp_path,
            **{
                **on_discord(discord, "t", tmp_path),
                **on_slack(slack, "xoxb-right", tmp_path),
                "SLACK_PORT": "0",
                **{name: value.format(port=port) for name, value in settings.items()},
            },
        )
        assert not discord.connections
    refused(status, output, expected.format(port=port))
    assert len(output.splitlines()) == 1, output


# What is wrong, the settings that say so ({tmp}: the test's folder, {port}: a closed port), and
# what copbot answers.
CASES = {
    "missing seed": (
        {"SEED_FILE": "{tmp}/nope.csv"},
        "cannot load the catalogue from {tmp}/nope.csv (SEED_FILE) into the new database: No such file",
    ),
    "malformed seed": (
        {"SEED_FILE": "{tmp}/bad.csv"},
        "cannot load the catalogue from {tmp}/bad.csv (SEED_FILE) into the new database: "
        "line 2: difficulty 'Q' of 2.4 is not one of A, B, C, D",
    ),
    "data dir is a file": (
        {"DATA_DIR": "{tmp}/file"},
        "cannot create the folder of the SQLite file sqlite+aiosqlite:///{tmp}/file/copbot.db (DATA_DIR): "
        "File exists: give DATA_DIR a folder copbot may write in",
    ),
    "not a database": (
        {"DATABASE_URL": "sqlite+aiosqlite:///{tmp}/junk.db"},
        "cannot open the database sqlite+aiosqlite:///{tmp}/junk.db (DATABASE_URL): file is not a database",
    ),
    # (postgres:// and postgresql://, as providers give them, are read as postgresql+asyncpg://.)
    "scheme": (
        {"DATABASE_URL": "postgre://postgres:" + PASSWORD + "@127.0.0.1/test"},
        "DATABASE_URL is not a database copbot can use (Can't load plugin: sqlalchemy.dialects:postgre): "
        "use sqlite+aiosqlite:///path/to/copbot.db or postgresql+asyncpg://",
    ),
    "driver not installed": (
        {"DATABASE_URL": "mysql+aiomysql://copbot@127.0.0.1/copbot"},
        "DATABASE_URL is not a database copbot can use (No module named 'aiomysql')",
    ),
    "driver not async": (
        {"DATABASE_URL": "sqlite+pysqlite:///{tmp}/copbot.db"},
        "DATABASE_URL is not a database copbot can use (The asyncio extension requires an async driver",
    ),
    "server down": (
        {"DATABASE_URL": "postgresql+asyncpg://postgres:" + PASSWORD + "@127.0.0.1:{port}/x"},
        "cannot open the database postgresql+asyncpg://postgres:***@127.0.0.1:{port}/x (DATABASE_URL): "
        "Connect call failed",
    ),
}


@pytest.mark.parametrize("case", CASES)
async def test_a_database_or_catalogue_it_cannot_use_is_named(tmp_path: Path, case: str) -> None:
    """Each way the database or the seed can be wrong: the setting, the reason, never a password."""
    (tmp_path / "file").write_text("a file where DATA_DIR wants a folder")
    (tmp_path / "junk.db").write_bytes(b"not SQLite " * 200)
    (tmp_path / "bad.csv").write_text("number,category,difficulty,problem\n2.4,C,Q,x\n", encoding="utf-8")
    port = closed_port()
    settings, expected = CASES[case]
    status, output = await copbot(
        tmp_path, **{name: value.format(tmp=tmp_path, port=port) for name, value in settings.items()}
    )
    refused(status, output, "CRITICAL copbot: cannot start: " + expected.format(tmp=tmp_path, port=port))
    assert PASSWORD not in output


async def test_db_upgrade_names_a_database_out_of_reach(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql+asyncpg://postgres:{PASSWORD}@127.0.0.1:{port}/x"
    status, output = await copbot(tmp_path, "db", "upgrade", DATABASE_URL=url)
    refused(status, output, f"cannot open the database postgresql+asyncpg://postgres:***@127.0.0.1:{port}/x")
    assert PASSWORD not in output


async def test_db_backup_names_a_database_url_that_does_not_parse(tmp_path: Path) -> None:
    """`db backup` reads DATABASE_URL without opening it, and names it as every command does."""
    url = "postgresql+asyncpg://postgres@127.0.0.1:abc/x"
    status, output = await copbot(tmp_path, "db", "backup", "copy.db", DATABASE_URL=url)
    refused(status, output, "cannot start: DATABASE_URL has a port that is not a number")


# A DATABASE_URL that raised ValueError where it was read, a traceback with exit status 1; now one
# line, exit 2, and the password stays hidden:
UNREADABLE_URLS = {
    # ``?prepared_statement_cache_size=x``: SQLAlchemy's asyncpg dialect reads it as a number when
    # it makes the engine.
    "a query value the driver cannot read": (
        "postgresql+asyncpg://copbot:{password}@127.0.0.1:{port}/db?prepared_statement_cache_size=x",
        "CRITICAL copbot: cannot start: DATABASE_URL is not a database copbot can use "
        "(invalid literal for int() with base 10: 'x'): use sqlite+aiosqlite:///",
    ),
    # ``…@[::1/copbot``, the ] of an IPv6 address left out: reading the URL for the password to mask
    # raised it before anything was logged. It said "invalid literal for int() with base 10: ':1'":
    # now what is wrong, and where.
    "an IPv6 host with its bracket left open": (
        "postgresql+asyncpg://copbot:{password}@[::1/copbot",
        "CRITICAL copbot: cannot start: DATABASE_URL has an IPv6 host whose ] is missing: write the "
        "address in brackets, as in [::1]:5432",
    ),
}


@pytest.mark.parametrize("case", list(UNREADABLE_URLS))
@pytest.mark.parametrize("command", [("db", "upgrade"), ("run",)])
async def test_a_database_url_that_does_not_read_is_named_in_one_line(
    tmp_path: Path, command: tuple[str, ...], case: str
) -> None:
    pattern, expected = UNREADABLE_URLS[case]
    url = pattern.format(password=PASSWORD, port=closed_port())
    status, output = await copbot(tmp_path, *command, DATABASE_URL=url)
    refused(status, output, expected)
    assert len(output.splitlines()) == 1, output
    assert PASSWORD not in output


async def test_a_password_in_the_database_urls_query_is_never_shown(tmp_path: Path, pg_db_url: str) -> None:
    """asyncpg takes the password from ``?password=`` as well as from ``user:password@`` (and a
    libpq URL may carry ``sslpassword=``): hidden wherever it is, in every line copbot prints,
    whether it starts or not."""
    secret = f"password={PASSWORD}"
    shown = f"{pg_db_url}?password=***"
    status, output = await copbot(tmp_path, "db", "upgrade", DATABASE_URL=f"{pg_db_url}?{secret}")
    assert status == 0 and f"database {shown} is at the latest schema" in output, output
    outputs = [output]
    status, output = await copbot(
        tmp_path, "console", stdin="/quit\n", DATABASE_URL=f"{pg_db_url}?{secret}", LOG_LEVEL="DEBUG"
    )
    assert status == 0 and shown in output, output
    outputs.append(output)
    port = closed_port()
    status, output = await copbot(
        tmp_path, "db", "upgrade", DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x?{secret}"
    )
    refused(status, output, f"postgres@127.0.0.1:{port}/x?password=*** (DATABASE_URL): Connect call failed")
    outputs.append(output)
    status, output = await copbot(tmp_path, DATABASE_URL=f"{pg_db_url}?sslmode=require&ssl{secret}")
    # (It reached asyncpg's connect(), "unexpected keyword argument"; named at start now, as in a
    # libpq URL, without its value.)
    refused(status, output, "DATABASE_URL: has the parameter sslpassword, which copbot cannot honour")
    outputs.append(output)
    assert not [output for output in outputs if PASSWORD in output]


@pytest.mark.parametrize(
    ("command", "url"),
    [
        (("db", "upgrade"), "postgresql+asyncpg://copbot:Xy@9kLm2Q@db.internal/copbot"),
        (("run",), "postgresql+asyncpg://copbot:Xy@9kLm2Q@db.internal/copbot"),
        (("db", "upgrade"), "postgresql+asyncpg://copbot:Xy@9kLm2Q:5432@db.internal:5432/copbot"),
        (("db", "upgrade"), "postgresql+asyncpg://copbot:Xy/9@kLm2Q@db.internal/copbot?x=1"),
    ],
    ids=["upgrade", "run", "port", "slash"],
)
async def test_an_at_left_in_the_database_password_shows_none_of_it(
    tmp_path: Path, command: tuple[str, ...], url: str
) -> None:
    """The password Xy@9kLm2Q, not percent-encoded: its end was printed as the host
    (copbot:***@9kLm2Q@db.internal). Only scheme, user and database are named now."""
    status, output = await copbot(tmp_path, *command, DATABASE_URL=url)

    refused(
        status,
        output,
        "cannot start: DATABASE_URL postgresql+asyncpg://copbot:***@…/copbot has an @ in its password",
        "percent-encode @ in the password as %40",
    )
    assert "kLm2Q" not in output and "Xy" not in output
    assert len(output.splitlines()) == 1, output


def test_an_at_in_the_database_user_name_alone_is_read_as_sqlalchemy_reads_it() -> None:
    """Azure's user@server names: the refusal of an @ in the password refused them too, advising
    about the password, though SQLAlchemy reads them right and nothing of the password shows."""
    url = "postgresql+asyncpg://copbot@myserver:pw@myserver.postgres.database.azure.com/copbot"
    read = database_url(Settings(_env_file=None, database_url=url))
    assert (read.username, read.password, read.host) == (
        "copbot@myserver",
        "pw",
        "myserver.postgres.database.azure.com",
    )
    with pytest.raises(StartupError, match="has an @ in its password"):  # both: still refused
        database_url(Settings(_env_file=None, database_url=url.replace(":pw@", ":p@w@")))


async def test_a_database_that_does_not_answer_fails_after_database_timeout(tmp_path: Path) -> None:
    """A server cut off by the network (it accepts, then says nothing): DATABASE_TIMEOUT, not TCP."""
    server = make_url(pg_url("test"))
    async with TcpProxy(server.host or "127.0.0.1", server.port or 5432) as proxy:
        proxy.cut()
        status, output = await copbot(
            tmp_path, DATABASE_URL=str(server.set(port=proxy.port)), DATABASE_TIMEOUT="0.5"
        )
        ended = time.monotonic()
    refused(status, output, "cannot open the database", "no answer within 0.5 s (DATABASE_TIMEOUT)")
    # Timed from copbot's first connection: its start (imports) takes seconds on a busy machine.
    assert ended - proxy.accepted[0] < 8  # the default, 10 s, would not do


def on_discord(fake: FakeDiscord, token: str, tmp_path: Path) -> dict[str, str]:
    """The settings of copbot on ``fake`` with ``token``."""
    return {
        "DISCORD_TOKEN": token,
        "DISCORD_API_URL": fake.api_url,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATA_DIR": str(tmp_path),
    }


def on_slack(fake: FakeSlack, token: str, tmp_path: Path) -> dict[str, str]:
    """The settings of copbot on ``fake`` with ``token``, in HTTP mode."""
    return {
        "SLACK_BOT_TOKEN": token,
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": fake.api_url,
        "DATA_DIR": str(tmp_path),
    }


@pytest.mark.parametrize("setting", ["SLACK_API_URL", "DISCORD_API_URL", "DISCORD_GATEWAY_URL"])
async def test_an_api_url_with_credentials_is_refused_without_showing_them(
    tmp_path: Path, setting: str
) -> None:
    """A proxy's credentials in SLACK_API_URL crashed the start with a 57-line traceback and exit
    status 1 (aiohttp refuses them beside the token's Authorization header)."""
    with_credentials = f"http://copbot:{PASSWORD}@127.0.0.1:{closed_port()}/api/"
    async with FakeDiscord(token="t") as discord, FakeSlack(tokens={"xoxb-right"}) as slack:
        status, output = await copbot(
            tmp_path,
            **{
                **on_discord(discord, "t", tmp_path),
                **on_slack(slack, "xoxb-right", tmp_path),
                "SLACK_PORT": "0",
                setting: with_credentials,
            },
        )
        assert not discord.connections and not slack.calls

    refused(status, output, f"copbot: {setting}: should not hold a user name or password (user:password@")
    assert PASSWORD not in output and len(output.splitlines()) == 1, output


async def while_locked(tmp_path: Path, pg_db_url: str, lock: str, *args: str) -> tuple[int, str]:
    """``copbot ARGS`` with a 0.5 s DATABASE_TIMEOUT while another transaction holds ``lock``:
    once copbot waits for it, it must wait three times that timeout out (still waiting when the
    lock goes), then finish."""
    holder, watcher = await connect(pg_db_url), await connect(pg_db_url)
    try:
        async with holder.transaction():
            await holder.execute(lock)
            running = asyncio.create_task(
                copbot(tmp_path, *args, DATABASE_URL=pg_db_url, DATABASE_TIMEOUT="0.5")
            )
            async with asyncio.timeout(30):  # however long copbot takes to start
                while not await watcher.fetchval(LOCK_WAITERS):
                    assert not running.done(), running.result()
                    await asyncio.sleep(0.05)
            # The timeout is PostgreSQL's (or the driver's) own, in real time: let it pass.
            await asyncio.sleep(1.5)
            assert await watcher.fetchval(LOCK_WAITERS) == 1
            assert not running.done(), running.result()
        return await running
    finally:
        await holder.close()
        await watcher.close()


async def test_a_replica_starting_during_a_long_migration_waits_for_it(
    tmp_path: Path, pg_db_url: str
) -> None:
    """Migrations are not cut short by DATABASE_TIMEOUT: a replica waits for another's migration
    (its lock), then finds nothing left to do."""
    lock = f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})"
    status, output = await while_locked(tmp_path, pg_db_url, lock, "db", "upgrade")
    assert status == 0 and "is at the latest schema" in output, output


async def test_a_dump_waits_for_a_table_another_transaction_locks(tmp_path: Path, pg_db_url: str) -> None:
    """The command line's maintenance is not cut short by DATABASE_TIMEOUT either (serving is)."""
    dumped = tmp_path / "all.jsonl"
    lock = "LOCK TABLE claim IN ACCESS EXCLUSIVE MODE"
    status, output = await while_locked(tmp_path, pg_db_url, lock, "db", "dump", str(dumped))
    assert status == 0 and "claim" in output, output
    assert dumped.stat().st_size > 0


async def test_a_discord_token_refused_or_discord_out_of_reach(tmp_path: Path) -> None:
    async with FakeDiscord(token="the-right-token") as fake:
        status, output = await copbot(tmp_path, **on_discord(fake, "a-wrong-token", tmp_path))
        assert not fake.connections
    refused(status, output, "cannot start: Discord refused the token in DISCORD_TOKEN")
    assert "a-wrong-token" not in output
    url = f"http://127.0.0.1:{closed_port()}/api/v10"
    status, output = await copbot(tmp_path, DISCORD_TOKEN="t", DISCORD_API_URL=url, DATA_DIR=str(tmp_path))
    refused(status, output, f"cannot start: cannot reach Discord at {url} (DISCORD_API_URL): Cannot connect")


async def test_a_slack_token_refused_or_slack_out_of_reach(tmp_path: Path) -> None:
    async with FakeSlack(tokens={"xoxb-right"}) as fake:
        status, output = await copbot(tmp_path, **on_slack(fake, "xoxb-wrong", tmp_path))
    refused(status, output, "cannot start: Slack answered 'invalid_auth' to the token in SLACK_BOT_TOKEN")
    assert "xoxb-wrong" not in output
    url = f"http://127.0.0.1:{closed_port()}/api/"
    settings = {"SLACK_BOT_TOKEN": "xoxb-right", "SLACK_SIGNING_SECRET": "secret", "SLACK_API_URL": url}
    status, output = await copbot(tmp_path, **settings, DATA_DIR=str(tmp_path))
    refused(status, output, f"cannot start: cannot reach Slack at {url} (SLACK_API_URL): Cannot connect")


async def test_a_discord_outage_at_start_is_named_in_one_line(tmp_path: Path) -> None:
    """Discord answering 503 to the login ended copbot with a traceback (exit 1), Slack beside it
    never served; now one line with Discord's answer, exit 2, so that the orchestrator starts it
    again."""
    async with FakeDiscord(token="t") as discord, FakeSlack(tokens={"xoxb-right"}) as slack:
        discord.fail("GET", "/users/@me", status=503, times=100)
        status, output = await copbot(
            tmp_path, **{**on_discord(discord, "t", tmp_path), **on_slack(slack, "xoxb-right", tmp_path)}
        )
    refused(
        status, output, "CRITICAL copbot: cannot start: Discord answered 503 Service Unavailable at start ("
    )
    assert "DISCORD_API_URL); copbot stops so that it is started again" in output
    # A proxy's HTML error page in front of Discord: still one line, with the HTTP reason.
    page = b"<html>\n<head><title>503 Service Temporarily Unavailable</title></head>\n</html>\n"
    async with FakeDiscord(token="t") as discord:
        html = {"Content-Type": "text/html"}
        discord.fail("GET", "/users/@me", status=503, body=page, headers=html, times=100)
        status, output = await copbot(tmp_path, **on_discord(discord, "t", tmp_path))
    refused(status, output, "cannot start: Discord answered 503 Service Unavailable at start (")
    assert "<html>" not in output and "</html>" not in output, output


# Discord's gateway closes IDENTIFY (the token passed the login): the close, and what copbot says.
GATEWAY_REFUSALS = {
    "token reset since login": (
        (4004, "Authentication failed."),
        "Discord closed the gateway with 4004 (authentication failed): check DISCORD_TOKEN",
    ),
    "too few shards": (
        (4011, "Sharding required."),
        "Discord closed the gateway with 4011 (sharding required): raise DISCORD_SHARD_COUNT",
    ),
    "a shard that does not exist": (
        (4010, "Invalid shard."),
        "Discord closed the gateway with 4010 (invalid shard): check DISCORD_SHARD_IDS",
    ),
    "privileged intents": (
        (4014, "Disallowed intent(s)."),
        "Discord closed the gateway with 4014 (disallowed intents): ",
    ),
}


@pytest.mark.parametrize("case", GATEWAY_REFUSALS)
async def test_a_gateway_that_refuses_at_start_is_named_in_one_json_line(tmp_path: Path, case: str) -> None:
    """The login passed but the gateway closed IDENTIFY for good: discord.py's ConnectionClosed
    came out as a plain traceback among the JSON lines, exit 1. Now: one line naming the close
    code, its meaning and the setting to check, exit 2, every line JSON."""
    close, expected = GATEWAY_REFUSALS[case]
    async with FakeDiscord(token="t") as fake:
        fake.identify_refusal = close
        status, output = await copbot(tmp_path, **on_discord(fake, "t", tmp_path), LOG_FORMAT="json")
        assert fake.identifies == []
    assert status == 2, output
    lines = [json.loads(line) for line in output.splitlines()]  # each line one JSON object
    (critical,) = [line for line in lines if line["level"] == "CRITICAL"]
    assert critical["message"].startswith("cannot start: " + expected), critical
    assert "exception" not in critical
    assert not [line for line in lines if line["level"] == "ERROR"], output


async def test_a_crash_at_start_stays_in_the_logs_format(tmp_path: Path) -> None:
    """What copbot does not foresee (here a gateway that answers with a page that is not JSON)
    still ends it in one JSON line, its traceback inside, and status 1, not a plain traceback."""
    async with FakeDiscord(token="t") as fake:
        fake.garble_ready = True
        status, output = await copbot(tmp_path, **on_discord(fake, "t", tmp_path), LOG_FORMAT="json")
    assert status == 1, output
    lines = [json.loads(line) for line in output.splitlines()]  # each line one JSON object
    last = lines[-1]
    assert last["level"] == "CRITICAL" and last["message"].startswith("copbot stopped: "), last
    assert "Traceback" in last["exception"]


async def test_slack_serves_while_discord_is_still_connecting(tmp_path: Path) -> None:
    """With both platforms configured, Slack used to wait for Discord's start (up to a minute on a
    slow gateway); they start side by side now: a Slack command is answered while Discord's login
    is still unanswered, and Discord connects after."""
    port = closed_port()
    async with FakeDiscord(token="t") as discord, FakeSlack(tokens={"xoxb-right"}) as slack:
        # Unanswered until Slack has answered, however long copbot takes to get there.
        login = discord.hold("GET", "/users/@me")
        slack_settings = {**on_slack(slack, "xoxb-right", tmp_path), "SLACK_PORT": str(port)}
        db_url = f"sqlite+aiosqlite:///{tmp_path}/copbot.db"
        log_path = tmp_path / "copbot.log"
        async with copbot_process(discord, "t", db_url, tmp_path, log_path, **slack_settings) as process:
            deadline = time.monotonic() + 20
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    assert process.returncode is None and time.monotonic() < deadline, log_path.read_text()
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                break
            url = f"http://127.0.0.1:{port}/slack/events"
            async with SlackSender(url, "secret", fake=slack) as sender:
                reply = await sender.command("/problem", "2.4")
            logged_in = [r for r in discord.requests if r.path == "/users/@me" and r.status == 200]
            assert logged_in == [] and discord.connections == [], "Discord was up before Slack answered"
            assert reply.status == 200 and "2.4" in reply.text, reply.text
            login.set()
            await discord.wait_ready(timeout=15)
            process.terminate()
            assert await process.wait() == 0, log_path.read_text()


HALF_SLACK = {
    "bot token only": (
        {"SLACK_BOT_TOKEN": "xoxb-1"},
        "cannot start: SLACK_BOT_TOKEN is set, but neither SLACK_SIGNING_SECRET (HTTP mode) nor "
        "SLACK_APP_TOKEN (Socket Mode) is",
    ),
    "signing secret only": (
        {"SLACK_SIGNING_SECRET": "s"},
        "cannot start: SLACK_SIGNING_SECRET is set, but SLACK_BOT_TOKEN is not",
    ),
    "app token only": (
        {"SLACK_APP_TOKEN": "xapp-1"},
        "cannot start: SLACK_APP_TOKEN is set, but SLACK_BOT_TOKEN is not",
    ),
}


@pytest.mark.parametrize("case", HALF_SLACK)
async def test_a_half_configured_slack_is_refused_not_left_out(tmp_path: Path, case: str) -> None:
    """A forgotten signing secret used to start the local console (exit 0 when its input ended: a
    restart loop under compose), or Discord alone with /healthz ready and no word of Slack."""
    settings, expected = HALF_SLACK[case]
    status, output = await copbot(tmp_path, **settings, DATA_DIR=str(tmp_path))
    refused(status, output, expected)
    assert "copbot console" not in output and "xoxb-1" not in output
    async with FakeDiscord(token="t") as discord:
        status, output = await copbot(tmp_path, **on_discord(discord, "t", tmp_path), **settings)
        assert not discord.connections
    refused(status, output, expected)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "0", "METRICS_PORT": "0"}, "DISCORD_SHARD_COUNT"),
        ({"DISCORD_GUILD_ID": "123"}, "DISCORD_GUILD_ID"),
        ({"METRICS_PORT": "0"}, "METRICS_PORT"),
    ],
)
async def test_a_platform_setting_without_any_token_is_refused_not_left_to_the_console(
    tmp_path: Path, settings: dict[str, str], named: str
) -> None:
    """docker-compose.yml's replica with DISCORD_TOKEN missing from .env (or misspelt): before,
    `copbot run` opened the local console, whose input ended at once, and exited 0, so the
    orchestrator restarted it again and again, /healthz never served, nothing saying why. Now one
    line names the setting that says a platform was meant, and the token it lacks, status 2."""
    status, output = await copbot(tmp_path, **settings, DATA_DIR=str(tmp_path))
    refused(status, output, f"cannot start: {named} is set, but neither DISCORD_TOKEN nor SLACK_BOT_TOKEN is")
    assert "copbot console —" not in output and len(output.splitlines()) == 1, output


async def test_an_env_file_that_is_not_utf8_is_named_in_one_line(tmp_path: Path) -> None:
    """A .env saved as "Unicode" by Windows Notepad (UTF-16, with its byte order mark) stopped
    copbot with a 20-line UnicodeDecodeError traceback from inside pydantic-settings, status 1.
    Now one line names the file and says to save it as UTF-8, status 2, as any setting."""
    (tmp_path / ".env").write_text("DISCORD_TOKEN=t\nSTALE_AFTER_DAYS=3\n", encoding="utf-16")
    status, output = await copbot(tmp_path, "db", "upgrade", DATA_DIR=str(tmp_path))
    refused(status, output, "copbot: .env: not UTF-8 text (it is UTF-16): save it as UTF-8")
    assert len(output.splitlines()) == 1, output
    assert not (tmp_path / "copbot.db").exists()


async def test_an_env_file_that_is_not_utf8_is_named_in_json_with_log_format_json(tmp_path: Path) -> None:
    """LOG_FORMAT=json in the environment (a unit file's, say) and a .env saved as UTF-16 beside
    it: the refusal was a bare "copbot: .env: ..." line, the one line a JSON log pipeline could
    not read. Now it is a CRITICAL JSON object, as the refusal of a setting that does not parse."""
    (tmp_path / ".env").write_text("DISCORD_TOKEN=t\n", encoding="utf-16")
    status, output = await copbot(tmp_path, "db", "upgrade", DATA_DIR=str(tmp_path), LOG_FORMAT="json")
    assert status == 2, output
    lines = [json.loads(line) for line in output.splitlines()]
    assert [(line["level"], line["message"]) for line in lines] == [
        ("CRITICAL", "cannot start: .env: not UTF-8 text (it is UTF-16): save it as UTF-8")
    ], output
    assert not (tmp_path / "copbot.db").exists()


async def test_a_misspelt_setting_is_named_with_the_one_it_resembles(tmp_path: Path) -> None:
    """DISCORD_BOT_TOKEN in the environment or STALE_AFTER_DAY in .env was ignored without a
    word (copbot reads only its own names), so copbot ran with the default, or on the console
    instead of Discord. Now each is named in a warning with the setting it resembles; names
    like no setting (a compose file's POSTGRES_PASSWORD in the same .env) are left alone."""
    (tmp_path / ".env").write_text("STALE_AFTER_DAY=7\nPOSTGRES_PASSWORD=pw-for-db-7\n")
    status, output = await copbot(tmp_path, "db", "upgrade", DISCORD_BOT_TOKEN="t", DATA_DIR=str(tmp_path))
    assert status == 0, output
    warnings = [line.split(" WARNING ", 1)[1] for line in output.splitlines() if " WARNING " in line]
    assert warnings == [
        "copbot: DISCORD_BOT_TOKEN is no copbot setting, so it is ignored: did you mean DISCORD_TOKEN?",
        "copbot: STALE_AFTER_DAY (in .env) is no copbot setting, so it is ignored: did you mean "
        "STALE_AFTER_DAYS?",
    ], output
    assert "POSTGRES_PASSWORD" not in output and "pw-for-db-7" not in output


async def test_a_line_of_env_that_does_not_parse_is_named_once_in_the_logs_format(tmp_path: Path) -> None:
    """``DISCORD_TOKEN abc`` (no ``=``) in .env: python-dotenv's warning came out twice, once as
    a bare line outside LOG_FORMAT=json. Now it is one line, a JSON object like every other."""
    (tmp_path / ".env").write_text("LOG_FORMAT=json\nDISCORD_TOKEN abc\n")
    status, output = await copbot(tmp_path, "db", "upgrade", DATA_DIR=str(tmp_path))
    assert status == 0, output
    said = [line for line in output.splitlines() if "could not parse" in line]
    assert len(said) == 1, output
    assert json.loads(said[0])["message"] == "python-dotenv could not parse statement starting at line 2"


async def test_metrics_on_the_slack_port_is_named_as_such(tmp_path: Path) -> None:
    """METRICS_PORT set to SLACK_PORT: copbot started /metrics there, then said the Slack port was
    "Address already in use", as if another program held it. Now one line names both settings,
    before anything listens or anything is sent to Slack."""
    port = str(closed_port())
    async with FakeSlack(tokens={"xoxb-right"}) as slack:
        status, output = await copbot(
            tmp_path, **on_slack(slack, "xoxb-right", tmp_path), SLACK_PORT=port, METRICS_PORT=port
        )
        assert not slack.calls
    refused(status, output, f"cannot start: METRICS_PORT and SLACK_PORT are both {port}")
    assert "Address already in use" not in output and "metrics and health" not in output, output


def test_a_platform_that_times_out_is_named_with_a_reason() -> None:
    """A timeout has no text of its own; the line still says what went wrong (its type)."""
    line = str(unreachable("Slack", "http://127.0.0.1:9/api/", "SLACK_API_URL", TimeoutError()))
    assert line == "cannot reach Slack at http://127.0.0.1:9/api/ (SLACK_API_URL): TimeoutError"


async def test_a_bind_host_that_does_not_resolve(tmp_path: Path) -> None:
    """BIND_HOST that names no host: the resolver's own reason (its error code is not errno's)."""
    host = "no.such.host.invalid"
    with pytest.raises(socket.gaierror) as resolving:
        await asyncio.get_running_loop().getaddrinfo(host, 0)
    async with FakeDiscord(token="t") as fake:
        status, output = await copbot(
            tmp_path, **on_discord(fake, "t", tmp_path), BIND_HOST=host, METRICS_PORT="0"
        )
    reason = resolving.value.strerror
    refused(status, output, f"cannot listen on {host}:0 (BIND_HOST, METRICS_PORT): {reason}\n")


async def test_a_port_already_taken(tmp_path: Path, taken_port: int) -> None:
    """The metrics port and Slack's HTTP port, each taken by something else."""
    async with FakeDiscord(token="t") as fake:
        status, output = await copbot(
            tmp_path, **on_discord(fake, "t", tmp_path), METRICS_PORT=str(taken_port)
        )
    where = f"127.0.0.1:{taken_port}"
    refused(status, output, f"cannot listen on {where} (BIND_HOST, METRICS_PORT): Address already in use")
    async with FakeSlack(tokens={"xoxb-right"}) as slack:
        status, output = await copbot(
            tmp_path, **on_slack(slack, "xoxb-right", tmp_path), SLACK_PORT=str(taken_port)
        )
    refused(status, output, f"cannot listen on {where} (BIND_HOST, SLACK_PORT): Address already in use")


# A token as an operator may paste it, and the one line copbot answers (never the token).
MISPASTED_TOKENS = {
    "discord token with Bot before it": (
        {"DISCORD_TOKEN": "Bot MTA1.abc.def"},
        "copbot: DISCORD_TOKEN: should be the token alone, without 'Bot ' before it",
    ),
    "discord token in quotes (docker compose keeps them)": (
        {"DISCORD_TOKEN": '"MTA1.abc.def"'},
        "copbot: DISCORD_TOKEN: holds a space, a quote, a line break or a letter beyond ASCII",
    ),
    "discord token of two lines": (
        {"DISCORD_TOKEN": "MTA1.abc.def\r\nMTA1.abc.def"},
        "copbot: DISCORD_TOKEN: holds a space, a quote, a line break or a letter beyond ASCII",
    ),
    "slack user token": (
        {"SLACK_BOT_TOKEN": "xoxp-1-MTA1abcdef"},
        "copbot: SLACK_BOT_TOKEN: is a user token (xoxp-…): use the Bot User OAuth Token (xoxb-…)",
    ),
    "slack app token as the bot token": (
        {"SLACK_BOT_TOKEN": "xapp-1-MTA1abcdef", "SLACK_APP_TOKEN": "xapp-1-MTA1abcdef"},
        "copbot: SLACK_BOT_TOKEN: is the app-level token (xapp-…): use the Bot User OAuth Token",
    ),
    "slack bot token as the app token": (
        {"SLACK_APP_TOKEN": "xoxb-1-MTA1abcdef"},
        "copbot: SLACK_APP_TOKEN: is a bot or user token (xox…): Socket Mode needs the app-level token",
    ),
    "slack bot token of two lines": (
        {"SLACK_BOT_TOKEN": "xoxb-right\nxoxb-right"},
        "copbot: SLACK_BOT_TOKEN: holds a space, a quote, a line break",
    ),
}


@pytest.mark.parametrize("case", MISPASTED_TOKENS)
async def test_a_token_pasted_wrong_is_named_before_anything_is_sent(tmp_path: Path, case: str) -> None:
    """A token with 'Bot ' or quotes around it, a Slack token of the wrong kind: one line naming
    the variable and what to paste instead, before any request. A line break inside a token was
    a traceback (aiohttp refuses it in a header) and exit status 1; the others a refusal by the
    platform that did not say why (or, for Slack's user token, a bot acting as a person)."""
    settings, expected = MISPASTED_TOKENS[case]
    async with FakeDiscord(token="MTA1.abc.def") as discord, FakeSlack(tokens={"xoxb-right"}) as slack:
        status, output = await copbot(
            tmp_path,
            **{
                **on_discord(discord, "MTA1.abc.def", tmp_path),
                **on_slack(slack, "xoxb-right", tmp_path),
                "SLACK_PORT": "0",
                **settings,
            },
        )
        assert not discord.requests and not slack.calls
    refused(status, output, expected)
    assert len(output.splitlines()) == 1, output
    assert "MTA1" not in output


async def test_a_signing_secret_with_a_line_break_after_it_still_checks_signatures(tmp_path: Path) -> None:
    """A Kubernetes or Docker secret made from a file keeps the file's last line break: copbot used
    the secret with it, so every request's signature was wrong (401, 'dispatch_failed' in Slack)
    and nothing said why. The value is taken as Slack shows it, without the line break."""
    port = closed_port()
    async with FakeDiscord() as discord, FakeSlack(tokens={"xoxb-right"}) as slack:
        settings = {
            **on_slack(slack, "xoxb-right\n", tmp_path),
            "SLACK_SIGNING_SECRET": "secret\n",
            "SLACK_PORT": str(port),
        }
        log_path = tmp_path / "copbot.log"
        # DISCORD_TOKEN empty: Slack alone.
        async with copbot_process(discord, "", "", tmp_path, log_path, **settings) as process:
            async with asyncio.timeout(20):
                while True:
                    assert process.returncode is None, log_path.read_text()
                    try:
                        _, writer = await asyncio.open_connection("127.0.0.1", port)
                    except OSError:
                        await asyncio.sleep(0.05)
                        continue
                    writer.close()
                    break
            async with SlackSender(f"http://127.0.0.1:{port}/slack/events", "secret", fake=slack) as sender:
                reply = await sender.command("/problem", "2.4")
            assert reply.status == 200 and "2.4" in reply.text, log_path.read_text()
            process.terminate()
            assert await process.wait() == 0, log_path.read_text()


@pytest.fixture
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder that exists and that copbot may not write in: one made read-only, or for root
    (whom permissions do not stop) /sys, where nobody may create a file."""
    if os.geteuid() == 0:
        if not Path("/sys/kernel").is_dir():
            pytest.skip("no unwritable folder for root here")
        yield Path("/sys")
        return
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


@pytest.mark.parametrize("setting", ["DATA_DIR", "DATABASE_URL"])
async def test_a_sqlite_folder_copbot_may_not_write_in_is_named(
    tmp_path: Path, unwritable_folder: Path, setting: str
) -> None:
    """DATA_DIR (or a SQLite DATABASE_URL) in a folder copbot may not write, or on a read-only
    file system: SQLite's own words, 'unable to open database file', said neither why nor what
    to do. Now the folder, the system's reason and the fix."""
    value = str(unwritable_folder)
    if setting == "DATABASE_URL":
        value = f"sqlite+aiosqlite:///{unwritable_folder}/copbot.db"
    for command in (("run",), ("db", "upgrade")):
        status, output = await copbot(tmp_path, *command, **{setting: value})
        refused(
            status,
            output,
            f"cannot start: cannot open the database sqlite+aiosqlite:///{unwritable_folder}/copbot.db "
            f"({setting}): copbot may not write in {unwritable_folder} "
            f"(Permission denied), where SQLite keeps the database and its -wal and -shm files: "
            f"give {setting} a folder copbot may write in",
        )
        assert len(output.splitlines()) == 1, output


@pytest.mark.parametrize("missing", ["database", "user"])
async def test_a_postgresql_database_or_user_that_does_not_exist_is_named_with_the_fix(
    tmp_path: Path, missing: str
) -> None:
    """A first deployment points DATABASE_URL at a database nobody made yet (or a user nobody
    created): PostgreSQL's words alone said what was missing, not what to do; now the command
    that makes it, built from the URL (never its password), or to name an existing one."""
    server = make_url(pg_url("test"))
    name = f"copbot_never_made_{os.getpid()}"
    wrong = {"database": name} if missing == "database" else {"username": name}
    url = server.set(password=PASSWORD, **wrong).render_as_string(hide_password=False)
    where = f"-h {server.host}" + (f" -p {server.port}" if server.port else "")
    fix = {
        "database": f"create it (createdb {where} -U {server.username} {name}) or name an existing database",
        "user": f"create the user (createuser {where} -P {name}) or name an existing one in DATABASE_URL",
    }[missing]
    for command in (("run",), ("db", "upgrade")):
        status, output = await copbot(tmp_path, *command, DATABASE_URL=url)
        what = "database" if missing == "database" else "role"
        refused(status, output, f'{what} "{name}" does not exist: {fix}')
        assert PASSWORD not in output and len(output.splitlines()) == 1, output


async def test_log_format_is_read_in_any_case_as_log_level_is(tmp_path: Path) -> None:
    """LOG_LEVEL=debug was taken but LOG_FORMAT=JSON refused ('should be text or json'): both are
    read in any case now, and the log is JSON."""
    status, output = await copbot(tmp_path, LOG_FORMAT="JSON", LOG_LEVEL="warning", SEED_FILE="nope.csv")
    assert status == 2, output
    (line,) = [json.loads(line) for line in output.splitlines()]
    assert line["level"] == "CRITICAL" and "(SEED_FILE)" in line["message"], line


async def test_a_setting_left_empty_takes_its_default(tmp_path: Path) -> None:
    """`DATA_DIR=`, `BIND_HOST=`, `SLACK_PORT=` as a .env template leaves them: DATA_DIR put the
    database in the working folder instead of data/, SEED_FILE read the folder itself, BIND_HOST
    bound every interface (the metrics open to the network) and SLACK_PORT was refused as not a
    number, though `METRICS_PORT=` and the tokens left empty were unset. Each takes its default."""
    (tmp_path / ".env").write_text("DATA_DIR=\nSEED_FILE=\nBIND_HOST=\nSLACK_PORT=\nLOG_LEVEL=\n")
    status, output = await copbot(tmp_path, "console", stdin="/problem 2.4\n/quit\n")
    assert status == 0 and "3 letter acronyms" in output, output
    assert (tmp_path / "data" / "copbot.db").exists() and not (tmp_path / "copbot.db").exists()
    async with FakeDiscord(token="t") as fake:
        log_path = tmp_path / "copbot.log"
        async with copbot_process(fake, "t", "", tmp_path, log_path, METRICS_PORT="0") as process:
            await fake.wait_ready(timeout=30)
            process.terminate()
            assert await process.wait() == 0, log_path.read_text()
    assert "metrics and health on http://127.0.0.1:" in log_path.read_text()


async def test_a_setting_of_spaces_alone_is_unset_in_the_environment_and_in_env(tmp_path: Path) -> None:
    """`SLACK_PORT="  "` in .env and `BIND_HOST=" "`, `METRICS_PORT=" "`, `DISCORD_TOKEN=" "` in the
    environment, as a template or a compose file leaves them: unset, as `FOO=` is (SLACK_PORT was
    refused as not a number, DATA_DIR of spaces made a folder named so). A blank in the
    environment leaves .env's value in force, as an unset one does."""
    (tmp_path / ".env").write_text('DATA_DIR=store\nSLACK_PORT="  "\nSEED_FILE=" "\nLOG_LEVEL="  "\n')
    blanks = {
        name: "  " for name in ("DATA_DIR", "BIND_HOST", "METRICS_PORT", "DISCORD_TOKEN", "SLACK_BOT_TOKEN")
    }
    status, output = await copbot(tmp_path, "console", stdin="/problem 2.4\n/quit\n", **blanks)
    assert status == 0 and "3 letter acronyms" in output, output
    assert sorted(os.listdir(tmp_path)) == [".env", "store"]
    assert (tmp_path / "store" / "copbot.db").exists()


def libpq_style(url: str) -> str:
    """copbot's ``postgresql+asyncpg://`` URL as libpq and providers write it."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.mark.parametrize("style", ["postgresql://", "postgresql+asyncpg://"])
async def test_a_libpq_urls_application_name_and_connect_timeout_reach_the_server(
    tmp_path: Path, pg_db_url: str, style: str
) -> None:
    """``?application_name=…&connect_timeout=…&sslmode=disable`` in a libpq URL, or in one that
    names asyncpg, stopped every command with "connect() got an unexpected keyword argument
    'connect_timeout'"; now the server shows the name (seen in pg_stat_activity while a dump
    waits for a table another transaction locks)."""
    url = pg_db_url.replace("postgresql+asyncpg://", style, 1)
    url += "?application_name=copbot-ops&connect_timeout=5&sslmode=disable"
    holder, watcher = await connect(pg_db_url), await connect(pg_db_url)
    waiting = (
        "SELECT application_name FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE claim IN ACCESS EXCLUSIVE MODE")
            running = asyncio.create_task(copbot(tmp_path, "db", "dump", "all.jsonl", DATABASE_URL=url))
            async with asyncio.timeout(30):
                while not (names := [row[0] for row in await watcher.fetch(waiting)]):
                    assert not running.done(), running.result()
                    await asyncio.sleep(0.05)
            assert names == ["copbot-ops"]
        status, output = await running
    finally:
        await holder.close()
        await watcher.close()
    assert status == 0 and "dumped all.jsonl" in output, output


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_sqlite_url_with_a_query_is_refused_in_one_line_and_writes_nothing(
    tmp_path: Path, log_format: str
) -> None:
    """``sqlite+aiosqlite:///x.db?mode=ro``: SQLAlchemy printed its two-line SAWarning twice (in
    LOG_FORMAT=json too), ignored mode=ro and made and migrated x.db; now one line in the log's
    format, status 2, and no file."""
    url = "sqlite+aiosqlite:///x.db?mode=ro"
    status, output = await copbot(tmp_path, "db", "upgrade", DATABASE_URL=url, LOG_FORMAT=log_format)
    refused(status, output, "DATABASE_URL: has the parameter mode, which copbot cannot honour for a SQLite")
    assert len(output.splitlines()) == 1, output
    assert "Warning" not in output, output
    if log_format == "json":
        assert json.loads(output)["level"] == "CRITICAL", output
    assert os.listdir(tmp_path) == []


async def test_a_libpq_urls_options_search_path_is_honoured(tmp_path: Path, pg_db_url: str) -> None:
    """``?options=-c%20search_path%3Dops`` (libpq's way to put copbot's tables in a schema of their
    own): the server reads it as from libpq, and db upgrade makes copbot's tables in ``ops``."""
    admin = await connect(pg_db_url)
    try:
        await admin.execute("CREATE SCHEMA ops")
        url = libpq_style(pg_db_url) + "?options=-c%20search_path%3Dops"
        status, output = await copbot(tmp_path, "db", "upgrade", DATABASE_URL=url)
        assert status == 0 and "is at the latest schema" in output, output
        assert await admin.fetchval("SELECT to_regclass('ops.claim') IS NOT NULL")
        assert await admin.fetchval("SELECT to_regclass('ops.alembic_version') IS NOT NULL")
    finally:
        await admin.close()


async def test_a_libpq_urls_sslrootcert_asks_for_tls(tmp_path: Path, pg_db_url: str) -> None:
    """``?sslrootcert=system`` (libpq: the system's authorities, sslmode verify-full): copbot asks
    the server for TLS (this test server has none, so it is refused there), where it used to stop
    at "unexpected keyword argument 'sslrootcert'"."""
    url = libpq_style(pg_db_url) + "?sslrootcert=system"
    status, output = await copbot(tmp_path, "db", "upgrade", DATABASE_URL=url)
    refused(status, output, "rejected SSL upgrade")
    assert "unexpected keyword" not in output, output


def test_docker_compose_kills_a_replica_no_sooner_than_the_replica_is_told() -> None:
    """docker-compose.yml had ``stop_grace_period: 20s`` fixed, so a SHUTDOWN_GRACE_SECONDS
    raised in .env (up to 600) had Docker kill copbot mid-shutdown. Now one variable,
    STOP_GRACE_SECONDS, sets both Docker's grace period and what every replica is told (it fits
    its shutdown grace in it), with the same default, in which the default shutdown fits."""
    from bot.runner import CLOSE_SECONDS, SPARE_SECONDS

    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    periods = re.findall(r"^\s*stop_grace_period:\s*(\S+)\s*$", compose, re.MULTILINE)
    told = re.findall(r"^\s*STOP_GRACE_SECONDS:\s*(\S+)\s*$", compose, re.MULTILINE)
    replicas = re.findall(r"^\s*DISCORD_SHARD_IDS:", compose, re.MULTILINE)
    assert periods == ["${STOP_GRACE_SECONDS:-20}s"], periods  # bot-1 takes bot-0's (<<: *bot)
    assert told == ["${STOP_GRACE_SECONDS:-20}"] * len(replicas), told
    default = Settings.model_fields["shutdown_grace_seconds"].default
    assert default + CLOSE_SECONDS + SPARE_SECONDS <= 20
