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
that only returns, raises, continues, logs or retries) is plumbing too, and so are joins of text or
paths, string building, the task's own job record (its status, error, progress and timestamps), an
API request's body, branches on option flags and settings that only choose what to call, and batches
picked by id (docs/rules/CB301.md; docs/validation.md, CB301).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
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
#: Receivers whose ``.join`` joins text or paths, not tables.
_PATH_ROOTS = frozenset({"os", "posixpath", "ntpath", "Path", "PurePath", "pathlib", "shlex", "str"})
#: Keyword arguments that carry an API request's body: a dict given there is transport.
_BODY_KEYWORDS = frozenset({"json", "data", "params", "body", "fields", "payload", "request_json", "files"})
#: The values a job row's ``status`` / ``state`` takes while the task reports on its own run.
_RUN_STATES = frozenset({"PENDING", "QUEUED", "STARTED", "RUNNING", "PROCESSING", "IN_PROGRESS", "SUCCESS",
                         "SUCCEEDED", "SUCCESSFUL", "DONE", "COMPLETE", "COMPLETED", "FINISHED", "READY",
                         "FAILED", "FAILURE", "ERROR", "ERRORED", "CANCELLED", "CANCELED", "ABORTED",
                         "TIMEOUT", "TIMED_OUT", "BUILDING", "BUILT"})
#: Words in a local's, a model's or a status enum's name that make a row the task's own job record.
_JOB_WORDS = ("job", "taskresult", "task_result", "taskrun", "task_run")
#: Run states that say the run is under way: set together with an outcome, they track a run.
_UNDER_WAY = frozenset({"PENDING", "QUEUED", "STARTED", "RUNNING", "PROCESSING", "IN_PROGRESS", "BUILDING"})
#: Fields of a job record that report the run: status, error, progress and timestamps.
_BOOKKEEPING = frozenset({"status", "state", "message", "status_message", "last_error", "error", "errors",
                          "error_message", "traceback", "progress", "percent", "percentage"})


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

    def __init__(self, data: set[str], transport: set[str], plain: _Plain | None = None) -> None:
        self.found = Logic()
        self.data = data
        self.transport = transport
        self.plain = plain or _Plain()
        self._arith_off = 0
        self._body_off = 0
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
        if self._on_data(node.test) and not (self._on_config(node.test) and _dispatches(node.body + node.orelse)):
            self.found.decisions += 1  # ``if dedupe and settings_row.enable_dedupe: dedupe(xs)`` is dispatch
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
            self._set(target, node.value)
        # ``request_json = {...}`` later sent as ``json=request_json``, ``job.last_error = {...}``: not records
        body = any(self._plumbing_target(t) for t in node.targets)
        self._body_off += body
        self.visit(node.value)
        self._body_off -= body

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._set(node.target)
        if node.value is not None:
            self.visit(node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._set(node.target, node.value)
        counter = isinstance(node.value, ast.Constant)  # ``done += 1``: a progress counter
        text = _is_text(node.value) or isinstance(node.target, ast.Name) and node.target.id in self.plain.strings
        if isinstance(node.op, _ARITHMETIC) and not counter and not text and not self._timing(node.value) \
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
        # ``[p for p in xs if p.id in ids]``: a batch picked by id, not a decision
        self.found.decisions += sum(1 for test in node.ifs if self._on_data(test) and not _picks_by_id(test))
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
        if sum(1 for key in node.keys if key is not None) >= 3 and not self._body_off:
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
        elif last in _FILTERS and self._filters_data(node) or last in _CLAUSES and self._joins_query(node) \
                or names[:1] == ["func"]:
            self.found.queries += 1  # ``func.count()``: SQLAlchemy's SQL functions
        elif self._builds_record(node, names, last):
            self.found.records += 1
        elif last == "update" and len(names) > 1:  # ``qs.update(status=..., expired_at=...)``
            receiver = [n.lower() for n in names[:-1]]
            own_run = receiver[0] in self.plain.jobs or any(w in n for n in receiver for w in _JOB_WORDS)
            self.found.fields_set += sum(1 for k in node.keywords if k.arg is not None
                                         and not (own_run and _reports_run(k.arg)))
        self.visit(node.func)
        for arg in node.args:
            self.visit(arg)
        for keyword in node.keywords:
            if keyword.arg in _SCHEDULING:
                continue
            body = keyword.arg in _BODY_KEYWORDS and isinstance(node.func, ast.Attribute)
            self._body_off += body  # ``client.post(url, json={...})``: a request body is transport
            self.visit(keyword.value)
            self._body_off -= body

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit(node.body)

    # -- readers -----------------------------------------------------------------------------
    def _set(self, target: ast.expr, value: ast.expr | None = None) -> None:
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and \
                target.value.id in self.plain.jobs and _reports_run(target.attr):
            return  # ``job.status = Status.FAILED; job.last_error = ...``: the task reports its own run
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            name = target.value.id
            if name in self.data and name not in self.plain.bodies:
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

    def _plumbing_target(self, target: ast.expr) -> bool:
        """A request body (or an item in it), or a field of the task's own job record."""
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            return target.value.id in self.plain.jobs and _reports_run(target.attr)
        while isinstance(target, ast.Subscript):
            target = target.value
        return isinstance(target, ast.Name) and target.id in self.plain.bodies

    def _on_config(self, test: ast.expr) -> bool:
        """A test whose data are only option flags and settings (parameters with a boolean default,
        locals read from settings or a settings row)."""
        names = self._names(test) & self.data
        return bool(names) and names <= self.plain.config

    def _joins_query(self, call: ast.Call) -> bool:
        """``select(...).join(...)``, ``query.join(...)``; not ``", ".join(...)`` nor ``os.path.join(...)``."""
        if not isinstance(call.func, ast.Attribute) or call.func.attr not in {"join", "outerjoin"}:
            return True
        receiver = call.func.value
        if isinstance(receiver, (ast.Constant, ast.JoinedStr)):
            return False
        names = _dotted(receiver)
        if names and (names[0] in _PATH_ROOTS or names[-1] in {"path", "sep", "linesep", "pathsep"}):
            return False
        return not (isinstance(receiver, ast.Name) and receiver.id in self.plain.strings)

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


def _is_text(expr: ast.expr) -> bool:
    """A string being built: ``f"..."``, ``"..."``, ``dedent(f"...")``, ``"x".join(...)``, ``str(...)``."""
    if isinstance(expr, ast.JoinedStr) or isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return True
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Mod)):
        return _is_text(expr.left) or _is_text(expr.right)
    if isinstance(expr, ast.Call):
        names = _dotted(expr.func)
        if names[-1:] in (["str"], ["format"], ["join"]) and (names[-1] != "join" or isinstance(
                expr.func, ast.Attribute) and isinstance(expr.func.value, ast.Constant)):
            return True
        return bool(expr.args) and _is_text(expr.args[0]) and names[-1:] != ["len"]
    return False


