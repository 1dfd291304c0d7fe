from celery import Celery, Task, shared_task

app = Celery("proj", task_serializer='pickle')
app.conf.update(
    result_serializer="pickle",  # legacy workers
    accept_content=["json", "pickle"],
)
CELERY_ACCEPT_CONTENT = ("application/x-python-serialize",)
CELERY_EVENT_SERIALIZER = "pickle"  # noqa: CB101
CELERY_ACCEPT_CONTENT += ["pickle", "yaml"]
app.conf.accept_content.extend(["json", "pickle"])


@shared_task(serializer="pickle")
def resize(image):
    return image


class PickleTask(Task):
    serializer = "pickle"
