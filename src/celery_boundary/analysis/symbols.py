"""What a name in one module refers to: imports followed, aliases resolved, local shadows respected.

``from celery import shared_task as st`` and ``import celery; @celery.shared_task`` both resolve to
``celery.shared_task``; ``from invoke import task`` resolves to ``invoke.task`` and is no Celery task.
A function's own variables (parameters, assignments, loop targets, ...) shadow module-level names,
so a local ``_send = make_sender()`` is not the task ``_send``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Final, Union

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
Comprehension = Union[ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp]
#: A node that opens a scope whose own names shadow module-level names.
ScopeNode = Union[FunctionNode, Comprehension]

#: Public import paths -> the one spelling the rules match (celery 5.7 re-exports, legacy names).
_CANONICAL: Final[dict[str, str]] = {
    "celery.app.shared_task": "celery.shared_task",
    "celery.app.base.Celery": "celery.Celery",
    "celery.app.Celery": "celery.Celery",
    "celery.app.task.Task": "celery.Task",
    "celery.app.Task": "celery.Task",
    "celery.task.Task": "celery.Task",
    "celery.task.base.Task": "celery.Task",
    # celery < 5 spelled the decorator celery.task / celery.decorators.task (removed in 5.0).
    "celery.task.task": "celery.task",
    "celery.decorators.task": "celery.task",
    "celery.task.periodic_task": "celery.periodic_task",
    "celery.decorators.periodic_task": "celery.periodic_task",
    "celery.task.base.periodic_task": "celery.periodic_task",
    "celery.canvas.chain": "celery.chain",
    "celery.canvas.group": "celery.group",
    "celery.canvas.chord": "celery.chord",
    "celery.canvas.chunks": "celery.chunks",
    "celery.canvas.xmap": "celery.xmap",
    "celery.canvas.xstarmap": "celery.xstarmap",
    "celery.canvas.signature": "celery.signature",
    "celery.canvas.subtask": "celery.signature",
    "celery.subtask": "celery.signature",
    "celery.canvas.Signature": "celery.Signature",
    "celery.AsyncResult": "celery.result.AsyncResult",
    "celery.GroupResult": "celery.result.GroupResult",
    "celery.ResultSet": "celery.result.ResultSet",
    "kombu.serialization.registry.register": "kombu.serialization.register",
    "kombu.serialization.SerializerRegistry.register": "kombu.serialization.register",
}

APP_CLASS: Final = "celery.Celery"
TASK_CLASS: Final = "celery.Task"
#: Decorators that make a Celery task from a function (``<app>.task`` is handled separately).
TASK_DECORATORS: Final = frozenset({"celery.shared_task", "celery.task", "celery.periodic_task"})
CANVAS_CALLS: Final = frozenset({"celery.chain", "celery.group", "celery.chord", "celery.chunks"})
SIGNATURE_CALLS: Final = frozenset({"celery.signature", "celery.Signature"})
RESULT_CLASSES: Final = frozenset(
    {"celery.result.AsyncResult", "celery.result.GroupResult", "celery.result.ResultSet"}
)
#: Packages whose ``task`` decorators are not Celery's (invoke, fabric, airflow, prefect, ...).
FOREIGN_TASK_PACKAGES: Final = frozenset(
    {"invoke", "fabric", "fabric2", "airflow", "prefect", "luigi", "dramatiq", "huey", "rq",
     "dagster", "taskiq", "arq", "nox", "doit", "paver", "django_q", "procrastinate", "asyncio"}
)
#: Markers for what a module-level name holds when it is not an import.
APP: Final = "<app>"
LOCAL: Final = "<local>"


def canonical(dotted: str) -> str:
    """The one spelling of a public import path (``celery.canvas.chain`` -> ``celery.chain``)."""
    return _CANONICAL.get(dotted, dotted)


def dotted_name(expr: ast.expr) -> str | None:
    """``a.b.c`` as written (no resolution), or None for anything but names and attributes."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return ".".join(reversed(parts))