def _picks_by_id(test: ast.expr) -> bool:
    """``p.id in ids``, ``pk not in seen``: membership of an id in a collection."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.In, ast.NotIn))):
        return False
    names = _dotted(test.left)
    last = names[-1].lower() if names and isinstance(test.left, (ast.Name, ast.Attribute)) else ""
    return last in {"id", "pk", "uuid"} or last.endswith(("_id", "_pk", "_uuid"))


def _run_state(value: ast.expr) -> bool:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value.upper() in _RUN_STATES
    names = _dotted(value) if isinstance(value, (ast.Attribute, ast.Name)) else []
    return bool(names) and names[-1].upper() in _RUN_STATES and len(names) > 1


def _reports_run(name: str) -> bool:
    """A field of a job record that reports the run: its status, error, progress, timestamps."""
    return name in _BOOKKEEPING or name.endswith("_at") or name.startswith(("progress", "error", "last_error"))


def _dispatches(body: list[ast.stmt]) -> bool:
    """Statements that only call services, log or import: a branch that chooses what to call."""
    for stmt in body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, (ast.Call, ast.Await)):
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Pass)):
            continue
        if isinstance(stmt, ast.If) and _dispatches(stmt.body + stmt.orelse):
            continue
        if isinstance(stmt, (ast.For, ast.With)) and _dispatches(stmt.body):
            continue
        return False
    return bool(body)


@dataclass
class _Plain:
    """Locals that hold plumbing rather than data, found before the body is read."""

    #: Bound to text: ``sep = ", "``, ``text = f"..."``.
    strings: set[str] = field(default_factory=set)
    #: Sent as an API request body: ``client.post(url, json=payload)``.
    bodies: set[str] = field(default_factory=set)
    #: The task's own job record: ``job.status = JobStatus.FAILED``.
    jobs: set[str] = field(default_factory=set)
    #: Option flags and settings: ``dedupe=True`` parameters, ``row = SystemSettings.objects.get()``.
    config: set[str] = field(default_factory=set)


def _plain_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> _Plain:
    plain = _Plain()
    states: dict[str, set[str]] = {}
    args = function.args
    for arg, default in zip(reversed(args.args + args.posonlyargs), reversed(args.defaults)):
        if isinstance(default, ast.Constant) and isinstance(default.value, bool):
            plain.config.add(arg.arg)
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults):
        if isinstance(kw_default, ast.Constant) and isinstance(kw_default.value, bool):
            plain.config.add(arg.arg)
    for node in ast.walk(function):
        binds: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(node, ast.Assign):
            binds = [(t, node.value) for t in node.targets]
        elif isinstance(node, ast.NamedExpr):
            binds = [(node.target, node.value)]
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                plain.bodies.update(k.value.id for k in node.keywords
                                    if k.arg in _BODY_KEYWORDS and isinstance(k.value, ast.Name))
        for target, value in binds:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and \
                    target.attr in {"status", "state"} and _run_state(value):
                states.setdefault(target.value.id, set()).add(_dotted(value)[-1].upper() if not isinstance(
                    value, ast.Constant) else str(value.value).upper())
                if any(w in n.lower() for n in _dotted(value)[:-1] for w in _JOB_WORDS):
                    plain.jobs.add(target.value.id)  # ``row.status = JobStatus.FAILED``
            if not isinstance(target, ast.Name):
                continue
            if any(word in target.id.lower() for word in _JOB_WORDS):
                plain.jobs.add(target.id)
            if _is_text(value):
                plain.strings.add(target.id)
            source = " ".join(_dotted(value.func if isinstance(value, ast.Call) else value)).lower()
            if isinstance(value, (ast.Call, ast.Attribute)) and ("settings" in source or "config" in source):
                plain.config.add(target.id)
    # ``bundle.status = Status.PROCESSING`` ... ``bundle.status = Status.READY``: a run tracked on its row
    plain.jobs.update(name for name, seen in states.items() if seen & _UNDER_WAY and seen - _UNDER_WAY)
    return plain


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
    reader = _Reader(data, transport, _plain_names(function))
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
