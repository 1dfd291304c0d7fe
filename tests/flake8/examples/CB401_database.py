"""CB401 under django-celery-beat's DatabaseScheduler, configured in this module (plane's celery.py):
entries are copied into PeriodicTask rows, options['expires'] is dropped, expire_seconds survives,
and a task's own expires= is sent as with any scheduler."""
from celery import Celery, shared_task

app = Celery("proj")
app.conf.beat_scheduler = "django_celery_beat.schedulers.DatabaseScheduler"


@shared_task(expires=300)
def cleanup():
    return None


@shared_task
def tick():
    return None


app.conf.beat_schedule = {
    "sync-feeds": {  # CB401
        "task": "proj.tasks.sync_feeds",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "send-digest": {"task": "proj.tasks.send_digest", "schedule": 3600.0, "options": {"expire_seconds": 3500}},
    "both": {"task": "proj.tasks.tick", "schedule": 60.0, "options": {"expires": 50, "expire_seconds": 50}},
    "cleanup": {"task": "proj.tasks.cleanup", "schedule": 600.0, "options": {"expires": 500}},
    "nothing": {"task": "proj.tasks.tick", "schedule": 60.0},  # CB401
}


@app.on_after_configure.connect
def setup_periodic_tasks(sender, **kwargs):
    sender.add_periodic_task(60.0, tick.s(), expires=50)  # CB401
    sender.add_periodic_task(60.0, tick.s(), expire_seconds=50)
    sender.add_periodic_task(60.0, tick.s())  # CB401
