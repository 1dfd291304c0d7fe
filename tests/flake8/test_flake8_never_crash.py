"""The rules never raise on real code: CPython's standard library and everything installed
(slow), and a fast smoke subset (celery, kombu and a slice of the standard library)."""

from __future__ import annotations

import ast
import sys
import sysconfig
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from celery_boundary.checks import RuleSettings, check_tree

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SITE = Path(sysconfig.get_paths()["purelib"])
#: A CB301 threshold below zero and a user decorator make every task path run, not only the reporting ones.
EAGER = RuleSettings(task_decorators=frozenset({"invoke.task"}), max_task_logic=-1)


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


#: The canvas rules follow an ``a | b | ...`` chain by recursion, about three frames a link, so CPython's
#: default limit (1000 frames) ends them near 330 links (318 under pytest); 250 leaves room for callers.
FOLLOWED_LINKS = 250
#: Parses (CPython 3.11), but deeper than the canvas rules recurse.
UNFOLLOWED_LINKS = 700


@pytest.fixture
def flake8_recursion_limit() -> Iterator[None]:
    """CPython's default limit, under which flake8 runs the rules (mypy's main raises it to 2**14 in
    any process that ran mypy before, which would move the followed depth)."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def canvas_launched_in_a_task(links: int) -> str:
    pipe = " | ".join(["t.s(1)"] * links)
    return (f"from celery import shared_task\n@shared_task\ndef t(x): return x\n@shared_task\ndef u():\n"
            f"    ({pipe}).delay()\n")


@pytest.mark.usefixtures("flake8_recursion_limit")
def test_a_canvas_of_250_chained_links_launched_in_a_task_is_still_cb203() -> None:
    findings = check_tree(ast.parse(canvas_launched_in_a_task(FOLLOWED_LINKS)))
    assert [(f.code, f.line) for f in findings] == [("CB202", 3), ("CB203", 6)]


@pytest.mark.usefixtures("flake8_recursion_limit")
def test_past_the_followed_depth_the_canvas_rules_fall_silent_and_the_other_rules_still_report() -> None:
    concat = " + ".join(['["pickle"]'] * UNFOLLOWED_LINKS)  # the settings rules read this without recursion
    source = canvas_launched_in_a_task(UNFOLLOWED_LINKS) + f"accept_content = {concat}\n"
    findings = check_tree(ast.parse(source))  # no RecursionError escapes to flake8
    # flake8 has no CB001: the canvas group's CB202/CB203 are dropped for this module, nothing else is.
    assert [(f.code, f.line) for f in findings] == [("CB102", 7)]
