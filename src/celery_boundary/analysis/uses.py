"""Who launches, links, schedules or names which task: the uses of tasks in one module, computed once
from its index and read by every rule that needs them (CB201-CB203 per module, and the project-wide
summary in ``analysis.project`` that CB202, CB203 and CB401 read across modules).

A use is a reference to a task with what the module does with it (``kind``):

- ``alone`` (``LAUNCH``): launched on its own now (``.delay()``, ``.apply_async()``, called,
  ``add_periodic_task``'s signature);
- ``receiving`` / ``errback`` / ``link``: a canvas member that gets a parent's result, an error
  callback that gets a failed task's request (or id), or a member that gets neither
  (``analysis.canvas`` says which position is which);
- ``named``: a string in the module names the task (a beat entry, ``send_task``): launched on its own
  by name;
- ``unknown`` (``OTHER``): any other use (stored, returned, passed on, an attribute read): rules that
  need to know every use stay silent.

Beat entries with a literal ``"task"`` are also listed as schedules (``schedule_entries``), and every
literal task name the module sends, signs, looks up or schedules as a name reference
(``name_references``: CB205 compares them with the project's registered names).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from celery_boundary.analysis import canvas as cv
from celery_boundary.analysis.call_shapes import can_be_celery
from celery_boundary.analysis.index import ModuleIndex, Site, TaskDef
from celery_boundary.analysis.schedulers import beat_entries
from celery_boundary.analysis.symbols import APP, LOCAL, SIGNATURE_CALLS, ScopeNode, last_name

LAUNCH: Final = cv.ALONE
RECEIVING: Final = cv.RECEIVING
ERRBACK: Final = cv.ERRBACK
LINK: Final = cv.LINK
NAMED: Final = "named"
OTHER: Final = cv.UNKNOWN
#: Kinds after which nothing is chained: the task runs on its own.
ON_ITS_OWN: Final = frozenset({LAUNCH, NAMED})
#: Kinds of a canvas member.
CANVAS_ONLY: Final = frozenset({RECEIVING, ERRBACK, LINK})
#: Attributes whose reading neither launches nor passes the task on (``t.app.conf``, ``t.request``):
#: no use. ``t.name`` is the task's registered name: a name reference (``NAMED``).
NEUTRAL_ATTRIBUTES: Final = frozenset({"app", "request", "backend", "__name__", "__doc__", "__module__",
                                       "__qualname__", "__wrapped__", "run", "AsyncResult"})
NAME_ATTRIBUTE: Final = "name"

_Record = Callable[[ast.expr, tuple[ScopeNode, ...], str], None]
_SCOPE_TYPES: Final = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
                       ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Use:
    #: What the reference resolves to in this module: ``<local>.total`` for the module's own task,
    #: ``pkg.tasks.total`` or ``.tasks.total`` (a relative import) for an imported name.
    target: str
    kind: str
    line: int


def module_uses(index: ModuleIndex, roots: frozenset[str] | None = None) -> list[Use]:
    """Every use of a task in the module. ``roots`` None: the module's own tasks only (what one
    module can judge); a set: also every name imported from those top-level packages (or relative
    imports), whose targets the project-wide pass matches against the project's tasks (an empty
    set: names imported from anywhere)."""
    local = index.memo.get("uses")  # the module's own tasks: computed once for every rule
    if not isinstance(local, _LocalUses):
        local = index.memo["uses"] = _local_uses(index)
    uses = list(local.uses)
    if roots is None:
        return uses
    seen = set(local.seen)

    def record(expr: ast.expr, scopes: tuple[ScopeNode, ...], kind: str) -> None:
        target = index.names.resolve(expr, scopes)
        if target is not None:
            seen.add(id(expr))
            uses.append(Use(target, kind, getattr(expr, "lineno", 0)))

    _imported_uses(index, roots, seen, record)
    uses.extend(_locally_imported_uses(index, roots))
    return uses


class _LocalUses:
    """The uses of the module's own tasks, and the reference nodes they were read from."""

    def __init__(self, uses: tuple[Use, ...], seen: frozenset[int]) -> None:
        self.uses = uses
        self.seen = seen


def _local_uses(index: ModuleIndex) -> _LocalUses:
    uses: list[Use] = []
    seen: set[int] = set()
    for ref in index.task_refs:
        if index.task_of(ref.node, ref) is not None:  # type: ignore[arg-type]
            kind = use_of(index, ref.node, ref)  # type: ignore[arg-type]
            target = index.names.resolve(ref.node, ref.scopes)  # type: ignore[arg-type]
            if kind is not None and target is not None:  # None: a neutral read (t.app, t.request)
                seen.add(id(ref.node))
                uses.append(Use(target, kind, getattr(ref.node, "lineno", 0)))
    for task in index.tasks.values():
        if named_by_strings(index, task):
            uses.append(Use(f"{LOCAL}.{task.name}", NAMED, getattr(task.node, "lineno", 0)))
    return _LocalUses(tuple(uses), frozenset(seen))


