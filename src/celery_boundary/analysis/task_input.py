"""Whether a task reads the input a canvas hands it (CB202): a receiving link gets the parent's result
as its first positional argument after ``self`` (celery 5.7 ``Signature.apply_async`` prepends it),
an error callback the failed task's request, exception and traceback (or its id). A task whose
parameters for them are ``_``, or are never read in the body (``def finish(self, *_)``), runs the
same with or without that input, so launching it on its own loses nothing."""

from __future__ import annotations

import ast

from celery_boundary.analysis.index import TaskDef

#: Calls that read every local name at once.
_READ_ALL = frozenset({"locals", "vars"})


def ignores_input(task: TaskDef, errback: bool = False) -> bool:
    """The parameters a canvas fills are all ``_`` or never read in the body: for a receiving link the
    first parameter after ``self`` (or ``*args`` when it has none), for an error callback the first
    three (request, exception, traceback; celery 5.7 ``Backend._call_task_errbacks``). False for a
    class task or a task with no such parameter."""
    function = task.function
    if function is None or task.is_class:
        return False
    arguments = function.args
    positional = [argument.arg for argument in (*arguments.posonlyargs, *arguments.args)]
    if _bound(task):
        if not positional:
            return False  # ``def t(*args)`` with bind=True: ``self`` is args[0]; not judged
        positional = positional[1:]
    filled = positional[:3 if errback else 1]
    if len(filled) < (3 if errback else 1) and arguments.vararg is not None:
        filled.append(arguments.vararg.arg)
    return bool(filled) and all(name == "_" or not _reads(function, name) for name in filled)


def _bound(task: TaskDef) -> bool:
    bind = task.options.get("bind")
    return isinstance(bind, ast.Constant) and bind.value is True


def _reads(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    for statement in function.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Store):
                return True
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _READ_ALL:
                return True
    return False
