"""The verdict table in docs/verdicts.md, computed from the core for every truth-test row.

``python tests/truth/verdict_table.py --write`` rewrites the table between the markers in
docs/verdicts.md (the prose around it is hand-written); tests/core/test_verdict_table_doc.py
recomputes every cell and fails when the doc disagrees.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[1] / "docs" / "verdicts.md"
START, END = "<!-- verdict-table:start -->", "<!-- verdict-table:end -->"
COLUMNS = ("json", "msgpack", "yaml", "pickle", "truth-custom")
HEADER = ("Row", "Type (as judged)", "json", "msgpack", "yaml", "pickle", "custom serializer")

if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import truth_django  # noqa: E402

truth_django.configure()

import truth_cases  # noqa: E402

from celery_boundary.core.annotations import shape_of  # noqa: E402
from celery_boundary.core.shapes import Shape, TypedDictShape, describe  # noqa: E402
from celery_boundary.core.verdicts import Outcome, judge  # noqa: E402

_WORDS = {
    Outcome.CARRIED: "carried",
    Outcome.UNKNOWN: "unknown",
    Outcome.LOSSY: "lossy",
    Outcome.NOT_CARRIED: "not carried",
}


def cell(row: truth_cases.Row, serializer: str) -> str:
    """One table cell: ``carried``, ``lossy → list[int]``, ``not carried`` or ``unknown``."""
    shape = shape_of(row.annotation, vars(truth_cases))
    verdict = judge(shape, serializer, registry=row.registry, trust_any=row.trust_any)
    word = _WORDS[verdict.outcome]
    if row.trusted and verdict.outcome is Outcome.CARRIED:
        return "carried (trusted)"
    if verdict.outcome is Outcome.LOSSY and verdict.arrives is not None:
        return f"lossy → `{arrival_text(verdict.arrives)}`"
    return word


def arrival_text(shape: Shape) -> str:
    """Like ``describe``, but a TypedDict that arrives changed shows its items."""
    if isinstance(shape, TypedDictShape):
        items = ", ".join(f"{key!r}: {describe(value)}" for key, value, _ in shape.items)
        return f"{shape.name} {{{items}}}"
    return describe(shape)


def judged_type(row: truth_cases.Row) -> str:
    return f"`{describe(shape_of(row.annotation, vars(truth_cases)))}`"


def expected_rows() -> dict[str, list[str]]:
    """Row name -> its cells, from the core."""
    return {row.name: [judged_type(row), *(cell(row, s) for s in COLUMNS)] for row in truth_cases.ROWS}


def escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_table() -> str:
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" for _ in HEADER) + "|",
    ]
    for name, cells in expected_rows().items():
        lines.append("| " + " | ".join(escape(c) for c in (name, *cells)) + " |")
    return "\n".join(lines)


def parse_table(doc: str) -> dict[str, list[str]]:
    """Row name -> cells, as written between the markers in docs/verdicts.md."""
    body = doc.split(START, 1)[1].split(END, 1)[0]
    rows: dict[str, list[str]] = {}
    for line in body.strip().splitlines()[2:]:
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        rows[cells[0]] = cells[1:]
    return rows


def write() -> None:
    doc = DOC.read_text(encoding="utf-8")
    head, rest = doc.split(START, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{START}\n{render_table()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        print(render_table())
