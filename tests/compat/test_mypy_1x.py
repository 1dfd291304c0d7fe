"""The plugin supports the latest mypy 1.x as well as 2.x: run the plugin's own suite under mypy 1.20.

A separate virtual environment is built with the same dev dependencies and mypy pinned to 1.20.2,
then tests/mypy runs inside it. Marked slow: it installs packages (from PyPI or pip's cache).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MYPY_1X = "mypy==1.20.2"


@pytest.mark.slow
def test_plugin_suite_passes_on_mypy_1x(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "-e", f"{ROOT}[dev]", MYPY_1X],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    version = subprocess.run([python, "-m", "mypy", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("mypy 1.20.2"), version.stdout
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "pt"), "tests/mypy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-4000:]
