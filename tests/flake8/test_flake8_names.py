"""Name resolution: what a decorator or call refers to, whatever the spelling."""

from __future__ import annotations

import ast

import pytest

from celery_boundary.analysis.index import build_index


def tasks_of(source: str, decorators: frozenset[str] = frozenset()) -> set[str]:
    return set(build_index(ast.parse(source), decorators).tasks)


@pytest.mark.parametrize(
    "source",
    [
        "from celery import shared_task\n@shared_task\ndef t(): pass",
        "from celery import shared_task as st\n@st(bind=True)\ndef t(self): pass",
        "import celery\n@celery.shared_task\ndef t(): pass",
        "from celery import Celery\napp = Celery('x')\n@app.task\ndef t(): pass",
        "import celery\nworker = celery.Celery('x')\n@worker.task(name='n')\ndef t(): pass",
        "from proj.celery import app\n@app.task\ndef t(): pass",
        "from celery.task import task\n@task\ndef t(): pass",
        "from celery.decorators import periodic_task\n@periodic_task(run_every=5)\ndef t(): pass",
        "from flask import Flask\ncelery = make_celery(Flask('x'))\n@celery.task\ndef t(): pass",
        "from celery import shared_task\ndef impl(): pass\nt = shared_task(impl)",
        "from celery import Task\nclass t(Task):\n    def run(self): pass",
        "from celery import Celery\napp = Celery()\ntask = app.task\n@task(bind=True)\ndef t(self): pass",
        "from celery import shared_task\njob = shared_task\n@job\ndef t(): pass",
        "from celery import current_app\n@current_app.task\ndef t(): pass",
        "from proj.base import BaseTask\nclass t(BaseTask):\n    def run(self): pass",
        "from .. import celeryconf\n@celeryconf.app.task\ndef t(): pass",  # saleor app/tasks.py:23
        "import proj.worker\n@proj.worker.celery_app.task(bind=True)\ndef t(self): pass",
    ],
)
def test_task_definitions_are_found(source: str) -> None:
    assert tasks_of(source) == {"t"}


@pytest.mark.parametrize(
    "source",
    [
        "from invoke import task\n@task\ndef t(c): pass",
        "import invoke\n@invoke.task\ndef t(c): pass",
        "from airflow.decorators import task\n@task\ndef t(): pass",
        "from huey import RedisHuey\nhuey = RedisHuey()\n@huey.task()\ndef t(): pass",
        "import asyncio\nclass t(asyncio.Task): pass",
        "from celery import shared_task\n@shared_task\ndef t(): pass\nt = 3",  # rebound: unknown
        "def task(f): return f\n@task\ndef t(): pass",
        "from proj.queue import huey\n@huey.task()\ndef t(): pass",
        "from proj import jobs\n@jobs.registry.task\ndef t(): pass",  # an attribute not named like an app
        "import invoke\n@invoke.collection.task\ndef t(c): pass",
    ],
)
def test_non_celery_tasks_are_not_tasks(source: str) -> None:
    assert tasks_of(source) == set()


def test_user_decorators_from_config_make_tasks() -> None:
    source = "from proj.jobs import job\n@job(queue='q')\ndef t(): pass"
    assert tasks_of(source) == set()
    assert tasks_of(source, frozenset({"proj.jobs.job"})) == {"t"}


def test_function_locals_shadow_module_names() -> None:
    source = (
        "from celery import shared_task\n"
        "@shared_task\ndef t(): pass\n"
        "def f(t):\n    t.delay()\n"
        "def g():\n    t.delay()\n"
    )
    index = build_index(ast.parse(source))
    refs = sorted(index.task_refs, key=lambda site: site.node.lineno)  # type: ignore[attr-defined]
    resolved = [index.task_of(site.node, site) for site in refs]  # type: ignore[arg-type]
    assert [r.name if r else None for r in resolved] == [None, "t"]