def _imported_uses(index: ModuleIndex, roots: frozenset[str], seen: set[int], record: _Record) -> None:
    imports = index.names.imports

    def imported(expr: ast.expr) -> bool:
        """Only names imported from the project can be a project task (resolving costs a scope walk)."""
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return False
        source = imports.get(expr.id)
        return source is not None and (not roots or source.startswith(".") or source.split(".")[0] in roots)

    def note(expr: ast.expr, site: Site, kind: str | None = None) -> None:
        if id(expr) not in seen and imported(expr):
            found = use_of(index, expr, site) if kind is None else kind
            if found is not None:
                record(expr, site.scopes, found)

    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, (ast.Name, ast.Attribute)):
            note(func.value, site)
        if isinstance(func, (ast.Name, ast.Attribute)):
            note(func, site, LAUNCH)
    # Any other mention of an imported name (stored, passed on): a use no rule understands.
    for node in list(index.parents):  # every node but the module: cheaper than another ast.walk
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in imports:
            expr: ast.expr = node
            site = Site(node, _scopes_of(index, node), None)
            while True:
                parent = index.parent(expr)
                if isinstance(parent, ast.Attribute) and parent.value is expr and (
                        parent.attr in NEUTRAL_ATTRIBUTES or parent.attr == NAME_ATTRIBUTE):
                    note(expr, site, NAMED if parent.attr == NAME_ATTRIBUTE else None)
                    break
                note(expr, site, OTHER)
                if not (isinstance(parent, ast.Attribute) and parent.value is expr):
                    break
                expr = parent


def _locally_imported_uses(index: ModuleIndex, roots: frozenset[str]) -> list[Use]:
    """Uses of names a function imports itself (``def run(): from proj.tasks import t; t.delay()``):
    module-level resolution sees them as the function's locals."""
    bound = _local_imports(index)
    if not bound:
        return []
    found: list[Use] = []
    for node in list(index.parents):
        if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
            continue
        scopes = _scopes_of(index, node)
        target = next((bound[(id(scope), node.id)] for scope in reversed(scopes) if (id(scope), node.id) in bound),
                      None)
        if target is None or roots and not target.startswith(".") and target.split(".")[0] not in roots:
            continue
        expr: ast.expr = node
        while True:  # ``tasks.total.delay()`` after ``from proj import tasks``: the use of proj.tasks.total
            parent = index.parent(expr)
            kind = use_of(index, expr, Site(expr, scopes, None))
            if kind is not None:
                found.append(Use(target, kind, node.lineno))
            if not (isinstance(parent, ast.Attribute) and parent.value is expr) or kind is None:
                break
            expr, target = parent, f"{target}.{parent.attr}"
    return found


def resolve_imported(index: ModuleIndex, expr: ast.expr, site: Site) -> str | None:
    """``index.resolve``, also through an import made inside an enclosing function
    (``def enable(): from proj import beat; beat.every(...)`` -> ``proj.beat.every``)."""
    resolved = index.resolve(expr, site)
    if resolved is not None:
        return resolved
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name) or not site.scopes:
        return None
    bound = index.memo.get("local_imports")
    if not isinstance(bound, dict):
        bound = index.memo["local_imports"] = _local_imports(index)
    target = next((bound[(id(scope), expr.id)] for scope in reversed(site.scopes) if (id(scope), expr.id) in bound),
                  None)
    return None if target is None else ".".join([target, *reversed(parts)])


def _local_imports(index: ModuleIndex) -> dict[tuple[int, str], str]:
    """(id of the function, name it binds) -> the dotted path a function-level import binds it to."""
    bound: dict[tuple[int, str], str] = {}
    for node in list(index.parents):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        scopes = _scopes_of(index, node)
        if not scopes:
            continue
        scope = id(scopes[-1])
        for alias in node.names:
            if isinstance(node, ast.ImportFrom):
                base = "." * node.level + (node.module or "")
                path = base + alias.name if base.endswith(".") or not base else f"{base}.{alias.name}"
                bound[(scope, alias.asname or alias.name)] = path
            elif alias.asname:
                bound[(scope, alias.asname)] = alias.name
            else:
                first = alias.name.split(".")[0]
                bound[(scope, first)] = first
    return bound


