"""CB301: business logic inside a task body (default thresholds)."""
import logging

from celery import Celery, Task, shared_task

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


# Shapes from real projects (docs/validation.md, F3). Log calls count once per task: reporting is one
# thing a task does, however many lines it takes. An ``if`` that hands the task to a retry helper is
# retry handling.


@shared_task(bind=True)
def delete_record(self, kind, pk, user_id=None):
    """A lock, a guard that logs and leaves, and log lines around one delete (readthedocs shape)."""
    task_log = log.bind(kind=kind, pk=pk)
    lock_id = f"{self.name}-{kind}-{pk}"
    lock_expire = 7200
    with services.lock(lock_id, lock_expire) as acquired:
        if not acquired:
            task_log.info("already being deleted")
            return
        user = services.user(user_id) if user_id else None
        model = services.model(kind)
        obj = model.objects.filter(pk=pk).first()
        if obj:
            task_log.info("deleting")
            services.set_reason(obj, user=user)
            obj.delete()
            task_log.info("deleted")
        else:
            task_log.info("nothing to delete")


@shared_task(bind=True, retry_backoff=10)
def deliver(self, delivery_id, event_id):
    """Guard clauses that log, and retry through a helper given the task (saleor shape)."""
    event = services.event(event_id)
    if not event:
        logger.error("no event %s", event_id)
        return
    delivery = services.delivery(delivery_id)
    if not delivery:
        services.recalculate(event)
        logger.error("no delivery %s", delivery_id)
        return
    attempt = services.attempt(delivery, self.request.id)
    response, data = services.send(delivery, attempt)
    if response.status >= 500:
        services.handle_retry(self, delivery, response, attempt)
        data = None
    services.record(event, data)


@shared_task
def purge_exports():  # CB301
    """Real logic with one log line: still 13 statements (saleor csv shape)."""
    now = services.now()
    events = services.events(before=now)
    files = services.files(events)
    if not files:
        return
    paths = list(files.paths())
    counter = 0
    for path in paths:
        if path and services.exists(path):
            services.delete(path)
            counter += 1
    files.delete()
    logger.debug("deleted %s files", counter)


@shared_task(bind=True)
def import_board(self, user_id, url, kind):  # CB301
    """Choosing a strategy and mailing the outcome, with one log line (taiga shape)."""
    user = services.user(user_id)
    if kind == "agile":
        importer = services.AgileImporter(user, url)
    else:
        importer = services.PlainImporter(user, url)
    try:
        board = importer.run()
    except Exception as exc:
        ctx = {"user": user, "error": exc}
        email = services.error_mail(user, ctx)
        email.send()
        logger.error("import failed for %s", url)
    else:
        ctx = {"board": board, "user": user}
        email = services.success_mail(user, ctx)
        email.send()


@shared_task(bind=True)
def retry_or_ship(self, items):  # CB301
    """An ``if`` that hands the task to a helper but has an ``else`` decides something: counted."""
    for item in items:
        if item.failed:
            services.handle_retry(self, item)
        else:
            services.pack(item)
            if item.ready:
                services.ship(item)


@shared_task
def not_bound(items):  # CB301
    """Without ``bind=True`` the first parameter is not the task: passing it on is not a retry."""
    for item in items:
        if item:
            if item.failed:
                services.handle_retry(items, item)


# Tasks defined inside functions and classes (readthedocs defines one in a test method, importing the
# app there). Names are resolved as seen from inside the function.


class TestInline:
    def test_inline(self):
        from proj.worker import app

        @app.task(name="inline")
        def inline(ids):  # CB301
            for i in ids:
                for j in ids:
                    services.pair(i, j)

        inline.delay([1])


def make_app():
    local_app = Celery("local")

    @local_app.task
    def pairs(ids):  # CB301
        for i in ids:
            for j in ids:
                services.pair(i, j)

    return local_app


def register(app):
    @app.task  # a parameter: an unknown object, not known to be a Celery app
    def pairs(ids):
        for i in ids:
            for j in ids:
                services.pair(i, j)


def deploy_tasks():
    from invoke import task

    @task
    def deploy(c):
        for i in c.hosts:
            for j in c.steps:
                services.pair(i, j)


# A task factory defined in this module (treeherder's ``retryable_task`` shape): a class whose
# ``__call__`` applies shared_task to what it wraps. Functions it decorates are tasks.


class retrying:  # noqa: N801
    def __init__(self, **options):
        self.options = options

    def __call__(self, f):
        def inner(*args, **kwargs):
            return f(*args, **kwargs)

        return shared_task(**self.options)(inner)


def timed(f):  # wraps without making a task
    return f


@retrying(name="made", max_retries=3)
def factory_made(ids):  # CB301
    for i in ids:
        for j in ids:
            services.pair(i, j)


@timed
def plain_helper(ids):
    for i in ids:
        for j in ids:
            services.pair(i, j)
