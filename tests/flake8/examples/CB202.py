"""CB202: a public task this module only uses as a canvas link that receives a result."""
from celery import chain, chord, group, shared_task


@shared_task
def fetch(url):
    return url


@shared_task
def store(data):  # CB202
    return data


@shared_task
def summarize(results):  # CB202
    return sum(results)


@shared_task
def count(x):
    return x  # only in a group header: runs on its own input


@shared_task
def notify(x):
    return x  # an immutable .si() link does not need a parent's result


@shared_task
def report(x):
    return x  # receives in a chain, but is also launched on its own


@shared_task
def _private_link(x):
    return x  # already private


@shared_task
def scheduled(x):
    return x  # named in the beat schedule: launched on its own


@shared_task
def enrich(x):  # CB202
    return x


def pipeline(url, xs):
    chain(fetch.s(url), store.s(), notify.si(url)).delay()
    chord(group(count.s(x) for x in xs))(summarize.s())
    (fetch.s(url) | report.s()).delay()
    report.delay(1)
    fetch.delay(url)
    return fetch.s(url) | _private_link.s() | scheduled.s()


@shared_task(bind=True)
def finish(self, *_):
    self.app.log.get_default_logger().info("pipeline done")  # ignores what it receives


@shared_task
def close(_, batch):
    return batch  # its first parameter, the parent's result, is "_"


@shared_task
def on_failure(request, exc, traceback):  # CB202
    return f"{request.id}: {exc}"  # an error callback that reads the failed task's request


@shared_task(bind=True)
def log_failure(self, task_id):
    return self.name  # an error callback that never reads the failed task's id


def with_callbacks(x):
    chain(fetch.s(x), finish.s(), close.s(x)).delay()
    fetch.apply_async((x,), link_error=on_failure.s())
    fetch.s(x).on_error(log_failure.s()).delay()


def via_variable(x):
    step = enrich.s()
    return chain(fetch.s(x), step)


beat_schedule = {
    "nightly": {"task": "proj.tasks.scheduled", "schedule": 60.0, "options": {"expires": 60}},
}
