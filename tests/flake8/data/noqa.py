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
def fat(rows):
    for row in rows:
        if row.kind == "bulk" and row.total > 10:
            row.price = row.total * 2
            row.tax = row.price * 0.2
            row.label = "big" if row.total > 100 else "small"
    __step.s(rows)
