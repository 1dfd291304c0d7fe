"""CB201: a private (chain-only) task launched directly."""
from celery import chain, shared_task
from invoke import task

from proj import other_tasks
from proj.other_tasks import _imported_private


@shared_task
def _fetch(url):
    return url


@shared_task
def __store(data):
    return data


@shared_task
def public(url):
    return chain(_fetch.s(url), __store.s())


def view(url):
    _fetch.delay(url)  # CB201
    _fetch.apply_async((url,))  # CB201
    __store(url)  # CB201
    _fetch.s(url).delay()  # CB201
    _imported_private.delay(url)  # CB201
    other_tasks._remote.apply_async()  # CB201
    chain(_fetch.s(url), __store.s()).delay()
    (_fetch.s(url) | __store.s()).apply_async()
    public.delay(url)


def shadowed(url, make_fetcher):
    _fetch = make_fetcher()  # a local variable shadows the task
    _fetch(url)
    _fetch.delay(url)


@task
def _deploy(c):  # invoke's @task is not a Celery task
    return c


def release(c):
    _deploy(c)


class Throttle:
    def __init__(self, timer):
        self._timer = timer

    def later(self):
        self._timer.delay(5)


@shared_task
def _module_private(ids):
    return ids  # "_" as in "private to this module": never chained, launched by its own module


def service(ids, enabled):
    if enabled:
        _module_private.delay(ids)
    else:
        _module_private(ids)
