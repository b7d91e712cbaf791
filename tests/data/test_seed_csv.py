"""Checks for data/seed.csv, the curated catalogue of the 98 problems in the
200 Concrete Problems In Interpretability spreadsheet (see data/README.md).

The expected strings below were typed from the source text dump, not from the CSV.
"""

import csv
from pathlib import Path

from storage.catalogue_csv import COLUMNS

CSV_PATH = Path(__file__).resolve().parents[2] / "data" / "seed.csv"

HEADER = list(COLUMNS)  # the columns the catalogue import reads, in its order
ALLOWED_DIFFICULTIES = {"A", "B", "C", "D", "A-B", "A-C", "B-C", "C-D"}
EXPECTED_NUMBERS = (
    [f"1.{i}" for i in range(1, 24)]
    + [f"2.{i}" for i in range(1, 39)]
    + [f"3.{i}" for i in range(1, 34)]
    + [f"4.{i}" for i in range(1, 5)]
)
CATEGORIES = {
    "1": "Toy Language Models",
    "2": "Circuits In The Wild",
    "3": "Interpreting Algorithmic Problems",
    "4": "Exploring Polysemanticity and Superposition",
}


def read_raw() -> bytes:
    return CSV_PATH.read_bytes()


def read_rows() -> list[list[str]]:
    with CSV_PATH.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def by_number() -> dict[str, dict[str, str]]:
    rows = read_rows()
    return {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}


def test_encoding_no_bom_and_utf8():
    raw = read_raw()
    assert not raw.startswith(b"\xef\xbb\xbf")
    raw.decode("utf-8")


def test_header_exact():
    assert read_rows()[0] == HEADER
    assert read_raw().startswith(",".join(HEADER).encode() + b"\r\n")


def test_row_count_and_width():
    rows = read_rows()
    assert len(rows) == 1 + 98
    assert all(len(row) == 7 for row in rows)


def test_numbers_present_once_in_sheet_order():
    numbers = [row[0] for row in read_rows()[1:]]
    assert len(numbers) == len(set(numbers)) == 98
    assert set(numbers) == set(EXPECTED_NUMBERS)
    assert numbers == EXPECTED_NUMBERS


def test_difficulties_allowed():
    for row in read_rows()[1:]:
        assert row[3] in ALLOWED_DIFFICULTIES, row[0]


def test_categories_follow_sections():
    for row in read_rows()[1:]:
        assert row[1] == CATEGORIES[row[0].split(".")[0]], row[0]


def test_subcategory_missing_only_where_the_sheet_has_none():
    missing = {row[0] for row in read_rows()[1:] if row[2] == ""}
    assert missing == {"1.23", "3.18", "3.19", "3.20"}


def test_cells_are_stripped():
    for row in read_rows()[1:]:
        for cell in row:
            assert cell == cell.strip(), row[0]


def test_every_problem_but_3_3_has_text():
    empty = {row[0] for row in read_rows()[1:] if row[4] == ""}
    assert empty == {"3.3"}


