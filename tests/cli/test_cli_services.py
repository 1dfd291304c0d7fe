"""fixtures/services: a worker (billing), the contract exported from it, and a client (storefront)
that sends billing's tasks by name through stubs generated from that contract.

The committed contract and stubs are what the commands write today; the client type-checks against
them with exactly its seeded mistake, under mypy without the plugin and under basedpyright. The round
trip of docs/services.md: a required parameter added to a worker's task is a breaking ``diff`` and,
once the stubs are regenerated, an error in the client; the same parameter with a default is neither.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from celery_boundary.cli import main
from celery_boundary.gate.contracts_stubs import render_stubs
from celery_boundary.gate.contracts_diff import load
from type_checkers import mypy_errors, pyright_errors

SERVICES = Path(__file__).resolve().parents[2] / "fixtures" / "services"
CONTRACT = SERVICES / "contracts" / "billing.json"
STUBS = SERVICES / "storefront" / "storefront" / "billing_stubs.py"
REGENERATE = ("regenerate: cd fixtures/services/billing && celery-boundary contracts export billing -o "
              "../contracts/billing.json; cd .. && celery-boundary contracts stubs contracts/billing.json -o "
              "storefront/storefront/billing_stubs.py")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "services.md"
CHARGE = 'def charge(order_id: int, amount_cents: int, currency: str = "EUR") -> str:'


def export(billing: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """billing's contract, exported from its own folder as its CI does (without the generator's version)."""
    monkeypatch.chdir(billing)
    assert main(["contracts", "export", "billing"]) == 0
    document: dict[str, object] = json.loads(capsys.readouterr().out)
    del document["generator"]
    return document


def seeded(storefront: Path) -> set[tuple[str, int]]:
    """(path, line) of each ``# expect:`` comment of the client."""
    return {(path.relative_to(storefront).as_posix(), number)
            for path in sorted(storefront.rglob("*.py"))
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r"# expect: ", line)}


def test_the_committed_contract_and_stubs_are_current(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    committed = json.loads(CONTRACT.read_text(encoding="utf-8"))
    del committed["generator"]
    assert export(SERVICES / "billing", capsys, monkeypatch) == committed, REGENERATE
    assert render_stubs(load(CONTRACT), CONTRACT.name) == STUBS.read_text(encoding="utf-8"), REGENERATE


@pytest.fixture
def services(tmp_path: Path) -> Path:
    copy = tmp_path / "services"
    shutil.copytree(SERVICES, copy, ignore=shutil.ignore_patterns(".mypy_cache", "__pycache__"))
    return copy


def test_the_client_has_only_its_seeded_mistake(services: Path) -> None:
    storefront = services / "storefront"
    want = seeded(storefront)
    assert want == {("storefront/checkout.py", 20)}
    found = mypy_errors(storefront, "storefront", cache=services / ".mypy_cache")
    assert found == {("storefront/checkout.py", 20, 'Argument 2 to "delay" of "_refund_task" has incompatible type '
                                                    '"float"; expected "int | None"  [arg-type]')}
    row = next(iter(found))
    assert f"{row[0]}:{row[1]}: error: {row[2]}\n" in DOCS.read_text(encoding="utf-8")
    assert {(path, line) for path, line, _ in pyright_errors(storefront, "storefront")} == want


def test_a_breaking_edit_of_the_worker_fails_the_diff_and_the_client(
    services: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    billing, storefront = services / "billing", services / "storefront"
    tasks = billing / "billing" / "tasks.py"
    stubs = storefront / "storefront" / "billing_stubs.py"
    original = tasks.read_text(encoding="utf-8")
    assert CHARGE in original
    reports: list[str] = []
    mistake = {("storefront/checkout.py", 20, 'Argument 2 to "delay" of "_refund_task" has incompatible type '
                                              '"float"; expected "int | None"  [arg-type]')}

    def release(parameter: str) -> tuple[int, list[str], set[tuple[str, int, str]]]:
        """billing gains ``parameter`` on charge: the diff's exit status and rules, and storefront's
        mypy errors once its stubs are regenerated from the new contract."""
        tasks.write_text(original.replace(CHARGE, CHARGE.replace(") -> str:", f", *, {parameter}) -> str:")),
                         encoding="utf-8")
        (services / "new.json").write_text(json.dumps(export(billing, capsys, monkeypatch)), encoding="utf-8")
        monkeypatch.chdir(services)
        main(["contracts", "diff", "contracts/billing.json", "new.json"])
        reports.append(capsys.readouterr().out)
        status = main(["contracts", "diff", "contracts/billing.json", "new.json", "--format", "json"])
        rules = [change["rule"] for change in json.loads(capsys.readouterr().out)["changes"]]
        stubs.write_text(render_stubs(load(services / "new.json"), "billing.json"), encoding="utf-8")
        return status, rules, mypy_errors(storefront, "storefront", cache=services / ".mypy_cache")

    assert release("customer_id: int") == (1, ["PARAM_REQUIRED_ADDED"], mistake | {
        ("storefront/checkout.py", 11, 'Missing named argument "customer_id" for "s" of "_charge_task"  [call-arg]'),
    })
    assert release("customer_id: int | None = None") == (0, ["PARAM_OPTIONAL_ADDED"], mistake)
    page = DOCS.read_text(encoding="utf-8")  # what docs/services.md quotes is what the round trip prints
    assert f"```text\n{reports[0]}```" in page
    assert ('storefront/checkout.py:11: error: Missing named argument "customer_id" for "s" of "_charge_task"  '
            "[call-arg]\n") in page
