"""The local console, as `make run` opens it without tokens: a real process on SQLite."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import long_links

ROOT = Path(__file__).resolve().parents[2]


def run_cli(args: list[str], tmp_path: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """Run `copbot ARGS` in a subprocess with a fresh data directory and no platform tokens."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "DATABASE_"))}
    environ.update(
        DATA_DIR=str(tmp_path / "data"), SEED_FILE=str(ROOT / "data" / "seed.csv"), LOG_LEVEL="WARNING", **env
    )
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=60,
    )


def console_on_sheet(tmp_path: Path, sheet: str, lines: str) -> str:
    """What the console prints for ``lines``, typed as ann into a fresh data directory whose
    catalogue ``sheet`` (a CSV, as the sheet's) was imported into with `copbot catalogue import`."""
    (tmp_path / "data").mkdir()
    path = tmp_path / "sheet.csv"
    path.write_text(sheet, encoding="utf-8")
    env = {"PYTHONPATH": str(ROOT)}
    imported = run_cli(["catalogue", "import", str(path)], tmp_path, **env)
    assert imported.returncode == 0, imported.stderr
    result = run_cli(["console", "--as", "ann"], tmp_path, lines, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def console_as_dave(tmp_path: Path, lines: str) -> str:
    """What the console prints for ``lines`` typed as dave, its whitespace runs made one space."""
    result = run_cli(["console", "--as", "dave"], tmp_path, lines, PYTHONPATH=str(ROOT))
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())


def test_run_without_tokens_opens_the_console_on_sqlite(tmp_path: Path) -> None:
    """`copbot run` with no token: the console, its hint on connecting, and /problem 2.4."""
    (tmp_path / "data").mkdir()
    result = run_cli(["run"], tmp_path, "/problem 2.4\n/quit\n", PYTHONPATH=str(ROOT))
    assert result.returncode == 0, result.stderr
    head = result.stdout.splitlines()[:4]
    assert any("DISCORD_TOKEN" in line for line in head) and any("SLACK_BOT_TOKEN" in line for line in head)
    assert "3 letter acronyms" in result.stdout
    assert "jknowak (Discord) - July 2023" in result.stdout
    assert (tmp_path / "data" / "copbot.db").exists()


def test_console_session_claim_claims_release_and_buttons(tmp_path: Path) -> None:
    """A whole session as `--as ann`: claim, list, press a button, release; state persists."""
    lines = "/claim 3.11\n/claims\n!1\n/claims\n/problem 3.11\n/claims everyone\n"
    result = run_cli(["console", "--as", "ann"], tmp_path, lines, PYTHONPATH=str(ROOT))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # The console is no server: it said "Nobody in this server holds an open claim".
    assert "Nobody in this community holds an open claim." in out
    assert "You claimed 3.11" in out
    assert "Your open claims (1)" in out
    assert "Released your claim on 3.11" in out
    assert "You hold no open claims" in out
    assert "Earlier claims:\n  - ann — " in out


def test_a_button_typed_with_full_width_characters_is_pressed(tmp_path: Path) -> None:
    """`!１` and `！２`, as a CJK input method types them, answered "There is no command /!１":
    they press buttons 1 and 2 as `!1` and `!2` do."""
    lines = "/claim 3.11\n/claim 2.4\n/claims\n!１\n/claims\n！1\n/claims\n"
    result = run_cli(["console", "--as", "ann"], tmp_path, lines, PYTHONPATH=str(ROOT))
    assert result.returncode == 0, result.stderr
    assert "There is no command" not in result.stdout
    assert result.stdout.count("Released your claim on") == 2
    assert "You hold no open claims" in result.stdout


def test_console_newcomer_session_help_for_a_command_and_loose_spellings(tmp_path: Path) -> None:
    """What a newcomer typed first, once refused: /help random, "problem 2.4", a number ending a
    sentence, /claims mine."""
    lines = "/help random\n/problem problem 2.4\n/claim 2.4.\n/claims mine\n"
    result = run_cli(["console", "--as", "ann"], tmp_path, lines, PYTHONPATH=str(ROOT))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (
        "I don't understand" not in out and "not a problem number" not in out and "nobody called" not in out
    )
    assert "/random [difficulty] [category] [unclaimed]\n=====" in out
    assert "  - difficulty — A (easiest) to D, or a range like A-B" in out
    assert "  - Stale, so anyone may still /claim 2.4\n" in out
    assert "You claimed 2.4 on " in out
    assert "Your open claims (1)" in out


