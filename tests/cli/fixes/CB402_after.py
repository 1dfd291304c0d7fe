from celery import Celery
from celery.schedules import crontab
from django_celery_beat.models import CrontabSchedule

app = Celery("proj")

app.conf.beat_schedule = {
    "nightly": {"task": "proj.tasks.nightly", "schedule": crontab(minute=0, hour=3), "options": {"expires": 60}},
    "twice": {"task": "proj.tasks.t", "schedule": crontab(minute=0, hour="8,20", day_of_week="mon-fri"), "options": {"expires": 60}},
    "every-other-hour": {"task": "proj.tasks.t", "schedule": crontab(hour="*/2"), "options": {"expires": 60}},
    "mondays": {"task": "proj.tasks.t", "schedule": crontab(day_of_week="mon"), "options": {"expires": 60}},
}


def install():
    CrontabSchedule.objects.get_or_create(minute="0", hour="4", day_of_week="*")
