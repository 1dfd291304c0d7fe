"""CB401 across the project: the beat scheduler is read from every module and from the deployment
files (Procfile, compose files, shell scripts), and entries in modules that do not name it are judged
by it (shapes of readthedocs.org's settings class, plane's celery.py, pypi/warehouse's Procfile)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from celery_boundary.cli import main
from cli_helpers import write

SETTINGS = """
    from celery.schedules import crontab


    class CommunityBaseSettings:
        CELERY_BEAT_SCHEDULE = {
            "every-day-delete-old-search-queries": {
                "task": "proj.tasks.delete_old_search_queries",
                "schedule": crontab(minute=0, hour=0),
                "options": {"queue": "web", "expires": 3600},
            },
            "every-hour-sync": {
                "task": "proj.tasks.sync",
                "schedule": 3600,
                "options": {"expire_seconds": 3000},
            },
        }
"""


def cb401(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, int, str]]:
    main(["check", "-q", "--select", "CB401", "--format", "json"])
    return [(f["path"], f["line"], f["message"]) for f in json.loads(capsys.readouterr().out)]


def test_without_a_named_scheduler_both_keys_count_as_expiry(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "proj/settings.py", SETTINGS)
    assert cb401(capsys) == []


@pytest.mark.parametrize(("where", "text"), [
    ("proj/celery.py", 'from celery import Celery\napp = Celery("proj")\n'
                       'app.conf.beat_scheduler = "django_celery_beat.schedulers.DatabaseScheduler"\n'),
    ("Procfile", "beat: celery -A proj beat -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler\n"),
    ("docker-compose.yml", "services:\n  beat:\n    command: celery -A proj beat -S django\n"),
    ("scripts/beat.sh", "#!/bin/sh\nexec celery -A proj beat --scheduler=django_celery_beat.schedulers:DatabaseScheduler\n"),
])
def test_under_the_database_scheduler_options_expires_is_reported_in_another_module(
    project: Path, capsys: pytest.CaptureFixture[str], where: str, text: str
) -> None:
    write(project, "proj/settings.py", SETTINGS)
    write(project, where, text)
    found = cb401(capsys)
    assert [(path, line) for path, line, _ in found] == [("proj/settings.py", 6)]
    assert "DatabaseScheduler" in found[0][2] and "expire_seconds" in found[0][2]


def test_under_celerys_scheduler_expire_seconds_is_reported(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "proj/settings.py", SETTINGS)
    write(project, "Procfile", "beat: celery -A proj beat -S celery.beat:PersistentScheduler\n")
    found = cb401(capsys)
    assert [(path, line) for path, line, _ in found] == [("proj/settings.py", 11)]
    assert "ignores it" in found[0][2]


def test_another_scheduler_keeps_options_as_given(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # pypi/warehouse: celery -A warehouse beat -S redbeat.RedBeatScheduler
    write(project, "proj/settings.py", SETTINGS)
    write(project, "Procfile", "worker-beat: celery -A proj beat -S redbeat.RedBeatScheduler -l info\n")
    assert cb401(capsys) == []


def test_a_decorator_expiry_survives_the_database_scheduler(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "proj/__init__.py", "")
    write(project, "proj/tasks.py", """
        from celery import shared_task

        @shared_task(expires=600)
        def delete_old_search_queries():
            return None
    """)
    write(project, "proj/settings.py", SETTINGS)
    write(project, "Procfile", "beat: celery -A proj beat -S django\n")
    assert cb401(capsys) == []


def test_a_task_object_given_to_add_periodic_task_is_covered_by_its_decorator_elsewhere(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # pypi/warehouse's shape: config.add_periodic_task(crontab(minute=0, hour=6), reindex)
    write(project, "proj/__init__.py", "")
    write(project, "proj/tasks.py", """
        from celery import shared_task

        @shared_task(expires=600)
        def reindex():
            return None

        @shared_task
        def sync():
            return None
    """)
    write(project, "proj/setup.py", """
        from celery.schedules import crontab
        from proj.tasks import reindex, sync

        def includeme(config):
            config.add_periodic_task(crontab(minute=0, hour=6), reindex)
            config.add_periodic_task(crontab(minute=0, hour=6), sync)
    """)
    assert [(path, line) for path, line, _ in cb401(capsys)] == [("proj/setup.py", 6)]


def test_a_project_helper_that_passes_its_options_on_is_judged_at_each_call(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # pypi/warehouse's shape under another name: a function passing **opts on to add_periodic_task,
    # registered as a Pyramid directive and called from other modules; and a plain helper around
    # django-celery-beat's PeriodicTask.objects.create imported by a view.
    write(project, "proj/__init__.py", "")
    write(project, "proj/tasks.py", """
        from celery import shared_task

        @shared_task
        def sync():
            return None
    """)
    write(project, "proj/beat.py", """
        from django_celery_beat.models import PeriodicTask

        def _schedule_job(config, schedule, func, name=None, **opts):
            def register():
                config.registry["celery.app"].add_periodic_task(schedule, func.s(), name=name, **opts)
            config.action(None, register, order=100)

        def every(interval, task_name, **options):
            return PeriodicTask.objects.create(interval=interval, task=task_name, **options)

        def includeme(config):
            config.add_directive("schedule_job", _schedule_job, action_wrap=False)
    """)
    write(project, "proj/accounts.py", """
        from celery.schedules import crontab
        from proj.tasks import sync

        def includeme(config):
            config.schedule_job(crontab(minute="*/5"), sync)
            config.schedule_job(crontab(minute=0), sync, expires=300)
    """)
    write(project, "proj/views.py", """
        def enable(interval):
            from proj import beat
            beat.every(interval, "proj.tasks.sync")
            beat.every(interval, "proj.tasks.sync", expire_seconds=60)
    """)
    found = cb401(capsys)
    assert [(path, line) for path, line, _ in found] == [("proj/accounts.py", 5), ("proj/views.py", 3)]
    assert found[0][2].startswith("config.schedule_job(...) schedules a periodic task without expiry")
    assert found[1][2].startswith("beat.every(...) schedules a periodic task without expiry")


CELERY_APP = "from celery import Celery\n\napp = Celery('proj')\n"
BASE_SETTINGS = 'CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"\n'
QUEUE_CLASSES = """
    from proj.celery import app


    class Queue:
        def register(self, task_type):
            app.conf.beat_schedule.update({
                task_type.name: {"task": task_type.dotted_path, "schedule": 300},
            })
