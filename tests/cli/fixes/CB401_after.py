from datetime import timedelta

from celery import Celery
from celery.schedules import crontab

app = Celery("proj")

app.conf.beat_schedule = {
    "every-minute": {  # a comment that stays
        "task": "proj.tasks.tick",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "every-five": {
        "task": "proj.tasks.tock",
        "schedule": timedelta(minutes=5),
        "options": {"queue": "beat", "expires": 300},
    },
    "nightly": {"task": "proj.tasks.nightly", "schedule": crontab(minute=0, hour=3)},
    "silenced": {"task": "proj.tasks.tick", "schedule": 30},  # noqa: CB401
}
CELERYBEAT_SCHEDULE = {"old": dict(task="proj.tasks.tick", schedule=5, options={"expires": 5})}


@app.on_after_configure.connect
def setup(sender, **kwargs):
    sender.add_periodic_task(10.0, tick.s(), expires=10.0)
    sender.add_periodic_task(10.0, tick.s(), expires=9)
