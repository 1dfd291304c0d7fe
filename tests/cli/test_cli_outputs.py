"""What ``fix --diff`` and ``check`` print around the findings: one patch per file that ``git apply`` and
``patch`` take, the summary line in every format, ``--statistics``, ``--show-source``, colours, the GitLab
Code Quality report, and flake8 and ``check`` agreeing on which rules are on."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main

TASKS = '''
from celery import chain, shared_task


@shared_task(serializer="pickle")
def fetch(x):
    return x


@shared_task
def total(x):
    return x


def flow():
    return chain(fetch.s(1), total.s()).delay()
'''
FLOWS = '''
from celery import chain

from app.tasks import fetch, total


def other():
    return chain(fetch.s(2), total.s()).apply_async(serializer="pickle")
'''
SETTINGS = '''
from celery.schedules import crontab

accept_content = ["json", "pickle"]
beat_schedule = {
    "nightly": {"task": "app.tasks.nightly", "schedule": crontab(hour=3), "options": {"expires": 60}},
}
'''


def two_fixes_per_file(root: Path) -> None:
    """Every file is touched twice: tasks.py by CB103 and the CB202 rename, flows.py by the rename's
    import and call and by CB103, settings.py by CB102 and CB402."""
    write(root, "app/__init__.py", "")
    write(root, "app/tasks.py", TASKS)
    write(root, "app/flows.py", FLOWS)
    write(root, "app/settings.py", SETTINGS)


def git(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, text=True, check=False)


@pytest.fixture
def patched(project: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]) -> tuple[
        str, Path, Path]:
    """(the diff ``fix --diff --unsafe-fixes`` prints, a git repository holding the tree before it, the
    project after ``fix --unsafe-fixes`` wrote it)."""
    two_fixes_per_file(project)
    repo = tmp_path_factory.mktemp("repo")
    shutil.copytree(project / "app", repo / "app")
    assert git(repo, "init", "-q").returncode == 0
    assert main(["fix", "--diff", "--unsafe-fixes"]) == 1
    diff = capsys.readouterr().out
    assert main(["fix", "-q", "--unsafe-fixes"]) == 0
    return diff, repo, project


def test_fix_diff_prints_one_patch_per_file_however_many_fixes_touch_it(patched: tuple[str, Path, Path]) -> None:
    diff, _, _ = patched
    headers = [line for line in diff.splitlines() if line.startswith(("--- ", "+++ "))]
    assert headers == ["--- a/app/flows.py", "+++ b/app/flows.py", "--- a/app/settings.py", "+++ b/app/settings.py",
                       "--- a/app/tasks.py", "+++ b/app/tasks.py"]
    assert '-from app.tasks import fetch, total\n+from app.tasks import fetch, _total\n' in diff  # the rename
    assert 'apply_async(serializer="json")' in diff  # and CB103, in the same file's patch
    assert '+accept_content = ["json"]\n' in diff and "crontab(minute=0, hour=3)" in diff


def test_git_apply_takes_the_diff_and_gives_what_fix_writes(patched: tuple[str, Path, Path]) -> None:
    diff, repo, fixed = patched
    check = git(repo, "apply", "--check", "-", stdin=diff)
    assert check.returncode == 0, check.stderr
    assert git(repo, "apply", "-", stdin=diff).returncode == 0
    for name in ("tasks.py", "flows.py", "settings.py"):
        assert (repo / "app" / name).read_text() == (fixed / "app" / name).read_text(), name


def test_patch_takes_the_diff(patched: tuple[str, Path, Path]) -> None:
    if shutil.which("patch") is None:
        pytest.skip("GNU patch is not installed (apt-get install patch); git apply is tested above")
    diff, repo, _ = patched
    dry = subprocess.run(["patch", "-p1", "--dry-run"], cwd=repo, input=diff, capture_output=True, text=True,
                         check=False)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert dry.stdout.count("checking file") == 3
