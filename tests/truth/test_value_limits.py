"""Value-level limits: the verdict is about types, these depend on the value (kombu 5.7.0, msgpack 1.x,
PyYAML 6, CPython 3.11). docs/verdicts.md lists them; each line there is pinned here.
"""

from __future__ import annotations

import datetime
import sys
import uuid
from zoneinfo import ZoneInfo

import pytest
from truth_check import TRIED, roundtrip, same

from celery_boundary.core.annotations import shape_of
from celery_boundary.core.verdicts import Outcome, judge

DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 4300)()
BIG = 10 ** (DIGITS - 1)  # the largest power of ten with 4300 digits
HUGE = BIG * 10


@pytest.mark.parametrize(
    ("serializer", "crosses", "fails"),
    [
        ("json", [BIG, 2**64, -(2**63) - 1], [HUGE]),
        ("yaml", [BIG, 2**64, -(2**63) - 1], [HUGE]),
        ("msgpack", [2**64 - 1, -(2**63)], [2**64, -(2**63) - 1]),
        ("pickle", [HUGE, 2**64, -(2**63) - 1], []),
    ],
)
def test_int_range_depends_on_the_serializer(serializer: str, crosses: list[int], fails: list[int]) -> None:
    assert judge(shape_of(int), serializer).outcome is Outcome.CARRIED
    for value in crosses:
        crossing = roundtrip(value, serializer)
        assert crossing.failed_at is None and same(value, crossing.arrived)
    for value in fails:
        assert roundtrip(value, serializer).failed_at == "dumps"
    TRIED["int (value limits) [kombu]"] += len(crosses) + len(fails)


def test_nan_and_infinity_travel_as_non_standard_json_tokens() -> None:
    import kombu.serialization

    _, _, payload = kombu.serialization.dumps([float("nan"), float("inf"), float("-inf")], serializer="json")
    assert payload == "[NaN, Infinity, -Infinity]"  # other languages' JSON parsers refuse these
    TRIED["float (value limits) [kombu]"] += 3


@pytest.mark.parametrize("serializer", ["json", "yaml"])
def test_aware_datetime_keeps_the_instant_and_offset_but_not_the_zone(serializer: str) -> None:
    # 01:30 on 2024-11-03 happens twice in New York; fold=1 is the second (EST, -05:00).
    sent = datetime.datetime(2024, 11, 3, 1, 30, tzinfo=ZoneInfo("America/New_York"), fold=1)
    crossing = roundtrip(sent, serializer)
    arrived = crossing.arrived
    assert isinstance(arrived, datetime.datetime)
    assert arrived.timestamp() == sent.timestamp()
    assert arrived.utcoffset() == sent.utcoffset() == datetime.timedelta(hours=-5)
    assert type(arrived.tzinfo) is datetime.timezone  # the ZoneInfo name is gone
    assert arrived.fold == 0
    # PEP 495: an inter-zone comparison with a time in the repeated hour is never equal.
    assert arrived != sent
    # ... so arithmetic across a DST change gives a different wall time than at the sender.
    later_sent = (sent + datetime.timedelta(days=200)).isoformat()
    later_arrived = (arrived + datetime.timedelta(days=200)).isoformat()
    assert later_sent != later_arrived
    TRIED["datetime (value limits) [kombu]"] += 1


def test_pickle_keeps_the_zone() -> None:
    sent = datetime.datetime(2024, 11, 3, 1, 30, tzinfo=ZoneInfo("America/New_York"), fold=1)
    arrived = roundtrip(sent, "pickle").arrived
    assert isinstance(arrived, datetime.datetime)
    assert arrived.tzinfo == ZoneInfo("America/New_York") and arrived.fold == 1
    TRIED["datetime (value limits) [kombu]"] += 1


def test_msgpack_refuses_lone_surrogates_that_json_carries() -> None:
    assert roundtrip("\ud800", "msgpack").failed_at == "dumps"
    crossing = roundtrip("\ud800", "json")
    assert crossing.failed_at is None and crossing.arrived == "\ud800"
    TRIED["str (value limits) [kombu]"] += 2


def test_a_dict_that_looks_like_kombus_envelope_is_hijacked_by_the_json_decoder() -> None:
    assert judge(shape_of(dict[str, str]), "json").outcome is Outcome.CARRIED
    lookalike = {"__type__": "uuid", "__value__": str(uuid.UUID(int=1))}
    assert roundtrip(lookalike, "json").failed_at == "loads"
    assert roundtrip({"__type__": "unknown", "__value__": "x"}, "json").failed_at == "loads"
    crossing = roundtrip({"__type__": "uuid", "other": "x"}, "json")  # only the exact two keys
    assert crossing.failed_at is None
    TRIED["dict[str, str] (value limits) [kombu]"] += 3
