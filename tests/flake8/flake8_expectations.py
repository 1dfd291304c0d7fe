"""Reading expected findings from example files and settings from their first line.

An example line ends in ``# CB201`` (or ``# CB203, CB204``) when the rules must report exactly
those codes on it; a first line ``# cb-settings: key=a,b; other=3`` sets rule options.
"""

from __future__ import annotations

import re
from pathlib import Path

from celery_boundary.checks import RuleSettings, check_source

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE / "examples"
ROOT = HERE.parents[1]
_EXPECT = re.compile(r"#\s*(CB\d{3}(?:[ ,]+CB\d{3})*)\b")
_SETTINGS = "# cb-settings:"


def expected(text: str) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            found |= {(number, code) for code in re.findall(r"CB\d{3}", match.group(1))}
    return found


def settings_of(text: str) -> RuleSettings:
    first = text.splitlines()[0] if text else ""
    if not first.startswith(_SETTINGS):
        return RuleSettings()
    values: dict[str, object] = {}
    for part in first[len(_SETTINGS):].split(";"):
        key, _, raw = part.strip().partition("=")
        if key in ("task_decorators", "trusted_serializers"):
            values[key] = frozenset(item.strip() for item in raw.split(",") if item.strip())
        else:
            values[key] = int(raw)
    return RuleSettings(**values)  # type: ignore[arg-type]


def found(text: str) -> set[tuple[int, str]]:
    return {(f.line, f.code) for f in check_source(text, settings_of(text))}
