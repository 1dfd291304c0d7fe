"""``[tool.celery_boundary] app`` unset: the plugin finds the app module itself (M1, docs/validation.md).

taiga and paperless set a pickle-family serializer in Django settings read through
``config_from_object("django.conf:settings", namespace="CELERY")``; without ``app`` the plugin used
to judge their set and int-keyed arguments against json. Each test writes a small project with no
``app`` key and runs mypy (this venv's, in process) on it.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mypy import api

from celery_boundary.mypy.startup.appscan import UNDETERMINED
from celery_boundary.mypy.startup.discovery import CELERY_CALL, _calls_celery, discover_app

DaemonRuns = Callable[..., list[subprocess.CompletedProcess[str]]]

DJANGO_APP = """\
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
"""

TASKS = """\
from proj.celery import app


@app.task
def tag(ids: set[int]) -> None: ...
"""

CALLS = """\
from proj.tasks import tag

tag.delay({1, 2})
"""

SET_ERROR = 'calls.py:3: error: "tag.delay" argument "ids" (set[int]) cannot cross with the json serializer'


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def project(root: Path, settings: str, **extra: str) -> Path:
    """A Django-style project whose settings module is ``settings``; no ``app`` configured."""
    write(root, {
        "mypy.ini": "[mypy]\nplugins = celery_boundary.mypy\n",
        "proj/__init__.py": "",
        "proj/celery.py": DJANGO_APP,
        "proj/settings.py": settings,
        "proj/tasks.py": TASKS,
        "calls.py": CALLS,
        **extra,
    })
    return root


def errors(root: Path, incremental: bool = False) -> list[str]:
    flags = ["--cache-dir", str(root / ".mypy_cache")] if incremental else ["--no-incremental"]
    stdout, stderr, _ = api.run([*flags, "--config-file", str(root / "mypy.ini"), "calls.py", "proj"])
    assert "INTERNAL ERROR" not in stdout + stderr and "celery-internal" not in stdout
    return [line for line in stdout.splitlines() if ": error:" in line or ": note:" in line]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_pickle_in_django_settings_carries_a_set(tmp_path: Path) -> None:
    project(tmp_path, 'CELERY_TASK_SERIALIZER = "pickle"\n')
    assert errors(tmp_path) == []


def test_json_settings_still_report_the_set(tmp_path: Path) -> None:
    project(tmp_path, 'CELERY_TASK_SERIALIZER = "json"\n')
    found = errors(tmp_path)
    assert any(line.startswith(SET_ERROR) for line in found), found


def test_no_serializer_setting_is_celerys_json_default(tmp_path: Path) -> None:
    project(tmp_path, 'DEBUG = True\n')
    assert any(line.startswith(SET_ERROR) for line in errors(tmp_path))


def test_app_kwargs_and_celeryconfig_are_read(tmp_path: Path) -> None:
    write(tmp_path, {"mypy.ini": "[mypy]\nplugins = celery_boundary.mypy\n", "proj/__init__.py": "",
                     "proj/celery.py": 'from celery import Celery\n\napp = Celery("proj")\n'
                                       'app.config_from_object("proj.celeryconfig")\n',
                     "proj/celeryconfig.py": 'task_serializer = "pickle"\n',
                     "proj/tasks.py": TASKS, "calls.py": CALLS})
    assert errors(tmp_path) == []


@pytest.mark.parametrize(("init", "reported"), [
    ("from .base import *\n", False),
    ('from .base import *\n\nCELERY_TASK_SERIALIZER = "json"\n', True),  # later assignment wins
    ('from proj.settings.base import *\n', False),
])
def test_django_settings_package_star_imports_are_followed(tmp_path: Path, init: str, reported: bool) -> None:
    project(tmp_path, "", **{"proj/settings/__init__.py": init,
                             "proj/settings/base.py": 'CELERY_TASK_SERIALIZER = "pickle"\n'})
    (tmp_path / "proj" / "settings.py").unlink()
    assert any(line.startswith(SET_ERROR) for line in errors(tmp_path)) is reported


def test_two_apps_that_disagree_are_silent(tmp_path: Path) -> None:
    project(tmp_path, 'CELERY_TASK_SERIALIZER = "pickle"\n', **{
        "worker/__init__.py": "",
        "worker/app.py": 'from celery import Celery\n\nworker = Celery("w", task_serializer="json")\n',
    })
    assert errors(tmp_path) == []
    facts = discover_app(tmp_path, [tmp_path])
    assert facts.discovered == ["proj.celery", "worker.app"]
    assert facts.task_serializer == UNDETERMINED


def test_two_apps_sharing_settings_agree_and_each_file_is_watched_once(tmp_path: Path) -> None:
    # bookwyrm: two modules create an app, both configured from the same Django settings.
    project(tmp_path, 'CELERY_TASK_SERIALIZER = "pickle"\n', **{"proj/worker.py": DJANGO_APP})
    facts = discover_app(tmp_path, [tmp_path])
    assert facts.discovered == ["proj.celery", "proj.worker"]
    assert facts.task_serializer == "pickle"
    assert sorted(facts.files) == sorted(set(facts.files))
    assert str(tmp_path / "proj" / "settings.py") in facts.files


def test_serializer_from_the_environment_is_silent(tmp_path: Path) -> None:
    project(tmp_path, 'import os\n\nCELERY_TASK_SERIALIZER = os.environ.get("SERIALIZER", "json")\n')
    assert errors(tmp_path) == []


def test_settings_module_that_cannot_be_found_is_silent(tmp_path: Path) -> None:
    project(tmp_path, "")
    (tmp_path / "proj" / "celery.py").write_text(DJANGO_APP.replace('"proj.settings"', '"elsewhere.settings"'))
    assert errors(tmp_path) == []


def test_test_apps_and_virtualenvs_are_not_the_project_app(tmp_path: Path) -> None:
    project(tmp_path, 'CELERY_TASK_SERIALIZER = "pickle"\n', **{
        "tests/app.py": 'from celery import Celery\n\napp = Celery("t", task_serializer="json")\n',
        "proj/test_worker.py": 'from celery import Celery\n\napp = Celery("t", task_serializer="json")\n',
        ".venv/lib/site.py": 'from celery import Celery\n\napp = Celery("v", task_serializer="json")\n',
        "proj/docs.py": 'from celery import Celery\n\nEXAMPLE = """\napp = Celery("x")\n"""\n',
    })
    facts = discover_app(tmp_path, [tmp_path])
    assert facts.discovered == ["proj.celery"]
    assert facts.task_serializer == "pickle"
    assert errors(tmp_path) == []


WORKER = 'from celery import Celery\n\nworker = Celery("w", task_serializer="pickle")\n'
#: A task no one app made: judged by what every app agrees on (a task made by ``@app.task`` is
#: judged by its own app, whatever other apps say: tests/mypy/test_several_apps.py).
SHARED_TASKS = TASKS.replace("from proj.celery import app", "from celery import shared_task").replace(
    "@app.task", "@shared_task"
)


def test_an_app_module_added_later_is_found_by_the_next_run(tmp_path: Path) -> None:
    project(tmp_path, "", **{"proj/tasks.py": SHARED_TASKS})
    cold = errors(tmp_path, incremental=True)
    assert any(line.startswith(SET_ERROR) for line in cold)
    # A second app that disagrees (pickle against json): the serializer is undetermined, so silence
    # at the call and a note at the shared task.
    write(tmp_path, {"worker/__init__.py": "", "worker/app.py": WORKER})
    warm = errors(tmp_path, incremental=True)
    assert [line for line in warm if ": error:" in line] == []
    assert any(line.startswith("proj/tasks.py:5: note: Task \"tag\" is not tied to one app") for line in warm), warm
    (tmp_path / "worker" / "app.py").unlink()
    assert errors(tmp_path, incremental=True) == cold


def test_the_daemon_finds_an_app_module_added_later(tmp_path: Path, dmypy_runs: DaemonRuns) -> None:
    project(tmp_path, "", **{"proj/tasks.py": SHARED_TASKS})
    first, second = dmypy_runs(tmp_path, lambda: write(tmp_path, {"worker/__init__.py": "", "worker/app.py": WORKER}))
    assert SET_ERROR in first.stdout, first.stdout + first.stderr
    assert ": error:" not in second.stdout, second.stdout + second.stderr


def test_cold_and_warm_runs_agree_and_a_settings_edit_is_seen(tmp_path: Path) -> None:
    project(tmp_path, 'CELERY_TASK_SERIALIZER = "json"\n')
    cold = errors(tmp_path, incremental=True)
    assert any(line.startswith(SET_ERROR) for line in cold)
    assert errors(tmp_path, incremental=True) == cold
    # The settings module is read outside mypy: its fingerprint must invalidate the cache.
    (tmp_path / "proj" / "settings.py").write_text('CELERY_TASK_SERIALIZER = "pickle"\n')
    assert errors(tmp_path, incremental=True) == []
    assert errors(tmp_path, incremental=True) == []


def test_daemon_follows_an_edited_discovered_settings_module(tmp_path: Path, dmypy_runs: DaemonRuns) -> None:
    """dmypy keeps one plugin across runs: the discovered settings file is watched like the ``app`` module's."""
    project(tmp_path, 'CELERY_TASK_SERIALIZER = "pickle"\n')
    settings = tmp_path / "proj" / "settings.py"
    first, second = dmypy_runs(tmp_path, lambda: settings.write_text('CELERY_TASK_SERIALIZER = "json"\n'))
    assert ": error:" not in first.stdout, first.stdout + first.stderr
    assert any(line.startswith(SET_ERROR) for line in second.stdout.splitlines()), second.stdout + second.stderr


LINES = st.sampled_from(
    [
        b"app = Celery('proj')",
        b"    app: Celery = Celery(__name__)",
        b"return celery.Celery ('x')",
        b"x = CeleryError('boom')",
        b"# Celery('commented')",
        b"from celery import Celery",
        b"value = compute(Celery)",
        b"settings = {'a': 1}",
        b"Celery(",
        b"",
    ]
)


@given(st.lists(LINES, max_size=12), st.sampled_from([b"\n", b"\r\n"]))
def test_the_line_by_line_app_test_agrees_with_the_whole_file_search(lines: list[bytes], newline: bytes) -> None:
    source = newline.join(lines)
    assert _calls_celery(source) == bool(CELERY_CALL.search(source))
