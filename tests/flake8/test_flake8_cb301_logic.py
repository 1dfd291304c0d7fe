"""CB301 reads business logic, not size: each shape of plumbing that a size rule mistook for logic
weighs (almost) nothing, each shape of logic it missed is reported, and the message names what it
saw and the fix. The shapes live in examples/CB301.py (checked code by code there too)."""

from __future__ import annotations

import ast

import pytest

from celery_boundary.analysis.index import build_index
from celery_boundary.checks import RuleSettings, check_tree
from celery_boundary.checks.thin_tasks import measure_task
from flake8_expectations import EXAMPLES

SOURCE = (EXAMPLES / "CB301.py").read_text(encoding="utf-8")
TREE = ast.parse(SOURCE)
WEIGHTS = {t.name: measure_task(t) for t in build_index(TREE, frozenset()).every_task}
MESSAGES = {f.line: f.message for f in check_tree(TREE, RuleSettings()) if f.code == "CB301"}


def message_of(task: str) -> str:
    line = next(n.lineno for n in ast.walk(TREE) if isinstance(n, ast.FunctionDef) and n.name == task)
    return MESSAGES[line]


@pytest.mark.parametrize("task", ["thin", "send_smtp", "post_webhook", "reindex_all", "rebuild_search",
                                  "report_queue_sizes", "refresh_account", "nightly"])
def test_plumbing_weighs_nothing(task: str) -> None:
    assert WEIGHTS[task].score == 0, WEIGHTS[task]


def test_a_loop_that_mails_owners_weighs_its_one_context() -> None:
    assert WEIGHTS["mail_owners"].score == 1 and WEIGHTS["mail_owners"].records == 1


def test_raw_sql_text_is_reported_by_its_statements() -> None:
    assert WEIGHTS["rank_authors"].sql == 3
    assert "3 raw SQL statements" in message_of("rank_authors")


def test_a_query_built_clause_by_clause_is_logic() -> None:
    assert WEIGHTS["rank_dependents"].queries >= 8
    assert "query clauses (filters, joins, groupings)" in message_of("rank_dependents")


def test_an_expiry_policy_is_reported_with_what_it_decides() -> None:
    found = WEIGHTS["expire_orders"]
    assert (found.decisions, found.computations, found.fields_set) == (2, 1, 3)
    assert "1 computation" in message_of("expire_orders")


def test_the_message_names_the_logic_and_the_fix() -> None:
    text = message_of("notify_followers")
    assert text.startswith("task 'notify_followers' holds business logic (4 branches on the data, "
                           "2 records built, 1 query clause (filters, joins, groupings); weight 7 > 6)")
    assert "function or service that the task calls with its arguments" in text


def test_the_threshold_is_a_setting() -> None:
    def reported(limit: int) -> int:
        return sum(1 for f in check_tree(TREE, RuleSettings(max_task_logic=limit)) if f.code == "CB301")
    assert (reported(100), reported(6), reported(0)) == (0, len(MESSAGES), len(MESSAGES) + 1)  # + mail_owners


def test_a_guard_is_plumbing_but_the_same_test_with_an_else_decides() -> None:
    guard = "from celery import shared_task\n\n@shared_task\ndef t(order):\n    if order.total > 10:\n        return\n"
    decide = guard + "    else:\n        order.flag = 1\n"
    weights = [measure_task(build_index(ast.parse(s), frozenset()).every_task[0]).score for s in (guard, decide)]
    assert weights == [0, 2]
