"""Where a task reference sits in a canvas, what is a canvas, what is a result (ast only).

Used by CB201-CB204 and CB401. Positions (celery 5.7 semantics):
- ``receiving``: the signature gets a parent's result (a mutable signature after the first step of
  a chain or ``|``, a chord body, a ``link=`` callback, members of a group in such a position);
- ``errback``: a mutable error callback (``link_error=``, ``.on_error()``, ``.link_error()``): it gets
  the failed task's id, or (a function task of more than one parameter) its request, exception and
  traceback, not a result;
- ``link``: inside a canvas but not receiving (first step, group member, chord header);
- ``alone``: launched on its own (``.delay()``, ``.apply_async()``, called, a periodic entry);
- ``unknown``: any other use (stored, returned, passed on) - rules stay silent.
"""

from __future__ import annotations

import ast
from typing import Final

from celery_boundary.analysis.call_shapes import can_be_celery
from celery_boundary.analysis.index import ModuleIndex, Site, TaskDef
from celery_boundary.analysis.symbols import CANVAS_CALLS, RESULT_CLASSES, SIGNATURE_CALLS, ScopeNode, dotted_name

RECEIVING: Final = "receiving"
ERRBACK: Final = "errback"
#: Positions whose task gets input from another task (a result, or a failure).
RECEIVES: Final = frozenset({RECEIVING, ERRBACK})
LINK: Final = "link"
ALONE: Final = "alone"
UNKNOWN: Final = "unknown"

#: Methods of a task that build a signature (``chunks``/``map``/``starmap`` build a canvas).
SIGNATURE_BUILDERS: Final = frozenset({"s", "si", "signature", "subtask", "map", "starmap", "chunks"})
#: Methods that send a message now (``delay_on_commit``: celery 5.4+ Django integration).
LAUNCH_METHODS: Final = frozenset({"delay", "apply_async", "delay_on_commit", "apply_async_on_commit"})
#: Methods of a signature that return a signature (so the position is that of the call).
_CLONING: Final = frozenset({"set", "clone", "on_error", "link", "link_error", "set_immutable", "freeze"})
#: Methods that block until a result arrives (celery.result.AsyncResult / ResultSet, 5.7).
BLOCKING_METHODS: Final = frozenset({"get", "wait", "join", "join_native", "collect"})
_CONTAINERS = (ast.List, ast.Tuple, ast.Set, ast.Starred, ast.GeneratorExp, ast.ListComp)


def is_signature_of(index: ModuleIndex, expr: ast.AST, site: Site) -> TaskDef | None:
    """The module task ``expr`` makes a signature of (``t.s(...)``, ``t.si(...)``)."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        if expr.func.attr in SIGNATURE_BUILDERS and can_be_celery(expr):
            return index.task_of(expr.func.value, site)
    return None


def is_signature(index: ModuleIndex, expr: ast.AST, site: Site) -> bool:
    """Any signature: ``x.s()``, ``x.si()``, ``signature("name")``, ``x.s().set(...)``."""
    if not isinstance(expr, ast.Call):
        return False
    func = expr.func
    if isinstance(func, ast.Attribute):
        if func.attr in ("s", "si"):
            return True
        if func.attr in _CLONING and can_be_celery(expr):
            return is_signature(index, func.value, site)
    return index.resolve(func, site) in SIGNATURE_CALLS


def is_canvas(index: ModuleIndex, expr: ast.AST, site: Site, variables: frozenset[str] = frozenset()) -> bool:
    """A chain, group, chord, chunks or ``a | b`` (a canvas object, not yet launched)."""
    if isinstance(expr, ast.Name):
        return expr.id in variables
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        sides = (expr.left, expr.right)
        return any(is_signature(index, s, site) or is_canvas(index, s, site, variables) for s in sides)
    if not isinstance(expr, ast.Call):
        return False
    func = expr.func
    if isinstance(func, ast.Attribute) and not can_be_celery(expr):
        return False
    if isinstance(func, ast.Attribute) and func.attr in ("set", "clone", "on_error", "link", "link_error"):
        return is_canvas(index, func.value, site, variables)
    if isinstance(func, ast.Attribute) and func.attr in ("chunks", "map", "starmap"):
        return index.task_of(func.value, site) is not None
    return index.resolve(func, site) in CANVAS_CALLS


def canvas_launch(index: ModuleIndex, call: ast.Call, site: Site, variables: frozenset[str]) -> str | None:
    """How ``call`` launches a canvas (``chain(...).delay()``, ``group(...)()``,
    ``chord(header)(body)``), as text for the message; None when it does not."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in LAUNCH_METHODS:
        if can_be_celery(call) and is_canvas(index, func.value, site, variables):
            return f"{_describe(index, func.value, site)}.{func.attr}()"
        return None
    if is_canvas(index, func, site, variables):
        return f"{_describe(index, func, site)}(...)"
    return None


