"""The warm cache of ``celery-boundary check``: what each file gave last time, so a warm run reads only
the files whose content changed and recomputes the project-wide pass from stored facts.

One JSON file, ``check.json``, in the cache folder (default ``.celery_boundary_cache/`` in the project
root, which holds a ``.gitignore`` of ``*``; ``cache-dir`` in ``[tool.celery_boundary]`` or
``--cache-dir``; ``--no-cache`` neither reads nor writes it). It is read in one read at the start (a
one-file check still needs every other file's facts) and written once at the end, to a temporary
file renamed over it: a concurrent reader sees the old file or the new one, never half of one, and
the last writer wins.

Per file (keyed by its path relative to the project root) it holds the SHA-256 of the content and a
stat fast path (size, mtime, ctime, inode: when they match, the file is not read). Recorded only for a
file older than ``RACY_NS``: a write within the clock's granularity would not change them. Beside
them, what was computed from that content:

- ``words``: the file's words (``\\w+``), for the question "does it mention a task of the project?";
- ``factories``: the task factories the file defines (``gate/factory_scan.py``), valid for the
  configuration as read (stamp ``base``);
- ``check``: its ``FileResult`` with every code and its ``ModuleFacts`` (packed: JSON, compressed,
  unpacked only for the files a run checks or reads whole, and only so far; beside it the light
  facts every run reads: ``warm._check_part``); ``applies``: whether any rule can match; ``extra``:
  its facts for the project pass when not checked. Valid for the effective configuration (with the
  project's task factories) and the project's top-level packages (stamp ``effective``).

The whole file is stamped with its format, the tool's version and a digest of the package's own
sources and the Python version: any change, and any file that is damaged or foreign (not JSON, another
stamp, a malformed entry), starts an empty cache; nothing is trusted that does not decode
(``gate/cache_codec.py``). tests/cli/test_cli_cache.py pins this; tests/cli/test_cli_cache_property.py
checks that warm runs find exactly what ``--no-cache`` runs find while files change.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat as stat_module
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import celery_boundary
from celery_boundary.analysis.task_names import ModuleNames
from celery_boundary.core.config import Config
from celery_boundary.core.records import fields
from celery_boundary.gate.files import read_source

DEFAULT_FOLDER: Final = ".celery_boundary_cache"
FILE_NAME: Final = "check.json"
#: Bump when what an entry holds changes meaning.
FORMAT: Final = 2
#: A file modified this recently may change again within the clock's granularity: hash it next time.
RACY_NS: Final = 2_000_000_000
#: Keys of [tool.celery_boundary] that change which files are read and where the cache is, not what a
#: file gives.
_NOT_PER_FILE: Final = frozenset({"source", "cache_dir", "exclude", "contracts"})
_BASE_PARTS: Final = ("factories",)
_EFFECTIVE_PARTS: Final = ("check", "applies", "extra")


class Missing:
    """Nothing stored (or nothing trusted) for this file and part."""


MISSING: Final = Missing()

StatKey = list[int]


def tool_stamp() -> str:
    """The format, the version, the Python version and a digest of the package's sources (an edited
    checkout keeps its version number)."""
    text = f"{FORMAT}\0{celery_boundary.__version__}\0{sys.version_info[:2]}\0{_sources_digest()}"
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _sources_digest() -> str:
    """The package's own sources, read once per process."""
    digest = hashlib.sha256()
    package = Path(celery_boundary.__file__).parent
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        try:
            digest.update(source.read_bytes())
        except OSError:
            digest.update(b"\0unreadable")
    return digest.hexdigest()


def config_stamp(config: Config, *extra: Iterable[str]) -> str:
    """A digest of the options that change what a file gives (and of ``extra``, sorted)."""
    values = {f.name: getattr(config, f.name) for f in fields(Config) if f.name not in _NOT_PER_FILE}
    text = json.dumps([repr(sorted(values.items())), *(sorted(part) for part in extra)])
    return hashlib.sha256(text.encode()).hexdigest()


def folder_for(config: Config, root: Path, option: Path | None) -> Path:
    """``--cache-dir`` (as given), else ``cache-dir`` (relative to the configuration file's folder),
    else ``.celery_boundary_cache`` in the project root."""
    if option is not None:
        return option
    if config.cache_dir and config.source:
        return Path(config.source).parent / config.cache_dir
    return root / (config.cache_dir or DEFAULT_FOLDER)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stat_key(state: os.stat_result) -> StatKey | None:
    """What the fast path compares; None for a file too recently written to be trusted by it."""
    if time.time_ns() - state.st_mtime_ns < RACY_NS or time.time_ns() - state.st_ctime_ns < RACY_NS:
        return None
    return [state.st_size, state.st_mtime_ns, state.st_ctime_ns, state.st_ino]


