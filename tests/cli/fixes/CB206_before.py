"""Articles: launches inside transactions."""
from celery import chain, current_app
from django.db import models
from django.db.transaction import atomic

from news.tasks import index_article, notify


@atomic
def publish(article, readers):
    article.save()
    index_article.delay(article.pk)
    for reader in readers:
        notify.apply_async((reader.pk,), countdown=5)
    chain(index_article.s(article.pk), notify.si(article.pk))()
    current_app.send_task("news.tasks.index_article", args=[article.pk])
    return notify.delay(article.pk)


class Article(models.Model):
    def publish(self, *args, **kwargs):
        with atomic():
            self.save(*args, **kwargs)
            index_article.delay(
                self.pk,
            )


@atomic(using="archive")
def archive(article):
    article.save(using="archive")
    index_article.delay(article.pk)
    notify.delay_on_commit(article.pk)
