"""Django model instances and QuerySets through a real Celery worker (not task_always_eager).

One app and one in-process worker (memory transport, ``cache+memory://`` results, solo pool) with
json as its serializer and pickle accepted, so each test sends the same row both ways: by reference
(``register_models``, json) and as a pickle. ``countdown`` makes the worker decode the message
after the test has changed the row, as a real queue does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_retry
from kombu.exceptions import EncodeError
from kombu.utils import json as kombu_json
from truthapp.models import Article

from celery_boundary.runtime import registered
from celery_boundary.runtime.models import ModelRowMissing, UnsavedModelError, register_models

pytestmark = pytest.mark.worker

#: Seconds between sending and the worker decoding: the test changes the row in between.
LATER = 0.3

app = Celery("truth_django_models", broker="memory://", backend="cache+memory://", set_as_current=False)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json", "pickle"],
    task_default_queue="truth-django-models",
    broker_transport_options={"polling_interval": 0.005},
    worker_hijack_root_logger=False,
)


@app.task(name="truth.models.read")
def read(article: Article) -> list[Any]:
    return [isinstance(article, Article), article.pk, article.title]


# A retry delay, so that the retried run cannot store its result before the first run stores RETRY.
@app.task(name="truth.models.read_again", autoretry_for=(ModelRowMissing,), max_retries=1, default_retry_delay=LATER)
def read_again(article: Article) -> str:
    return article.title


@app.task(name="truth.models.rows")
def rows(articles: Any) -> dict[str, Any]:
    return {
        "type": type(articles).__name__,
        "iterated": sorted(a.title for a in articles),
        "count": articles.count(),
        "requeried": sorted(a.title for a in articles.all()),
    }


@pytest.fixture(scope="module")
def worker() -> Iterator[None]:
    """The worker, with every model registered by reference; kombu's registry is put back after."""
    from celery import _state

    encoders, decoders = dict(kombu_json._encoders), dict(kombu_json._decoders)
    recorded = dict(registered._REGISTERED)
    previous = (_state.default_app, _state.get_current_app())  # type: ignore[attr-defined]
    register_models()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=5):
            yield
    finally:
        kombu_json._encoders.clear()
        kombu_json._encoders.update(encoders)
        kombu_json._decoders.clear()
        kombu_json._decoders.update(decoders)
        registered._REGISTERED.clear()
        registered._REGISTERED.update(recorded)
        _state.set_default_app(previous[0])
        _state._set_current_app(previous[1])  # type: ignore[attr-defined]


@pytest.fixture
def article() -> Iterator[Article]:
    row = Article.objects.create(title="sent")
    yield row
    Article.objects.filter(pk=row.pk).delete()


def test_by_reference_the_worker_reads_the_row_as_it_is_when_the_task_runs(worker: None, article: Article) -> None:
    result = read.apply_async((article,), countdown=LATER)
    Article.objects.filter(pk=article.pk).update(title="updated")
    assert result.get(timeout=10) == [True, article.pk, "updated"]


def test_a_pickled_instance_arrives_as_the_snapshot_taken_at_send_time(worker: None, article: Article) -> None:
    result = read.apply_async((article,), countdown=LATER, serializer="pickle")
    Article.objects.filter(pk=article.pk).update(title="updated")
    assert result.get(timeout=10) == [True, article.pk, "sent"]


def test_an_unsaved_instance_is_refused_when_it_is_sent(worker: None) -> None:
    with pytest.raises(EncodeError, match="unsaved truthapp.Article") as raised:
        read.delay(Article(title="never saved"))
    assert isinstance(raised.value.args[0], UnsavedModelError)


def test_a_deleted_row_raises_model_row_missing_inside_the_task(worker: None, article: Article) -> None:
    """Inside the task, so autoretry_for retries it (once here) before the result records it."""
    retries: list[object] = []

    def on_retry(**kwargs: object) -> None:
        retries.append(getattr(kwargs["reason"], "exc", None))  # a Retry, carrying the exception

    task_retry.connect(on_retry, weak=False)
    try:
        result = read_again.apply_async((article,), countdown=LATER)
        pk = article.pk
        Article.objects.filter(pk=pk).delete()
        with pytest.raises(ModelRowMissing) as raised:
            result.get(timeout=10)
    finally:
        task_retry.disconnect(on_retry)
    assert (raised.value.label, raised.value.pk) == ("truthapp.Article", pk)
    assert len(retries) == 1 and isinstance(retries[0], ModelRowMissing)


def test_a_pickled_queryset_carries_the_rows_it_had_at_send_time(worker: None, article: Article) -> None:
    """pickle evaluates the QuerySet on the producer (QuerySet.__getstate__): iterating and count()
    give the send-time rows; a new QuerySet from it (.all(), .filter()) queries again."""
    articles = Article.objects.filter(pk__in=[1, article.pk])
    result = rows.apply_async((articles,), countdown=LATER, serializer="pickle")
    Article.objects.filter(pk=article.pk).update(title="updated")
    assert result.get(timeout=10) == {
        "type": "QuerySet",
        "iterated": ["one", "sent"],
        "count": 2,
        "requeried": ["one", "updated"],
    }


def test_a_queryset_is_refused_by_json_even_with_models_registered(worker: None) -> None:
    with pytest.raises(EncodeError, match="QuerySet"):
        rows.delay(Article.objects.all())
