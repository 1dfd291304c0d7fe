"""CB401 on ``add_periodic_task``: a ``**options`` spread may hold ``expires`` (Celery 5 passes the
keywords on to the beat entry's options), so the rule stays silent when unsure; the same call without
the spread and without ``expires`` is reported."""

from __future__ import annotations

import textwrap

import pytest

from celery_boundary.checks import check_source

HEADER = """\
from celery import Celery

app = Celery("proj")


@app.task
def tick():
    return None


@app.on_after_configure.connect
def setup_periodic_tasks(sender, **options):
"""


def cb401_lines(body: str) -> list[int]:
    source = HEADER + textwrap.indent(textwrap.dedent(body), "    ")
    return [f.line for f in check_source(source) if f.code == "CB401"]


@pytest.mark.parametrize("signature", ["tick.s()", "tick", "sig=tick.s()"])
def test_add_periodic_task_with_spread_options_is_silent_and_without_them_is_cb401(signature: str) -> None:
    first = HEADER.count("\n") + 1
    body = f"""\
        sender.add_periodic_task(10.0, {signature}, **options)
        sender.add_periodic_task(10.0, {signature})
    """
    assert cb401_lines(body) == [first + 1]


def test_an_entry_whose_key_and_task_are_computed_is_named_by_its_task_expression() -> None:
    # mayan-edms's shape: a registry class adds one entry per task type, both key and task computed.
    source = textwrap.dedent("""\
        from celery import Celery

        app = Celery("proj")


        class TaskType:
            def register(self):
                app.conf.beat_schedule.update({
                    self.name: {"task": self.dotted_path, "schedule": self.schedule},
                })
                for kind in ("daily", "hourly"):
                    app.conf.beat_schedule[kind] = {"task": "proj.tasks.tick", "schedule": 60.0}
                    app.conf.beat_schedule[f"run-{kind}"] = {"task": "proj.tasks.tick", "schedule": 60.0}
        """)
    messages = [f.text for f in check_source(source) if f.code == "CB401"]
    assert [m.split(" has no expiry")[0] for m in messages] == [
        "CB401 beat entry for task 'self.dotted_path'",
        "CB401 beat entry for task 'proj.tasks.tick'",
        "CB401 beat entry for task 'proj.tasks.tick'",
    ]
