"""CB103: pickle chosen per task (decorator, Task subclass) or per call."""
from celery import Celery, Task, shared_task, signature

app = Celery("proj")


@shared_task(serializer="pickle")  # CB103
def resize(image):
    return image


@app.task(serializer="json")
def fine(x):
    return x


class PickleTask(Task):
    serializer = "pickle"  # CB103


class AppBase(app.Task):
    serializer = "pickle"  # CB103


class NotATask:
    serializer = "pickle"


@shared_task(base=PickleTask)
def uses_base(x):
    return x


def send(x):
    fine.apply_async((x,), serializer="pickle")  # CB103
    fine.s(x).set(serializer="pickle").delay()  # CB103
    signature("proj.fine", args=(x,), options={"serializer": "pickle"}).delay()  # CB103
    app.send_task("proj.fine", (x,), serializer="pickle")  # CB103
    fine.apply_async((x,), serializer="json")
    cache_set("key", x, serializer="pickle")


def cache_set(key, value, serializer):
    return key, value, serializer


def make_tasks():
    @shared_task(serializer="pickle")  # CB103
    def nested(x):
        return x

    return nested
