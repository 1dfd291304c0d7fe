"""One rule, one set of places, kept in step: the codes each rule group declares and emits = the
registry (core/rules.py) = the docs pages = the example files = the generated rules index = the fixes.

Adding a flake8 rule touches its rule module (``CODES`` and the code it reports), the registry, its
docs page and its example file (then ``python scripts/rule_index.py``); a missing one fails here. A
rule that judges only across modules (``celery-boundary check`` only, e.g. CB205) has no example file:
one file cannot show it; its page's examples run through ``check`` (tests/cli/test_cli_rule_pages.py).
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from celery_boundary import checks
from celery_boundary.checks import canvas
from celery_boundary.core import rules
from celery_boundary.gate import catalog, engine, fix

ROOT = Path(__file__).resolve().parents[1]
FLAKE8_CODES = [rule.code for rule in rules.RULES if rules.Tool.FLAKE8 in rule.tools]
#: The gate's own codes: emitted by ``celery-boundary check`` about a file, by no rule group.
GATE_CODES = [engine.NOT_CHECKED]
#: The CB rules: flake8's, and those only ``celery-boundary check`` reports (project-wide).
PROJECT_ONLY_CODES = [rule.code for rule in rules.RULES
                      if rule.tools == (rules.Tool.CLI,) and rule.code not in GATE_CODES]
CB_CODES = [rule.code for rule in rules.RULES if rule.code in FLAKE8_CODES or rule.code in PROJECT_ONLY_CODES]
#: Every CB code of the registry: each has a docs page.
PAGE_CODES = [rule.code for rule in rules.RULES if rule.code.startswith("CB")]
ALL_GROUPS = (*checks.GROUPS, *checks.PROJECT_ONLY)
CODE = re.compile(r"CB\d{3}")


def _code_literals(module: object) -> set[str]:
    """Every ``"CBnnn"`` string in the module's code (docstrings and comments aside)."""
    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and CODE.fullmatch(node.value)}


@pytest.mark.parametrize("group", ALL_GROUPS, ids=lambda group: group.__name__.rsplit(".", 1)[-1])
def test_each_group_declares_exactly_the_codes_it_writes(group: object) -> None:
    declared = set(group.CODES)  # type: ignore[attr-defined]
    assert _code_literals(group) == declared
    docstring = inspect.getdoc(group) or ""
    assert all(code in docstring for code in declared), "the module docstring names the codes it implements"


def test_the_gate_codes_are_cli_only_records_no_group_emits() -> None:
    assert GATE_CODES == ["CB001"]
    assert all(rules.get(code).tools == (rules.Tool.CLI,) and rules.get(code).default_enabled for code in GATE_CODES)
    assert not set(GATE_CODES) & set(checks.CODES)
    assert PAGE_CODES == sorted({*GATE_CODES, *CB_CODES}, key=PAGE_CODES.index)


def test_the_groups_codes_are_the_registry_in_order() -> None:
    assert list(checks.CODES) == CB_CODES
    assert len(set(checks.CODES)) == len(checks.CODES), "a code belongs to one group"
    assert PROJECT_ONLY_CODES == ["CB205"]


def test_project_codes_belong_to_the_groups_that_judge_them() -> None:
    for group in ALL_GROUPS:
        project_codes = set(getattr(group, "PROJECT_CODES", ()))
        assert project_codes <= set(group.CODES)
        assert bool(project_codes) == hasattr(group, "check_project")
    assert checks.PROJECT_CODES == {"CB202", "CB203", "CB206", "CB401", "CB205"}


def test_project_only_rules_are_judged_only_across_modules() -> None:
    """A rule no flake8 run reports has no per-module half, and a group without one reports only
    ``celery-boundary check``-only rules."""
    only = {code for group in checks.PROJECT_ONLY for code in group.CODES}
    assert only == set(PROJECT_ONLY_CODES)
    for group in checks.PROJECT_ONLY:
        assert not hasattr(group, "check") and set(group.PROJECT_CODES) == set(group.CODES)
    assert not only & {code for group in checks.GROUPS for code in group.CODES}


@pytest.mark.parametrize("code", FLAKE8_CODES)
def test_every_code_is_emitted_on_its_example_file(code: str) -> None:
    """The file's first trailing ``# CBnnn`` marks a line the rules report with that code (the whole
    file is compared line by line in tests/flake8/test_flake8_examples.py)."""
    text = (ROOT / "tests" / "flake8" / "examples" / f"{code}.py").read_text(encoding="utf-8")
    emitted = {finding.code for finding in checks.check_source(text)}
    assert code in emitted and f"# {code}" in text


def test_docs_pages_and_example_files_match_the_registry() -> None:
    pages = {path.stem for path in (ROOT / "docs" / "rules").glob("CB*.md")}
    examples = {path.stem[:5] for path in (ROOT / "tests" / "flake8" / "examples").glob("CB*.py")}
    assert set(PAGE_CODES) == pages
    assert set(FLAKE8_CODES) == examples
    assert all(rules.get(code).doc_page == f"docs/rules/{code}.md" for code in PAGE_CODES)


def test_the_rules_index_is_generated_from_the_registry() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "rule_index.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    page = (ROOT / "docs" / "rules" / "index.md").read_text(encoding="utf-8")
    assert set(re.findall(r"^\| \[(CB\d{3})\]", page, re.M)) == set(PAGE_CODES)


def test_a_stale_index_is_caught() -> None:
    page = (ROOT / "docs" / "rules" / "index.md").read_text(encoding="utf-8")
    stale = page.replace("| [CB401](CB401.md)", "| [CB499](CB499.md)")
    assert catalog.with_index_table(stale) == page != stale


def test_every_fix_in_the_registry_has_a_codemod_and_no_codemod_lacks_a_record() -> None:
    with_fix = {rule.code for rule in rules.RULES if rule.fix is not rules.FixSafety.NONE}
    assert fix.FIXABLE == with_fix
    assert set(fix.file_fixers()) | {canvas.CHAIN_ONLY} == with_fix
    assert canvas.CHAIN_ONLY not in fix.file_fixers(), "CB202 is renamed across modules by rename_task"


def test_fix_safety_of_a_codemod_matches_its_registry_record() -> None:
    from celery_boundary.codemods import beat_expiry, pickle_json, private_task

    for module, safety in ((pickle_json, rules.FixSafety.UNSAFE), (beat_expiry, rules.FixSafety.SAFE),
                           (private_task, rules.FixSafety.SAFE)):
        assert {rules.get(code).fix for code in module.CODES} == {safety}
