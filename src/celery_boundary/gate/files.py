"""Which files ``check`` reads: the .py files under the given paths, minus virtualenvs, VCS and build
directories and the ``exclude`` patterns (fnmatch, matched against the name and the relative path, as
flake8's ``--exclude`` does). A file named explicitly on the command line is always checked.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from celery_boundary.gate.errors import UsageError

#: Directories never worth reading (flake8's default exclude plus virtualenvs and build output).
DEFAULT_EXCLUDE: Final = (
    ".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".nox", ".eggs", "*.egg",
    ".venv", "venv", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist", "node_modules",
    "site-packages",
)


def discover(paths: Sequence[str], exclude: Iterable[str] = ()) -> list[Path]:
    """Every .py file under ``paths`` in a stable order; a missing path is a usage error."""
    patterns = (*DEFAULT_EXCLUDE, *exclude)
    found: dict[Path, None] = {}
    for raw in paths or (".",):
        root = Path(raw)
        if root.is_file():
            found[root] = None
        elif root.is_dir():
            found.update(dict.fromkeys(_walk(root, patterns)))
        else:
            raise UsageError(f"{raw}: no such file or directory")
    return list(found)


def _walk(root: Path, patterns: tuple[str, ...]) -> list[Path]:
    result: list[Path] = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        dirs[:] = sorted(d for d in dirs if not _excluded(base / d, patterns))
        result.extend(
            base / name for name in sorted(files)
            if name.endswith(".py") and not _excluded(base / name, patterns)
        )
    return result


def _excluded(path: Path, patterns: tuple[str, ...]) -> bool:
    text = path.as_posix()
    text = text[2:] if text.startswith("./") else text
    return any(fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(text, p) for p in patterns)


def display(path: Path) -> str:
    """The path as reports show it: relative to the working directory when inside it, with '/'."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
