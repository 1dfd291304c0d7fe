"""Shapes cut down from real Celery projects (docs/validation.md names the file and commit of each).

The passing tests pin what the tools get right on real code (promises and dicts with a ``.get()``
inside tasks, ``itertools.chain``, legacy ``celery.task``, and fixed false positives). The strict
xfail tests are mistakes measured on real code, kept here so the owner can fix them at the root
and flip them; each reason names the project, the pattern and the cause.
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
from celery_boundary.checks import RuleSettings, check_source


def codes(source: str, settings: RuleSettings | None = None) -> list[str]:
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
    zero = RuleSettings(max_task_logic=-1)  # below any body: every task is reported
    assert codes(LEGACY_TASK, zero) == ["CB301"]


# saleor 723cd4e saleor/settings.py:707 (beat entry) + saleor/product/tasks.py:350 (the task).
# Found by this validation as a CB401 false positive; fixed in check's project pass (d5d4117). Beat
# (celery 5.7 beat.py Scheduler.apply_async) calls the registered task's apply_async, and send_task
# merges the task's exec options (app/base.py, _get_exec_options), so the entry does expire.
# flake8 sees one module and still reports it (documented in docs/validation.md).
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


def mypy_errors(tmp_path: Path, source: str, plugin: bool) -> list[str]:
    """mypy (this venv's) on one module, cold, with or without the plugin: the error lines."""
    import subprocess
    import sys

    (tmp_path / "m.py").write_text(textwrap.dedent(source))
    ini = tmp_path / ("with.ini" if plugin else "without.ini")
    ini.write_text("[mypy]\n" + ("plugins = celery_boundary.mypy\n" if plugin else ""))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--config-file", str(ini), "--show-error-codes", "m.py"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert "INTERNAL ERROR" not in done.stdout + done.stderr and "celery-internal" not in done.stdout
    return [line for line in done.stdout.splitlines() if ": error:" in line]


# saleor 723cd4e .semgrep/correctness/celery/celery-migration-task-missing-dedicated-queue.py:84
BIND_WITHOUT_SELF = """
    from celery import Celery

    app = Celery("x")


    @app.task(bind=True, queue="q")
    def no_self() -> None:
        pass
"""


def test_plain_mypy_reports_bind_without_self(tmp_path: Path) -> None:
    """The baseline the plugin test below compares with: celery-types 0.26 rejects it (arg-type)."""
    assert any("[arg-type]" in line for line in mypy_errors(tmp_path, BIND_WITHOUT_SELF, plugin=False))


def test_plugin_keeps_the_bind_without_self_error(tmp_path: Path) -> None:
    """Was a strict xfail (saleor): the restored task type hid celery-types' arg-type; now the plugin reports it."""
    found = [line for line in mypy_errors(tmp_path, BIND_WITHOUT_SELF, plugin=True) if "m.py:7" in line or "m.py:8" in line]
    assert len(found) == 1, found
    assert "bind=True" in found[0] and "[arg-type]" in found[0] and "def no_self(self, ...)" in found[0]
