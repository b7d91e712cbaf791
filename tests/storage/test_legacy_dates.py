"""Dates in the sheet's "Currently Working On" cells, in every form the sheet uses."""

from __future__ import annotations

from datetime import date

import pytest

from storage.legacy import legacy_name, parse_sheet_date


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Alana Xiang - 5 May 2023", date(2023, 5, 5)),
        ("July 10 2023\nMax over a list", date(2023, 7, 10)),
        ("5/7/23: Eric (repo: https://github.com/DKdekes/rotary-interp)", date(2023, 5, 7)),
        ("Jordan Taylor - 2023 November 7 - (though not investigating very deeply)", date(2023, 11, 7)),
        ("… as of Nov 6 2023. Might add more operations", date(2023, 11, 6)),
        ("14 April 2023: Kunvar (firstuserhere)", date(2023, 4, 14)),
        ("Mariam Ihab - 05/01/2024 -Attempting", date(2024, 5, 1)),
        ("Bart Bussmann (May 16th 2023)", date(2023, 5, 16)),
        ("May 4, 2023 - Kunvar (firstuserhere)", date(2023, 5, 4)),
        ("jknowak (Discord) - July 2023", date(2023, 7, 1)),
        ("Kyle Cox / 10 April 2024 / Contact: kylecox2000@gmail.com", date(2024, 4, 10)),
        ("Sept 3 2024", date(2024, 9, 3)),
    ],
)
def test_sheet_dates(cell: str, expected: date) -> None:
    """Each form found in the sheet reads as the date its writer meant."""
    assert parse_sheet_date(cell) == expected


@pytest.mark.parametrize("cell", ["Someone", "", "13/45/2023", "version 2.4 of the repo"])
def test_cells_without_a_date(cell: str) -> None:
    """No date, or an impossible one, gives None rather than a guess."""
    assert parse_sheet_date(cell) is None


def test_legacy_name_is_one_short_line() -> None:
    """A long multi-line cell becomes a short one-line name."""
    assert legacy_name("July 10 2023\nMax over a list") == "July 10 2023"
    assert len(legacy_name("x" * 500)) == 120
