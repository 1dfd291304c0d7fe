"""Where a task launch sits relative to a database transaction (CB206), ast only.

A *launch* sends a message now: ``.delay()``, ``.apply_async()``, ``.send_task()``, or a canvas
called (``chain(...)()``); ``delay_on_commit`` / ``apply_async_on_commit`` wait for the commit of the
default database, so they are launches only inside a transaction on another one (``ON_COMMIT``).
The *transaction around* a launch is read lexically, from the launch outwards to the nearest function:

- ``with transaction.atomic(...)`` (or ``atomic`` imported from ``django.db.transaction``) holding it,
  unless ``using=`` names a replica or a read-only database (``replica``, ``read`` in its text);
- the function decorated ``@transaction.atomic`` / ``@atomic(...)`` / ``@method_decorator(atomic)``;
- a model's ``save()`` / ``delete()`` override (a class deriving from a Django model: a base that
  resolves to ``django.db.models.Model`` or whose name ends in ``Model``);
- a receiver of ``pre_save`` / ``post_save`` / ``m2m_changed`` / ``pre_delete`` / ``post_delete``
  (``@receiver(signal, ...)``, ``@receiver([a, b], ...)``, ``signal.connect(function)`` in the module).

Which of those the rule reports (``checks.transactions``): ``with`` / ``@atomic`` only after a write
(``written_before``); ``pre_delete`` / ``post_delete`` / ``m2m_changed`` receivers always; a
``save()`` / ``delete()`` override and a ``pre_save`` / ``post_save`` receiver (``caller_dependent``)
only under ATOMIC_REQUESTS. A launch counts only when the module imports celery or the launched name
is a task of the module, the app, or a name imported from a ``tasks`` module (``launches``).

A lambda or a nested function between the launch and the transaction ends the walk: its body runs
when it is called, which is what ``transaction.on_commit(lambda: ...)`` defers.

The project-wide half (``ATOMIC_REQUESTS``) needs two more facts per module: the *view* around a
launch with no transaction around it (``view_around``) and the module's database settings
(``analysis.django_settings``). What counts as a view: a function whose first parameter is ``request``, or a
method of a class deriving from a view (a base named ``...View`` / ``...ViewSet`` / ``...APIView``,
Django's and DRF's included); not an ``async def`` (Django refuses ATOMIC_REQUESTS for async views)
and not one marked ``@transaction.non_atomic_requests`` (on the function, on the class, or on its
``dispatch``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Final, Union

from celery_boundary.analysis import canvas as cv
from celery_boundary.analysis.call_shapes import can_be_celery
from celery_boundary.analysis.index import ModuleIndex, Site
from celery_boundary.analysis.symbols import APP, dotted_name, last_name

ATOMIC: Final = "django.db.transaction.atomic"
NON_ATOMIC: Final = "non_atomic_requests"
_SIGNALS: Final = "django.db.models.signals."
#: Signals Django sends from inside its own atomic block (``ManyRelatedManager.add/remove/clear``,
#: ``Collector.delete``; Django 5.2): a receiver of these is always inside a transaction.
ALWAYS_ATOMIC_SIGNALS: Final = frozenset({"m2m_changed", "pre_delete", "post_delete"})
#: Signals sent by ``Model.save()``: inside whatever transaction the caller holds.
SAVE_SIGNALS: Final = frozenset({"pre_save", "post_save"})
#: Launch methods that send now.
SENDING: Final = frozenset({"delay", "apply_async", "send_task"})
#: Celery 5.4's Django task methods: they wait for the commit of the *default* database only
#: (``DjangoTask`` calls ``transaction.on_commit`` without ``using=``), so inside
#: ``atomic(using="other")`` they send at once too (tests/truth/test_transaction_launch.py).
ON_COMMIT: Final = frozenset({"delay_on_commit", "apply_async_on_commit"})
_METHODS: Final = SENDING | ON_COMMIT
_VIEW_SUFFIXES: Final = ("View", "ViewSet", "APIView")
#: Words in a ``using=`` that name a database nothing writes to (saleor's
#: ``atomic(using=settings.DATABASE_CONNECTION_REPLICA_NAME)`` pins one replica for its reads).
_READ_ONLY: Final = ("replica", "read")

WITH: Final = "with"
DECORATOR: Final = "decorator"
SAVE: Final = "save"
RECEIVER: Final = "receiver"
VIEW: Final = "view"

_Def = Union[ast.FunctionDef, ast.AsyncFunctionDef]


@dataclass(frozen=True)
class Launch:
    node: ast.Call
    site: Site
    #: How the message is sent, for a message: ``notify.delay()``, ``chain(...)()``.
    how: str
    #: ``delay``, ``apply_async``, ``send_task``, ``canvas`` (a canvas called), or one of ``ON_COMMIT``.
    method: str


@dataclass(frozen=True)
class Around:
    """The transaction (or view) around a launch."""

    kind: str
    line: int
    #: ``with transaction.atomic()``, ``@transaction.atomic``, ``Article.save()``, ``post_save``,
    #: the function's name for a view.
    text: str
    #: The function the launch sits in (a receiver's or a view's name), or "".
    function: str = ""
    #: The database of an ``atomic(using=...)`` other than ``"default"``, as written, or "".
    using: str = ""
    #: The ``with`` statement or the function the transaction covers (``written_before``).
    scope: ast.AST | None = field(default=None, compare=False)


def launches(index: ModuleIndex) -> list[Launch]:
    """Every call in the module that sends a task message now (computed once: the rule and the
    project summary both read it)."""
    memo = index.memo.get("launches")
    if isinstance(memo, list):
        return memo
    found: list[Launch] = []
    index.memo["launches"] = found
    celery = imports_celery(index)
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        func = call.func
        if isinstance(func, ast.Attribute):
            if func.attr not in _METHODS or not can_be_celery(call) or cv.is_pool(index, func.value, site):
                continue
            if not celery and not _names_a_task(index, func.value, site):
                continue
            receiver = dotted_name(func.value) or _short(func.value)
            found.append(Launch(call, site, f"{receiver}.{func.attr}()", func.attr))
        elif isinstance(func, (ast.Call, ast.BinOp)):  # ``chain(...)()``, ``(a | b)()``
            how = cv.canvas_launch(index, call, site, frozenset())
            if how is not None:
                found.append(Launch(call, site, how, "canvas"))
    return found


def imports_celery(index: ModuleIndex) -> bool:
    """The module imports ``celery`` (or a ``celery.`` module) anywhere in its text (noted by the index walk)."""
    return index.imports_celery


def _names_a_task(index: ModuleIndex, receiver: ast.expr, site: Site) -> bool:
    """In a module that imports no celery: the launched name is a task the module defines, or is
    imported from a module named ``tasks`` (``from news.tasks import index``, ``from . import
    tasks``): Celery's ``autodiscover_tasks`` convention, the only per-module sign that a name
    imported from elsewhere is a Celery task."""
    root = receiver
    while isinstance(root, ast.Attribute):
        root = root.value
    if index.task_of(receiver, site) is not None or index.task_of(root, site) is not None:
        return True
    resolved = index.names.resolve(receiver) or ""
    if resolved.startswith(APP):
        return True
    return "tasks" in resolved.lstrip(".").split(".")[:-1] or (
        isinstance(receiver, ast.Attribute) and (index.names.resolve(receiver.value) or "").endswith("tasks"))


def _short(expr: ast.expr) -> str:
    if isinstance(expr, ast.Call):
        return f"{dotted_name(expr.func) or 'canvas'}(...)"
    return "(...)"


def transaction_around(index: ModuleIndex, launch: Launch) -> Around | None:
    """The transaction the launch sits in, read lexically (module docstring), or None."""
    node: ast.AST = launch.node
    while True:
        parent = index.parent(node)
        if parent is None or isinstance(parent, (ast.Lambda, ast.ClassDef)):
            return None
        if isinstance(parent, (ast.With, ast.AsyncWith)) and node in parent.body:
            for item in parent.items:
                if is_atomic(index, item.context_expr):
                    return Around(WITH, parent.lineno, f"with {_unparse(item.context_expr)}",
                                  using=database_of(item.context_expr), scope=parent)
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return _function_transaction(index, parent)
        node = parent


#: ORM and DB-API methods that write: a model's, a queryset's, a form's or a serializer's ``save``,
#: the queryset writes, ``cursor.execute``.
WRITES: Final = frozenset({"save", "create", "update", "delete", "bulk_create", "bulk_update", "get_or_create",
                           "update_or_create", "execute", "executemany", "callproc"})
#: A related manager's writes (``article.tags.add(tag)``): counted only on an attribute
#: (``obj.tags``), not on a plain name (``seen.add(x)`` is a set).
RELATED_WRITES: Final = frozenset({"add", "set", "remove", "clear"})


def written_before(index: ModuleIndex, launch: Launch, scope: ast.AST) -> bool:
    """Whether the transaction (the ``with`` block or function ``scope``) may have written before the
    launch: a write call (``WRITES``, ``RELATED_WRITES`` on an attribute) that precedes the launch
    in the scope's text, or anywhere in a loop holding the launch (the next turn follows it), or a
    call of a function of this module whose own text writes (one level). Calls of anything else
    (a helper imported from another module, a method) count as reading: the rule reads one module,
    and a view that checks permissions before launching writes nothing a worker could miss."""
    position = (launch.node.lineno, launch.node.col_offset)
    loops: list[ast.AST] = []
    node: ast.AST = launch.node
    while node is not scope:
        parent = index.parent(node)
        if parent is None:
            break
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.While)):
            loops.append(parent)
        node = parent
    for call in _calls(scope):
        if call is launch.node or not _writes(index, call, depth=1):
            continue
        if (call.lineno, call.col_offset) < position or any(_inside(index, call, loop) for loop in loops):
            return True
    return False


def _calls(scope: ast.AST) -> list[ast.Call]:
    """The calls in ``scope``'s body, not those of nested functions or lambdas (run later)."""
    found: list[ast.Call] = []
    bodied = (ast.With, ast.AsyncWith, ast.FunctionDef, ast.AsyncFunctionDef)
    stack: list[ast.AST] = list(scope.body) if isinstance(scope, bodied) else [scope]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _writes(index: ModuleIndex, call: ast.Call, depth: int) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr in WRITES or func.attr in RELATED_WRITES and isinstance(func.value, ast.Attribute)
    if isinstance(func, ast.Name) and depth > 0:
        helper = next((s for s in index.tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                       and s.name == func.id), None)
        return helper is not None and any(_writes(index, c, depth - 1) for c in _calls(helper))
    return False


