"""Where a signature of task ``t`` sits in a canvas (``analysis.canvas.position``), which the CB202
rule and the project-wide command build on."""

from __future__ import annotations

import ast

import pytest

from celery_boundary.analysis import canvas as cv
from celery_boundary.analysis.index import build_index

HEADER = "from celery import chain, chord, group, shared_task\n@shared_task\ndef t(x): pass\n"


def positions(line: str) -> list[str]:
    index = build_index(ast.parse(HEADER + line))
    found = []
    for ref in sorted(index.task_refs, key=lambda s: (s.node.lineno, s.node.col_offset)):  # type: ignore[attr-defined]
        attribute = index.parent(ref.node)
        if not isinstance(attribute, ast.Attribute) or attribute.attr not in cv.SIGNATURE_BUILDERS:
            continue
        call = index.parent(attribute)
        assert isinstance(call, ast.Call)
        found.append(cv.position(index, call, ref))
    return found


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("chain(t.s(1), t.s())", [cv.LINK, cv.RECEIVING]),
        ("chain([t.s(1), t.s()])", [cv.LINK, cv.RECEIVING]),
        ("chain(t.s(1), t.si(2))", [cv.LINK, cv.LINK]),
        ("t.s(1) | t.s() | t.s()", [cv.LINK, cv.RECEIVING, cv.RECEIVING]),
        ("group(t.s(1), t.s(2))", [cv.LINK, cv.LINK]),
        ("group(t.s(i) for i in range(3))", [cv.LINK]),
        ("chain(t.s(1), group(t.s(), t.s()))", [cv.LINK, cv.RECEIVING, cv.RECEIVING]),
        ("chord([t.s(1)], t.s())", [cv.LINK, cv.RECEIVING]),
        ("chord(header=[t.s(1)], body=t.s())", [cv.LINK, cv.RECEIVING]),
        ("chord(group(t.s(1)))(t.s())", [cv.LINK, cv.RECEIVING]),
        ("t.apply_async((1,), link=t.s())", [cv.RECEIVING]),
        ("chain(t.s(1)).on_error(t.s())", [cv.LINK, cv.ERRBACK]),
        ("t.s(1).apply_async(link_error=t.s())", [cv.ALONE, cv.ERRBACK]),
        ("t.s(1).link_error(t.si())", [cv.UNKNOWN, cv.LINK]),
        ("t.s(1).apply_async(link_error=chain(t.s(), t.s()))", [cv.ALONE, cv.ERRBACK, cv.RECEIVING]),
        ("chain(t.s(1), t.s().set(queue='q'))", [cv.LINK, cv.RECEIVING]),
        ("t.s(1).delay()", [cv.ALONE]),
        ("t.s(1)()", [cv.ALONE]),
        ("app.add_periodic_task(5, t.s(1))", [cv.ALONE]),
        ("x = t.s(1)", [cv.UNKNOWN]),
        ("print(t.s(1))", [cv.UNKNOWN]),
    ],
)
def test_positions(line: str, expected: list[str]) -> None:
    assert positions(line) == expected
