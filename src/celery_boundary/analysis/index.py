"""One walk over a module: the task definitions and every node the rules look at, each with the
scopes around it and the task body it sits in. Pure data; the rule checks (``celery_boundary.checks``)
and the analysis of task uses (``analysis.uses``) read it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Union

from celery_boundary.analysis.factories import local_factories
from celery_boundary.analysis.symbols import (
    APP,
    FOREIGN_TASK_PACKAGES,
    LOCAL,
    TASK_CLASS,
    Names,
    ScopeNode,
    collect_names,
    scope_names,
)

DefNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True, eq=False)
class TaskDef:
    """A Celery task this module defines."""

    #: The module-level name the task is bound to.
    name: str
    #: Where findings about the task are reported (the ``def``, class or assignment).
    node: ast.AST
    #: The function whose body runs on the worker (None for a class without ``run``).
    function: DefNode | None
    #: Keyword options given to the decorator (``serializer=``, ``expires=``, ``name=``, ...).
    options: dict[str, ast.expr] = field(default_factory=dict)
    is_class: bool = False

    @property
    def private(self) -> bool:
        """The ``_name`` / ``__name`` convention for chain-only tasks."""
        return self.name.startswith("_")

    @property
    def task_name(self) -> str | None:
        given = self.options.get("name")
        if isinstance(given, ast.Constant) and isinstance(given.value, str):
            return given.value
        return None


@dataclass(frozen=True, eq=False)
class Site:
    """A node with its context: enclosing scopes (innermost last) and the task body around it."""

    node: ast.AST
    scopes: tuple[ScopeNode, ...]
    task: TaskDef | None


@dataclass(eq=False)
class ModuleIndex:
    tree: ast.Module
    names: Names
    #: The module-level tasks, by the name they are bound to.
    tasks: dict[str, TaskDef]
    #: Tasks defined inside a function or class (a test's ``@app.task``): measured and checked in
    #: their bodies, but not importable, so not in ``tasks`` (whose names other modules can use).
    nested: list[TaskDef] = field(default_factory=list)
    #: Classes derived from celery's Task (directly, through ``app.Task`` or a local base).
    task_classes: set[str] = field(default_factory=set)
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)
    calls: list[Site] = field(default_factory=list)
    assigns: list[Site] = field(default_factory=list)
    dicts: list[Site] = field(default_factory=list)
    classes: list[Site] = field(default_factory=list)
    pipes: list[Site] = field(default_factory=list)
    #: Subscripts (``app.tasks["pkg.mod.name"]``).
    subscripts: list[Site] = field(default_factory=list)
    #: Loads of names that are module-level tasks.
    task_refs: list[Site] = field(default_factory=list)
    #: Every string constant (task names given as strings: beat entries, send_task).
    strings: set[str] = field(default_factory=set)
    #: The module imports ``celery`` (or a ``celery.`` module) somewhere, a function's body included.
    imports_celery: bool = False
    #: Analyses of this index computed once and read by several rules (``analysis.uses``).
    memo: dict[str, object] = field(default_factory=dict)

    @property
    def every_task(self) -> list[TaskDef]:
        """Module-level and nested tasks."""
        return [*self.tasks.values(), *self.nested]

    def resolve(self, expr: ast.expr, site: Site) -> str | None:
        return self.names.resolve(expr, site.scopes)

    def task_of(self, expr: ast.expr, site: Site) -> TaskDef | None:
        """The module's task that ``expr`` names, unless a local variable shadows it."""
        if isinstance(expr, ast.Name) and expr.id in self.tasks:
            if self.names.resolve(expr, site.scopes) == f"{LOCAL}.{expr.id}":
                return self.tasks[expr.id]
        return None

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(node)


