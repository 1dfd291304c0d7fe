"""Shared set-up for the CLI tests.

Most tests exercise the CLI's own machinery (formats, noqa, baseline, exit codes) with a small stand-in
rule source, so they do not move when a real rule's wording changes; tests/cli/test_cli_real_rules.py runs
the real CB rules over sample files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from celery_boundary.gate import engine
from cli_helpers import stand_in_rules


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    # Process-pool workers are forked on Linux, so they inherit the patched source too.
    monkeypatch.setattr(engine, "might_apply", lambda text, config: True)
    monkeypatch.setattr(engine, "run_rules", lambda index, path, config: list(stand_in_rules(index.tree)))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project directory (with a .git marker so config lookup stops here) as the cwd."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    yield tmp_path
