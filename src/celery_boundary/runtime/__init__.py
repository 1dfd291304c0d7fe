"""Runtime preserializers: the only part of celery-boundary imported by a running Celery app."""
