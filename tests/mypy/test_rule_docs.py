"""The mypy rule pages are tested: every celery-* rule has a page with the house sections, each
python block under "Example" produces exactly that code, each under "Use instead" produces nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

from celery_boundary.core import rules

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("What it does", "Why is this bad", "Example", "Use instead", "Options", "Fix safety", "Tools")
MYPY_RULES = [rule for rule in rules.RULES if rule.code.startswith("celery-")]
CODES = re.compile(r"\[([a-z-]+)\]$")


def sections(page: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", page, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for all pages: stubs are analysed once (only the example module changes)."""
    return tmp_path_factory.mktemp("mypy_cache")


def codes_for(source: str, tmp_path: Path, name: str, cache_dir: Path) -> list[str]:
    module = tmp_path / f"{name}.py"
    module.write_text(source)
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nplugins = celery_boundary.mypy\n")
    stdout, _, _ = api.run(["--cache-dir", str(cache_dir), "--config-file", str(config), str(module)])
    found = []
    for line in stdout.splitlines():
        match = CODES.search(line)
        if ": error:" in line and match:
            found.append(match.group(1))
    return found


@pytest.mark.parametrize("rule", MYPY_RULES, ids=lambda r: r.code)
def test_page_has_the_house_sections(rule: rules.Rule) -> None:
    page = (ROOT / rule.doc_page).read_text()
    assert page.startswith(f"# {rule.code} — {rule.slug}\n")
    assert tuple(sections(page)) == SECTIONS


@pytest.mark.parametrize("rule", MYPY_RULES, ids=lambda r: r.code)
def test_examples_produce_the_code_and_fixes_do_not(rule: rules.Rule, tmp_path: Path, cache_dir: Path) -> None:
    page = sections((ROOT / rule.doc_page).read_text())
    for index, block in enumerate(python_blocks(page["Example"])):
        assert set(codes_for(block, tmp_path, f"bad{index}", cache_dir)) == {rule.code}, block
    for index, block in enumerate(python_blocks(page["Use instead"])):
        assert codes_for(block, tmp_path, f"good{index}", cache_dir) == [], block