def _inside(index: ModuleIndex, node: ast.AST, ancestor: ast.AST) -> bool:
    while node is not ancestor:
        parent = index.parent(node)
        if parent is None:
            return False
        node = parent
    return True


def enclosing_function(index: ModuleIndex, node: ast.AST) -> _Def | None:
    """The def the node runs in, None inside a lambda or at module or class level."""
    while True:
        parent = index.parent(node)
        if parent is None or isinstance(parent, (ast.Lambda, ast.ClassDef)):
            return None
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return parent
        node = parent


def is_atomic(index: ModuleIndex, expr: ast.expr) -> bool:
    """``transaction.atomic``, ``atomic(using=...)`` however imported (``django.db.transaction``),
    ``method_decorator(atomic)``; not a transaction on a replica (``using=`` naming a replica or a
    read-only database: it writes nothing a worker could miss)."""
    target = expr.func if isinstance(expr, ast.Call) else expr
    if isinstance(expr, ast.Call) and last_name(target) == "method_decorator" and expr.args:
        return is_atomic(index, expr.args[0])
    resolved = index.names.resolve(target)
    if resolved != ATOMIC and (resolved is not None or not (dotted_name(target) or "").endswith("transaction.atomic")):
        return False
    using = _using(expr) if isinstance(expr, ast.Call) else None
    return using is None or not any(word in ast.unparse(using).lower() for word in _READ_ONLY)


