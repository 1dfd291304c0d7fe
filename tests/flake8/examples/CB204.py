"""CB204: blocking on a result inside a task body."""
from celery import group, shared_task
from celery.result import AsyncResult, allow_join_result

from proj.models import Article


@shared_task
def add(x, y):
    return x + y


@shared_task(bind=True)
def waits(self, x, lookup, make_promise):
    add.delay(x, 1).get()  # CB204
    result = add.apply_async((x, 2))
    result.get(timeout=10)  # CB204
    AsyncResult("some-id").wait()  # CB204
    self.AsyncResult("other-id").get()  # CB204
    return result.id


@shared_task
def joins(x, lookup, make_promise):
    with allow_join_result():  # CB204
        pass
    job = group(add.s(i, i) for i in range(2)).apply_async()  # CB203
    job.join()  # CB204
    lookup.get("key")
    {"a": 1}.get("a")
    Article.objects.get(pk=x)
    promise = make_promise()
    promise.get()
    return job.id


@shared_task
def fans_out(ids):
    results = [add.delay(i, i) for i in ids]
    total = 0
    for result in results:
        total += result.get()  # CB204
    return [r.get() for r in results]  # CB204


@shared_task
def uses_a_process_pool(items):
    from multiprocessing import Pool

    with Pool(4) as workers:
        first = workers.apply_async(len, (items,)).get()
    pool = make_pool()
    return first + pool.apply_async(len, (items,)).get()


@shared_task
def not_results(rows, cache):
    keys = [row.key for row in rows]
    for key in keys:
        cache.get(key)
    return [cache.get(k) for k in keys]


def make_pool():
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor()


def view(x):
    return add.delay(x, 1).get()  # outside a task: not this rule
