"""docs/runtime.md is executed: its example module is imported and its wire format compared.

Runs in a subprocess so the example's registrations (``proj.celery.*``) stay out of this process's
kombu registry and a ``proj`` package from another test cannot be picked up instead.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "runtime.md"

CHECK = r"""
import json, sys
from datetime import datetime
from kombu.serialization import dumps, loads
import proj.celery as example

def wire(value):
    return dumps(value, serializer="json")[2]

def back(value):
    content_type, encoding, data = dumps(value, serializer="json")
    return loads(data, content_type, encoding)

delivery = example.Delivery(
    to=example.Address(street="1 Quay", city="Leith"),
    due=datetime(2026, 11, 22, 6, 0),
    priority=example.Priority.HIGH,
    parcels=(1, 2),
)
arrived = back(delivery)
assert type(arrived) is example.Delivery and arrived == delivery, arrived
assert type(arrived.parcels) is tuple and type(arrived.to) is example.Address
shipped = example.deliver.run(delivery)
assert type(back(shipped)) is example.Shipped and back(shipped) == shipped
money = back(example.Money(250, "EUR"))
assert type(money) is example.Money and (money.cents, money.currency) == (250, "EUR")
print(json.dumps([wire(example.Address(street="1 Quay", city="Leith")), wire(shipped)]))
"""


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_example_module_runs_and_writes_the_documented_wire_format(tmp_path: Path) -> None:
    python = blocks("python")
    example, money = python[0], python[2]
    assert example.startswith("# proj/celery.py") and "class MoneyPreserializer" in money
    package = tmp_path / "proj"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "celery.py").write_text(example + "\n\n" + money)
    out = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    written = [json.loads(text) for text in json.loads(out.stdout)]
    documented = [json.loads(text) for text in blocks("json")]
    assert written == documented


def test_the_documented_import_cost_holds() -> None:
    code = (
        "import sys, celery_boundary.runtime\n"
        "print(','.join(m for m in ('kombu', 'celery', 'pydantic', 'attrs', 'mypy', 'flake8', 'libcst') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
