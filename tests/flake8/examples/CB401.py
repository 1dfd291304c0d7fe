"""CB401: a periodic task without expiry."""
from celery import Celery, shared_task
from celery.schedules import crontab
from celery.task import periodic_task
from django_celery_beat.models import IntervalSchedule, PeriodicTask

app = Celery("proj")

app.conf.beat_schedule = {
    "every-minute": {  # CB401
        "task": "proj.tasks.tick",
        "schedule": 60.0,
    },
    "with-expiry": {
        "task": "proj.tasks.tick",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "top-level-expires": {  # CB401
        "task": "proj.tasks.tick",
        "schedule": 60.0,
        "expires": 50,
    },
    "built-elsewhere": make_entry(),
    "database-style": {"task": "proj.tasks.tick", "schedule": 60.0, "options": {"expire_seconds": 50}},
}
for source in ("rss", "atom"):
    app.conf.beat_schedule[f"sync-{source}"] = {"task": "proj.tasks.sync", "schedule": 300.0}  # CB401
CELERY_BEAT_SCHEDULE = {
    "nightly": {"task": "proj.tasks.nightly", "schedule": crontab(minute=0, hour=3)},  # CB401
}
app.conf.update(beat_schedule={"x": {"task": "proj.tasks.tick", "schedule": 5}})  # CB401
app.conf.beat_schedule["y"] = {"task": "proj.tasks.tick", "schedule": 5}  # CB401
CELERYBEAT_SCHEDULE = {"old": dict(task="proj.tasks.tick", schedule=5)}  # CB401
SCHEDULE = {
    "named-elsewhere": {"task": "proj.tasks.tick", "schedule": 5},  # CB401
}
app.conf.beat_schedule = SCHEDULE
CELERY_BEAT_SCHEDULE["late"] = {"task": "proj.tasks.tick", "schedule": 5}  # CB401
app.conf.beat_schedule.update({"covered": {"task": "proj.tasks.self_expiring", "schedule": 10}})


@shared_task(expires=30)
def self_expiring():
    return None


@app.task
def tick():
    return None


@app.on_after_configure.connect
def setup_periodic_tasks(sender, some_signature, **kwargs):
    sender.add_periodic_task(10.0, tick.s())  # CB401
    sender.add_periodic_task(10.0, tick.s(), expires=9)
    sender.add_periodic_task(10.0, tick.s().set(expires=9))
    sender.add_periodic_task(10.0, self_expiring.s())
    sender.add_periodic_task(10.0, some_signature)
    sender.add_periodic_task(10.0, tick)  # CB401
    sender.add_periodic_task(10.0, self_expiring)
    sender.add_periodic_task(10.0, tick.s(), expire_seconds=9)


@periodic_task(run_every=60)
def legacy():  # CB401
    return None


@periodic_task(run_every=60, expires=30)
def legacy_with_expiry():
    return None


def install(every):
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="tick", task="proj.tasks.tick", interval=interval)  # CB401
    PeriodicTask.objects.create(name="t2", task="proj.tasks.tick", interval=interval, expire_seconds=9)
    PeriodicTask.objects.update_or_create(name="t3", defaults={"task": "proj.tasks.tick"})  # CB401
    PeriodicTask.objects.update_or_create(name="t4", defaults={"task": "t", "expire_seconds": 9})
    PeriodicTask.objects.get_or_create(name="t5")
    PeriodicTask(name="t6", task="proj.tasks.tick", interval=interval).save()  # CB401


aliased_task = app.task


@aliased_task
def via_alias():
    return None


def schedule_alias(sender):
    sender.add_periodic_task(5.0, via_alias.s())  # CB401


def forwards(apps, schema_editor):
    """A data migration: the model looked up from the historical app registry."""
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.create(name="m1", task="proj.tasks.tick")  # CB401
    PeriodicTask.objects.create(name="m2", task="proj.tasks.tick", expire_seconds=60)
    apps.get_model("django_celery_beat", "PeriodicTask").objects.update_or_create(  # CB401
        name="m3", defaults={"task": "proj.tasks.tick"})
    Other = apps.get_model("shop", "Order")
    Other.objects.create(name="m4", task="not a periodic task")


class IntervalSource:
    """A model method looking the model up by keyword in django.apps.apps (mayan-edms's shape)."""

    def create(self, every):
        from django.apps import apps as registry

        Periodic = registry.get_model(app_label="django_celery_beat", model_name="PeriodicTask")
        Periodic.objects.create(name="source-1", task="proj.tasks.tick", interval=every)  # CB401
        registry.get_model("django_celery_beat", model_name="PeriodicTask").objects.create(  # CB401
            name="source-2", task="proj.tasks.tick")


def schedule_every(sender, seconds, signature, **options):
    """The project's own helper: its caller chooses the expiry through **options."""
    sender.add_periodic_task(seconds, signature, **options)


def setup_with_helper(sender):
    schedule_every(sender, 30.0, tick.s())  # CB401
    schedule_every(sender, 30.0, tick.s(), expires=25)
    schedule_every(sender, 30.0, self_expiring)
