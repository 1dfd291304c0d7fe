"""Hypothesis: nested containers of scalars (3 deep; str/int/float/bool/None keys) agree with kombu's
json, msgpack and yaml (and pickle, which carries all of them).

A strategy draws an annotation and a value of it together. The check is the same as the row test,
made exact for nested empties: a value must fail (at the step the core names) exactly when it holds
a part at the place a NOT_CARRIED problem is located, and cross otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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


@st.composite
def typed_values(draw: st.DrawFn, depth: int = 3) -> tuple[Any, Any]:
    annotation, values = draw(_typed(depth))
    return annotation, draw(values)


def _typed(depth: int) -> st.SearchStrategy[Pair]:
    scalar = st.sampled_from(SCALARS)
    if depth == 0:
        return scalar
    return st.one_of(scalar, _container(depth))


@st.composite
def _container(draw: st.DrawFn, depth: int) -> Pair:
    kind = draw(st.sampled_from(["list", "tuple...", "tuple2", "set", "frozenset", "dict"]))
    if kind in ("set", "frozenset"):
        item_ann, item = draw(st.sampled_from(HASHABLE))
        if kind == "set":
            return set[item_ann], st.sets(item, max_size=3)  # type: ignore[valid-type]
        return frozenset[item_ann], st.frozensets(item, max_size=3)  # type: ignore[valid-type]
    item_ann, item = draw(_typed(depth - 1))
    if kind == "list":
        return list[item_ann], st.lists(item, max_size=3)  # type: ignore[valid-type]
    if kind == "tuple...":
        return tuple[item_ann, ...], st.lists(item, max_size=3).map(tuple)
    if kind == "tuple2":
        second_ann, second = draw(_typed(depth - 1))
        return tuple[item_ann, second_ann], st.tuples(item, second)
    key_ann, key = draw(st.sampled_from(KEYS))
    return dict[key_ann, item_ann], st.dictionaries(key, item, max_size=3)  # type: ignore[valid-type]


def check(annotation: object, value: object, serializer: str) -> None:
    verdict = judge(shape_of(annotation), serializer)
    crossing: Crossing = roundtrip(value, serializer)
    TRIED[f"hypothesis nested containers [{serializer}]"] += 1
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


def _property(serializer: str) -> Callable[[tuple[Any, Any]], None]:
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(typed_values())
    def run(pair: tuple[Any, Any]) -> None:
        check(pair[0], pair[1], serializer)

    return run


@pytest.mark.parametrize("serializer", ["json", "msgpack", "yaml", "pickle"])
def test_nested_containers_agree_with_kombu(serializer: str) -> None:
    _property(serializer)()
