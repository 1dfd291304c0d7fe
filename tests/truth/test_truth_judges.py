"""The judges of the truth tests are strict: ``same``, ``conforms`` and ``parts_at`` can say no."""

from __future__ import annotations

import datetime
import decimal
from zoneinfo import ZoneInfo

from truth_cases import Money, Point, SpecialMoney
from truth_check import conforms, parts_at, same

from celery_boundary.core.annotations import shape_of


def test_same_tells_types_apart_recursively() -> None:
    assert same({"a": [1, (2, "x")]}, {"a": [1, (2, "x")]})
    assert not same(1, True)
    assert not same(1, 1.0)
    assert not same((1, 2), [1, 2])
    assert not same({"a": [1, (2, "x")]}, {"a": [1, [2, "x"]]})
    assert not same({1: "a"}, {"1": "a"})
    assert not same({True: "b"}, {1: "b"})
    assert not same({None: "a", 1.5: "b"}, {"null": "a", "1.5": "b"})
    assert not same(Point(1, 2), [1, 2])
    assert not same(SpecialMoney("1", "EUR"), Money("1", "EUR"))


def test_same_on_floats_decimals_and_datetimes() -> None:
    nan = float("nan")
    assert same(nan, float("nan")) and same([nan], [nan]) and same({nan}, {float("nan")})
    assert not same({1}, {True}) and not same(frozenset({1.0}), frozenset({1}))
    assert not same(0.0, -0.0)
    assert not same(decimal.Decimal("1.0"), decimal.Decimal("1.00"))
    paris = datetime.datetime(2024, 7, 1, 12, tzinfo=ZoneInfo("Europe/Paris"))
    assert same(paris, paris.astimezone(datetime.timezone(datetime.timedelta(hours=2))))
    assert not same(paris, paris.astimezone(datetime.timezone.utc))  # same instant, other offset
    assert not same(paris.replace(tzinfo=None), paris)


def test_conforms_checks_exact_arrival_types() -> None:
    assert conforms({"a": [1]}, shape_of(dict[str, list[int]]))
    assert not conforms({1: [1]}, shape_of(dict[str, list[int]]))
    assert not conforms({"a": (1,)}, shape_of(dict[str, list[int]]))
    assert not conforms([True], shape_of(list[int]))
    assert conforms([1, "a"], shape_of(list[int | str]))
    assert conforms(Money("1", "EUR"), shape_of(Money))
    assert not conforms(SpecialMoney("1", "EUR"), shape_of(Money))


def test_parts_at_follows_the_cores_paths() -> None:
    value = {"home": [Point(1, 2)], "work": []}
    assert parts_at(value, "[*][*]") == [Point(1, 2)]
    assert parts_at(value, "{key}") == ["home", "work"]
    assert parts_at(value, "[*][*].y") == [2]
    assert parts_at({"bounds": (1, 2)}, "['bounds'][1]") == [2]
    assert parts_at({"a": []}, "[*][*]") == []
