"""``contracts diff`` against a real worker, for every breaking rule: an old message (sent through kombu by a
producer running the old code's signature) reaches a worker running the new code and fails exactly as the
finding says; the safe variant the finding advises succeeds.

One in-process worker (``celery.contrib.testing.worker.start_worker``, memory transport, solo pool)
runs the new code; the producer is a second app on the same broker and queue that registers the old
signatures under the same names (Celery checks arity at send time against the producer's signature).
The same worker runs the old code under ``roll.*`` names, for a third app sending the new code's
messages (a rolling deploy: new producer, old worker). The worker's accept_content is json and yaml.
The export's JSON Schemas are checked against the bytes kombu's json serializer writes.
"""

from __future__ import annotations

import ast
import functools
import json
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import jsonschema
import kombu.serialization
import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.exceptions import CDeprecationWarning, NotRegistered
from celery.worker import WorkController

from celery_boundary.analysis.symbols import collect_names
from celery_boundary.analysis.wire_schema import wire_type

from celery_boundary.gate.contract_changes import BREAKS, SAFE, WORKERS_FIRST
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

@shared_task(name="pay.gone")
def gone(order_id): ...

@shared_task(name="pay.legacy")
def legacy(order_id): ...

@shared_task(name="pay.settle")
def settle(order_id): ...

@shared_task(name="pay.close")
def close(order_id): ...

@shared_task
def archive(order_id): ...

@shared_task
def purge(order_id): ...

@shared_task(name="pay.ship")
def ship(order_id, addr): ...

@shared_task(name="pay.ship_safe")
def ship_safe(order_id, addr): ...

@shared_task(name="pay.refund")
def refund(order_id, reason): ...

@shared_task(name="pay.refund_po")
def refund_po(order_id, reason): ...

@shared_task(name="pay.notify")
def notify(user_id, channel="email"): ...

@shared_task(name="pay.audit")
def audit(event, **fields): ...

@shared_task(name="pay.charge")
def charge(amount: int): ...

@shared_task(name="pay.charge_safe")
def charge_safe(amount: int): ...

@shared_task(name="pay.label")
def label(note: str | None): ...

@shared_task(name="pay.total")
def total(order_id) -> int: ...

@shared_task(name="pay.total_safe")
def total_safe(order_id) -> int | None: ...

@shared_task(name="pay.unpickled", serializer="pickle")
def unpickled(order_id): ...

@shared_task(name="pay.unyamled", serializer="yaml")
def unyamled(order_id): ...

@shared_task(name="pay.pickled")
def pickled(order_id): ...

@shared_task(name="pay.rerouted", queue="truth-contracts-old")
def rerouted(order_id): ...
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

@shared_task(name="pay.current")
def current(order_id):
    return f"current {order_id}"

@shared_task(name="pay.legacy")
def legacy(order_id):
    return current(order_id)

@shared_task(name="pay.settle_v2")
def settle(order_id):
    return f"settled {order_id}"

@shared_task(name="pay.close_v2")
def close(order_id):
    return f"closed {order_id}"

@shared_task(name="pay.close")
def close_alias(order_id):
    return close(order_id)

@shared_task(name="pay.ship")
def ship(order_id, address):
    return f"{order_id} to {address}"

@shared_task(name="pay.ship_safe")
def ship_safe(order_id, addr=None, address=None):
    return f"{order_id} to {address or addr}"

@shared_task(name="pay.refund")
def refund(order_id, *, reason):
    return f"{order_id}: {reason}"

@shared_task(name="pay.refund_po")
def refund_po(order_id, reason, /):
    return f"{order_id}: {reason}"

@shared_task(name="pay.notify")
def notify(user_id, channel):
    return f"{user_id} by {channel}"

@shared_task(name="pay.audit")
def audit(event):
    return event

@shared_task(name="pay.charge")
def charge(amount: str):
    return amount.strip()

@shared_task(name="pay.charge_safe")
def charge_safe(amount: int | None = None, amount_text: str | None = None):
    return amount_text.strip() if amount_text is not None else str(amount)

@shared_task(name="pay.label")
def label(note: str):
    return note.upper()

@shared_task(name="pay.total")
def total(order_id) -> str:
    return f"{order_id}.00"

@shared_task(name="pay.total_safe")
def total_safe(order_id) -> int:
    return order_id * 100

@shared_task(name="pay.unpickled")
def unpickled(order_id):
    return order_id

@shared_task(name="pay.unyamled")
def unyamled(order_id):
    return order_id

@shared_task(name="pay.pickled", serializer="pickle")
def pickled(order_id):
    return order_id

