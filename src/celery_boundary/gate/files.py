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

import contextlib
import fnmatch
import functools
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Final

from celery_boundary.analysis.task_names import is_link, module_name, module_names, note_plain, remember_links
from celery_boundary.core.config import Config
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
            named = any(_matching(Path(part), tuple(tests)) for part in (*root.parts, resolved(root).name))
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
    """What ``os.walk`` (top-down, links to folders listed but not entered: a link loop is never
    entered) finds, in the same order, from ``os.scandir`` entries: a regular file that is no link
    needs no ``stat`` of its own. Folders and files matching ``tests`` are left out and counted per
    pattern in ``left_out``. Paths are spelled as ``Path`` spells them (``root / name``)."""
    found, skipped = _walk_texts(str(root), patterns, tests, left_out)
    return [Path(text) for text in found], {Path(text): problem for text, problem in skipped.items()}


def _walk_texts(root: str, patterns: tuple[str, ...], tests: tuple[str, ...] = (),
                left_out: dict[str, int] | None = None) -> tuple[list[str], dict[str, str]]:
    """``_walk`` with paths as text: a ``Path`` is made only of a file that is kept, not of every file
    and folder looked at (nor of the test files that are only counted)."""
    result: list[str] = []
    skipped: dict[str, str] = {}
    counts = left_out if left_out is not None else {}
    plain: list[str] = []  # regular files that are no links (``task_names.is_link``)
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:  # os.walk skips a folder it cannot list
            continue
        below = []
        for entry in entries:
            name, is_dir = entry.name, _is_dir(entry)
            if not is_dir and not name.endswith(".py"):
                continue
            text = name if folder == "." else os.path.join(folder, name)
            posix = text if os.sep == "/" else text.replace(os.sep, "/")
            if _excluded_text(name, posix, patterns):
                continue
            pattern = _matching_text(name, posix, tests) if tests else None
            if is_dir:
                if entry.is_symlink():
                    continue
                if pattern is None:
                    below.append(text)
                    continue
                inside = len(_walk_texts(text, patterns)[0])
                if inside:  # a folder of fixtures with no .py file is no test code
                    counts[pattern] = counts.get(pattern, 0) + inside
                continue
            if pattern is not None:
                counts[pattern] = counts.get(pattern, 0) + 1
                continue
            problem = None if _is_regular(entry) else why_not_regular(Path(text))
            if problem is None:
                result.append(text)
                if not entry.is_symlink():
                    plain.append(text)
            else:
                skipped[text] = problem
        folders.extend(reversed(below))
    note_plain(plain)
    return result, skipped


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_regular(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


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


#: Absolute folder (and file) -> its resolved path, for one run (``run_folders``): a project's thousands of
#: files share a few hundred folders, and resolving a path costs a system call per part.
_FOLDERS: dict[str, str] = {}


#: The working directory of the run under way (``run_folders``), else None: asked of the system.
_CWD: list[str | None] = [None]


@contextlib.contextmanager
def run_folders() -> Iterator[None]:
    """One run of ``check`` or ``fix``. Folders, links and ``__init__.py`` files may have changed since
    the last run in this process (tests/cli/test_cli_cache_property.py runs many): what was resolved
    is forgotten at its start. The working directory, which a run does not change, is read once
    (``resolved_text`` is asked for every file, twice)."""
    _FOLDERS.clear()
    module_name.cache_clear()
    module_names.cache_clear()
    _CWD[0] = os.getcwd()
    remember_links(True)
    try:
        yield
    finally:
        _CWD[0] = None
        remember_links(False)


def resolved(path: Path) -> Path:
    """``path.resolve()``, or the absolute path when links loop (Python 3.11 raises RuntimeError).
    A file that is not a link resolves to its folder's resolved path and its name."""
    return Path(resolved_text(path))


def resolved_text(path: Path) -> str:
    """``str(resolved(path))``, remembered for the run."""
    key = os.path.join(_CWD[0] or os.getcwd(), path)
    found = _FOLDERS.get(key)
    if found is None:
        found = _FOLDERS[key] = _resolve(path)
    return found


def _resolve(path: Path) -> str:
    name = path.name
    if name not in ("", ".", "..") and not is_link(path):
        folder = os.path.join(_CWD[0] or os.getcwd(), os.path.dirname(path) or ".")  # not normalised
        real = _FOLDERS.get(folder)
        if real is None:
            try:
                real = _FOLDERS[folder] = str(Path(folder).resolve())
            except (OSError, RuntimeError):
                return os.path.abspath(path)
        return os.path.join(real, name)
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):
        return os.path.abspath(path)


def _matching(path: Path, patterns: tuple[str, ...]) -> str | None:
    """The first pattern that matches the path's name or its relative path."""
    return _matching_text(path.name, path.as_posix(), patterns)


def _matching_text(name: str, text: str, patterns: tuple[str, ...]) -> str | None:
    """``_matching`` of a name and a relative path with '/' (asked of every file of the walk: whether
    one matches is asked first, of one regular expression for them all)."""
    if not _excluded_text(name, text, patterns):
        return None
    text = text[2:] if text.startswith("./") else text
    return next((p for p in patterns if fnmatch.fnmatch(name, p) or fnmatch.fnmatch(text, p)), None)


def _excluded_text(name: str, text: str, patterns: tuple[str, ...]) -> bool:
    """Whether a pattern matches a path's name or its relative path with '/' (``_matching``, one
    regular expression for them all: it runs for every file and folder of the tree)."""
    text = text[2:] if text.startswith("./") else text
    matches = _matcher(patterns)
    return bool(matches(os.path.normcase(name)) or matches(os.path.normcase(text)))


@functools.lru_cache(maxsize=16)
def _matcher(patterns: tuple[str, ...]) -> Callable[[str], object]:
    """One regular expression for every pattern, as ``fnmatch.fnmatch`` matches each (case folded
    where the file system folds it)."""
    joined = "|".join(f"(?:{fnmatch.translate(os.path.normcase(p))})" for p in patterns)
    return re.compile(joined or "(?!)").match


def display_link(path: Path) -> str:
    """How reports name a path that is not followed (a dangling link, a loop): its own name."""
    folder = display(path.parent)
    return path.name if folder == "." else f"{folder}/{path.name}"


def display(path: Path) -> str:
    """The path as reports show it: relative to the working directory when inside it, with '/'."""
    real, here = resolved_text(path), _here()
    if real == here:
        return "."
    prefix = here if here.endswith(os.sep) else here + os.sep
    if real.startswith(prefix):
        return real[len(prefix):].replace(os.sep, "/")
    return path.as_posix()


def _here() -> str:
    """The working directory, resolved (once per run and directory)."""
    cwd = _CWD[0] or os.getcwd()
    key = "\0cwd:" + cwd
    here = _FOLDERS.get(key)
    if here is None:
        here = _FOLDERS[key] = str(Path(cwd).resolve())
    return here


def project_root(settings: Config) -> Path:
    """The project's folder: the configuration file's, else the repository's around the working
    directory (the folder with ``.git``), else the working directory."""
    if settings.source:
        return Path(settings.source).resolve().parent
    cwd = Path.cwd().resolve()
    return next((folder for folder in (cwd, *cwd.parents) if (folder / ".git").exists()), cwd)
