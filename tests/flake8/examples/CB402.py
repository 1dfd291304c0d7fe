"""CB402: a crontab with an hour (or a day, or a month) and no minute."""
from celery import Celery, schedules
from celery.schedules import crontab
from celery.schedules import crontab as c
from django_celery_beat.models import CrontabSchedule

app = Celery("proj")

app.conf.beat_schedule = {
    "nightly": {"task": "proj.tasks.nightly", "schedule": crontab(hour=3), "options": {"expires": 60}},  # CB402
    "twice": {"task": "proj.tasks.t", "schedule": c(hour="8,20"), "options": {"expires": 60}},  # CB402
    "mondays": {"task": "proj.tasks.t", "schedule": schedules.crontab(day_of_week="mon"),  # CB402
                "options": {"expires": 60}},
    "at-three": {"task": "proj.tasks.t", "schedule": crontab(minute=0, hour=3), "options": {"expires": 60}},
    "positional": {"task": "proj.tasks.t", "schedule": crontab(30, 3), "options": {"expires": 60}},
    "every-minute": {"task": "proj.tasks.t", "schedule": crontab(), "options": {"expires": 60}},
    "quarterly": {"task": "proj.tasks.t", "schedule": crontab(minute="*/15"), "options": {"expires": 60}},
}


def crontab_like(**fields):
    return crontab(**fields)


def install():
    CrontabSchedule.objects.get_or_create(hour="4", day_of_week="*")  # CB402
    CrontabSchedule.objects.get_or_create(minute="0", hour="4")
    CrontabSchedule.objects.update_or_create(id=1, defaults={"hour": "5"})  # CB402


def forwards(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Crontab.objects.create(hour="6")  # CB402
    Crontab.objects.create(minute="30", hour="6")


def not_celery(scheduler):
    scheduler.crontab(hour=3)


def test_parsed_crontab_equals_the_built_one():
    # compared, never scheduled: how often it would fire does not matter
    assert crontab.from_string("* * * * SUN") == crontab(day_of_week="SUN")
    assert crontab(hour=3)
    return crontab(hour=4) != crontab(minute=0, hour=4)


def compared_then_scheduled(app, entry):
    if entry == crontab(hour=2):
        app.add_periodic_task(crontab(hour=2) if entry else None, entry)  # CB402
