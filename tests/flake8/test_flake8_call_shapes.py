"""Calls named like Celery's methods but shaped like no Celery signature (celery 5.7) are not Celery:
``analysis.call_shapes.can_be_celery``, asked by every rule that matches a method by its name."""

from __future__ import annotations

import ast
import textwrap

import pytest

from celery_boundary.analysis.call_shapes import can_be_celery
from celery_boundary.checks import check_source


def codes(source: str) -> list[tuple[int, str]]:
    return [(f.line, f.code) for f in check_source(textwrap.dedent(source))]


def call(text: str) -> ast.Call:
    node = ast.parse(text, mode="eval").body
    assert isinstance(node, ast.Call)
    return node


@pytest.mark.parametrize("text", [
    "sig.set(serializer='pickle')", "sig.set(True, queue='q')", "t.apply_async((1,), {}, 'id', p, l, e, 'x', q=1)",
    "t.delay(1, 2, 3, 4, 5, 6, 7, 8, 9)", "t.s(*items)", "app.send_task('a.b', (1,), serializer='json')",
    "app.send_task(name='a.b')", "r.get(timeout=5)", "r.get(5, False)", "r.get()", "s.link(other)",
    "s.on_error(errback=e)", "t.chunks(items, 10)", "t.map(items)", "app.add_periodic_task(10, t.s())",
    "rs.join(timeout=1)", "r.collect()", "store.set(*args)", "cache.get(**options)",
])
def test_celery_shapes_are_celery(text: str) -> None:
    assert can_be_celery(call(text))


@pytest.mark.parametrize("text", [
    "store.set('k', obj, serializer='pickle')",  # a cache client: key and value are positional
    "t.apply_async(a, b, c, d, e, f, g, h)",  # eight positionals: Task.apply_async takes seven
    "requests.get(url, params=query)",  # no keyword 'params' on AsyncResult.get
    "requests.get('https://example.com')",  # a string where AsyncResult.get takes a timeout
    "config.get(f'{prefix}_url')", "payload.get({'a': 1})",
    "cache.get(key, default=None)",  # dict.get / cache.get's default
    "s.link(a, b)", "s.link()", "t.chunks(items)", "t.map(items, 1)", "scheduler.add_periodic_task(entry)",
    "client.send_task()", "rs.join(a, b, c, d, e, f, g, h, i)", "r.collect(True, False)",
])
def test_other_shapes_are_not_celery(text: str) -> None:
    assert not can_be_celery(call(text))


PICKLE_CACHE = """
    from celery import shared_task
    from django.core.cache import cache


    @shared_task
    def add(x, y):
        return x + y


    def remember(key, obj):
        cache.set(key, obj, serializer="pickle")
        cache.set(key, obj, 300, serializer="pickle")
        add.s(1, 2).set(serializer="pickle").delay()
        add.apply_async((1, 2), serializer="pickle")
"""


def test_a_cache_client_set_with_pickle_is_not_a_per_call_serializer() -> None:
    assert codes(PICKLE_CACHE) == [(14, "CB103"), (15, "CB103")]


BLOCKING = """
    import requests
    from celery import shared_task


    @shared_task
    def fetch(url):
        return url


    @shared_task
    def crawl(url, headers):
        page = requests.get(url, params={"q": 1})
        title = headers.get("title", "")
        pending = fetch.delay(url)
        meta = pending.get("meta")
        done = fetch.delay(url)
        return done.get(timeout=10)
"""


def test_get_shaped_like_a_dict_or_an_http_call_is_not_blocking_on_a_result() -> None:
    assert codes(BLOCKING) == [(18, "CB204")]


LINKS = """
    from celery import chain, shared_task


    @shared_task
    def fetch(url):
        return url


    @shared_task
    def total(counts):
        return sum(counts)


    def wire(registry, url):
        fetch.delay(url)
        registry.link("totals", total.s())
"""


def test_a_registry_link_with_two_arguments_is_no_canvas_link() -> None:
    assert codes(LINKS) == []
    assert codes(LINKS.replace('registry.link("totals", total.s())', "fetch.s(url).link(total.s())")) == [
        (11, "CB202")]


PRIVATE = """
    from celery import shared_task
    from .throttle import _limiter


    @shared_task
    def __step(x):
        return x


    def start(job):
        __step.apply_async((1,))
        _limiter.apply_async(job, 1, 2, 3, 4, 5, 6, 7)
"""


def test_a_private_name_with_an_apply_async_of_eight_positionals_is_not_a_launch() -> None:
    assert codes(PRIVATE.replace("job, 1, 2, 3, 4, 5, 6, 7", "(job,)")) == [(12, "CB201"), (13, "CB201")]
    assert codes(PRIVATE) == [(12, "CB201")]