@shared_task(name="pay.rerouted")
def rerouted(order_id):
    return f"routed {order_id}"
"""
#: The module ``archive`` moved to (its implicit name follows); ``purge`` moved too, its old name pinned.
NEW_BILLING = """
from celery import shared_task

@shared_task
def archive(order_id):
    return f"archived {order_id}"

@shared_task(name="pay.purge")
def purge(order_id):
    return f"purged {order_id}"
"""


#: A queue of the old code's (``pay.rerouted``) that the worker does not consume.
OLD_QUEUE = "truth-contracts-old"


def _app(name: str, **conf: object) -> Celery:
    app = Celery(name, broker="memory://", backend="cache+memory://", set_as_current=False)
    # The memory transport is process-global: a queue of its own keeps other tests' workers apart.
    app.conf.update(task_default_queue=QUEUE, broker_transport_options={"polling_interval": 0.005},
                    worker_hijack_root_logger=False, **conf)
    return app


def _define(app: Celery, source: str, module: str = "pay") -> None:
    """Register the tasks of ``source`` (a module of OLD or NEW, the text the contracts are exported from)
    on ``app``; an implicit name is ``module.function``, as Celery names a task defined in ``module``."""
    # shared=False: a shared task would be registered on every app, the producer's and the worker's alike.
    decorator = functools.partial(app.task, shared=False)
    exec(source.replace("from celery import shared_task", ""), {"__name__": module, "shared_task": decorator})


def _rolling(source: str) -> str:
    """The same tasks under ``roll.*`` names: the worker runs OLD's under them, so that a producer running
    NEW's (a rolling deploy) meets an old worker on the one worker this module starts."""
    return source.replace('name="pay.', 'name="roll.')


@dataclass(frozen=True)
class Runtime:
    worker: WorkController
    #: Sends with OLD's signatures and options (``pay.*``) to the worker's NEW code.
    old: Celery
    #: Sends with NEW's signatures and options (``roll.*``) to the worker's OLD code.
    new: Celery


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    # accept_content: the worker takes json and yaml messages and refuses pickle (Celery's default is json).
    worker = _app("contracts_new", accept_content=["json", "yaml"])
    _define(worker, NEW)
    _define(worker, NEW_BILLING, "billing")
    _define(worker, _rolling(OLD), "roll")
    old = _app("contracts_old")
    _define(old, OLD)
    new = _app("contracts_rolling")
    _define(new, _rolling(NEW), "roll")
    _define(new, _rolling(NEW_BILLING), "roll_billing")
    with warnings.catch_warnings():  # Celery 5 still routes by a task's queue=, and warns that 6.0 will not
        warnings.filterwarnings("ignore", r"\s*The 'queue' task attribute", CDeprecationWarning)
        for app in (worker, old, new):
            app.finalize(auto=True)
    with start_worker(worker, pool="solo", perform_ping_check=False, loglevel="ERROR",
                      shutdown_timeout=5) as controller:
        yield Runtime(controller, old, new)


@pytest.fixture(scope="module")
def old_producer(runtime: Runtime) -> Celery:
    """NEW on a real worker; the app that sends with OLD's signatures."""
    return runtime.old