def build_index(tree: ast.Module, user_decorators: frozenset[str] = frozenset()) -> ModuleIndex:
    names = collect_names(tree, user_decorators)
    factories = local_factories(tree, names)
    if factories:  # ``@retryable_task(...)`` defined in this module and wrapping shared_task
        names.user_decorators = names.user_decorators | factories
    index = ModuleIndex(tree=tree, names=names, tasks={})
    _collect_tasks(index)
    _collect_nested(index)
    _walk(index)
    return index


def _collect_tasks(index: ModuleIndex) -> None:
    names = index.names
    for stmt in index.tree.body:
        if isinstance(stmt, ast.ClassDef):
            if _is_task_class(index, stmt):
                index.task_classes.add(stmt.name)
                run = next((s for s in stmt.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                            and s.name == "run"), None)
                index.tasks[stmt.name] = TaskDef(stmt.name, stmt, run, _class_options(stmt), is_class=True)
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in stmt.decorator_list:
                if names.is_task_decorator(decorator):
                    options = _keywords(decorator)
                    index.tasks[stmt.name] = TaskDef(stmt.name, stmt, stmt, options)
                    break
        elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            # ``send = app.task(send_impl)`` / ``send = shared_task(**opts)(send_impl)``
            call = stmt.value
            if names.is_task_decorator(call.func) and call.args:
                function = _module_function(index.tree, call.args[0])
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        index.tasks[target.id] = TaskDef(target.id, stmt, function, _keywords(call))
    for name in names.rebound:
        index.tasks.pop(name, None)


def _collect_nested(index: ModuleIndex) -> None:
    """Decorated defs inside functions and classes (readthedocs defines a task inside a test method,
    with ``from proj.worker import app`` in the method). Names are resolved as seen from inside: the
    function's own imports and assignments, its parameters as unknown objects."""
    stack: list[tuple[ast.stmt, Names]] = [
        (stmt, index.names) for stmt in index.tree.body
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    while stack:
        scope, names = stack.pop()
        inner = _defs_inside(scope)
        if not inner:
            continue
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(node.decorator_list for node in inner):
            names = scope_names(scope, names)
        for node in inner:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                decorator = next((d for d in node.decorator_list if names.is_task_decorator(d)), None)
                if decorator is not None:
                    index.nested.append(TaskDef(node.name, node, node, _keywords(decorator)))
            stack.append((node, names))


_Def = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef]


def _defs_inside(scope: ast.stmt) -> list[_Def]:
    """The defs and classes directly in a def's or class's body (inside if / for / try / with too)."""
    found: list[_Def] = []
    pending: list[ast.AST] = list(getattr(scope, "body", []))
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append(node)
        elif isinstance(node, ast.stmt):
            for name in ("body", "orelse", "finalbody", "handlers", "cases"):
                pending.extend(getattr(node, name, ()))
        elif isinstance(node, (ast.ExceptHandler, ast.match_case)):
            pending.extend(node.body)
    return found


def _is_task_class(index: ModuleIndex, node: ast.ClassDef) -> bool:
    for base in node.bases:
        resolved = index.names.resolve(base)
        if resolved is None:
            continue
        if resolved == TASK_CLASS or resolved == f"{APP}.Task" or resolved.endswith(".Task") and (
            resolved.split(".")[0] in ("celery", APP)
        ):
            return True
        if resolved.startswith(LOCAL):
            if resolved[len(LOCAL) + 1:] in index.task_classes:
                return True
            continue
        # An imported custom base (``from proj.tasks import BaseTask``): trust the naming.
        root = resolved.lstrip(".").split(".")[0]
        if resolved.endswith("Task") and root not in FOREIGN_TASK_PACKAGES:
            return True
    return False


