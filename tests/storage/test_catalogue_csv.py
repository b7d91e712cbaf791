"""Importing and exporting the catalogue as CSV: idempotent, never destructive, all or nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from storage.catalogue import (
    SHEET_HEADER,
    CatalogueError,
    Held,
    export_csv,
    import_file,
    import_rows,
    parse_csv,
)
from storage.claims import Person
from storage.models import LinkStatus, WorkLink
from storage.store import Store
from storage.submissions import decide, submit
from tests.conftest import SEED, START

ANN = Person("discord", "g1", "ann", "Ann")
MOD = Person("discord", "g1", "mod", "Mod")


def seed_rows() -> list[list[str]]:
    """The seed file's data rows."""
    return list(csv.reader(SEED.open(encoding="utf-8", newline="")))[1:]


def as_sheet(rows: list[list[str]]) -> str:
    """Rows in the sheet's own column order and headers."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SHEET_HEADER)
    for number, category, sub, difficulty, problem, work, working in rows:
        writer.writerow([category, sub, difficulty, number, problem, work, working])
    return out.getvalue()


async def test_reimporting_the_seed_changes_nothing(store: Store) -> None:
    """The seed is already loaded: importing it again reports 98 unchanged."""
    report = await import_rows(store, parse_csv(SEED.read_text(encoding="utf-8")), START)
    assert (report.added, report.changed, report.unchanged) == ([], [], 98)
    assert report.claims_added == 0 and report.claims_ended == 0


async def test_sheet_headers_are_understood_and_changes_reported(store: Store) -> None:
    """A sheet export with one edited and one new problem updates exactly those."""
    rows = seed_rows()
    rows[0][4] = "An edited problem text"
    rows.append(["4.5", rows[-1][1], "", "C", "A brand new problem", "", "Zoe - 3 March 2026"])
    report = await import_rows(store, parse_csv(as_sheet(rows)), START)
    assert report.added == ["4.5"] and report.changed == ["1.1"] and report.unchanged == 97
    assert report.claims_added == 1
    problem = await store.get_problem("1.1")
    assert problem and problem.text == "An edited problem text"
    (claim,) = await store.claims_for_problem("4.5")
    assert claim.display_name == "Zoe - 3 March 2026" and claim.claimed_at.date().isoformat() == "2026-03-03"


async def test_import_never_deletes_claims_links_or_problems(store: Store) -> None:
    """Problems missing from a file stay; bot claims and approved links survive; a removed
    sheet claim is ended, not deleted."""
    await store.claim("2.4", ANN, START)
    async with store.session() as s:
        s.add(
            WorkLink(
                problem_number="2.4",
                url="https://example.org/a",
                normalized_url="example.org/a",
                platform="discord",
                user_id="ann",
                display_name="Ann",
                created_at=START,
                status=LinkStatus.APPROVED,
                decided_at=START,
            )
        )
    rows = [r for r in seed_rows() if r[0] in {"2.4", "2.5"}]
    rows[0][6] = ""  # jknowak's cell cleared in the sheet
    report = await import_rows(store, parse_csv(as_sheet(rows)), START)
    assert report.claims_ended == 1
    assert await store.problem_count() == 98
    claims = {c.display_name: c.state for c in await store.claims_for_problem("2.4")}
    assert claims["Ann"] == "active" and claims["jknowak (Discord) - July 2023"] == "released"
    assert [link.url for link in await store.approved_links("2.4")] == ["https://example.org/a"]


def only_required_columns(rows: list[list[str]]) -> str:
    """Rows with just the columns a file must have: number, category, difficulty, problem."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["number", "category", "difficulty", "problem"])
    for number, category, _, difficulty, problem, _, _ in rows:
        writer.writerow([number, category, difficulty, problem])
    return out.getvalue()


async def test_columns_a_file_lacks_leave_problems_and_sheet_claims_as_they_are(store: Store) -> None:
    """A file without subcategory, existing work and working on changes only what it has: the
    seed's subcategories, existing work and sheet claims stay, and the report counts one edit."""
    before = {p.number: p for p in await store.problems()}
    rows = seed_rows()
    rows[0][4] = "An edited problem text"
    rows.append(["4.5", rows[-1][1], "Ignored", "C", "A brand new problem", "Work", "Zoe - 3 March 2026"])
    report = await import_rows(store, parse_csv(only_required_columns(rows)), START)
    assert (report.added, report.changed, report.unchanged) == (["4.5"], ["1.1"], 97)
    assert report.claims_added == 0 and report.claims_ended == 0
    after = {p.number: p for p in await store.problems()}
    assert after["1.1"].text == "An edited problem text"
    for number, problem in before.items():
        assert (after[number].subcategory, after[number].existing_work, after[number].working_on) == (
            problem.subcategory,
            problem.existing_work,
            problem.working_on,
        )
    assert (after["4.5"].subcategory, after["4.5"].existing_work) == ("", "")
    claims = await store.claims_for_problem("2.4")
    assert [(c.display_name, c.state) for c in claims] == [("jknowak (Discord) - July 2023", "active")]


