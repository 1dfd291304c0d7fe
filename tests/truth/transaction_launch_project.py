"""A Django project run in its own process by tests/truth/test_transaction_launch.py: truthapp's
Article in a file sqlite database (the default alias: ``delay_on_commit`` waits for the default
database's transaction), a real worker on the memory transport, no eager mode. Prints one JSON object:
what the worker read in each case, and whether model signals run inside a transaction.

Usage: python transaction_launch_project.py <database file>
"""

from __future__ import annotations

import functools
import json
import queue
import sys
import time

import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["truthapp"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": sys.argv[1]},
               "archive": {"ENGINE": "django.db.backends.sqlite3", "NAME": sys.argv[1] + ".archive"}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()

from celery import Celery  # noqa: E402
from celery.contrib.testing.worker import start_worker  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.db.models.signals import post_delete, post_save  # noqa: E402
from truthapp.models import Article  # noqa: E402

app = Celery("truth_launch", broker="memory://", backend="cache+memory://", set_as_current=False,
             task_cls="celery.contrib.django.task:DjangoTask")
app.conf.update(broker_transport_options={"polling_interval": 0.005}, worker_hijack_root_logger=False)


#: What the worker read, in order (the solo pool runs in a thread of this process).
READ: queue.Queue[str | None] = queue.Queue()


@app.task(name="truth.launch.read_title")
def read_title(pk: int) -> None:
    """Records what the worker's own connection sees of the row."""
    try:
        READ.put(Article.objects.get(pk=pk).title)
    except Article.DoesNotExist:
        READ.put(None)
    finally:
        connection.close()


@app.task(name="truth.launch.read_archived")
def read_archived(pk: int) -> None:
    """The same, in the second database."""
    try:
        READ.put(Article.objects.using("archive").get(pk=pk).title)
    except Article.DoesNotExist:
        READ.put(None)
    finally:
        connections["archive"].close()


def main() -> None:
    for alias in ("default", "archive"):
        with connections[alias].schema_editor() as editor:
            editor.create_model(Article)
    seen: dict[str, object] = {}
    started = time.monotonic()
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=5):
        with transaction.atomic():
            row = Article.objects.create(title="fresh")
            read_title.delay(row.pk)
            # Waiting inside the block stands for a worker faster than the rest of the transaction.
            seen["created, delay"] = READ.get(timeout=10)
        old = Article.objects.create(title="old")
        with transaction.atomic():
            Article.objects.filter(pk=old.pk).update(title="new")
            read_title.apply_async((old.pk,))
            seen["updated, apply_async"] = READ.get(timeout=10)
        with transaction.atomic():
            row = Article.objects.create(title="committed")
            assert read_title.delay_on_commit(row.pk) is None
            old.title = "newer"
            old.save()
            read_title.apply_async_on_commit((old.pk,))
            seen["on_commit, before the commit"] = READ.qsize()
        seen["created, delay_on_commit"] = READ.get(timeout=10)
        seen["updated, apply_async_on_commit"] = READ.get(timeout=10)
        with transaction.atomic(using="archive"):
            row = Article.objects.using("archive").create(title="archived")
            read_archived.delay_on_commit(row.pk)  # on_commit of the default database: at once
            seen["other database, delay_on_commit"] = READ.get(timeout=10)
            transaction.on_commit(functools.partial(read_archived.delay, row.pk), using="archive")
            seen["other database, on_commit(using=), before the commit"] = READ.qsize()
        seen["other database, on_commit(using=)"] = READ.get(timeout=10)
    seen["seconds"] = round(time.monotonic() - started, 2)
    inside: dict[str, bool] = {}
    post_save.connect(lambda **kw: inside.setdefault("post_save", connection.in_atomic_block), sender=Article,
                      weak=False)
    post_delete.connect(lambda **kw: inside.setdefault("post_delete", connection.in_atomic_block),
                        sender=Article, weak=False)
    Article.objects.create(title="signals").delete()
    seen["in_atomic_block"] = inside
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
