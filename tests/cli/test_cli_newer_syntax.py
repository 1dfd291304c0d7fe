"""Files in a newer Python's syntax than the one running ``check`` (readthedocs.org's and pypi/warehouse's
``except A, B:``, saleor's ``def f[M](value: M)``): read through libcst and checked like any other file
(``gate/newer_syntax.py``); what the rewrite does not cover stays CB001, which fails the gate, names the
file in the summary line and can be accepted by a baseline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from celery_boundary.cli import main
from celery_boundary.gate.newer_syntax import parse_newer
from cli_helpers import write

TASKS = """
    from celery import chain, shared_task


    @shared_task
    def add(x, y):
        return x + y


    def check_claim[C](binary: C) -> C:
        return binary


    type Pair[T] = tuple[T, T]


    class Box[T = int]:
        pass


    @shared_task
    def flow(x):
        try:
            chain(add.s(x, 1), add.s(2)).delay()
        except ValueError, TypeError:
            pass
        label = t"run {x}"
        other = f"{'a' + "b"}"
        return label, other, Box, Pair
"""


def findings(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[list[tuple[str, int, str]], str]:
    """The findings and the exit code; the messages and the summary line."""
    code = main(["check", "--format", "json", *args])
    captured = capsys.readouterr()
    report = json.loads(captured.out) if captured.out else []
    messages = "".join(f["message"] + "\n" for f in report)
    return [(f["path"], f["line"], f["code"]) for f in report] + [("exit", code, "")], messages + captured.err


def test_a_tasks_module_in_newer_syntax_is_checked(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "proj/tasks.py", TASKS)
    found, _ = findings(capsys)
    assert found == [("proj/tasks.py", 5, "CB202"), ("proj/tasks.py", 23, "CB203"), ("exit", 1, "")]


def test_the_rewrite_keeps_every_line_where_it_was() -> None:
    import textwrap

    tree = parse_newer(textwrap.dedent(TASKS).lstrip("\n"))[0]
    assert tree is not None
    functions = {node.name: node.lineno for node in tree.body if hasattr(node, "name")}
    assert functions == {"add": 5, "check_claim": 9, "Box": 16, "flow": 21}


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python reads the file itself")
def test_what_the_rewrite_does_not_cover_fails_the_gate_and_a_baseline_accepts_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Type parameters over several lines: removing them would move the lines below, so the file stays CB001.
    write(project, "proj/tasks.py", """
        from celery import shared_task

        def pick[
            T,
        ](items: list[T]) -> T:
            return items[0]

        @shared_task
        def run():
            return pick([1])
    """)
    found, err = findings(capsys)
    assert found == [("proj/tasks.py", 3, "CB001"), ("exit", 1, "")]
    assert "valid in a newer Python than 3." in err and "run it under the Python your project runs on" in err
    assert "1 file not checked (proj/tasks.py): the project-wide rules did not see" in err.splitlines()[-1]
    main(["check", "-q", "--write-baseline", "baseline.json"])
    found, err = findings(capsys, "--baseline", "baseline.json")
    assert found == [("exit", 0, "")]


def test_a_file_no_python_reads_keeps_python_s_message(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "proj/tasks.py", "from celery import shared_task\n\ndef broken(:\n    pass\n")
    found, err = findings(capsys)
    assert found == [("proj/tasks.py", 3, "CB001"), ("exit", 1, "")]
    assert "newer Python" not in err


@pytest.mark.parametrize(("deep", "line"), [("(" * 5000 + "1" + ")" * 5000, 7), ("1 + " * 20000 + "1", 5)])
def test_nesting_beyond_libcst_s_reach_stays_cb001_without_crashing(
    project: Path, capsys: pytest.CaptureFixture[str], deep: str, line: int
) -> None:
    # libcst's native parser overflows its stack on brackets ~2000 deep (the process dies) and takes
    # minutes over a chain of 20000 operators: such a file is never given to it.
    write(project, "proj/tasks.py", f"from celery import shared_task\n\ntry:\n    pass\nexcept A, B:\n    pass\nx = {deep}\n")
    found, _ = findings(capsys)
    assert found == [("proj/tasks.py", line, "CB001"), ("exit", 1, "")]


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="this Python reads the file itself")
def test_fix_leaves_a_file_in_newer_syntax_alone_and_says_why(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = write(project, "proj/tasks.py", """
        from celery import shared_task

        @shared_task(serializer="pickle")
        def refresh():
            try:
                return 1
            except ValueError, TypeError:
                return 0
    """)
    before = tasks.read_text()
    main(["fix", "--unsafe-fixes"])
    assert tasks.read_text() == before
    assert "proj/tasks.py: fix skipped, written in a newer Python's syntax than 3." in capsys.readouterr().err
