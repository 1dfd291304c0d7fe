"""Generated modules through the flake8 entry class, as flake8 7 drives it: ``Plugin(tree, lines,
filename)`` then ``run()``. The plugin turns an exception inside the rules into one "internal
error" line on stderr (``Plugin._warn``) and stays silent, so the tests make that path fail.

The standard library and site-packages runs are not repeated here: tests/flake8/
test_flake8_never_crash.py (rules) and tests/cli/test_cli_slow.py (check) already do them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celery_boundary.flake8.plugin import Plugin
from celery_boundary.checks import RuleSettings
from celery_sources import celery_modules, grammar_modules, node_modules

#: A CB301 threshold below zero and a user decorator: every task runs CB301's reporting path, and a module
#: with ``invoke.task`` gets tasks from a configured decorator too.
EAGER = RuleSettings(task_decorators=frozenset({"invoke.task", "proj.celery.app.task"}),
                   trusted_serializers=frozenset({"signed"}), max_task_logic=-1)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def internal_errors_raise() -> Iterator[None]:
    def fail(cls: type[Plugin], text: str) -> None:
        raise AssertionError(text)

    with mock.patch.object(Plugin, "_warn", classmethod(fail)):
        yield


def run_plugin(source: str, options: RuleSettings) -> list[tuple[int, int, str, Any]]:
    """What flake8 does with one file: parse, instantiate, run; every message starts with CB."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    with internal_errors_raise(), mock.patch.object(Plugin, "settings", options):
        found = list(Plugin(tree, lines, "generated.py").run())
    for line, col, text, kind in found:
        assert text.startswith("CB") and text[2:5].isdigit(), text
        assert isinstance(line, int) and line >= 1 and isinstance(col, int) and col >= 0, (line, col)
        assert kind is Plugin
    return found


@FUZZ
@given(source=celery_modules(), eager=st.booleans())
def test_celery_shaped_modules_never_crash_the_plugin(source: str, eager: bool) -> None:
    run_plugin(source, EAGER if eager else RuleSettings())


@FUZZ
@pytest.mark.filterwarnings("ignore::SyntaxWarning:<string>")  # hypothesmith compiles what it generates
@given(source=grammar_modules())
def test_grammar_modules_never_crash_the_plugin(source: str) -> None:
    run_plugin(source, EAGER)


@pytest.mark.slow  # hypothesmith's libcst strategy takes about a second per example to generate
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.filter_too_much])
@given(source=node_modules())
def test_libcst_node_modules_never_crash_the_plugin(source: str) -> None:
    run_plugin(source, EAGER)


def test_the_fragment_strategy_reaches_the_rules() -> None:
    """Guard against a strategy that only ever produces modules the rules skip: known fragments
    must produce findings of several rules through the same path the fuzz tests use."""
    source = (
        "from celery import Celery, chain\napp = Celery('x', task_serializer='pickle')\n\n"
        "@app.task\ndef t():\n    chain(t.s(), t.s()).delay()\n\n"
        "app.add_periodic_task(10, t.s())\n"
    )
    codes = {text.split()[0] for _, _, text, _ in run_plugin(source, EAGER)}
    assert {"CB101", "CB203", "CB301", "CB401"} <= codes