def last_name(expr: ast.expr) -> str | None:
    """The final component of a name or attribute (``x.y.z`` -> ``z``)."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


@dataclass
class Names:
    """The module-level symbol table of one module."""

    #: local name -> canonical dotted import path (relative imports keep their dots).
    imports: dict[str, str] = field(default_factory=dict)
    #: module-level names bound to ``Celery(...)`` (or ``celery.current_app``).
    apps: set[str] = field(default_factory=set)
    #: module-level names bound more than once by different kinds of statement.
    rebound: set[str] = field(default_factory=set)
    #: every module-level binding (defs, classes, assignments, imports).
    bound: set[str] = field(default_factory=set)
    #: module-level names assigned one string constant (``SERIALIZER = "pickle"``).
    strings: dict[str, str] = field(default_factory=dict)
    #: dotted names of user decorators that create tasks (``task_decorators`` in the config).
    user_decorators: frozenset[str] = frozenset()
    _locals: dict[int, frozenset[str]] = field(default_factory=dict)

    def resolve(self, expr: ast.expr, scopes: tuple[ScopeNode, ...] = ()) -> str | None:
        """What ``expr`` (a name or attribute) refers to, or None when it is local or unknown.

        Results: a canonical import path (``celery.chain``), ``<app>`` / ``<app>.task`` for a
        Celery instance, ``<local>.name`` for another module-level binding.
        """
        if isinstance(expr, ast.Attribute):
            base = self.resolve(expr.value, scopes)
            return None if base is None else canonical(f"{base}.{expr.attr}")
        if not isinstance(expr, ast.Name):
            return None
        name = expr.id
        if any(name in self.locals_of(scope) for scope in scopes):
            return None
        if name in self.apps:
            return APP
        if name in self.imports:
            return self.imports[name]
        if name in self.bound:
            return f"{LOCAL}.{name}"
        return None

    def locals_of(self, scope: ScopeNode) -> frozenset[str]:
        """Names a function (or comprehension) binds itself: they shadow module-level names."""
        key = id(scope)
        found = self._locals.get(key)
        if found is None:
            if isinstance(scope, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                found = frozenset(n for gen in scope.generators for n in _target_names(gen.target))
            else:
                found = frozenset(collect_locals(scope))
            self._locals[key] = found
        return found

    def is_app(self, resolved: str | None) -> bool:
        return resolved == APP or resolved == "celery.current_app"

    def is_task_decorator(self, expr: ast.expr, scopes: tuple[ScopeNode, ...] = ()) -> bool:
        """``@shared_task``, ``@app.task``, ``@celery.task`` (legacy), user decorators; with or
        without a call. Not invoke's / airflow's ``@task``."""
        if isinstance(expr, ast.Call):
            expr = expr.func
        resolved = self.resolve(expr, scopes)
        if resolved is None:
            return False
        if resolved in TASK_DECORATORS or resolved in self.user_decorators:
            return True
        if resolved in (f"{APP}.task", "celery.current_app.task"):
            return True
        if not resolved.endswith(".task") or not isinstance(expr, ast.Attribute):
            return False
        base = resolved[: -len(".task")]
        if self.is_app(base):
            return True
        # ``from proj.celery import app`` then ``@app.task``: an imported object with a ``task``
        # attribute is taken for a Celery app unless it comes from a known non-Celery package.
        root = base.lstrip(".").split(".")[0]
        if base.startswith(LOCAL) or root in FOREIGN_TASK_PACKAGES or base == "celery":
            return False
        if isinstance(expr.value, ast.Name):
            return "huey" not in expr.value.id.lower()  # ``from proj.queue import huey``
        # ``from .. import celeryconf`` then ``@celeryconf.app.task`` (saleor): an app reached through an
        # imported module, when the attribute is named like one.
        holder = expr.value
        return isinstance(holder, ast.Attribute) and ("app" in holder.attr.lower() or "celery" in holder.attr.lower())


def collect_names(tree: ast.Module, user_decorators: frozenset[str] = frozenset()) -> Names:
    """Build the module-level symbol table (imports anywhere at module level, incl. try/if)."""
    names = Names(user_decorators=user_decorators)
    _collect_into(names, {}, tree.body)
    return names


def scope_names(function: ast.FunctionDef | ast.AsyncFunctionDef, outer: Names) -> Names:
    """The names seen inside ``function``: ``outer``'s, then its parameters (unknown objects) and its
    own imports and assignments on top (``from proj.worker import app`` inside a test, then
    ``@app.task``). Only for deciding what a nested decorator is; the rules keep the module's table."""
    names = Names(imports=dict(outer.imports), apps=set(outer.apps), bound=set(outer.bound),
                  strings=dict(outer.strings), user_decorators=outer.user_decorators)
    kinds: dict[str, str] = {}
    args = function.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if arg is not None:
            _bind(names, kinds, arg.arg, "param", None)
    _collect_into(names, kinds, function.body)
    return names


