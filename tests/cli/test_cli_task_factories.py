"""Task factories defined in another module (treeherder dc3080d ``treeherder/workers/task.py:12``, a class
whose ``__call__`` returns ``shared_task(...)(inner)``): ``check`` scans the project for them, so the tasks
they make are found without ``task_decorators``; flake8, one module at a time, needs the option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main
from celery_boundary.checks import check_source
from celery_boundary.checks.common import RuleSettings

FACTORY = """
from celery import shared_task


class retryable:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs

    def __call__(self, f):
        def inner(*a, **kw):
            return f(*a, **kw)

        return shared_task(*self.args, **self.kwargs)(inner)


def logged(f):
    return f
"""
JOBS = """
from proj.workers import logged, retryable


@retryable(name="pairs", max_retries=3)
def pairs(rows):
    for row in rows:
        if row.kind == "bulk" and row.total > 10:
            row.price = row.total * 2
            row.tax = row.price * 0.2
            row.label = "big" if row.total > 100 else "small"


@logged
def not_a_task(ids):
    for i in ids:
        for j in ids:
            print(i, j)
"""


@pytest.fixture
def factory_project(project: Path) -> Path:
    write(project, "proj/__init__.py", "")
    write(project, "proj/workers.py", FACTORY)
    write(project, "proj/jobs.py", JOBS)
    return project


def test_check_finds_tasks_made_by_a_factory_from_another_module(
    factory_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", "-q", "--format", "json", "--select", "CB301"])
    found = [(f["path"], f["line"]) for f in json.loads(capsys.readouterr().out)]
    assert found == [("proj/jobs.py", 5)]


def test_flake8_needs_the_option_for_a_factory_in_another_module(factory_project: Path) -> None:
    text = (factory_project / "proj/jobs.py").read_text(encoding="utf-8")
    assert check_source(text) == []
    configured = RuleSettings(task_decorators=frozenset({"proj.workers.retryable"}))
    assert [(f.line, f.code) for f in check_source(text, configured)] == [(5, "CB301")]


def test_a_factory_in_a_file_that_was_not_named_still_counts(
    factory_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # pre-commit passes only the staged files: the factory's module is not among them.
    main(["check", "-q", "--format", "json", "--select", "CB301", "proj/jobs.py"])
    found = [(f["path"], f["line"]) for f in json.loads(capsys.readouterr().out)]
    assert found == [("proj/jobs.py", 5)]


# CB202 on a task a factory makes: `fix` finds it as `check` does, and does not rename it: whether the
# factory passes name= on to Celery (to keep the registered name) is not known.
PIPELINE = """
from celery import chain
from proj.workers import retryable


@retryable(max_retries=3)
def fetch(x):
    return [x]


@retryable()
def total(counts):
    return sum(counts)


def start():
    chain(fetch.s(1), total.s()).delay()
"""


def test_fix_refuses_to_rename_a_factory_task_it_cannot_keep_the_wire_name_of(
    factory_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(factory_project, "proj/pipeline.py", PIPELINE)
    main(["check", "-q", "--format", "json", "--select", "CB202"])
    assert [(f["path"], f["line"]) for f in json.loads(capsys.readouterr().out)] == [("proj/pipeline.py", 11)]
    before = (factory_project / "proj/pipeline.py").read_text()
    assert main(["fix", "--select", "CB202"]) == 0
    err = capsys.readouterr().err
    assert "CB202 not renamed: the task is made by the factory proj.workers.retryable" in err
    assert (factory_project / "proj/pipeline.py").read_text() == before
