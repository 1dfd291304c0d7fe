"""Registered values through a real in-process Celery worker (memory broker, cache result backend).

Not ``task_always_eager``: the arguments are written to the broker by the producer, read by the
worker's consumer, and the result is written to and read from the result backend, each time by
kombu's json serializer with the registrations made in ``cb_runtime_models``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from cb_runtime_models import Address, Archived, Color, Created, Event, Label, Point, Shipment, Stage
from celery import Celery
from celery.contrib.testing.worker import start_worker

QUEUE = f"cb-runtime-{uuid.uuid4().hex}"

app = Celery("cb_runtime_worker", broker="memory://", backend="cache+memory://", set_as_current=False)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_default_queue=QUEUE,
    worker_hijack_root_logger=False,
    broker_transport_options={"polling_interval": 0.05},  # the memory transport polls every 1 s by default
)


@app.task
def ship(address: Address, shipment: Shipment) -> Shipment:
    # The worker sees real objects: attribute access and methods work.
    assert type(address) is Address and type(shipment) is Shipment
    return Shipment(**{**shipment.__dict__, "to": address, "note": f"to {address.city}", "ids": shipment.ids | {99}})


@app.task
def archive(event: Event) -> Event:
    assert type(event) is Created
    return Archived(at=event.at, reason=f"by {event.by}", shelf=3)


@pytest.fixture(scope="module")
def worker() -> Iterator[None]:
    # start_worker makes this app the process's current and default app; put the old ones back.
    from celery import _state

    previous = (_state.default_app, _state.get_current_app())  # type: ignore[attr-defined]
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10.0):
            yield
    finally:
        _state.set_default_app(previous[0])
        _state._set_current_app(previous[1])  # type: ignore[attr-defined]


def make_shipment() -> Shipment:
    return Shipment(
        to=Address(street="old", city="nowhere"),
        sent_at=datetime(2026, 11, 22, 6, 0, tzinfo=timezone(timedelta(hours=-5))),
        pair=(1, "one"),
        color=Color.RED,
        stage=Stage.DRAFT,
        ids={1, 2},
        by_day={7: date(2026, 11, 29)},
        points=[Point(1, 1)],
        label=Label("glass", date(2026, 11, 20)),
        price=Decimal("3.50"),
    )


@pytest.mark.worker
@pytest.mark.usefixtures("worker")
def test_pydantic_model_and_dataclass_cross_both_ways() -> None:
    sent = make_shipment()
    address = Address(street="9 Wharf", city="Hull")
    result = ship.delay(address, sent).get(timeout=20, interval=0.05)
    assert type(result) is Shipment
    assert result == Shipment(**{**sent.__dict__, "to": address, "note": "to Hull", "ids": {1, 2, 99}})
    assert type(result.pair) is tuple and type(result.to) is Address and result.color is Color.RED


@pytest.mark.worker
@pytest.mark.usefixtures("worker")
def test_subclasses_cross_as_themselves() -> None:
    created = Created(at=datetime(2026, 11, 22, 6, 0), by="ann")
    result = archive.apply_async((created,)).get(timeout=20, interval=0.05)
    assert type(result) is Archived
    assert result == Archived(at=created.at, reason="by ann", shelf=3)
