"""Run the pytest-mypy-plugins cases with this venv's mypy and the shared mypy.ini (plugin on)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    # pytest-mypy-plugins looks mypy up on PATH; use the interpreter's own (the project venv).
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    option = config.option
    if getattr(option, "mypy_ini_file", None) is None and getattr(option, "mypy_pyproject_toml_file", None) is None:
        option.mypy_ini_file = str(HERE / "mypy.ini")
