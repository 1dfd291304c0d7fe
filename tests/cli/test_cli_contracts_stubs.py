"""``contracts stubs``: the generated module is typed from the wire schemas, passes ``mypy --strict``
itself, makes mypy (no plugin) and basedpyright report a client's wrong arguments, and sends each task
under its registered name and queue through kombu (read back from the memory broker: no worker)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from celery import Celery, _state

from celery_boundary.cli import main
from celery_boundary.gate.contracts_stubs import python_type, render_stubs
from cli_helpers import write
from type_checkers import mypy_errors, pyright_errors

SOURCE = """
from datetime import datetime
from typing import Optional
from celery import shared_task

class Order: ...

@shared_task(name="shop.charge", queue="money")
def charge(order_id: int, /, amount: Optional[float], *items: str, when: datetime, **extra) -> bool: ...

@shared_task
def ship(order: Order, note: str = "") -> None: ...

@shared_task(name="shop.refund")
def refund(order_id: int, reason: str, *, notify: bool = True) -> list[int]: ...
"""

CLIENT = """
from shop_stubs import refund, ship

refund.delay(7, "damaged", notify=False)
refund.apply_async((7,), {"reason": "damaged"}, countdown=5)
refund.apply_async(kwargs={"order_id": 7, "reason": "damaged"})
refund.s(7, reason="damaged").delay()
ship.delay({"id": 7})
refund.delay(7, 3)
refund.delay(7)
refund.delay(7, "damaged", notfy=False)
refund.apply_async((7,), {"reason": "damaged", "notfy": False})
ship.s({"id": 7}, note=3)
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


@pytest.fixture
def stubs(project: Path) -> str:
    write(project, "shop/__init__.py", "")
    write(project, "shop/tasks.py", SOURCE)
    assert main(["contracts", "export", "shop", "-o", "contracts.json"]) == 0
    assert main(["contracts", "stubs", "contracts.json", "-o", "shop_stubs.py"]) == 0
    return (project / "shop_stubs.py").read_text(encoding="utf-8")


def test_each_task_is_typed_from_its_contract(stubs: str) -> None:
    assert ("    def delay(self, order_id: int, /, amount: float | None, *items: str, when: datetime.datetime, "
            "**extra: Any) -> AsyncResult[bool]: ...") in stubs
    assert "    def s(self, order: Any, note: str = ...) -> Signature[None]: ..." in stubs
    # one overload per split between args and kwargs; the TypedDict says which keys are required
    assert ("    @overload\n    def apply_async(self, args: tuple[int], kwargs: _refund_kwargs_1, **options: Any) "
            "-> AsyncResult[list[int]]: ...") in stubs
    assert "    class _refund_kwargs_1(TypedDict):\n        reason: str\n        notify: NotRequired[bool]\n" in stubs
    assert "charge = cast('_charge_task', _Remote('shop.charge'))" in stubs
    assert "TASK_ROUTES: dict[str, dict[str, str]] = {\n    'shop.charge': {'queue': 'money'},\n}" in stubs


def test_a_task_of_unknown_parameters_takes_any_arguments_and_names_do_not_clash() -> None:
    unbound = {"kind": "positional_or_keyword", "name": "self", "required": True, "schema": None}
    document = {"tasks": [{"name": "shop.audit", "parameters": None},  # app.task(imported_function)
                          {"name": "shop.uuid", "parameters": [unbound]},
                          {"name": "other.uuid", "parameters": []}]}
    stubs = render_stubs(document, "contracts.json")
    assert "\naudit = _Remote('shop.audit')\n" in stubs
    assert "    def delay(_self, self: Any) -> AsyncResult[Any]: ..." in stubs
    assert "uuid_task = cast('_uuid_task_task', _Remote('shop.uuid'))" in stubs  # `import uuid` stays the module
    assert "uuid_task_2 = cast('_uuid_task_2_task', _Remote('other.uuid'))" in stubs
    compile(stubs, "stubs.py", "exec")


def test_mypy_without_the_plugin_checks_a_client_against_the_stubs(stubs: str, project: Path) -> None:
    write(project, "client.py", CLIENT)
    overloads = ('No overload variant of "apply_async" of "_refund_task" matches argument types "tuple[int]", '
                 '"dict[str, object]"  [call-overload]')
    assert mypy_errors(project, "shop_stubs.py", "client.py", cache=project / ".mypy_cache") == {
        ("client.py", 8, 'Argument 2 to "delay" of "_refund_task" has incompatible type "int"; expected "str"  '
                         "[arg-type]"),
        ("client.py", 9, 'Missing positional argument "reason" in call to "delay" of "_refund_task"  [call-arg]'),
        ("client.py", 10, 'Unexpected keyword argument "notfy" for "delay" of "_refund_task"; did you mean '
                          '"notify"?  [call-arg]'),
        ("client.py", 11, overloads),
        ("client.py", 12, 'Argument "note" to "s" of "_ship_task" has incompatible type "int"; expected "str"  '
                          "[arg-type]"),
    }


def test_basedpyright_checks_a_client_against_the_stubs(stubs: str, project: Path) -> None:
    write(project, "client.py", CLIENT)
    assert pyright_errors(project.resolve(), "shop_stubs.py", "client.py") == {
        ("client.py", 8, 'Argument of type "Literal[3]" cannot be assigned to parameter "reason" of type "str" in '
                         'function "delay"\n  "Literal[3]" is not assignable to "str"'),
        ("client.py", 9, 'Argument missing for parameter "reason"'),
        ("client.py", 10, 'No parameter named "notfy"'),
        ("client.py", 11, 'No overloads for "apply_async" match the provided arguments'),
        ("client.py", 11, 'Argument of type "dict[str, str | bool]" cannot be assigned to parameter "kwargs" of '
                          'type "_refund_kwargs_1" in function "apply_async"\n  "notfy" is an undefined item in '
                          'type "_refund_kwargs_1"'),
        ("client.py", 12, 'Argument of type "Literal[3]" cannot be assigned to parameter "note" of type "str" in '
                          'function "s"\n  "Literal[3]" is not assignable to "str"'),
    }


def test_the_stubs_send_each_task_by_name_and_queue(stubs: str, project: Path) -> None:
    app = Celery("stubs_truth", broker="memory://", set_as_current=False)
    app.conf.update(task_default_queue="contracts-stubs")
    spec = importlib.util.spec_from_file_location("shop_stubs_generated", project / "shop_stubs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app.conf.task_routes = module.TASK_ROUTES
    previous = _state.get_current_app()
    app.set_current()  # the stubs send through the current app, as a producer's own app is
    try:
        sent = [module.charge.apply_async((7, 1.5), {"when": "now"}), module.ship.delay({"id": 7}),
                module.refund.s(7, reason="lost").delay()]
        expected = [("money", "shop.charge", [[7, 1.5], {"when": "now"}]),
                    ("contracts-stubs", "shop.tasks.ship", [[{"id": 7}], {}]),
                    ("contracts-stubs", "shop.refund", [[7], {"reason": "lost"}])]
        with app.connection_for_write() as connection:
            for result, (queue, name, arguments) in zip(sent, expected):
                message = connection.SimpleQueue(queue).get(timeout=1)
                assert message.headers["task"] == name and message.headers["id"] == result.id
                assert json.loads(message.body)[:2] == arguments
                message.ack()
    finally:
        _state._set_current_app(previous)
    assert "shop.charge" not in app.tasks  # sent by name: nothing registered on the producer
