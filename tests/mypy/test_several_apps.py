"""Several apps in one repository: what discovery reads per app variable, and the app of a task
surviving mypy's cache and daemon (cold run, edited call site, warm run, dmypy).

The verdicts themselves are cases in test_several_apps.yml.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from mypy import api

from celery_boundary.mypy.startup.appscan import UNDETERMINED, AppVariable, scan_app
from celery_boundary.mypy.startup.discovery import discover_app

DaemonRuns = Callable[..., list[subprocess.CompletedProcess[str]]]

APPS = """\
from celery import Celery

app = Celery("proj")
legacy: Celery = Celery("legacy", task_serializer="pickle")
legacy.conf.result_serializer = "pickle"
batch = Celery("batch")
batch.config_from_object("proj.batchconfig")
batch.conf.update({"result_serializer": "yaml"})


def make() -> Celery:
    inner = Celery("inner", task_serializer="yaml")  # not a module-level app
    return inner
"""

TASKS = """\
from proj.apps import app, legacy as old


@app.task
def label(ids: set[int]) -> None: ...


@old.task
def reweigh(ids: set[int]) -> None: ...
"""

CALLS = """\
from proj.tasks import label, reweigh

label.delay({1})
reweigh.delay({1})
"""

LABEL_ERROR = 'calls.py:3: error: "label.delay" argument "ids" (set[int]) cannot cross with the json serializer'


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path, {
        "mypy.ini": "[mypy]\nplugins = celery_boundary.mypy\n",
        "proj/__init__.py": "",
        "proj/apps.py": APPS,
        "proj/batchconfig.py": 'task_serializer = "msgpack"\n',
        "proj/tasks.py": TASKS,
        "calls.py": CALLS,
    })
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_mypy(root: Path) -> list[str]:
    stdout, stderr, _ = api.run(["--cache-dir", str(root / ".mypy_cache"), "--config-file", "mypy.ini", "calls.py", "proj"])
    assert "INTERNAL ERROR" not in stdout + stderr and "celery-internal" not in stdout
    return [line for line in stdout.splitlines() if ": error:" in line or ": note:" in line]


def test_each_module_level_app_variable_has_its_own_serializers(project: Path) -> None:
    facts = discover_app(project, [project])
    assert facts.apps == [
        AppVariable("proj.apps.app"),
        AppVariable("proj.apps.legacy", "pickle", "pickle"),
        AppVariable("proj.apps.batch", "msgpack", "yaml"),
    ]
    # The module as a whole: what its apps agree on (nothing here).
    assert facts.task_serializer == facts.result_serializer == UNDETERMINED


def test_a_named_app_variable_is_the_only_one_read(project: Path) -> None:
    facts = scan_app("proj.apps:legacy", [project])
    assert facts.apps == [AppVariable("proj.apps.legacy", "pickle", "pickle")]
    assert (facts.task_serializer, facts.result_serializer) == ("pickle", "pickle")


def test_one_app_keeps_the_module_settings_however_its_conf_is_reached(project: Path) -> None:
    write(project, {"proj/apps.py": """\
        from celery import Celery

        app = Celery("proj")
        conf = app.conf
        app.conf.update(task_serializer="pickle")
        """})
    facts = scan_app("proj.apps", [project])
    assert facts.apps == [AppVariable("proj.apps.app", "pickle", None)]
    assert facts.task_serializer == "pickle"


def test_cold_edit_warm_judge_each_task_by_its_app(project: Path) -> None:
    cold = run_mypy(project)
    assert len(cold) == 1 and cold[0].startswith(LABEL_ERROR), cold
    # Only the call site changes: proj.tasks (where the app of each task was read) comes from the cache.
    (project / "calls.py").write_text(CALLS + "\n# edited\n")
    assert run_mypy(project) == cold
    assert run_mypy(project) == cold


def test_an_edited_app_setting_is_seen_by_the_next_run(project: Path) -> None:
    assert len(run_mypy(project)) == 1
    apps = project / "proj" / "apps.py"
    apps.write_text(apps.read_text().replace('"legacy", task_serializer="pickle"', '"legacy"'))
    after = run_mypy(project)
    assert len(after) == 2 and "reweigh.delay" in after[1], after


def test_the_daemon_judges_each_task_by_its_app(project: Path, dmypy_runs: DaemonRuns) -> None:
    runs = dmypy_runs(project, lambda: (project / "calls.py").write_text(CALLS + "\n# edited\n"))
    for result in runs:
        errors = [line for line in result.stdout.splitlines() if ": error:" in line]
        assert len(errors) == 1 and errors[0].startswith(LABEL_ERROR), result.stdout + result.stderr
