"""What ``rules`` and ``rule CODE`` print, and the help every SARIF rule carries: the registry in
core/rules.py plus the rule's page, docs/rules/<code>.md.

The pages live in the source tree, not in the wheel, so a page is looked up next to the package (a
checkout or an editable install) and otherwise the registry's summary stands in, saying so.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from celery_boundary.core import rules
from celery_boundary.gate.errors import UsageError

#: src/celery_boundary/gate/catalog.py -> the checkout root, where docs/ lives.
CHECKOUT: Final = Path(__file__).resolve().parents[3]
URL_KEYS: Final = ("documentation", "source", "repository", "homepage")


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


def page(rule: rules.Rule, docs: Path | None = None) -> Page:
    """The rule's documentation page, or a page built from the registry when docs are not installed."""
    folder = (docs or CHECKOUT / "docs") / "rules"
    for candidate in (folder / f"{rule.code}.md", *sorted(folder.glob(f"{rule.code}-*.md"))):
        try:
            return Page(rule, candidate.read_text(encoding="utf-8"), candidate)
        except OSError:
            continue
    note = f"\n({rule.doc_page} is not installed with the package; this is the rule registry's summary.)\n"
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
    """Where a reader finds the page: under the project's declared URL, else its path in the source tree."""
    base = _project_url()
    return f"{base.rstrip('/')}/blob/HEAD/{rule.doc_page}" if base else rule.doc_page


def _project_url() -> str | None:
    try:
        declared = importlib.metadata.metadata("celery-boundary").get_all("Project-URL") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    urls = {}
    for entry in declared:
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip()
    return next((urls[key] for key in URL_KEYS if key in urls), None)


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
