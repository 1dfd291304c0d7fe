"""The name each task of a module is registered under in Celery's task registry, computed as Celery
5.7 computes it (``Celery._task_from_fun`` and ``celery.utils.imports.gen_task_name``):

- ``name="..."`` given to the decorator (a literal, or a module constant holding one); an empty name
  counts as none (``name = name or gen_task_name(...)``);
- otherwise ``<module>.<function>``: the function's ``__module__`` (how the module is imported) and
  its ``__name__`` (for ``send = app.task(send_impl)`` that is ``send_impl``, not ``send``);
- a module run as a script is ``__main__``: its tasks are also registered under ``<app main>.<function>``
  when the module creates its app with a literal ``main`` (``Celery("proj")``);
- a task class (``class Sync(Task)``, registered with ``app.register_task(Sync())``): its ``name``
  class attribute, else ``<module>.<class>``.

The module name is what Python imports the file as: the stem under every parent folder that is a
package (has ``__init__.py``), stopping at a folder whose name is not an identifier (``mayan-edms``
cannot be part of an import path, so the project's packages start below it). Namespace packages (a
folder without ``__init__.py`` on the way up) are not followed: which folder is on ``sys.path`` is
not written in the code, and the nearest folder above the last ``__init__.py`` is what a project run
from its root imports. tests/analysis/test_task_names_truth.py compares these names with the keys of
a real ``app.tasks``.

Read by ``analysis.project`` (the project's registered names, CB205) and by ``fix`` (a renamed task
keeps its registered name).
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

from celery_boundary.analysis.index import ModuleIndex, TaskDef
from celery_boundary.analysis.symbols import APP_CLASS


@dataclass(frozen=True)
class TaskName:
    """A task and the name Celery registers it under."""

    #: The module-level name the task is bound to (or the nested def's name).
    binding: str
    #: The registered name; None when the code does not say it literally (``name=settings.X``).
    name: str | None
    line: int
    #: Other names the same task is registered under when the module runs as ``__main__``.
    also: tuple[str, ...] = ()


@functools.lru_cache(maxsize=4096)
def module_name(path: Path) -> str:
    """The dotted name Python imports the file as (see the module docstring)."""
    parts = [] if path.stem == "__init__" else [path.stem]
    try:
        folder = path.resolve().parent
    except (OSError, RuntimeError):  # a link loop (Python 3.11 raises RuntimeError)
        folder = path.absolute().parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier():
        parts.append(folder.name)
        folder = folder.parent
    return ".".join(reversed(parts)) or path.stem


def task_names(index: ModuleIndex, module: str) -> list[TaskName]:
    """Every task the module defines (module-level, nested and classes) with its registered name."""
    main = _script_app_main(index)
    found = []
    for task in index.every_task:
        name = registered_name(index, task, module)
        also: tuple[str, ...] = ()
        if main is not None and name is not None and name.startswith(module + "."):
            also = (f"{main}.{name[len(module) + 1:]}",)
        found.append(TaskName(task.name, name, getattr(task.node, "lineno", 1), also))
    return found


def registered_name(index: ModuleIndex, task: TaskDef, module: str) -> str | None:
    """The name ``task`` is registered under when its module is imported as ``module``."""
    given = task.options.get("name")
    if given is not None:
        explicit = _literal(index, given)
        if explicit is None:
            return None  # a name computed at run time: not known here
        if explicit:
            return explicit
    if task.is_class:
        return f"{module}.{task.name}"
    if task.function is None:
        return None  # ``app.task(imported_function)``: its ``__module__`` is another module's
    return f"{module}.{task.function.name}"


def _literal(index: ModuleIndex, expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Name):
        return index.names.strings.get(expr.id)
    return None


def _script_app_main(index: ModuleIndex) -> str | None:
    """The literal ``main`` of the app this module creates, when the module can run as a script
    (``if __name__ == "__main__":``): its tasks are then registered under that name too."""
    tree = index.tree
    if not any(_is_main_guard(stmt) for stmt in tree.body):
        return None
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            if index.names.resolve(call.func) != APP_CLASS:
                continue
            main = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "main"), None)
            return _literal(index, main) if main is not None else None
    return None


def _is_main_guard(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    sides = [stmt.test.left, *stmt.test.comparators]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
