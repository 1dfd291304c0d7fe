"""The examples on each rule page are executed: the "Example" block produces exactly the page's code,
the "Use instead" block nothing (registry = pages = example files: tests/test_rule_registry.py)."""

from __future__ import annotations

import re

import pytest

from celery_boundary.core import rules
from celery_boundary.checks import check_source
from flake8_expectations import ROOT

DOCS = ROOT / "docs" / "rules"
CODES = sorted(r.code for r in rules.RULES if rules.Tool.FLAKE8 in r.tools)
SECTIONS = ("What it does", "Why is this bad", "Example", "Use instead", "Options", "Fix safety", "Tools")


def block(page: str, section: str) -> str:
    match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", page, re.S | re.M)
    assert match, f"no section {section!r}"
    code = re.search(r"```python\n(.*?)```", match.group(1), re.S)
    assert code, f"no python block in {section!r}"
    return code.group(1)


@pytest.mark.parametrize("code", CODES)
def test_page_has_every_section_in_order(code: str) -> None:
    page = (DOCS / f"{code}.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", page, re.M)
    assert headings == list(SECTIONS)
    assert page.startswith(f"# {code} — {rules.get(code).slug}\n")


@pytest.mark.parametrize("code", CODES)
def test_example_produces_exactly_its_code(code: str) -> None:
    page = (DOCS / f"{code}.md").read_text(encoding="utf-8")
    assert {f.code for f in check_source(block(page, "Example"))} == {code}


@pytest.mark.parametrize("code", CODES)
def test_use_instead_produces_nothing(code: str) -> None:
    page = (DOCS / f"{code}.md").read_text(encoding="utf-8")
    assert check_source(block(page, "Use instead")) == []
