"""Real round trips through kombu's json serializer (dumps -> loads) for every built-in preserializer."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from cb_runtime_models import (
    Address,
    Animal,
    Archived,
    Box,
    Cell,
    Color,
    Corner,
    Created,
    Deleted,
    Dog,
    Envelope,
    Event,
    Invoice,
    Label,
    Mixed,
    Money,
    Node,
    Parcel,
    Perm,
    Point,
    Point3D,
    Reading,
    Shipment,
    Stage,
    Tags,
    Tree,
)
from cb_runtime_wire import envelope, read, round_trip

from celery_boundary.runtime import dotted_name

AWARE = datetime(2026, 11, 22, 5, 30, tzinfo=timezone(timedelta(hours=2)))


def make_shipment(**changes: Any) -> Shipment:
    values: dict[str, Any] = {
        "to": Address(street="1 Quay", city="Leith"),
        "sent_at": AWARE,
        "pair": (7, "seven"),
        "color": Color.GREEN,
        "stage": Stage.DONE,
        "ids": {3, 1, 2},
        "by_day": {1: date(2026, 1, 1), 2: date(2026, 1, 2)},
        "points": [Point(1, 2), Point(-3, 4)],
        "label": Label("fragile", date(2026, 11, 1)),
        "price": Decimal("19.90"),
        "origin": Point(0, 0),
        "extra": {"k": [1, "two", None]},
    }
    values.update(changes)
    return Shipment(**values)


def assert_same(sent: Any, arrived: Any) -> None:
    assert type(arrived) is type(sent)
    assert arrived == sent


@pytest.mark.parametrize("member", [Color.RED, Color.GREEN, Perm.READ, Perm.READ | Perm.EXEC, Perm(0)])
def test_enums_travel_by_value(member: Any) -> None:
    assert envelope(member)["__value__"] == member.value
    assert_same(member, round_trip(member))


def test_enum_by_name_carries_non_scalar_values() -> None:
    assert envelope(Corner.BOTTOM_RIGHT)["__value__"] == "BOTTOM_RIGHT"
    assert round_trip(Corner.BOTTOM_RIGHT) is Corner.BOTTOM_RIGHT


def test_pydantic_model() -> None:
    address = Address(street="1 Quay", city="Leith")
    assert envelope(address) == {"__type__": "cb:cb_runtime_models.Address", "__value__": {"street": "1 Quay", "city": "Leith"}}
    assert_same(address, round_trip(address))


def test_strict_aliased_model_with_computed_field() -> None:
    reading = Reading.model_validate(
        {"taken_at": AWARE, "sensor-id": uuid.uuid4(), "values": (1.5, 2.0), "stage": Stage.DRAFT}
    )
    packed = envelope(reading)["__value__"]
    assert "sensor-id" in packed  # by alias, so model_validate accepts it back
    assert "count" not in packed  # computed: would be an extra input to a forbid-extra model
    arrived = round_trip(reading)
    assert_same(reading, arrived)
    assert arrived.values == (1.5, 2.0) and arrived.taken_at == AWARE


def test_root_model() -> None:
    tags = Tags(["a", "b"])
    assert envelope(tags)["__value__"] == ["a", "b"]
    assert_same(tags, round_trip(tags))


def test_parametrised_generic_model() -> None:
    box = Box[int](item=5)
    assert envelope(box)["__type__"] == "cb:cb_runtime_models.Box[int]"
    assert_same(box, round_trip(box))


def test_dataclass_nested_values_come_back_as_themselves() -> None:
    shipment = make_shipment()
    arrived = round_trip(shipment)
    assert_same(shipment, arrived)
    # What plain kombu would have turned into list / str keys / str comes back typed.
    assert type(arrived.pair) is tuple
    assert type(arrived.ids) is set
    assert list(arrived.by_day) == [1, 2]
    assert type(arrived.to) is Address and type(arrived.label) is Label
    assert type(arrived.points[0]) is Point and arrived.stage is Stage.DONE
    assert arrived.sent_at.utcoffset() == timedelta(hours=2)
    assert arrived.price == Decimal("19.90") and str(arrived.price) == "19.90"


def test_dataclass_defaults_and_optionals() -> None:
    shipment = make_shipment(origin=None, note="left at door")
    assert_same(shipment, round_trip(shipment))


def test_dataclass_missing_defaulted_field_uses_the_default() -> None:
    """A message from an older producer that lacks a defaulted field still decodes."""
    packed = envelope(make_shipment())
    del packed["__value__"]["note"], packed["__value__"]["extra"]
    arrived = read(json.dumps(packed))
    assert arrived.note is None and arrived.extra == {}


def test_recursive_dataclass() -> None:
    tree = Tree(1, [Tree(2), Tree(3, [Tree(4)])])
    assert_same(tree, round_trip(tree))
    assert type(round_trip(tree).children[1].children[0]) is Tree


def test_attrs_class_with_private_attribute_and_nested_values() -> None:
    parcel = Parcel(2.5, (1, 2, 3), "s3cret", Label("x", date(2026, 1, 5)), [Point(9, 9)], AWARE)
    packed = envelope(parcel)["__value__"]
    assert packed["secret"] == "s3cret"  # attrs' __init__ argument for the private attribute _secret
    arrived = round_trip(parcel)
    assert_same(parcel, arrived)
    assert type(arrived.dims) is tuple and type(arrived.label) is Label


def test_user_preserializers() -> None:
    assert envelope(Money(1250, "EUR"))["__value__"] == "1250 EUR"
    assert_same(Money(1250, "EUR"), round_trip(Money(1250, "EUR")))
    assert envelope(Cell(3, 4))["__value__"] == "R3C4"
    assert_same(Cell(3, 4), round_trip(Cell(3, 4)))


def test_registered_values_inside_containers() -> None:
    value = {"to": [Address(street="a", city="b")], "colors": (Color.RED, Perm.WRITE), "when": AWARE}
    arrived = round_trip(value)
    assert arrived == {"to": [Address(street="a", city="b")], "colors": [Color.RED, Perm.WRITE], "when": AWARE}
    assert type(arrived["to"][0]) is Address


@pytest.mark.parametrize(
    "event",
    [
        Event(at=AWARE),
        Created(at=AWARE, by="ann"),
        Deleted(at=AWARE, reason="spam"),
        Archived(at=AWARE, reason="old", shelf=7),
    ],
    ids=lambda event: type(event).__name__,
)
def test_include_subclasses_keeps_the_exact_class(event: Event) -> None:
    written = envelope(event)
    assert written["__type__"] == "cb:cb_runtime_models.Event"
    assert written["__value__"]["class"] == f"cb_runtime_models.{type(event).__name__}"
    assert_same(event, round_trip(event))


def test_without_include_subclasses_a_subclass_arrives_as_the_registered_class() -> None:
    """kombu's isinstance match: Dog uses Animal's registration and arrives as an Animal."""
    dog = Dog("rex", good=True)
    written = envelope(dog)
    assert written == {"__type__": "cb:cb_runtime_models.Animal", "__value__": {"name": "rex"}}
    arrived = round_trip(dog)
    assert type(arrived) is Animal and arrived == Animal("rex")


def test_self_referencing_dataclass_registered_by_decorator() -> None:
    node = Node("root", [Node("a"), Node("b", [Node("c")])])
    assert_same(node, round_trip(node))


def test_pydantic_subclass_without_include_subclasses_arrives_as_the_registered_model() -> None:
    class Upstairs(Address):  # a subclass is not registered by itself: Address's registration applies
        floor: int

    arrived = round_trip(Upstairs(street="a", city="b", floor=3))
    assert type(arrived) is Address and arrived == Address(street="a", city="b")


def test_any_typed_fields_arrive_as_their_json_form() -> None:
    """A documented limit: with no annotation to follow, a datetime inside Any arrives as a str."""
    arrived = round_trip(make_shipment(extra={"when": AWARE, "pair": (1, 2)}))
    assert arrived.extra == {"when": AWARE.isoformat(), "pair": [1, 2]}


@pytest.mark.parametrize(
    "mixed",
    [
        Mixed([Point(1, 2), Label("x", date(2026, 1, 1))], Point3D(1, 2, 3), Label("y", date(2026, 2, 2))),
        Mixed([Label("x", date(2026, 1, 1))], Point(5, 6)),
        Mixed([], Point(0, 0), None),
    ],
)
def test_unions_of_nested_classes(mixed: Mixed) -> None:
    arrived = round_trip(mixed)
    assert_same(mixed, arrived)
    assert [type(item) for item in arrived.items] == [type(item) for item in mixed.items]
    assert type(arrived.either) is type(mixed.either)


@pytest.mark.parametrize(
    ("envelope_value", "expected_name"),
    [
        (Envelope[int](payload=3), "cb_runtime_models.Envelope[int]"),
        (Envelope[str](payload="three"), "cb_runtime_models.Envelope[str]"),
        (Envelope[Address](payload=Address(street="s", city="c")), "cb_runtime_models.Envelope[cb_runtime_models.Address]"),
        (Envelope[list[int]](payload=[1]), "cb_runtime_models.Envelope[list[int]]"),
    ],
    ids=["int", "str", "Address", "list"],
)
def test_include_subclasses_keeps_the_parametrisation_of_a_generic_model(envelope_value: Any, expected_name: str) -> None:
    assert envelope(envelope_value)["__value__"]["class"] == expected_name
    assert_same(envelope_value, round_trip(envelope_value))


def test_unknown_keys_from_a_newer_producer_are_ignored() -> None:
    packed = envelope(make_shipment())
    packed["__value__"]["added_later"] = {"x": 1}
    packed["__value__"]["label"]["colour"] = "red"
    assert_same(make_shipment(), read(json.dumps(packed)))


# Parametrised at module level: pydantic 2.14 then gives the new class *this* module's name.
CREATED_HERE = Envelope[tuple[int, str]]


def test_parametrised_names_do_not_depend_on_where_pydantic_created_them() -> None:
    created_here = CREATED_HERE
    assert created_here.__module__ == __name__  # the reason names are built from the origin
    assert dotted_name(created_here) == "cb_runtime_models.Envelope[tuple[int, str]]"
    assert_same(created_here(payload=(1, "a")), round_trip(created_here(payload=(1, "a"))))


def test_registered_classes_inside_a_dataclass_keep_their_own_registration() -> None:
    created = Created(at=AWARE, by="ann")
    invoice = Invoice(Money(300, "EUR"), [Money(100, "EUR"), Money(200, "EUR")], Cell(1, 1), [created])
    packed = envelope(invoice)["__value__"]
    # Their own preserializers ("300 EUR", "R1C1"), not the field-by-field dataclass codec.
    assert packed["total"] == {"__type__": "cb:cb_runtime_models.Money", "__value__": "300 EUR"}
    assert packed["anchor"] == {"__type__": "cb:cb_runtime_models.Cell", "__value__": "R1C1"}
    arrived = round_trip(invoice)
    assert_same(invoice, arrived)
    assert type(arrived.lines[1]) is Money and type(arrived.anchor) is Cell
    assert type(arrived.history[0]) is Created  # include_subclasses applies inside too
    with_pet = Invoice(Money(1, "GBP"), [], pet=Dog("rex", good=False))
    assert envelope(with_pet)["__value__"]["pet"] == {"name": "rex", "good": False}
    assert_same(with_pet, round_trip(with_pet))
    assert_same(Invoice(Money(1, "GBP"), []), round_trip(Invoice(Money(1, "GBP"), [])))


@pytest.mark.parametrize("serializer", ["msgpack", "yaml"])
def test_other_serializers_ignore_the_registration(serializer: str) -> None:
    """Documented limit: register_type is a feature of kombu's json encoder only."""
    from kombu.exceptions import EncodeError
    from kombu.serialization import dumps

    for value in (Address(street="a", city="b"), Tree(1), Color.RED):
        with pytest.raises(EncodeError):
            dumps(value, serializer=serializer)


def test_a_zone_name_is_lost_but_the_offset_kept() -> None:
    from zoneinfo import ZoneInfo

    when = datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    arrived = round_trip(make_shipment(sent_at=when)).sent_at
    assert arrived == when and arrived.utcoffset() == timedelta(hours=2)
    assert not isinstance(arrived.tzinfo, ZoneInfo)
