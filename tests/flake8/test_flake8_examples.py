"""Each example file in examples/ is checked: the rules report exactly the codes written in the
trailing comments, on those lines (traps - shadowed names, dict.get, invoke's @task, env-driven
settings, custom base classes, custom serializers - carry no comment and must stay silent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flake8_expectations import EXAMPLES, expected, found

FILES = sorted(EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_example_reports_exactly_the_commented_codes(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    want = expected(text)
    assert want, f"{path.name} expects nothing: an example must show its rule firing"
    got = found(text)
    assert sorted(got - want) == [], "reported but not expected"
    assert sorted(want - got) == [], "expected but not reported"


def test_every_message_starts_with_its_code_and_names_a_fix() -> None:
    from celery_boundary.checks import check_source

    for path in FILES:
        for finding in check_source(path.read_text(encoding="utf-8")):
            assert finding.text.startswith(finding.code + " ")
            assert any(word in finding.message for word in (";", ":")), finding.message


def test_the_text_pretest_never_skips_a_file_with_findings() -> None:
    from celery_boundary.checks import check_source, might_apply

    from flake8_expectations import ROOT, settings_of

    texts = [p.read_text(encoding="utf-8") for p in FILES]
    for page in sorted((ROOT / "docs" / "rules").glob("CB*.md")):
        texts += page.read_text(encoding="utf-8").split("```python\n")[1:]
    for text in texts:
        if check_source(text.split("```")[0], settings_of(text)):
            assert might_apply(text, settings_of(text)), text[:200]
