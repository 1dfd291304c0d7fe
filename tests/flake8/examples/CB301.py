"""CB301: business logic inside a task body (default thresholds)."""
import logging

from celery import Task, shared_task

from proj import services

log = logging.getLogger(__name__)
logger = log


@shared_task(bind=True, max_retries=3)
def thin(self, order_id):
    """Retry handling belongs to the task and is not counted."""
    try:
        services.charge(order_id)
    except TimeoutError as exc:
        raise self.retry(exc=exc)


@shared_task
def loops(ids):  # CB301
    total = 0
    for i in ids:
        for j in ids:
            total += i * j
    return total


@shared_task
def branches(kind):  # CB301
    if kind == "a":
        services.a()
    elif kind == "b":
        services.b()
    elif kind == "c":
        services.c()
    elif kind == "d":
        services.d()


@shared_task
def deep(items):  # CB301
    for item in items:
        if item:
            if item.ready:
                services.handle(item)


@shared_task
def long(x):  # CB301
    a = x + 1
    b = a + 1
    c = b + 1
    d = c + 1
    e = d + 1
    f = e + 1
    g = f + 1
    h = g + 1
    i = h + 1
    j = i + 1
    k = j + 1
    services.log(k)
    return services.store(a, b, c, d, e, f, g, h, i, j, k)


@shared_task
def twelve(x):
    a = x + 1
    b = a + 1
    c = b + 1
    d = c + 1
    e = d + 1
    f = e + 1
    g = f + 1
    h = g + 1
    i = h + 1
    j = i + 1
    k = j + 1
    return services.store(a, b, c, d, e, f, g, h, i, j, k)


@shared_task
def spans(items):
    """Tracing spans and an except clause that only logs are plumbing, not logic."""
    with services.span("outer"):
        with services.span("inner"):
            for item in items:
                try:
                    services.handle(item)
                except ValueError:
                    logger.warning("skipped %s", item)


class Reindex(Task):
    def run(self, ids):  # CB301
        for i in ids:
            for j in ids:
                services.pair(i, j)


def helper(ids):  # not a task: not measured
    for i in ids:
        for j in ids:
            for k in ids:
                services.triple(i, j, k)