def _class_options(node: ast.ClassDef) -> dict[str, ast.expr]:
    options: dict[str, ast.expr] = {}
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            options[stmt.targets[0].id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            options[stmt.target.id] = stmt.value
    return options


def _keywords(decorator: ast.expr) -> dict[str, ast.expr]:
    if not isinstance(decorator, ast.Call):
        return {}
    return {kw.arg: kw.value for kw in decorator.keywords if kw.arg is not None}


def _module_function(tree: ast.Module, expr: ast.expr) -> DefNode | None:
    if not isinstance(expr, ast.Name):
        return None
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == expr.id:
            return stmt
    return None


#: Leaf singletons (Load, Store, Add, Eq, ...) carry nothing: not indexed, not descended into.
_LEAVES = (ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop)
_CALL, _NAME, _CONST, _ASSIGN, _DICT, _BINOP, _CLASS, _SCOPE, _SUBSCRIPT, _IMPORT = range(10)
_KINDS: dict[type, int] = {
    ast.Call: _CALL, ast.Name: _NAME, ast.Constant: _CONST, ast.Assign: _ASSIGN, ast.AnnAssign: _ASSIGN,
    ast.AugAssign: _ASSIGN, ast.Dict: _DICT, ast.BinOp: _BINOP, ast.ClassDef: _CLASS, ast.Subscript: _SUBSCRIPT,
    ast.Import: _IMPORT, ast.ImportFrom: _IMPORT,
    **{scope: _SCOPE for scope in _SCOPES},
}


def _children(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes`` without the generator and without the leaf singletons."""
    found: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            if not isinstance(value, _LEAVES):
                found.append(value)
        elif isinstance(value, list):
            found.extend(item for item in value if isinstance(item, ast.AST) and not isinstance(item, _LEAVES))
    return found


def _imports_celery(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "celery" for alias in node.names)
    assert isinstance(node, ast.ImportFrom)
    return node.level == 0 and (node.module or "").split(".")[0] == "celery"


def _walk(index: ModuleIndex) -> None:
    """Iterative (deeply nested expressions exceed the recursion limit) walk filling the index."""
    tasks_by_function = {id(t.function): t for t in index.every_task if t.function is not None}
    task_names = index.tasks
    parents = index.parents
    calls, assigns, dicts, classes = index.calls, index.assigns, index.dicts, index.classes
    pipes, refs, strings = index.pipes, index.task_refs, index.strings
    kinds = _KINDS
    stack: list[tuple[ast.AST, tuple[ScopeNode, ...], TaskDef | None]] = [(index.tree, (), None)]
    while stack:
        node, scopes, task = stack.pop()
        for child in _children(node):
            parents[child] = node
            kind = kinds.get(type(child))
            if kind is None:
                stack.append((child, scopes, task))
            elif kind == _NAME:
                if child.id in task_names and isinstance(child.ctx, ast.Load):  # type: ignore[attr-defined]
                    refs.append(Site(child, scopes, task))
            elif kind == _CONST:
                value = child.value  # type: ignore[attr-defined]
                if isinstance(value, str) and len(value) < 200:
                    strings.add(value)
            elif kind == _IMPORT:
                if not index.imports_celery and _imports_celery(child):
                    index.imports_celery = True
                stack.append((child, scopes, task))
            elif kind == _SCOPE:
                child_task = tasks_by_function.get(id(child)) if task is None else task
                stack.append((child, scopes + (child,), child_task))  # type: ignore[operator]
            else:
                site = Site(child, scopes, task)
                if kind == _CALL:
                    calls.append(site)
                elif kind == _ASSIGN:
                    assigns.append(site)
                elif kind == _DICT:
                    dicts.append(site)
                elif kind == _BINOP:
                    if isinstance(child.op, ast.BitOr):  # type: ignore[attr-defined]
                        pipes.append(site)
                elif kind == _SUBSCRIPT:
                    index.subscripts.append(site)
                else:
                    classes.append(site)
                stack.append((child, scopes, task))


def body_of(task: TaskDef) -> list[ast.stmt]:
    """The task's statements without a leading docstring."""
    if task.function is None:
        return []
    body = task.function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(
        body[0].value.value, str
    ):
        return body[1:]
    return body
