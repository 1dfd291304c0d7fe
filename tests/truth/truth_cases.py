"""The verdict rows: a runtime annotation and real values of that type.

Every row is judged by the core for json, msgpack, yaml, pickle and an unknown custom serializer,
and its values are pushed through kombu (test_kombu.py) and a real worker (test_worker.py).
``values`` exercise the type (edges, nesting, empties); ``vacuous`` are values that cross even where
the type does not (an empty container of a bad item type, the good member of a union), so the tests
can tell "every value with the bad part fails" from "no value crosses".

The registered rows register test-local classes with kombu's process-global ``register_type``;
nothing else is registered, so no other test's outcome changes.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import io
import numbers
import pathlib
import sys
import tempfile
import threading
import types
import typing
import uuid
from collections.abc import (
    AsyncIterator,
    Callable,
    Generator,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
    Sized,
)
from fractions import Fraction
from typing import (
    IO,
    AbstractSet,
    Annotated,
    Any,
    BinaryIO,
    Generic,
    Literal,
    NamedTuple,
    NewType,
    Optional,
    SupportsInt,
    TypeVar,
    Union,
)
from zoneinfo import ZoneInfo

import attrs
import pydantic
import pydantic.dataclasses
from django.db.models.query import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from kombu.utils.json import register_type
from typing_extensions import NotRequired, TypedDict

from celery_boundary.core import fullnames as fn
from celery_boundary.core.registry import EMPTY, Registration, Registry
from celery_boundary.core.shapes import builtin
import truth_preserialized as P
from truthapp.models import Article

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # the same thing to every serializer: a str subclass that is an Enum

    class StrEnum(str, enum.Enum):
        pass


SERIALIZERS = ("json", "msgpack", "yaml", "pickle", "truth-custom")


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    annotation: object
    values: Callable[[], list[object]]
    vacuous: Callable[[], list[object]] = lambda: []
    registry: Registry = EMPTY
    trust_any: bool = True
    #: Any/object: the verdict is *carried* by policy (trust_any), not because every value crosses.
    trusted: bool = False


# --- classes the rows use (module level, so pickle can find them) ------------------------------


class Movie(TypedDict):
    title: str
    year: NotRequired[int]


class Span(TypedDict):
    bounds: tuple[int, int]


class Draft(TypedDict, total=False):
    title: str
    cast: list[Point]


OldPoint = collections.namedtuple("OldPoint", ["x", "y"])


@pydantic.dataclasses.dataclass
class Reading:
    value: float


@dataclasses.dataclass(frozen=True)
class Coordinate:
    lat: float


class Point(NamedTuple):
    x: int
    y: int


@dataclasses.dataclass
class Address:
    street: str
    number: int


@attrs.define
class Parcel:
    weight: float
    to: str


class User(pydantic.BaseModel):
    name: str
    tags: list[str] = []


Tags = pydantic.RootModel[list[str]]
T = TypeVar("T")


class Box(pydantic.BaseModel, Generic[T]):
    item: T


class Color(enum.Enum):
    RED = "red"
    BLUE = 2


class Mood(StrEnum):
    HAPPY = "happy"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 10


class Perm(enum.Flag):
    R = 1
    W = 2


class Bits(enum.IntFlag):
    A = 1
    B = 2


UserId = NewType("UserId", int)
Bounded = TypeVar("Bounded", bound=int)
Constrained = TypeVar("Constrained", int, str)
Unbound = TypeVar("Unbound")

JSON = Union[dict[str, "JSON"], list["JSON"], str, int, float, bool, None]


class Vector:
    """One-way through kombu's json: ``__json__`` is called, nothing decodes it."""

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __json__(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vector) and (self.x, self.y) == (other.x, other.y)


class Name(str):
    pass


class Bag(dict[str, int]):
    pass


class Blob(bytes):
    pass


