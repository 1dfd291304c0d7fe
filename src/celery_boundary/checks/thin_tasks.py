"""CB301 business logic inside a task body: a task should unpack its arguments, call a service
function and handle retries. The body is read for what business logic is made of, and only that is
counted (``max_task_logic`` in the config, ``--cb-max-task-logic``):

* decisions on the data: ``if`` / ``elif`` / ``match`` / conditional expressions / comprehension
  filters whose test compares or inspects the task's arguments or values it computed;
* computations: arithmetic on data, aggregation (``sum``, ``Sum``, ``Count``, ``.annotate``, ...);
* records built: dict literals of three or more keys, models and ``.create(...)`` calls given fields;
* query clauses: ``.filter`` / ``.exclude`` / ``.where`` with a lookup that is not a plain identity
  such as ``pk=pk``, joins, groupings, windows, CTEs, annotations, SQLAlchemy ``func.*``; and raw
  SQL text (each statement weighs three);
* attributes and items set on the data (``order.status = ...``, ``payload["k"] = ...``).

Plumbing is not counted however long it is: calls into services with the task's arguments,
retries, ``try`` / ``except`` / logging / metrics, locks and transactions, loops that only dispatch
or re-queue, function-local imports, docstrings, and transport code whose objects can be named
(SMTP, MIME messages, HTTP clients and their responses, locks). A guard (an ``if`` without ``else``
that only returns, raises, continues, logs or retries) is plumbing too. (docs/validation.md, CB301.)
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from celery_boundary.analysis.index import ModuleIndex, TaskDef, body_of
from celery_boundary.core.findings import Finding
from celery_boundary.checks.common import RuleSettings, report

CODE: Final = "CB301"
#: The codes this group reports.
CODES: Final = (CODE,)

#: What one raw SQL statement weighs: it holds filters, joins and aggregation in one string.
SQL_WEIGHT: Final = 3


@dataclass
class Logic:
    """The business logic read in one task body."""

    decisions: int = 0
    computations: int = 0
    records: int = 0
    #: Filters on the data, joins, groupings, windows, annotations, SQL functions.
    queries: int = 0
    sql: int = 0
    fields_set: int = 0

    @property
    def score(self) -> int:
        return (self.decisions + self.computations + self.records + self.queries + self.fields_set
                + SQL_WEIGHT * self.sql)

    def describe(self) -> str:
        parts = [(self.decisions, "branch", "branches", " on the data"),
                 (self.computations, "computation", "computations", ""),
                 (self.records, "record", "records", " built"),
                 (self.queries, "query clause", "query clauses", " (filters, joins, groupings)"),
                 (self.sql, "raw SQL statement", "raw SQL statements", ""),
                 (self.fields_set, "field", "fields", " set on objects")]
        return ", ".join(f"{n} {one if n == 1 else many}{tail}" for n, one, many, tail in parts if n)


_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})
#: Call owners whose arguments are reporting, not logic (loggers, metrics clients, tracing).
_REPORTERS = ("log", "statsd", "metric", "gauge", "counter", "histogram", "stats", "sentry", "span", "tracer")
#: Module roots and constructors whose objects are transport (mail, HTTP, sockets) or locks.
_TRANSPORT_ROOTS = frozenset({"smtplib", "requests", "httpx", "urllib", "urllib3", "aiohttp", "http", "socket",
                              "ssl", "boto3", "botocore", "paramiko", "ftplib", "imaplib", "poplib", "pycurl"})
_TRANSPORT_CALLS = frozenset({"SMTP", "SMTP_SSL", "LMTP", "EmailMessage", "EmailMultiAlternatives",
                              "EmailMultiRelated", "get_connection", "Session", "Client", "AsyncClient",
                              "PoolManager", "HTTPConnection", "HTTPSConnection", "urlopen", "Request",
                              "Message"})
#: Keyword arguments that schedule or configure a call: arithmetic in them is plumbing.
_SCHEDULING = frozenset({"countdown", "eta", "expires", "timeout", "max_retries", "retry_backoff", "headers",
                         "extra", "blocking_timeout", "ttl", "delay"})
_AGGREGATES = frozenset({"sum", "Sum", "Count", "Avg", "Max", "Min", "StdDev", "Variance", "Coalesce",
                         "Counter", "groupby", "fsum", "mean", "median"})
_FILTERS = frozenset({"filter", "exclude", "where", "filter_by", "having"})
#: Clauses that shape a query beyond fetching rows: joins, groupings, windows, CTEs, annotations.
_CLAUSES = frozenset({"join", "outerjoin", "group_by", "over", "cte", "subquery", "union", "union_all",
                      "select_from", "annotate", "aggregate"})
_CREATES = frozenset({"create", "get_or_create", "update_or_create"})
_SQL = re.compile(r"\b(select\b[\s\S]+\bfrom|update\s+\S+\s+set|insert\s+into|delete\s+from|"
                  r"with\s+\w+\s+as\s*\()\b", re.IGNORECASE)
_TIMERS = ("start", "begin", "elapsed", "duration", "t0", "tic")


def _dotted(expr: ast.expr) -> list[str]:
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
    elif isinstance(expr, ast.Call):
        parts.extend(reversed(_dotted(expr.func)))
    return list(reversed(parts))


def _stored(target: ast.expr) -> Iterator[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name):
            yield node.id


class _Reader(ast.NodeVisitor):
    """Counts the logic of one body; ``data`` are the names that hold the task's data."""

    def __init__(self, data: set[str], transport: set[str]) -> None:
        self.found = Logic()
        self.data = data
        self.transport = transport
        self._arith_off = 0
        #: Items set per local (``data["k"] = v``): a record built item by item.
        self._items: dict[str, int] = {}

    # -- statements --------------------------------------------------------------------------
    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant):
            return  # a docstring or a bare string
        self.visit(node.value)

    def visit_Import(self, node: ast.Import) -> None:
        return

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        return

    def visit_If(self, node: ast.If) -> None:
        if not node.orelse and all(_is_exit(s) for s in node.body):
            return  # a guard: ``if not order: return``, ``if resp.status >= 500: raise self.retry()``
        if self._on_data(node.test):
            self.found.decisions += 1
        self.generic_visit(node)

    def visit_While(self, node: ast.While) -> None:
        if self._on_data(node.test):
            self.found.decisions += 1  # ``while balance > limit:``; ``while True:`` is a worker loop
        self.generic_visit(node)

    def visit_Match(self, node: ast.AST) -> None:
        cases = getattr(node, "cases", [])
        if self._on_data(getattr(node, "subject")):
            self.found.decisions += len(cases)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._set(target)
        self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._set(node.target)
        if node.value is not None:
            self.visit(node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._set(node.target)
        counter = isinstance(node.value, ast.Constant)  # ``done += 1``: a progress counter
        if isinstance(node.op, _ARITHMETIC) and not counter and not self._timing(node.value) \
                and self._touches_data(node.value):
            self.found.computations += 1
            self._arith_off += 1  # ``total += price * qty`` is one computation
            self.visit(node.value)
            self._arith_off -= 1
            return
        self.visit(node.value)

    # -- expressions -------------------------------------------------------------------------
    def visit_IfExp(self, node: ast.IfExp) -> None:
        if self._on_data(node.test):
            self.found.decisions += 1
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.found.decisions += sum(1 for test in node.ifs if self._on_data(test))
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, _ARITHMETIC) and not self._arith_off and _is_arithmetic(node) \
                and not self._timing(node) and self._touches_data(node, calls=True):
            self.found.computations += 1
            self._arith_off += 1  # ``a * b + c`` is one computation
            self.generic_visit(node)
            self._arith_off -= 1
            return
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.visit(node.value)
        self._arith_off += 1  # ``ids[i:i + size]``: batching, not arithmetic on the data
        self.visit(node.slice)
        self._arith_off -= 1

    def visit_Dict(self, node: ast.Dict) -> None:
        if sum(1 for key in node.keys if key is not None) >= 3:
            self.found.records += 1
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        if _SQL.search(text):
            self.found.sql += 1

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and _SQL.search(node.value):
            self.found.sql += 1

    def visit_Call(self, node: ast.Call) -> None:
        names = _dotted(node.func)
        last = names[-1] if names else ""
        owner = names[-2].lower() if len(names) > 1 else ""
        if last == "print" or any(word in owner for word in _REPORTERS):
            return  # logging, metrics and tracing: their arguments are reporting
        if last in _AGGREGATES or last in {"sorted", "max", "min"} and any(k.arg == "key" for k in node.keywords):
            self.found.computations += 1
        elif last in _FILTERS and self._filters_data(node) or last in _CLAUSES or names[:1] == ["func"]:
            self.found.queries += 1  # ``func.count()``: SQLAlchemy's SQL functions
        elif self._builds_record(node, names, last):
            self.found.records += 1
        elif last == "update" and len(names) > 1:  # ``qs.update(status=..., expired_at=...)``
            self.found.fields_set += sum(1 for k in node.keywords if k.arg is not None)
        self.visit(node.func)
        for arg in node.args:
            self.visit(arg)
        for keyword in node.keywords:
            if keyword.arg in _SCHEDULING:
                continue
            self.visit(keyword.value)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit(node.body)

    # -- readers -----------------------------------------------------------------------------
    def _set(self, target: ast.expr) -> None:
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            name = target.value.id
            if name in self.data:
                self._items[name] = self._items.get(name, 0) + 1
                if self._items[name] == 3:  # ``data = {}; data["a"] = ...``: one record, like a literal
                    self.found.records += 1
            self.visit(target.slice)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            root = _dotted(target.value)
            if root and root[0] in self.data:
                self.found.fields_set += 1
            self.visit(target.value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._set(element)

    def _names(self, expr: ast.expr) -> set[str]:
        return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}

    def _touches_data(self, expr: ast.expr, calls: bool = False) -> bool:
        if self._names(expr) & self.data:
            return True
        return calls and any(isinstance(n, ast.Call) for n in ast.walk(expr)) and not self._names(expr) & self.transport

    def _on_data(self, test: ast.expr) -> bool:
        """A test that compares or inspects the data (not a bare truth test of a name)."""
        names = self._names(test)
        if not names & self.data or names & self.transport:
            return False
        for node in ast.walk(test):
            if isinstance(node, ast.Compare) and not all(
                    isinstance(c, ast.Constant) and c.value is None for c in node.comparators):
                return True
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and _dotted(node)[:1] and \
                    _dotted(node)[0] in self.data:
                return True
        return False

    def _timing(self, expr: ast.expr) -> bool:
        for node in ast.walk(expr):
            name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
            if name.lower().startswith(_TIMERS) or name in {"time", "monotonic", "perf_counter"}:
                return True
        return False

    def _filters_data(self, call: ast.Call) -> bool:
        if call.args:
            return True  # ``Q(...)`` objects, ``Model.x == y`` expressions
        for keyword in call.keywords:
            key = keyword.arg or ""
            lookup = key.split("__")[1:]
            identity = not lookup or lookup == ["in"] or key.endswith(("__pk", "__id", "_id__in", "__id__in"))
            if not identity or not isinstance(keyword.value, (ast.Name, ast.Attribute)):
                return True
        return False

    def _builds_record(self, call: ast.Call, names: list[str], last: str) -> bool:
        fields = sum(1 for k in call.keywords if k.arg is not None and k.arg not in _SCHEDULING)
        if last in _CREATES:
            return fields >= 2
        if not last[:1].isupper() or fields < 3 or last in _TRANSPORT_CALLS or last.startswith("MIME"):
            return False
        return not last.endswith(("Error", "Exception", "Warning", "Retry", "Lock")) and \
            names[0] not in _TRANSPORT_ROOTS


