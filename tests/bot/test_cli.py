"""The command line's data commands as an operator runs them, from the wrong folder or with the
wrong file too: each names what is wrong instead of making a database or breaking one."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from bot.cli import main
from storage.catalogue import COLUMNS
from storage.claims import Person
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.store import Store
from tests.bot.test_startup import copbot, refused
from tests.conftest import START
from tests.support.pg import connect

SETTING = "set DATABASE_URL or DATA_DIR to the bot's database"

ANN = Person("discord", "g1", "ann", "Ann")


async def assert_no_tables(db_url: str) -> None:
    """A PostgreSQL database at ``db_url`` still has no tables (a SQLite one: its file is checked
    by the caller)."""
    if db_url.startswith("sqlite"):
        return
    db = await connect(db_url)
    try:
        assert await db.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    finally:
        await db.close()


async def test_a_backup_onto_the_live_database_or_its_wal_is_refused(tmp_path: Path) -> None:
    """`db backup data/copbot.db` (or its -wal, -shm) while the bot runs: refused before anything
    is written, and the bot's next claim lands in a sound database (the copy used to replace the
    live file: claims written meanwhile were lost, and the file failed its integrity check)."""
    status, output = await copbot(tmp_path, "console", "--as", "ann", stdin="/claim 3.11\n/quit\n")
    assert status == 0, output
    live = tmp_path / "data" / "copbot.db"
    bot = Store(make_engine(f"sqlite+aiosqlite:///{live}"))
    try:
        assert (await bot.claim("2.4", ANN, START)).created  # the bot holds the file, with its -wal and -shm
        for name, what in (
            ("copbot.db", "the database itself"),
            ("copbot.db-wal", "the database's own -wal file"),
            ("copbot.db-shm", "the database's own -shm file"),
        ):
            status, output = await copbot(tmp_path, "db", "backup", f"data/{name}")
            assert status == 1, output
            assert output == f"'data/{name}' is {what} ('{live}'): name the copy another file\n"
        assert sorted(os.listdir(live.parent)) == ["copbot.db", "copbot.db-shm", "copbot.db-wal"]
        assert (await bot.claim("1.1", ANN, START)).created
    finally:
        await bot.close()
    with closing(sqlite3.connect(live)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        claims = db.execute("SELECT problem_number FROM claim WHERE user_id = 'ann' ORDER BY id").fetchall()
    assert claims == [("3.11",), ("2.4",), ("1.1",)]


async def test_read_only_commands_from_another_folder_make_no_database(tmp_path: Path) -> None:
    """`db dump`, `catalogue export` and `db backup` run where the bot's data/ is not (another
    folder, another DATA_DIR): refused with the file they looked for and the settings that choose
    it; no data/ folder or file is made (dump and export used to create and seed a new database
    there, and report on it with exit status 0, leaving the real data behind)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in (
        ("db", "dump", "copbot.jsonl"),
        ("catalogue", "export", "copbot.csv"),
        ("db", "backup", "copy.db"),
    ):
        status, output = await copbot(elsewhere, *command)
        refused(
            status,
            output,
            f"cannot start: no SQLite database at {elsewhere}/data/copbot.db (DATA_DIR): {SETTING}",
        )
    assert os.listdir(elsewhere) == []


async def test_a_dump_of_a_database_copbot_never_made_is_refused(tmp_path: Path, empty_db_url: str) -> None:
    """DATABASE_URL naming a SQLite file that does not exist, or a PostgreSQL database without
    copbot's tables: `db dump` and `catalogue export` refuse, and leave it as it was (no file, no
    tables), where they used to migrate and seed it and dump the seed."""
    for command in (("db", "dump", "copbot.jsonl"), ("catalogue", "export", "copbot.csv")):
        status, output = await copbot(tmp_path, *command, DATABASE_URL=empty_db_url)
        if empty_db_url.startswith("sqlite"):
            refused(status, output, f"no SQLite database at {tmp_path}/empty.db (DATABASE_URL): {SETTING}")
        else:
            refused(
                status, output, f"the database {empty_db_url} has no copbot tables (DATABASE_URL): {SETTING}"
            )
    assert os.listdir(tmp_path) == []
    await assert_no_tables(empty_db_url)