class QuotaError(Exception):
    """Keeps ``code`` out of ``args``: unpickling calls QuotaError(*args) and fails (CPython 3.11)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def shout(text: str) -> str:
    return text.upper()


def _numbers() -> Generator[int, None, None]:
    yield from range(3)


class _Seq(Sequence[int]):
    def __getitem__(self, i: Any) -> Any:
        return [1, 2][i]

    def __len__(self) -> int:
        return 2


def _local_sequence() -> Sequence[int]:
    class LocalSeq(_Seq):  # defined in a function: pickle cannot find it by name
        pass

    return LocalSeq()


def _local_supports_int() -> SupportsInt:
    class Meters:  # defined in a function: pickle cannot find it by name
        def __int__(self) -> int:
            return 3

    return Meters()


def _local_real() -> float:
    class Celsius(float):  # a numbers.Real, defined in a function: pickle cannot find it by name
        pass

    return Celsius(21.5)


def _text_file() -> IO[str]:
    handle = tempfile.TemporaryFile("w+")
    handle.write("x")
    return handle


# --- registered with kombu's json registry (test-local classes only) ---------------------------


class Money:
    def __init__(self, amount: str, currency: str) -> None:
        self.amount, self.currency = amount, currency

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)


class SpecialMoney(Money):
    """Not registered itself: kombu's isinstance match encodes it with Money's entry."""


class Token:
    def __init__(self, value: str) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return type(other) is Token and other.value == self.value


class RegMood(StrEnum):
    CALM = "calm"


class RegPoint(NamedTuple):
    x: int


class RegBag(dict[str, int]):
    pass


class RegName(str):
    pass


class Stamp(datetime.datetime):
    """A datetime subclass: kombu's own datetime entry comes first and shadows this one."""


def _money_decode(value: list[str]) -> Money:
    return Money(*value)


register_type(Money, "truth_money", lambda m: [m.amount, m.currency], _money_decode)
register_type(Token, None, lambda t: t.value)
for _native in (RegMood, RegPoint, RegBag, RegName):
    register_type(_native, f"truth_{_native.__name__}", lambda o: "never called", lambda v: v)
register_type(Stamp, "truth_stamp", lambda s: s.isoformat(), Stamp.fromisoformat)


def _registered(cls: type, marker: str | None = "x", arrives: Any = None) -> Registry:
    return Registry((Registration(f"{cls.__module__}.{cls.__qualname__}", marker, arrives=arrives),))


MONEY = _registered(Money, "truth_money")

# --- the rows ----------------------------------------------------------------------------------

_PARIS = ZoneInfo("Europe/Paris")
_UTC = datetime.timezone.utc
_ANY_VALUES: Callable[[], list[object]] = lambda: [1, "text", [1, "a"], {1, 2}, threading.Lock()]  # noqa: E731