def test_a_console_user_name_longer_than_a_user_id_is_refused_at_start(tmp_path: Path, db_url: str) -> None:
    """The console's user id is its user name: one longer than the database's ids (64) is refused
    in one line, from --as or LOCAL_USER, before a first /claim could fail with an apology."""
    long = "a" * 65
    by_option = run_cli(
        ["console", "--as", long], tmp_path, "/claim 3.11\n", PYTHONPATH=str(ROOT), DATABASE_URL=db_url
    )
    assert (
        by_option.returncode == 2
        and "argument --as: a user name has at most 64 characters" in by_option.stderr
    )
    by_setting = run_cli(
        ["console"], tmp_path, "/claim 3.11\n", PYTHONPATH=str(ROOT), DATABASE_URL=db_url, LOCAL_USER=long
    )
    assert by_setting.returncode == 2 and "LOCAL_USER" in by_setting.stderr, by_setting.stderr
    assert "Traceback" not in by_option.stderr + by_setting.stderr
    longest = run_cli(
        ["console", "--as", "a" * 64], tmp_path, "/claim 3.11\n", PYTHONPATH=str(ROOT), DATABASE_URL=db_url
    )
    assert longest.returncode == 0 and "You claimed 3.11" in longest.stdout, longest.stderr


def test_catalogue_export_import_and_db_upgrade(tmp_path: Path) -> None:
    """The CLI's maintenance commands work end to end and report what they did (`db upgrade`
    makes the tables alone: the catalogue comes from an import, an export never seeds it)."""
    env = {"PYTHONPATH": str(ROOT)}
    assert run_cli(["db", "upgrade"], tmp_path, **env).stdout.endswith("is at the latest schema\n")
    exported = tmp_path / "out.csv"
    result = run_cli(["catalogue", "export", str(exported)], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    (header,) = exported.read_text(encoding="utf-8").splitlines()  # an empty catalogue
    assert header.startswith("Category,Subcategory,Difficulty,Number,Problem")
    result = run_cli(["catalogue", "import", str(ROOT / "data" / "seed.csv")], tmp_path, **env)
    assert result.returncode == 0 and "98 added" in result.stdout, result.stderr
    result = run_cli(["catalogue", "export", str(exported)], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert exported.read_text(encoding="utf-8").startswith("Category,Subcategory,Difficulty,Number,Problem")
    result = run_cli(["catalogue", "import", str(exported)], tmp_path, **env)
    assert result.returncode == 0 and "0 added, 0 changed, 98 unchanged" in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("number,category,difficulty,problem\n2.4,C,Q,x\n", encoding="utf-8")
    result = run_cli(["catalogue", "import", str(bad)], tmp_path, **env)
    assert result.returncode == 1 and "line 2: difficulty 'Q' of 2.4" in result.stderr


def test_catalogue_import_refuses_a_nul_alike_on_both_backends(tmp_path: Path, db_url: str) -> None:
    """A NUL in a cell, which PostgreSQL cannot store, gets the same one-line refusal on SQLite
    and PostgreSQL: exit 1 and the line named, never a traceback."""
    bad = tmp_path / "nul.csv"
    bad.write_text("number,category,difficulty,problem\n2.4,C,B,text with a \x00 in it\n", encoding="utf-8")
    result = run_cli(["catalogue", "import", str(bad)], tmp_path, DATABASE_URL=db_url, PYTHONPATH=str(ROOT))
    assert result.returncode == 1
    assert "line 2: problem of 2.4 holds a NUL character" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_subcommand_has_help(tmp_path: Path) -> None:
    """--help works on each subcommand."""
    for args in (
        ["--help"],
        ["run", "--help"],
        ["console", "--help"],
        ["catalogue", "import", "--help"],
        ["db", "upgrade", "--help"],
    ):
        result = run_cli(args, tmp_path, PYTHONPATH=str(ROOT))
        assert result.returncode == 0 and "usage: copbot" in result.stdout


def test_moving_from_sqlite_to_postgresql_with_dump_and_load(tmp_path: Path, empty_db_url: str) -> None:
    """The README's recipe: `db dump` on SQLite, `db load` into a new database, same claims."""
    env = {"PYTHONPATH": str(ROOT)}
    run_cli(["console", "--as", "ann"], tmp_path, "/claim 3.11\n", **env)
    dump = tmp_path / "copbot.jsonl"
    result = run_cli(["db", "dump", str(dump)], tmp_path, **env)
    assert result.returncode == 0 and "98 problem" in result.stdout, result.stderr
    result = run_cli(["db", "load", str(dump)], tmp_path, DATABASE_URL=empty_db_url, **env)
    assert result.returncode == 0, result.stderr
    result = run_cli(["console", "--as", "ann"], tmp_path, "/claims\n", DATABASE_URL=empty_db_url, **env)
    assert "Your open claims (1)" in result.stdout and "3.11" in result.stdout


@pytest.mark.parametrize(
    "command",
    [("catalogue", "export"), ("catalogue", "import"), ("db", "dump"), ("db", "load"), ("db", "backup")],
    ids=" ".join,
)
def test_a_file_in_a_folder_that_does_not_exist_is_named(tmp_path: Path, command: tuple[str, str]) -> None:
    """Each maintenance command given a file it cannot write or read: one line with the file and
    the system's reason, exit 1, never a traceback (export and backup used to end in one)."""
    env = {"PYTHONPATH": str(ROOT)}
    assert run_cli(["db", "upgrade"], tmp_path, **env).returncode == 0  # a database to back up
    path = tmp_path / "missing" / "copbot.file"
    result = run_cli([*command, str(path)], tmp_path, **env)
    assert (result.returncode, result.stderr) == (1, f"{path}: No such file or directory\n")
    assert not (tmp_path / "missing").exists()


def test_the_console_says_it_posts_nowhere(tmp_path: Path) -> None:
    """A moderator channel set in the console is only a setting: /submit says that nothing is
    posted from here (not "no moderator channel is set up"), and /pending decides (its lines not
    "not posted yet", as if the console would post them some day)."""
    lines = "/setup moderator_channel:<#123>\n/submit 1.2 https://b.org/x\n/pending\n!1\n/problem 1.2\n"
    result = run_cli(["console", "--as", "dave"], tmp_path, lines, PYTHONPATH=str(ROOT))
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "Settings saved. Moderator channel: channel 123" in out
    assert (
        "Thanks! Your link for 1.2 is saved and pending. "
        "This console posts nowhere: a moderator decides it with /pending." in out
    )
    assert "no moderator channel" not in out
    assert "1.2 #1: https://b.org/x from dave" in out and "not posted" not in out, out
    assert "Approved 1.2 #1: https://b.org/x from dave." in out, out


def test_the_console_rejects_with_a_reason_typed_after_the_button(tmp_path: Path) -> None:
    """On Discord and Slack a moderator's Reject asks for a reason the submitter reads; the
    console's Reject could only reject without one. Now a reason typed after the button's number
    (`!2 the same work as #1`) goes with the rejection, to /history and the submission; the
    button alone still rejects without one, and text after another button presses nothing."""
    lines = (
        "/submit 1.2 https://b.org/x\n/submit 1.2 https://b.org/y\n/pending\n"
        "!1 looks fine\n!4   the same work  as #1 \n/history 1.2\n/pending\n!2\n/history 1.2\n"
    )
    out = console_as_dave(tmp_path, lines)
    assert "Only a Reject button takes text after it (the reason); nothing was pressed." in out, out
    assert "Rejected 1.2 #2: https://b.org/y from dave. Reason: the same work as #1" in out, out
    assert "dave rejected https://b.org/y (the same work as #1)" in out, out
    assert "Rejected 1.2 #1: https://b.org/x from dave." in out, out
    assert "dave rejected https://b.org/x" in out and "dave approved" not in out, out


def test_pending_shows_the_note_of_a_submission_it_decides(tmp_path: Path) -> None:
    """A moderator deciding from /pending (the console, or a community with no moderator channel)
    never saw the submitter's note, which a moderator post shows: the line gave the link, who
    and when, and the note ("my write-up, mirrors #1") was seen only on the card once approved."""
    lines = (
        "/submit 1.2 https://b.org/x my write-up,\n/submit 1.2 https://b.org/y\n"
        "/submit 1.2 https://b.org/z " + "long " * 90 + "\n/pending\n"
    )
    out = console_as_dave(tmp_path, lines)
    assert "1.2 #1: https://b.org/x from dave, 2026-" in out, out
    assert "(today): “my write-up,” - 1.2 #2: https://b.org/y from dave, 2026-" in out, out
    assert "(today) - 1.2 #3: https://b.org/z" in out, out
    assert "(today): “" + "long " * 39 + "long…”" in out, out


def test_pending_says_when_the_same_work_was_rejected_before(tmp_path: Path) -> None:
    """The moderator post of work rejected before says when, by whom and why, so that none is
    reviewed blind; /pending, where the console (or a community with no moderator channel)
    decides, said nothing of it: the same link sent again after a rejection read as new work."""
    lines = (
        "/submit 1.2 https://b.org/x\n/pending\n!2 not about neurons\n"
        "/submit 1.2 https://b.org/x/ second try\n/submit 1.3 https://b.org/x\n/pending\n"
    )
    out = re.sub(r"\d{4}-\d\d-\d\d", "DAY", console_as_dave(tmp_path, lines))
    assert (
        "1.2 #2: https://b.org/x/ from dave, DAY (today): “second try” (rejected before: DAY by dave: "
        "not about neurons) - 1.3 #3: https://b.org/x from dave, DAY (today) ["
    ) in out, out


def test_a_reason_longer_than_the_forms_take_is_refused_not_cut(tmp_path: Path) -> None:
    """`!2` and a 600-character reason rejected with its first 500 characters, the rest lost
    unseen (Discord's and Slack's forms take no more; a note that long is refused). It is now
    refused, and the submission still waits."""
    lines = "/submit 1.2 https://b.org/x\n/pending\n!2 " + "why " * 150 + "\n/pending\n"
    out = console_as_dave(tmp_path, lines)
    assert "That reason is too long (599 characters): at most 500. Nothing changed." in out, out
    assert "Rejected" not in out and out.count("1.2 #1: https://b.org/x from dave") == 2, out


def test_the_console_finds_a_link_pasted_decomposed_or_with_dot_segments_already_submitted(
    tmp_path: Path,
) -> None:
    """https://b.org/caf\u00e9 pasted again with e and an accent (as macOS may paste it), or a
    path given with ./ and ../: each was saved as new work, pending a second time. Now the
    console says it is already submitted, and /pending lists it once, as first typed."""
    lines = (
        "/submit 1.2 https://b.org/caf\u00e9/x\n/submit 1.2 https://b.org/cafe\u0301/x\n"
        "/submit 1.2 https://b.org/a/./caf\u00e9/../../caf%C3%A9/x/\n/pending\n"
    )
    out = console_as_dave(tmp_path, lines)
    assert out.count("That work is already submitted for 1.2 (waiting for the moderators).") == 2, out
    assert "https://b.org/caf\u00e9/x" in out and "#2" not in out, out


def test_a_link_across_the_cut_of_a_problem_s_text_or_title_shows_whole_or_not_at_all(
    tmp_path: Path,
) -> None:
    """The command core cut a problem's text at 1,500 characters, and its title at 60 to 120, over
    any link there: the terminal showed https://example.org/far/bbbb…, which terminals make a
    link of, to a page that is not the one the sheet gave; and a line of existing work over 4,000
    characters was cut there, inside a link, with no ellipsis. Now the cut goes before the link."""
    out = console_on_sheet(
        tmp_path, long_links.catalogue_csv(), "/problem 9.1\n/random 9\n/search probing circuits\n"
    )
    assert out.count("9.1 — Probing circuits, see") == 3 and out.count("then words") >= 2
    assert long_links.half_links(out) == [], out


def test_an_invisible_character_before_a_named_option_typed_at_the_console(tmp_path: Path) -> None:
    """A zero-width space pasted after the space before a named option hid it: /claims read
    "number:3.11" as someone's name and /search looked for the words "difficulty:A circuits"."""
    lines = "/claim 3.11\n/claims \u200bnumber:3.11\n/search \u2060difficulty:A circuits\n"
    result = run_cli(["console", "--as", "ann"], tmp_path, lines, PYTHONPATH=str(ROOT))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Claims on 3.11" in out and "nobody called" not in out
    assert "Search: circuits\n" in out and "(5 matches)" in out and "difficulty:A" not in out


def test_help_and_settings_fit_the_console_s_width(tmp_path: Path) -> None:
    """/help's closing paragraph came out as one line of 337 characters, /setup show's settings as
    one of 151, and a card's category line overran by a column or two: the console wraps every
    paragraph at its width (88), as it wraps the text above them."""
    lines = "/help\n/setup show\n/problem 2.4\n/help claim\n"
    result = run_cli(["console"], tmp_path, lines, PYTHONPATH=str(ROOT))
    assert result.returncode == 0, result.stderr
    replies = "\n".join(result.stdout.splitlines()[4:])  # after the banner, which names the database
    titles = {line for line in replies.splitlines() if line.startswith(("2.4 — ", "History of"))}
    too_wide = [line for line in replies.splitlines() if len(line) > 88 and line not in titles]
    assert too_wide == [], too_wide
    words = " ".join(replies.split())  # wherever the wrapping breaks the lines
    assert "Dates are days in UTC" in words and "Max open claims: no limit" in words


@pytest.mark.parametrize("leave", ["/QUIT", "/Quit", "Exit"])
def test_quit_typed_in_capitals_leaves(tmp_path: Path, leave: str) -> None:
    """The banner says /quit leaves; typed with caps lock on, /QUIT answered "There is no command
    /quit. /help lists them." and the console went on to run the next line."""
    result = run_cli(["console", "--as", "ann"], tmp_path, f"{leave}\n/claim 3.11\n", PYTHONPATH=str(ROOT))
    assert result.returncode == 0, result.stderr
    assert "There is no command" not in result.stdout
    assert "You claimed 3.11" not in result.stdout


@pytest.mark.parametrize(
    ("option", "typed"), [("moderator_channel", "#moderators"), ("moderator_role", "@moderators")]
)
def test_a_refused_channel_or_role_suggests_what_is_taken(tmp_path: Path, option: str, typed: str) -> None:
    """`/setup moderator_role:@moderators` answered "'@moderators' is not a role: pick one, e.g.
    @moderators", refusing the very example it gave. The refusal's example, typed, is taken."""
    first = run_cli(["console"], tmp_path, f"/setup {option}:{typed}\n", PYTHONPATH=str(ROOT))
    assert first.returncode == 0, first.stderr
    refusal = first.stdout.strip().splitlines()[-1]
    assert refusal.startswith(f"'{typed}' is not a "), first.stdout
    example = refusal[refusal.index("(") + 1 : refusal.index(")")]
    second = run_cli(["console"], tmp_path, f"/setup {option}:{example}\n", PYTHONPATH=str(ROOT))
    assert "Settings saved." in second.stdout, (refusal, second.stdout)


@contextmanager
def console_after_a_claim(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """`copbot console --as ann` in ``tmp_path`` that has claimed 3.11 and waits for the next
    line; killed on the way out if still running."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "DATABASE_"))}
    environ.update(DATA_DIR=str(tmp_path / "data"), LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    environ["SEED_FILE"] = str(ROOT / "data" / "seed.csv")
    environ["PYTHONFAULTHANDLER"] = "1"  # SIGABRT dumps every thread's stack (see ended)
    console = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "console", "--as", "ann"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=environ,
    )
    try:
        assert console.stdin is not None and console.stdout is not None and console.stderr is not None
        console.stdin.write("/claim 3.11\n")
        console.stdin.flush()
        while "[!1] Claim" not in (line := console.stdout.readline()):
            assert line, console.stderr.read()
        yield console
    finally:
        console.kill()
        console.wait()


def ended(console: subprocess.Popen[str], timeout: float = 20) -> int:
    """The console's exit status once it ends; still running after ``timeout`` seconds (seen once
    at Ctrl-C, under load), a failure that shows where each of its threads was."""
    try:
        return console.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        console.send_signal(signal.SIGABRT)
        _, stderr = console.communicate(timeout=10)
        raise AssertionError(f"the console still ran after {timeout} s; its threads:\n{stderr}") from None


def test_ctrl_c_at_the_prompt_leaves_at_once(tmp_path: Path) -> None:
    """Ctrl-C while the console waits for a line did nothing until Enter was pressed (the line
    being read held the process), however often it was pressed. It leaves at once: status 130, no
    traceback, and what was done before it kept."""
    with console_after_a_claim(tmp_path) as console:
        assert console.stderr is not None
        console.send_signal(signal.SIGINT)  # the console now waits for the next line
        status = ended(console)
        assert status == 130 and "Traceback" not in console.stderr.read()
    after = run_cli(["console", "--as", "ann"], tmp_path, "/claims\n", PYTHONPATH=str(ROOT))
    assert "Your open claims (1)" in after.stdout


def test_sigterm_leaves_the_console_cleanly_with_the_database_closed(tmp_path: Path) -> None:
    """SIGTERM to `copbot console` (a terminal closed, `kill`, a service stopped) killed it with
    status 143, the database left open (its -wal and -shm files behind). It now ends as `copbot
    run` does at SIGTERM: status 0, no traceback, the database closed and what was done kept."""
    with console_after_a_claim(tmp_path) as console:
        assert console.stderr is not None
        console.send_signal(signal.SIGTERM)  # the console now waits for the next line
        status = ended(console)
        errors = console.stderr.read()
        assert status == 0 and "Traceback" not in errors, (status, errors)
    assert sorted(os.listdir(tmp_path / "data")) == ["copbot.db"]  # closed: SQLite removed its -wal, -shm
    after = run_cli(["console", "--as", "ann"], tmp_path, "/claims\n", PYTHONPATH=str(ROOT))
    assert "Your open claims (1)" in after.stdout


def test_the_console_shows_no_bidi_control_and_right_to_left_words_as_typed() -> None:
    """A reply holding text stored before bidi controls were dropped (a problem's text, a name,
    a note with an override left open): the terminal gets the letters, Hebrew and Arabic as
    typed, and no control that would turn the lines after it around."""
    from bot.console import render
    from commands.types import Link, Reply, ReplyField, Section

    hebrew, arabic = "מעגלי השראה", "دوائر الحث"
    reply = Reply(
        title=f"1.5 — \u202eFind the {hebrew} circuit",
        text=f"\u202eFind the {hebrew} circuit ({arabic})\u200f in GPT-2",
        fields=(ReplyField("Working on it", "\u202eanna — since 2026-11-25"),),
        sections=(
            Section(
                "Existing work", (Link("https://example.org/a", "https://example.org/a", f"\u2067{arabic}"),)
            ),
        ),
    )
    shown = render(reply)
    assert not any(
        ch in shown for ch in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    )
    assert f"Find the {hebrew} circuit ({arabic}) in GPT-2" in shown
    assert "Working on it: anna — since 2026-11-25" in shown
    assert f"https://example.org/a — {arabic}" in shown


def test_the_console_lists_all_of_a_problems_existing_work(tmp_path: Path) -> None:
    """A problem the sheet gives 30 lines of existing work: its card prints nine and says how many
    more and where; /problem 9.1 all prints every one, a page at a time."""
    work = [f"Paper {i}: https://example.org/paper-{i}" for i in range(30)]
    sheet = io.StringIO()
    csv.writer(sheet).writerows(
        [
            ["number", "category", "subcategory", "difficulty", "problem", "existing_work", "working_on"],
            ["9.1", "Probes", "", "B", "Probing circuits", "\n".join(work), ""],
        ]
    )
    out = console_on_sheet(
        tmp_path, sheet.getvalue(), "/problem 9.1\n/problem 9.1 all\n/problem 9.1 all page:2\n"
    )
    assert "  - … and 21 more: /problem 9.1 all\n" in out
    for i, line in enumerate(work):  # the card's nine, then every one on the list's pages
        assert out.count(f"  - {line}\n") == (2 if i < 9 else 1), line
    words = " ".join(out.split())
    assert "Page 1 of 2 (lines 1–20 of 30). 30 lines from the sheet. Next: /problem 9.1 all page:2" in words
    assert "Page 2 of 2 (lines 21–30 of 30). 30 lines from the sheet." in words
