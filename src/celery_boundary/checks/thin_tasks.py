"""CB301 business logic inside a task body: a task should unpack its arguments, call a service
function and handle retries. The body is measured (statements, branches, loops, nesting depth);
any measure above its threshold (``max_task_*`` in the config, ``--cb-max-task-*``) is reported.

Retry and failure reporting belong to the task and are not counted: an ``except`` clause that calls
``.retry(...)``, or only logs / returns / raises, is skipped, and a ``try`` whose handlers are all
such adds no depth. A ``with`` (transaction, lock, tracing span) adds no depth. A leading docstring
and ``pass`` are not statements. (docs/validation.md, F3: these two causes held 5 of the 8 false
positives on nine real projects; not counting log calls removed as many true positives as false.)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from celery_boundary.analysis.index import ModuleIndex, TaskDef, body_of
from celery_boundary.core.findings import Finding
from celery_boundary.checks.common import RuleSettings, report

CODE: Final = "CB301"
#: The codes this group reports.
CODES: Final = (CODE,)

_NESTING = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)


@dataclass
class Measure:
    statements: int = 0
    branches: int = 0
    loops: int = 0
    depth: int = 0
    #: Log calls and logger set-ups seen; only the first counts as a statement.
    logging: int = 0


@dataclass
class _Tally(Measure):
    #: The parameter holding the task instance (``self`` of a bound task or of ``run``), if any.
    instance: str | None = None


def measure_body(body: list[ast.stmt], instance: str | None = None) -> Measure:
    """Measure a task body; ``instance`` names the parameter bound to the task (``bind=True``)."""
    found = _Tally(instance=instance)
    _measure(body, 0, found)
    return Measure(found.statements, found.branches, found.loops, found.depth, found.logging)


_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})
#: ``logging.getLogger`` / celery's ``get_task_logger`` / ``task.get_logger()``: a logger set-up.
_LOGGER_FACTORIES = frozenset({"getLogger", "get_logger", "get_task_logger"})


def _is_logging(stmt: ast.stmt) -> bool:
    """``logger.info(...)`` / ``log.debug(...)`` / ``logging.warning(...)``, or a logger set-up
    (``log = task_log.bind(pk=pk)``, ``logger = get_task_logger(__name__)``): reporting, not logic."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        value = stmt.value
        if not isinstance(value, ast.Call):
            return False
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in _LOGGER_FACTORIES:
            return True
        return name == "bind" and isinstance(func, ast.Attribute) and _names_a_logger(func.value)
    if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
        return False
    func = stmt.value.func
    return isinstance(func, ast.Attribute) and func.attr in _LOG_METHODS and _names_a_logger(func.value)


def _names_a_logger(expr: ast.expr) -> bool:
    owner = expr.attr if isinstance(expr, ast.Attribute) else getattr(expr, "id", "")
    return isinstance(owner, str) and "log" in owner.lower()


def _measure(body: list[ast.stmt], depth: int, found: _Tally) -> None:
    for stmt in body:
        if isinstance(stmt, ast.Pass):
            continue
        if _is_logging(stmt):
            # Reporting is one thing a task does, however many lines it spends on it: the first log
            # call counts, the rest do not (docs/validation.md F3: readthedocs, kuma, saleor).
            found.logging += 1
            if found.logging > 1:
                continue
        if isinstance(stmt, ast.If) and _hands_off_retry(stmt, found.instance):
            continue  # ``if status >= 500: handle_retry(self, ...)``: retry handling, like except-retry
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.statements += 1  # a helper defined inside the task is logic too
            _measure(stmt.body, depth + 1, found)
            found.depth = max(found.depth, depth + 1)
            continue
        found.statements += 1
        if isinstance(stmt, ast.If):
            _measure_if(stmt, depth, found)
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            found.loops += 1
            _nest(stmt.body, depth, found)
            if stmt.orelse:
                _nest(stmt.orelse, depth, found)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            # A transaction, a lock or a tracing span around the body is not a level of logic.
            _measure(stmt.body, depth, found)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            _measure_try(stmt, depth, found)
        elif type(stmt).__name__ == "Match":
            cases = getattr(stmt, "cases", [])
            found.branches += len(cases)
            for case in cases:
                _nest(case.body, depth, found)


