"""CB206 against a real Django project and a real worker (tests/truth/transaction_launch_project.py,
run in its own process: Django's settings there name a file sqlite database as the default alias).

A task launched inside ``transaction.atomic()`` is read by the worker before the commit: the created
row is missing, the updated row has its old title. ``delay_on_commit`` / ``apply_async_on_commit``
send nothing before the commit and the worker reads the committed rows - of the default database:
inside ``atomic(using="archive")`` ``delay_on_commit`` sends at once, ``transaction.on_commit(...,
using="archive")`` waits. ``post_delete`` runs inside
Django's own atomic block, ``post_save`` (a plain ``save()``) inside none: the checker reports a
``post_delete`` receiver from one module and a ``post_save`` receiver (or a ``save()`` override) only
when the project sets ATOMIC_REQUESTS (tests/cli/test_cli_transactions.py). The checker reports exactly
the launches that lost the race (each after a write in its transaction).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from celery_boundary.checks import check_source

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "transaction_launch_project.py"

pytestmark = pytest.mark.worker


def test_the_worker_reads_before_the_commit_unless_sent_on_commit(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    done = subprocess.run([sys.executable, str(PROJECT), str(tmp_path / "news.sqlite3")], capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["created, delay"] is None  # DoesNotExist in the worker
    assert seen["updated, apply_async"] == "old"
    assert seen["on_commit, before the commit"] == 0
    assert seen["created, delay_on_commit"] == "committed"
    assert seen["updated, apply_async_on_commit"] == "newer"
    # delay_on_commit waits for the default database only; on_commit(..., using=) for the one named.
    assert seen["other database, delay_on_commit"] is None
    assert seen["other database, on_commit(using=), before the commit"] == 0
    assert seen["other database, on_commit(using=)"] == "archived"
    assert seen["in_atomic_block"] == {"post_save": False, "post_delete": True}


def test_the_checker_reports_the_launches_that_lost_the_race() -> None:
    source = PROJECT.read_text(encoding="utf-8")
    lines = source.splitlines()
    reported = {lines[f.line - 1].strip() for f in check_source(source) if f.code == "CB206"}
    assert reported == {"read_title.delay(row.pk)", "read_title.apply_async((old.pk,))",
                        "read_archived.delay_on_commit(row.pk)  # on_commit of the default database: at once"}
