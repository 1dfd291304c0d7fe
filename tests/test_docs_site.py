"""The docs site: mkdocs.yml lists every page of docs/, ``mkdocs build --strict`` succeeds (a broken
link or anchor fails it), every rule's helpUri and every link of the SARIF help lands on a built page,
and the README's links to docs/ resolve on GitHub (relative paths to files of the repository, and
their anchors to headings)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from celery_boundary.core import rules
from celery_boundary.gate import catalog

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CONFIG = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def nav_pages(nav: list[Any]) -> Iterator[str]:
    for entry in nav:
        if isinstance(entry, str):
            yield entry
            continue
        for value in entry.values():
            yield from nav_pages(value) if isinstance(value, list) else [value]


def test_the_nav_lists_every_page_of_docs_once() -> None:
    pages = list(nav_pages(CONFIG["nav"]))
    assert len(pages) == len(set(pages))
    assert set(pages) == {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}


def test_one_docs_url_for_the_site_the_package_and_the_sarif_help() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert CONFIG["site_url"] == project["urls"]["Documentation"] == catalog.DOCS_URL


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", ROOT / "mkdocs.yml", "--site-dir", out],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr
    return out


def built(site: Path, url: str) -> bool:
    assert url.startswith(catalog.DOCS_URL), url
    return (site / url.removeprefix(catalog.DOCS_URL).split("#")[0] / "index.html").is_file()


def test_the_site_builds_strictly_with_a_page_per_rule(site: Path) -> None:
    for rule in rules.RULES:
        assert built(site, catalog.help_uri(rule)), rule.code


def test_the_links_of_the_sarif_help_land_on_built_pages(site: Path) -> None:
    links = set()
    for rule in rules.RULES:
        markdown = catalog.with_absolute_links(catalog.page(rule).text)
        links |= set(re.findall(rf"\]\(({re.escape(catalog.DOCS_URL)}[^)]*)\)", markdown))
    assert len(links) > 5
    assert [link for link in sorted(links) if not built(site, link)] == []


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", markdown, re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_the_readme_links_to_files_and_headings_of_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = [link for link in re.findall(r"\]\(([^)\s]+)\)", readme) if "://" not in link]
    assert "docs/ci.md#pre-commit" in links
    broken = []
    for link in links:
        target, _, anchor = link.partition("#")
        if not (ROOT / target).exists():
            broken.append(link)
        elif anchor and anchor not in github_anchors((ROOT / target).read_text(encoding="utf-8")):
            broken.append(link)
    assert broken == []
