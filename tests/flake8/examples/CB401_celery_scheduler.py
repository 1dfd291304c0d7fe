"""CB401 under celery's own scheduler, named in this module: expire_seconds is django-celery-beat's
option, which apply_async ignores."""
import os

CELERY_BEAT_SCHEDULER = os.environ.get("CELERY_BEAT_SCHEDULER", "celery.beat:PersistentScheduler")
CELERY_BEAT_SCHEDULE = {
    "send-digest": {  # CB401
        "task": "proj.tasks.send_digest",
        "schedule": 3600.0,
        "options": {"expire_seconds": 3500},
    },
    "refresh": {"task": "proj.tasks.refresh", "schedule": 60.0, "options": {"expires": 50}},
}