def _nest(body: list[ast.stmt], depth: int, found: _Tally) -> None:
    found.depth = max(found.depth, depth + 1)
    _measure(body, depth + 1, found)


def _measure_if(stmt: ast.If, depth: int, found: _Tally) -> None:
    found.branches += 1
    _nest(stmt.body, depth, found)
    orelse = stmt.orelse
    # ``elif`` is an If inside orelse: count it as a branch at the same depth, not as nesting.
    while len(orelse) == 1 and isinstance(orelse[0], ast.If):
        found.statements += 1
        found.branches += 1
        _nest(orelse[0].body, depth, found)
        orelse = orelse[0].orelse
    if orelse:
        _nest(orelse, depth, found)


def _measure_try(stmt: ast.AST, depth: int, found: _Tally) -> None:
    handlers: list[ast.ExceptHandler] = list(getattr(stmt, "handlers", []))
    logic = [h for h in handlers if not _retries(h) and not _reports_only(h)]
    body: list[ast.stmt] = list(getattr(stmt, "body", []))
    if not logic and not getattr(stmt, "orelse", None) and not getattr(stmt, "finalbody", None):
        found.statements -= 1  # try/except-retry is the task's own plumbing
        _measure(body, depth, found)
        return
    _nest(body, depth, found)
    for handler in logic:
        found.branches += 1
        _nest(handler.body, depth, found)
    for extra in (getattr(stmt, "orelse", []), getattr(stmt, "finalbody", [])):
        if extra:
            _nest(list(extra), depth, found)


def _hands_off_retry(stmt: ast.If, instance: str | None) -> bool:
    """An ``if`` without ``else`` that retries (``self.retry(...)``) or hands the task instance to a
    helper (``handle_webhook_retry(self, ...)``, saleor) in a few plain statements."""
    if stmt.orelse or any(isinstance(s, _NESTING) for s in stmt.body):
        return False
    for node in ast.walk(ast.Module(body=stmt.body, type_ignores=[])):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr == "retry":
            return True
        if instance is not None and any(isinstance(a, ast.Name) and a.id == instance for a in node.args):
            return True
    return False


def _reports_only(handler: ast.ExceptHandler) -> bool:
    """``except X: logger.exception(...); return`` - reporting a failure, not deciding anything."""
    return all(isinstance(s, (ast.Pass, ast.Return, ast.Raise)) or _is_logging(s) for s in handler.body)


def _retries(handler: ast.ExceptHandler) -> bool:
    for node in ast.walk(handler):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "retry":
            return True
    return False


def measure_task(task: TaskDef) -> Measure:
    """The task's body measured as CB301 measures it (the census in scripts/validate.py too)."""
    return measure_body(body_of(task), instance_of(task))


def instance_of(task: TaskDef) -> str | None:
    """The parameter bound to the task instance: ``run``'s first, or a ``bind=True`` task's first."""
    function = task.function
    if function is None or not function.args.args and not function.args.posonlyargs:
        return None
    bind = task.options.get("bind")
    if task.is_class or isinstance(bind, ast.Constant) and bind.value is True:
        return (function.args.posonlyargs + function.args.args)[0].arg
    return None


def check(index: ModuleIndex, settings: RuleSettings) -> Iterator[Finding]:
    for task in index.every_task:
        if task.function is None:
            continue
        found = measure_task(task)
        over = []
        if found.statements > settings.max_task_statements:
            over.append(f"{found.statements} statements > {settings.max_task_statements}")
        if found.branches > settings.max_task_branches:
            over.append(f"{found.branches} branches > {settings.max_task_branches}")
        if found.loops > settings.max_task_loops:
            over.append(f"{found.loops} loops > {settings.max_task_loops}")
        if found.depth > settings.max_task_depth:
            over.append(f"nesting depth {found.depth} > {settings.max_task_depth}")
        if over:
            where = task.function if task.is_class else task.node
            yield report(where, CODE, (
                f"task {task.name!r} holds business logic ({', '.join(over)}): a task should unpack "
                "its arguments, call a service function and handle retries; move the body into a "
                "plain function and call it from the task, so it can be tested and reused without "
                "a worker"))
