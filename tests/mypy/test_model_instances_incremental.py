"""celery-model-instance and register_models survive mypy's cache: cold run, edited call site, warm
run. The model and the dataclass around it come from the cache in the warm run; the registration is
read from the app module's source at start-up (an edited registration invalidating the cache is
tests/mypy/test_incremental.py's).

A two-line ``django`` package stands in for django-stubs, whose analysis would make each cold run
take tens of seconds: the plugin knows a model by ``django.db.models.base.Model`` in its MRO."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

APP = """\
from celery import Celery
from celery_boundary.runtime import register_models

app = Celery("proj")
register_models()
"""

MODELS = """\
from dataclasses import dataclass

from django.db import models


class Article(models.Model):
    pass


@dataclass
class Envelope:
    article: Article
"""

TASKS = """\
from proj.app import app
from proj.models import Article, Envelope


@app.task(serializer="pickle")
def reindex(envelope: Envelope) -> None: ...


@app.task
def publish(article: Article) -> None: ...
"""

CALLS = """\
from proj.models import Article, Envelope
from proj.tasks import publish, reindex

reindex.delay(Envelope(Article()))
publish.delay(Article())
"""


def run_mypy(root: Path) -> list[str]:
    args = ["--cache-dir", str(root / ".mypy_cache"), "--config-file", str(root / "mypy.ini"), "calls.py", "proj"]
    stdout, _, _ = api.run(args)
    return [line for line in stdout.splitlines() if ": error:" in line]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "proj").mkdir()
    for name, text in (("__init__", ""), ("app", APP), ("models", MODELS), ("tasks", TASKS)):
        (tmp_path / "proj" / f"{name}.py").write_text(text)
    (tmp_path / "django" / "db" / "models").mkdir(parents=True)
    (tmp_path / "django" / "__init__.pyi").write_text("")
    (tmp_path / "django" / "db" / "__init__.pyi").write_text("")
    (tmp_path / "django" / "db" / "models" / "__init__.pyi").write_text("from .base import Model as Model\n")
    (tmp_path / "django" / "db" / "models" / "base.pyi").write_text("class Model:\n    pk: int\n")
    (tmp_path / "calls.py").write_text(CALLS)
    (tmp_path / "mypy.ini").write_text("[mypy]\nplugins = celery_boundary.mypy\n\n[celery_boundary]\napp = proj.app\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cold_edit_warm_give_identical_diagnostics(project: Path) -> None:
    """Only the pickled envelope is reported: register_models() lets the json call through."""
    cold = run_mypy(project)
    assert len(cold) == 1 and cold[0].startswith("calls.py:4: error:"), cold
    assert "Article at .article: pickle copies" in cold[0] and cold[0].endswith("[celery-model-instance]")
    (project / "calls.py").write_text(CALLS + "\n# edited\n")
    assert run_mypy(project) == cold
