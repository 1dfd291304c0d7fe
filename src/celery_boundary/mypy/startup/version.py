"""The plugin's version as mypy sees it, and how the daemon learns that our inputs changed.

mypy's daemon restarts when a plugin's snapshot (its entry module's hash and ``__version__``)
changes between ``dmypy run`` calls (mypy 1.20 / 2.4, ``dmypy_server.cmd_run``). A fine-grained
daemon never re-reads cache metadata, so a changed app module (registrations, serializer settings)
would otherwise go unnoticed: ``__version__`` grows a suffix once a file the live plugin read has
changed, or once the instance ``dmypy run`` builds finds other settings (app discovery found a new
app module), which restarts the daemon with fresh settings. In a normal run it is always VERSION.

Start-up phase: the inputs are watched once the settings are read; mypy reads ``__version__``
again whenever it compares plugin snapshots.
"""

from __future__ import annotations

import hashlib
import os
from typing import Final

VERSION: Final = "0.1.0"

#: (path, mtime_ns, size) of the files the first plugin instance for a mypy config file read its
#: settings from, and the fingerprint of what it found. Module state on purpose: it must outlive one
#: run inside the daemon process, where ``dmypy run`` builds a new plugin instance *before* it
#: compares snapshots: that instance must not replace what the running daemon was started with.
_watched: list[tuple[str, int, int]] = []
_owner: list[str | None] = []
_found: list[str] = []
#: The fingerprint the latest instance for the same config file found, when it differs from the
#: first's (an app module added or removed: no file the first instance read has changed).
_moved: list[str] = []


def watch(config_file: str | None, stamps: tuple[tuple[str, int, int], ...], fingerprint: str = "") -> None:
    if _owner == [config_file]:
        # Found the same again (an app module added, then removed): nothing to restart for.
        _moved[:] = [fingerprint] if fingerprint != _found[0] else []
        return
    _owner[:] = [config_file]
    _watched[:] = stamps
    _found[:] = [fingerprint]
    _moved.clear()


def stamp(paths: list[str]) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime_ns, size) of each file (-1 when it cannot be read)."""
    stamps = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            stamps.append((path, -1, -1))
        else:
            stamps.append((path, info.st_mtime_ns, info.st_size))
    return tuple(stamps)


def current() -> str:
    if not _watched and not _moved:
        return VERSION
    now = stamp([path for path, _, _ in _watched])
    if now == tuple(_watched) and not _moved:
        return VERSION
    return f"{VERSION}+inputs.{hashlib.sha256(repr((now, _moved)).encode()).hexdigest()[:12]}"