class Cache:
    """The entries of one project, loaded once; ``save`` writes them back if anything changed."""

    def __init__(self, folder: Path, root: Path, base: Config) -> None:
        self.folder, self.root = folder, root
        self._prefix = os.path.join(os.path.abspath(root), "")
        self.files: dict[str, dict[str, Any]] = {}
        self.dirty = False
        self.seen: set[str] = set()
        self._tool = tool_stamp()
        self._base = config_stamp(base)
        self._effective = ""
        self._relative: dict[Path, str] = {}
        #: The entries found to be for their file's current content, by the path asked.
        self._valid: dict[Path, dict[str, Any]] = {}
        #: ``analysis.task_names.module_name`` of each file, one walk per folder.
        self.module_names = ModuleNames()
        document = self._load()
        if document is None:
            return
        self.files = document["files"]
        if document.get("base") != self._base:
            self._drop((*_BASE_PARTS, *_EFFECTIVE_PARTS))
        self._effective = document.get("effective", "")

    def use_effective(self, config: Config, roots: frozenset[str]) -> None:
        """The configuration and top-level packages the rules run with: parts made under others go."""
        stamp = config_stamp(config, roots)
        if stamp != self._effective:
            self._drop(_EFFECTIVE_PARTS)
            self._effective = stamp

    def get(self, path: Path, part: str) -> Any:
        """What is stored for ``path``'s current content, else MISSING (the file is read and hashed
        only when its stat changed)."""
        entry = self._valid.get(path)
        if entry is None:
            entry = self._validated(path)
            if entry is None:
                return MISSING
        return entry.get(part, MISSING)

    def _validated(self, path: Path) -> dict[str, Any] | None:
        """The entry of ``path`` if it is for the file's current content (a run asks each file several
        questions: it is looked at once)."""
        key = self._key(path)
        self.seen.add(key)
        entry = self.files.get(key)
        if entry is None:
            return None
        try:
            state = os.stat(path)
        except OSError:
            return None
        if not stat_module.S_ISREG(state.st_mode):
            return None
        if entry.get("stat") != [state.st_size, state.st_mtime_ns, state.st_ctime_ns, state.st_ino]:
            try:
                data = read_source(path)
            except OSError:
                return None
            if digest(data) != entry.get("sha"):
                del self.files[key]
                self.dirty = True
                return None
            entry["stat"] = stat_key(state)
            self.dirty = True
        self._valid[path] = entry
        return entry

    def module_of(self, path: Path) -> str:
        """``analysis.task_names.module_name(path)``: the name a module is imported under depends on
        the ``__init__.py`` files around it, not on its text."""
        return self.module_names(path)

    def put(self, path: Path, part: str, value: Any, sha: str, state: StatKey | None) -> None:
        """Store ``value``, computed from the content whose digest is ``sha`` (stat taken before it
        was read)."""
        key = self._key(path)
        self.seen.add(key)
        entry = self.files.get(key)
        if entry is None or entry.get("sha") != sha:
            entry = self.files[key] = {"sha": sha, "stat": state}
        elif state is not None and entry.get("stat") is None:
            entry["stat"] = state
        entry[part] = value
        self._valid[path] = entry
        self.dirty = True

    def save(self) -> None:
        """Write the entries of the files this run met (others are gone or excluded), atomically;
        a folder that cannot be written is left alone (the next run is cold, not broken)."""
        kept = {key: entry for key, entry in self.files.items() if key in self.seen}
        if not self.dirty and len(kept) == len(self.files):
            return
        document = {"tool": "celery-boundary check cache", "stamp": self._tool, "base": self._base,
                    "effective": self._effective, "files": kept}
        write_document(self.folder, FILE_NAME, document)

    def _load(self) -> dict[str, Any] | None:
        try:
            with open(self.folder / FILE_NAME, "rb") as stream:
                document = json.loads(stream.read())
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(document, dict) or document.get("stamp") != self._tool:
            return None
        files = document.get("files")
        if not isinstance(files, dict) or not all(isinstance(entry, dict) for entry in files.values()):
            return None
        return document

    def _drop(self, parts: Iterable[str]) -> None:
        for entry in self.files.values():
            for part in parts:
                entry.pop(part, None)
        self.dirty = True

    def _key(self, path: Path) -> str:
        key = self._relative.get(path)
        if key is None:
            absolute = os.path.abspath(path)
            inside = absolute.startswith(self._prefix)
            key = self._relative[path] = (absolute[len(self._prefix):] if inside else absolute).replace(os.sep, "/")
        return key


def write_document(folder: Path, name: str, document: Any) -> None:
    """``document`` as JSON in ``folder/name``, written to a temporary file renamed over it (a concurrent
    reader sees the old file or the new one); the folder gets a ``.gitignore`` of ``*``. A folder that
    cannot be written is left alone (the next run is cold, not broken)."""
    import tempfile  # when something changed: a warm run that writes nothing does not pay for it

    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# celery-boundary check's cache (see docs/configuration.md)\n*\n", encoding="utf-8")
        handle, temporary = tempfile.mkstemp(prefix=".check-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "wb") as stream:  # dumps: json.dump encodes in Python, 5x slower
                stream.write(json.dumps(document, separators=(",", ":")).encode())
            os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 would lock out a CI cache's next user
            os.replace(temporary, folder / name)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        return


def read(path: Path) -> tuple[bytes, str, StatKey | None]:
    """(the bytes, their digest, the stat taken before reading them) for a file about to be computed;
    raises OSError as ``read_source`` does."""
    state = os.stat(path)
    data = read_source(path)
    return data, digest(data), stat_key(state)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
