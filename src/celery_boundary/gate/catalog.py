"""What ``rules`` and ``rule CODE`` print, and the help every SARIF rule carries: the registry in
core/rules.py plus the rule's page, docs/rules/<code>.md.

docs/rules is the pages' only copy in the repository. The wheel carries them as
``celery_boundary/rules_docs/`` (pyproject.toml's hatch ``force-include`` copies them at build time), so
an installed package reads them there; a checkout or an editable install reads docs/rules. When neither
is found the registry's summary stands in, saying so.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from celery_boundary.core import rules
from celery_boundary.gate.errors import UsageError

#: src/celery_boundary/gate/catalog.py -> celery_boundary/rules_docs, where the wheel puts the pages.
PACKAGED: Final = Path(__file__).resolve().parents[1] / "rules_docs"
#: src/celery_boundary/gate/catalog.py -> the checkout root, where docs/ lives.
CHECKOUT: Final = Path(__file__).resolve().parents[3]
#: The docs site built from docs/ by mkdocs.yml (its site_url; pyproject.toml's Documentation URL).
DOCS_URL: Final = "https://celery-boundary.github.io/celery-boundary/"
#: A Markdown link to another page of docs/: ``[text](../configuration.md#exclude)``.
_RELATIVE_LINK: Final = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:|/|#)([^)\s#]+)\.md(#[^)\s]*)?\)")


@dataclass(frozen=True)
class Page:
    rule: rules.Rule
    text: str
    #: The file the text was read from, or None when it is the registry's summary.
    source: Path | None


def lookup(code: str) -> rules.Rule:
    rule = rules.BY_CODE.get(code) or rules.BY_CODE.get(code.upper())
    if rule is None:
        known = ", ".join(r.code for r in rules.RULES)
        raise UsageError(f"unknown rule code {code!r}; known codes: {known}")
    return rule


def page(rule: rules.Rule) -> Page:
    """The rule's documentation page, or a page built from the registry when no page is found."""
    for folder in (PACKAGED, CHECKOUT / "docs" / "rules"):
        for candidate in (folder / f"{rule.code}.md", *sorted(folder.glob(f"{rule.code}-*.md"))):
            try:
                return Page(rule, candidate.read_text(encoding="utf-8"), candidate)
            except OSError:
                continue
    note = (
        f"\n({rule.doc_page} is not installed with the package; this is the rule registry's summary."
        f" The page: {help_uri(rule)})\n"
    )
    return Page(rule, summary_page(rule) + note, None)


def summary_page(rule: rules.Rule) -> str:
    fix = f"{rule.fix.value} ({rule.fix_title})" if rule.fix_title else rule.fix.value
    return (
        f"# {rule.code} {rule.slug}\n\n{rule.summary}.\n\n"
        f"- Tools: {', '.join(tool.value for tool in rule.tools)}\n"
        f"- Enabled by default: {'yes' if rule.default_enabled else 'no'}\n"
        f"- Fix: {fix}\n"
    )


def table() -> str:
    """One row per rule: code, slug, tools, default on/off, fix safety."""
    rows = [("code", "slug", "tools", "default", "fix")]
    rows += [
        (r.code, r.slug, ",".join(t.value for t in r.tools), "on" if r.default_enabled else "off", r.fix.value)
        for r in rules.RULES
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n" for row in rows)


def help_uri(rule: rules.Rule) -> str:
    """The rule's page on the docs site (mkdocs serves docs/rules/CB101.md as rules/CB101/)."""
    return f"{DOCS_URL}rules/{rule.code}/"


def with_absolute_links(text: str) -> str:
    """A rule page's links to other pages of docs/ as links to the docs site, for readers of the page
    outside the site (SARIF help in code scanning)."""

    def absolute(match: re.Match[str]) -> str:
        # mkdocs (use_directory_urls): rules/CB101.md -> rules/CB101/, rules/index.md -> rules/
        path = posixpath.normpath(posixpath.join("rules", match.group(1))) + "/"
        path = "" if path == "index/" else path.removesuffix("index/") if path.endswith("/index/") else path
        return f"]({DOCS_URL}{path}{match.group(2) or ''})"

    return _RELATIVE_LINK.sub(absolute, text)


#: The lines around the generated table in docs/rules/index.md.
INDEX_START: Final = "<!-- the table below is generated from core/rules.py: python scripts/rule_index.py -->"
INDEX_END: Final = "<!-- end of the generated table -->"


def index_table() -> str:
    """The rules table of docs/rules/index.md, one row per CB rule of the registry (the flake8 rules and
    those only ``celery-boundary check`` reports, marked so)."""
    rows = ["| code | slug | on by default | fix | what it reports |", "| --- | --- | --- | --- | --- |"]
    for rule in rules.RULES:
        if rules.Tool.MYPY in rule.tools:
            continue
        default = "yes" if rule.default_enabled else "**no (opt-in)**"
        if rules.Tool.FLAKE8 not in rule.tools:
            default += " (`celery-boundary check` only)"
        fix = f"{rule.fix.value}: {rule.fix_title.lower()}" if rule.fix_title else rule.fix.value
        rows.append(f"| [{rule.code}]({rule.code}.md) | {rule.slug} | {default} | {fix} | {rule.summary} |")
    return "\n".join(rows) + "\n"


def with_index_table(page: str) -> str:
    """``page`` (docs/rules/index.md) with its generated table replaced by the registry's."""
    start, end = page.index(INDEX_START), page.index(INDEX_END)
    return page[: start + len(INDEX_START)] + "\n" + index_table() + page[end:]