def database_of(expr: ast.expr) -> str:
    """The ``using=`` of an ``atomic(...)`` (or ``method_decorator(atomic(...))``) other than
    ``"default"``, as written; "" for the default database."""
    if not isinstance(expr, ast.Call):
        return ""
    if last_name(expr.func) == "method_decorator" and expr.args:
        return database_of(expr.args[0])
    using = _using(expr)
    if using is None or isinstance(using, ast.Constant) and using.value in ("default", None):
        return ""
    return ast.unparse(using)


def _using(call: ast.Call) -> ast.expr | None:
    """``atomic(using=None, savepoint=True, durable=False)``: ``using`` by keyword or first."""
    keyword = next((kw.value for kw in call.keywords if kw.arg == "using"), None)
    return keyword if keyword is not None or not call.args else call.args[0]


def _function_transaction(index: ModuleIndex, function: _Def) -> Around | None:
    for decorator in function.decorator_list:
        if is_atomic(index, decorator):
            return Around(DECORATOR, decorator.lineno, f"@{_unparse(decorator)}", function.name,
                          database_of(decorator), function)
    signal = _received_signal(index, function)
    if signal is not None:
        return Around(RECEIVER, function.lineno, signal, function.name)
    owner = index.parent(function)
    if function.name in ("save", "delete") and isinstance(owner, ast.ClassDef) and _is_model(index, owner):
        return Around(SAVE, function.lineno, f"{owner.name}.{function.name}()", function.name)
    return None


