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


def view(x):
    chain(add.s(x, 1), add.s(2)).delay()  # not inside a task
