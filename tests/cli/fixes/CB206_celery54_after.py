"""Articles: launches inside transactions."""
from celery import chain, current_app
from django.db import models
from django.db.transaction import atomic

from news.tasks import index_article, notify
import functools
from django.db import transaction


@atomic
def publish(article, readers):
    article.save()
    index_article.delay_on_commit(article.pk)
    for reader in readers:
        notify.apply_async_on_commit((reader.pk,), countdown=5)
    transaction.on_commit(chain(index_article.s(article.pk), notify.si(article.pk)))
    transaction.on_commit(functools.partial(current_app.send_task, "news.tasks.index_article", args=[article.pk]))
    return notify.delay(article.pk)


class Article(models.Model):
    def publish(self, *args, **kwargs):
        with atomic():
            self.save(*args, **kwargs)
            index_article.delay_on_commit(
                self.pk,
            )


@atomic(using="archive")
def archive(article):
    article.save(using="archive")
    transaction.on_commit(functools.partial(index_article.delay, article.pk), using="archive")
    transaction.on_commit(functools.partial(notify.delay, article.pk), using="archive")
