"""CB201 private task launched directly, CB202 public task used only as a receiving canvas link or
error callback whose input it reads, CB203 canvas launched inside a task body, CB204 blocking on a
result inside a task body.

``check`` judges one module from its own uses of its tasks (``analysis.uses``); ``check_project``
corrects CB202 and CB203 with what the other modules do (``analysis.project``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

from celery_boundary.analysis import canvas as cv
from celery_boundary.analysis.call_shapes import can_be_celery
from celery_boundary.analysis.project import Project
from celery_boundary.analysis.task_input import ignores_input
from celery_boundary.analysis.uses import CANVAS_ONLY, ON_ITS_OWN, local_kinds, module_uses
from celery_boundary.analysis.index import ModuleIndex, Site, TaskDef
from celery_boundary.analysis.symbols import LOCAL, last_name
from celery_boundary.core.findings import Finding
from celery_boundary.checks.common import RuleSettings, report

PRIVATE_LAUNCHED: Final = "CB201"
CHAIN_ONLY: Final = "CB202"
CANVAS_IN_TASK: Final = "CB203"
BLOCKING: Final = "CB204"
#: The codes this group reports.
CODES: Final = (PRIVATE_LAUNCHED, CHAIN_ONLY, CANVAS_IN_TASK, BLOCKING)
#: The codes whose findings ``check_project`` adds or withdraws.
PROJECT_CODES: Final = (CHAIN_ONLY, CANVAS_IN_TASK)

_Variables = tuple[frozenset[str], frozenset[str]]


def check(index: ModuleIndex, settings: RuleSettings) -> Iterator[Finding]:
    cache: dict[int, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {}
    uses = local_kinds(index, module_uses(index))
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        yield from _check_private_launch(index, call, site, uses)
        if site.task is not None:
            variables = _variables(index, site, cache)
            yield from _check_canvas_launch(index, call, site, variables, uses)
            yield from _check_blocking(index, call, site, variables)
    yield from _check_chain_only(index, uses)


def _chain_only(task: TaskDef, uses: dict[str, list[str]]) -> bool:
    """Evidence that a private task is a chain-only link, not merely module-private: the ``__name``
    convention, or a use as a canvas link in this module (taiga's ``_name`` tasks are launched by
    their own module and never chained)."""
    return task.name.startswith("__") or any(k in CANVAS_ONLY for k in uses.get(task.name, ()))


def _variables(index: ModuleIndex, site: Site,
               cache: dict[int, tuple[frozenset[str], frozenset[str], frozenset[str]]]) -> _Variables:
    return cv.variables_at(index, site, cache)


# --- CB201 -------------------------------------------------------------------------------------


def _check_private_launch(index: ModuleIndex, call: ast.Call, site: Site,
                          uses: dict[str, list[str]]) -> Iterator[Finding]:
    func = call.func
    how: str
    if not can_be_celery(call):
        return
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
        yield report(call, PRIVATE_LAUNCHED, (
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
    if kinds and all(kind in ON_ITS_OWN for kind in kinds):
        return  # a dispatcher this module only launches on its own: nothing is chained after it
    yield report(call, CANVAS_IN_TASK, (
        f"task {task.name!r} launches a canvas ({how}) inside its body: the task finishes before the "
        "inner canvas does, so whatever is chained after this task runs too early (the nested "
        "chain race); in a bound task (bind=True) raise self.replace(canvas) so the canvas takes the "
        "task's place, or launch the canvas from the caller (a signature the task returns is only "
        "stored as its result, never run)"))


# --- CB204 -------------------------------------------------------------------------------------


def _check_blocking(index: ModuleIndex, call: ast.Call, site: Site, variables: _Variables) -> Iterator[Finding]:
    task = site.task
    assert task is not None
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in cv.BLOCKING_METHODS and can_be_celery(call):
        if cv.is_result(index, func.value, site, variables[0], variables[1]):
            yield report(call, BLOCKING, (
                f"task {task.name!r} blocks on another task's result (.{func.attr}()): a worker "
                "process waiting for a task that needs a free worker can deadlock the pool "
                "(Celery raises RuntimeError unless disable_sync_subtasks=False); chain the work "
                "that needs the result as a callback (a | b, link=) instead"))
    elif last_name(func) == "allow_join_result":
        resolved = index.resolve(func, site)
        if resolved is None or resolved.startswith("celery"):
            yield report(call, BLOCKING, (
                f"task {task.name!r} uses allow_join_result() to wait for results inside a task: "
                "this switches off Celery's guard against deadlocking the worker pool; chain the "
                "work that needs the result as a callback instead"))


# --- CB202 -------------------------------------------------------------------------------------


def _check_chain_only(index: ModuleIndex, uses: dict[str, list[str]]) -> Iterator[Finding]:
    for name, kinds in uses.items():
        task = index.tasks[name]
        if task.private or not cv.RECEIVES & set(kinds) or any(k not in CANVAS_ONLY for k in kinds):
            continue
        if _ignores_what_it_receives(task, kinds):
            continue  # ``def finish(self, *_)``: runs the same launched on its own
        yield report(task.node, CHAIN_ONLY, _chain_only_message(name, "module", kinds))


def _ignores_what_it_receives(task: TaskDef, kinds: Iterable[str]) -> bool:
    """Each kind of input the uses hand the task (a result, a failure) is one it never reads."""
    received = set(kinds) & cv.RECEIVES
    return all(ignores_input(task, errback=kind == cv.ERRBACK) for kind in received)


def _chain_only_message(name: str, scope: str, kinds: Iterable[str], places: Sequence[str] = ()) -> str:
    """CB202's message, about one module or the whole project (then with the uses it saw), worded by
    what the task receives: a result (a receiving link) or a failure (an error callback)."""
    where = ""
    if places:
        where = " (" + ", ".join(places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "") + ")"
    everywhere = " in every module that references it" if scope == "project" else ""
    received = set(kinds)
    if cv.RECEIVING not in received:
        use = ("an error callback (link_error=, .on_error()) that receives the failed task's id, or its "
               "request, exception and traceback")
    elif cv.ERRBACK in received:
        use = ("a canvas link that receives another task's result, or an error callback (link_error=, "
               ".on_error()) that receives a failed task's id or request")
    else:
        use = "a canvas link that receives another task's result"
    return (f"task {name!r} is used in this {scope} only as {use}{where}, and is never launched on its "
            f"own: make it private (rename it '_{name}'{everywhere}) so that nobody launches it without "
            "its input")


# --- across modules -----------------------------------------------------------------------------


def check_project(project: Project, findings: list[Finding], chosen: frozenset[str]) -> list[Finding]:
    """``findings`` (every module's) corrected by what the whole project shows:

    - a per-module CB202 is withdrawn when another module launches the task on its own (``.delay()``,
      a plain call, ``apply_async``), names it in a string (``send_task("pkg.tasks.total")``, a beat
      entry), or uses it in a way no rule understands (stored, passed on): silence when unsure;
    - a public task that other modules use only as a receiving canvas link and that nobody launches
      on its own is a CB202 at its definition (when CB202 is ``chosen``), even when its own module
      never mentions it;
    - a per-module CB203 is withdrawn when the project launches the task only on its own and never
      uses it in a canvas or in a way no rule understands: nothing is chained after it, so no race
      (a beat-launched dispatcher, docs/validation.md F2).
    """
    return _withdraw_lone_dispatchers(project, _chain_only_across(project, findings, chosen))


def _chain_only_across(project: Project, findings: list[Finding], chosen: frozenset[str]) -> list[Finding]:
    reported = {(f.path, f.line) for f in findings if f.code == CHAIN_ONLY}
    withdrawn: set[tuple[str, int]] = set()
    added: list[Finding] = []
    for dotted, (home, task) in project.tasks.items():
        elsewhere = project.uses_elsewhere(dotted, home)
        naming_modules = project.naming_modules(task, home.module)
        named = any(module != home.module for module in naming_modules)
        if (home.path, task.line) in reported:
            if named or any(use.kind not in CANVAS_ONLY for _, use in elsewhere):
                withdrawn.add((home.path, task.line))
            continue
        kinds = project.kinds(dotted)
        if not elsewhere or not kinds <= CANVAS_ONLY or not kinds & cv.RECEIVES:
            continue
        ignored = {cv.RECEIVING: task.ignores_result, cv.ERRBACK: task.ignores_failure}
        if task.silenced or all(ignored[kind] for kind in kinds & cv.RECEIVES) or named or (
                home.module in naming_modules):
            continue
        # The evidence: the uses that receive a result or a failure (a link that receives none is no reason).
        places = sorted({f"{module.path}:{use.line}" for module, use in elsewhere if use.kind in cv.RECEIVES})
        added.append(Finding(home.path, task.line, task.column, CHAIN_ONLY,
                             _chain_only_message(task.name, "project", kinds, places), task.source_line))
    kept = [f for f in findings if not (f.code == CHAIN_ONLY and (f.path, f.line) in withdrawn)]
    return kept + (added if CHAIN_ONLY in chosen else [])


def _withdraw_lone_dispatchers(project: Project, findings: list[Finding]) -> list[Finding]:
    if not any(f.code == CANVAS_IN_TASK for f in findings):
        return findings
    alone: dict[str, list[tuple[int, int]]] = {}
    for dotted, (home, task) in project.tasks.items():
        kinds = project.kinds(dotted)
        launched = bool(kinds & ON_ITS_OWN) or bool(project.naming_modules(task, home.module))
        if launched and kinds <= ON_ITS_OWN:
            alone.setdefault(home.path, []).append((task.line, task.end_line or task.line))
    return [f for f in findings if not (
        f.code == CANVAS_IN_TASK and any(start <= f.line <= end for start, end in alone.get(f.path, ())))]
