"""How often ``crontab(hour=...)`` without ``minute=`` fires (CB402): beat asks the schedule
``is_due(last_run_at)`` on every tick and runs the entry when it answers due; this replays one day
minute by minute with celery 5.7's ``crontab`` and counts the runs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from celery import Celery
from celery.schedules import crontab

_APP = Celery("proj", set_as_current=False)
_APP.conf.timezone = "UTC"
_DAY = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday


def runs_in_a_day(**fields: object) -> list[datetime]:
    now = [_DAY]
    schedule = crontab(app=_APP, nowfun=lambda: now[0], **fields)  # type: ignore[arg-type]
    last = _DAY - timedelta(minutes=1)  # beat started just before midnight, nothing missed
    runs = []
    for minute in range(24 * 60):
        now[0] = _DAY + timedelta(minutes=minute)
        due, _ = schedule.is_due(last)
        if due:
            runs.append(now[0])
            last = now[0]
    return runs


def test_an_hour_without_a_minute_fires_every_minute_of_that_hour() -> None:
    runs = runs_in_a_day(hour=3)
    assert len(runs) == 60
    assert {run.hour for run in runs} == {3}


def test_minute_zero_fires_once() -> None:
    assert runs_in_a_day(hour=3, minute=0) == [_DAY.replace(hour=3)]


def test_a_day_of_week_without_a_minute_fires_every_minute_of_the_day() -> None:
    assert len(runs_in_a_day(day_of_week="mon")) == 24 * 60
    assert len(runs_in_a_day(day_of_week="mon", hour=0, minute=0)) == 1