"""


def test_an_entry_outside_the_settings_module_is_advised_the_project_scheduler_key(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, "proj/settings/base.py", BASE_SETTINGS)
    write(project, "proj/celery.py", CELERY_APP)
    write(project, "proj/apps/x/classes.py", QUEUE_CLASSES)
    [(path, line, message)] = cb401(capsys)
    assert (path, line) == ("proj/apps/x/classes.py", 7)
    assert message.endswith(
        "add 'options': {'expire_seconds': <seconds, at most the period>} to the entry (django-celery-beat's "
        "DatabaseScheduler, configured in the project's settings, drops options['expires'])")
    assert "'expires': <seconds" not in message and "use expire_seconds instead" not in message


def test_fix_gives_an_entry_outside_the_settings_module_the_project_scheduler_key(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, "proj/settings/base.py", BASE_SETTINGS)
    write(project, "proj/celery.py", CELERY_APP)
    write(project, "proj/apps/x/classes.py", QUEUE_CLASSES)
    main(["fix", "-q", "--select", "CB401"])
    assert '"options": {"expire_seconds": 300}' in (project / "proj/apps/x/classes.py").read_text()
    assert cb401(capsys) == []


AWX_SETTINGS = """
from datetime import timedelta

CELERYBEAT_SCHEDULE = {
    "tower_scheduler": {"task": "awx.main.tasks.system.awx_periodic_scheduler", "schedule": timedelta(seconds=30)},
    "gather_analytics": {"task": "awx.main.tasks.system.gather_analytics", "schedule": timedelta(minutes=5)},
}
"""


def test_a_schedule_in_a_project_that_never_imports_celery_is_left_alone(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # awx's shape: CELERYBEAT_SCHEDULE is read by the project's own dispatcher (no module imports
    # celery), which drops options and missed runs: an expiry would change nothing.
    write(project, "awx/settings/defaults.py", AWX_SETTINGS)
    write(project, "awx/main/dispatch/periodic.py", "from django.conf import settings\n\n"
                                                    "SCHEDULE = settings.CELERYBEAT_SCHEDULE\n")
    assert cb401(capsys) == []
    write(project, "awx/celery.py", "from celery import Celery\n\napp = Celery('awx')\n")
    assert [(path, line) for path, line, _ in cb401(capsys)] == [("awx/settings/defaults.py", 4),
                                                                ("awx/settings/defaults.py", 5)]
