"""What counts as a use across modules for CB202 and CB203 (false positives an audit of real projects
found): a function's own imports, attributes that neither launch nor pass a task on, a group or a
one-step chain launched on its own, and which uses CB202 cites as evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main

TASKS = """
from celery import chain, shared_task


@shared_task
def fetch(x: int) -> list[int]:
    return [x]


@shared_task
def total(counts: list[int]) -> int:
    return sum(counts)


@shared_task
def dispatch() -> None:
    chain(fetch.s(1), total.s()).delay()
"""


@pytest.fixture
def shop(project: Path) -> Path:
    write(project, "shop/__init__.py", "")
    write(project, "shop/jobs.py", TASKS)
    return project


def found(capsys: pytest.CaptureFixture[str], code: str) -> list[tuple[str, int, str]]:
    main(["check", "-q", "--format", "json", "--select", "CB2"])
    return [(f["path"], f["line"], f["message"]) for f in json.loads(capsys.readouterr().out) if f["code"] == code]


def test_without_other_uses_total_is_chain_only_and_dispatch_nests_a_chain(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", "-q", "--format", "json", "--select", "CB2"])
    codes = sorted((f["code"], f["line"]) for f in json.loads(capsys.readouterr().out))
    assert codes == [("CB202", 10), ("CB203", 16)]


def test_a_launch_through_a_function_local_import_counts(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # readthedocs imports tasks inside views and signal handlers to avoid import cycles.
    write(shop, "shop/views.py", """
        def rebuild(counts):
            from shop.jobs import total

            total.delay(counts)
    """)
    assert found(capsys, "CB202") == []


def test_a_function_local_module_import_counts(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(shop, "shop/views.py", """
        def rebuild(counts):
            from shop import jobs

            jobs.total.delay(counts)
    """)
    assert found(capsys, "CB202") == []


def test_reading_the_tasks_app_or_request_does_not_pass_it_on(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(shop, "shop/beat.py", """
        from shop.jobs import dispatch

        QUEUE = dispatch.app.conf.task_default_queue


        def run():
            dispatch.delay()
    """)
    # launched only on its own: nothing is chained after dispatch, so its inner chain races nothing
    assert found(capsys, "CB203") == []


def test_passing_the_task_on_still_silences(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(shop, "shop/beat.py", """
        from shop.jobs import dispatch

        REGISTRY = [dispatch]


        def run():
            dispatch.delay()
    """)
    assert [line for _, line, _ in found(capsys, "CB203")] == [16]


def test_the_tasks_name_is_a_launch_by_name(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(shop, "shop/beat.py", """
        from celery import current_app
        from shop.jobs import total


        def run(counts):
            current_app.send_task(total.name, args=[counts])
    """)
    assert found(capsys, "CB202") == []


@pytest.mark.parametrize("launch", [
    "group(total.s([x]) for x in xs)()",
    "group([total.s([x]) for x in xs]).apply_async()",
    "chain(total.si([1]))()",
    "chain([total.si([1])]).delay()",
])
def test_a_group_or_a_one_step_chain_launched_on_its_own_launches_its_members(
    shop: Path, capsys: pytest.CaptureFixture[str], launch: str
) -> None:
    write(shop, "shop/fan.py", f"""
        from celery import chain, group
        from shop.jobs import total


        def run(xs):
            {launch}
    """)
    assert found(capsys, "CB202") == []


def test_a_group_inside_a_chain_is_still_a_link(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(shop, "shop/fan.py", """
        from celery import chain, group
        from shop.jobs import fetch, total


        def run(xs):
            chain(fetch.s(1), group(total.s() for x in xs)).delay()
    """)
    assert [line for _, line, _ in found(capsys, "CB202")] == [10]


def test_cb202_cites_only_uses_that_receive_a_result(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "shop/__init__.py", "")
    write(project, "shop/jobs.py", TASKS.replace("    chain(fetch.s(1), total.s()).delay()", "    return None"))
    write(project, "shop/flows.py", """
        from celery import chain
        from shop.jobs import fetch, total


        def start():
            chain(fetch.s(1), total.s()).delay()


        def prime():
            chain(total.s([1]), fetch.s()).delay()
    """)
    ((path, line, message),) = [f for f in found(capsys, "CB202") if "'total'" in f[2]]
    assert (path, line) == ("shop/jobs.py", 10)
    assert "(shop/flows.py:6)" in message
