from celery import Celery

app = Celery("proj")
app.conf.beat_scheduler = "django_celery_beat.schedulers:DatabaseScheduler"

app.conf.beat_schedule = {
    "every-minute": {
        "task": "proj.tasks.tick",
        "schedule": 60.0,
    },
    "dropped": {"task": "proj.tasks.tick", "schedule": 60.0, "options": {"expires": 50}},
    "kept": {"task": "proj.tasks.tick", "schedule": 60.0, "options": {"expire_seconds": 50}},
}


@app.on_after_configure.connect
def setup(sender, **kwargs):
    sender.add_periodic_task(10.0, tick.s())
    sender.add_periodic_task(10.0, tick.s(), expires=9)
