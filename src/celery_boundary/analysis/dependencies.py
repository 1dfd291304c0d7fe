"""The oldest Celery a project allows, read from its dependency declarations (the CB206 fix chooses
``delay_on_commit``, new in celery 5.4, only when every allowed version has it).

Read, in the project's root folder: ``pyproject.toml`` (``[project].dependencies`` and poetry's
``[tool.poetry.dependencies]``), then ``requirements*.txt`` and ``requirements/*.txt``. A requirement's
floor is the version after ``>=``, ``==``, ``~=``, ``^`` or ``~`` (poetry), or a bare poetry version;
``celery`` without a lower bound, or no celery at all, has no known floor (None).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

_REQUIREMENT: Final = re.compile(r"^\s*celery\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;#]*)", re.IGNORECASE)
_FLOOR: Final = re.compile(r"(?:>=|==|~=|\^|~(?!=)|^)\s*v?(?P<version>\d+(?:\.\d+)*)")
_MAX_BYTES: Final = 512_000


def celery_floor(root: Path) -> tuple[int, ...] | None:
    """The lowest Celery version the project's declarations allow, or None when none says."""
    floors = [floor for spec in _specifiers(root) for floor in [_floor_of(spec)] if floor is not None]
    return min(floors) if floors else None


def _floor_of(spec: str) -> tuple[int, ...] | None:
    found = [tuple(int(part) for part in match.group("version").split("."))
             for clause in spec.strip().strip("()").split(",") for match in [_FLOOR.match(clause.strip())]
             if match is not None and not clause.strip().startswith(("<", "!="))]
    return max(found) if found else None


def _specifiers(root: Path) -> Iterator[str]:
    pyproject = _read(root / "pyproject.toml")
    if pyproject:
        try:
            data = tomllib.loads(pyproject)
        except tomllib.TOMLDecodeError:
            data = {}
        for line in data.get("project", {}).get("dependencies", []) or []:
            match = _REQUIREMENT.match(str(line))
            if match and not str(line).lower().startswith("celery-"):
                yield match.group("spec")
        poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {}) or {}
        value = poetry.get("celery")
        if isinstance(value, dict):
            value = value.get("version")
        if isinstance(value, str):
            yield value
    for path in [*sorted(root.glob("requirements*.txt")), *sorted(root.glob("requirements/*.txt"))]:
        for line in _read(path).splitlines():
            match = _REQUIREMENT.match(line)
            if match and not line.strip().lower().startswith(("celery-", "celery_")):
                yield match.group("spec")


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > _MAX_BYTES:
            return ""
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
