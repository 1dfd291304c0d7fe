"""CB301: business logic inside a task body (default ``max_task_logic`` = 6).

What counts: decisions on the data, computations, records built, query clauses, raw SQL (weight 3),
fields set on objects. What does not: plumbing, however long (the shapes below marked "plumbing").
"""
import logging
import smtplib
import time
from datetime import timedelta
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import httpx
from celery import Celery, Task, shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from sqlalchemy import desc, func, select

from proj import services, statsd
from proj.models import Dependency, Order, Release
from proj.util import log_exception

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=3)
def thin(self, order_id):
    """A call into a service with the task's arguments, and retry handling."""
    try:
        services.charge(order_id)
    except TimeoutError as exc:
        raise self.retry(exc=exc)


# -- plumbing that a size rule mistook for logic: none of these is reported ----------------------


@shared_task(bind=True, max_retries=5)
def send_smtp(self, to, subject, body):
    """SMTP transport: a MIME message filled item by item, an SMTP session, TLS and login switches."""
    message = MIMEMultipart("alternative")
    message["Subject"] = subject
    message["From"] = settings.MAIL_FROM
    message["To"] = to
    message["Reply-To"] = settings.MAIL_REPLY_TO
    message.attach(MIMEText(body, "html"))
    server = smtplib.SMTP(settings.SMTP_HOST, settings.SMTP_PORT, timeout=10)
    try:
        if settings.SMTP_TLS:
            server.starttls()
        if settings.SMTP_USER:
            server.login(settings.SMTP_USER, settings.SMTP_PASSWORD)
        server.sendmail(settings.MAIL_FROM, [to], message.as_string())
    except smtplib.SMTPException as exc:
        raise self.retry(exc=exc, countdown=60 * 2 ** self.request.retries)
    finally:
        server.quit()


@shared_task(bind=True, max_retries=8)
def post_webhook(self, hook_id, payload):
    """An HTTP client, its headers and the response's status codes."""
    hook = services.webhook(hook_id)
    client = httpx.Client(timeout=10)
    response = client.post(hook.url, json=payload, headers={
        "X-Signature": services.sign(hook.secret, payload),
        "Content-Type": "application/json",
        "User-Agent": "proj-webhooks",
    })
    if response.status_code >= 500:
        raise self.retry(countdown=30 * (self.request.retries + 1))
    if response.status_code != 200:
        logger.warning("hook %s answered %s", hook_id, response.status_code)
        services.disable_webhook(hook)
    else:
        services.mark_delivered(hook, response.elapsed.total_seconds())


