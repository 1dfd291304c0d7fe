"""register_preserializer's forms and its refusals: every refusal says why and what to do instead."""

from __future__ import annotations

import enum
import json
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import cb_runtime_models as models
import pytest
from cb_runtime_wire import envelope, round_trip, wire
from kombu.exceptions import EncodeError

from celery_boundary.runtime import (
    AttrsPreserializer,
    DataclassPreserializer,
    EnumPreserializer,
    Preserializer,
    PydanticModelPreserializer,
    RegisteredType,
    marker_for,
    pick_builtin,
    register_preserializer,
    registered_types,
)

# --- module-level classes (reachable by name), so the refusal under test is the one that fires ---


if sys.version_info >= (3, 11):

    class Mood(enum.StrEnum):
        HAPPY = "happy"

else:  # pragma: no cover - Python 3.10 has no StrEnum; this is what it is made of

    class Mood(str, enum.Enum):
        HAPPY = "happy"


class Level(enum.IntEnum):
    LOW = 1


class Bits(enum.IntFlag):
    ONE = 1


class Legacy(str, enum.Enum):
    OLD = "old"


class Pair(NamedTuple):
    left: int
    right: int


class Headers(dict[str, str]):
    pass


class Slug(str):
    pass


class Plain:
    pass


class Tuplish(enum.Enum):
    ORIGIN = (0, 0)


class LateAddress(models.Address):  # Address is registered (without subclasses) in cb_runtime_models
    floor: int = 0


class LateCreated(models.Created):  # Event is registered with include_subclasses=True
    pass


class Stamp(datetime):  # kombu registers datetime itself
    pass


@register_preserializer
@dataclass
class BareDecorated:
    n: int


@register_preserializer(include_subclasses=True)
@dataclass
class Shape:
    sides: int


@dataclass
class Square(Shape):
    length: float = 1.0


@register_preserializer(preserializer=DataclassPreserializer())
@dataclass
class Keyworded:
    n: int


class NotAPreserializer:
    """Has the three methods but is passed as a class (forgotten parentheses)."""

    def compatible_with(self, cls: type[Any]) -> None: ...

    def pack(self, obj: Any, cls: type[Any]) -> Any: ...

    def unpack(self, data: Any, cls: type[Any]) -> Any: ...


class AcceptsAnything:
    def compatible_with(self, cls: type[Any]) -> None:
        return None

    def pack(self, obj: Any, cls: type[Any]) -> Any:
        return repr(obj)

    def unpack(self, data: Any, cls: type[Any]) -> Any:
        return data


# --- forms ---


def test_decorators_return_the_class_itself() -> None:
    assert isinstance(models.Color.RED, models.Color)  # @register_preserializer() on an Enum
    assert BareDecorated(1).n == 1 and BareDecorated.__name__ == "BareDecorated"
    assert round_trip(BareDecorated(4)) == BareDecorated(4)
    assert round_trip(Keyworded(2)) == Keyworded(2)


def test_call_form_returns_its_argument() -> None:
    assert register_preserializer(models.Address) is models.Address  # registering again is allowed


def test_decorator_with_include_subclasses() -> None:
    arrived = round_trip(Square(4, 2.5))
    assert type(arrived) is Square and arrived == Square(4, 2.5)
    assert type(round_trip(Shape(3))) is Shape


def test_registered_types_lists_what_kombu_was_given() -> None:
    by_class = {entry.cls: entry for entry in registered_types()}
    assert by_class[models.Address] == RegisteredType(
        models.Address, "cb:cb_runtime_models.Address", by_class[models.Address].preserializer, False
    )
    assert isinstance(by_class[models.Address].preserializer, PydanticModelPreserializer)
    assert by_class[models.Event].include_subclasses is True
    assert isinstance(by_class[models.Parcel].preserializer, AttrsPreserializer)
    assert isinstance(by_class[models.Corner].preserializer, EnumPreserializer)
    assert by_class[models.Corner].preserializer.by_name is True  # type: ignore[attr-defined]
    assert by_class[models.Money].marker == marker_for(models.Money) == "cb:cb_runtime_models.Money"
    order = [entry.cls for entry in registered_types()]
    assert order.index(models.Color) < order.index(models.Address) < order.index(models.Event)


def test_builtins_satisfy_the_protocol() -> None:
    for preserializer in (PydanticModelPreserializer(), DataclassPreserializer(), AttrsPreserializer(), EnumPreserializer()):
        assert isinstance(preserializer, Preserializer)
    assert isinstance(models.MoneyPreserializer(), Preserializer)


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (models.Address, PydanticModelPreserializer),
        (models.Tags, PydanticModelPreserializer),
        (models.Point, DataclassPreserializer),
        (models.Label, AttrsPreserializer),
        (models.Stage, EnumPreserializer),
    ],
)
def test_pick_builtin_by_class_kind(cls: type, expected: type) -> None:
    assert type(pick_builtin(cls)) is expected