async def test_an_empty_cell_of_a_column_the_file_has_clears(store: Store) -> None:
    """Only a present, empty cell clears: 2.2's existing work and 2.4's sheet claim go."""
    rows = [r for r in seed_rows() if r[0] in {"2.2", "2.4"}]
    rows[0][5] = rows[1][6] = ""
    report = await import_rows(store, parse_csv(as_sheet(rows)), START)
    assert report.changed == ["2.2", "2.4"] and report.claims_ended == 1
    problem = await store.get_problem("2.2")
    assert problem and problem.existing_work == ""
    (claim,) = await store.claims_for_problem("2.4")
    assert claim.state == "released"


async def test_numbers_are_stored_as_the_commands_read_them(store: Store) -> None:
    """02.04 is problem 2.4 and 05.1 a new 5.1, as /problem reads them; never a second 2.04."""
    text = "number,category,difficulty,problem\n2.04,Circuits In The Wild,B,Edited\n05.1,New,A,Fifth\n"
    report = await import_rows(store, parse_csv(text), START)
    assert report.added == ["5.1"] and report.changed == ["2.4"]
    numbers = {p.number for p in await store.problems()}
    assert {"2.4", "5.1"} <= numbers and not {"2.04", "05.1"} & numbers
    problem = await store.get_problem("2.4")
    assert problem and problem.text == "Edited"


