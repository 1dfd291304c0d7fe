"""The core's verdicts against kombu itself: every row x serializer, real values, dumps -> loads.

CARRIED: every value arrives equal and of the same type, recursively.
LOSSY: every value arrives as the verdict's ``arrives`` shape, and at least one is not the same.
NOT_CARRIED: every value fails at the step the core's problems imply for it (EncodeError on dumps;
DecodeError on loads where the core says the worker fails to decode), holding a part at a place
where the core locates a problem; the vacuous values cross.
UNKNOWN: the runtime really depends on the value: some values cross, some do not.
A custom serializer (``truth-custom``: repr -> literal_eval): the core claims neither an outcome nor
what arrives, and the column shows why: it fails, keeps or changes values against json's verdicts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import truth_cases
from truth_cases import ROWS, SERIALIZERS, Row
from truth_check import CUSTOM, TRIED, Crossing, conforms, expected_failure, roundtrip, same

from celery_boundary.core.annotations import shape_of
from celery_boundary.core.shapes import UnknownShape, describe
from celery_boundary.core.verdicts import Outcome, Verdict, judge


def verdict_for(row: Row, serializer: str) -> Verdict:
    shape = shape_of(row.annotation, vars(truth_cases))
    return judge(shape, serializer, registry=row.registry, trust_any=row.trust_any)


@contextlib.contextmanager
def values_of(make: object) -> Iterator[list[object]]:
    assert callable(make)
    values: list[object] = make()
    try:
        yield values
    finally:
        for value in values:
            close = getattr(value, "close", None)
            if callable(close) and not isinstance(value, (str, bytes)):
                with contextlib.suppress(Exception):
                    close()


def describe_crossing(value: object, crossing: Crossing) -> str:
    if crossing.failed_at:
        return f"{value!r} failed at {crossing.failed_at}: {crossing.error!r}"
    return f"{value!r} arrived as {crossing.arrived!r} ({type(crossing.arrived).__name__})"


def check_agreement(
    verdict: Verdict,
    row: Row,
    crossings: list[tuple[object, Crossing]],
    vacuous: list[tuple[object, Crossing]],
) -> None:
    """Assert the runtime agrees with ``verdict``; messages name the value that disagrees."""
    head = f"{row.name} / {verdict.serializer}: core says {verdict.outcome.name}"
    everything = crossings + vacuous
    if verdict.serializer == CUSTOM:
        # One problem at the top naming the serializer, and no claim about what arrives.
        assert verdict.outcome is Outcome.UNKNOWN, head
        assert [(p.where, p.outcome) for p in verdict.problems] == [("", Outcome.UNKNOWN)], head
        assert CUSTOM in verdict.problems[0].reason, head
        assert isinstance(verdict.arrives, UnknownShape), f"{head}, but claims it arrives as {verdict.arrives}"
        return
    if row.trusted:
        assert verdict.outcome is Outcome.CARRIED, f"{head}; Any is trusted by default"
        assert_varies(head, everything)
        return
    if verdict.outcome is Outcome.CARRIED:
        for value, crossing in everything:
            assert crossing.failed_at is None and same(value, crossing.arrived), (
                f"{head}, but {describe_crossing(value, crossing)}"
            )
    elif verdict.outcome is Outcome.LOSSY:
        assert verdict.arrives is not None, head
        for value, crossing in everything:
            assert crossing.failed_at is None and conforms(crossing.arrived, verdict.arrives), (
                f"{head} (arrives as {describe(verdict.arrives)}), but {describe_crossing(value, crossing)}"
            )
        assert any(not same(value, crossing.arrived) for value, crossing in everything), (
            f"{head}, but every value arrived unchanged"
        )
    elif verdict.outcome is Outcome.NOT_CARRIED:
        for value, crossing in crossings:
            # The step follows from where the core locates each problem inside this value.
            step = expected_failure(verdict, value)
            places = [p.where for p in verdict.problems]
            assert step is not None, f"{head}: no problem location {places} is in {value!r}"
            assert crossing.failed_at == step, f"{head} (fails at {step}), but {describe_crossing(value, crossing)}"
        for value, crossing in vacuous:
            assert crossing.failed_at is None, f"{head}; the vacuous value {describe_crossing(value, crossing)}"
    else:
        assert_varies(head, everything)
        for value, crossing in everything:
            if crossing.failed_at is None and verdict.arrives is not None and not same(value, crossing.arrived):
                # A value that arrived as itself agrees with any claim; one that changed must conform.
                assert conforms(crossing.arrived, verdict.arrives), (
                    f"{head} (arrives as {describe(verdict.arrives)}), but {describe_crossing(value, crossing)}"
                )


def assert_varies(head: str, crossings: list[tuple[object, Crossing]]) -> None:
    crossed = [v for v, c in crossings if c.failed_at is None]
    failed = [v for v, c in crossings if c.failed_at is not None]
    assert crossed and failed, f"{head}: the runtime should depend on the value; crossed={crossed!r} failed={failed!r}"


@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_kombu_agrees_with_the_verdict(row: Row, serializer: str) -> None:
    verdict = verdict_for(row, serializer)
    with values_of(row.values) as values, values_of(row.vacuous) as vacuous:
        crossings = [(value, roundtrip(value, serializer)) for value in values]
        vacuous_crossings = [(value, roundtrip(value, serializer)) for value in vacuous]
    TRIED[f"{row.name} [kombu]"] += len(values) + len(vacuous)
    check_agreement(verdict, row, crossings, vacuous_crossings)


def custom_fates(row_name: str) -> tuple[Outcome, set[str], list[Crossing]]:
    """json's verdict for a row, and what truth-custom did to each value: failed step, same or changed."""
    row = next(row for row in ROWS if row.name == row_name)
    with values_of(row.values) as values:
        crossings = [roundtrip(value, CUSTOM) for value in values]
        fates = {c.failed_at or ("same" if same(v, c.arrived) else "changed") for v, c in zip(values, crossings)}
    TRIED[f"{row.name} [kombu custom]"] += len(values)
    return verdict_for(row, "json").outcome, fates, crossings


@pytest.mark.parametrize(
    ("row_name", "json_outcome", "custom_fate"),
    [
        ("datetime", Outcome.CARRIED, "loads"),  # literal_eval cannot read datetime.datetime(...)
        ("complex", Outcome.NOT_CARRIED, "same"),  # repr(1j) reads back as 1j
        ("typing.Tuple[int, str]", Outcome.LOSSY, "same"),  # a tuple stays a tuple
        ("str subclass", Outcome.LOSSY, "changed"),  # see the next test: a plain str arrives
    ],
)
def test_a_custom_serializer_is_not_json_so_its_verdict_is_unknown(
    row_name: str, json_outcome: Outcome, custom_fate: str
) -> None:
    outcome, fates, _ = custom_fates(row_name)
    assert outcome is json_outcome
    assert fates == {custom_fate}


def test_a_custom_serializer_can_change_what_arrives_so_the_verdict_claims_no_arrival() -> None:
    _, _, crossings = custom_fates("str subclass")
    assert crossings and all(type(c.arrived) is str for c in crossings), crossings
    verdict = verdict_for(next(row for row in ROWS if row.name == "str subclass"), CUSTOM)
    assert isinstance(verdict.arrives, UnknownShape)
