"""CB201 private task launched directly, CB202 public task used only as a receiving canvas link,
CB203 canvas launched inside a task body, CB204 blocking on a result inside a task body."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from celery_boundary.analysis import canvas as cv
from celery_boundary.analysis.index import ModuleIndex, Site, TaskDef
from celery_boundary.analysis.names import LOCAL, last_name
from celery_boundary.core.findings import Finding
from celery_boundary.checks.common import RuleSettings, report

_Variables = tuple[frozenset[str], frozenset[str]]


def check(index: ModuleIndex, settings: RuleSettings) -> Iterator[Finding]:
    cache: dict[int, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {}
    uses = uses_of_tasks(index)
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        yield from _check_private_launch(index, call, site, uses)
        if site.task is not None:
            variables = _variables(index, site, cache)
            yield from _check_canvas_launch(index, call, site, variables, uses)
            yield from _check_blocking(index, call, site, variables)
    yield from _check_chain_only(index, uses)


def uses_of_tasks(index: ModuleIndex) -> dict[str, list[str]]:
    """How this module uses each function task it defines: positions (``analysis.canvas``) of
    every reference, plus ``alone`` when a string names it (a beat entry, ``send_task``)."""
    uses: dict[str, list[str]] = {}
    for ref in index.task_refs:
        task = index.task_of(ref.node, ref)  # type: ignore[arg-type]
        if task is not None and not task.is_class:
            uses.setdefault(task.name, []).append(_use_of(index, ref))
    for task in index.tasks.values():
        if _named_elsewhere(index, task):
            uses.setdefault(task.name, []).append(cv.ALONE)
    return uses


def _chain_only(task: TaskDef, uses: dict[str, list[str]]) -> bool:
    """Evidence that a private task is a chain-only link, not merely module-private: the ``__name``
    convention, or a use as a canvas link in this module (taiga's ``_name`` tasks are launched by
    their own module and never chained)."""
    return task.name.startswith("__") or any(k in (cv.LINK, cv.RECEIVING) for k in uses.get(task.name, ()))


def _variables(index: ModuleIndex, site: Site,
               cache: dict[int, tuple[frozenset[str], frozenset[str], frozenset[str]]]) -> _Variables:
    return cv.variables_at(index, site, cache)


# --- CB201 -------------------------------------------------------------------------------------


def _check_private_launch(index: ModuleIndex, call: ast.Call, site: Site,
                          uses: dict[str, list[str]]) -> Iterator[Finding]:
    func = call.func
    how: str
    if isinstance(func, ast.Attribute) and func.attr in cv.LAUNCH_METHODS:
        receiver = func.value
        if cv.is_pool(index, receiver, site):
            return
        how = f".{func.attr}()"
        task = _private_task_name(index, receiver, site, uses)
        inner = cv.is_signature_of(index, receiver, site)
        if task is None and inner is not None and inner.private and _chain_only(inner, uses) and isinstance(
                receiver, ast.Call):
            # ``_t.s(...).delay()``: a signature of the task launched on its own
            task = inner.name
            how = f".{receiver.func.attr}(...){how}"  # type: ignore[attr-defined]
    else:
        found = index.task_of(func, site)
        private = found is not None and found.private and _chain_only(found, uses)
        task = found.name if found is not None and private and found is not site.task else None
        how = "(...) (a plain call runs it in this process, outside any canvas)"
    if task is not None:
        yield report(call, "CB201", (
            f"private task {task!r} launched directly with {task}{how}: a '_'-prefixed task is by "
            "convention a chain-only link that gets its input from the previous step; launch the "
            "canvas it belongs to, or rename the task without the underscore if it is meant to run "
            "on its own"))


def _private_task_name(index: ModuleIndex, receiver: ast.expr, site: Site,
                       uses: dict[str, list[str]]) -> str | None:
    task = index.task_of(receiver, site)
    if task is not None:
        return task.name if task.private and _chain_only(task, uses) else None
    # An imported task (``from .tasks import _reserve`` / ``tasks._reserve``): ``.delay`` on it
    # tells it is a task; the name tells it is private to its module, which this module crosses
    # (private in either sense: chain-only or module-private).
    name = last_name(receiver)
    if name is None or not name.startswith("_") or name.startswith("__") and name.endswith("__"):
        return None
    if isinstance(receiver, ast.Name):
        resolved = index.resolve(receiver, site)
        return name if resolved is not None and not resolved.startswith(LOCAL) else None
    if isinstance(receiver, ast.Attribute) and isinstance(receiver.value, ast.Name):
        resolved = index.resolve(receiver.value, site)
        return name if resolved is not None and not resolved.startswith(LOCAL) and resolved != "<app>" else None
    return None


# --- CB203 -------------------------------------------------------------------------------------


def _check_canvas_launch(index: ModuleIndex, call: ast.Call, site: Site, variables: _Variables,
                         uses: dict[str, list[str]]) -> Iterator[Finding]:
    how = cv.canvas_launch(index, call, site, variables[0])
    task = site.task
    if how is None or task is None:
        return
    kinds = uses.get(task.name, [])
    if kinds and all(kind == cv.ALONE for kind in kinds):
        return  # a dispatcher this module only launches on its own: nothing is chained after it
    yield report(call, "CB203", (
        f"task {task.name!r} launches a canvas ({how}) inside its body: the task finishes before the "
        "inner canvas does, so whatever is chained after this task runs too early (the nested "
        "chain race); return the signature from the task, or call self.replace(canvas) in a "
        "bound task"))


# --- CB204 -------------------------------------------------------------------------------------


def _check_blocking(index: ModuleIndex, call: ast.Call, site: Site, variables: _Variables) -> Iterator[Finding]:
    task = site.task
    assert task is not None
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in cv.BLOCKING_METHODS:
        if cv.is_result(index, func.value, site, variables[0], variables[1]):
            yield report(call, "CB204", (
                f"task {task.name!r} blocks on another task's result (.{func.attr}()): a worker "
                "process waiting for a task that needs a free worker can deadlock the pool "
                "(Celery raises RuntimeError unless disable_sync_subtasks=False); chain the work "
                "that needs the result as a callback (a | b, link=) instead"))
    elif last_name(func) == "allow_join_result":
        resolved = index.resolve(func, site)
        if resolved is None or resolved.startswith("celery"):
            yield report(call, "CB204", (
                f"task {task.name!r} uses allow_join_result() to wait for results inside a task: "
                "this switches off Celery's guard against deadlocking the worker pool; chain the "
                "work that needs the result as a callback instead"))


# --- CB202 -------------------------------------------------------------------------------------


def _check_chain_only(index: ModuleIndex, uses: dict[str, list[str]]) -> Iterator[Finding]:
    for name, kinds in uses.items():
        task = index.tasks[name]
        if task.private or cv.RECEIVING not in kinds or any(k not in (cv.RECEIVING, cv.LINK) for k in kinds):
            continue
        yield report(task.node, "CB202", (
            f"task {name!r} is used in this module only as a canvas link that receives another "
            "task's result, and is never launched on its own: make it private (rename it "
            f"'_{name}') so that nobody launches it without its input"))


def _use_of(index: ModuleIndex, ref: Site) -> str:
    parent = index.parent(ref.node)
    if isinstance(parent, ast.Attribute) and parent.value is ref.node:
        call = index.parent(parent)
        if isinstance(call, ast.Call) and call.func is parent:
            if parent.attr in cv.SIGNATURE_METHODS:
                return _signature_use(index, call, ref)
            if parent.attr in cv.LAUNCH_METHODS or parent.attr == "apply":
                return cv.ALONE
    if isinstance(parent, ast.Call) and parent.func is ref.node:
        return cv.ALONE
    return cv.UNKNOWN


def _signature_use(index: ModuleIndex, call: ast.Call, ref: Site) -> str:
    where = cv.position(index, call, ref)
    if where != cv.UNKNOWN:
        return where
    # ``t2 = total.s()`` then ``chain(t1, t2)``: follow the variable inside the same scope.
    parent = index.parent(call)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        return _variable_use(index, parent.targets[0].id, ref, call)
    return cv.UNKNOWN


def _variable_use(index: ModuleIndex, variable: str, ref: Site, signature: ast.Call) -> str:
    scope = ref.scopes[-1] if ref.scopes else index.tree
    kinds: list[str] = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and node.id == variable:
            if isinstance(node.ctx, ast.Store):
                continue
            where = cv.position(index, node, ref)
            if where == cv.RECEIVING and signature.func.attr == "si":  # type: ignore[attr-defined]
                where = cv.LINK
            kinds.append(where)
    if not kinds or any(k not in (cv.RECEIVING, cv.LINK) for k in kinds):
        return cv.UNKNOWN
    return cv.RECEIVING if cv.RECEIVING in kinds else cv.LINK


def _named_elsewhere(index: ModuleIndex, task: TaskDef) -> bool:
    """The module names the task in a string (a beat entry, send_task): launched on its own."""
    explicit = task.task_name
    for text in index.strings:
        if text == explicit or text == task.name or text.endswith("." + task.name):
            return True
    return False
