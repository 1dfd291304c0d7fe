"""The pages of rules that only ``celery-boundary check`` reports are executed through it: one file
cannot show a project-wide rule, so each block holds several files (``# file: path`` lines) written
into a project. The "Example" produces exactly the page's code, "Use instead" nothing; the page has
the sections of every rule page (tests/flake8/test_flake8_docs.py runs the flake8 rules' pages)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main
from celery_boundary.core import rules

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"
CODES = sorted(rule.code for rule in rules.RULES if rule.tools == (rules.Tool.CLI,))
SECTIONS = ("What it does", "Why is this bad", "Example", "Use instead", "Options", "Fix safety", "Tools")
APP = 'from celery import Celery\n\napp = Celery("shop")\n'


def files_in(page: str, section: str) -> dict[str, str]:
    match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", page, re.S | re.M)
    assert match, f"no section {section!r}"
    code = re.search(r"```python\n(.*?)```", match.group(1), re.S)
    assert code, f"no python block in {section!r}"
    parts = re.split(r"^# file: (\S+)\n", code.group(1), flags=re.M)
    assert parts[0] == "" and len(parts) >= 5, "a project of at least two files"
    return dict(zip(parts[1::2], parts[2::2]))


def run(project: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> set[str]:
    for relative, text in files.items():
        write(project, relative, text)
        for folder in Path(relative).parents[:-1]:
            (project / folder / "__init__.py").touch()
    write(project, "shop/celery_app.py", APP)
    main(["check", "-q", "--format", "json"])
    return {finding["code"] for finding in json.loads(capsys.readouterr().out)}


def test_there_are_project_only_rules() -> None:
    assert CODES == ["CB001", "CB205"]  # CB001: a file check could not check (the gate's own code)


@pytest.mark.parametrize("code", CODES)
def test_page_has_every_section_in_order(code: str) -> None:
    page = (DOCS / f"{code}.md").read_text(encoding="utf-8")
    assert re.findall(r"^## (.+)$", page, re.M) == list(SECTIONS)
    assert page.startswith(f"# {code} — {rules.get(code).slug}\n")


@pytest.mark.parametrize("code", CODES)
def test_example_produces_exactly_its_code(code: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = (DOCS / f"{code}.md").read_text(encoding="utf-8")
    assert run(project, files_in(page, "Example"), capsys) == {code}


@pytest.mark.parametrize("code", CODES)
def test_use_instead_produces_nothing(code: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = (DOCS / f"{code}.md").read_text(encoding="utf-8")
    assert run(project, files_in(page, "Use instead"), capsys) == set()
