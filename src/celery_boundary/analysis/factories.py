"""Task factories: module-level decorators (functions or classes) whose body turns what they wrap into a
Celery task, e.g. treeherder's ``retryable_task`` (a class whose ``__call__`` returns
``shared_task(*args, **kwargs)(inner)``, docs/validation.md). A function decorated with one is a task.

Static only: the factory's body must apply a task decorator (``shared_task``, ``app.task``, a configured
one) to a value - ``shared_task(**opts)(inner)``, ``app.task(inner)`` - or define a nested def decorated
with one. The module's own factories are found while indexing it (flake8 and ``check``); ``check`` also
collects them over the project, so that a factory imported from another module counts too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from celery_boundary.analysis.symbols import LOCAL, Names, ScopeNode

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def local_factories(tree: ast.Module, names: Names) -> frozenset[str]:
    """Module-level defs and classes that this module uses as decorators and that make tasks: as
    ``<local>.name``, the spelling ``Names.resolve`` gives a module-level binding."""
    defined = {stmt.name: stmt for stmt in tree.body if isinstance(stmt, _DEFS)}
    used = {_root(d) for stmt in tree.body if isinstance(stmt, _DEFS) for d in stmt.decorator_list}
    candidates = [defined[name] for name in used if name in defined]
    return frozenset(f"{LOCAL}.{node.name}" for node in candidates if makes_tasks(node, names))


def module_factories(tree: ast.Module, names: Names) -> list[str]:
    """Every module-level def or class of the module that makes tasks (for the project-wide scan)."""
    return [stmt.name for stmt in tree.body if isinstance(stmt, _DEFS) and makes_tasks(stmt, names)]


def makes_tasks(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, names: Names) -> bool:
    """The body applies a task decorator to a value, or decorates a nested def with one."""
    for inner in _walk_body(node):
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any(names.is_task_decorator(d, _NO_SCOPES) for d in inner.decorator_list):
                return True
        elif isinstance(inner, ast.Call) and inner.args:
            func = inner.func
            # ``shared_task(**opts)(inner)`` or ``app.task(inner)``: a decorator applied by hand.
            if isinstance(func, ast.Call) and names.is_task_decorator(func.func, _NO_SCOPES):
                return True
            if isinstance(func, (ast.Name, ast.Attribute)) and names.is_task_decorator(func, _NO_SCOPES):
                return True
    return False


_NO_SCOPES: tuple[ScopeNode, ...] = ()


def _walk_body(node: ast.AST) -> Iterable[ast.AST]:
    pending: list[ast.AST] = list(getattr(node, "body", []))
    while pending:
        current = pending.pop()
        yield current
        pending.extend(ast.iter_child_nodes(current))


def _root(decorator: ast.expr) -> str:
    expr = decorator.func if isinstance(decorator, ast.Call) else decorator
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else ""


# --- schedule wrappers (CB401) -------------------------------------------------------------------

#: django-celery-beat's manager methods that make a ``PeriodicTask`` row.
_ROW_MAKERS = frozenset({"create", "get_or_create", "update_or_create"})


def schedule_wrappers(tree: ast.Module, names: Names) -> list[str]:
    """The project's own ways of scheduling a periodic task for a caller (CB401 judges the caller's
    expiry): module-level functions whose body calls ``add_periodic_task(...)`` or makes a
    django-celery-beat ``PeriodicTask`` row and passes on the function's own ``**options`` (so the
    caller chooses ``expires``), e.g. pypi/warehouse's ``_add_periodic_task(config, schedule, func,
    **opts)``; and the names such a function is registered under as a Pyramid directive
    (``config.add_directive("schedule_job", _schedule_job)``, then ``config.schedule_job(...)``).
    Functions are listed by name, directives as ``.name`` (a method of any receiver)."""
    found = [stmt.name for stmt in tree.body
             if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and _passes_options_on(stmt, names)]
    directives = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "add_directive" and len(node.args) >= 2:
            label, function = node.args[0], node.args[1]
            if isinstance(label, ast.Constant) and isinstance(label.value, str) and label.value.isidentifier() \
                    and isinstance(function, ast.Name) and function.id in found:
                directives.append(f".{label.value}")
    return found + directives


def _passes_options_on(function: ast.FunctionDef | ast.AsyncFunctionDef, names: Names) -> bool:
    options = function.args.kwarg.arg if function.args.kwarg is not None else None
    if options is None:
        return False
    for inner in _walk_body(function):
        if not (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)):
            continue
        spread = any(kw.arg is None and isinstance(kw.value, ast.Name) and kw.value.id == options
                     for kw in inner.keywords)
        if spread and (inner.func.attr == "add_periodic_task" or _makes_periodic_row(inner.func, names)):
            return True
    return False


def _makes_periodic_row(func: ast.Attribute, names: Names) -> bool:
    """``PeriodicTask.objects.create`` (imported from django_celery_beat.models, or a local of that name)."""
    manager = func.value
    if func.attr not in _ROW_MAKERS or not (isinstance(manager, ast.Attribute) and manager.attr == "objects"):
        return False
    model = manager.value
    resolved = names.resolve(model, _NO_SCOPES)
    return resolved == "django_celery_beat.models.PeriodicTask" or isinstance(model, ast.Name) and \
        model.id == "PeriodicTask"
