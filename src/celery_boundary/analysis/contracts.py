"""The contract of each task a module defines, for ``celery-boundary contracts export``: its registered
name (``analysis.task_names``), its parameters as a message binds them, its result, and the options
that decide how and where its messages travel (``serializer=``, ``pydantic=``, ``queue=``). Also the
module's literal ``task_serializer`` and ``task_default_queue`` settings and ``task_routes``
(``analysis.graph_settings``), which the project pass applies to tasks of other modules.

The document format is docs/contracts.md; ``gate.contracts`` combines the modules into it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Final

from celery_boundary.analysis.graph_settings import routes_of, setting_expressions, text_of
from celery_boundary.analysis.index import DefNode, ModuleIndex, TaskDef
from celery_boundary.analysis.symbols import Names
from celery_boundary.analysis.task_names import registered_name

#: ``inspect.Parameter`` kinds, as the document spells them.
POSITIONAL_ONLY: Final = "positional_only"
POSITIONAL_OR_KEYWORD: Final = "positional_or_keyword"
VAR_POSITIONAL: Final = "var_positional"
KEYWORD_ONLY: Final = "keyword_only"
VAR_KEYWORD: Final = "var_keyword"

#: The names under which Celery 5.7 reads the two settings (new; Django-namespaced and old).
SERIALIZER_SETTINGS: Final = frozenset({"task_serializer", "CELERY_TASK_SERIALIZER"})
DEFAULT_QUEUE_SETTINGS: Final = frozenset({"task_default_queue", "CELERY_TASK_DEFAULT_QUEUE",
                                           "CELERY_DEFAULT_QUEUE"})


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str
    required: bool
    #: The default as written (``"EUR"``, ``None``), or None when there is none.
    default: str | None
    annotation: ast.expr | None


@dataclass(frozen=True)
class TaskContract:
    binding: str
    dotted: str
    #: The registered name, or None when it is computed at run time.
    name: str | None
    #: The name is Celery's ``module.function`` (no ``name=``): moving the module changes it.
    implicit_name: bool
    line: int
    #: None: no function whose signature is known (``app.task(imported_function)``, a class without ``run``).
    parameters: tuple[Parameter, ...] | None
    returns: ast.expr | None
    #: ``serializer=`` of the decorator or class: the literal, or the expression as written.
    serializer: str | None
    serializer_literal: bool
    pydantic: bool
    #: ``queue=`` of the decorator or class: the literal, or the expression as written.
    queue: str | None
    queue_literal: bool
    names: Names


@dataclass(frozen=True)
class ModuleContracts:
    module: str
    tasks: tuple[TaskContract, ...]
    #: Literal ``task_routes``: (name or glob, queue) in the order Celery tries them.
    routes: tuple[tuple[str, str], ...]
    #: Literal values of ``task_serializer`` (any spelling) set in the module.
    serializers: tuple[str, ...]
    #: Literal values of ``task_default_queue`` (any spelling) set in the module.
    default_queues: tuple[str, ...] = ()


def module_contracts(index: ModuleIndex, module: str) -> ModuleContracts:
    registered = _registered_classes(index)
    tasks = tuple(_contract(index, task, module) for task in index.tasks.values()
                  if not task.is_class or _is_registered_class(task, registered))
    return ModuleContracts(module, tasks, routes_of(index), setting_values(index, SERIALIZER_SETTINGS),
                           setting_values(index, DEFAULT_QUEUE_SETTINGS))


def _registered_classes(index: ModuleIndex) -> frozenset[str]:
    """Classes the module registers: ``app.register_task(Sync())`` / ``app.register_task(Sync)``."""
    found = set()
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        if isinstance(call.func, ast.Attribute) and call.func.attr == "register_task" and call.args:
            first = call.args[0]
            first = first.func if isinstance(first, ast.Call) else first
            if isinstance(first, ast.Name):
                found.add(first.id)
    return frozenset(found)


def _is_registered_class(task: TaskDef, registered: frozenset[str]) -> bool:
    """A ``Task`` subclass is a task of the registry only once registered (celery 5 registers no class
    by itself): registered in this module, or a class with ``run`` and a literal ``name`` (registered
    elsewhere). A base class (``task_cls``, ``base=``) is neither."""
    if task.name in registered:
        return True
    return task.function is not None and text_of(task.options.get("name")) is not None


def _contract(index: ModuleIndex, task: TaskDef, module: str) -> TaskContract:
    name = registered_name(index, task, module)
    given = task.options.get("name")
    implicit = given is None or (text_of(given) == "")
    function = task.function
    skip_first = task.is_class or _is_true(task.options.get("bind"))
    parameters = parameters_of(function, skip_first) if function is not None else None
    serializer, serializer_literal = _option(index, task.options.get("serializer"))
    queue, queue_literal = _option(index, task.options.get("queue"))
    return TaskContract(
        task.name, f"{module}.{task.name}", name, implicit,
        getattr(task.node, "lineno", 1), parameters, function.returns if function is not None else None,
        serializer, serializer_literal, _is_true(task.options.get("pydantic")), queue, queue_literal, index.names)


def parameters_of(function: DefNode, skip_first: bool) -> tuple[Parameter, ...]:
    """The parameters a message binds, in order (``self`` of a bound task or a class's ``run`` left out)."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    found: list[Parameter] = []
    for i, (arg, default) in enumerate(zip(positional, defaults)):
        kind = POSITIONAL_ONLY if i < len(args.posonlyargs) else POSITIONAL_OR_KEYWORD
        found.append(Parameter(arg.arg, kind, default is None, _text(default), arg.annotation))
    if skip_first and found:
        found.pop(0)
    if args.vararg is not None:
        found.append(Parameter(args.vararg.arg, VAR_POSITIONAL, False, None, args.vararg.annotation))
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults):
        found.append(Parameter(arg.arg, KEYWORD_ONLY, kw_default is None, _text(kw_default), arg.annotation))
    if args.kwarg is not None:
        found.append(Parameter(args.kwarg.arg, VAR_KEYWORD, False, None, args.kwarg.annotation))
    return tuple(found)


def setting_values(index: ModuleIndex, settings: frozenset[str]) -> tuple[str, ...]:
    """Literal values of a setting: assignments (``task_serializer = "json"``,
    ``app.conf.task_serializer = ...``, ``conf["task_serializer"] = ...``), keywords
    (``Celery(..., task_serializer=)``, ``conf.update(task_serializer=)``) and dict entries."""
    found: list[str] = []
    for value in setting_expressions(index, settings, module_level=True):
        found.extend(_strings(index, value))
    return tuple(found)


def _strings(index: ModuleIndex, expr: ast.expr) -> list[str]:
    value = text_of(expr)
    if value is None and isinstance(expr, ast.Name):
        value = index.names.strings.get(expr.id)
    return [value] if value is not None else []


def _option(index: ModuleIndex, expr: ast.expr | None) -> tuple[str | None, bool]:
    if expr is None:
        return None, False
    literal = _strings(index, expr)
    return (literal[0], True) if literal else (ast.unparse(expr), False)


def _is_true(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is True


def _text(expr: ast.expr | None) -> str | None:
    return None if expr is None else ast.unparse(expr)
