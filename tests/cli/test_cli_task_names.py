"""CB205: a literal task name that no task of the project is registered under, reported by
``celery-boundary check`` at the literal when it is close to a registered name (or always, with
``unknown_task_names = "all"``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.analysis.task_names import closest, edit_distance
from celery_boundary.cli import main

TASKS = """
from celery import shared_task


@shared_task(name="core.tag")
def tag(item_id):
    pass


@shared_task
def refresh_prices():
    pass
"""

DISCARDED = ("the worker that receives it logs 'Received unregistered task', discards the message and stores "
             "NotRegistered as its result")


@pytest.fixture
def core(project: Path) -> Path:
    write(project, "core/__init__.py", "")
    write(project, "core/celery_app.py", 'from celery import Celery\n\napp = Celery("core")\n')
    write(project, "core/tasks.py", TASKS)
    return project


def cb205(capsys: pytest.CaptureFixture[str], *paths: str) -> list[tuple[str, int, int, str]]:
    main(["check", "-q", "--format", "json", "--select", "CB205", *paths])
    return [(f["path"], f["line"], f["column"], f["message"]) for f in json.loads(capsys.readouterr().out)]


def views(project: Path, body: str) -> None:
    write(project, "core/views.py", "from core.celery_app import app\n\n\n" + body)


def test_a_typo_in_send_task_is_reported_at_the_literal_with_the_name_meant(
        core: Path, capsys: pytest.CaptureFixture[str]) -> None:
    views(core, 'def retag(item_id):\n    app.send_task("core.tags", args=(item_id,))\n')
    assert cb205(capsys) == [("core/views.py", 5, 19, (
        "unknown task name 'core.tags': no task of this project is registered under it; did you mean "
        f"'core.tag'? (a message sent under a name no worker registered is never run: {DISCARDED})"))]


def test_registered_names_and_names_in_variables_are_silent(core: Path, capsys: pytest.CaptureFixture[str]) -> None:
    views(core, """
NAME = "core.tags"


def retag(item_id, name):
    app.send_task("core.tag", args=(item_id,))
    app.send_task("core.tasks.refresh_prices")
    app.send_task(name)
    app.send_task(NAME)
    app.send_task(name="celery.backend_cleanup")
""")
    assert cb205(capsys) == []


def test_another_services_name_is_silent_unless_the_project_owns_every_task(
        core: Path, capsys: pytest.CaptureFixture[str]) -> None:
    views(core, 'def charge(order_id):\n    app.send_task("billing.charge", args=(order_id,))\n')
    assert cb205(capsys) == []
    write(core, "pyproject.toml", '[tool.celery_boundary]\nunknown_task_names = "all"\n')
    assert cb205(capsys) == [("core/views.py", 5, 19, (
        "unknown task name 'billing.charge': no task of this project is registered under it (a message sent "
        f"under a name no worker registered is never run: {DISCARDED})"))]


def test_every_unknown_name_needs_every_name_known(core: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(core, "pyproject.toml", '[tool.celery_boundary]\nunknown_task_names = "all"\n')
    write(core, "core/dynamic.py", """
from celery import shared_task
from django.conf import settings


@shared_task(name=settings.CHARGE_TASK)
def charge(order_id):
    pass
""")
    views(core, 'def charge(order_id):\n    app.send_task("billing.charge")\n    app.send_task("core.tags")\n')
    assert [(line, message.split(":")[0]) for _, line, _, message in cb205(capsys)] == [
        (6, "unknown task name 'core.tags'")]


def test_a_beat_entry_typo(core: Path, capsys: pytest.CaptureFixture[str]) -> None:
    views(core, """
app.conf.beat_schedule = {
    "prices": {"task": "core.task.refresh_prices", "schedule": 60.0, "options": {"expires": 30}},
}
""")
    [(path, line, column, message)] = cb205(capsys)
    assert (path, line, column) == ("core/views.py", 6, 24)
    assert message.startswith("unknown task name 'core.task.refresh_prices': no task of this project is registered "
                              "under it; did you mean 'core.tasks.refresh_prices'? (beat sends a message under it "
                              "every period and none is run")


def test_a_typo_in_app_tasks_and_in_signatures(core: Path, capsys: pytest.CaptureFixture[str]) -> None:
    views(core, """
from celery import Signature, signature


def start():
    app.tasks["core.taq"].delay(1)
    signature("core.tasks.refresh_price").delay()
    Signature(task="core.tga").delay()
    app.signature("core.tags").delay()
""")
    found = [(line, message.split("?")[0].split("mean ")[-1]) for _, line, _, message in cb205(capsys)]
    assert found == [(9, "'core.tag'"), (10, "'core.tasks.refresh_prices'"), (11, "'core.tag'"), (12, "'core.tag'")]


def test_noqa_silences_it(core: Path, capsys: pytest.CaptureFixture[str]) -> None:
    views(core, 'def retag():\n    app.send_task("core.tags")  # noqa: CB205\n')
    assert cb205(capsys) == []


def test_shapes_that_are_not_celerys_send_task_are_silent(core: Path, capsys: pytest.CaptureFixture[str]) -> None:
    views(core, 'def retag(mailer):\n    mailer.send_task()\n    mailer.signature("core.tags")\n')
    assert cb205(capsys) == []


def test_the_tasks_of_files_not_named_are_read(core: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """pre-commit names only the staged files: the tasks elsewhere in the project still count."""
    write(core, "pyproject.toml", '[tool.celery_boundary]\nunknown_task_names = "all"\n')
    views(core, 'def retag():\n    app.send_task("core.tag")\n    app.send_task("core.tags")\n')
    assert [line for _, line, _, _ in cb205(capsys, "core/views.py")] == [6]


#: Registered names of the fixture projects and the examples above.
REGISTERED = frozenset({
    "core.tag", "core.tasks.refresh_prices", "shop.restock", "shop.tasks.nightly_report", "shop.tasks.send_receipt",
    "shop.pipelines.charge", "shop.pipelines.fetch_order", "articles.tasks.purge_drafts",
    "articles.tasks.publish_article", "articles.tasks.notify_editors",
})


@pytest.mark.parametrize(("typed", "meant"), [
    ("core.tags", "core.tag"), ("core.tga", "core.tag"), ("core.task.refresh_prices", "core.tasks.refresh_prices"),
    ("core.tasks.refresh_price", "core.tasks.refresh_prices"), ("shop.restok", "shop.restock"),
    ("shop.tasks.nightly_reports", "shop.tasks.nightly_report"), ("shop.tasks.send_reciept", "shop.tasks.send_receipt"),
    ("article.tasks.purge_drafts", "articles.tasks.purge_drafts"), ("shop.pipeline.charge", "shop.pipelines.charge"),
])
def test_typos_are_close(typed: str, meant: str) -> None:
    assert closest(typed, REGISTERED) == meant


@pytest.mark.parametrize("other", [
    "billing.charge",  # same last part, another service's module path
    "core.add", "core.t", "shop.refund",  # same module path, another task
    "shop.tasks.weekly_report",  # three edits
    "articles.tasks.publish", "notify_editors", "tag",  # a part, not a typo
    "payments.tasks.refresh_prices",  # the module path too far
])
def test_different_names_are_not_close(other: str) -> None:
    assert closest(other, REGISTERED) is None


def test_edit_distance_counts_a_swap_as_one_edit() -> None:
    pairs = [("tag", "tga"), ("tag", "tags"), ("tag", "tab"), ("", "ab"), ("receipt", "reciept"), ("kitten", "sitting")]
    assert [edit_distance(a, b) for a, b in pairs] == [1, 1, 1, 2, 1, 3]
