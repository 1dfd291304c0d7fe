"""Each file's part of the launch graph (``analysis.graph``), read and parsed once for ``graph`` and
for ``check --format html``'s picture."""

from __future__ import annotations

import ast
import importlib.util
import warnings
from pathlib import Path
from typing import Final

from celery_boundary.analysis.graph import ModuleGraph, module_graph
from celery_boundary.analysis.index import build_index
from celery_boundary.analysis.task_names import module_name
from celery_boundary.gate.files import display, read_source

#: Words without which a module can hold no task, launch, canvas, schedule or route.
_HINTS: Final = ("task", "delay", "apply_async", "chain", "chord", "group", "schedule", "Celery", "signature")


def module_graphs(files: list[Path], decorators: frozenset[str] = frozenset()) -> list[ModuleGraph]:
    """Each module's tasks, launches, canvases, beat entries, routes and apps (``analysis.graph``)."""
    hints = (*_HINTS, *(decorator.rsplit(".", 1)[-1] for decorator in decorators))  # ``@retrying``
    found = []
    for path in files:
        try:
            text = importlib.util.decode_source(read_source(path))
        except (OSError, UnicodeDecodeError, SyntaxError):
            continue  # ``check`` reports it (CB001)
        if not any(hint in text for hint in hints):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(text)
            index = build_index(tree, decorators)
            found.append(module_graph(index, display(path), module_name(path), path.name == "__init__.py"))
        except Exception:  # never a traceback for one odd file (check reports what it cannot read)
            continue
    return found
