"""The last run of ``check``, remembered whole: when the same command runs again over the same files,
none of them changed (their stat, as the warm cache's fast path compares it) and neither did the
other files the rules read (the deployment files that name a beat scheduler, the contracts), its
findings are printed again without reading the cache of per-file results or any file.

One JSON file, ``run.json``, beside the warm cache's ``check.json`` (same folder, same ``--no-cache``):
the tool's stamp, a key for the command (the working directory, the paths named, the codes chosen,
the configuration's per-file options and its ``exclude``), the stat of every file the run read, the
findings (before the baseline, which is applied after) and the files that could not be checked.
Written only when every file was older than the cache's racy window (``cache.stat_key``), to a
temporary file renamed over the old one; anything damaged, foreign or different is ignored
(tests/cli/test_cli_cache.py: a warm run equals a cold one; the memo is used, and dropped when a file
changes).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from celery_boundary.analysis.schedulers import deploy_files
from celery_boundary.core.config import Config
from celery_boundary.core.findings import Finding
from celery_boundary.gate import cache as cache_module

FILE_NAME: Final = "run.json"


@dataclass(frozen=True)
class Remembered:
    findings: list[Finding]
    #: The files that could not be checked (CB001, reported on stderr when not chosen).
    skips: list[Finding]
    #: The displayed paths of the files that were checked (the baseline's stale entries are theirs).
    checked: frozenset[str]


def other_inputs(config: Config, root: Path) -> list[Path]:
    """The files besides the project's modules that decide findings: the deployment files that may
    name a beat scheduler (CB401, under the repository around ``root``) and the contracts (CB205)."""
    top = next((folder for folder in (root, *root.parents) if (folder / ".git").exists()), root)
    found = list(deploy_files(top))
    base = Path(config.source).parent if config.source else Path.cwd()
    found.extend(base / contract for contract in config.contracts)
    return found


def key_of(named: Sequence[str], chosen: Iterable[str], config: Config, exclude: Sequence[str]) -> str:
    """The command, as far as it decides the findings (the files' contents aside)."""
    text = json.dumps([os.getcwd(), list(named), sorted(chosen), cache_module.config_stamp(config),
                       sorted(config.exclude), sorted(exclude)])
    return hashlib.sha256(text.encode()).hexdigest()


def recall(folder: Path, key: str, paths: Sequence[Path]) -> Remembered | None:
    """The findings of the last run if it was this command over these files, all unchanged."""
    try:
        with open(folder / FILE_NAME, "rb") as stream:
            document = json.loads(stream.read())
        if document["stamp"] != cache_module.tool_stamp() or document["key"] != key:
            return None
        stats = document["files"]
        if not isinstance(stats, dict) or len(stats) != len(paths):
            return None
        for path in paths:
            if stats.get(os.path.abspath(path)) != _stat(path):
                return None
        return Remembered(_decoded(document["findings"]), _decoded(document["skips"]),
                          frozenset(str(path) for path in document["checked"]))
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def stats_of(paths: Sequence[Path]) -> dict[str, list[int] | None]:
    """Each file's stat as the memo keeps it, taken before the run reads the files (``remember``)."""
    return {os.path.abspath(path): _stat(path) for path in paths}


def remember(folder: Path, key: str, before: dict[str, list[int] | None], findings: Sequence[Finding],
             skips: Sequence[Finding], checked: Iterable[str]) -> None:
    """Keep this run for the next one, when every file it read is old enough to be trusted by its stat
    and none changed while it ran (``before``: ``stats_of`` at its start)."""
    if any(state is None or _stat(Path(path)) != state for path, state in before.items()):
        return
    stats = before
    document = {"tool": "celery-boundary check run", "stamp": cache_module.tool_stamp(), "key": key,
                "files": stats, "checked": sorted(checked), "findings": _encoded(findings), "skips": _encoded(skips)}
    cache_module.write_document(folder, FILE_NAME, document)


def _encoded(findings: Sequence[Finding]) -> list[list[Any]]:
    return [[f.path, f.line, f.column, f.code, f.message, f.source_line, f.tool] for f in findings]


def _decoded(rows: Any) -> list[Finding]:
    """Raises ValueError, TypeError on a malformed row."""
    found = []
    for path, line, column, code, message, source, tool in rows:
        if not all(isinstance(text, str) for text in (path, code, message, source, tool)) or \
                type(line) is not int or type(column) is not int:
            raise ValueError("a malformed finding")
        found.append(Finding(path, line, column, code, message, source, tool))
    return found


def _stat(path: Path) -> list[int] | None:
    try:
        return cache_module.stat_key(os.stat(path))
    except OSError:
        return None
