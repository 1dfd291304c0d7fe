"""What the start-up scans concluded, kept in mypy's cache folder and re-checked with a stat each.

Before mypy checks anything the plugin reads the project (appscan.py): the app module and what it
imports and, without an ``app`` setting, a walk over the project for ``Celery(...)`` calls, plus
the installed celery/kombu/pydantic versions. A warm run re-checks a few modules; read afresh, the
project would be its largest cost (on readthedocs.org's source, a walk over ~750 files, ~12 ms).
This module keeps each conclusion with the file-system facts it rested on:

- a folder's listing, with the folder's ``st_mtime_ns`` (adding, removing or renaming an entry
  changes it);
- whether a file calls ``Celery(...)``, with the file's ``(st_mtime_ns, st_size)``;
- a scan of one app module, with the stamp of every file it read and whether every path it probed
  was a file;
- the distributions installed in each ``sys.path`` folder listed, with the folder's ``st_mtime_ns``.

A later run checks the facts and redoes only what they no longer support: an edited file is
re-read alone, a changed folder re-listed alone. mypy itself trusts ``(mtime, size)`` the same way.

The same-tick race: a file written twice within one tick of the file system's clock keeps its
mtime. A fact whose mtime is within ``RACY_NS`` of the scan's start (whole-second mtimes: a coarse
file system, ``COARSE_RACY_NS``) is used but not kept, so the next run looks again (git's "racy
git" rule). Anything wrong with the stored file (missing, unreadable, another format, another
plugin build) means an empty memory, never an error.

Start-up phase: read before the scans, written after them.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, Final

#: Bumped when the stored layout or the meaning of a stored conclusion changes.
FORMAT: Final = 2
RACY_NS: Final = 100_000_000
COARSE_RACY_NS: Final = 2_000_000_000
#: The modules whose code decides the stored conclusions: an edit to any starts from empty.
_CODE: Final = ("appscan.py", "discovery.py", "settings.py", "memory.py", "../../analysis/registrations.py")

Stamp = tuple[int, int]
MISSING: Final[Stamp] = (-1, -1)


def file_stamp(path: str) -> Stamp:
    """``(st_mtime_ns, st_size)``, or MISSING when the path cannot be stat-ed."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return MISSING
    return (info.st_mtime_ns, info.st_size)


def folder_mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except (OSError, ValueError):
        return -1