def local_kinds(index: ModuleIndex, uses: list[Use]) -> dict[str, list[str]]:
    """The kinds of use of each of the module's own tasks, by the name it is bound to: every use of a
    function task, and ``named`` for any task a string names."""
    kinds: dict[str, list[str]] = {}
    prefix = f"{LOCAL}."
    for use in uses:
        if not use.target.startswith(prefix):
            continue
        name = use.target[len(prefix):]
        task = index.tasks.get(name)
        if task is not None and (use.kind == NAMED or not task.is_class):
            kinds.setdefault(name, []).append(use.kind)
    return kinds


def use_of(index: ModuleIndex, expr: ast.expr, site: Site) -> str | None:
    """What the module does with the task ``expr`` names, here (see the module docstring); None when
    it only reads a neutral attribute (``NEUTRAL_ATTRIBUTES``)."""
    parent = index.parent(expr)
    if isinstance(parent, ast.Attribute) and parent.value is expr:
        if parent.attr in NEUTRAL_ATTRIBUTES:
            return None
        if parent.attr == NAME_ATTRIBUTE:
            return NAMED
        call = index.parent(parent)
        if isinstance(call, ast.Call) and call.func is parent and can_be_celery(call):
            if parent.attr in cv.SIGNATURE_BUILDERS:
                return _signature_use(index, call, site)
            if parent.attr in cv.LAUNCH_METHODS or parent.attr == "apply":
                return LAUNCH
    if isinstance(parent, ast.Call) and parent.func is expr:
        return LAUNCH
    return OTHER


def _signature_use(index: ModuleIndex, call: ast.Call, site: Site) -> str:
    where = cv.position(index, call, site)
    if where != cv.UNKNOWN:
        return where
    # ``t2 = total.s()`` then ``chain(t1, t2)``: follow the variable inside the same scope.
    parent = index.parent(call)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        return _variable_use(index, parent.targets[0].id, site, call)
    return OTHER


def _variable_use(index: ModuleIndex, variable: str, site: Site, signature: ast.Call) -> str:
    scope = site.scopes[-1] if site.scopes else index.tree
    kinds: list[str] = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and node.id == variable:
            if isinstance(node.ctx, ast.Store):
                continue
            where = cv.position(index, node, site)
            if where in cv.RECEIVES and signature.func.attr == "si":  # type: ignore[attr-defined]
                where = LINK
            kinds.append(where)
    if not kinds or any(k not in CANVAS_ONLY for k in kinds):
        return OTHER
    return next((kind for kind in (RECEIVING, ERRBACK) if kind in kinds), LINK)


def named_by_strings(index: ModuleIndex, task: TaskDef) -> bool:
    """A string in the module names the task (a beat entry, ``send_task``): its ``name=``, its bare
    name, or a dotted path ending in it."""
    explicit = task.task_name
    for text in index.strings:
        if text == explicit or text == task.name or text.endswith("." + task.name):
            return True
    return False


def schedule_entries(index: ModuleIndex) -> list[tuple[int, str]]:
    """Beat entries ``{"task": "pkg.mod.name", "schedule": ...}`` (dict literal or ``dict(...)``): the
    registered name each schedules, at every line a CB401 about it may be reported (the entry, the
    key that holds it, the assignment)."""
    found: list[tuple[int, str]] = []
    keys_of: dict[int, dict[int, ast.expr]] = {}  # holder dict -> its values' keys (once: a schedule of
    # 100,000 entries is one dict, and scanning it per entry took minutes)
    for node, task in beat_entries(index):
        lines = {node.lineno}
        holder = index.parent(node)
        if isinstance(holder, ast.Dict):
            keys = keys_of.get(id(holder))
            if keys is None:
                keys = keys_of[id(holder)] = {id(v): k for k, v in zip(holder.keys, holder.values) if k is not None}
            key = keys.get(id(node))
            if key is not None:
                lines.add(key.lineno)
        elif isinstance(holder, (ast.Assign, ast.AnnAssign)):
            lines.add(holder.lineno)
        found.extend((line, str(task.value)) for line in sorted(lines))
    return found


#: How a module refers to a task by its registered name.
SENT: Final = "send_task"
SIGNED: Final = "signature"
LOOKED_UP: Final = "app.tasks"
SCHEDULED: Final = "beat entry"


@dataclass(frozen=True)
class NameRef:
    """A literal task name: ``send_task("pkg.mod.name")``, ``signature("...")`` / ``Signature("...")`` /
    ``app.signature("...")``, ``app.tasks["..."]``, a beat entry's ``"task": "..."``."""

    name: str
    #: ``SENT``, ``SIGNED``, ``LOOKED_UP`` or ``SCHEDULED``.
    how: str
    line: int
    #: 1-based, at the literal.
    column: int
    #: How many positional arguments the message carries (``args=`` a literal tuple or list; 0 without
    #: ``args``), None when the code does not say (a variable, ``*spread``, or not a sending call).
    positional: int | None = None
    #: The keyword arguments it carries (``kwargs=`` a dict literal or ``dict(...)`` with literal keys),
    #: None when the code does not say.
    keywords: tuple[str, ...] | None = None


