"""Adopt the gate on legacy code: ``--write-baseline FILE`` records today's findings, ``--baseline FILE``
reports only findings that are not in it, and names stale entries (fixed since) without failing.

An entry is keyed by code, path, a fingerprint of the offending line's content (whitespace normalised)
and an occurrence index among equal fingerprints in that file, never by line number: inserting code
above a finding does not make it new, and a second identical-looking finding is new.
Paths are stored relative to the baseline file, so the gate can run from any directory.

A run over some files (pre-commit passes the staged ones) judges only those files: ``--baseline``
names stale entries of the files it read, and ``--write-baseline`` rewrites their entries and keeps
the entries of the project's other files (those gone or excluded are dropped) (tests/cli/test_cli_baseline.py,
tests/test_pre_commit.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from celery_boundary.gate.files import display
from celery_boundary.gate.errors import UsageError
from celery_boundary.core.findings import Finding, keyed

VERSION: Final = 1
Key = tuple[str, str, str, int]


@dataclass(frozen=True)
class Entry:
    code: str
    path: str
    fingerprint: str
    occurrence: int
    #: Where it was when written, and what it said: for readers of the file, not used to match.
    line: int
    message: str

    @property
    def key(self) -> Key:
        return (self.code, self.path, self.fingerprint, self.occurrence)


def write_baseline(file: Path, findings: Sequence[Finding], unread: Collection[str] = ()) -> int:
    """Write every finding as accepted; returns how many entries the file holds. ``unread``: the
    project's files this run did not read (as findings spell paths); the entries ``file`` already
    holds for them are kept. Entries of files that are gone or now excluded are dropped."""
    kept = [entry for entry in _previous(file) if entry.path in unread] if unread else []
    written = [
        {"code": code, "path": _stored(path, file), "fingerprint": digest, "occurrence": n,
         "line": finding.line, "message": finding.message}
        for (code, path, digest, n), finding in keyed(findings)
    ]
    others = [
        {"code": entry.code, "path": _stored(entry.path, file), "fingerprint": entry.fingerprint,
         "occurrence": entry.occurrence, "line": entry.line, "message": entry.message}
        for entry in kept
    ]
    entries = sorted([*written, *others], key=lambda entry: str(entry["path"]))  # stable: line order kept
    document = {"tool": "celery-boundary", "version": VERSION, "entries": entries}
    try:
        file.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{file}: cannot write the baseline: {exc.strerror or exc}") from None
    return len(entries)


def _previous(file: Path) -> list[Entry]:
    """The entries ``file`` holds now; none when it is missing or not a baseline (it is rewritten)."""
    if not file.is_file():
        return []
    try:
        return load_baseline(file)
    except UsageError:
        return []


def load_baseline(file: Path) -> list[Entry]:
    try:
        document: Any = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{file}: cannot read the baseline: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{file}: the baseline is not valid JSON: {exc}") from None
    except RecursionError:  # json nests deeper than the parser's stack: no baseline looks like that
        raise UsageError(f"{file}: the baseline is nested too deeply to be a celery-boundary baseline") from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise UsageError(
            f"{file}: not a celery-boundary baseline (version {VERSION}); rewrite it with --write-baseline"
        )
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise UsageError(f"{file}: the baseline has no list of entries; rewrite it with --write-baseline")
    return [_entry(position, e, file) for position, e in enumerate(entries)]


def _entry(position: int, raw: Any, file: Path) -> Entry:
    """One entry, every field of the type written (``"path": null`` is not the path "None")."""
    problems = ["it is not an object"] if not isinstance(raw, dict) else [
        *(f"{key!r} is not a string" for key in ("code", "path", "fingerprint") if not isinstance(raw.get(key), str)),
        *(f"{key!r} is not a whole number" for key, needed in (("occurrence", True), ("line", False))
          if (needed or key in raw) and type(raw.get(key)) is not int),
    ]
    if problems:
        problem = ", ".join(problems)
        raise UsageError(f"{file}: baseline entry {position + 1} is malformed ({problem}); "
                         "rewrite it with --write-baseline")
    return Entry(raw["code"], _loaded(raw["path"], file), raw["fingerprint"], raw["occurrence"],
                 raw.get("line", 0), str(raw.get("message", "")))


def apply_baseline(entries: Sequence[Entry], findings: Sequence[Finding]) -> tuple[list[Finding], list[Entry]]:
    """(findings not in the baseline, baseline entries that match no finding any more)."""
    accepted = {entry.key: entry for entry in entries}
    new = []
    for key, finding in keyed(findings):
        if accepted.pop(key, None) is None:
            new.append(finding)
    return new, sorted(accepted.values(), key=lambda e: e.key)


def _stored(path: str, file: Path) -> str:
    if os.path.isabs(path):
        return Path(path).as_posix()
    return Path(os.path.relpath(Path.cwd().resolve() / path, file.resolve().parent)).as_posix()


def _loaded(stored: str, file: Path) -> str:
    if os.path.isabs(stored):
        return stored
    # Spelled exactly as findings spell paths (relative to the working directory when inside it).
    return display(Path(os.path.normpath(file.resolve().parent / stored)))
