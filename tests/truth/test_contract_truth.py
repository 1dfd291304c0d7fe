"""``contracts diff`` against a real worker: an old message (sent through kombu by a producer running the
old code's signature) reaches a worker running the new code and fails exactly as the finding says; the
safe variant (the new parameter with a default, the removed one kept with a default) succeeds.

One in-process worker (``celery.contrib.testing.worker.start_worker``, memory transport, solo pool)
runs the new code; the producer is a second app on the same broker and queue that registers the old
signatures under the same names (Celery checks arity at send time against the producer's signature).
The export's JSON Schemas are checked against the bytes kombu's json serializer writes.
"""

from __future__ import annotations

import ast
import functools
import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import jsonschema
import kombu.serialization
import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

from celery_boundary.analysis.symbols import collect_names
from celery_boundary.analysis.wire_schema import wire_type

from celery_boundary.gate.contract_changes import BREAKS, SAFE
from celery_boundary.gate.contract_rules import compare
from celery_boundary.gate.contracts import export

QUEUE = "truth-contracts"
OLD = """
from celery import shared_task

@shared_task(name="pay.required")
def required(order_id): ...

@shared_task(name="pay.defaulted")
def defaulted(order_id): ...

@shared_task(name="pay.removed")
def removed(order_id, note): ...

@shared_task(name="pay.kept")
def kept(order_id, note): ...

@shared_task(name="pay.moved")
def moved(amount, currency): ...
"""
NEW = """
from celery import shared_task

@shared_task(name="pay.required")
def required(order_id, currency):
    return f"{order_id} {currency}"

@shared_task(name="pay.defaulted")
def defaulted(order_id, currency="EUR"):
    return f"{order_id} {currency}"

@shared_task(name="pay.removed")
def removed(order_id):
    return str(order_id)

@shared_task(name="pay.kept")
def kept(order_id, note=None):
    return str(order_id)

@shared_task(name="pay.moved")
def moved(currency, amount):
    return f"{amount} {currency}"
"""


def _app(name: str) -> Celery:
    app = Celery(name, broker="memory://", backend="cache+memory://", set_as_current=False)
    # The memory transport is process-global: a queue of its own keeps other tests' workers apart.
    app.conf.update(task_default_queue=QUEUE, broker_transport_options={"polling_interval": 0.005},
                    worker_hijack_root_logger=False)
    return app


def _define(app: Celery, source: str) -> None:
    """Register the tasks of ``source`` (OLD or NEW, the text the contracts are exported from) on ``app``."""
    # shared=False: a shared task would be registered on every app, the producer's and the worker's alike.
    decorator = functools.partial(app.task, shared=False)
    exec(source.replace("from celery import shared_task", ""), {"__name__": "pay", "shared_task": decorator})


@pytest.fixture(scope="module")
def old_producer() -> Iterator[Celery]:
    """NEW on a real worker; yields the app that sends with OLD's signatures."""
    worker = _app("contracts_new")
    _define(worker, NEW)
    producer = _app("contracts_old")
    _define(producer, OLD)
    with start_worker(worker, pool="solo", perform_ping_check=False, loglevel="CRITICAL", shutdown_timeout=5):
        yield producer