def _received_signal(index: ModuleIndex, function: _Def) -> str | None:
    """The model signal the function receives (``@receiver(post_save)``, ``post_save.connect(f)``)."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and last_name(decorator.func) == "receiver" and decorator.args:
            first = decorator.args[0]
            for signal in first.elts if isinstance(first, (ast.List, ast.Tuple)) else [first]:
                name = _signal_name(index, signal)
                if name is not None:
                    return name
    if isinstance(index.parent(function), ast.Module):
        return _connected(index).get(function.name)
    return None


def _signal_name(index: ModuleIndex, expr: ast.expr) -> str | None:
    resolved = index.names.resolve(expr) or ""
    if resolved.startswith(_SIGNALS):
        name = resolved[len(_SIGNALS):]
        if name in ALWAYS_ATOMIC_SIGNALS | SAVE_SIGNALS:
            return name
    return None


def _connected(index: ModuleIndex) -> dict[str, str]:
    """Module functions connected to a model signal: ``post_save.connect(fn, sender=...)``."""
    memo = index.memo.get("connected")
    if isinstance(memo, dict):
        return memo
    found: dict[str, str] = {}
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "connect":
            signal = _signal_name(index, func.value)
            handler = call.args[0] if call.args else next(
                (kw.value for kw in call.keywords if kw.arg == "receiver"), None)
            if signal is not None and isinstance(handler, ast.Name):
                found.setdefault(handler.id, signal)
    index.memo["connected"] = found
    return found


def _is_model(index: ModuleIndex, cls: ast.ClassDef) -> bool:
    """A Django model: a base resolving to ``django.db.models.Model``, named ``...Model`` (not
    pydantic's), or a model class of this module."""
    for base in cls.bases:
        resolved = index.names.resolve(base) or ""
        name = last_name(base) or ""
        if resolved.startswith(("pydantic", "msgspec")):
            continue
        if resolved == "django.db.models.Model" or name.endswith("Model"):
            return True
        if isinstance(base, ast.Name):
            local = next((s for s in index.tree.body if isinstance(s, ast.ClassDef) and s.name == base.id), None)
            if local is not None and local is not cls and _is_model(index, local):
                return True
    return False


def view_around(index: ModuleIndex, launch: Launch) -> Around | None:
    """The view the launch runs in (module docstring), or None."""
    function = enclosing_function(index, launch.node)
    if function is None or isinstance(function, ast.AsyncFunctionDef) or _non_atomic(function):
        return None
    owner = index.parent(function)
    if isinstance(owner, ast.ClassDef):
        if not _is_view_class(index, owner) or _non_atomic(owner) or any(
                _non_atomic(s) for s in owner.body if isinstance(s, ast.FunctionDef) and s.name == "dispatch"):
            return None
        return Around(VIEW, function.lineno, f"{owner.name}.{function.name}", f"{owner.name}.{function.name}",
                      scope=function)
    parameters = [*function.args.posonlyargs, *function.args.args]
    if parameters and parameters[0].arg == "request":
        return Around(VIEW, function.lineno, function.name, function.name, scope=function)
    return None


def _is_view_class(index: ModuleIndex, cls: ast.ClassDef) -> bool:
    for base in cls.bases:
        name = last_name(base) or ""
        if name.endswith(_VIEW_SUFFIXES):
            return True
        if isinstance(base, ast.Name):
            local = next((s for s in index.tree.body if isinstance(s, ast.ClassDef) and s.name == base.id), None)
            if local is not None and local is not cls and _is_view_class(index, local):
                return True
    return False


def _non_atomic(node: Union[ast.FunctionDef, ast.ClassDef]) -> bool:
    """``@transaction.non_atomic_requests`` or ``@method_decorator(non_atomic_requests, ...)``."""
    return any(isinstance(n, (ast.Name, ast.Attribute)) and last_name(n) == NON_ATOMIC
               for decorator in node.decorator_list for n in ast.walk(decorator))


def _unparse(expr: ast.expr) -> str:
    text = ast.unparse(expr)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class ViewLaunch:
    """A launch inside a transaction only when its caller holds one (the project-wide half of CB206,
    reported when the project's settings set ``ATOMIC_REQUESTS``): in a view with no transaction of
    its own, after a write (``kind`` ``view``); in a model's ``save()`` / ``delete()`` override
    (``save``) or a ``pre_save`` / ``post_save`` receiver (``receiver``), which Django runs in no
    transaction of its own."""

    line: int
    #: 1-based.
    column: int
    how: str
    method: str
    #: The view (``publish`` or ``ArticleViewSet.perform_create``), the override
    #: (``Article.save()``) or the signal (``post_save``), and the line of its ``def``.
    view: str
    view_line: int
    kind: str = VIEW
    #: The receiver's function name (``kind`` ``receiver``), or "".
    function: str = ""


def caller_dependent(around: Around) -> bool:
    """A ``save()`` / ``delete()`` override or a ``pre_save`` / ``post_save`` receiver: Django runs
    ``Model.save()`` in no transaction of its own (tests/truth/test_transaction_launch.py), so these
    are inside one only when their caller holds one."""
    return around.kind == SAVE or around.kind == RECEIVER and around.text in SAVE_SIGNALS


def view_launches(index: ModuleIndex) -> tuple[ViewLaunch, ...]:
    """The module's launches inside a transaction only when the caller holds one (``ViewLaunch``)."""
    found = []
    for launch in launches(index):
        if launch.method in ON_COMMIT:
            continue
        call = launch.node
        around = transaction_around(index, launch)
        if around is not None:
            if caller_dependent(around):
                found.append(ViewLaunch(call.lineno, call.col_offset + 1, launch.how, launch.method, around.text,
                                        around.line, around.kind, around.function))
            continue
        view = view_around(index, launch)
        if view is not None and view.scope is not None and written_before(index, launch, view.scope):
            found.append(ViewLaunch(call.lineno, call.col_offset + 1, launch.how, launch.method, view.text,
                                    view.line))
    return tuple(found)
