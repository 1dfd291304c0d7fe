"""The mypy plugin over large real packages (issue 7, item 3): the sources of kombu, pydantic and Django
(about 860 modules, copied from the venv so that mypy checks the code and not the stubs) next to a probe
module that the plugin must report on (so it provably ran, with celery-types), then Celery's own sources
(161 modules, in place of celery-types). Their type errors are expected and ignored; an
``INTERNAL ERROR``, a traceback or a ``celery-internal`` diagnostic (the plugin's guard around its hooks)
fails. Slow: about 20 seconds on one core (2026-11-22, mypy 2.4.1).
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = ("from celery import Celery\napp = Celery('x')\n\n\n@app.task\ndef t(x: set[int]) -> None: ...\n\n\n"
         "t.delay({1})\n")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyi", "locale", "static", "templates", "*.mo")


def copy_sources(root: Path, packages: tuple[str, ...]) -> int:
    count = 0
    for name in packages:
        module = importlib.import_module(name)
        assert module.__file__ is not None
        source = Path(module.__file__).parent
        shutil.copytree(source, root / name, ignore=_IGNORE)
        count += sum(1 for _ in (root / name).rglob("*.py"))
    return count


def run_mypy(root: Path, packages: tuple[str, ...], *files: str) -> str:
    (root / "mypy.ini").write_text(
        "[mypy]\nplugins = celery_boundary.mypy\nignore_missing_imports = True\nfollow_imports = silent\n")
    args = [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", "cache", "--show-traceback",
            "--no-error-summary", *files, *packages]
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=600)
    text = done.stdout + done.stderr
    assert done.returncode in (0, 1), text[-3000:]
    assert "INTERNAL ERROR" not in text, text[-3000:]
    assert "Traceback (most recent call last)" not in text, text[-3000:]
    assert "[celery-internal]" not in text, text[-3000:]
    # mypy checked the copied sources (their own errors name the files), not only installed stubs.
    checked = {line.split("/", 1)[0] for line in done.stdout.splitlines() if "/" in line.split(":", 1)[0]}
    assert checked >= set(packages), checked
    return done.stdout


@pytest.mark.slow
def test_the_plugin_never_crashes_on_large_packages(tmp_path: Path) -> None:
    packages = ("kombu", "pydantic", "django")
    assert copy_sources(tmp_path, packages) > 800  # only worth something if it is large
    (tmp_path / "boundary_probe.py").write_text(PROBE)
    out = run_mypy(tmp_path, packages, "boundary_probe.py")
    assert any(line.startswith("boundary_probe.py:9:") and "[celery-unserializable]" in line
               for line in out.splitlines()), out[-3000:]


@pytest.mark.slow
def test_the_plugin_never_crashes_on_celerys_own_sources(tmp_path: Path) -> None:
    assert copy_sources(tmp_path, ("celery",)) > 150
    run_mypy(tmp_path, ("celery",))