#: The last parts of the names ``SIGNATURE_CALLS`` resolves (``signature``, ``Signature``, ``subtask``).
_SIGNATURE_NAMES: Final = frozenset({"signature", "Signature", "subtask"})


def _last(expr: ast.expr) -> str:
    return expr.attr if isinstance(expr, ast.Attribute) else expr.id if isinstance(expr, ast.Name) else ""


def name_references(index: ModuleIndex) -> list[NameRef]:
    """Every literal task name the module sends, signs, looks up or schedules (calls shaped like
    Celery's only: ``analysis.call_shapes``). A name held in a variable is not followed."""
    found: list[NameRef] = []

    def add(literal: ast.expr | None, how: str, call: ast.Call | None = None) -> None:
        if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
            positional, keywords = _message_arguments(call) if call is not None else (None, None)
            found.append(NameRef(literal.value, how, literal.lineno, literal.col_offset + 1, positional, keywords))

    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "send_task":
            if can_be_celery(call):
                add(_argument(call, "name"), SENT, call)
        elif isinstance(func, ast.Attribute) and func.attr == "signature":
            if _app_like(index, func.value, site):
                add(_argument(call, "varies"), SIGNED, call)
        elif _last(func) in _SIGNATURE_NAMES:  # resolving costs a scope walk: only likely names
            resolved = index.resolve(func, site)
            if resolved in SIGNATURE_CALLS:
                add(_argument(call, "varies" if resolved == "celery.signature" else "task"), SIGNED, call)
    for site in index.subscripts:
        node = site.node
        assert isinstance(node, ast.Subscript)
        holder = node.value
        if isinstance(holder, ast.Attribute) and holder.attr == "tasks" and _app_like(index, holder.value, site):
            add(node.slice, LOOKED_UP)
    for _, task in beat_entries(index):
        add(task, SCHEDULED)
    return found


def _message_arguments(call: ast.Call) -> tuple[int | None, tuple[str, ...] | None]:
    """``send_task(name, args, kwargs, ...)`` and ``signature(name, args, kwargs, ...)`` (Celery 5.7:
    ``args`` and ``kwargs`` second and third, or by keyword): what the message will carry."""
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(kw.arg is None for kw in call.keywords):
        return None, None
    given = dict(zip(("name", "args", "kwargs"), call.args))
    given.update((kw.arg, kw.value) for kw in call.keywords if kw.arg in ("args", "kwargs"))
    args, kwargs = given.get("args"), given.get("kwargs")
    positional: int | None = None
    if args is None or isinstance(args, ast.Constant) and args.value is None:
        positional = 0
    elif isinstance(args, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in args.elts):
        positional = len(args.elts)
    keywords: tuple[str, ...] | None = None
    if kwargs is None or isinstance(kwargs, ast.Constant) and kwargs.value is None:
        keywords = ()
    elif isinstance(kwargs, ast.Dict) and all(isinstance(k, ast.Constant) and isinstance(k.value, str)
                                              for k in kwargs.keys):
        keywords = tuple(k.value for k in kwargs.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
    elif (isinstance(kwargs, ast.Call) and isinstance(kwargs.func, ast.Name) and kwargs.func.id == "dict"
          and not kwargs.args and all(kw.arg is not None for kw in kwargs.keywords)):
        keywords = tuple(kw.arg for kw in kwargs.keywords if kw.arg is not None)
    return positional, keywords


def _argument(call: ast.Call, keyword: str) -> ast.expr | None:
    """The first positional argument, or the keyword argument that stands for it."""
    if call.args:
        return None if isinstance(call.args[0], ast.Starred) else call.args[0]
    return next((kw.value for kw in call.keywords if kw.arg == keyword), None)


def _app_like(index: ModuleIndex, expr: ast.expr, site: Site) -> bool:
    """A Celery app: one this module creates, ``current_app``, or a name that says so (``app``,
    ``celery_app``, ``self.app``) - ``signature`` and ``tasks`` are too common to trust on anything."""
    resolved = index.resolve(expr, site)
    if resolved == APP or resolved == "celery.current_app":
        return True
    name = (last_name(expr) or "").lower()
    return name == "app" or name.endswith("_app") or "celery" in name


def _scopes_of(index: ModuleIndex, node: ast.AST) -> tuple[ScopeNode, ...]:
    """The functions and comprehensions around ``node``, outermost first (their locals shadow)."""
    found: list[ScopeNode] = []
    parent = index.parent(node)
    while parent is not None:
        if isinstance(parent, _SCOPE_TYPES):
            found.append(parent)
        parent = index.parent(parent)
    return tuple(reversed(found))
