"""``contracts client``: the generated module parses, is typed from the wire schemas, and sends each task
under its registered name and queue through kombu (read back from the memory broker: no worker)."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path

import pytest
from celery import Celery, _state

from celery_boundary.cli import main
from celery_boundary.gate.contracts_client import python_type
from cli_helpers import write

SOURCE = """
from datetime import datetime
from typing import Optional
from celery import shared_task

class Order: ...

@shared_task(name="shop.charge", queue="money")
def charge(order_id: int, /, amount: Optional[float], *items: str, when: datetime, **extra) -> bool: ...

@shared_task
def ship(order: Order, note: str = "") -> None: ...
"""


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "integer"}, "int"),
    ({"anyOf": [{"type": "number"}, {"type": "null"}]}, "float | None"),
    ({"type": "array", "items": {"type": "string"}}, "list[str]"),
    ({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "boolean"}]}, "tuple[int, bool]"),
    ({"type": "object", "additionalProperties": {"type": "integer"}}, "dict[str, int]"),
    ({"enum": ["a", 1]}, "Literal['a', 1]"),
    ({"type": "object", "properties": {"__type__": {"const": "uuid"}}}, "uuid.UUID"),
    (None, "Any"),
    ({}, "Any"),
])
def test_python_type_of_a_wire_schema(schema: object, expected: str) -> None:
    assert python_type(schema) == expected


def test_the_client_sends_each_task_by_name_and_queue(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "shop/__init__.py", "")
    write(project, "shop/tasks.py", SOURCE)
    assert main(["contracts", "export", "shop", "-o", "contracts.json"]) == 0
    assert main(["contracts", "client", "contracts.json", "-o", "shop_client.py"]) == 0
    text = (project / "shop_client.py").read_text(encoding="utf-8")
    ast.parse(text)
    assert ("def charge(order_id: int, /, amount: float | None, *items: str, when: datetime.datetime, "
            "**extra: Any) -> bool:") in text
    assert "def ship(order: Any, note: str = ...) -> None:" in text
    assert "@shared_task(name='shop.charge')" in text
    assert "TASK_ROUTES: dict[str, dict[str, str]] = {\n    'shop.charge': {'queue': 'money'},\n}" in text

    app = Celery("client_truth", broker="memory://", set_as_current=False)
    app.conf.update(task_default_queue="contracts-client")
    spec = importlib.util.spec_from_file_location("shop_client_generated", project / "shop_client.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    finalizers = set(_state._on_app_finalizers)  # shared_task registers on every app made from now on
    try:
        spec.loader.exec_module(module)
        app.conf.task_routes = module.TASK_ROUTES
        app.finalize()
        sent = {"shop.charge": app.tasks["shop.charge"].apply_async((7, 1.5), {"when": "now"}),
                "shop.tasks.ship": app.tasks["shop.tasks.ship"].delay({"id": 7})}
        with app.connection_for_write() as connection:
            expected = [("money", "shop.charge", [7, 1.5]), ("contracts-client", "shop.tasks.ship", [{"id": 7}])]
            for queue, name, args in expected:
                message = connection.SimpleQueue(queue).get(timeout=1)
                assert message.headers["task"] == name and message.headers["id"] == sent[name].id
                assert json.loads(message.body)[0] == args
                message.ack()
        with pytest.raises(NotImplementedError, match="runs on the workers"):
            module.ship({"id": 7})
    finally:
        del sys.modules[spec.name]
        _state._on_app_finalizers.intersection_update(finalizers)
