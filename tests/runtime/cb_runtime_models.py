"""Classes registered for the runtime tests, at module level so a worker can reach them by name.

kombu's type registry is process-global, so these registrations live for the whole test session:
every class here is used only by the runtime tests.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Generic, TypeVar
from uuid import UUID

import attrs
from pydantic import BaseModel, ConfigDict, Field, RootModel, computed_field

from celery_boundary.runtime import EnumPreserializer, register_preserializer

T = TypeVar("T")


@register_preserializer()
class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@register_preserializer()
class Perm(enum.Flag):
    READ = 1
    WRITE = 2
    EXEC = 4


@register_preserializer(EnumPreserializer(by_name=True))
class Corner(enum.Enum):
    TOP_LEFT = (0, 0)
    BOTTOM_RIGHT = (1, 1)


class Stage(enum.Enum):  # not registered: travels inside other values only
    DRAFT = 1
    DONE = 2


@register_preserializer()
class Address(BaseModel):
    street: str
    city: str


@register_preserializer()
class Reading(BaseModel):
    """Strict, aliased, with a computed field: the dump must still validate back."""

    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=False)
    taken_at: datetime
    sensor_id: UUID = Field(alias="sensor-id")
    values: tuple[float, ...]
    stage: Stage

    @computed_field  # type: ignore[prop-decorator]
    @property
    def count(self) -> int:
        return len(self.values)


@register_preserializer()
class Tags(RootModel[list[str]]):
    pass


class Box(BaseModel, Generic[T]):
    item: T


register_preserializer(Box[int])


@dataclass
class Point:  # not registered: nested values use the dataclass codec by themselves
    x: int
    y: int


@attrs.define
class Label:  # not registered either
    text: str
    printed: date


@register_preserializer()
@dataclass(frozen=True)
class Shipment:
    to: Address
    sent_at: datetime
    pair: tuple[int, str]
    color: Color
    stage: Stage
    ids: set[int]
    by_day: dict[int, date]
    points: list[Point]
    label: Label
    price: Decimal
    note: str | None = None
    origin: Point | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tree:
    value: int
    children: list[Tree] = field(default_factory=list)


register_preserializer(Tree)


@attrs.define
class Parcel:
    weight: float
    dims: tuple[int, int, int]
    _secret: str
    label: Label
    points: list[Point] = attrs.Factory(list)
    when: datetime = datetime(2020, 1, 1, tzinfo=timezone.utc)


register_preserializer(Parcel)


class Event(BaseModel):
    at: datetime


class Created(Event):
    by: str


class Deleted(Event):
    reason: str


class Archived(Deleted):
    shelf: int


register_preserializer(Event, include_subclasses=True)


@dataclass
class Animal:
    name: str


@dataclass
class Dog(Animal):
    good: bool = True


register_preserializer(Animal)  # without include_subclasses: a Dog arrives as an Animal


class Money:
    """A plain class with a hand-written preserializer."""

    def __init__(self, cents: int, currency: str) -> None:
        self.cents = cents
        self.currency = currency

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and (self.cents, self.currency) == (other.cents, other.currency)

    def __hash__(self) -> int:
        return hash((self.cents, self.currency))


class MoneyPreserializer:
    def compatible_with(self, cls: type[Any]) -> None:
        if not issubclass(cls, Money):
            raise TypeError("MoneyPreserializer handles Money only")

    def pack(self, obj: Money, cls: type[Money]) -> str:
        return f"{obj.cents} {obj.currency}"

    def unpack(self, data: Any, cls: type[Money]) -> Money:
        cents, currency = data.split()
        return cls(int(cents), currency)


register_preserializer(Money, preserializer=MoneyPreserializer())


class CellPreserializer:
    """Packs a spreadsheet cell as "R1C2"."""

    def compatible_with(self, cls: type[Any]) -> None:
        # Runs while @register_preserializer decorates Cell, before the name Cell exists.
        names = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
        if not {"row", "col"} <= names:
            raise TypeError("CellPreserializer needs a dataclass with row and col fields")

    def pack(self, obj: Cell, cls: type[Cell]) -> str:
        return f"R{obj.row}C{obj.col}"

    def unpack(self, data: Any, cls: type[Cell]) -> Cell:
        row, col = data[1:].split("C")
        return cls(int(row), int(col))


@register_preserializer(CellPreserializer())
@dataclass
class Cell:
    row: int
    col: int


@register_preserializer()
@dataclass
class Node:
    """Decorated while its own name is not defined yet: the field types are read on first use."""

    name: str
    children: list[Node] = field(default_factory=list)


@dataclass
class Point3D:
    x: int
    y: int
    z: int


@dataclass
class Mixed:
    """Unions of nested classes: packing picks by isinstance, unpacking takes the first member that fits."""

    items: list[Point | Label]
    either: Point3D | Point  # the more specific first: a 2-D dict does not fit Point3D (z is required)
    maybe: Label | None = None


register_preserializer(Mixed)


class Envelope(BaseModel, Generic[T]):
    payload: T


register_preserializer(Envelope, include_subclasses=True)  # every parametrisation arrives as itself


@dataclass
class Invoice:
    """Registered classes inside a dataclass travel in their own kombu envelope."""

    total: Money
    lines: list[Money]
    anchor: Cell | None = None
    history: list[Event] = field(default_factory=list)  # registered with include_subclasses=True
    pet: Dog | None = None  # Animal's registration would deliver an Animal: Dog keeps the field codec


register_preserializer(Invoice)
