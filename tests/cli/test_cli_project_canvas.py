"""Project-wide CB203: a task that launches a canvas races only with what is chained after it. When the
whole project launches the task only on its own (a beat entry, ``.delay()``), nothing is chained after it
and the per-module finding is withdrawn (saleor 723cd4e, webhook/transport/asynchronous/transport.py:1028,
launched by the beat schedule in settings.py; docs/validation.md F2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main
from celery_boundary.checks import check_source

DISPATCHER = """
from celery import group

from proj.celeryconf import app


@app.task
def send_one(batch):
    return None


@app.task
def report_all():
    batches = [send_one.s(b) for b in range(3)]
    group(batches).apply_async(expires=30)
"""
BEAT = """
CELERY_BEAT_SCHEDULE = {
    "report": {"task": "proj.transport.report_all", "schedule": 20},
}
"""


@pytest.fixture
def dispatcher(project: Path) -> Path:
    write(project, "proj/__init__.py", "")
    write(project, "proj/celeryconf.py", "from celery import Celery\napp = Celery('proj')\n")
    write(project, "proj/transport.py", DISPATCHER)
    return project


def cb203(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, int]]:
    main(["check", "-q", "--format", "json", "--select", "CB203"])
    return [(f["path"], f["line"]) for f in json.loads(capsys.readouterr().out) if f["code"] == "CB203"]


def test_the_module_alone_cannot_tell_who_launches_the_dispatcher(
    dispatcher: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (dispatcher / "proj/transport.py").read_text(encoding="utf-8")
    assert [f.code for f in check_source(text)] == ["CB203"]  # flake8 sees one module
    assert cb203(capsys) == [("proj/transport.py", 14)]  # check: no module launches it either


@pytest.mark.parametrize("launcher", [
    ("proj/settings.py", BEAT),
    ("proj/views.py", "from proj.transport import report_all\n\n\ndef go():\n    report_all.delay()\n"),
    ("proj/views.py", "from proj import transport\n\n\ndef go():\n    transport.report_all.apply_async()\n"),
    ("proj/beat.py", "from proj.celeryconf import app\n\n\ndef setup(sender, **kw):\n"
                     "    sender.add_periodic_task(20, app.signature('proj.transport.report_all'))\n"),
])
def test_a_dispatcher_launched_only_on_its_own_is_not_reported(
    dispatcher: Path, capsys: pytest.CaptureFixture[str], launcher: tuple[str, str]
) -> None:
    write(dispatcher, *launcher)
    assert cb203(capsys) == []


@pytest.mark.parametrize("user", [
    # chained after something: what follows it would run before the inner group finishes
    "from celery import chain\nfrom proj.transport import report_all, send_one\n\n\n"
    "def go():\n    chain(send_one.s(1), report_all.si()).delay()\n",
    # stored or passed on: no rule knows what happens to it, so silence is not earned
    "from proj.transport import report_all\n\nJOBS = {'report': report_all}\n",
])
def test_a_dispatcher_in_a_canvas_or_passed_on_stays_reported(
    dispatcher: Path, capsys: pytest.CaptureFixture[str], user: str
) -> None:
    write(dispatcher, "proj/settings.py", BEAT)
    write(dispatcher, "proj/flows.py", user)
    assert cb203(capsys) == [("proj/transport.py", 14)]
