"""Where inside a nested type a problem sits, and what the verdict says arrives."""

from dataclasses import dataclass
from typing import Union

from celery_boundary.core.annotations import shape_of
from celery_boundary.core.shapes import describe
from celery_boundary.core.verdicts import Outcome, judge


@dataclass
class Address:
    street: str


def test_nested_dataclass_is_located() -> None:
    verdict = judge(shape_of(dict[str, list[Address]]), "json")
    assert verdict.outcome is Outcome.NOT_CARRIED
    assert verdict.worst is not None
    assert verdict.worst.located == "Address at [*][*]"
    assert verdict.arrives is None


def test_tuple_arrives_as_list_of_union() -> None:
    verdict = judge(shape_of(tuple[int, str]), "json")
    assert verdict.outcome is Outcome.LOSSY
    assert verdict.arrives is not None and describe(verdict.arrives) == "list[int | str]"


def test_int_keys_arrive_as_str_keys() -> None:
    verdict = judge(shape_of(dict[int, list[int]]), "json")
    assert verdict.outcome is Outcome.LOSSY
    assert verdict.worst is not None and verdict.worst.where == "{key}"
    assert verdict.arrives is not None and describe(verdict.arrives) == "dict[str, list[int]]"


JSONValue = Union[dict[str, "JSONValue"], list["JSONValue"], str, int, float, bool, None]
Bad = Union[dict[str, "Bad"], set[int]]


def test_recursive_alias_terminates() -> None:
    ok = judge(shape_of(JSONValue, globals()), "json")
    assert ok.outcome is Outcome.CARRIED
    bad = judge(shape_of(Bad, globals()), "json")
    assert bad.outcome is Outcome.NOT_CARRIED


def test_custom_serializer_is_unknown_once() -> None:
    verdict = judge(shape_of(dict[str, list[int]]), "my-signed-json")
    assert verdict.outcome is Outcome.UNKNOWN
    assert len(verdict.problems) == 1


def test_any_is_trusted_unless_told_otherwise() -> None:
    from typing import Any

    assert judge(shape_of(list[Any]), "json").outcome is Outcome.CARRIED
    strict = judge(shape_of(list[Any]), "json", trust_any=False)
    assert strict.outcome is Outcome.UNKNOWN
    assert strict.worst is not None and strict.worst.where == "[*]"