@pytest.fixture(scope="module")
def changes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The diff of OLD -> NEW, by task name and parameter (``None`` for a task's own change)."""
    documents = []
    for side, modules in (("old", {"pay": OLD}), ("new", {"pay": NEW, "billing": NEW_BILLING})):
        root = tmp_path_factory.mktemp(side)
        for module, text in modules.items():
            (root / f"{module}.py").write_text(text, encoding="utf-8")
        documents.append(export(sorted(root.glob("*.py")), root))
    found: dict[str, Any] = {}
    for change in compare(*documents):
        found.setdefault(f"{change.task} {change.parameter}", change)
        found[f"{change.task} {change.parameter} {change.rule}"] = change
    return found


def _outcome(producer: Celery, name: str, *args: object, **kwargs: object) -> object:
    return producer.tasks[name].apply_async(args, kwargs).get(timeout=10, interval=0.005, propagate=False)


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> str:
    """The worker's log record containing ``text`` (the worker logs from its own thread)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for record in caplog.records:
            if text in record.getMessage():
                return record.getMessage()
        time.sleep(0.005)
    raise AssertionError(f"the worker logged no {text!r}")


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


def _unregistered(caplog: pytest.LogCaptureFixture, producer: Celery, name: str) -> str:
    """Send ``name`` (known to the producer only); the worker's log line, after asserting the stored result."""
    result = _outcome(producer, name, 7)
    assert isinstance(result, NotRegistered) and str(result) == repr(name)
    return _logged(caplog, f"Received unregistered task of type {name!r}")


@pytest.mark.worker
def test_a_queued_message_for_a_removed_task_is_discarded_and_an_alias_takes_it(
        runtime: Runtime, changes: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    change = changes["pay.gone None"]
    assert (change.rule, change.queued) == ("TASK_REMOVED", BREAKS)
    assert "discarded by the new worker ('Received unregistered task')" in change.queued_text
    assert "its result is NotRegistered" in change.queued_text and "an alias task" in change.advice
    assert "The message has been ignored and discarded" in _unregistered(caplog, runtime.old, "pay.gone")
    assert "pay.legacy None" not in changes  # the alias under the old name: no finding, and it runs
    assert _outcome(runtime.old, "pay.legacy", 7) == "current 7"


@pytest.mark.worker
def test_a_renamed_task_is_discarded_both_ways_and_an_alias_under_the_old_name_takes_old_messages(
        runtime: Runtime, changes: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    change = changes["pay.settle None"]
    assert (change.rule, change.queued, change.rolling) == ("TASK_RENAMED", BREAKS, BREAKS)
    assert "discarded by the new worker, which registers the task as `pay.settle_v2` ('Received unregistered " \
           "task'; the result is NotRegistered)" in change.queued_text
    assert "a new message for `pay.settle_v2` reaching an old worker is discarded there" in change.rolling_text
    _unregistered(caplog, runtime.old, "pay.settle")
    _unregistered(caplog, runtime.new, "roll.settle_v2")  # a new producer, an old worker
    assert "keep `pay.settle` as an alias task" in change.advice
    assert [c.rule for k, c in changes.items() if k.startswith("pay.close ")] == []
    assert _outcome(runtime.old, "pay.close", 7) == "closed 7"


@pytest.mark.worker
def test_a_task_whose_module_moved_is_discarded_and_pinning_the_old_name_keeps_it(
        runtime: Runtime, changes: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    change = changes["pay.archive None"]
    assert (change.rule, change.queued, change.extra["new_name"]) == ("TASK_MOVED", BREAKS, "billing.archive")
    assert "discarded by the new worker, which registers the task as `billing.archive`" in change.queued_text
    assert "billing.archive" in runtime.worker.app.tasks
    _unregistered(caplog, runtime.old, "pay.archive")
    assert '`@task(name="pay.archive")`' in change.advice
    assert not [k for k in changes if k.startswith("pay.purge ")]  # moved with its old name pinned
    assert _outcome(runtime.old, "pay.purge", 7) == "purged 7"


@pytest.mark.worker
def test_a_renamed_parameter_breaks_keywords_both_ways_and_binds_by_position(
        runtime: Runtime, changes: dict[str, Any]) -> None:
    change = changes["pay.ship addr"]
    assert (change.rule, change.queued, change.rolling) == ("PARAM_RENAMED", BREAKS, BREAKS)
    assert "raises TypeError on the new worker (unexpected keyword argument 'addr')" in change.queued_text
    failure = _outcome(runtime.old, "pay.ship", 7, addr="x")
    assert isinstance(failure, TypeError) and "unexpected keyword argument 'addr'" in str(failure)
    assert "one passing it by position still binds" in change.queued_text
    assert _outcome(runtime.old, "pay.ship", 7, "x") == "7 to x"
    assert "(unexpected keyword argument 'address')" in change.rolling_text
    failure = _outcome(runtime.new, "roll.ship", 7, address="x")
    assert isinstance(failure, TypeError) and "unexpected keyword argument 'address'" in str(failure)


@pytest.mark.worker
def test_both_names_with_the_new_one_after_the_old_take_every_old_message(
        runtime: Runtime, changes: dict[str, Any]) -> None:
    """The advice of PARAM_RENAMED, followed: ``ship_safe(order_id, addr=None, address=None)``."""
    advice = changes["pay.ship addr"].advice
    assert "keep `addr` in its place (with a default) and add `address` at the end with a default" in advice
    assert not [c for k, c in changes.items() if k.startswith("pay.ship_safe ") and c.queued == BREAKS]
    assert _outcome(runtime.old, "pay.ship_safe", 7, "x") == "7 to x"
    assert _outcome(runtime.old, "pay.ship_safe", 7, addr="x") == "7 to x"


@pytest.mark.worker
@pytest.mark.parametrize(("task", "parameter", "args", "kwargs", "says", "python"), [
    ("pay.refund", "reason", (7, "x"), {}, "passed by position", "takes 1 positional argument but 2 were given"),
    ("pay.refund_po", "reason", (7,), {"reason": "x"}, "passed by keyword",
     "positional-only arguments passed as keyword arguments: 'reason'"),
])
def test_a_queued_message_passing_a_parameter_a_way_it_lost_fails_as_the_finding_says(
        runtime: Runtime, changes: dict[str, Any], task: str, parameter: str, args: tuple[object, ...],
        kwargs: dict[str, object], says: str, python: str) -> None:
    change = changes[f"{task} {parameter}"]
    assert (change.rule, change.queued) == ("PARAM_KIND_CHANGED", BREAKS)
    assert f"a message queued with `{parameter}` {says} raises TypeError on the new worker" in change.queued_text
    failure = _outcome(runtime.old, task, *args, **kwargs)
    assert isinstance(failure, TypeError) and python in str(failure)


@pytest.mark.worker
def test_a_parameter_passed_by_keyword_survives_it_becoming_keyword_only(
        runtime: Runtime, changes: dict[str, Any]) -> None:
    assert "pass arguments by keyword" in changes["pay.refund reason"].advice
    assert _outcome(runtime.old, "pay.refund", 7, reason="x") == "7: x"


@pytest.mark.worker
def test_a_queued_message_without_a_parameter_that_lost_its_default_fails_as_the_finding_says(
        runtime: Runtime, changes: dict[str, Any]) -> None:
    change = changes["pay.notify channel"]
    assert (change.rule, change.queued) == ("PARAM_DEFAULT_REMOVED", BREAKS)
    assert "raises TypeError on the new worker (missing required argument 'channel')" in change.queued_text
    failure = _outcome(runtime.old, "pay.notify", 7)
    assert isinstance(failure, TypeError) and "missing 1 required positional argument: 'channel'" in str(failure)
    assert _outcome(runtime.old, "pay.notify", 7, "sms") == "7 by sms"  # a message that passes it binds


@pytest.mark.worker
def test_a_queued_message_with_arguments_a_removed_catch_all_took_fails_as_the_finding_says(
        runtime: Runtime, changes: dict[str, Any]) -> None:
    change = changes["pay.audit **fields"]
    assert (change.rule, change.queued) == ("PARAM_REMOVED", BREAKS)
    assert "a message queued with extra keyword arguments (taken by `**fields` before) raises TypeError on the " \
           "new worker" in change.queued_text
    failure = _outcome(runtime.old, "pay.audit", "paid", user=1)
    assert isinstance(failure, TypeError) and "unexpected keyword argument 'user'" in str(failure)
    assert _outcome(runtime.old, "pay.audit", "paid") == "paid"


@pytest.mark.worker
def test_a_new_message_without_a_removed_required_parameter_fails_on_an_old_worker(
        runtime: Runtime, changes: dict[str, Any]) -> None:
    change = changes["pay.removed note"]
    assert change.rolling == BREAKS
    assert "raises TypeError on an old worker (missing required argument 'note')" in change.rolling_text
    failure = _outcome(runtime.new, "roll.removed", 7)
    assert isinstance(failure, TypeError) and "missing 1 required positional argument: 'note'" in str(failure)
    gained = changes["pay.kept note"]  # kept with a default: safe for old messages, workers first for new ones
    assert (gained.rule, gained.rolling) == ("PARAM_DEFAULT_ADDED", WORKERS_FIRST)
    assert "a new message without `note` raises TypeError on an old worker (missing required argument 'note')" \
        in gained.rolling_text
    failure = _outcome(runtime.new, "roll.kept", 7)
    assert isinstance(failure, TypeError) and "missing 1 required positional argument: 'note'" in str(failure)


@pytest.mark.worker
def test_a_value_of_the_old_type_reaches_the_new_code_unchecked(runtime: Runtime, changes: dict[str, Any]) -> None:
    change = changes["pay.charge amount"]
    assert (change.rule, change.queued, change.rolling) == ("PARAM_TYPE_CHANGED", BREAKS, BREAKS)
    assert "as a `int` reaches the new worker's code, which expects `str` (Celery checks no types)" in \
        change.queued_text
    failure = _outcome(runtime.old, "pay.charge", 5)  # the code ran: amount.strip() on the int 5
    assert isinstance(failure, AttributeError) and "'int' object has no attribute 'strip'" in str(failure)
    assert "add a new parameter (or a new task) for `str` and keep `amount`" in change.advice
    assert not [c for k, c in changes.items() if k.startswith("pay.charge_safe ") and c.queued == BREAKS]
    assert _outcome(runtime.old, "pay.charge_safe", 5) == "5"


@pytest.mark.worker
def test_a_value_the_narrowed_type_excludes_reaches_the_new_code_unchecked(
        runtime: Runtime, changes: dict[str, Any]) -> None:
    change = changes["pay.label note"]
    assert (change.rule, change.queued) == ("PARAM_TYPE_NARROWED", BREAKS)
    assert "that is not a `str` arrives unchanged: the new worker's code gets a value it no longer expects " \
           "(Celery checks no types)" in change.queued_text
    failure = _outcome(runtime.old, "pay.label", None)
    assert isinstance(failure, AttributeError) and "'NoneType' object has no attribute 'upper'" in str(failure)
    assert _outcome(runtime.old, "pay.label", "x") == "X"


@pytest.mark.worker
def test_an_old_client_gets_the_new_result_type(runtime: Runtime, changes: dict[str, Any]) -> None:
    change = changes["pay.total None"]
    assert (change.rule, change.queued) == ("RESULT_TYPE_CHANGED", BREAKS)
    assert "a client built against the old contract gets a `str` from `.get()` where it expects `int`" in \
        change.queued_text
    assert _outcome(runtime.old, "pay.total", 7) == "7.00"
    narrowed = changes["pay.total_safe None"]  # int | None -> int: every result is one the old client takes
    assert (narrowed.rule, narrowed.queued) == ("RESULT_TYPE_CHANGED", SAFE)
    assert _outcome(runtime.old, "pay.total_safe", 7) == 700


@pytest.mark.worker
def test_a_message_in_a_serializer_the_worker_does_not_accept_is_discarded(
        runtime: Runtime, changes: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    """The worker accepts json and yaml: an old pickle message is refused, an old yaml one is taken."""
    change = changes["pay.unpickled None"]
    assert (change.rule, change.queued, change.extra["old_serializer"]) == ("SERIALIZER_CHANGED", BREAKS, "pickle")
    assert "a message queued as pickle is discarded by the new worker unless its accept_content lists pickle " \
           "('Received invalid task message' ... ContentDisallowed: 'Refusing to deserialize untrusted content'); " \
           "no result is stored" in change.queued_text
    refused = runtime.old.tasks["pay.unpickled"].apply_async((7,))
    line = _logged(caplog, "Refusing to deserialize untrusted content of type pickle")
    assert line.startswith("Received invalid task message") and "ignored and discarded" in line
    assert refused.state == "PENDING"
    accepted = changes["pay.unyamled None"]
    assert (accepted.rule, accepted.extra["old_serializer"]) == ("SERIALIZER_CHANGED", "yaml")
    assert "keep yaml accepted until the queues drain" in accepted.advice
    assert _outcome(runtime.old, "pay.unyamled", 7) == 7


@pytest.mark.worker
def test_a_new_message_in_a_serializer_an_old_worker_does_not_accept_is_discarded(
        runtime: Runtime, changes: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    change = changes["pay.pickled None"]
    assert (change.rule, change.rolling, change.extra["new_serializer"]) == ("SERIALIZER_CHANGED", BREAKS, "pickle")
    assert "a new pickle message is discarded by an old worker unless its accept_content lists pickle" in \
        change.rolling_text
    refused = runtime.new.tasks["roll.pickled"].apply_async((7,))
    _logged(caplog, "Refusing to deserialize untrusted content of type pickle")
    assert refused.state == "PENDING"
    assert _outcome(runtime.old, "pay.pickled", 7) == 7  # the queued json message: the worker lists json


@pytest.mark.worker
def test_a_queued_message_waits_in_the_old_queue_until_a_worker_consumes_it(
        runtime: Runtime, changes: dict[str, Any]) -> None:
    change = changes["pay.rerouted None"]
    assert (change.rule, change.queued) == ("QUEUE_CHANGED", BREAKS)
    assert f"messages already in {OLD_QUEUE} wait there until some worker consumes {OLD_QUEUE}" in \
        change.queued_text
    waiting = runtime.old.tasks["pay.rerouted"].apply_async((7,))
    time.sleep(0.2)
    with runtime.old.connection_for_write() as connection:
        assert connection.default_channel.queue_declare(OLD_QUEUE, passive=True).message_count == 1
    assert waiting.state == "PENDING"
    assert f"-Q {OLD_QUEUE}," in change.advice  # consume both: the message is taken
    runtime.worker.consumer.add_task_queue(OLD_QUEUE)
    try:
        assert waiting.get(timeout=10, interval=0.005) == "routed 7"
    finally:
        runtime.worker.consumer.cancel_task_queue(OLD_QUEUE)


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
