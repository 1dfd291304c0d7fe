"""Hypothesis: nested containers of scalars (3 deep; str/int/float/bool/None keys) agree with kombu's
json, msgpack and yaml (and pickle, which carries all of them).

A strategy draws an annotation and a value of it together. The check is the same as the row test,
made exact for nested empties: a value must fail (at the step the core names) exactly when it holds
a part at the place a NOT_CARRIED problem is located, and cross otherwise.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from truth_cases import Level, Mood
from truth_check import TRIED, Crossing, conforms, expected_failure, roundtrip, same

from celery_boundary.core.annotations import shape_of
from celery_boundary.core.shapes import describe
from celery_boundary.core.verdicts import Outcome, judge

Pair = tuple[Any, st.SearchStrategy[Any]]  # (annotation, strategy for its values)

# msgpack's integers stop at uint64 / int64 (value-level limit, see test_value_limits.py).
SCALARS: list[Pair] = [
    (int, st.integers(min_value=-(2**63), max_value=2**64 - 1)),
    (float, st.floats()),
    (str, st.text(max_size=8)),
    (bool, st.booleans()),
    (bytes, st.binary(max_size=8)),
    (type(None), st.none()),
]
KEYS: list[Pair] = [
    (str, st.text(max_size=6)),
    (int, st.integers(min_value=-(2**63), max_value=2**63 - 1)),
    # Beyond the brief's int/str keys: the keys json rewrites and msgpack refuses. No nan key:
    # nan != nan, so a dict keyed by nan cannot be compared after the trip.
    (float, st.floats(allow_nan=False)),
    (bool, st.booleans()),
    (type(None), st.none()),
]
#: Hashable items for sets: scalars, and pairs of scalars (yaml cannot read those back).
HASHABLE: list[Pair] = SCALARS + [
    (tuple[a, b], st.tuples(x, y)) for (a, x), (b, y) in zip(SCALARS, SCALARS[1:] + SCALARS[:1])
]


@dataclass(frozen=True)
class Palette:
    """What the leaves, the dict keys and the set items are drawn from."""

    name: str
    scalars: list[Pair]
    keys: list[Pair]
    hashable: list[Pair]


PLAIN = Palette("nested containers", SCALARS, KEYS, HASHABLE)

_UTC = st.just(datetime.timezone.utc)
# Beyond the brief: the classes kombu's json registers, enums, bytes and date keys, inside the same
# nesting (aware datetimes in UTC only: a ZoneInfo name does not travel, see test_value_limits.py).
RICH_SCALARS: list[Pair] = SCALARS + [
    (Mood, st.sampled_from(Mood)),
    (Level, st.sampled_from(Level)),
    (datetime.datetime, st.datetimes() | st.datetimes(timezones=_UTC)),
    (datetime.date, st.dates()),
    (decimal.Decimal, st.decimals(allow_nan=False, allow_infinity=False)),
    (uuid.UUID, st.uuids()),
]
RICH = Palette(
    "nested containers with registered types and enums",
    RICH_SCALARS,
    KEYS + [(Mood, st.sampled_from(Mood)), (Level, st.sampled_from(Level)), (bytes, st.binary(max_size=4))]
    + [(datetime.date, st.dates())],
    RICH_SCALARS,
)


@st.composite
def typed_values(draw: st.DrawFn, palette: Palette = PLAIN, depth: int = 3) -> tuple[Any, Any]:
    annotation, values = draw(_typed(palette, depth))
    return annotation, draw(values)


def _typed(palette: Palette, depth: int) -> st.SearchStrategy[Pair]:
    scalar = st.sampled_from(palette.scalars)
    if depth == 0:
        return scalar
    return st.one_of(scalar, _container(palette, depth))


@st.composite
def _container(draw: st.DrawFn, palette: Palette, depth: int) -> Pair:
    kind = draw(st.sampled_from(["list", "tuple...", "tuple2", "set", "frozenset", "dict"]))
    if kind in ("set", "frozenset"):
        item_ann, item = draw(st.sampled_from(palette.hashable))
        if kind == "set":
            return set[item_ann], st.sets(item, max_size=3)  # type: ignore[valid-type]
        return frozenset[item_ann], st.frozensets(item, max_size=3)  # type: ignore[valid-type]
    item_ann, item = draw(_typed(palette, depth - 1))
    if kind == "list":
        return list[item_ann], st.lists(item, max_size=3)  # type: ignore[valid-type]
    if kind == "tuple...":
        return tuple[item_ann, ...], st.lists(item, max_size=3).map(tuple)
    if kind == "tuple2":
        second_ann, second = draw(_typed(palette, depth - 1))
        return tuple[item_ann, second_ann], st.tuples(item, second)
    key_ann, key = draw(st.sampled_from(palette.keys))
    return dict[key_ann, item_ann], st.dictionaries(key, item, max_size=3)  # type: ignore[valid-type]


def check(annotation: object, value: object, serializer: str, palette: Palette = PLAIN) -> None:
    verdict = judge(shape_of(annotation), serializer)
    crossing: Crossing = roundtrip(value, serializer)
    TRIED[f"hypothesis {palette.name} [{serializer}]"] += 1
    text = f"{describe(shape_of(annotation))} / {serializer}: {value!r} -> {crossing!r}"
    assert verdict.outcome is not Outcome.UNKNOWN, text
    if verdict.outcome is Outcome.NOT_CARRIED:
        assert crossing.failed_at == expected_failure(verdict, value), text
        return
    assert crossing.failed_at is None, text
    if verdict.outcome is Outcome.CARRIED:
        assert same(value, crossing.arrived), text
    else:
        assert verdict.arrives is not None and conforms(crossing.arrived, verdict.arrives), text


def _property(serializer: str, palette: Palette) -> Callable[[], None]:
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(typed_values(palette))
    def run(pair: tuple[Any, Any]) -> None:
        check(pair[0], pair[1], serializer, palette)

    return run  # type: ignore[return-value]


@pytest.mark.parametrize("serializer", ["json", "msgpack", "yaml", "pickle"])
def test_nested_containers_agree_with_kombu(serializer: str) -> None:
    _property(serializer, PLAIN)()


@pytest.mark.parametrize("serializer", ["json", "msgpack", "yaml", "pickle"])
def test_nested_registered_types_and_enums_agree_with_kombu(serializer: str) -> None:
    _property(serializer, RICH)()
