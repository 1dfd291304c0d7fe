"""Which files ``check`` reads: the .py files under the given paths, minus virtualenvs, VCS and build
directories and the ``exclude`` patterns (fnmatch, matched against the name and the relative path, as
flake8's ``--exclude`` does). A file named explicitly on the command line is always checked.

Test suites and examples (``test_paths``: ``tests``, ``t``, ``examples``, ``test_*.py`` ...) are left
out of a walk too, and counted by the pattern that matched, for the summary line; a folder named on
the command line that is itself one of them (``check tests/``) is walked whole.

Only regular files are read: a FIFO, a socket or a device named ``x.py`` would block or never end, and
a dangling link or a link loop has nothing to read. Those are returned as skipped, with the reason, and
``check`` reports them as CB001 (a file not checked). ``read_source`` opens without blocking and checks
again on the open descriptor (the file may have changed since the walk).
"""

from __future__ import annotations

import fnmatch
import os
import stat
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


#: A skipped path and why it was not read.
Skipped = tuple[Path, str]


class NotRegularFile(OSError):
    """The path names something other than a regular file (a FIFO, a device, a link to nothing)."""


def discover(paths: Sequence[str], exclude: Iterable[str] = ()) -> list[Path]:
    """Every regular .py file under ``paths`` in a stable order; a missing path is a usage error."""
    return discover_with_skips(paths, exclude)[0]


def discover_with_skips(paths: Sequence[str], exclude: Iterable[str] = (),
                        tests: Sequence[str] = ()) -> tuple[list[Path], list[Skipped]]:
    """(every regular .py file under ``paths``, every .py path found but not readable as a file)."""
    files, skipped, _ = discover_project(paths, exclude, tests)
    return files, skipped


def discover_project(paths: Sequence[str], exclude: Iterable[str] = (),
                     tests: Sequence[str] = ()) -> tuple[list[Path], list[Skipped], dict[str, int]]:
    """``discover_with_skips``, and how many .py files each pattern of ``tests`` left out."""
    patterns = (*DEFAULT_EXCLUDE, *exclude)
    found: dict[Path, None] = {}
    skipped: dict[Path, str] = {}
    left_out: dict[str, int] = {}
    for raw in paths or (".",):
        root = Path(raw)
        if root.is_dir():
            named = any(_matching(Path(part), tests) for part in (*root.parts, resolved(root).name))
            files, odd = _walk(root, patterns, () if named else tuple(tests), left_out)
            found.update(dict.fromkeys(files))
            skipped.update(odd)
        elif os.path.lexists(root):
            problem = why_not_regular(root)
            if problem is None:
                found[root] = None
            else:
                skipped[root] = problem
        else:
            raise UsageError(f"{raw}: no such file or directory")
    return list(found), sorted(skipped.items()), left_out


def _walk(root: Path, patterns: tuple[str, ...], tests: tuple[str, ...] = (),
          left_out: dict[str, int] | None = None) -> tuple[list[Path], dict[Path, str]]:
    result: list[Path] = []
    skipped: dict[Path, str] = {}
    counts = left_out if left_out is not None else {}
    # os.walk does not follow links to folders (followlinks=False): a link loop is never entered.
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        dirs[:] = sorted(d for d in dirs if not _excluded(base / d, patterns))
        for name in [d for d in dirs if _matching(base / d, tests)]:
            dirs.remove(name)
            pattern = _matching(base / name, tests)
            inside = len(_walk(base / name, patterns)[0])
            if pattern is not None and inside:  # a folder of fixtures with no .py file is no test code
                counts[pattern] = counts.get(pattern, 0) + inside
        for name in sorted(files):
            path = base / name
            if not name.endswith(".py") or _excluded(path, patterns):
                continue
            pattern = _matching(path, tests)
            if pattern is not None:
                counts[pattern] = counts.get(pattern, 0) + 1
                continue
            problem = why_not_regular(path)
            if problem is None:
                result.append(path)
            else:
                skipped[path] = problem
    return result, skipped


def why_not_regular(path: Path) -> str | None:
    """None for a regular file (or a link to one); else why it is not read."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if os.path.islink(path):
            return "a symbolic link that leads nowhere (dangling, or a loop)"
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return None
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else \
        "a folder" if stat.S_ISDIR(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special"
    return f"not a regular file ({kind}); only regular files are read"


def read_source(path: Path) -> bytes:
    """The bytes of a regular file; raises OSError (``NotRegularFile`` for a FIFO or a device) instead
    of blocking: the file is opened with O_NONBLOCK and checked on the open descriptor."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotRegularFile(f"{path}: not a regular file")
        with os.fdopen(descriptor, "rb", closefd=False) as stream:
            return stream.read()
    finally:
        os.close(descriptor)


def resolved(path: Path) -> Path:
    """``path.resolve()``, or the absolute path when links loop (Python 3.11 raises RuntimeError)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _excluded(path: Path, patterns: tuple[str, ...]) -> bool:
    return _matching(path, patterns) is not None


def _matching(path: Path, patterns: Iterable[str]) -> str | None:
    """The first pattern that matches the path's name or its relative path."""
    text = path.as_posix()
    text = text[2:] if text.startswith("./") else text
    return next((p for p in patterns if fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(text, p)), None)


def display_link(path: Path) -> str:
    """How reports name a path that is not followed (a dangling link, a loop): its own name."""
    folder = display(path.parent)
    return path.name if folder == "." else f"{folder}/{path.name}"


def display(path: Path) -> str:
    """The path as reports show it: relative to the working directory when inside it, with '/'."""
    try:
        return resolved(path).relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
