"""CB205 against other services' contracts (``contracts = [...]`` in ``[tool.celery_boundary]``):
``celery-boundary check`` reports a name under a contract's prefix that the contract does not have,
and a ``send_task`` / ``signature`` whose literal arguments would not bind to the contract's task on
the worker; a name outside every prefix, and the project's own tasks, are left as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main

BILLING = """
from datetime import datetime

from celery import Celery

app = Celery("billing")


@app.task(name="billing.charge")
def charge(customer_id: int, amount: float, *, when: datetime | None = None) -> str:
    return ""


@app.task(name="billing.refund")
def refund(charge_id: str, /) -> None:
    pass
"""


@pytest.fixture(scope="module")
def billing_contract(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The billing service's contract, as `contracts export` writes it."""
    service = tmp_path_factory.mktemp("billing")
    (service / "tasks.py").write_text(BILLING)
    assert main(["contracts", "export", str(service / "tasks.py"), "-o", str(service / "billing.json")]) == 0
    return (service / "billing.json").read_bytes()


@pytest.fixture
def shop(project: Path, billing_contract: bytes) -> Path:
    (project / "contracts").mkdir()
    (project / "contracts" / "billing.json").write_bytes(billing_contract)
    write(project, "pyproject.toml", '[tool.celery_boundary]\ncontracts = ["contracts/billing.json"]\n')
    write(project, "shop/__init__.py", "")
    write(project, "shop/celery_app.py", 'from celery import Celery\n\napp = Celery("shop")\n')
    return project


def cb205(capsys: pytest.CaptureFixture[str], body: str, project: Path) -> list[tuple[int, str]]:
    write(project, "shop/views.py", "from shop.celery_app import app\nfrom celery import signature\n" + body)
    main(["check", "-q", "--format", "json", "--select", "CB205", "shop"])
    return [(f["line"], f["message"]) for f in json.loads(capsys.readouterr().out)]


FIX = "Fix: pass what its parameters take: customer_id: int, amount: float, when: datetime | None (optional)"
WORKER = ("(Celery checks no arguments for a task sent by name: the worker raises TypeError and the task never "
          "runs)")


def test_arity_mismatches_with_a_contract_are_reported_with_what_the_worker_raises(
        shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = cb205(capsys, """
app.send_task("billing.charge", args=(1, 2.5))
app.send_task("billing.charge", (1,), {"amount": 2.5, "when": None})
app.send_task("billing.charge", args=[1, 2.5, 3])
app.send_task("billing.charge", args=(1,), kwargs={"amount": 2.0, "currency": "EUR"})
signature("billing.charge", kwargs=dict(amount=2.0))
app.signature("billing.refund", kwargs={"charge_id": "c1"})
app.send_task("billing.charge", args=(1, 2.5), kwargs={"customer_id": 1})
app.send_task("billing.charge", args=values)
""", shop)
    prefix = "task 'billing.charge' of contract 'contracts/billing.json' does not take this message: "
    assert found == [
        (6, f"{prefix}it takes 2 positional arguments but 3 were given {WORKER}. {FIX}"),
        (7, f"{prefix}it has no parameter 'currency' {WORKER}. {FIX}"),
        (8, f"{prefix}required 'customer_id' is missing {WORKER}. {FIX}"),
        (9, "task 'billing.refund' of contract 'contracts/billing.json' does not take this message: 'charge_id' "
            f"can only be passed by position {WORKER}. Fix: pass what its parameters "
            "take: charge_id: str"),
        (10, f"{prefix}'customer_id' is given by position and by keyword {WORKER}. {FIX}"),
    ]


def test_a_name_under_a_contracts_prefix_that_it_lacks_is_unknown_and_other_names_are_left_alone(
        shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = cb205(capsys, """
app.send_task("billing.chrage", args=(1, 2.5))
app.send_task("billing.invoice", args=(1,))
app.send_task("shipping.ship", args=(1,))
app.send_task("billing", args=(1,))
""", shop)
    owns = "contract 'contracts/billing.json' owns the names under 'billing' and has no task registered under it"
    discarded = ("(a message sent under a name no worker registered is never run: the worker that receives it logs "
                 "'Received unregistered task', discards the message and stores NotRegistered as its result)")
    assert found == [
        (4, f"unknown task name 'billing.chrage': {owns}; did you mean 'billing.charge'? {discarded}"),
        (5, f"unknown task name 'billing.invoice': {owns}; it has 'billing.charge', 'billing.refund' {discarded}"),
    ]


def test_the_projects_own_task_under_a_contracts_prefix_is_its_own(
        shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(shop, "shop/tasks.py", 'from celery import shared_task\n\n\n@shared_task(name="billing.audit")\n'
                                 'def audit():\n    pass\n')
    assert cb205(capsys, 'app.send_task("billing.audit")\n', shop) == []


@pytest.mark.parametrize(("content", "says"), [
    (None, "'contracts/billing.json' cannot be read"),
    (b"{", "'contracts/billing.json' is not JSON"),
    (b'{"format": "celery-boundary/task-contracts", "version": 2}',
     "has contracts format version 2; this version reads 1"),
    (b'{"format": "something else"}', "is not a contracts document"),
    (b'{"format": "celery-boundary/task-contracts", "version": 1, "tasks": [{"name": 3}]}', "is damaged"),
    (b'{"format": "celery-boundary/task-contracts", "version": 1, "tasks": [{"name": "billing.x", "parameters": '
     b'[{"name": "a", "kind": "positional", "required": true}]}]}',
     "is damaged: a task entry lacks or misspells 'kind'"),
])
def test_a_missing_or_damaged_contract_is_one_line_naming_the_file(
        shop: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, says: str) -> None:
    target = shop / "contracts" / "billing.json"
    if content is None:
        target.unlink()
    else:
        target.write_bytes(content)
    write(shop, "shop/views.py", 'from shop.celery_app import app\napp.send_task("billing.charge")\n')
    assert main(["check", "-q", "shop"]) == 2
    err = capsys.readouterr().err
    assert says in err and "contracts" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_edited_contract_is_read_again_by_a_warm_run(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = 'app.send_task("billing.charge", args=(1, 2.5, 3))\n'
    assert len(cb205(capsys, body, shop)) == 1
    document = json.loads((shop / "contracts" / "billing.json").read_text())
    charge = next(task for task in document["tasks"] if task["name"] == "billing.charge")
    charge["parameters"].insert(0, {"name": "shop_id", "kind": "positional_or_keyword", "required": True,
                                    "type": "int", "schema": {"type": "integer"}})
    (shop / "contracts" / "billing.json").write_text(json.dumps(document))
    assert cb205(capsys, body, shop) == []


def test_a_contract_whose_names_share_no_prefix_owns_no_names(
        shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads((shop / "contracts" / "billing.json").read_text())
    document["tasks"][1]["name"] = "shipping.refund"
    (shop / "contracts" / "billing.json").write_text(json.dumps(document))
    found = cb205(capsys, 'app.send_task("billing.invoice")\napp.send_task("shipping.refund", args=(1, 2))\n', shop)
    assert [line for line, _ in found] == [4]  # the arity of a task it has is still checked
