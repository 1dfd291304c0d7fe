"""Contracts a client is checked against, read from a file named in the configuration: an edited
document is in ``report_config_data`` (its content's digest), so a warm run re-checks the call sites
against it; a missing or damaged contract stops mypy with one line, as any bad configuration does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from mypy import api

CALLS = """\
from celery import Celery

app = Celery("shop")
app.send_task("billing.refund", args=(7,))
"""


def contract(kind: str) -> str:
    parameter = {"name": "charge_id", "kind": "positional_or_keyword", "required": True, "type": kind, "schema": None}
    task = {"name": "billing.refund", "parameters": [parameter], "result": {"type": None, "schema": None},
            "serializer": {"name": "json", "source": "default"}}
    return json.dumps({"format": "celery-boundary/task-contracts", "version": 1, "tasks": [task]})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "calls.py").write_text(CALLS)
    (tmp_path / "billing.json").write_text(contract("str"))
    (tmp_path / "mypy.ini").write_text(
        "[mypy]\nplugins = celery_boundary.mypy\n\n[celery_boundary]\ncontracts = billing.json\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_mypy(root: Path) -> int:
    _, _, status = api.run(["--cache-dir", str(root / ".mypy_cache"), "--config-file", str(root / "mypy.ini"),
                            "calls.py"])
    return status


def test_an_edited_contract_changes_the_cache_key(project: Path) -> None:
    """mypy re-checks every module whose ``report_config_data`` changed: a warm run after an edited
    contract checks the call sites against the new one (the key holds the documents' digest)."""
    from mypy.options import Options

    from celery_boundary.mypy.startup.settings import load_settings

    options = Options()
    options.config_file = str(project / "mypy.ini")
    before = load_settings(options).config_data()
    (project / "billing.json").write_text(contract("int"))
    after = load_settings(options).config_data()
    assert before["contracts"][0] == after["contracts"][0] == ["billing.json"]
    assert before["contracts"][1] != after["contracts"][1]
    (project / "billing.json").write_text(contract("str"))
    assert load_settings(options).config_data() == before


def test_a_damaged_contract_is_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "billing.json").write_text("{")
    status = run_mypy(project)
    err = capsys.readouterr().err
    assert status == 2
    assert err.strip().splitlines() == [
        f"celery-boundary: error: {project / 'mypy.ini'}: [celery_boundary] contracts: 'billing.json' is not JSON "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"]


def section(page: str, heading: str) -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / page).read_text(encoding="utf-8")
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_the_docs_example_reports_what_the_page_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/contracts.md, "Checking clients": the service's block exported as its contract, the client's
    block checked by mypy (``# error:`` comments, as tests/mypy/test_docs_examples.py reads them) and by
    ``celery-boundary check`` (the console block)."""
    from test_docs_examples import REPORTED, expectations, matches

    from celery_boundary.cli import main

    text = section("contracts.md", "Checking clients")
    service, client = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    [console] = re.findall(r"```console\n(.*?)```", text, flags=re.S)
    [toml] = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    service_root, project = tmp_path / "billing-service", tmp_path / "shop-service"
    (service_root / "billing").mkdir(parents=True)
    (service_root / "billing" / "tasks.py").write_text(service)
    (project / "contracts").mkdir(parents=True)
    assert main(["contracts", "export", str(service_root / "billing" / "tasks.py"), "-o",
                 str(project / "contracts" / "billing.json")]) == 0
    monkeypatch.chdir(project)
    (project / ".git").mkdir()
    (project / "pyproject.toml").write_text(toml)
    (project / "shop").mkdir()
    (project / "shop" / "views.py").write_text(client)
    (project / "mypy.ini").write_text("[mypy]\nplugins = celery_boundary.mypy\n")

    stdout, _, _ = api.run(["--cache-dir", str(project / ".mypy_cache"), "--config-file", "mypy.ini", "shop/views.py"])
    errors, _ = expectations(client.splitlines())
    unexpected = []
    for line in stdout.splitlines():
        found = REPORTED.match(line)
        if found is None or found.group(2) != "error":
            continue
        number, message = int(found.group(1)), found.group(3)
        hit = next((e for e in errors if number in e[0] and matches(e[1], message)), None)
        if hit is None:
            unexpected.append(line)
        else:
            errors.remove(hit)
    assert not unexpected and not errors, (unexpected, errors, stdout)

    capsys.readouterr()
    main(["check", "-q", "shop/"])
    command, *expected = console.strip().splitlines()
    assert command == "$ celery-boundary check shop/"
    assert capsys.readouterr().out.strip().splitlines() == expected
