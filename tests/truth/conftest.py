"""Truth tests: Django configured minimally (one app, in-memory sqlite) before cases are imported."""

from __future__ import annotations

import django
import pytest
from django.conf import settings

if not settings.configured:
    settings.configure(
        INSTALLED_APPS=["truthapp"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        USE_I18N=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


def _create_tables() -> None:
    from django.db import connection

    from truthapp.models import Article

    if Article._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(Article)
        Article.objects.bulk_create([Article(pk=1, title="one"), Article(pk=2, title="two")])


_create_tables()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many real values each verdict row pushed through the runtime."""
    from truth_check import TRIED

    if not TRIED:
        return
    terminalreporter.section("truth: values tried per row")
    for row, count in sorted(TRIED.items()):
        terminalreporter.write_line(f"{count:5d}  {row}")
    terminalreporter.write_line(f"{sum(TRIED.values()):5d}  total")