async def test_decimal_commas_in_a_semicolon_file_are_the_numbers_commands_read(store: Store) -> None:
    """Excel in much of Europe saves semicolons and may write 2,4 with a decimal comma, or a
    number with a closing dot (2.5.): they are problems 2.4 and 2.5, as /problem reads them, while
    2,40 is 2.40, a problem of its own (the catalogue has 2.1 and 2.10), never 2.4 again."""
    text = (
        "number;category;difficulty;problem\n"
        "2,4;Circuits In The Wild;B;Edited fourth\n"
        "2.5.;Circuits In The Wild;B;Edited fifth\n"
        "2,40;Circuits In The Wild;A;Fortieth\n"
    )
    report = await import_rows(store, parse_csv(text), START)
    assert (report.added, sorted(report.changed)) == (["2.40"], ["2.4", "2.5"])
    texts = {p.number: p.text for p in await store.problems()}
    assert (texts["2.4"], texts["2.5"], texts["2.40"]) == ("Edited fourth", "Edited fifth", "Fortieth")
    assert not {"2,4", "2.5.", "2,40"} & texts.keys()


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (
            ["2.04", "Circuits In The Wild", "", "B", "Again", "", ""],
            r"line 4: 2.04 is the same problem as 2.4 on line 3 \(both are 2.4: leading zeros do not count\)",
        ),
        (
            ["2,4", "Circuits In The Wild", "", "B", "Again", "", ""],
            r"line 4: 2,4 is the same problem as 2.4 on line 3 \(both are 2.4: spelled differently\)",
        ),
        (
            ["4.5", "Other", "", "A", "Text with a \x00 in it", "", ""],
            r"line 4: problem of 4.5 holds a NUL character \(\\x00\); is the file a UTF-8 CSV",
        ),
    ],
)
async def test_refused_files_name_the_rows_and_change_nothing(
    store: Store, tmp_path: Path, bad_row: list[str], message: str
) -> None:
    """A second spelling of a number, or a NUL PostgreSQL cannot store, is refused on both
    backends with the line named, and the file's good edit is not made."""
    rows = [r for r in seed_rows() if r[0] in {"1.1", "2.4"}]
    rows[0][4] = "Edited"
    rows.append(bad_row)
    path = tmp_path / "bad.csv"
    path.write_text(as_sheet(rows), encoding="utf-8")
    with pytest.raises(CatalogueError, match=message):
        await import_file(store, path, START)
    problem = await store.get_problem("1.1")
    assert problem and problem.text != "Edited"
    assert await store.problem_count() == 98


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the file is empty"),
        ("number,category\n", "line 1: the header has no column for difficulty, problem"),
        (
            "foo,bar\n1,2\n",
            "no header in rows 1-2 (lines 1-2): a header names the columns number, category, difficulty, "
            "problem; none of them names any",
        ),
        (
            '"intro\nmore intro"\nnumber,category\n' + "x\n" * 20,
            "no header in rows 1-10 (lines 1-11): a header names the columns number, category, difficulty, "
            "problem; the closest, line 3, has no column for difficulty, problem",
        ),
        (
            "number,category,difficulty,problem\n2.4,C,B,x\nabc,C,B,x\n",
            "line 3: 'abc' is not a problem number",
        ),
        (
            "number,category,difficulty,problem\n2.4,C,B,x\n2.4,C,B,y\n",
            "line 3: problem 2.4 is already on line 2",
        ),
        ("number,category,difficulty,problem\n2.4,C,Z,x\n", "line 2: difficulty 'Z' of 2.4 is not one of"),
        ("number,category,difficulty,problem\n2.4,,B,x\n", "line 2: problem 2.4 has no category"),
        ('number,category,difficulty,problem\n2.4,C,B,"x\n', "line 2: unexpected end of data"),
    ],
)
def test_malformed_files_name_the_line(text: str, message: str) -> None:
    """Every kind of bad file gets an error that names the line."""
    with pytest.raises(CatalogueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_csv(text)


def sheet_download(rows: list[list[str]]) -> str:
    """Rows as the sheet's own CSV download has them: its intro text (one cell over several
    lines) in row 1, an empty row, then the header."""
    intro = "200 Concrete Problems In Interpretability Spreadsheet\n\nNote: …\n\nThe purpose of this sheet"
    return f'"{intro}",,,,,,\n,,,,,,\n' + as_sheet(rows)


async def test_the_sheets_own_download_with_its_intro_above_the_header_imports(store: Store) -> None:
    """The header is found below the intro; the seed re-imports as unchanged, and an error names
    the file's own line (the intro takes lines 1-5, the empty row 6, the header 7)."""
    rows = seed_rows()
    report = await import_rows(store, parse_csv(sheet_download(rows)), START)
    assert (report.added, report.changed, report.unchanged) == ([], [], 98)
    rows[1][3] = "Z"  # the second problem, on line 9
    with pytest.raises(CatalogueError, match=r"^line 9: difficulty 'Z' of 1.2 is not one of"):
        parse_csv(sheet_download(rows))


async def test_a_bad_line_changes_nothing(store: Store, tmp_path: Path) -> None:
    """All or nothing: a file with a good edit and a bad line leaves the database as it was."""
    rows = seed_rows()
    rows[0][4] = "Edited"
    rows[5][3] = "Z"
    path = tmp_path / "bad.csv"
    path.write_text(as_sheet(rows), encoding="utf-8")
    with pytest.raises(CatalogueError, match="line"):
        await import_file(store, path, START)
    problem = await store.get_problem("1.1")
    assert problem and problem.text != "Edited"


async def test_export_appends_approved_links_and_claims_and_round_trips(store: Store) -> None:
    """The export has the sheet's columns, the bot's links and claims, and re-imports as unchanged."""
    await store.claim("3.11", ANN, START)
    async with store.session() as s:
        s.add(
            WorkLink(
                problem_number="2.4",
                url="https://example.org/acronyms",
                note="IOI-style circuit",
                normalized_url="example.org/acronyms",
                platform="discord",
                user_id="ann",
                display_name="Ann",
                created_at=START,
                status=LinkStatus.APPROVED,
                decided_at=START,
            )
        )
    text = await export_csv(store)
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == SHEET_HEADER and len(rows) == 99
    by_number = {r[3]: r for r in rows[1:]}
    assert by_number["2.4"][5] == "https://example.org/acronyms — IOI-style circuit (via copbot)"
    assert by_number["2.4"][6] == "jknowak (Discord) - July 2023"
    assert by_number["3.11"][6].endswith("\nAnn (Discord) - 2026-11-25 (via copbot)")
    report = await import_rows(store, parse_csv(text), START)
    assert report.changed == [] and report.claims_added == 0 and report.claims_ended == 0
    assert report.bot_lines == 2  # the link and the claim: copbot's own, never imported, counted
    assert "; 2 lines marked (via copbot) skipped (copbot's own claims and links" in report.summary()


async def test_a_renumbering_import_names_the_problems_whose_claims_and_links_stay(store: Store) -> None:
    """A file that inserts a problem at 2.5 and shifts the rest of section 2 by one: copbot's
    claims and links stay with their numbers, now under another problem's text, and the report
    names those numbers with what they hold (the admin used to see only "34 changed"). Sheet
    claims, which follow their cell, and ended claims or rejected links are not counted."""
    for number in ("2.5", "2.6", "2.7", "3.11"):
        await store.claim(number, ANN, START)
    await store.release("2.7", ANN, "", START)
    approved = await submit(store, "2.5", "https://x.org/a", "x.org/a", "", ANN, START, 10)
    await decide(store, approved.id or 0, MOD, True, "", START)
    await submit(store, "2.6", "https://x.org/b", "x.org/b", "", ANN, START, 10)
    rejected = await submit(store, "2.8", "https://x.org/c", "x.org/c", "", ANN, START, 10)
    await decide(store, rejected.id or 0, MOD, False, "", START)
    rows = []
    for row in seed_rows():
        section, position = (int(part) for part in row[0].split("."))
        if section == 2 and position >= 5:
            if position == 5:
                rows.append(["2.5", row[1], "", "A", "A brand new problem", "", ""])
            row = [f"2.{position + 1}", *row[1:]]
        rows.append(row)
    report = await import_rows(store, parse_csv(as_sheet(rows)), START)
    assert report.added == ["2.39"] and len(report.changed) == 34
    assert report.held == {"2.5": Held(claims=1, approved=1), "2.6": Held(claims=1, pending=1)}
    assert report.summary().endswith(
        "; the text changed under copbot's claims and links, which stay with their number (check they "
        "still fit): 2.5 (1 open claim, 1 approved link), 2.6 (1 open claim, 1 pending link)"
    )


async def test_problems_missing_from_the_file_are_kept_and_named(store: Store) -> None:
    """A file without 2.5 and 3.11 changes nothing and says so: both are kept, and named."""
    rows = [row for row in seed_rows() if row[0] not in {"2.5", "3.11"}]
    report = await import_rows(store, parse_csv(as_sheet(rows)), START)
    assert report.kept == ["2.5", "3.11"] and report.unchanged == 96
    assert report.summary() == (
        "0 added, 0 changed, 96 unchanged, 2 not in the file, kept (2.5, 3.11); 0 sheet claims added, 0 ended"
    )
    assert await store.problem_count() == 98


@pytest.mark.parametrize("delimiter", [";", "\t"], ids=["semicolons", "tabs"])
async def test_a_sheet_saved_with_semicolons_or_tabs_imports(store: Store, delimiter: str) -> None:
    """Excel in much of Europe saves "CSV" with semicolons, and a sheet copied as text has tabs:
    the header is found either way, and the seed re-imports unchanged (a semicolon file used to
    be refused as having "no column for number, difficulty, problem")."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(SHEET_HEADER)
    writer.writerows([c, s, d, n, p, w, o] for n, c, s, d, p, w, o in seed_rows())
    report = await import_rows(store, parse_csv(out.getvalue()), START)
    assert (report.added, report.changed, report.unchanged) == ([], [], 98)


def test_a_header_no_separator_finds_says_which_were_tried() -> None:
    """A semicolon file with a misspelt header: the error is the closest reading's (by semicolons),
    and names the separators tried."""
    with pytest.raises(CatalogueError) as refused:
        parse_csv("Nummer;category;difficulty;problem\n2.4;C;B;x\n")
    assert str(refused.value) == (
        "no header in rows 1-2 (lines 1-2): a header names the columns number, category, difficulty, "
        "problem; the closest, line 1, has no column for number (its columns read as separated by "
        "semicolons; commas, semicolons and tabs were tried)"
    )


def test_a_column_named_exactly_wins_over_one_that_starts_with_its_name() -> None:
    """An extra "Number of votes" column before "Number": the problem numbers come from "Number"
    (the first column starting with "number" used to take it: '3' is not a problem number)."""
    text = "Number of votes,Category,Difficulty,Number,Problem\n3,Circuits In The Wild,B,2.4,Text\n"
    (row,) = parse_csv(text)
    assert (row.number, row.difficulty, row.problem) == ("2.4", "B", "Text")


async def test_bidi_controls_in_the_sheet_are_dropped_and_right_to_left_text_kept(store: Store) -> None:
    """A cell with an override left open (U+202E), embeddings, isolates and marks: stored
    without them, so the problem's card cannot turn around after its text; its Hebrew and
    Arabic words as typed, and the claim its cell names under the name as written."""
    hebrew, arabic = "מעגלי השראה", "دوائر الحث"
    rows = seed_rows()
    rows[0][4] = f"\u202eFind the {hebrew} circuit (\u2067{arabic}\u2069)\u200f in GPT-2"
    rows[0][5] = "\u202bsee\u202c https://example.org/\u202ework"
    rows[0][6] = "\u202eZoe - 3 March 2026"
    await import_rows(store, parse_csv(as_sheet(rows)), START)
    problem = await store.get_problem("1.1")
    assert problem is not None
    assert problem.text == f"Find the {hebrew} circuit ({arabic}) in GPT-2"
    assert problem.existing_work == "see https://example.org/work"
    (claim,) = await store.claims_for_problem("1.1")
    assert claim.display_name == "Zoe - 3 March 2026"
