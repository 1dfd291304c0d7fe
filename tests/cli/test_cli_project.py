"""Project-wide CB202 (issue 6): uses in every module decide whether a public task is chain-only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main

TASKS = """
from celery import shared_task


@shared_task
def fetch(x: int) -> list[int]:
    return [x]


@shared_task
def total(counts: list[int]) -> int:{noqa}
    return sum(counts)
"""

FLOW = """
from celery import chain
{import_line}


def start() -> None:
    chain(fetch.s(1), total.s()).delay()
"""


@pytest.fixture
def shop(project: Path) -> Path:
    write(project, "shop/__init__.py", "")
    write(project, "shop/jobs.py", TASKS.format(noqa=""))
    write(project, "shop/flows.py", FLOW.format(import_line="from shop.jobs import fetch, total"))
    return project


def cb202(capsys: pytest.CaptureFixture[str], *extra: str) -> list[tuple[str, int, str]]:
    main(["check", "-q", "--format", "json", "--select", "CB2", *extra])
    return [(f["path"], f["line"], f["message"]) for f in json.loads(capsys.readouterr().out) if f["code"] == "CB202"]


def test_a_task_used_elsewhere_only_as_a_receiving_link_is_reported_at_its_definition(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cb202(capsys) == [(
        "shop/jobs.py", 10,
        "task 'total' is used in this project only as a canvas link that receives another task's result "
        "(shop/flows.py:6), and is never launched on its own: make it private (rename it '_total' in every "
        "module that references it) so that nobody launches it without its input",
    )]


def test_relative_imports_are_followed(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(shop, "shop/flows.py", FLOW.format(import_line="from .jobs import fetch, total"))
    assert [(path, line) for path, line, _ in cb202(capsys)] == [("shop/jobs.py", 10)]


def test_module_attribute_access_is_followed(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(shop, "shop/flows.py", "from celery import chain\nfrom shop import jobs\n\n"
          "def start():\n    chain(jobs.fetch.s(1), jobs.total.s()).delay()\n")
    assert [(path, line) for path, line, _ in cb202(capsys)] == [("shop/jobs.py", 10)]


@pytest.mark.parametrize(
    "launch",
    [
        "from shop.jobs import total\n\ndef again():\n    total.delay([1, 2])\n",
        "from shop.jobs import total\n\ndef again():\n    total.apply_async(args=([1],))\n",
        "from shop.jobs import total\nprint(total([1]))\n",  # a plain call: the pre-test skips this file
        "from shop.jobs import total\nHANDLERS = {'sum': total}\n",  # stored: no rule understands it
        "from celery import current_app\ncurrent_app.send_task('shop.jobs.total', args=([1],))\n",
    ],
)
def test_a_task_launched_or_named_in_another_module_is_not_chain_only(
    shop: Path, capsys: pytest.CaptureFixture[str], launch: str
) -> None:
    write(shop, "shop/other.py", launch)
    assert cb202(capsys) == []


def test_a_per_module_finding_is_withdrawn_when_another_module_launches_the_task(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, "shop/__init__.py", "")
    write(project, "shop/jobs.py", TASKS.format(noqa="") + "\n\ndef start():\n    (fetch.s(1) | total.s()).delay()\n")
    assert [line for _, line, _ in cb202(capsys)] == [10]  # the flake8 rule's own finding
    write(project, "shop/views.py", "from shop.jobs import total\n\ndef view():\n    total.delay([3])\n")
    assert cb202(capsys) == []


def test_noqa_on_the_definition_silences_the_project_finding(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(shop, "shop/jobs.py", TASKS.format(noqa="  # noqa: CB202"))
    assert cb202(capsys) == []


def test_the_project_pass_runs_only_when_cb202_is_selected(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "-q", "--select", "CB201,CB203"])
    assert capsys.readouterr().out == ""


def test_project_findings_survive_the_pool(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(8):
        write(shop, f"shop/filler{n}.py", "from celery import shared_task\n")
    assert [(p, line) for p, line, _ in cb202(capsys, "--jobs", "2")] == [("shop/jobs.py", 10)]


def test_a_bare_word_equal_to_the_task_name_in_another_module_is_not_a_launch(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(shop, "shop/report.py", "ROW = {'total': 0, 'count': 1}\n")
    assert [(p, line) for p, line, _ in cb202(capsys)] == [("shop/jobs.py", 10)]


def test_a_beat_entry_whose_task_expires_in_another_module_is_covered(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The shape of saleor 723cd4e settings.py:707 + product/tasks.py:350 (tests/fuzz names it).
    write(project, "proj/__init__.py", "")
    write(project, "proj/celeryconf.py", "from celery import Celery\n\napp = Celery('proj')\n")
    write(project, "proj/product/__init__.py", "")
    write(project, "proj/product/tasks.py", """
        from proj.celeryconf import app

        @app.task(queue="search", expires=60)
        def update_vectors():
            return None

        @app.task(queue="search")
        def rebuild():
            return None
    """)
    write(project, "proj/settings.py", """
        import datetime

        CELERY_BEAT_SCHEDULE = {
            "update-vectors": {
                "task": "proj.product.tasks.update_vectors",
                "schedule": datetime.timedelta(seconds=60),
            },
            "rebuild": {"task": "proj.product.tasks.rebuild", "schedule": 3600},
            "unknown": {"task": "elsewhere.tasks.update_vectors", "schedule": 60},
        }
    """)
    main(["check", "-q", "--select", "CB401", "--format", "json"])
    found = [(f["path"], f["line"]) for f in json.loads(capsys.readouterr().out)]
    assert found == [("proj/settings.py", 8), ("proj/settings.py", 9)]


def test_named_files_are_judged_with_the_whole_project_as_pre_commit_runs_it(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # pre-commit passes only the staged files; the uses in the other modules still count.
    assert [(p, line) for p, line, _ in cb202(capsys, "shop/jobs.py")] == [("shop/jobs.py", 10)]
    assert cb202(capsys, "shop/flows.py") == []  # the finding belongs to a file that was not named
    write(shop, "shop/other.py", "from shop.jobs import total\n\ntotal.delay([1])\n")
    assert cb202(capsys, "shop/jobs.py", "shop/flows.py") == []  # other.py launches it on its own


def test_a_task_that_ignores_what_it_receives_is_not_chain_only_across_modules(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, "shop/__init__.py", "")
    write(project, "shop/jobs.py", "from celery import shared_task\n\n\n@shared_task\ndef step(x):\n    return x\n\n\n"
          "@shared_task(bind=True)\ndef finish(self, *_):\n    self.app.log.get_default_logger().info('done')\n")
    write(project, "shop/flows.py", "from celery import chain\nfrom shop.jobs import finish, step\n\n\n"
          "def start():\n    step.delay(0)\n    chain(step.s(1), finish.s()).delay()\n")
    assert cb202(capsys) == []


def test_an_error_callback_used_elsewhere_is_worded_as_one(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "shop/__init__.py", "")
    write(project, "shop/jobs.py", "from celery import shared_task\n\n\n@shared_task\ndef step(x):\n    return x\n\n\n"
          "@shared_task\ndef on_failure(request, exc, traceback):\n    return f'{request.id}: {exc}'\n")
    write(project, "shop/flows.py", "from shop.jobs import on_failure, step\n\n\n"
          "def start():\n    step.apply_async((1,), link_error=on_failure.s())\n")
    assert cb202(capsys) == [(
        "shop/jobs.py", 10,
        "task 'on_failure' is used in this project only as an error callback (link_error=, .on_error()) that "
        "receives the failed task's id, or its request, exception and traceback (shop/flows.py:5), and is never "
        "launched on its own: make it private (rename it '_on_failure' in every module that references it) so "
        "that nobody launches it without its input",
    )]
