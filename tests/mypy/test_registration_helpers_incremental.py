"""A registration made through the project's own helper (the decorator-factory class of
tests/truth/test_registration_helpers.py) gives the same diagnostics cold, warm and under the daemon,
after editing the helper, the registering call or a call site."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from mypy import api

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "truth"))
from test_registration_helpers import SEED_HELPER  # noqa: E402

DaemonRuns = Callable[..., list[subprocess.CompletedProcess[str]]]

APP = """\
from celery import Celery
from pydantic import BaseModel
from proj.serialization import PydanticModelDump, register_preserializer

app = Celery("proj")
register_preserializer(PydanticModelDump)(BaseModel)
"""

TASKS = """\
from pydantic import BaseModel
from proj.app import app


class Invoice(BaseModel):
    amount: int


class Refund(Invoice):
    reason: str = "late"


@app.task
def refund(refund: Refund) -> None: ...


@app.task
def tag(tags: set[str]) -> None: ...
"""

CALLS = """\
from proj.tasks import Refund, refund, tag

refund.delay(Refund(amount=1))
tag.delay({"a"})
"""

#: Present in every run: proves the plugin ran.
PROBE = 'calls.py:4: error: "tag.delay" argument "tags" (set[str]) cannot cross with the json serializer'
LOSSY = 'calls.py:3: error: "refund.delay" argument "refund" (Refund) arrives as BaseModel'
UNSERIALIZABLE = 'calls.py:3: error: "refund.delay" argument "refund" (Refund) cannot cross'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "__init__.py").write_text("")
    (tmp_path / "proj" / "serialization.py").write_text(textwrap.dedent(SEED_HELPER).lstrip())
    (tmp_path / "proj" / "app.py").write_text(APP)
    (tmp_path / "proj" / "tasks.py").write_text(TASKS)
    (tmp_path / "calls.py").write_text(CALLS)
    (tmp_path / "mypy.ini").write_text("[mypy]\nplugins = celery_boundary.mypy\n\n[celery_boundary]\napp = proj.app\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_mypy(root: Path) -> list[str]:
    stdout, _, _ = api.run(["--cache-dir", str(root / ".mypy_cache"), "--config-file", str(root / "mypy.ini"),
                            "calls.py", "proj"])
    return [line for line in stdout.splitlines() if ": error:" in line]


def starts(lines: list[str], *prefixes: str) -> bool:
    return len(lines) == len(prefixes) and all(line.startswith(p) for line, p in zip(lines, prefixes))


def forget_the_class(root: Path) -> None:
    """Edit the helper's encoder so that it no longer records the value's class."""
    helper = root / "proj" / "serialization.py"
    text = helper.read_text()
    edited = text.replace('"module": obj.__class__.__module__', '"module": "pydantic"').replace(
        '"qualname": obj.__class__.__qualname__', '"qualname": "BaseModel"')
    assert edited != text
    helper.write_text(edited)


def test_cold_then_edits_of_call_site_helper_and_registration(project: Path) -> None:
    assert starts(run_mypy(project), PROBE)
    (project / "calls.py").write_text(CALLS + "\n# edited\n")
    assert starts(run_mypy(project), PROBE)
    forget_the_class(project)
    edited_helper = run_mypy(project)
    assert starts(edited_helper, LOSSY, PROBE), edited_helper
    (project / "proj" / "app.py").write_text(APP.replace("register_preserializer(PydanticModelDump)(BaseModel)", ""))
    unregistered = run_mypy(project)
    assert starts(unregistered, UNSERIALIZABLE, PROBE), unregistered
    # A cold run on the edited project agrees with the warm one.
    cold = api.run(["--no-incremental", "--config-file", str(project / "mypy.ini"), "calls.py", "proj"])[0]
    assert [line for line in cold.splitlines() if ": error:" in line] == unregistered


def test_the_daemon_follows_the_helper_and_the_registration(project: Path, dmypy_runs: DaemonRuns) -> None:
    app = project / "proj" / "app.py"
    runs = dmypy_runs(
        project,
        lambda: (project / "calls.py").write_text(CALLS + "\n# edited\n"),
        lambda: forget_the_class(project),
        lambda: app.write_text(APP.replace("register_preserializer(PydanticModelDump)(BaseModel)", "")),
    )
    errors = [[line for line in run.stdout.splitlines() if ": error:" in line] for run in runs]
    assert starts(errors[0], PROBE), runs[0].stdout + runs[0].stderr
    assert starts(errors[1], PROBE), runs[1].stdout + runs[1].stderr
    assert starts(errors[2], LOSSY, PROBE), runs[2].stdout + runs[2].stderr
    assert starts(errors[3], UNSERIALIZABLE, PROBE), runs[3].stdout + runs[3].stderr
