from celery import shared_task

task_serializer = "pickle"  # noqa: CB101
result_serializer = "pickle"  # noqa: CB102 (another code: still reported)


@shared_task
def __step(x):
    return x


def view(x):
    __step.delay(x)  # noqa: CB201
    __step.delay(x)  # noqa
    __step.delay(x)


@shared_task
def fat(ids):
    for i in ids:
        for j in ids:
            __step.s(i * j)