ROWS: tuple[Row, ...] = (
    Row("None", None, lambda: [None]),
    Row("bool", bool, lambda: [True, False]),
    Row("int", int, lambda: [0, 1, -1, 2**63 - 1, -(2**63), 2**64 - 1]),
    Row("float", float, lambda: [0.0, -0.0, 1.5, 1e308, 5e-324, float("nan"), float("inf"), float("-inf")]),
    Row("str", str, lambda: ["", "plain", "ünïcödé ✓", "line\nbreak\ttab\x00", "🙂🙂"]),
    Row("bytes", bytes, lambda: [b"", b"utf-8 \xc3\xa9", b"\xff\xfe\x00 not utf-8"]),
    Row("bytearray", bytearray, lambda: [bytearray(b"abc"), bytearray(b"\xff\x00")]),
    Row("memoryview", memoryview, lambda: [memoryview(b"abc"), memoryview(b"\xff")]),
    Row("list[int]", list[int], lambda: [[], [1, 2, 3]]),
    Row("list[list[str]]", list[list[str]], lambda: [[["a"], []], []]),
    Row("tuple[int, str]", tuple[int, str], lambda: [(1, "a"), (0, "")]),
    Row("tuple[int, ...]", tuple[int, ...], lambda: [(), (1, 2, 3)]),
    Row("set[int]", set[int], lambda: [{1, 2}, set()]),
    Row("frozenset[str]", frozenset[str], lambda: [frozenset({"a"}), frozenset()]),
    Row("dict[str, int]", dict[str, int], lambda: [{}, {"a": 1, "": -1}]),
    Row("dict[str, list[dict[str, int]]]", dict[str, list[dict[str, int]]], lambda: [{"a": [{"b": 1}, {}]}]),
    Row("dict[int, str]", dict[int, str], lambda: [{1: "a", -2: "b"}], vacuous=lambda: [{}]),
    Row("dict[float, str]", dict[float, str], lambda: [{1.5: "a", -0.25: "b"}], vacuous=lambda: [{}]),
    Row("dict[bool, str]", dict[bool, str], lambda: [{True: "y", False: "n"}], vacuous=lambda: [{}]),
    Row("dict[None, str]", dict[None, str], lambda: [{None: "nothing"}], vacuous=lambda: [{}]),
    Row("dict[tuple[int, int], str]", dict[tuple[int, int], str], lambda: [{(1, 2): "a"}], vacuous=lambda: [{}]),
    Row("dict[StrEnum, str]", dict[Mood, str], lambda: [{Mood.HAPPY: "yes"}], vacuous=lambda: [{}]),
    Row("dict[IntEnum, str]", dict[Level, str], lambda: [{Level.LOW: "low", Level.HIGH: "high"}], vacuous=lambda: [{}]),
    Row("dict[bytes, str]", dict[bytes, str], lambda: [{b"k": "v", b"\xff": "w"}], vacuous=lambda: [{}]),
    Row("dict[date, str]", dict[datetime.date, str], lambda: [{datetime.date(2024, 1, 2): "x"}], vacuous=lambda: [{}]),
    Row("dict[UUID, str]", dict[uuid.UUID, str], lambda: [{uuid.UUID(int=5): "x"}], vacuous=lambda: [{}]),
    Row("dict[NamedTuple, str]", dict[Point, str], lambda: [{Point(1, 2): "x"}], vacuous=lambda: [{}]),
    Row("set[tuple[int, int]]", set[tuple[int, int]], lambda: [{(1, 2), (3, 4)}]),
    Row(
        "Mapping[str, int]",
        Mapping[str, int],
        lambda: [{"a": 1}, collections.OrderedDict(b=2), types.MappingProxyType({"c": 3})],
    ),
    Row("Sequence[int]", Sequence[int], lambda: [[1, 2], (3, 4), range(2), _local_sequence()]),
    Row("Iterable[int]", Iterable[int], lambda: [[1, 2], _numbers()]),
    Row("AbstractSet[int]", AbstractSet[int], lambda: [{1, 2}, frozenset({3}), {4: 0}.keys()]),
    Row("TypedDict (NotRequired)", Movie, lambda: [{"title": "Heat"}, {"title": "Ran", "year": 1985}]),
    Row("TypedDict with a tuple", Span, lambda: [{"bounds": (1, 2)}]),
    Row("NamedTuple", Point, lambda: [Point(1, 2), Point(0, -1)]),
    Row("dataclass", Address, lambda: [Address("Main St", 1)]),
    Row(
        "dict[str, list[dataclass]]",
        dict[str, list[Address]],
        lambda: [{"home": [Address("Elm", 2)]}],
        vacuous=lambda: [{}, {"nobody": []}],
    ),
    Row("attrs class", Parcel, lambda: [Parcel(1.5, "Oslo")]),
    Row("pydantic BaseModel", User, lambda: [User(name="ann", tags=["a"]), User(name="")]),
    Row("pydantic RootModel", Tags, lambda: [Tags(["a", "b"]), Tags([])]),
    Row("pydantic generic model", Box[int], lambda: [Box[int](item=3)]),
    Row("Enum", Color, lambda: [Color.RED, Color.BLUE]),
    Row("StrEnum", Mood, lambda: [Mood.HAPPY]),
    Row("IntEnum", Level, lambda: [Level.LOW, Level.HIGH]),
    Row("Flag", Perm, lambda: [Perm.R, Perm.R | Perm.W]),
    Row("IntFlag", Bits, lambda: [Bits.A, Bits.A | Bits.B, Bits(0)]),
    Row("Literal[str]", Literal["a", "b"], lambda: ["a", "b"]),
    Row("Literal[int]", Literal[1, 2], lambda: [1, 2]),
    Row("Literal[Enum member]", Literal[Color.RED], lambda: [Color.RED]),
    Row("Literal[StrEnum member]", Literal[Mood.HAPPY], lambda: [Mood.HAPPY]),
    Row("Optional[int]", Optional[int], lambda: [None, 3]),
    Row("Union[int, str]", Union[int, str], lambda: [1, "a"]),
    Row("Union[int, tuple[int, int]]", Union[int, tuple[int, int]], lambda: [1, (1, 2)]),
    Row("Union[int, dataclass]", Union[int, Address], lambda: [Address("Oak", 3)], vacuous=lambda: [5]),
    Row("Annotated[int, ...]", Annotated[int, "meta"], lambda: [1, -1]),
    Row("NewType(int)", UserId, lambda: [UserId(5)]),
    Row("TypeVar(bound=int)", Bounded, lambda: [1, 7]),
    Row("TypeVar(int, str)", Constrained, lambda: [1, "a"]),
    Row("TypeVar (unbound, trusted)", Unbound, _ANY_VALUES, trusted=True),
    Row("recursive alias JSON", JSON, lambda: [{"a": [1, "x", None, {"b": 2.5, "c": True}]}, [], "s", 0]),
    Row("Any (trusted)", Any, _ANY_VALUES, trusted=True),
    Row("Any (trust_any=False)", Any, _ANY_VALUES, trust_any=False),
    Row("object (trusted)", object, _ANY_VALUES, trusted=True),
    Row("object (trust_any=False)", object, _ANY_VALUES, trust_any=False),
    Row("numbers.Real (ABC)", numbers.Real, lambda: [1, 2.5, Fraction(1, 3), _local_real()]),
    Row("Hashable", Hashable, lambda: [1, "a", (1, 2), frozenset({1}), threading.Lock()]),
    Row("Sized", Sized, lambda: [[1], "ab", {1: 2}.keys()]),
    Row("Protocol (SupportsInt)", SupportsInt, lambda: [1, 2.5, Fraction(1, 3), _local_supports_int()]),
    Row("Callable", Callable[[str], str], lambda: [shout, lambda s: s, len]),
    Row("Generator", Generator[int, None, None], lambda: [_numbers(), (i for i in range(2))]),
    Row("Iterator[int]", Iterator[int], lambda: [_numbers(), iter([1, 2])]),
    Row("AsyncIterator[int]", AsyncIterator[int], lambda: [_agen()]),
    Row("IO[str] (open file)", IO[str], lambda: [_text_file(), io.StringIO("x")]),
    Row("BinaryIO (open file)", BinaryIO, lambda: [tempfile.TemporaryFile("w+b"), io.BytesIO(b"x")]),
    Row("Lock", type(threading.Lock()), lambda: [threading.Lock()]),
    Row("RLock", type(threading.RLock()), lambda: [threading.RLock()]),
    Row(
        "datetime",
        datetime.datetime,
        lambda: [
            datetime.datetime(2024, 1, 2, 3, 4, 5, 678901),
            datetime.datetime(2024, 3, 31, 2, 30, tzinfo=_UTC),
            datetime.datetime(2024, 7, 1, 12, tzinfo=_PARIS),
            datetime.datetime(1, 1, 1),
        ],
    ),
    Row("date", datetime.date, lambda: [datetime.date(2024, 2, 29), datetime.date(1, 1, 1)]),
    Row("time", datetime.time, lambda: [datetime.time(1, 2, 3, 4), datetime.time(23, 59, tzinfo=_UTC)]),
    Row("timedelta", datetime.timedelta, lambda: [datetime.timedelta(days=1, microseconds=5), datetime.timedelta()]),
    Row(
        "Decimal",
        decimal.Decimal,
        lambda: [decimal.Decimal("1.10"), decimal.Decimal("-0"), decimal.Decimal("NaN"), decimal.Decimal("1E+30")],
    ),
    Row("UUID", uuid.UUID, lambda: [uuid.UUID("12345678-1234-5678-1234-567812345678"), uuid.UUID(int=0)]),
    Row("Path", pathlib.Path, lambda: [pathlib.Path("/tmp/x"), pathlib.Path("relative/y")]),
    Row("Django lazy string", Promise, lambda: [gettext_lazy("Hello"), gettext_lazy("")]),
    Row("__json__ (one-way)", Vector, lambda: [Vector(1, 2)]),
    Row("Django model instance", Article, lambda: [Article.objects.get(pk=1), Article.objects.get(pk=2)]),
    Row(
        "Django QuerySet",
        QuerySet[Article],
        lambda: [Article.objects.all(), Article.objects.filter(pk=1), Article.objects.none()],
    ),
    Row("OrderedDict", collections.OrderedDict[str, int], lambda: [collections.OrderedDict(a=1, b=2)]),
    Row("defaultdict", collections.defaultdict[str, list[int]], lambda: [collections.defaultdict(list, a=[1])]),
    Row("Counter", collections.Counter[str], lambda: [collections.Counter("abca")]),
    Row("str subclass", Name, lambda: [Name("x"), Name("")]),
    Row("bytes subclass", Blob, lambda: [Blob(b"x"), Blob(b"\xff")]),
    Row("deque", collections.deque[int], lambda: [collections.deque([1, 2]), collections.deque()]),
    Row("dict subclass", Bag, lambda: [Bag(a=1), Bag()]),
    Row("exception", ValueError, lambda: [ValueError("bad", 1), ValueError()]),
    Row("Exception (any subclass)", Exception, lambda: [ValueError("bad"), QuotaError(429, "slow down")]),
    Row("type[...] (a class)", type[Address], lambda: [Address, int]),
    Row("complex", complex, lambda: [1 + 2j, 0j]),
    Row("range", range, lambda: [range(3), range(0)]),
    # other spellings of the same types (the mypy cross-check sees them as mypy does)
    Row("typing.List[int]", typing.List[int], lambda: [[1], []]),
    Row("typing.Dict[int, str]", typing.Dict[int, str], lambda: [{1: "a"}], vacuous=lambda: [{}]),
    Row("typing.Tuple[int, str]", typing.Tuple[int, str], lambda: [(1, "a")]),
    Row("typing.FrozenSet[int]", typing.FrozenSet[int], lambda: [frozenset({1})]),
    Row("typing.DefaultDict[str, int]", typing.DefaultDict[str, int], lambda: [collections.defaultdict(int, a=1)]),
    Row("typing.Deque[int]", typing.Deque[int], lambda: [collections.deque([1])]),
    Row("typing.Type[dataclass]", typing.Type[Address], lambda: [Address]),
    Row("typing.Text", typing.Text, lambda: ["x"]),
    Row(
        "typing.MutableMapping[str, int]",
        typing.MutableMapping[str, int],
        lambda: [{"a": 1}, types.MappingProxyType({})],
    ),
    Row("typing.Collection[int]", typing.Collection[int], lambda: [[1], {1: 0}.keys()]),
    Row("int | None (PEP 604)", int | None, lambda: [None, 1]),
    Row("list['Address'] (forward reference)", list["Address"], lambda: [[Address("a", 1)]], vacuous=lambda: [[]]),
    Row("Literal[None, True, b'x']", Literal[None, True, b"x"], lambda: [None, True, b"x"]),
    Row("dict[str, Any]", dict[str, Any], lambda: [{"a": 1, "b": [1, "x"]}, {}]),
    Row("list[object]", list[object], lambda: [[1, "a"], []]),
    Row(
        "TypedDict total=False, nested NamedTuple",
        Draft,
        lambda: [{"title": "x", "cast": [Point(1, 2)]}],
        vacuous=lambda: [{}, {"title": "y"}],
    ),
    Row("collections.namedtuple (untyped)", OldPoint, lambda: [OldPoint(1, "a")]),
    Row("pydantic dataclass", Reading, lambda: [Reading(1.5)]),
    Row("frozen dataclass", Coordinate, lambda: [Coordinate(1.0)]),
    # registered types (kombu.utils.json.register_type, json only)
    Row("registered: exact type with marker", Money, lambda: [Money("1.50", "EUR")], registry=MONEY),
    Row("registered: subclass of a registered type", SpecialMoney, lambda: [SpecialMoney("2", "NOK")], registry=MONEY),
    Row(
        "registered: marker=None (one-way)",
        Token,
        lambda: [Token("abc"), Token("")],
        registry=_registered(Token, None, builtin("str")),
    ),
    Row("registered: StrEnum (no effect)", RegMood, lambda: [RegMood.CALM], registry=_registered(RegMood)),
    Row("registered: NamedTuple (no effect)", RegPoint, lambda: [RegPoint(1)], registry=_registered(RegPoint)),
    Row("registered: dict subclass (no effect)", RegBag, lambda: [RegBag(a=1)], registry=_registered(RegBag)),
    Row("registered: str subclass (no effect)", RegName, lambda: [RegName("n")], registry=_registered(RegName)),
    Row(
        "registered: datetime subclass (shadowed by kombu's datetime)",
        Stamp,
        lambda: [Stamp(2024, 5, 6, 7, 8, 9)],
        registry=_registered(Stamp, "truth_stamp"),
    ),
)


