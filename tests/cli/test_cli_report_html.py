"""``check --format html``: a self-contained report of the findings (per rule, per file, with source
lines and rule pages), their baseline status, and the launch graph with the findings drawn on it."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from celery_boundary.cli import main
from celery_boundary.gate.catalog import DOCS_URL

SHOP = Path(__file__).resolve().parents[2] / "fixtures" / "shop"


class _Report(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.loaded: list[str] = []
        self.srcdoc = ""
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        self.loaded += [value or "" for name, value in attrs if name in ("src", "xlink:href", "action")]
        if tag in ("link", "script") and (values.get("href") or values.get("src")):
            self.loaded.append(values.get("href") or values.get("src") or "")
        if tag == "iframe":
            self.srcdoc = values.get("srcdoc") or ""
        if values.get("id"):
            self.ids.append(values["id"] or "")


def report_of(tmp_path: Path, *args: str) -> tuple[str, _Report]:
    target = tmp_path / "report.html"
    main(["check", ".", "--format", "html", "-o", str(target), "-q", *args])
    text = target.read_text(encoding="utf-8")
    parser = _Report()
    parser.feed(text)
    parser.close()
    return text, parser


def test_report_lists_findings_by_rule_and_draws_the_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SHOP)
    text, parsed = report_of(tmp_path)
    assert "4 findings, 7 files checked" in text
    for code in ("CB201", "CB203", "CB204", "CB401"):
        assert f"rule-{code}" in parsed.ids and f"{DOCS_URL}rules/{code}/" in parsed.links
    assert "   31 |     _reserve.delay(order.id)  # expect: CB201" in html.unescape(text)
    assert not parsed.loaded  # nothing fetched: the only addresses are links to the rule pages
    assert all(link.startswith(("#", DOCS_URL)) for link in parsed.links)
    # The graph page inside the report: its data is graph --format json's, findings included.
    data = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', parsed.srcdoc, re.S)
    assert data is not None
    graph = json.loads(data.group(1))
    edge = next(e for e in graph["edges"]
                if e["target"] == "task:shop.tasks._reserve" and e["source"] == "sites:shop.views")
    assert [f["code"] for f in edge["findings"]] == ["CB201"]
    assert not re.search(r'\s(?:src|href)="(?:https?:)?//', parsed.srcdoc)


def test_report_shows_the_baseline_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SHOP)
    baseline = tmp_path / "baseline.json"
    assert main(["check", ".", "--write-baseline", str(baseline), "-q", "--select", "CB201,CB203"]) == 0
    text, _ = report_of(tmp_path, "--baseline", str(baseline))
    assert "2 findings, 7 files checked; 2 more accepted by the baseline" in text
    assert text.count('<span class="accepted">accepted</span>') == 2
    assert text.count('<span class="new">new</span>') == 2
