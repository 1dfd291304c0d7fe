"""celery-unknown-task: a literal task name that misspells a task the call site can see, the same in a
cold run, a warm run after editing the call site, and under the daemon; names the plugin cannot judge
stay silent."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from mypy import api

DaemonRuns = Callable[..., list[subprocess.CompletedProcess[str]]]

TASKS = """\
from celery import Celery

app = Celery("shop")


@app.task(name="shop.tag")
def tag(sku: str) -> None: ...


@app.task
def restock(sku: str, count: int) -> None: ...
"""

CALLS = """\
from celery import signature
from proj.tasks import app

app.send_task("shop.tags", args=("A-1",))
app.send_task("proj.tasks.restok", args=("A-1", 2))
signature("proj.tasks.restocks", args=("A-1", 2))
app.send_task("billing.charge", args=(12,))
app.send_task("proj.tasks.restock", args=("A-1", "two"))
"""

UNIMPORTED = """\
from celery import Celery

app = Celery("other")
app.send_task("shop.tags", args=("A-1",))
"""

EXPECTED = [
    "calls.py:4: error: unknown task name 'shop.tags': no task of this module or of the modules it imports is "
    "registered under it; did you mean 'shop.tag'?",
    "calls.py:5: error: unknown task name 'proj.tasks.restok': no task of this module or of the modules it imports "
    "is registered under it; did you mean 'proj.tasks.restock'?",
    "calls.py:6: error: unknown task name 'proj.tasks.restocks': no task of this module or of the modules it "
    "imports is registered under it; did you mean 'proj.tasks.restock'?",
    # A name that is found is checked like a call of the task: proves the plugin ran on the exact name.
    'calls.py:8: error: Argument 2 to "send_task" of "restock" has incompatible type',
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "__init__.py").write_text("")
    (tmp_path / "proj" / "tasks.py").write_text(TASKS)
    (tmp_path / "calls.py").write_text(CALLS)
    (tmp_path / "other.py").write_text(UNIMPORTED)
    (tmp_path / "mypy.ini").write_text("[mypy]\nplugins = celery_boundary.mypy\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def errors(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if ": error:" in line]


def matches(found: list[str]) -> bool:
    return len(found) == len(EXPECTED) and all(line.startswith(want) for line, want in zip(found, EXPECTED))


def run(root: Path) -> list[str]:
    stdout, _, _ = api.run(["--cache-dir", str(root / ".mypy_cache"), "--config-file", "mypy.ini",
                            "calls.py", "other.py", "proj"])
    return errors(stdout)


def test_typos_are_reported_cold_and_warm_and_other_names_are_silent(project: Path) -> None:
    cold = run(project)
    assert matches(cold), cold
    assert all("[celery-unknown-task]" in line for line in cold[:3])
    (project / "calls.py").write_text(CALLS + "\n# edited\n")
    assert run(project) == cold


def test_the_daemon_keeps_the_typos(project: Path, dmypy_runs: DaemonRuns) -> None:
    runs = dmypy_runs(project, lambda: (project / "calls.py").write_text(CALLS + "\n# edited\n"))
    for result in runs:
        assert matches(errors(result.stdout)), result.stdout + result.stderr
