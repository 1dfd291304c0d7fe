from celery import Celery, Task, shared_task

app = Celery("proj", task_serializer='json')
app.conf.update(
    result_serializer="json",  # legacy workers
    accept_content=["json"],
)
CELERY_ACCEPT_CONTENT = ("json",)
CELERY_EVENT_SERIALIZER = "pickle"  # noqa: CB101
CELERY_ACCEPT_CONTENT += ["yaml"]
app.conf.accept_content.extend(["json"])


@shared_task(serializer="json")
def resize(image):
    return image


class PickleTask(Task):
    serializer = "json"
