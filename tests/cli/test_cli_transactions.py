"""CB206 across modules: launches in views are inside a transaction when the settings the project runs
with set ``ATOMIC_REQUESTS`` on a database. The settings: the module ``DJANGO_SETTINGS_MODULE`` names
(here in manage.py, which mentions no task), followed through ``from .base import *``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main

TASKS = """
from celery import Celery

app = Celery("shop")


@app.task
def notify(pk):
    return pk
"""
VIEWS = """
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.decorators import method_decorator
from django.views import View
from rest_framework.viewsets import ModelViewSet

from shop.tasks import notify


def publish(request, pk):
    Article.objects.filter(pk=pk).update(published=True)
    notify.delay(pk)  # view


def show(request, pk):
    if not request.user.has_perm("shop.view_article"):
        raise PermissionError(pk)
    notify.delay(pk)  # reads only: nothing a worker could miss


@transaction.non_atomic_requests
def webhook(request):
    notify.delay(1)


async def stream(request):
    notify.delay(1)


class ArticleViewSet(ModelViewSet):
    def perform_create(self, serializer):
        serializer.save()
        notify.apply_async((serializer.instance.pk,))  # view


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class Hook(View):
    def post(self, request):
        notify.delay(2)


def helper(pk):
    notify.delay(pk)


def later(request, pk):
    transaction.on_commit(lambda: notify.delay(pk))


def explicit(request, pk):
    with transaction.atomic():
        Article.objects.create(pk=pk)
        notify.delay(pk)  # with


def quiet(request, pk):
    Article.objects.create(pk=pk)
    notify.delay(pk)  # noqa: CB206


class Article(models.Model):
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        notify.delay(self.pk)  # view


@receiver(post_save, sender=Article)
def saved(sender, instance, **kwargs):
    notify.delay(instance.pk)  # view


@receiver(post_delete, sender=Article)
def deleted(sender, instance, **kwargs):
    notify.delay(instance.pk)  # with
"""
MANAGE = 'import os\n\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings.production")\n'
ATOMIC = 'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "ATOMIC_REQUESTS": True}}\n'
PLAIN = 'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql"}}\n'


def findings(project: Path, settings: dict[str, str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    write(project, "manage.py", MANAGE)
    write(project, "shop/__init__.py", "")
    write(project, "shop/tasks.py", TASKS)
    write(project, "shop/views.py", VIEWS)
    write(project, "shop/settings/__init__.py", "")
    for relative, text in settings.items():
        write(project, relative, text)
    main(["check", "-q", "--select", "CB206", "--format", "json"])
    found: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return found


def marked(project: Path, word: str) -> set[int]:
    lines = (project / "shop" / "views.py").read_text().splitlines()
    return {number for number, line in enumerate(lines, start=1) if line.endswith(f"# {word}")}


def test_views_are_reported_under_atomic_requests_of_the_settings_run(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = findings(project, {"shop/settings/base.py": ATOMIC, "shop/settings/production.py": "from .base import *\n",
                               "shop/settings/local.py": PLAIN}, capsys)
    lines = {int(str(f["line"])) for f in found}
    assert lines == marked(project, "view") | marked(project, "with")
    views = [str(f["message"]) for f in found if f["line"] in marked(project, "view")]
    assert all("because DATABASES sets ATOMIC_REQUESTS (shop/settings/base.py:1)" in m for m in views)
    assert any("in the view ArticleViewSet.perform_create" in m for m in views)
    assert any("in Article.save() (line" in m and "no transaction of its own" in m for m in views)
    assert any("in the post_save receiver saved()" in m for m in views)


@pytest.mark.parametrize("settings", [
    # Django reads ATOMIC_REQUESTS only inside a database's dictionary: a top-level one does nothing.
    {"shop/settings/production.py": PLAIN + "ATOMIC_REQUESTS = True\n"},
    # The settings run (production) do not set it; a module nobody names does.
    {"shop/settings/production.py": PLAIN, "shop/settings/local.py": ATOMIC},
], ids=["top-level", "other-module"])
def test_views_are_not_reported_without_atomic_requests(project: Path, capsys: pytest.CaptureFixture[str],
                                                        settings: dict[str, str]) -> None:
    found = findings(project, settings, capsys)
    assert {int(str(f["line"])) for f in found} == marked(project, "with")


DISPATCHER = """
from django.db import transaction

from shop.tasks import notify


def publish(pk):
    with transaction.atomic():
        Article.objects.create(pk=pk)
        notify.delay(pk)
"""


def test_no_celery_anywhere_no_finding(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A project with a dispatcher of its own (its `task` decorator, its `.delay()` through Postgres)
    # and no celery import anywhere sends no Celery task.
    write(project, "shop/__init__.py", "")
    write(project, "shop/dispatch.py", "def task(queue):\n    return lambda function: function\n")
    write(project, "shop/tasks.py", "from shop.dispatch import task\n\n\n@task(queue='default')\n"
                                    "def notify(pk):\n    return pk\n")
    write(project, "shop/jobs.py", DISPATCHER)
    main(["check", "-q", "--select", "CB206", "--format", "json"])
    assert json.loads(capsys.readouterr().out) == []
    write(project, "shop/worker.py", "from celery import Celery\n\napp = Celery('shop')\n")
    main(["check", "-q", "--select", "CB206", "--format", "json"])
    assert [f["line"] for f in json.loads(capsys.readouterr().out)] == [9]


DELETED = """
from django.db.models.signals import post_delete
from django.dispatch import receiver

from shop.tasks import notify


@receiver(post_delete, sender=Article)
def deleted(sender, instance, **kwargs):
    notify.delay(instance.pk)
"""


def test_a_delete_receiver_is_told_the_row_is_gone_after_the_commit(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # bookwyrm's shape: a post_delete receiver launches a task that looks the deleted row up again; after
    # the commit it is gone, so deferring the launch alone would make the task never work: the message
    # asks for the row's values first, and fix --unsafe-fixes leaves the launch to a human.
    write(project, "shop/__init__.py", "")
    write(project, "shop/tasks.py", TASKS)
    write(project, "shop/signals.py", DELETED)
    write(project, "pyproject.toml", '[project]\nname = "shop"\ndependencies = ["celery>=5.4"]\n')
    main(["check", "-q", "--select", "CB206", "--format", "json"])
    (finding,) = json.loads(capsys.readouterr().out)
    assert "post_delete receiver deleted()" in finding["message"]
    assert "the row is deleted at the commit" in finding["message"]
    assert finding["message"].endswith(
        "if the task loads the deleted row, send the values it needs from it in the message instead")
    before = (project / "shop/signals.py").read_text()
    main(["fix", "--unsafe-fixes", "--select", "CB206", "shop"])
    assert (project / "shop/signals.py").read_text() == before
    assert "CB206 not fixed: " in capsys.readouterr().err
