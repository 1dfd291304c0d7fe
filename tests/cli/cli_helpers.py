"""Helpers for the CLI tests (a module with a unique name: tests/ folders are not packages)."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def lines_of(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]