def read_stamped(path: str, limit: int | None) -> tuple[bytes, Stamp] | None:
    """Up to ``limit`` bytes of a file (None: all of it) and its stamp when opened (None if it
    cannot be read). The stamp is taken before the read, so a later write changes it.

    A raw ``os.read`` skips the buffered file object (302 small files: 2.5 ms -> 1.1 ms)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except (OSError, ValueError):
        return None
    try:
        info = os.fstat(descriptor)
        stamp = (info.st_mtime_ns, info.st_size)
        if limit is not None:
            return os.read(descriptor, limit), stamp
        chunks = []
        while chunk := os.read(descriptor, max(info.st_size, 1 << 16)):
            chunks.append(chunk)
        return b"".join(chunks), stamp
    except OSError:
        return None
    finally:
        os.close(descriptor)


def is_file(path: str) -> bool:
    try:
        return os.path.isfile(path)
    except ValueError:  # an embedded NUL in a configured path
        return False


class Observed:
    """The facts one scan rested on: files read, paths probed, folders listed."""

    def __init__(self) -> None:
        self.reads: dict[str, Stamp] = {}
        self.probes: dict[str, bool] = {}
        self.folders: dict[str, int] = {}

    def holds(self) -> bool:
        """Every fact is still true (one stat per fact)."""
        return (
            all(file_stamp(path) == tuple(stamp) for path, stamp in self.reads.items())
            and all(is_file(path) == known for path, known in self.probes.items())
            and all(folder_mtime(path) == mtime for path, mtime in self.folders.items())
        )

    def racy(self, started_ns: int) -> bool:
        return any(is_racy(stamp[0], started_ns) for stamp in self.reads.values()) or any(
            is_racy(mtime, started_ns) for mtime in self.folders.values()
        )

    def dump(self) -> dict[str, Any]:
        """As JSON holds it (stamps as lists), so a stored copy compares equal to a fresh one."""
        reads = {path: list(stamp) for path, stamp in self.reads.items()}
        return {"reads": reads, "probes": dict(self.probes), "folders": dict(self.folders)}

    @classmethod
    def load(cls, data: Any) -> Observed:
        """Raises (KeyError, TypeError, ValueError) on a malformed entry: the caller forgets it."""
        made = cls()
        made.reads = {str(p): (int(s[0]), int(s[1])) for p, s in data["reads"].items()}
        made.probes = {str(p): bool(v) for p, v in data["probes"].items()}
        made.folders = {str(p): int(m) for p, m in data["folders"].items()}
        return made


def is_racy(mtime_ns: int, started_ns: int) -> bool:
    """The file may change again without its mtime changing (same tick as the scan)."""
    if mtime_ns < 0:
        return False
    window = COARSE_RACY_NS if mtime_ns % 1_000_000_000 == 0 else RACY_NS
    return mtime_ns > started_ns - window


class Memory:
    """One project's remembered scans: what the last run stored, and what this run keeps.

    Only what this run used is written back, so entries for deleted files and old settings drop out.
    """

    def __init__(self, path: str | None = None, started_ns: int | None = None) -> None:
        self.path = path
        self.started_ns = time.time_ns() if started_ns is None else started_ns
        self._before: dict[str, Any] = _read(path) if path is not None else {}
        self._now: dict[str, dict[str, Any]] = {"folders": {}, "apps": {}, "scans": {}, "dists": {}}

    # --- the discovery walk ------------------------------------------------------------------
    def walk(self, top: str, skip: Callable[[str], bool]) -> Iterator[tuple[str, list[str]]]:
        """(folder, its ``.py`` file names) top-down in sorted order, like ``os.walk`` without
        following links; ``skip(name)`` prunes sub-folders. Unchanged folders are not re-listed."""
        pending = [top]
        while pending:
            folder = pending.pop()
            listing = self._listing(folder)
            if listing is None:
                continue
            dirs, files = listing
            yield folder, files
            pending.extend(os.path.join(folder, name) for name in reversed(dirs) if not skip(name))

    def _listing(self, folder: str) -> tuple[list[str], list[str]] | None:
        mtime = folder_mtime(folder)
        if mtime < 0:
            return None
        known = self._before.get("folders", {}).get(folder)
        if isinstance(known, list) and len(known) == 3 and known[0] == mtime and _names(known[1]) and _names(known[2]):
            dirs, files = known[1], known[2]
        else:
            dirs, files = [], []
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        try:
                            is_dir = entry.is_dir(follow_symlinks=False)
                        except OSError:
                            continue
                        if is_dir:
                            dirs.append(entry.name)
                        elif entry.name.endswith(".py"):
                            files.append(entry.name)
            except OSError:
                return None
            dirs.sort()
            files.sort()
        if not is_racy(mtime, self.started_ns):
            self._now["folders"][folder] = [mtime, dirs, files]
        return dirs, files

    def app_files(self, folder: str, names: list[str], judge: Callable[[str], tuple[bool, Stamp]]) -> list[str]:
        """The files among ``names`` in ``folder`` that call ``Celery(...)``.

        ``judge(path)`` answers for one file (and gives its stamp when read); it is asked only about
        files changed since the last run. An unchanged folder costs one stat per file.
        """
        known = self._before.get("apps", {}).get(folder)
        # A folder seen for the first time is read whole: the stamps come from the reads.
        stamps = [list(file_stamp(os.path.join(folder, name))) for name in names] if known else [[]] * len(names)
        valid = isinstance(known, dict) and _names(known.get("names")) and _names(known.get("creates"))
        if valid and known["names"] == names and known.get("stamps") == stamps:
            self._now["apps"][folder] = known
            return list(known["creates"])
        before: dict[str, tuple[list[int], bool]] = {}
        if valid and isinstance(known["stamps"], list) and len(known["stamps"]) == len(known["names"]):
            creators_before = set(known["creates"])
            before = {
                name: (stamp, name in creators_before) for name, stamp in zip(known["names"], known["stamps"])
            }
        creators: list[str] = []
        for index, name in enumerate(names):
            found = before.get(name)
            if found is not None and found[0] == stamps[index] and stamps[index] != list(MISSING):
                creates = found[1]
            else:
                creates, stamp = judge(os.path.join(folder, name))
                # Kept only if the file cannot change unseen (same tick) and was not changed since the
                # stat above; otherwise a stamp that matches nothing, so the next run looks again.
                now = list(stamp)
                steady = stamps[index] in ([], now) and stamp != MISSING and not is_racy(stamp[0], self.started_ns)
                stamps[index] = now if steady else list(MISSING)
            if creates:
                creators.append(name)
        self._now["apps"][folder] = {"names": names, "stamps": stamps, "creates": creators}
        return creators

    def per_folder(self, kind: str, folder: str, read: Callable[[str], dict[str, str]]) -> dict[str, str]:
        """``read(folder)``, remembered while the folder keeps its mtime (a name added, removed or
        renamed in it changes the mtime)."""
        mtime = folder_mtime(folder)
        known = self._before.get(kind, {}).get(folder)
        if (
            isinstance(known, list)
            and len(known) == 2
            and known[0] == mtime
            and isinstance(known[1], dict)
            and all(isinstance(value, str) for value in known[1].values())
        ):
            self._now[kind][folder] = known
            return {str(key): value for key, value in known[1].items()}
        value = read(folder)
        if not is_racy(mtime, self.started_ns):
            self._now[kind][folder] = [mtime, value]
        return value

    # --- whole conclusions ---------------------------------------------------------------------
    def recall(self, kind: str, key: str) -> Any:
        """A stored conclusion whose facts all still hold (None: none, or stale)."""
        entry = self._before.get(kind, {}).get(key)
        if not isinstance(entry, dict):
            return None
        try:
            observed = Observed.load(entry["observed"])
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            return None
        if not observed.holds():
            return None
        self._now[kind][key] = entry
        return entry.get("value")

    def remember(self, kind: str, key: str, observed: Observed, value: Any) -> None:
        if not observed.racy(self.started_ns):
            self._now[kind][key] = {"observed": observed.dump(), "value": value}

    # --- the stored file ----------------------------------------------------------------------
    def save(self) -> None:
        """Write what this run used, if it differs from what was read. Failures are ignored: the
        memory only saves time."""
        if self.path is None:
            return
        data = {"format": FORMAT, "code": code_stamp(), **self._now}
        if data == self._before:
            return
        folder = os.path.dirname(self.path)
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(folder, exist_ok=True)
            # dumps, not dump: dump streams through the pure-Python encoder (8 ms here, readthedocs).
            text = json.dumps(data, separators=(",", ":"))
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temporary, self.path)
        except (OSError, TypeError, ValueError):
            try:
                os.unlink(temporary)
            except OSError:
                pass


def _names(value: object) -> bool:
    """A stored list of file or folder names (anything else in a stored file is ignored)."""
    return isinstance(value, list) and all(isinstance(name, str) for name in value)


def memory_path(cache_dir: str | None, project: str) -> str | None:
    """Where the memory of ``project`` (the folder the settings are read from) lives, or None when
    mypy writes no cache (``--cache-dir=/dev/null``)."""
    if not cache_dir or cache_dir == os.devnull:
        return None
    name = hashlib.sha256(project.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return os.path.join(cache_dir, "celery_boundary", f"startup-{name}.json")


def code_stamp() -> list[list[int]]:
    here = os.path.dirname(os.path.abspath(__file__))
    return [list(file_stamp(os.path.join(here, name))) for name in _CODE]


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("code") != code_stamp():
        return {}
    for kind in ("folders", "apps", "scans", "dists"):
        if not isinstance(data.get(kind), dict):
            return {}
    return data
