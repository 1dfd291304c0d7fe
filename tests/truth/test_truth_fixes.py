"""The fixes the core suggests work at run time: doing what the message says crosses the boundary."""

from __future__ import annotations

from django.apps import apps
from truth_cases import Address, Mood
from truth_check import TRIED, roundtrip, same
from truthapp.models import Article

from celery_boundary.core.annotations import shape_of
from celery_boundary.core.verdicts import Outcome, judge


def test_django_model_message_suggests_the_pk_and_the_model_label() -> None:
    verdict = judge(shape_of(Article), "json")
    assert verdict.outcome is Outcome.NOT_CARRIED and verdict.worst is not None
    fix = verdict.worst.fix
    assert "obj.pk" in fix and "'truthapp.Article'" in fix and "apps.get_model" in fix
    # Doing exactly that crosses json and finds the row on the other side.
    article = Article.objects.get(pk=1)
    crossing = roundtrip(["truthapp.Article", article.pk], "json")
    assert crossing.failed_at is None
    label, pk = crossing.arrived  # type: ignore[misc]
    assert apps.get_model(label).objects.get(pk=pk) == article
    TRIED["Django model instance (fix) [kombu]"] += 1


def test_queryset_message_suggests_a_list_of_pks() -> None:
    verdict = judge(shape_of(type(Article.objects.all())), "json")
    assert verdict.outcome is Outcome.NOT_CARRIED and verdict.worst is not None
    assert "values_list('pk', flat=True)" in verdict.worst.fix
    pks = list(Article.objects.all().values_list("pk", flat=True))
    crossing = roundtrip(pks, "json")
    assert crossing.failed_at is None and same(pks, crossing.arrived)
    TRIED["Django QuerySet (fix) [kombu]"] += 1


def test_nested_problem_is_located_where_the_runtime_fails() -> None:
    verdict = judge(shape_of(dict[str, list[Address]]), "json")
    assert verdict.worst is not None and verdict.worst.located == "Address at [*][*]"
    crossing = roundtrip({"home": [Address("Elm", 2)]}, "json")
    assert crossing.failed_at == "dumps" and "Address" in repr(crossing.error)
    TRIED["dict[str, list[dataclass]] (location) [kombu]"] += 1


def test_enum_fix_rebuilds_the_member() -> None:
    verdict = judge(shape_of(Mood), "json")
    assert verdict.outcome is Outcome.LOSSY and verdict.worst is not None
    assert "Mood(value)" in verdict.worst.fix
    arrived = roundtrip(Mood.HAPPY, "json").arrived
    assert type(arrived) is str and Mood(arrived) is Mood.HAPPY
    TRIED["StrEnum (fix) [kombu]"] += 1


def test_one_way_registration_with_an_unknown_encoder_is_lossy_not_any() -> None:
    from truth_cases import Token

    from celery_boundary.core.registry import Registration, Registry
    from celery_boundary.core.shapes import AnyShape, UnknownShape

    # What a front end knows from `register_type(Token, None, encoder)`: not what the encoder returns.
    registry = Registry((Registration(f"{Token.__module__}.Token", None),))
    verdict = judge(shape_of(Token), "json", registry=registry)
    assert verdict.outcome is Outcome.LOSSY
    assert isinstance(verdict.arrives, UnknownShape) and not isinstance(verdict.arrives, AnyShape)
    arrived = roundtrip(Token("abc"), "json").arrived
    assert not isinstance(arrived, Token)  # so "whatever arrives" must not fit a Token parameter
    TRIED["registered: marker=None (one-way) (unknown encoder) [kombu]"] += 1
