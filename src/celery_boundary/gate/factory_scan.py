"""Task factories across the project, for ``check``: a module-level decorator defined in one module
(treeherder's ``treeherder.workers.task.retryable_task``) makes tasks in every module that imports it.
flake8 sees one module at a time and finds only a module's own factories (``analysis.factories``);
``check`` scans the files it checks first and adds what it finds to ``task_decorators``; likewise the
project's schedule wrappers (CB401, ``analysis.factories.schedule_wrappers``) to ``periodic_wrappers``."""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from celery_boundary.analysis.factories import module_factories, schedule_wrappers
from celery_boundary.analysis.symbols import collect_names
from celery_boundary.core import records
from celery_boundary.core.config import Config
from celery_boundary.analysis.task_names import module_name

#: A factory applies a task decorator by hand: its text holds one of these.
_HINTS = ("shared_task(", ".task(")
#: A schedule wrapper passes ``**options`` on to one of these.
_SCHEDULE_HINTS = ("add_periodic_task(", "PeriodicTask")


def with_project_factories(
        files: Sequence[Path], config: Config,
        find: Callable[[Path, Callable[[str], tuple[list[str], list[str]]]], tuple[list[str], list[str]]] | None = None,
) -> Config:
    """``config`` with the dotted names of the project's task factories added to ``task_decorators``
    and its schedule wrappers to ``periodic_wrappers``. ``find(path, scan)``: the factories and
    schedule wrappers of one file, ``scan`` applied to its text (the warm cache)."""
    hints = (*_HINTS, *(name.rsplit(".", 1)[-1] + "(" for name in config.task_decorators))
    found: list[str] = []
    wrappers: list[str] = []
    for path in files:
        factories, schedulers = _factories_in(path, hints, config) if find is None else find(
            path, partial(_factories_in_text, hints=hints, config=config))
        found += [f"{module_name(path)}.{name}" for name in factories]
        wrappers += [name if name.startswith(".") else f"{module_name(path)}.{name}" for name in schedulers]
    new = [name for name in found if name not in config.task_decorators]
    more = [name for name in dict.fromkeys(wrappers) if name not in config.periodic_wrappers]
    if not new and not more:
        return config
    return records.replace(config, task_decorators=(*config.task_decorators, *sorted(new)),
                           periodic_wrappers=(*config.periodic_wrappers, *sorted(more)))


def _factories_in(path: Path, hints: tuple[str, ...], config: Config) -> tuple[list[str], list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return [], []
    return _factories_in_text(text, hints, config)


def _factories_in_text(text: str, hints: tuple[str, ...], config: Config) -> tuple[list[str], list[str]]:
    """The task factories and the schedule wrappers the module's text defines."""
    factories = any(hint in text for hint in hints)
    schedulers = any(hint in text for hint in _SCHEDULE_HINTS)
    if not factories and not schedulers:
        return [], []
    try:
        tree = _parse(text)
        if tree is None:
            return [], []
        names = collect_names(tree, frozenset(config.task_decorators))
        return (module_factories(tree, names) if factories else [],
                schedule_wrappers(tree, names) if schedulers else [])
    except RecursionError:
        return [], []  # the rules report the file; the scan only looks for factories


def _parse(text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError):
        from celery_boundary.gate.newer_syntax import parse_newer  # libcst: imported only when needed

        return parse_newer(text)[0]