def _describe(index: ModuleIndex, expr: ast.expr, site: Site) -> str:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.BinOp):
        return "(a | b)"
    if isinstance(expr, ast.Call):
        resolved = index.resolve(expr.func, site) or ""
        return f"{resolved.rsplit('.', 1)[-1] or 'canvas'}(...)"
    return "canvas"


def is_result(index: ModuleIndex, expr: ast.AST, site: Site, variables: frozenset[str],
              results: frozenset[str]) -> bool:
    """An AsyncResult: what ``.delay`` / ``.apply_async`` / ``send_task`` / a canvas launch /
    ``AsyncResult(...)`` return, or a local variable assigned one of those."""
    if isinstance(expr, ast.Name):
        return expr.id in results
    if not isinstance(expr, ast.Call):
        return False
    func = expr.func
    if isinstance(func, ast.Attribute) and func.attr in (*LAUNCH_METHODS, "send_task"):
        return can_be_celery(expr) and not is_pool(index, func.value, site)
    if isinstance(func, (ast.Name, ast.Attribute)):
        name = func.attr if isinstance(func, ast.Attribute) else func.id
        if name in ("AsyncResult", "GroupResult", "ResultSet"):
            resolved = index.resolve(func, site)
            return resolved is None or resolved in RESULT_CLASSES or isinstance(func, ast.Attribute)
        if isinstance(func, ast.Attribute) and func.attr == "restore" and isinstance(
                func.value, (ast.Name, ast.Attribute)):
            return (index.resolve(func.value, site) or "") == "celery.result.GroupResult"
    return canvas_launch(index, expr, site, variables) is not None


def position(index: ModuleIndex, expr: ast.AST, site: Site) -> str:
    """Where a signature expression sits (see the module docstring)."""
    parent = index.parent(expr)
    if parent is None:
        return UNKNOWN
    if isinstance(parent, ast.Attribute) and parent.value is expr:  # ``expr.method(...)``
        call = index.parent(parent)
        if isinstance(call, ast.Call) and call.func is parent:
            return _position_in_call(index, expr, call, site)
        return UNKNOWN
    if isinstance(parent, ast.Call):
        return _position_in_call(index, expr, parent, site)
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.BitOr):
        if expr is parent.right:
            return _mutable(expr, RECEIVING)
        # The first step receives only when the whole pipe does (like the first step of a chain).
        outer = position(index, parent, site)
        return _mutable(expr, outer) if outer in RECEIVES else LINK
    if isinstance(parent, ast.Assign) and parent.value is expr and len(parent.targets) == 1 and isinstance(
            parent.targets[0], ast.Name):
        return _variable_launch(index, parent.targets[0].id, site)
    if isinstance(parent, ast.keyword):
        call = index.parent(parent)
        if isinstance(call, ast.Call):
            if parent.arg == "link":
                return _mutable(expr, RECEIVING)
            if parent.arg == "link_error":
                return _mutable(expr, ERRBACK)
            resolved = index.resolve(call.func, site)
            if resolved == "celery.chord":
                return _mutable(expr, RECEIVING) if parent.arg == "body" else LINK
            if resolved in CANVAS_CALLS:
                return LINK
        return UNKNOWN
    if isinstance(parent, _CONTAINERS) or isinstance(parent, ast.comprehension):
        return _position_in_container(index, expr, parent, site)
    return UNKNOWN


