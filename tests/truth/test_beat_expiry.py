"""What expiry the message beat sends carries (CB401), under celery's default scheduler and under
django-celery-beat's ``DatabaseScheduler``.

Each scheduler runs in a fresh interpreter on kombu's memory transport: the schedule is loaded the
way ``celery beat`` loads it (``setup_schedule``), every entry is applied once (``apply_entry``), and
the ``expires`` header of each published message is read in ``before_task_publish``. The database
run sets Django up with a settings module written to a temporary folder (django_celery_beat only,
sqlite in that folder) and migrates, so the entries go through ``PeriodicTask`` rows as in production.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_SCHEDULE = """
from celery import Celery
from celery.signals import before_task_publish

app = Celery("proj", broker="memory://", set_as_current=True)
app.conf.timezone = "UTC"


@app.task(name="proj.plain")
def plain():
    return None


@app.task(name="proj.decorated", expires=60)
def decorated():
    return None


app.conf.beat_schedule = {
    "options-expires": {"task": "proj.plain", "schedule": 30.0, "options": {"expires": 60}},
    "options-expire-seconds": {"task": "proj.plain", "schedule": 30.0, "options": {"expire_seconds": 60}},
    "decorator-expires": {"task": "proj.decorated", "schedule": 30.0},
    "nothing": {"task": "proj.plain", "schedule": 30.0},
}
# add_periodic_task's extra keywords become the entry's options.
app.add_periodic_task(30.0, plain.s(), name="periodic-expires", expires=60)
app.add_periodic_task(30.0, plain.s(), name="periodic-expire-seconds", expire_seconds=60)
sent = {}


@before_task_publish.connect
def record(sender=None, headers=None, **kwargs):
    sent[headers["periodic_task_name"] if "periodic_task_name" in headers else current[0]] = headers.get("expires")


current = [""]


def run(scheduler):
    for name in sorted(app.conf.beat_schedule):
        current[0] = name
        scheduler.apply_entry(scheduler.schedule[name], producer=scheduler.producer)
    print(json.dumps(sent))
"""

_DEFAULT = _SCHEDULE + """
import json
from celery.beat import Scheduler
run(Scheduler(app=app, lazy=False))
"""

_DATABASE = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
os.environ["DJANGO_SETTINGS_MODULE"] = "beat_settings"
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
""" + _SCHEDULE + """
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler
scheduler = DatabaseScheduler(app=app, lazy=False)
# An entry's options as django-celery-beat stored them (the row), then the message.
rows = {row.name: row.expire_seconds for row in PeriodicTask.objects.filter(name__in=list(app.conf.beat_schedule))}
print(json.dumps(rows))
run(scheduler)
# A crontab row made with an hour only: which minutes the model fills in.
print(json.dumps(sorted(CrontabSchedule.objects.create(hour="3").schedule.minute)))
"""

_SETTINGS = """
INSTALLED_APPS = ["django_celery_beat"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": %r}}
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""


def _run(script: str, *argv: str, cwd: Path) -> list[object]:
    done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_the_default_scheduler_sends_options_expires_and_the_decorators(tmp_path: Path) -> None:
    (sent,) = _run(_DEFAULT, cwd=tmp_path)
    assert isinstance(sent, dict)
    assert sent["options-expires"] is not None
    assert sent["decorator-expires"] is not None
    assert sent["nothing"] is None
    # ``expire_seconds`` is django-celery-beat's field, not an option apply_async knows: no expiry.
    assert sent["options-expire-seconds"] is None
    assert sent["periodic-expires"] is not None and sent["periodic-expire-seconds"] is None


def test_the_database_scheduler_drops_options_expires_and_keeps_expire_seconds(tmp_path: Path) -> None:
    pytest.importorskip("django_celery_beat")
    (tmp_path / "beat_settings.py").write_text(textwrap.dedent(_SETTINGS % str(tmp_path / "beat.sqlite3")))
    rows, sent, minutes = _run(_DATABASE, str(tmp_path), cwd=tmp_path)
    assert isinstance(rows, dict) and isinstance(sent, dict)
    # The entry is copied into a PeriodicTask row; options["expires"] has no column and is dropped.
    assert rows["options-expires"] is None
    assert sent["options-expires"] is None
    # options["expire_seconds"] becomes the row's expire_seconds and the message's expires.
    assert rows["options-expire-seconds"] == 60
    assert sent["options-expire-seconds"] is not None
    # The row sends through the task registered in the beat process: its decorator's expires= applies.
    assert sent["decorator-expires"] is not None
    assert sent["nothing"] is None
    # add_periodic_task's entries are copied the same way.
    assert sent["periodic-expires"] is None and sent["periodic-expire-seconds"] is not None
    # CrontabSchedule's minute defaults to "*": a row made with hour="3" fires every minute of 3 o'clock.
    assert minutes == list(range(60))
