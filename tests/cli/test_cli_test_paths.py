"""Test suites and examples (``test_paths``): ``check`` skips them when it walks a folder, counts them
in the summary line, and leaves their uses of tasks out of the project-wide rules; a folder named on
the command line is checked whole, and ``test_paths = []`` checks everything (shapes of celery's
``t/unit`` pickle settings, ``examples/`` and a test launching a chain-only task directly)."""

from __future__ import annotations

import fnmatch
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from celery_boundary.cli import main
from celery_boundary.gate import files
from cli_helpers import write


@pytest.fixture
def layout(project: Path) -> Path:
    write(project, "proj/__init__.py", "")
    write(project, "proj/tasks.py", """
        from celery import chain, shared_task

        @shared_task
        def fetch(url):
            return url

        @shared_task
        def total(page):
            return len(page)

        def start(url):
            chain(fetch.s(url), total.s()).delay()
    """)
    write(project, "proj/settings.py", 'CELERY_TASK_SERIALIZER = "pickle"\n')
    write(project, "tests/test_tasks.py", """
        from proj.tasks import total

        def test_total():
            assert total("ab") == 2
            total.delay("ab")
    """)
    write(project, "t/unit/conftest.py", 'CELERY_RESULT_SERIALIZER = "pickle"\n')
    write(project, "examples/demo.py", 'CELERY_RESULT_SERIALIZER = "pickle"\n')
    return project


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[list[tuple[str, str]], str]:
    main(["check", "--format", "json", "--select", "CB101,CB202", *args])
    captured = capsys.readouterr()
    return sorted((f["path"], f["code"]) for f in json.loads(captured.out)), captured.err


def test_a_walk_skips_tests_and_examples_and_the_summary_counts_them(
    layout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found, err = run(capsys)
    # total.delay() in the test does not count as a launch: total stays a chain-only link (CB202).
    assert found == [("proj/settings.py", "CB101"), ("proj/tasks.py", "CB202")]
    assert err.splitlines()[-1] == ("celery-boundary: 2 findings in 2 of 3 files; 3 test or example files "
                                    "not checked (examples 1, t 1, tests 1; test_paths = [] checks them)")


def test_a_test_folder_named_on_the_command_line_is_checked(layout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "t/unit")[0] == [("t/unit/conftest.py", "CB101")]


def test_test_paths_empty_checks_everything(layout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(layout, "pyproject.toml", "[tool.celery_boundary]\ntest_paths = []\n")
    found, err = run(capsys)
    assert found == [("examples/demo.py", "CB101"), ("proj/settings.py", "CB101"), ("t/unit/conftest.py", "CB101")]
    assert "not checked" not in err


def test_a_test_folder_without_python_files_is_not_counted(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "proj/settings.py", 'CELERY_TASK_SERIALIZER = "pickle"\n')
    write(project, "proj/tests/data.json", "{}\n")
    assert run(capsys)[1].splitlines()[-1] == "celery-boundary: 1 finding in 1 of 1 file"


SEGMENT = st.text(alphabet="ab_.*?[]!-", min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.text(alphabet="ab_.-", min_size=1, max_size=4), min_size=1, max_size=3),
       patterns=st.lists(st.one_of(SEGMENT, st.builds("/".join, st.lists(SEGMENT, min_size=2, max_size=3))),
                         max_size=4))
def test_one_expression_for_every_pattern_matches_as_fnmatch_does(parts: list[str], patterns: list[str]) -> None:
    """The walk asks of every file whether a pattern of ``exclude`` or ``test_paths`` matches its name or
    its relative path through one regular expression, and which one only when one does."""
    path = Path(*parts)
    expected = next((p for p in patterns if fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(path.as_posix(), p)),
                    None)
    assert files._excluded_text(path.name, path.as_posix(), tuple(patterns)) == (expected is not None)
    assert files._matching(path, tuple(patterns)) == expected


@pytest.mark.parametrize("spelled", [".", "./proj", "proj/", "proj//inner/..", "absolute"])
def test_the_walk_finds_what_os_walk_finds_in_its_order(project: Path, spelled: str) -> None:
    """The walk reads directory entries instead of asking the system of each path, and builds a path
    only for a file it keeps: what it finds, and in which order, is what ``os.walk`` (links to folders
    not entered) and ``fnmatch`` on each name and relative path give, each path spelled as ``Path`` spells it."""
    for name in ("proj/a.py", "proj/b.txt", "proj/sub/c.py", "proj/sub/deeper/d.py", "proj/tests/test_e.py",
                 "proj/gen/f_pb2.py", "proj/build/g.py", "proj/inner/h.py", "proj/sub/z.py", "top.py"):
        write(project, name, "x = 1\n")
    (project / "proj" / "linked").symlink_to(project / "proj" / "sub")  # a link to a folder: not entered
    (project / "proj" / "also.py").symlink_to(project / "proj" / "a.py")  # a link to a file: read
    root = str(project / "proj") if spelled == "absolute" else spelled
    patterns = (*files.DEFAULT_EXCLUDE, "*_pb2.py")
    tests = ("tests", "test_*.py")
    found, skipped, left_out = files.discover_project([root], patterns[len(files.DEFAULT_EXCLUDE):], tests)
    expected = []
    for folder, folders, names in os.walk(root):
        base = Path(folder)
        folders[:] = sorted(f for f in folders if not any(
            fnmatch.fnmatch(f, p) or fnmatch.fnmatch((base / f).as_posix(), p) for p in (*patterns, *tests)))
        expected += [base / n for n in sorted(names) if n.endswith(".py") and not any(
            fnmatch.fnmatch(n, p) or fnmatch.fnmatch((base / n).as_posix(), p) for p in (*patterns, *tests))]
    assert [str(path) for path in found] == [str(path) for path in expected]
    home = Path("proj") if spelled == "." else Path(root)
    assert home / "also.py" in found and home / "sub" / "deeper" / "d.py" in found
    assert (skipped, left_out) == ([], {"tests": 1})
