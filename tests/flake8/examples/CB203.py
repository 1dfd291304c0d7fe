"""CB203: a canvas launched inside a task body."""
from itertools import chain as iterchain

from celery import Celery, chain, chord, group

app = Celery("proj")


@app.task
def add(x, y):
    return x + y


@app.task(bind=True)
def nested(self, x):
    chain(add.s(x, 1), add.s(2)).delay()  # CB203
    group(add.s(i, i) for i in range(3))()  # CB203
    chord([add.s(1, 1)])(add.s(3))  # CB203
    (add.s(1, 1) | add.s(2)).apply_async()  # CB203
    flow = chain(add.s(1, 1), add.s(3))
    flow.apply_async()  # CB203
    chord([add.s(1, 1)], add.s(3)).delay()  # CB203


@app.task(bind=True)
def replaced(self, x):
    return self.replace(chain(add.s(x, 1), add.s(2)))


@app.task
def returns_signature(x):
    return chain(add.s(x, 1), add.s(2))


@app.task
def not_celery(x):
    return list(iterchain([x], [x]))


@app.task
def shadow(x, make_group):
    group = make_group(x)  # a local variable, not celery.group
    return group()


@app.task
def single(x):
    return add.delay(x, 1).id  # one task, not a canvas


@app.task
def dispatcher(ids):
    # a fan-out from a task this module only launches on its own: nothing is chained after it
    group(add.s(i, i) for i in ids).apply_async()


@app.task
def scheduled_fan_out(ids):
    group(add.s(i, i) for i in ids).apply_async()


app.conf.beat_schedule = {
    "fan-out": {"task": "proj.tasks.scheduled_fan_out", "schedule": 60.0, "options": {"expires": 50}},
}


@app.task(ignore_result=True)
def crawl(url, depth=0):
    # a crawler fanning out to itself through a variable launched on its own: nothing is chained after it
    found = [f"{url}/{i}" for i in range(3)] if depth < 2 else []
    children = group(crawl.s(link, depth + 1) for link in found)
    children.delay()


@app.task(ignore_result=True)
def crawl_then_count(url, depth=0):
    group(crawl_then_count.s(url, depth + 1) for _ in range(2)).delay()  # CB203 (chained after below)


@app.task(ignore_result=True)
def fire_and_forget_elsewhere(ids):
    group(add.s(i, i) for i in ids).delay()  # CB203 (ignore_result does not tell who is chained after it)


def view(x):
    chain(add.s(x, 1), add.s(2)).delay()  # not inside a task
    dispatcher.delay([x])
    crawl.delay("https://example.org")
    chain(crawl_then_count.s("https://example.org"), add.s(1)).delay()
