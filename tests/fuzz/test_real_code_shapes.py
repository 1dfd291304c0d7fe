"""Shapes cut down from real Celery projects (docs/validation.md names the file and commit of each).

The passing tests pin what the rules already get right on real code (promises and dicts with a
``.get()`` inside tasks, ``itertools.chain``, legacy ``celery.task``). The strict xfail tests are
false positives measured on real code, kept here so the owner can fix them at the root and flip
them; each reason names the project, the pattern and the cause.
"""

from __future__ import annotations

import io
import json
import tempfile
import textwrap
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from celery_boundary.cli import main
from celery_boundary.flake8.visitors import Settings, check_source


def codes(source: str, settings: Settings | None = None) -> list[str]:
    return [f.code for f in check_source(textwrap.dedent(source), settings)]


def check_project(files: dict[str, str]) -> list[str]:
    """``celery-boundary check --select CB`` in process over a throw-away project: the codes found."""
    with tempfile.TemporaryDirectory(prefix="cb-shapes-") as directory:
        root = Path(directory)
        (root / ".git").mkdir()
        (root / "pyproject.toml").write_text("[tool.celery_boundary]\n")
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            exit_code = main(["check", "--quiet", "--jobs", "1", "--format", "json", "--select", "CB",
                              "--config", str(root / "pyproject.toml"), str(root)])
    assert exit_code in (0, 1), err.getvalue()
    return sorted(row["code"] for row in json.loads(out.getvalue() or "[]"))


# saleor 723cd4e saleor/account/tasks.py:86 - a promise resolved with .get() inside a task.
PROMISE_GET = """
    from saleor.celeryconf import app

    @app.task()
    def finish_creating_user(user_pk, context_data):
        manager = get_plugin_manager_promise(context_data).get()
        site = get_site_promise(context_data).get()
        return manager, site
"""

# saleor 723cd4e saleor/plugins/avatax/tasks.py:21 - dict .get() on a helper's return value.
DICT_GET = """
    from saleor.celeryconf import app

    @app.task(autoretry_for=(Exception,))
    def api_post_request_task(url, data):
        if not data.get("createTransactionModel", {}).get("lines"):
            return
        response = api_post_request(url, data)
        return response.get("error", {}).get("message", "")
"""

# saleor 723cd4e saleor/discount/utils/promotion.py:695 - itertools.chain is not a canvas.
ITERTOOLS_CHAIN = """
    from itertools import chain
    from saleor.celeryconf import app

    @app.task
    def recalculate(a, b):
        for item in chain(a, b):
            item.save()
"""

# kuma bc03e08 kuma/core/tasks.py:22 - the legacy decorator (Celery < 5) with a decorator below it.
LEGACY_TASK = """
    from celery.task import task

    @task
    @skip_in_maintenance_mode
    def clean_sessions():
        clean_sessions.apply_async()
"""


@pytest.mark.parametrize("source", [PROMISE_GET, DICT_GET, ITERTOOLS_CHAIN], ids=["promise", "dict", "itertools"])
def test_real_get_and_chain_shapes_stay_silent(source: str) -> None:
    assert codes(source) == []


def test_legacy_task_under_a_second_decorator_is_a_task() -> None:
    zero = Settings(max_task_statements=0)
    assert codes(LEGACY_TASK, zero) == ["CB301"]


# saleor 723cd4e saleor/settings.py:707 (beat entry) + saleor/product/tasks.py:350 (the task).
@pytest.mark.xfail(strict=True, reason=(
    "CB401 false positive (saleor): the beat entry names a task by its dotted path, and that task "
    "sets expires= on its decorator in another module; beat (celery 5.7 beat.py Scheduler.apply_async) "
    "calls the registered task's apply_async, and send_task merges the task's exec options "
    "(app/base.py, _get_exec_options), so the entry does expire. check's project pass should "
    "look the task up by module path + function name"))
def test_beat_entry_for_a_task_with_decorator_expires_in_another_module() -> None:
    found = check_project({
        "proj/__init__.py": "",
        "proj/product/__init__.py": "",
        "proj/product/tasks.py": """
            from proj.celeryconf import app

            @app.task(queue="search", expires=60)
            def update_products_search_vector_task():
                return None
        """,
        "proj/settings.py": """
            import datetime

            CELERY_BEAT_SCHEDULE = {
                "update-products-search-vectors": {
                    "task": "proj.product.tasks.update_products_search_vector_task",
                    "schedule": datetime.timedelta(seconds=60),
                },
            }
        """,
    })
    assert "CB401" not in found