# --- refusals at registration ---


def test_refuses_a_class_defined_in_a_function() -> None:
    @dataclass
    class Local:
        n: int

    with pytest.raises(TypeError, match=r"Local is defined inside a function.*Define it at module level"):
        register_preserializer(Local)
    with pytest.raises(TypeError, match="inside a function"):
        register_preserializer()(Local)


def test_refuses_a_class_defined_in_main() -> None:
    @dataclass
    class Script:
        n: int

    Script.__module__ = "__main__"
    Script.__qualname__ = "Script"
    with pytest.raises(TypeError, match=r"Script is defined in __main__.*a worker imports your modules, not your script"):
        register_preserializer(Script)


@pytest.mark.parametrize(
    ("cls", "arrives"),
    [(Mood, "str"), (Level, "int"), (Bits, "int"), (Legacy, "str"), (Pair, "list"), (Headers, "dict"), (Slug, "str")],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_refuses_subclasses_of_types_json_writes_natively(cls: type, arrives: str) -> None:
    with pytest.raises(TypeError, match=rf"would have no effect.*arrive as a plain {arrives}\b"):
        register_preserializer(cls)


def test_native_refusal_matches_what_kombu_does() -> None:
    """The reason for the refusal, measured: kombu never consults its registry for a StrEnum."""
    from kombu.utils.json import register_type

    register_type(Mood, "cb-test:Mood", lambda member: member.value, Mood)
    assert json.loads(wire(Mood.HAPPY)) == "happy"
    assert type(round_trip(Mood.HAPPY)) is str


def test_enum_refusal_suggests_a_plain_enum() -> None:
    with pytest.raises(TypeError, match=r"use a plain Enum"):
        register_preserializer(Mood)
    with pytest.raises(TypeError, match=r"use a dataclass or a pydantic model"):
        register_preserializer(Pair)


def test_refuses_a_class_no_builtin_handles() -> None:
    with pytest.raises(TypeError, match=r"no built-in preserializer for test_runtime_register.Plain.*preserializer=MyPreserializer"):
        register_preserializer(Plain)


def test_refuses_an_incompatible_preserializer() -> None:
    with pytest.raises(TypeError, match=r"EnumPreserializer\(by_name=False\) cannot handle test_runtime_register.Plain"):
        register_preserializer(Plain, preserializer=EnumPreserializer())


def test_refuses_enum_values_that_are_not_json_scalars() -> None:
    with pytest.raises(TypeError, match=r"Tuplish.ORIGIN has the value \(0, 0\).*by_name=True"):
        register_preserializer(Tuplish)


def test_refuses_flags_by_name() -> None:
    with pytest.raises(TypeError, match="combined flag has no single name"):
        register_preserializer(models.Perm, preserializer=EnumPreserializer(by_name=True))


def test_refuses_a_preserializer_class_passed_without_parentheses() -> None:
    with pytest.raises(TypeError, match=r"looks like a preserializer.*NotAPreserializer\(\)"):
        register_preserializer(NotAPreserializer)


@pytest.mark.parametrize("target", [42, "pkg.mod.Address", object()])
def test_refuses_other_targets(target: object) -> None:
    with pytest.raises(TypeError, match="expects a class, a preserializer"):
        register_preserializer(target)  # type: ignore[call-overload]


def test_refuses_object() -> None:
    with pytest.raises(TypeError, match="capture every value"):
        register_preserializer(object, preserializer=models.MoneyPreserializer())


def test_refuses_a_preserializer_given_twice() -> None:
    with pytest.raises(TypeError, match="given twice"):
        register_preserializer(EnumPreserializer(), preserializer=EnumPreserializer())  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("cls", "reason"),
    [
        (LateAddress, r"cb_runtime_models.Address was registered earlier \(by register_preserializer\)"),
        (LateCreated, r"include_subclasses=True\).*rely on that registration"),
        (Stamp, r"datetime.datetime was registered earlier \(by kombu itself, at import\)"),
    ],
)
def test_refuses_a_registration_an_earlier_one_shadows(cls: type, reason: str) -> None:
    with pytest.raises(TypeError, match=reason):
        register_preserializer(cls, preserializer=AcceptsAnything())


@dataclass
class Guarded:
    lock: threading.Lock


def test_refuses_a_dataclass_field_pydantic_cannot_write() -> None:
    with pytest.raises(TypeError, match=r"cannot pack test_runtime_register.Guarded.lock: pydantic has no JSON form"):
        register_preserializer(Guarded)


# --- refusals when sending ---


def test_sending_a_local_subclass_of_an_include_subclasses_base_fails_on_the_producer() -> None:
    class Flash(models.Event):
        pass

    with pytest.raises(EncodeError, match=r"cannot send a .*Flash as a registered cb_runtime_models.Event.*inside a function"):
        envelope(Flash(at=datetime(2026, 1, 1)))
