"""No dead code in src/celery_boundary, as vulture finds it (configuration: [tool.vulture] in
pyproject.toml; names used only from outside the package: tests/vulture_whitelist.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_vulture_finds_no_dead_code() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vulture", "--config", "pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (
        "vulture found code nothing uses; delete it, or list it in tests/vulture_whitelist.py if it is "
        "used from outside the package (a host tool's hook, an attribute a library reads):\n"
        + done.stdout
        + done.stderr
    )
