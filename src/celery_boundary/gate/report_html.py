"""``check --format html``: one self-contained report. A summary per rule (with a link to the rule's
page on the docs site), the findings grouped by rule and file with their source lines, their baseline
status (new, or accepted by ``--baseline``, and the baseline's stale entries), and the launch graph
(``gate.graph_html``'s page, in an ``<iframe srcdoc>``) with the findings drawn on it. Nothing is
loaded from the network: the only addresses are the links to the rule pages.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from celery_boundary.analysis.graph_project import build_graph
from celery_boundary.core import rules
from celery_boundary.core.findings import Finding
from celery_boundary.gate.baseline import Entry
from celery_boundary.gate.catalog import help_uri
from celery_boundary.gate.graph_files import module_graphs
from celery_boundary.gate.graph_html import render_html

_STYLE: Final = """
body { font: 14px/1.45 Helvetica, Arial, sans-serif; margin: 24px; color: #202124; max-width: 1200px; }
table { border-collapse: collapse; } td, th { padding: 4px 10px; border-bottom: 1px solid #dadce0; text-align: left; }
th { background: #f1f3f4; } .new { color: #d93025; font-weight: bold; } .accepted { color: #5f6368; }
pre { background: #f8f9fa; padding: 6px 10px; margin: 4px 0 10px; overflow-x: auto; }
h2 { margin-top: 32px; } h3 { margin: 18px 0 4px; } h4 { margin: 10px 0 2px; font-family: monospace; }
iframe { width: 100%; height: 720px; border: 1px solid #dadce0; }
"""


@dataclass(frozen=True)
class Report:
    #: What fails the gate: findings not accepted by the baseline.
    new: Sequence[Finding]
    #: Findings the baseline accepts (empty without ``--baseline``).
    accepted: Sequence[Finding] = ()
    baseline: Path | None = None
    stale: Sequence[Entry] = ()
    files: int = 0
    #: ``graph --format html``'s page for the checked files, or "" when there is no task to draw.
    graph_page: str = ""


def graph_page(files: Sequence[Path], findings: Sequence[Finding], decorators: frozenset[str]) -> str:
    """``graph --format html``'s page for the checked files with ``findings`` drawn, or "" without a task."""
    try:
        graph = build_graph(module_graphs(list(files), decorators), findings)
        return render_html(graph) if graph.nodes else ""
    except Exception:  # the picture is an extra: the report of the findings is written without it
        return ""


def render_findings(findings: Sequence[Finding]) -> str:
    """The report of ``findings`` alone (no baseline, no graph): the ``html`` entry of ``formats``."""
    return render_report(Report(findings))


def render_report(report: Report) -> str:
    every = sorted([*((f, True) for f in report.new), *((f, False) for f in report.accepted)])
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>celery-boundary check</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
             "<h1>celery-boundary check</h1>", f"<p>{_headline(report)}</p>"]
    parts += _summary(every)
    parts += _findings(every)
    parts += _stale(report)
    if report.graph_page:
        parts += ['<h2 id="graph">Launch graph</h2>',
                  "<p>What launches what, with the findings in red; click a node for its sites and findings.</p>",
                  f'<iframe title="launch graph" srcdoc="{html.escape(report.graph_page, quote=True)}"></iframe>']
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _headline(report: Report) -> str:
    text = f"{len(report.new)} finding{'s' if len(report.new) != 1 else ''}, {report.files} file" \
           f"{'s' if report.files != 1 else ''} checked"
    if report.baseline is not None:
        text += (f"; {len(report.accepted)} more accepted by the baseline <code>{html.escape(str(report.baseline))}"
                 f"</code>, {len(report.stale)} of its entries stale")
    return text


def _summary(every: Sequence[tuple[Finding, bool]]) -> list[str]:
    counts: dict[str, list[int]] = {}
    for finding, new in every:
        counts.setdefault(finding.code, [0, 0])[0 if new else 1] += 1
    if not counts:
        return ["<h2>Summary</h2>", "<p>No findings.</p>"]
    rows = ["<h2>Summary</h2>", "<table>", "<tr><th>rule</th><th>what</th><th>new</th><th>accepted</th></tr>"]
    for code in sorted(counts):
        rule = rules.BY_CODE.get(code)
        name = f'<a href="#{_anchor(code)}">{html.escape(code)}</a>'
        what = (f'<a href="{html.escape(help_uri(rule))}">{html.escape(rule.slug)}</a>: {html.escape(rule.summary)}'
                if rule is not None else "")
        fresh, accepted = counts[code]
        rows.append(f"<tr><td>{name}</td><td>{what}</td><td class=\"new\">{fresh}</td>"
                    f"<td class=\"accepted\">{accepted}</td></tr>")
    return [*rows, "</table>"]


def _findings(every: Sequence[tuple[Finding, bool]]) -> list[str]:
    by_rule: dict[str, dict[str, list[tuple[Finding, bool]]]] = {}
    for finding, new in every:
        by_rule.setdefault(finding.code, {}).setdefault(finding.path, []).append((finding, new))
    parts = ["<h2>Findings</h2>"] if by_rule else []
    for code in sorted(by_rule):
        rule = rules.BY_CODE.get(code)
        page = f' (<a href="{html.escape(help_uri(rule))}">rule page</a>)' if rule is not None else ""
        parts.append(f'<h3 id="{_anchor(code)}">{html.escape(code)}{page}</h3>')
        for path in sorted(by_rule[code]):
            parts.append(f"<h4>{html.escape(path)}</h4>")
            for finding, new in sorted(by_rule[code][path], key=lambda item: (item[0].line, item[0].column)):
                status = '<span class="new">new</span>' if new else '<span class="accepted">accepted</span>'
                parts.append(f"<div>{status} line {finding.line}, column {finding.column}: "
                             f"{html.escape(finding.message)}</div>")
                if finding.source_line.strip():
                    parts.append(f"<pre>{finding.line:>5} | {html.escape(finding.source_line.rstrip())}</pre>")
    return parts


def _stale(report: Report) -> list[str]:
    if not report.stale:
        return []
    items = "".join(f"<li>{html.escape(e.path)}:{e.line}: {html.escape(e.code)} {html.escape(e.message)}</li>"
                    for e in report.stale)
    return ["<h2>Stale baseline entries</h2>",
            "<p>These accepted findings no longer occur (fixed, or the line changed); "
            "rewrite the baseline with <code>--write-baseline</code> to drop them.</p>", f"<ul>{items}</ul>"]


def _anchor(code: str) -> str:
    return "rule-" + "".join(char if char.isalnum() else "-" for char in code)
