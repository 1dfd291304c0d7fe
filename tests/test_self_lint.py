"""The project holds itself to its own bar: flake8 (pycodestyle, pyflakes and its own CB rules, per
.flake8) and mypy --strict over src/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_flake8_with_the_cb_rules_is_clean() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "src", "scripts", "benchmarks", "noxfile.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), "src"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
