"""Django, configured minimally for the truth tests: one app (truthapp), in-memory sqlite, two rows.

The in-memory database is sqlite's shared-cache form, so the in-process worker's thread (which opens
its own connection) sees the rows the test thread writes (tests/truth/test_django_models.py).
"""

from __future__ import annotations

import django
from django.conf import settings


def configure() -> None:
    """Idempotent: the truth conftest and the verdict-table doc test both call it."""
    if not settings.configured:
        settings.configure(
            INSTALLED_APPS=["truthapp"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "file:truthdb?mode=memory&cache=shared"}},
            USE_I18N=True,
            DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        )
        django.setup()
    _create_tables()


def _create_tables() -> None:
    from django.db import connection

    from truthapp.models import Article

    if Article._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(Article)
        Article.objects.bulk_create([Article(pk=1, title="one"), Article(pk=2, title="two")])
