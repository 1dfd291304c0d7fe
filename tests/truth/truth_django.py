"""Django, configured minimally for the truth tests: one app (truthapp), in-memory sqlite, two rows."""

from __future__ import annotations

import django
from django.conf import settings


def configure() -> None:
    """Idempotent: the truth conftest and the verdict-table doc test both call it."""
    if not settings.configured:
        settings.configure(
            INSTALLED_APPS=["truthapp"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
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
