"""docs/verdicts.md's table agrees with the core, cell by cell, for every truth-test row.

The rows are the truth tests' rows (tests/truth/truth_cases.py), so every cell in the doc is also
a verdict pushed through kombu and a worker. Regenerate the table with
``python tests/truth/verdict_table.py --write``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

TRUTH = Path(__file__).resolve().parents[1] / "truth"


@pytest.fixture(scope="module")
def table() -> ModuleType:
    if str(TRUTH) not in sys.path:
        sys.path.insert(0, str(TRUTH))
    return importlib.import_module("verdict_table")


def test_every_row_is_in_the_doc_and_nothing_else(table: ModuleType) -> None:
    written = table.parse_table(table.DOC.read_text(encoding="utf-8"))
    expected = table.expected_rows()
    assert list(written) == list(expected), "run: python tests/truth/verdict_table.py --write"


def test_every_cell_matches_the_core(table: ModuleType) -> None:
    written = table.parse_table(table.DOC.read_text(encoding="utf-8"))
    wrong = [
        f"{row} / {column}: doc says {doc_cell!r}, core says {core_cell!r}"
        for row, cells in table.expected_rows().items()
        for column, doc_cell, core_cell in zip(table.HEADER[1:], written.get(row, []), cells)
        if doc_cell != core_cell
    ]
    assert not wrong, "\n".join(wrong)


def test_the_table_reads_the_cells_it_checks(table: ModuleType) -> None:
    """A tampered cell is caught (the check cannot pass vacuously)."""
    doc = table.DOC.read_text(encoding="utf-8")
    tampered = doc.replace("| bytearray | `bytearray` | not carried |", "| bytearray | `bytearray` | carried |")
    assert tampered != doc
    assert table.parse_table(tampered)["bytearray"][1] == "carried"
    assert table.expected_rows()["bytearray"][1] == "not carried"