async def _agen_body() -> AsyncIterator[int]:
    yield 1


def _agen() -> AsyncIterator[int]:
    return _agen_body()


ROWS += (
    Row(
        "register_preserializer: pydantic model",
        P.Invoice,
        lambda: [P.Invoice(number="A1", lines=[1, 2]), P.Invoice(number="")],
        registry=P.registry_of(P.Invoice),
    ),
    Row(
        "register_preserializer: dataclass",
        P.Shipment,
        lambda: [P.Shipment(1.5, ("a",)), P.Shipment(0.0)],
        registry=P.registry_of(P.Shipment),
    ),
    Row("register_preserializer: attrs class", P.Crate, lambda: [P.Crate(3)], registry=P.registry_of(P.Crate)),
    Row(
        "register_preserializer: Enum",
        P.Channel,
        lambda: [P.Channel.EMAIL, P.Channel.SMS],
        registry=P.registry_of(P.Channel),
    ),
    Row(
        "register_preserializer: subclass, include_subclasses=True",
        P.Signup,
        lambda: [P.Signup(1, "a@b.c")],
        registry=P.registry_of(P.Event),
    ),
    Row(
        "register_preserializer: subclass of an exact registration",
        P.Memo,
        lambda: [P.Memo("hi")],
        registry=P.registry_of(P.Note),
    ),
)

assert len({row.name for row in ROWS}) == len(ROWS), "row names are test ids: keep them unique"
assert fn.DATETIME == "datetime.datetime"
