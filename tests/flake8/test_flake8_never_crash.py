"""The rules never raise on real code: CPython's standard library and everything installed
(slow), and a fast smoke subset (celery, kombu and a slice of the standard library)."""

from __future__ import annotations

import ast
import sysconfig
import warnings
from collections.abc import Iterable
from pathlib import Path

import pytest

from celery_boundary.checks import RuleSettings, check_tree

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SITE = Path(sysconfig.get_paths()["purelib"])
#: Thresholds at zero and a user decorator make every task path run, not only the reporting ones.
EAGER = RuleSettings(task_decorators=frozenset({"invoke.task"}), max_task_statements=0, max_task_branches=0,
                 max_task_loops=0, max_task_depth=0)


def crashes(paths: Iterable[Path]) -> tuple[int, list[str]]:
    checked, failures = 0, []
    for path in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, OSError, RecursionError):
            continue  # flake8 reports E999 for these; the plugin is not run
        checked += 1
        for settings in (RuleSettings(), EAGER):
            try:
                check_tree(tree, settings)
            except Exception as exc:  # noqa: BLE001 - the point is to see any exception
                failures.append(f"{path}: {exc!r}")
    return checked, failures


def smoke_paths() -> list[Path]:
    paths: list[Path] = []
    for package in ("celery", "kombu"):
        paths += sorted((SITE / package).rglob("*.py"))
    for module in ("asyncio", "json", "email", "concurrent"):
        paths += sorted((STDLIB / module).rglob("*.py"))
    return paths


def test_smoke_subset_never_crashes() -> None:
    checked, failures = crashes(smoke_paths())
    assert checked > 300
    assert failures == []


@pytest.mark.slow
def test_standard_library_never_crashes() -> None:
    checked, failures = crashes(p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts)
    assert checked > 1000
    assert failures == []


@pytest.mark.slow
def test_site_packages_never_crash() -> None:
    checked, failures = crashes(SITE.rglob("*.py"))
    assert checked > 1000
    assert failures == []


def test_pathologically_long_operator_chains_give_silence_not_a_traceback() -> None:
    pipe = " | ".join(["t.s(1)"] * 700)  # parses (CPython 3.11), deeper than the rules recurse
    concat = " + ".join(['["pickle"]'] * 700)
    source = (f"from celery import shared_task\n@shared_task\ndef t(x): pass\n@shared_task\ndef u():\n"
              f"    ({pipe}).delay()\naccept_content = {concat}\n")
    check_tree(ast.parse(source))  # no exception