def _position_in_call(index: ModuleIndex, expr: ast.AST, call: ast.Call, site: Site) -> str:
    func = call.func
    if expr is func:  # ``expr(...)``: the signature is called -> launched now
        return ALONE
    if not can_be_celery(call):
        return UNKNOWN
    if isinstance(func, ast.Attribute) and func.value is expr:
        if func.attr in LAUNCH_METHODS or func.attr in ("apply", "delay"):
            return ALONE
        if func.attr in _CLONING:
            return position(index, call, site)
        return UNKNOWN
    if isinstance(func, ast.Attribute) and func.attr == "link":
        return _mutable(expr, RECEIVING)
    if isinstance(func, ast.Attribute) and func.attr in ("link_error", "on_error"):
        return _mutable(expr, ERRBACK)
    if isinstance(func, ast.Attribute) and func.attr == "add_periodic_task":
        return ALONE
    resolved = index.resolve(func, site)
    args = call.args
    index_of = next((i for i, a in enumerate(args) if a is expr), -1)
    if resolved == "celery.chain":
        if index_of == 0 and len(args) == 1 and position(index, call, site) == ALONE:
            return ALONE  # ``chain(t.si())()``: one step launched on its own
        return _mutable(expr, RECEIVING) if index_of > 0 else _first_step(index, call, site)
    if resolved == "celery.group":
        return _group_member(index, call, expr, site)
    if resolved == "celery.chord":
        return _mutable(expr, RECEIVING) if index_of == 1 else LINK
    if isinstance(func, ast.Call) and index.resolve(func.func, site) == "celery.chord":
        return _mutable(expr, RECEIVING)  # chord(header)(body)
    return UNKNOWN


def _variable_launch(index: ModuleIndex, variable: str, site: Site) -> str:
    """``children = group(...)`` then only ``children.delay()`` (or ``children()``): the canvas held
    by a variable of the function, assigned once and only launched on its own, is launched on its
    own (celery's web crawler example); any other use of the variable is not judged here."""
    scope = next((s for s in reversed(site.scopes) if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))),
                 None)
    stores = 0
    loads: list[ast.Name] = []
    for node in ast.walk(scope if scope is not None else index.tree):
        if isinstance(node, ast.Name) and node.id == variable:
            if isinstance(node.ctx, ast.Load):
                loads.append(node)
            else:
                stores += 1
    if stores == 1 and loads and all(position(index, load, site) == ALONE for load in loads):
        return ALONE
    return UNKNOWN


def _first_step(index: ModuleIndex, canvas: ast.AST, site: Site) -> str:
    """The first step of a chain receives only when the chain itself does."""
    outer = position(index, canvas, site)
    return outer if outer in RECEIVES else LINK


def _group_member(index: ModuleIndex, group: ast.AST, expr: ast.AST, site: Site) -> str:
    """A member receives when the group does; a group launched on its own (``group(...)()``,
    ``.apply_async()``, ``.delay()``) launches each member on its own: nothing is chained after it."""
    outer = position(index, group, site)
    if outer == ALONE:
        return ALONE
    return _mutable(expr, outer) if outer in RECEIVES else LINK


def _position_in_container(index: ModuleIndex, expr: ast.AST, container: ast.AST, site: Site) -> str:
    if isinstance(container, ast.comprehension):
        return UNKNOWN  # the iterable of a loop, not an element
    if isinstance(container, (ast.GeneratorExp, ast.ListComp)) and expr is not container.elt:
        return UNKNOWN
    holder = index.parent(container)
    if isinstance(holder, ast.Call) and container in holder.args:
        resolved = index.resolve(holder.func, site)
        if resolved == "celery.chain" and isinstance(container, (ast.List, ast.Tuple)) and len(holder.args) == 1:
            first = container.elts[0] if container.elts else None
            if len(container.elts) == 1 and position(index, holder, site) == ALONE:
                return ALONE  # ``chain([t.si()]).delay()``
            return LINK if expr is first else _mutable(expr, RECEIVING)
        if resolved in ("celery.group", "celery.chord") and holder.args[0] is container:
            return _group_member(index, holder, expr, site) if resolved == "celery.group" else LINK
        if resolved == "celery.chain" and isinstance(container, ast.Starred):
            return UNKNOWN
    if isinstance(holder, ast.keyword) and holder.arg == "header":
        return LINK
    if isinstance(container, ast.Starred):
        return UNKNOWN
    return UNKNOWN


def _mutable(expr: ast.AST, where: str) -> str:
    """An immutable signature (``.si()``) ignores the parent's result (or failure): not receiving."""
    if where in RECEIVES and isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        if expr.func.attr == "si":
            return LINK
    return where


