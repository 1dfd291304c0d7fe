"""Shared set-up for the CLI tests.

Most tests exercise the CLI's own machinery (formats, noqa, baseline, exit codes) with a small stand-in
rule source, so they do not move when a real rule's wording changes; tests/cli/test_real_rules.py runs
the real CB rules over sample files.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from celery_boundary.core.config import Config
from celery_boundary.report import rulerunner


def stand_in_rules(tree: ast.Module, path: str, lines: Sequence[str], config: Config) -> Iterable[tuple[int, int, str]]:
    """CB101 for ``<name>serializer = "pickle"``; CB201 for ``_private.delay(...)``."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and node.value.value == "pickle"
            and any(isinstance(t, ast.Name) and t.id.endswith("serializer") for t in node.targets)
        ):
            yield node.lineno, node.col_offset, "CB101 pickle executes code on load; use json"
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "delay"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id.startswith("_")
        ):
            yield node.lineno, node.col_offset, f"CB201 private task {node.func.value.id} launched directly"


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    # Process-pool workers are forked on Linux, so they inherit the patched source too.
    monkeypatch.setattr(rulerunner, "_SOURCE", rulerunner.RuleSource(lambda text, config: True, stand_in_rules))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project directory (with a .git marker so config lookup stops here) as the cwd."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    yield tmp_path
