"""CB206: a task launched inside a database transaction."""
import functools
from multiprocessing.pool import ThreadPool

from celery import chain, current_app, shared_task
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.db.transaction import atomic
from django.dispatch import receiver
from django.utils.decorators import method_decorator


@shared_task
def index_article(pk):
    return pk


@shared_task
def notify(pk):
    return pk


def publish(article):
    with transaction.atomic():
        article.save()
        index_article.delay(article.pk)  # CB206
        index_article.apply_async((article.pk,), countdown=5)  # CB206
        chain(index_article.s(article.pk), notify.si(article.pk))()  # CB206
        current_app.send_task("news.tasks.index_article", args=[article.pk])  # CB206
        index_article.delay_on_commit(article.pk)
        notify.apply_async_on_commit((article.pk,))
        transaction.on_commit(lambda: index_article.delay(article.pk))
        transaction.on_commit(functools.partial(notify.delay, article.pk))
        with ThreadPool(2) as pool:
            pool.apply_async(print, (article.pk,))
    notify.delay(article.pk)


@transaction.atomic
def archive(article):
    article.save()
    notify.delay(article.pk)  # CB206

    def later():
        notify.delay(article.pk)

    transaction.on_commit(later)


@atomic(using="archive")
def archive_quietly(article):
    article.tags.add(1)
    return notify.apply_async((article.pk,))  # CB206


class Article(models.Model):
    title = models.CharField(max_length=100)

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        index_article.delay(self.pk)  # only inside its caller's transaction: `check` with ATOMIC_REQUESTS

    def delete(self, *args, **kwargs):
        notify.delay(self.pk)
        return super().delete(*args, **kwargs)


class ArticleForm:
    def save(self):
        index_article.delay(1)


@receiver(post_save, sender=Article)
def on_saved(sender, instance, **kwargs):
    index_article.delay(instance.pk)  # a plain save() holds no transaction


@receiver([post_delete], sender=Article)
def on_deleted(sender, instance, **kwargs):
    notify.delay(instance.pk)  # CB206


def on_tags(sender, instance, **kwargs):
    notify.delay(instance.pk)  # CB206


m2m_changed.connect(on_tags, sender=Article)


def view(request, pk):
    # Only under ATOMIC_REQUESTS, which one module cannot see: `celery-boundary check` reports it.
    notify.delay(pk)


class ImportViewSet:
    @method_decorator(atomic)
    def load_dump(self, request):
        # Nothing written before the launch: the data travels in the message.
        return notify.delay(request.data)

    @method_decorator(atomic)
    def restore(self, request):
        _store(request.data)
        return notify.delay(request.user.pk)  # CB206


def _store(rows):
    with connection.cursor() as cursor:
        cursor.executemany("insert into dump values (%s)", rows)


@transaction.atomic
def retitle(request, pk):
    article = Article.objects.select_for_update().get(pk=pk)
    if not request.user.has_perm("news.change_article", article):
        raise PermissionError(pk)
    notify.delay(article.pk)  # reads and checks only: nothing a worker could miss


def reindex(articles):
    with transaction.atomic():
        for article in articles:
            index_article.delay(article.pk)  # CB206: the previous turn saved
            Article.objects.filter(pk=article.pk).update(title=article.title)


def replicated(ids):
    with transaction.atomic(using=settings.DATABASE_CONNECTION_REPLICA_NAME, savepoint=False):
        notify.delay(ids)


@transaction.atomic(using="archive")
def archive_elsewhere(article):
    article.save(using="archive")
    index_article.delay_on_commit(article.pk)  # CB206
    transaction.on_commit(functools.partial(index_article.delay, article.pk), using="archive")