@shared_task
def reindex_all(ids, batch_size=500):
    """Batching over ids and re-queueing the rest."""
    ids = list(ids)
    head, rest = ids[:batch_size * 10], ids[batch_size * 10:]
    for start in range(0, len(head), batch_size):
        chunk = head[start:start + batch_size]
        reindex_batch.delay(chunk)
    if rest:
        reindex_all.apply_async((rest,), countdown=5 + len(rest) // batch_size)


@shared_task
def reindex_batch(ids):
    services.reindex(ids)


@shared_task(bind=True)
def rebuild_search(self):
    """A lock, a guard, and progress logs every hundred items."""
    with cache.lock("rebuild-search", timeout=600) as acquired:
        if not acquired:
            logger.info("another worker is rebuilding")
            return
        done = 0
        for pk in services.pending_ids():
            services.rebuild(pk)
            done += 1
            if done % 100 == 0:
                logger.info("rebuilt %s documents", done)
        logger.info("rebuilt %d documents in total", done)


@shared_task
def report_queue_sizes():
    """Metrics gauges and a timer."""
    start = time.monotonic()
    for name in services.queue_names():
        size = services.queue_length(name)
        statsd.gauge(f"queue.{name}.size", size)
        statsd.gauge(f"queue.{name}.full", size * 100 / services.queue_capacity(name))
    statsd.timing("queue.report", (time.monotonic() - start) * 1000)


@shared_task
def mail_owners(project_id):
    """A loop that mails each owner with a context (one record built)."""
    project = services.project(project_id)
    for owner in project.owners.all():
        context = {"user": owner, "project": project, "url": services.url_of(project)}
        services.send_template(owner.email, "project-ready", context)


@shared_task
def refresh_account(account_id):
    """``except Exception as e: log_exception(e)``, as a project puts on every task."""
    try:
        services.refresh(account_id)
    except Exception as e:
        log_exception(e)


@shared_task
def nightly(account_id):
    """Function-local imports and a long sequence of helper calls without a branch."""
    from proj import audit
    from proj.billing import invoices, periods
    from proj.search import index

    periods.close(account_id)
    invoices.issue(account_id)
    invoices.mail(account_id)
    index.refresh(account_id)
    index.compact(account_id)
    services.recount(account_id)
    services.expire_sessions(account_id)
    services.notify(account_id)
    audit.record(account_id, "nightly")
    logger.info("nightly done for %s", account_id)


@shared_task
def build_export(export_id, *, notify=True, compress=False):
    """The task's own job record (status, error, timestamps), joined text, option flags and a settings
    row that choose what to call, a request body for an HTTP API."""
    export = services.export(export_id)
    export.status = services.ExportStatus.PROCESSING
    export.started_at = timezone.now()
    export.save(update_fields=["status", "started_at"])
    config = services.ExportSettings.objects.get()
    try:
        path = services.write_archive(export)
        if compress and config.allow_compression:
            services.compress(path)
    except OSError as exc:
        export.status = services.ExportStatus.FAILED
        export.last_error = {"type": type(exc).__name__, "text": str(exc), "path": str(export.path)}
        export.save(update_fields=["status", "last_error"])
        raise
    export.status = services.ExportStatus.READY
    export.finished_at = timezone.now()
    export.save(update_fields=["status", "finished_at"])
    names = ", ".join(str(d.id) for d in export.documents.all())
    text = f"Export {export.name} is ready.\n"
    for owner in export.owners:
        text += f"Owner: {owner.email}\n"
    if notify and settings.EXPORT_NOTIFY:
        httpx.post(settings.CHAT_HOOK, json={"text": text, "channel": "exports", "ids": names})
        logger.info("exported %s", names)


# -- business logic: reported ------------------------------------------------------------------


@shared_task
def rank_authors(min_posts):  # CB301
    """Raw SQL text: three statements (weight 3 each)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM author_rank")
        cursor.execute(
            """
            INSERT INTO author_rank (author_id, score)
            SELECT p.author_id, SUM(p.votes) * 2 + COUNT(c.id)
            FROM posts p LEFT JOIN comments c ON c.post_id = p.id
            GROUP BY p.author_id HAVING COUNT(p.id) >= %s
            """,
            [min_posts],
        )
        cursor.execute("UPDATE author_rank SET tier = 'gold' WHERE score > 1000")


@shared_task
def rank_dependents(db):  # CB301
    """A query built in SQLAlchemy: window, CTE, join, grouping."""
    latest = (
        select(Release.id, func.row_number().over(partition_by=Release.project_id).label("rn"))
        .where(Release.yanked.is_(False))
        .cte("latest")
    )
    counts = (
        select(Dependency.name, func.count().label("n"))
        .select_from(latest)
        .join(Dependency, Dependency.release_id == latest.c.id)
        .where(latest.c.rn == 1)
        .group_by(Dependency.name)
    )
    rows = db.execute(counts.order_by(desc("n")).limit(100)).fetchall()
    services.store_ranking(rows)


@shared_task
def expire_orders():  # CB301
    """An order-expiry policy: a cut-off, a filtered query, fields updated, vouchers released."""
    now = timezone.now()
    cutoff = now - timedelta(minutes=settings.ORDER_TTL_MINUTES)
    stale = Order.objects.filter(status="unconfirmed", created_at__lte=cutoff).exclude(payments__isnull=False)
    ids = list(stale.values_list("pk", flat=True)[:500])
    Order.objects.filter(pk__in=ids).update(status="expired", expired_at=now)
    for order in Order.objects.filter(pk__in=ids).select_related("voucher"):
        if order.voucher is not None:
            order.voucher.used -= 1
            order.voucher.save(update_fields=["used"])
    services.release_stock(ids)
    services.send_expired_events(ids)
    if len(ids) == 500:
        expire_orders.delay()


@shared_task
def notify_followers(issue_id, actor_id):  # CB301
    """4 branches on the data, 2 records built, a filtered query (the guard that skips the actor is
    plumbing)."""
    issue = services.issue(issue_id)
    for follower in issue.followers.filter(muted=False):
        if follower.id == actor_id:
            continue
        if issue.priority == "urgent" or follower.role == "owner":
            channel = "email"
        elif follower.prefers_digest:
            channel = "digest"
        else:
            channel = "inbox"
        title = issue.title if len(issue.title) < 80 else issue.title[:77] + "..."
        services.notify(follower, channel, {"issue": issue.id, "title": title, "by": actor_id})
        services.audit({"issue": issue.id, "follower": follower.id, "channel": channel})
        if follower.last_seen < issue.updated_at:
            services.mark_unread(follower, issue)


# -- where a task is found (the same body each time) -------------------------------------------


class Reprice(Task):
    def run(self, rows):  # CB301
        for row in rows:
            if row.kind == "bulk" and row.total > 10:
                row.price = row.total * 2
                row.tax = row.price * 0.2
                row.label = "big" if row.total > 100 else "small"


def helper(rows):  # not a task: not read
    for row in rows:
        if row.kind == "bulk" and row.total > 10:
            row.price = row.total * 2
            row.tax = row.price * 0.2
            row.label = "big" if row.total > 100 else "small"


class TestInline:
    def test_inline(self):
        from proj.worker import app

        @app.task(name="inline")
        def inline(rows):  # CB301
            for row in rows:
                if row.kind == "bulk" and row.total > 10:
                    row.price = row.total * 2
                    row.tax = row.price * 0.2
                    row.label = "big" if row.total > 100 else "small"

        inline.delay([1])


def make_app():
    local_app = Celery("local")

    @local_app.task
    def reprice(rows):  # CB301
        for row in rows:
            if row.kind == "bulk" and row.total > 10:
                row.price = row.total * 2
                row.tax = row.price * 0.2
                row.label = "big" if row.total > 100 else "small"

    return local_app


def register(app):
    @app.task  # a parameter: an unknown object, not known to be a Celery app
    def reprice(rows):
        for row in rows:
            if row.kind == "bulk" and row.total > 10:
                row.price = row.total * 2
                row.tax = row.price * 0.2
                row.label = "big" if row.total > 100 else "small"


# A task factory defined in this module: a class whose ``__call__`` applies shared_task to what it
# wraps. Functions it decorates are tasks.


class retrying:  # noqa: N801
    def __init__(self, **options):
        self.options = options

    def __call__(self, f):
        def inner(*args, **kwargs):
            return f(*args, **kwargs)

        return shared_task(**self.options)(inner)


@retrying(name="made", max_retries=3)
def factory_made(rows):  # CB301
    for row in rows:
        if row.kind == "bulk" and row.total > 10:
            row.price = row.total * 2
            row.tax = row.price * 0.2
            row.label = "big" if row.total > 100 else "small"
