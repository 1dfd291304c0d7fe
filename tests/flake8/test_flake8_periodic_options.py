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