async def test_an_import_into_a_new_database_loads_the_file_alone(tmp_path: Path, empty_db_url: str) -> None:
    """A community's own catalogue imported into a database copbot never started on: its one
    problem is reported as added and is the whole catalogue (the 98-problem seed used to be loaded
    first, and the report said "0 added, 1 changed")."""
    own = tmp_path / "own.csv"
    own.write_text("number,category,difficulty,problem\n1.1,Cat,A,My own first problem\n", encoding="utf-8")
    status, output = await copbot(tmp_path, "catalogue", "import", "own.csv", DATABASE_URL=empty_db_url)
    assert status == 0, output
    new = f" into a new database at {tmp_path}/empty.db" if empty_db_url.startswith("sqlite") else ""
    assert f"imported own.csv{new}: 1 added (1.1), 0 changed, 0 unchanged;" in output, output
    status, output = await copbot(tmp_path, "db", "dump", "all.jsonl", DATABASE_URL=empty_db_url)
    assert status == 0 and " 1 problem, " in output, output


async def test_an_export_moved_into_a_new_database_counts_the_lines_it_leaves(tmp_path: Path) -> None:
    """Export → import into a new database: copbot's own claim, written in the export marked
    (via copbot), is not imported, and the report says how many such lines it skipped."""
    status, output = await copbot(tmp_path, "console", "--as", "ann", stdin="/claim 3.11\n/quit\n")
    assert status == 0, output
    status, output = await copbot(tmp_path, "catalogue", "export", "sheet.csv")
    assert status == 0, output
    other = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    status, output = await copbot(tmp_path, "catalogue", "import", "sheet.csv", DATABASE_URL=other)
    assert status == 0, output
    assert "98 added" in output and "1 line marked (via copbot) skipped" in output, output


BAD_CSV = "Number;Difficulty;Problem\n2,4;B;new text\n"  # no category column: refused


async def test_a_refused_import_into_a_wrong_data_dir_leaves_no_database(tmp_path: Path) -> None:
    """`catalogue import` of a file it refuses, with a DATA_DIR that is not the bot's: refused
    (status 1) without making the folder or a database there, so the `catalogue export` that
    follows is refused too (the import used to leave an empty, migrated wrong/copbot.db, which the
    export then seeded and exported with exit status 0: 98 problems that were never the bot's)."""
    (tmp_path / "bad.csv").write_text(BAD_CSV, encoding="utf-8")
    wrong = tmp_path / "wrong"
    status, output = await copbot(tmp_path, "catalogue", "import", "bad.csv", DATA_DIR=str(wrong))
    assert status == 1, output
    assert output.startswith("bad.csv: no header in rows 1-2"), output
    assert sorted(os.listdir(tmp_path)) == ["bad.csv"]
    status, output = await copbot(tmp_path, "catalogue", "export", "out.csv", DATA_DIR=str(wrong))
    refused(status, output, f"cannot start: no SQLite database at {wrong}/copbot.db (DATA_DIR): {SETTING}")
    assert sorted(os.listdir(tmp_path)) == ["bad.csv"]


async def test_a_refused_import_leaves_a_new_database_untouched(tmp_path: Path, empty_db_url: str) -> None:
    """The file is checked before the database is opened: a refused import into a SQLite file
    that does not exist makes none, and leaves an empty PostgreSQL database without tables (it
    used to be migrated first, and the file refused after)."""
    (tmp_path / "bad.csv").write_text(BAD_CSV, encoding="utf-8")
    status, output = await copbot(tmp_path, "catalogue", "import", "bad.csv", DATABASE_URL=empty_db_url)
    assert status == 1, output
    assert output.startswith("bad.csv: no header in rows 1-2"), output
    assert sorted(os.listdir(tmp_path)) == ["bad.csv"]
    await assert_no_tables(empty_db_url)