def _collect_into(names: Names, kinds: dict[str, str], body: list[ast.stmt]) -> None:
    for stmt in _module_statements(body):
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    _bind(names, kinds, alias.asname, "import", canonical(alias.name))
                else:  # ``import a.b`` binds ``a``
                    top = alias.name.split(".")[0]
                    _bind(names, kinds, top, "import", top)
        elif isinstance(stmt, ast.ImportFrom):
            module = "." * stmt.level + (stmt.module or "")
            for alias in stmt.names:
                if alias.name == "*":
                    continue
                target = f"{module}.{alias.name}" if module and not module.endswith(".") else module + alias.name
                _bind(names, kinds, alias.asname or alias.name, "import", canonical(target))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _bind(names, kinds, stmt.name, "def", None)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            _record_assignment(names, kinds, stmt)
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.AugAssign)):
            for target in _store_names(stmt):
                _bind(names, kinds, target, "assign", None)


def _record_assignment(names: Names, kinds: dict[str, str], stmt: ast.Assign | ast.AnnAssign) -> None:
    value = stmt.value
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    is_app = False
    if isinstance(value, ast.Call):
        resolved = names.resolve(value.func)
        called = last_name(value.func) or ""
        # ``Celery(...)``, and factories such as Flask's ``celery = make_celery(app)``.
        is_app = resolved == APP_CLASS or "celery" in called.lower() and called != "Celery" or (
            resolved is not None and resolved.endswith(".Celery") and not resolved.startswith(LOCAL))
    alias: str | None = None
    if isinstance(value, (ast.Name, ast.Attribute)):
        alias = names.resolve(value)
        is_app = alias == "celery.current_app" or alias == APP
        if is_app or alias is None or alias.startswith(LOCAL):
            alias = None  # ``task = shared_task`` / ``task = app.task`` keep what they name
    for target in targets:
        if alias is not None and isinstance(target, ast.Name):
            _bind(names, kinds, target.id, "alias", alias)
            continue
        for name in _target_names(target):
            _bind(names, kinds, name, "app" if is_app else "assign", None)
            if is_app:
                names.apps.add(name)
            elif isinstance(value, ast.Constant) and isinstance(value.value, str) and isinstance(target, ast.Name):
                names.strings[name] = value.value


def _bind(names: Names, kinds: dict[str, str], name: str, kind: str, dotted: str | None) -> None:
    previous = kinds.get(name)
    if previous is not None and previous != kind:
        names.rebound.add(name)
    kinds[name] = kind
    names.bound.add(name)
    if dotted is not None:
        names.imports[name] = dotted
    elif kind != "import":
        names.imports.pop(name, None)
    if kind != "app":
        names.apps.discard(name)


def _module_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Module-level statements, looking inside if / try / with blocks but not into defs."""
    found: list[ast.stmt] = []
    for stmt in body:
        found.append(stmt)
        if isinstance(stmt, ast.If):
            found.extend(_module_statements(stmt.body + stmt.orelse))
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            inner = list(getattr(stmt, "body", [])) + list(getattr(stmt, "orelse", []))
            inner += list(getattr(stmt, "finalbody", []))
            for handler in getattr(stmt, "handlers", []):
                inner.extend(handler.body)
            found.extend(_module_statements(inner))
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            found.extend(_module_statements(stmt.body))
    return found


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for item in target.elts for name in _target_names(item)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _store_names(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return _target_names(stmt.target)
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [n for item in stmt.items if item.optional_vars is not None
                for n in _target_names(item.optional_vars)]
    if isinstance(stmt, ast.AugAssign):
        return _target_names(stmt.target)
    return []


def collect_locals(function: FunctionNode) -> set[str]:
    """Parameters and every name the function body stores (not inside nested scopes), minus
    ``global`` / ``nonlocal`` declarations."""
    args = function.args
    found = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    for extra in (args.vararg, args.kwarg):
        if extra is not None:
            found.add(extra.arg)
    declared: set[str] = set()
    body: list[ast.AST] = [function.body] if isinstance(function, ast.Lambda) else list(function.body)
    stack = body
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
            stack.extend(node.decorator_list)
            continue
        elif isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.add(node.name)
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
        stack.extend(ast.iter_child_nodes(node))
    return found - declared