EXPECTED_ROWS = {
    "1.1": {
        "number": "1.1",
        "category": "Toy Language Models",
        "subcategory": "Understanding neurons",
        "difficulty": "B-C",
        "problem": (
            "How far can you get deeply reverse engineering a neuron in a 1L model? "
            "1L is particularly easy since each neuron's output adds directly to the logits."
        ),
        "existing_work": "",
        "working_on": "",
    },
    "1.3": {
        "number": "1.3",
        "category": "Toy Language Models",
        "subcategory": "Understanding neurons",
        "difficulty": "B",
        "problem": (
            "Look for trigram neurons and try to reverse engineer them. in a 1L model."
            '(e.g, "ice cream -> sundae")'
        ),
        "existing_work": "",
        "working_on": "",
    },
    "1.23": {
        "number": "1.23",
        "category": "Toy Language Models",
        "subcategory": "",
        "difficulty": "A-C",
        "problem": (
            "Choose your own adventure: Take a bunch of text with interesting patterns and "
            "run the models over it. Look for tokens they do really well on and try to "
            "reverse engineer what's going on!"
        ),
        "existing_work": "",
        "working_on": "",
    },
    "2.2": {
        "number": "2.2",
        "category": "Circuits In The Wild",
        "subcategory": "Circuits in natural language",
        "difficulty": "B",
        "problem": (
            "Continuing sequences that are common in natural language "
            r'(E.g, "1 2 3 4" -> "5", "Monday\nTuesday\n" -> "Wednesday"'
        ),
        "existing_work": (
            "Related work about heads outputting the next sequence member was done in this post:\n"
            "https://www.lesswrong.com/posts/6tHNM2s6SWzFHv3Wo/"
            "mechanistically-interpreting-time-in-gpt-2-small\n"
            "and continued in this paper:\n"
            "https://arxiv.org/abs/2312.09230\n"
            "\n"
            "Preliminary work on sequence continuation done during a hackathon:"
            "https://alignmentjam.com/project/"
            "one-is-1-analyzing-activations-of-numerical-words-vs-digits"
        ),
        "working_on": "",
    },
    "2.4": {
        "number": "2.4",
        "category": "Circuits In The Wild",
        "subcategory": "Circuits in natural language",
        "difficulty": "B",
        "problem": (
            '3 letter acronyms, like "The Acrobatic Circus Group (ACG) and the '
            'Ringmaster Friendship Union (" -> RFU'
        ),
        "existing_work": "",
        "working_on": "jknowak (Discord) - July 2023",
    },
    "2.8": {
        "number": "2.8",
        "category": "Circuits In The Wild",
        "subcategory": "Circuits in natural language",
        "difficulty": "B",
        "problem": "Learning that words after full stops are capital letters.",
        "existing_work": "",
        "working_on": "Kyle Cox / 10 April 2024 / Contact: kylecox2000@gmail.com",
    },
    "2.12": {
        "number": "2.12",
        "category": "Circuits In The Wild",
        "subcategory": "Circuits in natural language",
        "difficulty": "B",
        "problem": 'Choosing the right pronouns (E.g, "Lina is a great friend, isn\'t")',
        "existing_work": (
            "https://cmathw.itch.io/identifying-a-preliminary-circuit-for-predicting-"
            "gendered-pronouns-in-gpt-2-smal"
        ),
        "working_on": "Alana Xiang - 5 May 2023",
    },
    "2.37": {
        "number": "2.37",
        "category": "Circuits In The Wild",
        "subcategory": "Studying larger models",
        "difficulty": "C",
        "problem": "How does addition work? (Focus on 2-digit)",
        "existing_work": (
            "Transformer addition is now explained in "
            "https://philipquirke.github.io/transformer-maths/2023/10/14/"
            "Understanding-Addition.html "
            "Here's a couple of lesswrong posts about 2 digit subtraction:\n"
            "\n"
            "plus/minus algorithm: https://www.lesswrong.com/posts/pbj6tTZyakodxC9Ho/"
            "how-does-a-toy-2-digit-subtraction-transformer-predict-the\n"
            "\n"
            "difference algorithm: https://www.lesswrong.com/posts/RABp7ZMw2FGwh4odq/"
            "how-does-a-toy-2-digit-subtraction-transformer-predict-the-1"
        ),
        "working_on": "",
    },
    "3.3": {
        "number": "3.3",
        "category": "Interpreting Algorithmic Problems",
        "subcategory": "Beginner problems",
        "difficulty": "A",
        "problem": "",
        "existing_work": (
            "(July 10 2023) Max over a list: https://colab.research.google.com/drive/"
            "1WdvPyO-bB6l-iWq8SYjiovHp5R3834wN?usp=sharing\n"
            "(July 10 2023) Formalising in Coq: https://github.com/JasonGross/"
            "neural-net-coq-interp/blob/main/theories/max.v"
        ),
        "working_on": "Bart Bussmann (May 16th 2023)",
    },
    "3.5": {
        "number": "3.5",
        "category": "Interpreting Algorithmic Problems",
        "subcategory": "Beginner problems",
        "difficulty": "A",
        "problem": "Taking the minimum or maximum of two ints",
        "existing_work": ("https://colab.research.google.com/drive/1N4iPEyBVuctveCA0Zre92SpfgH6nmHXY"),
        "working_on": "July 10 2023\nMax over a list\nSome work towards formalising in Coq",
    },
    "3.8": {
        "number": "3.8",
        "category": "Interpreting Algorithmic Problems",
        "subcategory": "Harder problems",
        "difficulty": "B",
        "problem": "5-digit addition/subtraction.",
        "existing_work": (
            "Transformer addition is now explained in "
            "https://philipquirke.github.io/transformer-maths/2023/10/14/"
            "Understanding-Addition.html"
        ),
        "working_on": "",
    },
    "3.9": {
        "number": "3.9",
        "category": "Interpreting Algorithmic Problems",
        "subcategory": "Harder problems",
        "difficulty": "B",
        "problem": (
            "Predicting the output to simple code function. E.g, problems like "
            '"a = 1 2 3. a[2] = 4. a -> 1 2 4"'
        ),
        "existing_work": "Code",
        "working_on": "",
    },
    "3.11": {
        "number": "3.11",
        "category": "Interpreting Algorithmic Problems",
        "subcategory": "Harder problems",
        "difficulty": "B",
        "problem": (
            "Train a model on multiple algorithmic tasks we understand (like modular "
            "addition and subtraction). Compare to a model trained on each task. Does it "
            "learn the same circuits? Is there superposition?"
        ),
        "existing_work": (
            "This paper https://arxiv.org/pdf/2402.16726.pdf may tackle the problem of multiple tasks"
        ),
        "working_on": (
            "I (Evan Anders, evanhanders@ucsb.edu) am working on this with 5-digit "
            "addition and subtraction as of Nov 6 2023. Might add more operations, too. "
            "Happy to collaborate with anyone who's interested, just email :)."
        ),
    },
    "3.15": {
        "number": "3.15",
        "category": "Interpreting Algorithmic Problems",
        "subcategory": "Harder problems",
        "difficulty": "C",
        "problem": "5 digit (or binary) multiplication",
        "existing_work": "",
        "working_on": "",
    },
    "3.18": {
        "number": "3.18",
        "category": "Interpreting Algorithmic Problems",
        "subcategory": "",
        "difficulty": "B",
        "problem": (
            "Build a toy model of Indirect Object Identification - train a tiny "
            "attention-only model on an algorithmic task simulating IOI - and "
            "reverse-engineer the learned solution. Compare it to the circuit found in "
            "GPT-2 Small."
        ),
        "existing_work": "",
        "working_on": "",
    },
    "3.19": {
        "number": "3.19",
        "category": "Interpreting Algorithmic Problems",
        "subcategory": "",
        "difficulty": "C",
        "problem": (
            "Is 3.18 consistent across random seeds, or can other algorithms be learned? "
            "Can a 2L model learn this? What happens if you add more MLP's or more layers?"
        ),
        "existing_work": "",
        "working_on": "",
    },
    "3.20": {
        "number": "3.20",
        "category": "Interpreting Algorithmic Problems",
        "subcategory": "",
        "difficulty": "C",
        "problem": (
            "Reverse-engineer Othello-GPT. Can you reverse-engineer the algorithms it "
            "learns, or the features the probes find?"
        ),
        "existing_work": "",
        "working_on": "",
    },
    "3.21": {
        "number": "3.21",
        "category": "Interpreting Algorithmic Problems",
        "subcategory": "Questions about language models",
        "difficulty": "A",
        "problem": (
            "Train a 1L attention-only transformer with rotary to predict the previous "
            "token and reverse engineer how it does this."
        ),
        "existing_work": "",
        "working_on": "5/7/23: Eric (repo: https://github.com/DKdekes/rotary-interp)",
    },
    "4.1": {
        "number": "4.1",
        "category": "Exploring Polysemanticity and Superposition",
        "subcategory": "Confusions to study in Toy Models of Superposition",
        "difficulty": "A",
        "problem": (
            "Does dropout create a privileged basis? Put dropout on the hidden layer of the "
            "ReLU output model and study how this changes the results."
        ),
        "existing_work": ("Lewis Smith thinks the answer is yes: see this post for their results."),
        "working_on": "14 April 2023: Kunvar (firstuserhere)",
    },
    "4.4": {
        "number": "4.4",
        "category": "Exploring Polysemanticity and Superposition",
        "subcategory": "Confusions to study in Toy Models of Superposition",
        "difficulty": "B",
        "problem": (
            "What happens to their ReLU output model when there's non-uniform sparsity? "
            "E.g, one class of less sparse features and another of very sparse"
        ),
        "existing_work": "",
        "working_on": "",
    },
}


def test_rows_field_by_field():
    rows = by_number()
    assert len(EXPECTED_ROWS) >= 12
    for number, expected in EXPECTED_ROWS.items():
        assert rows[number] == expected, number


def test_multiline_cells_keep_their_newlines():
    rows = by_number()
    assert rows["2.2"]["existing_work"].count("\n") == 5
    assert rows["2.37"]["existing_work"].count("\n") == 4
    assert rows["3.3"]["existing_work"].count("\n") == 1
    assert rows["3.5"]["working_on"].count("\n") == 2
    # the "\n" in the 2.2 / 2.3 problems are literal backslash-n text, not line breaks
    assert "\n" not in rows["2.2"]["problem"]
    assert r'"Monday\nTuesday\n"' in rows["2.2"]["problem"]
    assert r'"1. Blah blah blah \n2. Blah blah blah\n"-> "3"' in rows["2.3"]["problem"]
