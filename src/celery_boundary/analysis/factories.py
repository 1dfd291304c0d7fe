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