def local_variables(index: ModuleIndex, scope: ScopeNode | None, site: Site) -> tuple[frozenset[str], frozenset[str]]:
    """Names a function assigns a canvas to, and names it assigns a result to (flow-insensitive:
    a name also assigned anything else is left out)."""
    canvases: set[str] = set()
    results: set[str] = set()
    other: set[str] = set()
    if scope is None:
        return frozenset(), frozenset()
    for assign in index.assigns:
        if not assign.scopes or assign.scopes[-1] is not scope:
            continue
        node = assign.node
        if not isinstance(node, ast.Assign) or len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            continue
        name = node.targets[0].id
        if is_canvas(index, node.value, assign, frozenset(canvases)):
            canvases.add(name)
        elif is_result(index, node.value, assign, frozenset(canvases), frozenset(results)):
            results.add(name)
        else:
            other.add(name)
    return frozenset(canvases - other), frozenset(results - other)


_Scoped = tuple[frozenset[str], frozenset[str], frozenset[str]]


def variables_at(index: ModuleIndex, site: Site, cache: dict[int, _Scoped]) -> tuple[frozenset[str], frozenset[str]]:
    """Canvas and result variables visible at ``site``: those of every enclosing scope, including
    loop and comprehension variables that run over a list of results
    (``results = [t.delay(i) for i in ids]`` then ``for r in results: r.get()``)."""
    canvases: set[str] = set()
    results: set[str] = set()
    lists: set[str] = set()
    for scope in site.scopes:
        key = id(scope)
        if key not in cache:
            cache[key] = _scope_variables(index, scope, site, frozenset(lists))
        scoped_canvases, scoped_results, scoped_lists = cache[key]
        canvases |= scoped_canvases
        results |= scoped_results
        lists |= scoped_lists
    return frozenset(canvases), frozenset(results)


def _scope_variables(index: ModuleIndex, scope: ScopeNode, site: Site, outer_lists: frozenset[str]) -> _Scoped:
    if isinstance(scope, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        loop = frozenset(_loop_targets(scope.generators, outer_lists))
        return frozenset(), loop, frozenset()
    canvases, results = local_variables(index, scope, site)
    lists: set[str] = set()
    for assign in index.assigns:
        node = assign.node
        if not assign.scopes or assign.scopes[-1] is not scope or not isinstance(node, ast.Assign):
            continue
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if _is_result_list(index, node.value, assign, canvases):
                lists.add(node.targets[0].id)
    known = lists | outer_lists
    loops: set[str] = set()
    if known and not isinstance(scope, ast.Lambda):
        for node in ast.walk(scope):
            if isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.iter, ast.Name) and node.iter.id in known:
                if isinstance(node.target, ast.Name):
                    loops.add(node.target.id)
    return canvases, results | frozenset(loops), frozenset(lists)


def _is_result_list(index: ModuleIndex, expr: ast.expr, site: Site, canvases: frozenset[str]) -> bool:
    if isinstance(expr, (ast.ListComp, ast.GeneratorExp)):
        return is_result(index, expr.elt, site, canvases, frozenset())
    if isinstance(expr, (ast.List, ast.Tuple)) and expr.elts:
        return all(is_result(index, item, site, canvases, frozenset()) for item in expr.elts)
    return False


def _loop_targets(generators: list[ast.comprehension], lists: frozenset[str]) -> list[str]:
    return [gen.target.id for gen in generators
            if isinstance(gen.iter, ast.Name) and gen.iter.id in lists and isinstance(gen.target, ast.Name)]


_POOL_WORDS: Final = ("pool", "executor")


def is_pool(index: ModuleIndex, receiver: ast.expr, site: Site) -> bool:
    """``multiprocessing`` pools also have ``apply_async(...).get()``: a receiver named like a
    pool, or a local name bound to ``Pool(...)`` / ``ThreadPool(...)`` / ``*Executor(...)``
    (also through ``with ... as p``), is not a Celery task."""
    text = (dotted_name(receiver) or "").lower()
    if any(word in text for word in _POOL_WORDS):
        return True
    if not isinstance(receiver, ast.Name) or not site.scopes:
        return False
    for node in ast.walk(site.scopes[0]):
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == receiver.id for t in node.targets):
            value = node.value
        elif isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name) and \
                node.optional_vars.id == receiver.id:
            value = node.context_expr
        if isinstance(value, ast.Call):
            called = (dotted_name(value.func) or "").lower()
            if any(word in called for word in _POOL_WORDS):
                return True
    return False
