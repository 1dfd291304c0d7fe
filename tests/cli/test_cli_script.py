"""The installed console script (pyproject [project.scripts]) runs end to end in a fresh process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import write


def script() -> str:
    beside = Path(sys.executable).with_name("celery-boundary")
    found = str(beside) if beside.is_file() else shutil.which("celery-boundary")
    if found is None:
        pytest.fail("the celery-boundary console script is not installed (pip install -e .)")
    return found


def test_the_console_script_lists_rules_and_reports_usage_errors(tmp_path: Path) -> None:
    listed = subprocess.run([script(), "rules"], capture_output=True, text=True, cwd=tmp_path)
    assert listed.returncode == 0
    assert ["CB101", "pickle-serializer"] in [line.split()[:2] for line in listed.stdout.splitlines()]
    bad = subprocess.run([script(), "check", "nowhere"], capture_output=True, text=True, cwd=tmp_path)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == "celery-boundary: error: nowhere: no such file or directory\n"


def test_the_console_script_checks_a_tree(tmp_path: Path) -> None:
    write(tmp_path, "ok.py", "x = 1\n")
    done = subprocess.run([script(), "check", "--format", "json"], capture_output=True, text=True, cwd=tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr
