"""Type checkers run on a client of generated stubs as its own CI would: mypy without our plugin (and
without any configuration of ours) and basedpyright, the command-line pyright Pylance shares its checker
with. Each returns ``(path, line, message)`` rows for the errors, and nothing else."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

_MYPY_ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<message>.*)$")
Row = tuple[str, int, str]


def mypy_errors(root: Path, *paths: str, cache: Path) -> set[Row]:
    """``mypy --strict`` with an empty configuration (so no plugin), run in ``root``."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file=", "--strict", "--cache-dir", str(cache),
         "--no-error-summary", "--show-error-codes", *paths],
        cwd=root, capture_output=True, text=True,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return {(Path(m["path"]).as_posix(), int(m["line"]), m["message"])
            for m in map(_MYPY_ERROR.match, done.stdout.splitlines()) if m}


def pyright_errors(root: Path, *paths: str) -> set[Row]:
    """basedpyright run in ``root``, in pyright's standard mode (what Pylance checks by default) unless
    ``root`` has a pyproject.toml of its own; skips where the ``test`` extra's basedpyright is missing."""
    if importlib.util.find_spec("basedpyright") is None:
        pytest.skip("basedpyright is not installed (pip install -e '.[test]')")
    if not (root / "pyproject.toml").is_file():  # a project's own [tool.basedpyright] applies as it is
        (root / "pyrightconfig.json").write_text('{"typeCheckingMode": "standard"}\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "basedpyright", "--pythonpath", sys.executable, "--outputjson", *paths],
        cwd=root, capture_output=True, text=True,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return {(Path(d["file"]).relative_to(root).as_posix(), d["range"]["start"]["line"] + 1,
             d["message"].replace("\xa0", " "))  # pyright indents its detail lines with no-break spaces
            for d in json.loads(done.stdout)["generalDiagnostics"] if d["severity"] == "error"}
