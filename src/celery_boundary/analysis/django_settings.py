"""What a module says about Django's databases and settings module: CB206's project-wide half reads
whether the settings the project runs with set ``ATOMIC_REQUESTS`` on a database (ast only).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Final

from celery_boundary.analysis.index import ModuleIndex
from celery_boundary.analysis.symbols import last_name


@dataclass(frozen=True)
class SettingsFacts:
    """What a module says about Django's databases and settings module."""

    #: The module assigns ``DATABASES`` (it looks like a settings module).
    databases: bool = False
    #: The line where a database sets ``ATOMIC_REQUESTS`` to True (0: none does).
    atomic_requests: int = 0
    #: ``DJANGO_SETTINGS_MODULE`` values the module sets (``os.environ.setdefault(...)``).
    settings_modules: tuple[str, ...] = ()
    #: ``from X import *`` (relative names keep their dots): a settings module built from others.
    star_imports: tuple[str, ...] = ()


_KEY: Final = "ATOMIC_REQUESTS"
_ENV: Final = "DJANGO_SETTINGS_MODULE"


def settings_facts(index: ModuleIndex) -> SettingsFacts:
    databases, atomic = False, 0
    for site in index.assigns:
        node = site.node
        if site.scopes or not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "DATABASES":
                databases = True
                atomic = atomic or _atomic_line(node.value)
            elif _is_databases_key(target) and _true(node.value):  # DATABASES["default"]["ATOMIC_REQUESTS"] = True
                atomic = atomic or node.lineno
    named: list[str] = []
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        if last_name(call.func) == "setdefault" and len(call.args) == 2 and _string(call.args[0]) == _ENV:
            value = _string(call.args[1])
            if value:
                named.append(value)
    for site in index.assigns:
        node = site.node
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) and _string(t.slice) == _ENV
                                                for t in node.targets):
            value = _string(node.value)
            if value:
                named.append(value)
    stars = tuple("." * stmt.level + (stmt.module or "") for stmt in index.tree.body
                  if isinstance(stmt, ast.ImportFrom) and any(alias.name == "*" for alias in stmt.names))
    return SettingsFacts(databases, atomic, tuple(named), stars)


def _atomic_line(value: ast.expr) -> int:
    for node in ast.walk(value):
        if isinstance(node, ast.Dict):
            for key, item in zip(node.keys, node.values):
                if _string(key) == _KEY and _true(item):
                    return key.lineno if key is not None else 0
        elif isinstance(node, ast.Call) and last_name(node.func) == "dict":
            for kw in node.keywords:
                if kw.arg == _KEY and _true(kw.value):
                    return kw.value.lineno
    return 0


def _is_databases_key(target: ast.expr) -> bool:
    if not (isinstance(target, ast.Subscript) and _string(target.slice) == _KEY):
        return False
    inner = target.value
    return isinstance(inner, ast.Subscript) and isinstance(inner.value, ast.Name) and inner.value.id == "DATABASES"


def _true(expr: ast.expr) -> bool:
    """``True``, or an environment look-up whose default is True (``env.bool("X", default=True)``)."""
    if isinstance(expr, ast.Constant):
        return expr.value is True
    if isinstance(expr, ast.Call):
        default = next((kw.value for kw in expr.keywords if kw.arg == "default"), None)
        return isinstance(default, ast.Constant) and default.value is True
    return False


def _string(expr: ast.expr | None) -> str | None:
    return expr.value if isinstance(expr, ast.Constant) and isinstance(expr.value, str) else None
