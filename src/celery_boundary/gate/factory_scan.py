"""Task factories across the project, for ``check``: a module-level decorator defined in one module
(treeherder's ``treeherder.workers.task.retryable_task``) makes tasks in every module that imports it.
flake8 sees one module at a time and finds only a module's own factories (``analysis.factories``);
``check`` scans the files it checks first and adds what it finds to ``task_decorators``."""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from celery_boundary.analysis.factories import module_factories
from celery_boundary.analysis.symbols import collect_names
from celery_boundary.core import records
from celery_boundary.core.config import Config
from celery_boundary.analysis.task_names import module_name

#: A factory applies a task decorator by hand: its text holds one of these.
_HINTS = ("shared_task(", ".task(")


def with_project_factories(files: Sequence[Path], config: Config,
                           find: Callable[[Path, Callable[[str], list[str]]], list[str]] | None = None) -> Config:
    """``config`` with the dotted names of the project's task factories added to ``task_decorators``.
    ``find(path, scan)``: the factories of one file, ``scan`` applied to its text (the warm cache)."""
    hints = (*_HINTS, *(name.rsplit(".", 1)[-1] + "(" for name in config.task_decorators))
    found: list[str] = []
    for path in files:
        names = _factories_in(path, hints, config) if find is None else find(
            path, partial(_factories_in_text, hints=hints, config=config))
        found += [f"{module_name(path)}.{name}" for name in names]
    new = [name for name in found if name not in config.task_decorators]
    if not new:
        return config
    return records.replace(config, task_decorators=(*config.task_decorators, *sorted(new)))


def _factories_in(path: Path, hints: tuple[str, ...], config: Config) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return _factories_in_text(text, hints, config)


def _factories_in_text(text: str, hints: tuple[str, ...], config: Config) -> list[str]:
    if not any(hint in text for hint in hints):
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
        return module_factories(tree, collect_names(tree, frozenset(config.task_decorators)))
    except (SyntaxError, ValueError, RecursionError):
        return []  # the rules report the file; the scan only looks for factories
