"""What the mypy plugin's choice of a Django project's task class rests on (tests/mypy/test_django_tasks.yml),
asked of Celery itself: an app created while ``DJANGO_SETTINGS_MODULE`` is set makes its tasks
``celery.contrib.django.task.DjangoTask`` (which has ``delay_on_commit``), unless ``Celery(...)`` names a
``task_cls``; without the variable its tasks are plain ``Task``."""

from __future__ import annotations

import pytest
from celery import Celery, Task

pytest.importorskip("django")


def test_an_app_made_under_django_settings_gets_the_django_task_class(monkeypatch: pytest.MonkeyPatch) -> None:
    from celery.contrib.django.task import DjangoTask

    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "truth_django_task_settings")  # named only, never imported
    app = Celery("truth_django_task", set_as_current=False)

    @app.task(name="truth_django_task.count")  # one name per task: celery 5.7 warns of a name given twice
    def count(pk: int) -> None: ...

    assert isinstance(count, DjangoTask) and callable(count.delay_on_commit)

    own = Celery("truth_own_task_cls", set_as_current=False, task_cls=Task)

    @own.task(name="truth_own_task_cls.other")
    def other(pk: int) -> None: ...

    assert not isinstance(other, DjangoTask) and not hasattr(other, "delay_on_commit")


def test_an_app_made_without_django_settings_gets_the_plain_task_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    app = Celery("truth_plain_task", set_as_current=False)

    @app.task(name="truth_plain_task.count")
    def count(pk: int) -> None: ...

    assert not hasattr(count, "delay_on_commit")