_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)


def _is_arithmetic(node: ast.BinOp) -> bool:
    """Not string building (``"a" + b``, ``"%s" % x``) and not constant folding (``60 * 60``)."""
    for side in (node.left, node.right):
        if isinstance(side, ast.JoinedStr) or isinstance(side, ast.Constant) and isinstance(side.value, str):
            return False
    return any(isinstance(n, (ast.Name, ast.Attribute, ast.Call)) for n in ast.walk(node))


def _is_exit(stmt: ast.stmt) -> bool:
    """A statement that leaves, skips or only reports: what a guard's body holds."""
    if isinstance(stmt, (ast.Return, ast.Raise, ast.Continue, ast.Break, ast.Pass)):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        names = _dotted(stmt.value.func)
        owner = names[-2].lower() if len(names) > 1 else ""
        return names[-1:] == ["retry"] or bool(names) and names[-1] in _LOG_METHODS and "log" in owner
    return False


def _transport_names(function: ast.AST) -> set[str]:
    """Locals bound to transport objects (an SMTP connection, a MIME message, an HTTP client, a
    response, a lock), and to what is made from them."""
    found: set[str] = set()
    binds: list[tuple[ast.expr, ast.expr]] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            binds.extend((t, node.value) for t in node.targets)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            binds.extend((i.optional_vars, i.context_expr) for i in node.items if i.optional_vars is not None)
    for _ in range(2):  # ``client = httpx.Client(); response = client.post(...)``
        for target, value in binds:
            if not isinstance(value, (ast.Call, ast.Await)):
                continue
            call = value.value if isinstance(value, ast.Await) else value
            if not isinstance(call, ast.Call):
                continue
            names = _dotted(call.func)
            last = names[-1] if names else ""
            if names and (names[0] in _TRANSPORT_ROOTS or names[0] in found or last in _TRANSPORT_CALLS
                          or last.startswith("MIME") or "lock" in last.lower() or "response" in last.lower()):
                found.update(_stored(target))
    return found


def read_logic(function: ast.FunctionDef | ast.AsyncFunctionDef, body: list[ast.stmt],
               instance: str | None = None) -> Logic:
    """The logic in ``body`` (a task's statements); ``instance`` names the task-instance parameter."""
    args = function.args
    params = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    params.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    stored = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    transport = _transport_names(function)
    data = (params | stored) - transport - {instance or "self", "self", "cls"}
    reader = _Reader(data, transport)
    for stmt in body:
        reader.visit(stmt)
    return reader.found


def measure_task(task: TaskDef) -> Logic:
    """The task's logic as CB301 reads it (the census in scripts/validate.py too)."""
    if task.function is None:
        return Logic()
    return read_logic(task.function, body_of(task), instance_of(task))


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
        if found.score <= settings.max_task_logic:
            continue
        where = task.function if task.is_class else task.node
        yield report(where, CODE, (
            f"task {task.name!r} holds business logic ({found.describe()}; weight {found.score} > "
            f"{settings.max_task_logic}): move these decisions into a plain function or service that the "
            "task calls with its arguments, so they can be tested without a worker; keep retries, "
            "logging and dispatch in the task"))
