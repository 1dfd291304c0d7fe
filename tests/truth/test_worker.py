"""The core's verdicts against a real Celery worker (not task_always_eager).

One app and one in-process worker per serializer (``celery.contrib.testing.worker.start_worker``,
memory transport, ``cache+memory://`` result backend, solo pool). ``echo`` returns what it received,
so each value crosses the serializer twice: as the task's argument and as its result.
Every row appears; the first two values (and the first vacuous value) of each row are sent, all
values where the core says the outcome depends on the value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from celery import Celery
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
class Echo:
    serializer: str
    task: Any

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

    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=5):
        yield Echo(serializer, echo_task)


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
