"""Run the pytest-mypy-plugins cases with this venv's mypy and the shared mypy.ini (plugin on);
the ``dmypy_runs`` fixture for the daemon tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

Runs = list[subprocess.CompletedProcess[str]]

HERE = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    # pytest-mypy-plugins looks mypy up on PATH; use the interpreter's own (the project venv).
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    option = config.option
    if getattr(option, "mypy_ini_file", None) is None and getattr(option, "mypy_pyproject_toml_file", None) is None:
        option.mypy_ini_file = str(HERE / "mypy.ini")
    # pytest-mypy-plugins keeps its cases and mypy's cache under the system temporary directory by
    # default (/tmp/.mypy_cache[/<xdist worker>]), shared by every run on the machine; this run gets
    # a directory of its own, removed at the end.
    if getattr(option, "mypy_testing_base", None) == tempfile.gettempdir():
        option.mypy_testing_base = tempfile.mkdtemp(prefix="celery-boundary-mypy-cases-")
        config.add_cleanup(lambda: shutil.rmtree(option.mypy_testing_base, ignore_errors=True))


def _dmypy_runs(root: Path, *edits: Callable[[], object]) -> Runs:
    """``dmypy run -- --config-file mypy.ini calls.py proj`` in ``root``: once, then once after each
    edit. One daemon serves every run (the point of these tests); it is stopped whatever happens."""
    dmypy = [sys.executable, "-m", "mypy.dmypy", "--status-file", str(root / ".dmypy.json")]
    command = [*dmypy, "run", "--", "--config-file", "mypy.ini", "calls.py", "proj"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    runs: Runs = []
    try:
        for edit in (None, *edits):
            if edit is not None:
                edit()
            runs.append(subprocess.run(command, capture_output=True, text=True, cwd=root, env=env, timeout=120))
    finally:
        subprocess.run([*dmypy, "stop"], capture_output=True, cwd=root, env=env, timeout=60)
    return runs


@pytest.fixture
def dmypy_runs() -> Callable[..., Runs]:
    return _dmypy_runs