@pytest.fixture(scope="module")
def changes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The diff of OLD -> NEW, by task name and parameter."""
    documents = []
    for side, text in (("old", OLD), ("new", NEW)):
        root = tmp_path_factory.mktemp(side)
        (root / "pay.py").write_text(text, encoding="utf-8")
        documents.append(export([root / "pay.py"], root))
    return {f"{change.task} {change.parameter}": change for change in compare(*documents)}


def _outcome(producer: Celery, name: str, *args: object, **kwargs: object) -> object:
    return producer.tasks[name].apply_async(args, kwargs).get(timeout=10, interval=0.005, propagate=False)


@pytest.mark.worker
def test_a_queued_message_without_the_new_required_parameter_fails_as_the_finding_says(
        old_producer: Celery, changes: dict[str, Any]) -> None:
    change = changes["pay.required currency"]
    assert (change.rule, change.queued) == ("PARAM_REQUIRED_ADDED", BREAKS)
    assert "raises TypeError on the new worker (missing required argument 'currency')" in change.queued_text
    failure = _outcome(old_producer, "pay.required", 7)
    assert isinstance(failure, TypeError)
    assert "missing 1 required positional argument: 'currency'" in str(failure)


@pytest.mark.worker
def test_the_new_parameter_with_a_default_takes_old_messages(old_producer: Celery, changes: dict[str, Any]) -> None:
    change = changes["pay.defaulted currency"]
    assert (change.rule, change.queued) == ("PARAM_OPTIONAL_ADDED", SAFE)
    assert "gets its default ('EUR')" in change.queued_text
    assert _outcome(old_producer, "pay.defaulted", 7) == "7 EUR"


@pytest.mark.worker
@pytest.mark.parametrize(("how", "args", "kwargs", "says", "python"), [
    ("by keyword", (7,), {"note": "x"}, "unexpected keyword argument 'note'", "unexpected keyword argument 'note'"),
    ("by position", (7, "x"), {}, "too many positional arguments", "takes 1 positional argument but 2 were given"),
])
def test_a_queued_message_with_a_removed_parameter_fails_as_the_finding_says(
        old_producer: Celery, changes: dict[str, Any], how: str, args: tuple[object, ...],
        kwargs: dict[str, object], says: str, python: str) -> None:
    change = changes["pay.removed note"]
    assert (change.rule, change.queued) == ("PARAM_REMOVED", BREAKS)
    assert "raises TypeError on the new worker" in change.queued_text and says in change.queued_text, how
    failure = _outcome(old_producer, "pay.removed", *args, **kwargs)
    assert isinstance(failure, TypeError) and python in str(failure), how


@pytest.mark.worker
def test_the_removed_parameter_kept_with_a_default_takes_old_messages(
        old_producer: Celery, changes: dict[str, Any]) -> None:
    change = changes["pay.kept note"]
    assert change.rule == "PARAM_DEFAULT_ADDED" and change.queued == SAFE
    assert _outcome(old_producer, "pay.kept", 7, "x") == "7"
    assert _outcome(old_producer, "pay.kept", 7, note="x") == "7"


@pytest.mark.worker
def test_a_queued_message_with_positional_arguments_binds_a_moved_parameter_silently(
        old_producer: Celery, changes: dict[str, Any]) -> None:
    moves = {c.parameter: c for c in changes.values() if c.task == "pay.moved"}
    assert sorted(moves) == ["amount", "currency"] and moves["amount"].rule == "PARAM_MOVED"
    assert "no error when the types agree" in moves["amount"].queued_text
    assert _outcome(old_producer, "pay.moved", "10", "EUR") == "EUR 10"  # amount "EUR", currency "10"
    assert _outcome(old_producer, "pay.moved", amount="10", currency="EUR") == "10 EUR"  # by keyword: safe


@pytest.mark.parametrize(("annotation", "imports", "value", "wrong"), [
    ("int", "", 3, "3"),
    ("float | None", "", None, "x"),
    ("tuple[int, str]", "", (1, "a"), (1, 2)),
    ("dict[int, str]", "", {1: "a"}, {1: 2}),
    ("list[Decimal]", "from decimal import Decimal", [Decimal("1.5")], ["1.5"]),
    ("datetime", "from datetime import datetime", datetime(2026, 1, 2, 3, 4), "2026-01-02T03:04:00"),
    ("UUID", "from uuid import UUID", UUID(int=7), str(UUID(int=7))),
    ("bytes", "", b"\xff\x00", "AP8="),
    ("bytes | None", "", b"utf-8 text", 1),
    ("Literal['a', 2]", "from typing import Literal", 2, 3),
])
def test_the_json_schema_describes_what_kombu_puts_on_the_wire(
        annotation: str, imports: str, value: object, wrong: object) -> None:
    """The export's schema against the bytes kombu's json serializer (Celery's default) writes."""
    names = collect_names(ast.parse(imports))
    schema = wire_type(ast.parse(annotation, mode="eval").body, names, "json").schema
    assert schema is not None
    _, _, body = kombu.serialization.dumps(value, serializer="json")
    jsonschema.validate(json.loads(body), schema)
    _, _, other = kombu.serialization.dumps(wrong, serializer="json")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(other), schema)
