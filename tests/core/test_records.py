"""core.records behaves like the frozen dataclasses it replaces (construction, equality, hashing,
read-only fields, replace), checked against a real dataclass where the two should agree."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celery_boundary.core.records import FrozenRecordError, field, fields, mutable_record, record, replace


@record
class Point:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    note: str = field(default="", compare=False)


@record
class Other:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    note: str = field(default="", compare=False)


@dataclasses.dataclass(frozen=True)
class Reference:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    note: str = dataclasses.field(default="", compare=False)


@mutable_record
class Bag:
    name: str
    items: list[int] = field(default_factory=list)
    LIMIT: ClassVar[int] = 3


def test_positional_keyword_and_defaults() -> None:
    assert (Point(1).x, Point(1).y, Point(1).tags) == (1, 0, ())
    assert Point(1, 2) == Point(x=1, y=2) == Point(y=2, x=1)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Point(), "missing required argument 'x'"),  # type: ignore[call-arg]
        (lambda: Point(1, 2, (), "n", 5), "takes 4 positional arguments but 5 were given"),  # type: ignore[call-arg]
        (lambda: Point(1, x=2), "multiple values for argument 'x'"),  # type: ignore[misc]
        (lambda: Point(1, z=2), "unexpected keyword argument 'z'"),  # type: ignore[call-arg]
    ],
)
def test_wrong_construction_is_a_type_error(make: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        make()  # type: ignore[operator]


def test_fields_left_out_of_comparison_are_left_out_of_the_hash() -> None:
    assert Point(1, note="a") == Point(1, note="b")
    assert hash(Point(1, note="a")) == hash(Point(1, note="b"))
    assert Point(1) != Point(2)


def test_records_of_different_classes_are_never_equal() -> None:
    assert Point(1) != Other(1)
    assert len({Point(1), Other(1)}) == 2


def test_frozen_fields_are_read_only() -> None:
    point = Point(1)
    with pytest.raises(FrozenRecordError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.x  # type: ignore[misc]
    assert point.x == 1


def test_mutable_record_assigns_builds_fresh_defaults_and_is_unhashable() -> None:
    first, second = Bag("a"), Bag("b")
    first.items.append(1)
    assert second.items == []
    first.name = "c"
    assert first == Bag("c", [1])
    with pytest.raises(TypeError):
        hash(first)
    assert [f.name for f in fields(Bag)] == ["name", "items"]  # the ClassVar is not a field


def test_replace_copies_and_refuses_unknown_fields() -> None:
    point = Point(1, 2, ("t",), "n")
    moved = replace(point, y=5)
    assert (moved.x, moved.y, moved.tags, moved.note) == (1, 5, ("t",), "n")
    assert point.y == 2
    with pytest.raises(TypeError, match="no field 'z'"):
        replace(point, z=1)


def test_repr_match_args_and_fields() -> None:
    assert repr(Point(1, tags=("a",))) == "Point(x=1, y=0, tags=('a',), note='')"
    assert Point.__match_args__ == ("x", "y", "tags", "note")  # type: ignore[attr-defined]
    assert [f.default for f in fields(Point)][1:] == [0, (), ""]
    with pytest.raises(TypeError, match="not a record"):
        fields(Reference)


def test_definition_mistakes_are_refused() -> None:
    with pytest.raises(ValueError, match="mutable default"):

        @record
        class Shared:
            items: list[int] = []

    with pytest.raises(TypeError, match="without a default follows"):

        @record
        class Order:
            a: int = 0
            b: int  # type: ignore[misc]


def test_methods_written_in_the_class_win() -> None:
    @record
    class Named:
        name: str

        def __repr__(self) -> str:
            return f"<{self.name}>"

    assert repr(Named("n")) == "<n>"


Values = tuple[int, int, tuple[str], str]
values = st.tuples(st.integers(), st.integers(), st.tuples(st.text(max_size=3)), st.text(max_size=3))


@given(values, values)
def test_equality_and_hash_agree_with_a_frozen_dataclass(a: Values, b: Values) -> None:
    assert (Point(*a) == Point(*b)) == (Reference(*a) == Reference(*b))
    assert hash(Point(*a)) == hash(Reference(*a))
