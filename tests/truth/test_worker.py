"""The core's verdicts against a real Celery worker (not task_always_eager).

One app and one in-process worker per serializer (``celery.contrib.testing.worker.start_worker``,
memory transport, ``cache+memory://`` result backend, solo pool). ``echo`` returns what it received,
so each value crosses the serializer twice: as the task's argument and as its result.
Every row appears; the first two values (and the first vacuous value) of each row are sent, all
values where the core says the outcome depends on the value.

The same workers run CB203's advice (``Canvas``): a canvas a task returns is stored as its result
and never sent, while ``self.replace(canvas)`` in a bound task runs the canvas in the task's place,
so the step chained after the task gets the canvas's result.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from celery import Celery, chain
from celery.contrib.testing.worker import start_worker
from celery.exceptions import TimeoutError as CeleryTimeout
from kombu.exceptions import EncodeError
from test_kombu import values_of, verdict_for
from truth_cases import ROWS, Row
from truth_check import TRIED, conforms, expected_failure, same

from celery_boundary.core.shapes import describe
from celery_boundary.core.verdicts import Outcome, Verdict

pytestmark = pytest.mark.worker

WORKER_SERIALIZERS = ("json", "msgpack", "yaml", "pickle")
PER_ROW = 2
#: How long to wait for a message the worker cannot decode (it is rejected, no result comes).
UNDECODABLE_WAIT = 1.0


@dataclass
class Canvas:
    #: What ``record`` saw, in the order the worker ran it (one solo worker: first in, first run).
    seen: list[str]
    record: Any
    returns: Any
    replaces: Any


@dataclass
class Echo:
    serializer: str
    task: Any
    canvas: Canvas

    def send(self, value: object, timeout: float = 10.0) -> tuple[str, object]:
        """("refused", error) when .delay raises EncodeError, ("lost", None) when no result comes
        within ``timeout``, else ("arrived", result)."""
        try:
            result = self.task.delay(value)
        except EncodeError as exc:
            return "refused", exc
        try:
            return "arrived", result.get(timeout=timeout, interval=0.005)
        except CeleryTimeout:
            return "lost", None


@pytest.fixture(scope="module", params=WORKER_SERIALIZERS)
def echo(request: pytest.FixtureRequest) -> Iterator[Echo]:
    serializer: str = request.param
    app = Celery(f"truth_{serializer}", broker="memory://", backend="cache+memory://", set_as_current=False)
    app.conf.update(
        task_serializer=serializer,
        result_serializer=serializer,
        accept_content=[serializer],
        result_accept_content=[serializer],
        # The memory transport is process-global: a queue per app keeps the workers apart.
        task_default_queue=f"truth-{serializer}",
        broker_transport_options={"polling_interval": 0.005},
        worker_hijack_root_logger=False,
    )

    @app.task(name=f"truth.echo.{serializer}")
    def echo_task(value: object) -> object:
        return value

    canvas = canvas_tasks(app, serializer)  # registered before the worker starts
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=5):
        yield Echo(serializer, echo_task, canvas)


def canvas_tasks(app: Celery, serializer: str) -> Canvas:
    seen: list[str] = []

    @app.task(name=f"truth.canvas.record.{serializer}")
    def record(value: str) -> str:
        seen.append(value)
        return value

    @app.task(name=f"truth.canvas.returns.{serializer}")
    def returns() -> object:
        return chain(record.si("returned 1"), record.si("returned 2"))

    @app.task(name=f"truth.canvas.replaces.{serializer}", bind=True)
    def replaces(self: Any) -> object:
        raise self.replace(chain(record.si("inner 1"), record.si("inner 2")))

    return Canvas(seen, record, returns, replaces)


def test_a_canvas_a_task_returns_is_stored_as_its_result_and_never_run(echo: Echo) -> None:
    canvas = echo.canvas
    canvas.seen.clear()
    sent = canvas.returns.delay()
    if echo.serializer == "yaml":  # yaml.safe_dump cannot represent a Signature: the task fails
        with pytest.raises(EncodeError):
            sent.get(timeout=10, interval=0.005)
    else:
        assert sent.get(timeout=10, interval=0.005)["task"] == "celery.chain"
    # The worker runs messages in order: had the canvas been sent, it would have run before this.
    canvas.record.delay("marker").get(timeout=10, interval=0.005)
    assert canvas.seen == ["marker"]


def test_a_replaced_canvas_runs_in_the_task_place_before_the_next_link(echo: Echo) -> None:
    canvas = echo.canvas
    canvas.seen.clear()
    flow = chain(canvas.replaces.si(), canvas.record.s())
    if echo.serializer == "yaml":  # the chain's own message carries a Signature: not sent at all
        with pytest.raises(EncodeError):
            flow.delay()
        return
    assert flow.delay().get(timeout=10, interval=0.005) == "inner 2"
    assert canvas.seen == ["inner 1", "inner 2", "inner 2"]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_worker_agrees_with_the_verdict(row: Row, echo: Echo) -> None:
    verdict = verdict_for(row, echo.serializer)
    # A row whose outcome depends on the value sends all its values, to show that it does.
    keep = None if row.trusted or verdict.outcome is Outcome.UNKNOWN else PER_ROW
    with values_of(lambda: row.values()[:keep]) as values, values_of(lambda: row.vacuous()[:1]) as vacuous:
        sent = [(value, echo.send(value, wait_for(verdict, value))) for value in values]
        sent_vacuous = [(value, echo.send(value)) for value in vacuous]
    TRIED[f"{row.name} [worker]"] += len(sent) + len(sent_vacuous)
    check_worker_agreement(verdict, row, sent, sent_vacuous)


def wait_for(verdict: Verdict, value: object) -> float:
    """Short for a message the worker is expected to reject, long otherwise."""
    undecodable = verdict.outcome is Outcome.NOT_CARRIED and expected_failure(verdict, value) == "loads"
    return UNDECODABLE_WAIT if undecodable else 10.0


def check_worker_agreement(
    verdict: Verdict,
    row: Row,
    sent: list[tuple[object, tuple[str, object]]],
    vacuous: list[tuple[object, tuple[str, object]]],
) -> None:
    head = f"{row.name} / {verdict.serializer} worker: core says {verdict.outcome.name}"
    everything = sent + vacuous
    if row.trusted or verdict.outcome is Outcome.UNKNOWN:
        outcomes = {how for _, (how, _) in everything}
        assert "arrived" in outcomes and outcomes - {"arrived"}, f"{head}: should vary by value, got {everything!r}"
        for value, (how, got) in everything:
            if how == "arrived" and verdict.arrives is not None and not same(value, got):
                assert conforms(got, verdict.arrives), f"{head}, but {value!r} -> {got!r}"
        return
    if verdict.outcome is Outcome.CARRIED:
        for value, (how, got) in everything:
            assert how == "arrived" and same(value, got), f"{head}, but {value!r} -> {how} {got!r}"
    elif verdict.outcome is Outcome.LOSSY:
        assert verdict.arrives is not None
        for value, (how, got) in everything:
            assert how == "arrived" and conforms(got, verdict.arrives), (
                f"{head} (arrives as {describe(verdict.arrives)}), but {value!r} -> {how} {got!r}"
            )
    else:
        for value, (how, got) in sent:
            expected = "lost" if expected_failure(verdict, value) == "loads" else "refused"
            assert how == expected, f"{head} (expected {expected}), but {value!r} -> {how} {got!r}"
        for value, (how, got) in vacuous:
            assert how == "arrived", f"{head}; the vacuous value {value!r} -> {how} {got!r}"
