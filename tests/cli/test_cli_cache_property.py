"""Warm runs find exactly what cold runs find: files of a small Celery project are edited, added,
removed, renamed and replaced by links (``__init__.py`` too, which renames every module of its
folder) between runs, and after each step ``check`` through the cache and ``check --no-cache`` give
the same report, over the whole tree and over one file (what pre-commit runs)."""

from __future__ import annotations

import io
import os
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings, strategies as st

from celery_boundary.cli import main
from celery_boundary.gate import cache

CONTENTS = (
    # two public tasks
    "from celery import shared_task\n\n@shared_task\ndef fetch(x: int) -> list[int]:\n    return [x]\n\n"
    "@shared_task\ndef total(counts: list[int]) -> int:\n    return sum(counts)\n",
    # total only as a receiving link (CB202 on its definition), a chain in a task (CB203)
    "from celery import chain, shared_task\nfrom shop.jobs import fetch, total\n\n"
    "@shared_task\ndef start() -> None:\n    chain(fetch.s(1), total.s()).delay()\n",
    # total launched on its own, through a relative import
    "from .jobs import total\n\ndef again() -> None:\n    total.delay([1])\n",
    # a literal task name, one letter off (CB205)
    "from celery import current_app\n\ncurrent_app.send_task('shop.jobs.totl')\n",
    # pickle (CB101) and a beat entry with an expiry (CB401 depends on the project's scheduler)
    "task_serializer = 'pickle'\nbeat_schedule = {'f': {'task': 'shop.jobs.fetch', 'schedule': 10, "
    "'options': {'expires': 5}}}\n",
    "beat_scheduler = 'django_celery_beat.schedulers:DatabaseScheduler'\n",
    "def helper() -> int:\n    return 1\n",
    "def broken(:\n",
    "# flake8: noqa\nfrom shop.jobs import total\n\ndef later() -> None:\n    total.delay([2])\n",
    "",
)
NAMES = ("shop/__init__.py", "shop/jobs.py", "shop/flows.py", "shop/more.py", "shop/conf.py", "other.py")

writes = st.tuples(st.just("write"), st.sampled_from(NAMES), st.integers(0, len(CONTENTS) - 1))
removals = st.tuples(st.just("remove"), st.sampled_from(NAMES), st.just(0))
renames = st.tuples(st.just("rename"), st.sampled_from(NAMES), st.integers(0, len(NAMES) - 1))
links = st.tuples(st.just("link"), st.sampled_from(NAMES), st.integers(0, len(NAMES) - 1))
steps = st.lists(st.one_of(writes, writes, removals, renames, links), min_size=1, max_size=5)


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        status = main(["check", "-q", "--format", "json", *argv])
    return status, out.getvalue()


#: With ``settled``, each write gets an mtime of its own, a second after the last (``stamp``): the cache
#: then trusts every file's stat (RACY_NS 0), and the last run is remembered whole (gate/run_memo.py).
CLOCK = [1_000_000_000 * 10**9]


def stamp(path: Path) -> None:
    CLOCK[0] += 10**9
    os.utime(path, ns=(CLOCK[0], CLOCK[0]))


def apply(root: Path, step: tuple[str, str, int], settled: bool = False) -> None:
    kind, name, number = step
    path = root / name
    if kind == "write":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CONTENTS[number], encoding="utf-8")
        if settled:
            stamp(path)
    elif kind == "remove" and path.exists():
        path.unlink()
    elif kind == "rename" and path.exists() and NAMES[number] != name:
        target = root / NAMES[number]
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    elif kind == "link" and NAMES[number] != name:  # the file becomes a link to another (or to nothing)
        if path.exists() or path.is_symlink():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(os.path.relpath(root / NAMES[number], path.parent))


def assert_warm_is_cold(one: str) -> None:
    assert run() == run("--no-cache")
    if Path(one).exists():
        assert run(one) == run("--no-cache", one)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, one=st.sampled_from(NAMES))
def test_warm_runs_report_what_cold_runs_report(steps: list[tuple[str, str, int]], one: str) -> None:
    """Files just written: the cache hashes them (their stat is not trusted yet)."""
    edit_and_compare(steps, one, settled=False)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, one=st.sampled_from(NAMES))
def test_settled_warm_runs_report_what_cold_runs_report(steps: list[tuple[str, str, int]], one: str) -> None:
    """Files whose stat is trusted: the stat fast path and the remembered last run."""
    with mock.patch.object(cache, "RACY_NS", 0):
        edit_and_compare(steps, one, settled=True)


def edit_and_compare(steps: list[tuple[str, str, int]], one: str, settled: bool) -> None:
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / ".git").mkdir()
        for name, number in zip(NAMES, (9, 0, 1, 2, 4, 3)):
            apply(root, ("write", name, number), settled)
        os.chdir(root)
        try:
            run()  # cold: fills the cache
            assert_warm_is_cold(one)  # and the same commands again: the remembered runs
            for step in steps:
                apply(root, step, settled)
                assert_warm_is_cold(one)
        finally:
            os.chdir(here)
