"""Helpers for the CLI tests (a module with a unique name: tests/ folders are not packages)."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable
from pathlib import Path

from celery_boundary.core.findings import Finding


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def lines_of(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


def stand_in_rules(tree: ast.Module) -> Iterable[Finding]:
    """CB101 for ``<name>serializer = "pickle"``; CB201 for ``_private.delay(...)``."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and node.value.value == "pickle"
            and any(isinstance(t, ast.Name) and t.id.endswith("serializer") for t in node.targets)
        ):
            yield Finding("", node.lineno, node.col_offset + 1, "CB101", "pickle executes code on load; use json")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "delay"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id.startswith("_")
        ):
            yield Finding("", node.lineno, node.col_offset + 1, "CB201", f"private task {node.func.value.id} launched directly")
