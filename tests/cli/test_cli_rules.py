"""``celery-boundary rules`` and ``celery-boundary rule CODE``."""

from __future__ import annotations

from pathlib import Path

import pytest

from celery_boundary.cli import main
from celery_boundary.core import rules
from celery_boundary.gate import catalog


def test_rules_lists_every_rule_with_slug_tools_default_and_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == ["code", "slug", "tools", "default", "fix"]
    assert [row[0] for row in rows[1:]] == [rule.code for rule in rules.RULES]
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code["CB101"] == ["CB101", "pickle-serializer", "flake8,cli", "on", "unsafe"]
    assert by_code["CB202"][4] == "safe"
    assert by_code["celery-lossy"][2] == "mypy,cli"


def test_rule_prints_the_page_from_the_docs_when_there_is_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "docs" / "rules").mkdir(parents=True)
    (tmp_path / "docs" / "rules" / "CB203.md").write_text("# CB203 canvas-launched-in-task\n\nWhat it does ...\n")
    monkeypatch.setattr(catalog, "CHECKOUT", tmp_path)
    monkeypatch.setattr(catalog, "PACKAGED", tmp_path / "no-wheel")
    assert main(["rule", "cb203"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "# CB203 canvas-launched-in-task\n\nWhat it does ...\n"
    assert f"from {tmp_path / 'docs' / 'rules' / 'CB203.md'}" in captured.err


def test_rule_falls_back_to_the_registry_when_docs_are_not_installed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(catalog, "CHECKOUT", tmp_path)  # no docs/ next to the package
    monkeypatch.setattr(catalog, "PACKAGED", tmp_path / "no-wheel")  # and no pages in it
    assert main(["rule", "CB401"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# CB401 periodic-task-without-expiry\n\nA periodic task has no expiry.\n")
    assert "Fix: safe (Add expires to the schedule entry)" in out
    assert "docs/rules/CB401.md is not installed with the package; this is the rule registry's summary" in out
    assert "The page: https://celery-boundary.github.io/celery-boundary/rules/CB401/" in out


def test_rule_prefers_the_pages_the_wheel_carries(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "docs" / "rules").mkdir(parents=True)
    (tmp_path / "docs" / "rules" / "CB204.md").write_text("# from the checkout\n")
    (tmp_path / "rules_docs").mkdir()
    (tmp_path / "rules_docs" / "CB204.md").write_text("# from the wheel\n")
    monkeypatch.setattr(catalog, "CHECKOUT", tmp_path)
    monkeypatch.setattr(catalog, "PACKAGED", tmp_path / "rules_docs")
    assert main(["rule", "CB204"]) == 0
    assert capsys.readouterr().out == "# from the wheel\n"


def test_links_between_pages_become_links_to_the_docs_site() -> None:
    site = catalog.DOCS_URL
    page = "[a](CB101.md), [b](../configuration.md#exclude), [c](index.md), [d](https://example.org/x.md), [e](#f)"
    assert catalog.with_absolute_links(page) == (
        f"[a]({site}rules/CB101/), [b]({site}configuration/#exclude), [c]({site}rules/), "
        "[d](https://example.org/x.md), [e](#f)"
    )


def test_rule_reads_the_real_page_of_this_checkout(capsys: pytest.CaptureFixture[str]) -> None:
    page = catalog.CHECKOUT / "docs" / "rules" / "CB101.md"
    if not page.is_file():
        pytest.skip("docs/rules/CB101.md is written with the flake8 rules (issue 4)")
    assert main(["rule", "CB101"]) == 0
    assert capsys.readouterr().out.rstrip("\n") == page.read_text(encoding="utf-8").rstrip("\n")


def test_an_unknown_code_exits_2_listing_the_known_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rule", "CB999"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "celery-boundary: error: unknown rule code 'CB999'; known codes: "
        + ", ".join(rule.code for rule in rules.RULES) + "\n"
    )