async def test_an_import_that_fails_in_a_new_database_removes_it(tmp_path: Path) -> None:
    """An import whose new SQLite file cannot be set up (here a folder where its -wal would go:
    a disk I/O error) stops with the database's error and removes the file it made, so a later
    command there does not find an empty database and take it for the bot's. What was there
    before (the folder) is left as it was."""
    (tmp_path / "own.csv").write_text("number,category,difficulty,problem\n1.1,Cat,A,One\n", encoding="utf-8")
    data = tmp_path / "data"
    (data / "copbot.db-wal").mkdir(parents=True)
    status, output = await copbot(tmp_path, "catalogue", "import", "own.csv")
    refused(status, output, f"cannot start: cannot open the database sqlite+aiosqlite:///{data}/copbot.db")
    assert os.listdir(data) == ["copbot.db-wal"]


async def test_read_only_commands_never_seed_an_empty_database(tmp_path: Path) -> None:
    """A database copbot made but never loaded a catalogue into (`db upgrade` alone): `catalogue
    export` and `db dump` report the empty catalogue and leave it empty (they used to load the
    98-problem seed into it and report that, as if it were the bot's)."""
    status, output = await copbot(tmp_path, "db", "upgrade")
    assert status == 0, output
    status, output = await copbot(tmp_path, "catalogue", "export", "out.csv")
    assert status == 0, output
    assert len((tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()) == 1  # the header alone
    status, output = await copbot(tmp_path, "db", "dump", "all.jsonl")
    assert status == 0 and " 0 problem, " in output, output
    with closing(sqlite3.connect(tmp_path / "data" / "copbot.db")) as db:
        assert db.execute("SELECT count(*) FROM problem").fetchone() == (0,)


def test_copbot_help_names_every_subcommand_it_offers(capsys: pytest.CaptureFixture[str]) -> None:
    """`copbot --help` opened with "run, console, catalogue import/export, db upgrade/backup.",
    leaving out `db dump` and `db load`, the two the README's move to PostgreSQL relies on."""
    with pytest.raises(SystemExit):
        main(["--help"])
    summary = capsys.readouterr().out.split("positional arguments")[0]
    for command in ("run", "console", "import", "export", "upgrade", "backup", "dump", "load"):
        assert command in summary, command


def readme_commands() -> list[tuple[list[str], str]]:
    """The README's "Command line" block: each line's words (before its comment) and comment."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Command line\n\n```\n", 1)[1].split("```", 1)[0]
    lines = [line.partition("#") for line in block.splitlines() if line.strip()]
    return [(words.split(), comment.strip()) for words, _, comment in lines]


@pytest.mark.parametrize("line", [" ".join(words) for words, _ in readme_commands()])
def test_each_command_the_readme_lists_explains_itself_in_its_help(
    line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`copbot db backup --help` (each subcommand's) showed its usage alone: not what it does nor
    what its file is, and `console` read `--as USER` where the README writes `--as NAME`. Each
    command the README lists now has the README's usage, a description and a word on each
    argument."""
    words = line.split()[1:]
    path = [word for word in words if word.isalpha() and word.islower()]
    rest = words[len(path) :]
    with pytest.raises(SystemExit):
        main([*path, "--help"])
    shown = capsys.readouterr().out
    usage, description, *_ = shown.split("\n\n")
    assert " ".join(usage.split()) == " ".join(["usage: copbot", *path, "[-h]", *rest]), shown
    assert not description.startswith(("positional", "options")), shown
    for argument in re.findall(r"\[([^]]+)\]|(\S+)", " ".join(rest)):
        named = "".join(argument)  # `--as NAME` from `[--as NAME]`, or `FILE.db`
        (entry,) = [row.split() for row in shown.splitlines() if row.strip().startswith(named)]
        assert len(entry) > len(named.split()), shown  # explained, not only named


def as_a_provider_gives_it(db_url: str, scheme: str) -> str:
    """``db_url`` (copbot's own form) in the form a provider pastes: ``scheme://`` without a
    driver, and on PostgreSQL with a password (the test server trusts, so it is not checked)."""
    rest = db_url.partition("://")[2]
    if scheme.startswith("postgres"):
        rest = rest.replace("postgres@", f"postgres:{PROVIDER_PASSWORD}@", 1)
    return f"{scheme}://{rest}"


PROVIDER_PASSWORD = "pr0vider-pw"


@pytest.mark.parametrize(
    ("scheme", "query", "read_as"),
    [
        ("postgres", "", ""),
        ("postgresql", "?sslmode=prefer", "?ssl=prefer"),
        # 'connect() got an unexpected keyword argument channel_binding' before.
        ("postgresql", "?sslmode=prefer&channel_binding=prefer", "?ssl=prefer"),
    ],
    ids=["heroku", "libpq-sslmode", "libpq-channel-binding"],
)
async def test_a_postgresql_url_as_providers_give_it_works_in_every_command(
    tmp_path: Path, pg_db_url: str, scheme: str, query: str, read_as: str
) -> None:
    """Heroku's ``postgres://…`` and libpq's ``postgresql://…?sslmode=…`` (as hosted providers
    show theirs), pasted into DATABASE_URL: every command used to stop with "No module named
    'psycopg'" (or "Can't load plugin: sqlalchemy.dialects:postgres"). Now each is read with
    copbot's async driver (sslmode as asyncpg's ssl), named so on screen, and its password is
    shown nowhere."""
    await each_command_works(tmp_path, pg_db_url, scheme, query, read_as)


async def test_a_sqlite_url_without_its_driver_works_in_every_command(
    tmp_path: Path, sqlite_url: str
) -> None:
    """``sqlite:///path``, SQLite's URL as other tools write it: read with aiosqlite (it used to
    stop every command with "The asyncio extension requires an async driver")."""
    await each_command_works(tmp_path, sqlite_url, "sqlite")


async def each_command_works(
    tmp_path: Path, db_url: str, scheme: str, query: str = "", read_as: str = ""
) -> None:
    """Every command that opens the database works with ``db_url`` given as ``scheme://…`` with
    ``query``, and shows it in its driver's form, with ``read_as`` for its query."""
    url = as_a_provider_gives_it(db_url, scheme) + query
    driver = "sqlite+aiosqlite" if scheme == "sqlite" else "postgresql+asyncpg"
    shown = as_a_provider_gives_it(db_url, driver).replace(PROVIDER_PASSWORD, "***") + read_as
    outputs = []
    for command, expected in (
        (("db", "upgrade"), f"database {shown} is at the latest schema\n"),
        (("catalogue", "export", "all.csv"), "exported the catalogue to all.csv\n"),
        (("db", "dump", "all.jsonl"), "dumped all.jsonl: "),
        (("console", "--as", "ann"), "3 letter acronyms"),
    ):
        status, output = await copbot(tmp_path, *command, stdin="/claim 2.4\n/quit\n", DATABASE_URL=url)
        assert status == 0 and expected in output, output
        outputs.append(output)
    if scheme == "sqlite":
        status, output = await copbot(tmp_path, "db", "backup", "copy.db", DATABASE_URL=url)
        assert status == 0 and output.startswith(f"backed up {shown} to copy.db ("), output
    assert "3 letter acronyms" in (tmp_path / "all.csv").read_text(encoding="utf-8")
    assert PROVIDER_PASSWORD not in "".join(outputs)


def bound_by_modes() -> tuple[str, ...]:
    """A command that runs copbot bound by files' modes: as root (as the tests may run), chmod
    stops no write, so copbot runs as root without the capabilities that let it past them."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("run as root without setpriv: chmod cannot make a folder read-only to copbot")
    drop = "-dac_override,-dac_read_search"
    return ("setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", "--")


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` and its files read-only to everyone (a read-only mount, another user's files)."""
    for path in [folder, *folder.iterdir()]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        for path in [folder, *folder.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)


async def reads_it_all(tmp_path: Path, claimed: list[str]) -> None:
    """db backup, db dump and catalogue export each read the whole database, ``claimed`` the
    problems ann holds, without writing beside it."""
    data = tmp_path / "data"
    before = sorted(os.listdir(data))
    for command, said in (
        (("db", "backup", "copy.db"), "backed up sqlite+aiosqlite:///"),
        (("db", "dump", "all.jsonl"), "dumped all.jsonl: "),
        (("catalogue", "export", "all.csv"), "exported the catalogue to all.csv"),
    ):
        status, output = await copbot(tmp_path, *command, wrapper=bound_by_modes())
        assert status == 0 and output.startswith(said), output
    assert sorted(os.listdir(data)) == before
    with closing(sqlite3.connect(tmp_path / "copy.db")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT problem_number FROM claim WHERE user_id = 'ann' ORDER BY id").fetchall()
    assert [number for (number,) in rows] == claimed
    dumped = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert [d["row"]["problem_number"] for d in dumped if d["row"].get("user_id") == "ann"] == claimed
    assert "3 letter acronyms" in (tmp_path / "all.csv").read_text(encoding="utf-8")


async def test_the_reading_commands_read_a_database_in_a_read_only_folder(tmp_path: Path) -> None:
    """The bot's data/ read-only to the operator (a read-only mount or snapshot, the bot user's
    folder): `db backup` failed with "attempt to write a readonly database" and `db dump` and
    `catalogue export` with "copbot may not write in …": SQLite makes a -shm file even to read.
    Now each reads it: with nothing holding it open as immutable, and while a bot holds it
    (its -wal and -shm there) through them, the bot's latest claim (still in the -wal) included."""
    status, output = await copbot(tmp_path, "console", "--as", "ann", stdin="/claim 3.11\n/quit\n")
    assert status == 0, output
    data = tmp_path / "data"
    assert os.listdir(data) == ["copbot.db"]
    with read_only(data):
        await reads_it_all(tmp_path, ["3.11"])
    bot = Store(make_engine(f"sqlite+aiosqlite:///{data / 'copbot.db'}"))
    try:
        assert (await bot.claim("2.4", ANN, START)).created  # the bot holds the file, with its -wal and -shm
        with read_only(data):
            await reads_it_all(tmp_path, ["3.11", "2.4"])
    finally:
        await bot.close()


async def test_a_read_only_database_at_another_schema_is_named_not_migrated(tmp_path: Path) -> None:
    """A read-only database of an older copbot cannot be migrated where it is: `db dump` and
    `catalogue export` stop in one line that says so and what to do (`db backup` still copies
    it), and the file is left as it was."""
    status, output = await copbot(tmp_path, "db", "upgrade")
    assert status == 0, output
    live = tmp_path / "data" / "copbot.db"
    with closing(sqlite3.connect(live)) as db, db:
        db.execute("UPDATE alembic_version SET version_num = '0012'")
    with read_only(tmp_path / "data"):
        for command in (("db", "dump", "all.jsonl"), ("catalogue", "export", "all.csv")):
            status, output = await copbot(tmp_path, *command, wrapper=bound_by_modes())
            refused(
                status,
                output,
                "is read-only to copbot here and at schema 0012, not this copbot's ",
                "run copbot db upgrade where it may be written, or read a copy (copbot db backup FILE",
            )
        status, output = await copbot(tmp_path, "db", "backup", "copy.db", wrapper=bound_by_modes())
        assert status == 0, output
    with closing(sqlite3.connect(live)) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == ("0012",)
    assert not (tmp_path / "all.jsonl").exists() and not (tmp_path / "all.csv").exists()


async def test_a_read_only_database_written_meanwhile_leaves_no_output(tmp_path: Path) -> None:
    """A database nothing holds open, in a folder read-only to copbot, is read as immutable
    (without locks). A writer that leaves no -wal behind (one that wrote, checkpointed and closed,
    or one without a WAL, as here) went unnoticed: `db dump` wrote what it read, possibly torn,
    and said it dumped. Now the file's size, time and header are compared too: each reading
    command says "run the command again" and leaves nothing at its path."""
    status, output = await copbot(tmp_path, "db", "upgrade")
    assert status == 0, output
    # Enough problems that each read spans many of the writer's commits, however busy the machine:
    # with an empty catalogue the read could fall between two of them and be sound (CI saw it).
    rows = [",".join(COLUMNS)]
    rows += [f"{1 + i // 999}.{1 + i % 999},Cat,Sub,A,Problem {i} text,," for i in range(4000)]
    (tmp_path / "many.csv").write_text("\n".join(rows) + "\n")
    status, output = await copbot(tmp_path, "catalogue", "import", "many.csv")
    assert status == 0, output
    (tmp_path / "many.csv").unlink()
    data = tmp_path / "data"
    live = data / "copbot.db"
    with closing(sqlite3.connect(live)) as db:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("CREATE TABLE ticker (n INTEGER)")
    assert os.listdir(data) == ["copbot.db"]
    stop = threading.Event()

    def write_steadily() -> None:
        # Its journal in memory: it writes the file alone, where no other file may be made.
        with closing(sqlite3.connect(live, isolation_level=None, timeout=10)) as db:
            db.execute("PRAGMA journal_mode=MEMORY")
            n = 0
            while not stop.is_set():
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO ticker VALUES (?)", (n,))
                db.execute("COMMIT")
                n += 1
                time.sleep(0.002)

    with read_only(data):
        live.chmod(0o644)  # for the writer; copbot still may not write in the folder
        writer = threading.Thread(target=write_steadily)
        writer.start()
        try:
            for command in (("db", "dump", "all.jsonl"), ("catalogue", "export", "all.csv")):
                status, output = await copbot(tmp_path, *command, wrapper=bound_by_modes())
                refused(
                    status, output, "was written while copbot read it without locks", "run the command again"
                )
            # db backup reads such a file (no WAL) with SQLite's locks: a sound copy.
            status, output = await copbot(tmp_path, "db", "backup", "copy.db", wrapper=bound_by_modes())
            assert status == 0, output
        finally:
            stop.set()
            writer.join()
    with closing(sqlite3.connect(tmp_path / "copy.db")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert sorted(os.listdir(tmp_path)) == ["copy.db", "data"], os.listdir(tmp_path)
    assert os.listdir(data) == ["copbot.db"]


async def test_a_load_of_a_missing_dump_into_a_wrong_data_dir_leaves_no_database(tmp_path: Path) -> None:
    """`db load` of a file that is not there (a typo), with a DATA_DIR that is not the bot's: it
    migrated wrong/copbot.db first and only then looked for the file, leaving an empty database
    that `catalogue export` then exported with status 0. The file is read first: nothing is made,
    and the export that follows is refused."""
    wrong = tmp_path / "wrong"
    status, output = await copbot(tmp_path, "db", "load", "dump.jsonl", DATA_DIR=str(wrong))
    assert (status, output) == (1, "dump.jsonl: No such file or directory\n")
    assert os.listdir(tmp_path) == []
    status, output = await copbot(tmp_path, "catalogue", "export", "out.csv", DATA_DIR=str(wrong))
    refused(status, output, f"cannot start: no SQLite database at {wrong}/copbot.db (DATA_DIR): {SETTING}")


@pytest.mark.parametrize("text", ["", "\n\n"], ids=["empty", "blank lines"])
async def test_a_load_of_a_file_without_rows_is_refused_and_makes_no_database(
    tmp_path: Path, text: str
) -> None:
    """`db load` of a file that holds no row (an empty file: a copy that failed, `touch`): it made
    and migrated a new database and said "loaded copbot.jsonl: " with status 0, as if the move to
    it were done. It is refused in one line, status 1, with no database made."""
    (tmp_path / "copbot.jsonl").write_text(text)
    status, output = await copbot(tmp_path, "db", "load", "copbot.jsonl", DATA_DIR="new")
    assert status == 1 and "Traceback" not in output and len(output.splitlines()) == 1, output
    assert output.startswith("copbot.jsonl: no rows in it"), output
    assert not (tmp_path / "new").exists()


async def test_a_dump_with_a_row_copbot_cannot_read_is_named_in_one_line(tmp_path: Path) -> None:
    """A dump line whose row has a column copbot's table lacks (edited by hand, or cut and pasted
    together): `db load` ended in a CRITICAL traceback that printed the other rows, members' names
    and emails among them. It names the line in one line, status 1, loads nothing and makes no
    database; the good dump then loads."""
    made = await copbot(tmp_path, "console", "--as", "ann", stdin="/claim 3.11\n", DATA_DIR="bot")
    assert made[0] == 0, made[1]
    status, output = await copbot(tmp_path, "db", "dump", "good.jsonl", DATA_DIR="bot")
    assert status == 0, output
    good = (tmp_path / "good.jsonl").read_text()
    claim = next(line for line in good.splitlines() if '"table": "claim"' in line)
    bad = good.replace(claim, claim.replace('"row": {', '"row": {"colour": "red", ', 1))
    (tmp_path / "bad.jsonl").write_text(bad)
    line = good.splitlines().index(claim) + 1

    status, output = await copbot(tmp_path, "db", "load", "bad.jsonl", DATA_DIR="new")

    assert status == 1 and "Traceback" not in output and len(output.splitlines()) == 1, output
    assert output.startswith(
        f"bad.jsonl: line {line}: a claim row with a column copbot's claim table lacks: colour"
    )
    assert "@" not in output
    assert not (tmp_path / "new").exists()
    status, output = await copbot(tmp_path, "db", "load", "good.jsonl", DATA_DIR="new")
    assert status == 0 and "\nloaded good.jsonl: 98 problem, " in output, output


@pytest.mark.parametrize("target", ["pipe", ".", ""])
async def test_a_backup_onto_a_pipe_or_a_folder_is_refused_and_leaves_it_as_it_was(
    tmp_path: Path, target: str
) -> None:
    """`db backup` onto what is no file: a named pipe (as `/dev/stdout` into a pipeline is) was
    replaced by a regular file holding the copy, with status 0 (run as root, `/dev/stdout` and
    `/dev/full` themselves were); `.` or an empty name ended in a ValueError traceback. Each is
    refused in one line, status 1, and left as it was."""
    status, output = await copbot(tmp_path, "db", "upgrade")
    assert status == 0, output
    if target == "pipe":
        os.mkfifo(tmp_path / "pipe")
    status, output = await copbot(tmp_path, "db", "backup", target)
    assert status == 1 and "Traceback" not in output and len(output.splitlines()) == 1, output
    assert "is no file to write the copy to" in output, output
    if target == "pipe":
        assert stat.S_ISFIFO((tmp_path / "pipe").stat().st_mode)
    assert sorted(os.listdir(tmp_path)) == sorted(["data", *(["pipe"] if target == "pipe" else [])])


async def test_a_load_of_the_database_file_itself_is_named_in_one_line(tmp_path: Path) -> None:
    """`db load copbot.db` (the SQLite file given for the dump, or a backup's copy): its bytes are
    no UTF-8 text, and the load ended in a CRITICAL traceback. It is named in one line, status 1,
    and nothing is made in the new DATA_DIR."""
    made = await copbot(tmp_path, "console", "--as", "ann", stdin="/claim 3.11\n", DATA_DIR="bot")
    assert made[0] == 0, made[1]
    status, output = await copbot(tmp_path, "db", "load", "bot/copbot.db", DATA_DIR="new")
    assert status == 1 and "Traceback" not in output and len(output.splitlines()) == 1, output
    assert output.startswith("bot/copbot.db: ") and "not a copbot dump" in output, output
    assert not (tmp_path / "new").exists()


async def test_the_reading_commands_never_migrate_a_writable_database(tmp_path: Path) -> None:
    """`db dump` and `catalogue export` only read: against a writable database of an older copbot
    they used to migrate it to this copbot's schema (and against a newer copbot's they failed
    inside Alembic). Now they stop in one line naming its schema and what to do, and leave it."""
    data = tmp_path / "data"
    data.mkdir()
    live = data / "copbot.db"
    engine = make_engine(f"sqlite+aiosqlite:///{live}")
    try:
        await upgrade(engine, "0012")
    finally:
        await engine.dispose()
    for version, expected in (
        ("0012", ("at schema 0012, older than this copbot's ", "run copbot db upgrade first")),
        ("9999", ("at schema 9999, which this copbot does not know (a newer copbot's?)",)),
    ):
        with closing(sqlite3.connect(live)) as db, db:
            db.execute("UPDATE alembic_version SET version_num = ?", (version,))
        for command in (("db", "dump", "all.jsonl"), ("catalogue", "export", "all.csv")):
            status, output = await copbot(tmp_path, *command)
            refused(status, output, *expected)
            assert output.count("\n") == 1, output
        with closing(sqlite3.connect(live)) as db:
            assert db.execute("SELECT version_num FROM alembic_version").fetchone() == (version,)
        assert not (tmp_path / "all.jsonl").exists() and not (tmp_path / "all.csv").exists()


@pytest.mark.parametrize("command", [("db", "dump"), ("catalogue", "export")])
async def test_a_dump_or_export_onto_the_live_database_is_refused(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """`db dump data/copbot.db` (the backup's FILE.db form, or a tab-completed path) or
    `catalogue export data/copbot.db`: the JSON lines or CSV were renamed over the live
    database, status 0, and the next start said "file is not a database", every claim gone. Now
    refused in one line, status 1, as `db backup` refuses it, and the database left whole."""
    status, output = await copbot(tmp_path, "console", "--as", "ann", stdin="/claim 3.11\n/quit\n")
    assert status == 0, output
    live = tmp_path / "data" / "copbot.db"
    for name, what in (
        ("copbot.db", "the database itself"),
        ("copbot.db-wal", "the database's own -wal file"),
    ):
        status, output = await copbot(tmp_path, *command, f"data/{name}")
        assert status == 1, output
        assert output == f"'data/{name}' is {what} ('{live}'): name the {command[-1]} another file\n"
    assert sorted(os.listdir(live.parent)) == ["copbot.db"]
    with closing(sqlite3.connect(live)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT problem_number FROM claim WHERE user_id = 'ann'").fetchall() == [("3.11",)]


async def test_a_dump_loaded_twice_says_so(tmp_path: Path, empty_db_url: str) -> None:
    """The README's `db load` run a second time (its first answer scrolled away, say): the refusal
    said to load into a database "copbot has never started on", which it never had, and the
    README's fix for that is to drop the database, the loaded one. Now it says the dump is there
    already; a database copbot started on is still refused as before."""
    status, output = await copbot(tmp_path, "console", "--as", "ann", stdin="/claim 3.11\n/quit\n")
    assert status == 0, output
    status, output = await copbot(tmp_path, "db", "dump", "copbot.jsonl")
    assert status == 0, output
    status, output = await copbot(tmp_path, "db", "load", "copbot.jsonl", DATABASE_URL=empty_db_url)
    assert status == 0 and "\nloaded copbot.jsonl: " in output, output
    status, output = await copbot(tmp_path, "db", "load", "copbot.jsonl", DATABASE_URL=empty_db_url)
    assert status == 1, output
    assert output.splitlines()[-1] == (
        "copbot.jsonl: the target database already holds this dump (its last history entry is there): "
        "it was loaded before, and nothing was loaded again; start copbot on it"
    )
    status, output = await copbot(tmp_path, "console", stdin="/quit\n", DATA_DIR="other")
    assert status == 0, output
    status, output = await copbot(tmp_path, "db", "load", "copbot.jsonl", DATA_DIR="other")
    assert status == 1 and "already has problem rows: load into an empty database" in output, output
