"""What a module configures that the launch graph (``analysis.graph``) draws: its literal
``task_routes`` and the apps it creates; and the small readers of literals both modules share."""

from __future__ import annotations

import ast
from typing import Final

from celery_boundary.analysis.index import ModuleIndex
from celery_boundary.analysis.symbols import APP_CLASS

_ROUTE_SETTINGS: Final = frozenset({"task_routes", "CELERY_TASK_ROUTES", "CELERY_ROUTES"})


def members_of(expr: ast.expr | None) -> list[ast.expr]:
    """The members of a header or callback list: ``[a, b]``, ``(a for ...)``, or one expression."""
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return [e for e in expr.elts if not isinstance(e, ast.Starred)]
    if isinstance(expr, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
        return [expr.elt]
    return [expr] if expr is not None else []


def keyword_of(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def text_of(expr: ast.expr | None) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return None


def fields_of(entry: ast.expr) -> dict[str, ast.expr]:
    if isinstance(entry, ast.Dict):
        return {k.value: v for k, v in zip(entry.keys, entry.values)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    if isinstance(entry, ast.Call):
        return {k.arg: k.value for k in entry.keywords if k.arg}
    return {}


def routes_of(index: ModuleIndex) -> tuple[tuple[str, str], ...]:
    """Literal ``task_routes`` (a setting, a keyword of ``Celery(...)`` / ``conf.update(...)``, a key of
    a dict passed to ``conf.update``): each name or glob with the queue it routes to. Celery's
    ``MapRoute`` takes a dict of options (``{"queue": "q"}``) or a queue name as the value."""
    values = setting_expressions(index, _ROUTE_SETTINGS)
    found: list[tuple[str, str]] = []
    for value in values:
        for table in members_of(value) if isinstance(value, (ast.List, ast.Tuple)) else [value]:
            if not isinstance(table, ast.Dict):
                continue
            for key, route in zip(table.keys, table.values):
                pattern = text_of(key)
                queue = text_of(route) if text_of(route) is not None else text_of(fields_of(route).get("queue"))
                if pattern is not None and queue is not None:
                    found.append((pattern, queue))
    return tuple(found)


def setting_expressions(index: ModuleIndex, names: frozenset[str] | set[str],
                        module_level: bool = False) -> list[ast.expr]:
    """The expressions a module gives the settings ``names``: assignments (``task_routes = ...``,
    ``app.conf.task_routes = ...``, ``conf["task_routes"] = ...``; only at module level when
    ``module_level``), keywords (``Celery(..., task_routes=)``, ``conf.update(task_routes=)``) and
    dict entries (a dict passed to ``conf.update``)."""
    values: list[ast.expr] = []
    for site in index.assigns:
        node = site.node
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and not (
                module_level and site.scopes):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_target_name(t) in names for t in targets):
                values.append(node.value)
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        values.extend(k.value for k in call.keywords if k.arg in names)
    for site in index.dicts:
        node = site.node
        assert isinstance(node, ast.Dict)
        values.extend(v for k, v in zip(node.keys, node.values) if k is not None and text_of(k) in names)
    return values


def _target_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        return text_of(target.slice)
    return None


def apps_of(index: ModuleIndex, module: str) -> tuple[tuple[str, str], ...]:
    """Module-level ``name = Celery("main", ...)``: the app object's path and its ``main``."""
    found: list[tuple[str, str]] = []
    for stmt in index.tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            if index.names.resolve(call.func) == APP_CLASS:
                main = text_of(call.args[0] if call.args else keyword_of(call, "main")) or ""
                found.extend((f"{module}.{t.id}", main) for t in stmt.targets if isinstance(t, ast.Name))
    return tuple(found)
