"""App discovery: ``app`` unset, find the project modules that call ``Celery(...)`` and scan them.

Imported only when discovery runs (settings.py): a project with ``app`` set never pays for the
walk or for compiling the text tests below.

A walk over the project under the mypy config file's folder, skipping virtualenvs, build output
and tests; a cheap text test on each file before any parse. What the walk concluded is kept in
mypy's cache folder (memory.py): a warm run stats each file and reads only the edited ones.

Start-up phase, only when ``app`` is unset.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from celery_boundary.mypy.startup.appscan import AppFacts, Sources, combine, scan_app
from celery_boundary.mypy.startup.memory import MISSING, Memory, Stamp, read_stamped

#: App discovery (``app`` unset): folders never searched, and bounds on the files read.
SKIP_DIRS: Final = frozenset(
    {".venv", "venv", "env", ".env", "site-packages", "node_modules", ".git", "build", "dist",
     "__pycache__", ".tox", ".nox", ".mypy_cache", "tests", "test"}
)
MAX_DISCOVERY_FILES: Final = 5000
MAX_DISCOVERY_BYTES: Final = 512 * 1024
#: The cheap text tests before any parse: an import of celery, and ``app = Celery(`` (also
#: ``celery.Celery(``, ``MyCelery(``, ``return Celery(`` in a factory) at the start of a line.
CELERY_IMPORT: Final = re.compile(rb"^[ \t]*(?:from[ \t]+celery\b|import[ \t]+celery\b)", re.M)
CELERY_CALL: Final = re.compile(rb"^[ \t]*(?:[\w.]+[ \t]*(?::[^=\n]*)?=|return)[ \t]*[\w.]*Celery[ \t]*\(", re.M)


def discover_app(project: Path, roots: Sequence[Path], memory: Memory | None = None) -> AppFacts:
    """``app`` unset: the project modules under ``project`` that call ``Celery(...)``, scanned as if configured.

    One app (or several that agree) gives its serializers; apps that disagree give UNDETERMINED
    (silence rather than a json verdict the project never sees: M1 in docs/validation.md) for tasks
    whose app cannot be told; a task made by one app's decorator is judged by that app's (each
    app variable is kept in ``AppFacts.apps``). None found: json, Celery's default. Registrations
    of every discovered app are kept.
    """
    memory = Memory() if memory is None else memory
    sources = Sources()
    found = _find_app_modules(project, sources, memory)
    facts = AppFacts(discovered=[name for name, _ in found])
    digest = hashlib.sha256(f"discovered:{facts.discovered}\n".encode())
    scans = [
        scan_app(name, [*roots, base] if base not in roots else roots, sources, memory) for name, base in found
    ]
    return combine(scans, facts, digest)


def _calls_celery(source: bytes) -> bool:
    """``CELERY_CALL.search(source)``, tried only on the lines that mention ``Celery``: searching every
    line of a large settings module cost ~0.4 ms a file (readthedocs: 23 files, 9 ms -> 0.1 ms)."""
    at = source.find(b"Celery")
    while at >= 0:
        start = source.rfind(b"\n", 0, at) + 1
        end = source.find(b"\n", at)
        end = len(source) if end < 0 else end
        if CELERY_CALL.match(source, start, end):
            return True
        at = source.find(b"Celery", end)
    return False


def _skip_folder(name: str) -> bool:
    return name in SKIP_DIRS or name.startswith(".") or name.endswith(".egg-info")


def _find_app_modules(project: Path, sources: Sources, memory: Memory) -> list[tuple[str, Path]]:
    """(dotted name, import root) of each module calling ``Celery(...)``; a text test before any parse.

    Test files and folders are skipped: test apps are not the project's configuration. A file
    unchanged since the last run is not read again (``memory``).
    """
    found: list[tuple[str, Path]] = []
    budget = MAX_DISCOVERY_FILES
    for folder, files in memory.walk(str(project), _skip_folder):
        names = [
            file
            for file in files
            if file != "conftest.py" and not file.startswith("test_") and not file.endswith("_test.py")
        ]
        budget -= len(names)
        if budget < 0:
            names = names[: len(names) + budget]
        for name in memory.app_files(folder, names, lambda path: _creates_app(path, sources)):
            found.append(_module_name(Path(folder, name)))
        if budget < 0:
            return found
    return found


def _creates_app(path: str, sources: Sources) -> tuple[bool, Stamp]:
    """Whether the file at ``path`` calls ``Celery(...)``, and its stamp when read."""
    # Plain strings and one bounded read: pathlib objects and a stat per file would cost half as
    # much again (3,100 files, 13 MB: best ~48 ms against ~32 ms, Python 3.11).
    read = read_stamped(path, MAX_DISCOVERY_BYTES + 1)
    if read is None:
        return False, MISSING
    source, stamp = read
    if len(source) > MAX_DISCOVERY_BYTES or b"Celery" not in source:
        return False, stamp
    if not (_calls_celery(source) and CELERY_IMPORT.search(source)):
        return False, stamp
    name, _ = _module_name(Path(path))
    tree = sources.read(Path(path), source, stamp)[1]  # the whole file: it is under MAX_DISCOVERY_BYTES
    reader = sources.reader(name, Path(path), tree) if tree is not None else None
    return reader is not None and reader.creates_app, stamp


def _module_name(path: Path) -> tuple[str, Path]:
    """The dotted name of ``path`` through its chain of packages (folders with ``__init__.py``), and its root."""
    parts = [] if path.name == "__init__.py" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts) or path.parent.name, folder
