from celery import shared_task

task_serializer = "pickle"  # noqa: CB101
result_serializer = "pickle"  # noqa: CB102 (another code: still reported)


@shared_task
def _step(x):
    return x


def view(x):
    _step.delay(x)  # noqa: CB201
    _step.delay(x)  # noqa
    _step.delay(x)


@shared_task
def fat(ids):
    for i in ids:
        for j in ids:
            _step.s(i * j)
