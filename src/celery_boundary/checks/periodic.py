"""CB401 a periodic task without expiry (and, through ``checks.crontab_fields``, CB402 a crontab
with an hour and no minute): ``beat_schedule`` entries in any style, ``add_periodic_task``
and the legacy ``@periodic_task`` without ``expires``.

Celery beat (5.7) sends a message every period whether or not the last one was consumed; with no
``expires`` a slow or stopped worker comes back to a queue full of stale runs. In a schedule entry
``expires`` must sit inside ``options`` (``ScheduleEntry`` rejects a top-level ``expires`` with
TypeError); ``add_periodic_task(..., expires=...)`` and ``sig.set(expires=...)`` put it there.
A task that sets ``expires=`` on its decorator in this module is covered too; ``check_project``
withdraws the findings about entries whose task sets it in another module.

Which expiry survives depends on the beat scheduler (``analysis.schedulers``): django-celery-beat's
``DatabaseScheduler`` drops ``options["expires"]`` and keeps ``options["expire_seconds"]``; celery's
own scheduler does the opposite. ``check`` judges by the scheduler the module configures,
``check_project`` by the one the project runs (its modules and deployment files).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Final

from celery_boundary.analysis.call_shapes import can_be_celery
from celery_boundary.analysis.index import ModuleIndex, Site
from celery_boundary.analysis.factories import schedule_wrappers
from celery_boundary.analysis.symbols import LOCAL, last_name
from celery_boundary.analysis.project import Project
from celery_boundary.analysis.uses import resolve_imported
from celery_boundary.analysis.schedulers import (
    CELERY,
    DATABASE,
    EXPIRE_SECONDS,
    EXPIRES,
    PERIODIC_MODEL as _PERIODIC_MODEL,
    ExpirySite,
    beat_model,
    expiry_sites,
    module_scheduler,
)
from celery_boundary.core.findings import Finding
from celery_boundary.checks import crontab_fields
from celery_boundary.checks.common import RuleSettings, dict_get, dict_items, report, string_of

CODE: Final = "CB401"
#: Found by ``checks.crontab_fields``.
CRONTAB_WITHOUT_MINUTE: Final = "CB402"
#: The codes this group reports.
CODES: Final = (CODE, CRONTAB_WITHOUT_MINUTE)
#: The codes whose findings ``check_project`` withdraws.
PROJECT_CODES: Final = (CODE,)

_WHY = ("beat keeps sending while the consumer is slower than the schedule, so the queue piles up "
        "with stale runs that all execute when the worker catches up")


@dataclass(frozen=True)
class _Context:
    #: Task names (function or ``name=``) whose decorator sets ``expires`` in this module.
    tasks: set[str]
    #: Module-level ``NAME = {...}`` dicts, for ``beat_schedule = NAME``.
    dicts: dict[str, ast.expr]
    #: The beat scheduler the module configures (``analysis.schedulers``), or None.
    scheduler: str | None = None
    #: Schedule wrappers (``analysis.factories.schedule_wrappers``): dotted names, ``<local>.name``
    #: for the module's own, ``.name`` for a directive.
    wrappers: frozenset[str] = frozenset()


def _module_dicts(tree: ast.Module) -> dict[str, ast.expr]:
    found: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            if dict_items(stmt.value) is not None:
                found[stmt.targets[0].id] = stmt.value
    return found


def is_schedule_setting(name: str) -> bool:
    """``beat_schedule``, ``CELERY_BEAT_SCHEDULE``, the old ``CELERYBEAT_SCHEDULE``."""
    return name == "beat_schedule" or name.isupper() and name.endswith("BEAT_SCHEDULE")


def check(index: ModuleIndex, settings: RuleSettings) -> Iterator[Finding]:
    names = {t.name for t in index.tasks.values() if "expires" in t.options}
    names |= {t.task_name for t in index.tasks.values() if "expires" in t.options and t.task_name}
    expiring = _Context(names, _module_dicts(index.tree), module_scheduler(index), _wrappers(index, settings))
    yield from crontab_fields.check(index, CRONTAB_WITHOUT_MINUTE)
    if expiring.scheduler is not None:
        for entry in expiry_sites(index):
            message = scheduler_message(entry, expiring.scheduler, expiring.tasks)
            if message is not None:
                yield Finding("", entry.line, entry.column, CODE, message)
    for site in index.assigns:
        yield from _check_assignment(site, expiring)
    for site in index.calls:
        yield from _check_call(index, site, expiring)
    for site in index.dicts:
        node = site.node
        assert isinstance(node, ast.Dict)
        for key, value in zip(node.keys, node.values):
            name = string_of(key)
            if name is not None and is_schedule_setting(name):
                yield from _check_schedule(value, expiring)
    for task in index.tasks.values():
        if task.function is None or "expires" in task.options:
            continue
        for decorator in task.function.decorator_list:
            if index.names.resolve(decorator.func if isinstance(decorator, ast.Call) else decorator) == \
                    "celery.periodic_task":
                yield report(task.node, CODE, (
                    f"periodic task {task.name!r} has no expires: {_WHY}; add expires=<seconds, "
                    "at most the period> to the decorator"))


def _check_assignment(site: Site, expiring: _Context) -> Iterator[Finding]:
    node = site.node
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        if isinstance(target, ast.Name) and not site.scopes and is_schedule_setting(target.id):
            yield from _check_schedule(node.value, expiring)
        elif isinstance(target, ast.Attribute) and is_schedule_setting(target.attr):
            yield from _check_schedule(node.value, expiring)
        elif isinstance(target, ast.Subscript):
            key = string_of(target.slice)
            if key is not None and is_schedule_setting(key):
                yield from _check_schedule(node.value, expiring)
            elif isinstance(target.value, (ast.Attribute, ast.Name)) and is_schedule_setting(
                    target.value.attr if isinstance(target.value, ast.Attribute) else target.value.id):
                # ``app.conf.beat_schedule["name"] = {...}``: one entry
                yield from _check_entry(target.slice, node.value, expiring)


def _check_call(index: ModuleIndex, site: Site, expiring: _Context) -> Iterator[Finding]:
    call = site.node
    assert isinstance(call, ast.Call)
    method = last_name(call.func)
    for kw in call.keywords:
        if kw.arg is not None and is_schedule_setting(kw.arg):
            yield from _check_schedule(kw.value, expiring)
    if method == "update" and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Attribute):
        if is_schedule_setting(call.func.value.attr) and call.args:  # conf.beat_schedule.update({...})
            yield from _check_schedule(call.args[0], expiring)
    if method == "add_periodic_task" and can_be_celery(call):
        yield from _check_add_periodic_task(index, call, site, expiring)
    elif method in _DB_CREATE or method == "PeriodicTask":
        yield from _check_database_entry(index, call, site)
    elif expiring.wrappers and method is not None:
        yield from _check_wrapper_call(index, call, site, expiring)


def _wrappers(index: ModuleIndex, settings: RuleSettings) -> frozenset[str]:
    """The project's schedule wrappers (found by ``check``'s scan or configured) and the module's own."""
    calls = (site.node for site in index.calls)
    # A wrapper passes its own **options on (``analysis.factories.schedule_wrappers``): without such a
    # call the module has none, and its tree is not walked again.
    if not any(isinstance(call, ast.Call) and last_name(call.func) in _SCHEDULING
               and any(keyword.arg is None for keyword in call.keywords) for call in calls):
        return settings.periodic_wrappers
    own = schedule_wrappers(index.tree, index.names)
    return settings.periodic_wrappers | {name if name.startswith(".") else f"{LOCAL}.{name}" for name in own}


_SCHEDULING = frozenset({"add_periodic_task", "create", "get_or_create", "update_or_create"})


def _check_wrapper_call(index: ModuleIndex, call: ast.Call, site: Site, expiring: _Context) -> Iterator[Finding]:
    """``schedule_every(crontab(minute=0), refresh)`` or a directive ``config.schedule(...)`` that
    passes its ``**options`` on to ``add_periodic_task`` / ``PeriodicTask.objects.create``."""
    func = call.func
    resolved = resolve_imported(index, func, site)
    directive = isinstance(func, ast.Attribute) and f".{func.attr}" in expiring.wrappers
    if not directive and (resolved is None or resolved not in expiring.wrappers):
        return
    if site.scopes and any(isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and
                           f"{LOCAL}.{scope.name}" in expiring.wrappers for scope in site.scopes):
        return  # a wrapper calling another passes its own caller's options on
    keywords = {kw.arg for kw in call.keywords}
    if EXPIRES in keywords or EXPIRE_SECONDS in keywords or None in keywords:
        return
    for arg in call.args:
        task = index.task_of(arg, site) if isinstance(arg, (ast.Name, ast.Attribute)) else None
        if task is not None and EXPIRES in task.options:
            return
    spelled = ast.unparse(func)
    yield report(call, CODE, (
        f"{spelled}(...) schedules a periodic task without expiry (it passes its keywords on to "
        f"add_periodic_task or a PeriodicTask row): {_WHY}; pass {_option(expiring.scheduler)}=<seconds, "
        "at most the period>" + _db_note(expiring.scheduler)))


#: django-celery-beat's model: a row is a schedule entry; ``expires`` (a datetime) or
#: ``expire_seconds`` (django-celery-beat >= 2.2) give it an expiry.
_DB_CREATE = frozenset({"create", "get_or_create", "update_or_create"})
_DB_EXPIRY = frozenset({"expires", "expire_seconds"})


def _check_database_entry(index: ModuleIndex, call: ast.Call, site: Site) -> Iterator[Finding]:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in _DB_CREATE:
        manager = func.value
        if not (isinstance(manager, ast.Attribute) and manager.attr == "objects"):
            return
        model = manager.value
    else:
        model = func
    if beat_model(index, model, site) != _PERIODIC_MODEL:
        return
    keywords = {kw.arg: kw.value for kw in call.keywords}
    if None in keywords or _DB_EXPIRY & set(keywords):
        return
    if "defaults" in keywords:
        items = dict_items(keywords["defaults"])
        if items is None or any(k is None or string_of(k) in _DB_EXPIRY for k, _ in items):
            return
    if "task" not in keywords and "defaults" not in keywords:
        return  # a lookup by name only: the row is made elsewhere
    yield report(call, CODE, (
        f"django-celery-beat PeriodicTask without expiry: {_WHY}; pass expire_seconds=<seconds, at "
        "most the period> (or expires=<datetime>)"))


def _spelled(expr: ast.expr) -> str:
    text = ast.unparse(expr)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_schedule(value: ast.expr, expiring: _Context) -> Iterator[Finding]:
    if isinstance(value, ast.Name) and value.id in expiring.dicts:  # ``beat_schedule = SCHEDULE``
        value = expiring.dicts[value.id]
    items = dict_items(value)
    if items is None:
        return
    for key, entry in items:
        if key is not None:
            yield from _check_entry(key, entry, expiring)


def _check_entry(key: ast.expr, entry: ast.expr, expiring: _Context) -> Iterator[Finding]:
    known, task = dict_get(entry, "task")
    if not known or task is None:
        return  # built elsewhere, or spread from another dict: cannot tell
    _, top_level = dict_get(entry, "expires")
    known_options, options = dict_get(entry, "options")
    if options is not None:
        known_options, expires = dict_get(options, EXPIRES)
        _, seconds = dict_get(options, EXPIRE_SECONDS)
        if not known_options or expires is not None or seconds is not None:
            return  # whether this one survives the scheduler: ``_check_scheduler``
    elif not known_options:
        return
    name = string_of(task)
    if name is not None and (name in expiring.tasks or name.rsplit(".", 1)[-1] in expiring.tasks):
        return
    # A key computed at run time (``f"sync-{source}"``, a loop variable): the task names the entry.
    # A task computed too (``task_type.dotted_path``): its expression names it.
    label = repr(string_of(key)) if string_of(key) is not None else f"for task {name or _spelled(task)!r}"
    if top_level is not None:
        yield report(key, CODE, (
            f"beat entry {label} puts expires at the top level, where celery.beat's ScheduleEntry "
            "rejects it (TypeError) and the entry has no expiry: move it into "
            "'options': {'expires': <seconds>}"))
        return
    yield report(key, CODE, (
        f"beat entry {label} has no expiry: {_WHY}; add 'options': {{{_option(expiring.scheduler)!r}: "
        "<seconds, at most the period>} to the entry" + _db_note(expiring.scheduler)))


def _check_add_periodic_task(index: ModuleIndex, call: ast.Call, site: Site, expiring: _Context) -> Iterator[Finding]:
    keywords = {kw.arg for kw in call.keywords}
    if EXPIRES in keywords or EXPIRE_SECONDS in keywords or None in keywords:  # ``**opts`` may hold it
        return
    signature = call.args[1] if len(call.args) > 1 else next(
        (kw.value for kw in call.keywords if kw.arg == "sig"), None)
    if isinstance(signature, ast.Name):
        # ``add_periodic_task(crontab(...), refresh)``: Celery signs a task object itself
        # (``self.signature(sig.name)``), and a Pyramid directive of that name takes the function.
        task = index.task_of(signature, site)
        resolved = index.resolve(signature, site)
        if task is not None and EXPIRES in task.options or resolved is None or task is None and (
                resolved.startswith("<") or not resolved.startswith(".") and "." not in resolved):
            return  # a variable, a parameter or a local non-task: cannot tell
    elif signature is None or not isinstance(signature, ast.Call):
        return  # something built elsewhere: cannot tell
    else:
        yield from _check_signature_expiry(index, call, signature, site, expiring)
        return
    yield _add_periodic_task_finding(call, expiring)


def _check_signature_expiry(index: ModuleIndex, call: ast.Call, signature: ast.Call, site: Site,
                            expiring: _Context) -> Iterator[Finding]:
    expr: ast.expr = signature
    while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        if any(kw.arg in ("expires", None) for kw in expr.keywords):
            return
        for kw in expr.keywords:
            if kw.arg == "options":
                known, expires = dict_get(kw.value, "expires")
                if not known or expires is not None:
                    return
        expr = expr.func.value
    task = index.task_of(expr, site)
    if task is not None and "expires" in task.options:
        return
    if isinstance(signature.func, ast.Attribute) and signature.func.attr not in ("s", "si", "signature", "set"):
        return
    yield _add_periodic_task_finding(call, expiring)


def _add_periodic_task_finding(call: ast.Call, expiring: _Context) -> Finding:
    return report(call, CODE, (
        f"add_periodic_task without expires: {_WHY}; pass {_option(expiring.scheduler)}=<seconds, at most "
        "the period> (it goes into the entry's options)" + _db_note(expiring.scheduler)))


def _option(scheduler: str | None) -> str:
    return EXPIRE_SECONDS if scheduler == DATABASE else EXPIRES


def _db_note(scheduler: str | None, where: str = "here") -> str:
    if scheduler == DATABASE:
        return f" (django-celery-beat's DatabaseScheduler, configured {where}, drops options['expires'])"
    return "; under django-celery-beat's DatabaseScheduler use expire_seconds instead"


def _advice(scheduler: str | None) -> tuple[str, str]:
    """The two spellings of the advice in a message: an entry's options key and a keyword."""
    return f"{{{_option(scheduler)!r}: <seconds", f"pass {_option(scheduler)}=<seconds"


def for_project_scheduler(message: str, scheduler: str | None) -> str:
    """A message written in a module that names no scheduler (advice ``expires``, with the note that
    DatabaseScheduler wants ``expire_seconds``), rewritten for the scheduler the project runs: under
    DatabaseScheduler, ``expire_seconds`` directly, as in a module that configures it."""
    note = _db_note(None)
    if scheduler != DATABASE or not message.endswith(note):
        return message
    body = message[:-len(note)]
    for unknown, database in zip(_advice(None), _advice(DATABASE)):
        body = body.replace(unknown, database)
    return body + _db_note(DATABASE, "in the project's settings")


def scheduler_message(site: ExpirySite, scheduler: str, expiring: Iterable[str]) -> str | None:
    """CB401 about an expiry the scheduler does not carry, or None when it does (or the task's own
    decorator sets ``expires``, which both schedulers send)."""
    if site.task is not None and (site.task in expiring or site.task.rsplit(".", 1)[-1] in expiring):
        return None
    if scheduler == DATABASE and site.keys == {EXPIRES}:
        return (f"beat entry {site.label} has no expiry under django-celery-beat's DatabaseScheduler: it "
                "copies the entry into a PeriodicTask row and drops options['expires']; "
                f"{_WHY}; add 'expire_seconds': <seconds, at most the period> to the options "
                "(add_periodic_task: expire_seconds=)")
    if scheduler == CELERY and site.keys == {EXPIRE_SECONDS}:
        return (f"beat entry {site.label} has no expiry under celery's own beat scheduler: "
                "'expire_seconds' is django-celery-beat's option and apply_async ignores it; "
                f"{_WHY}; add 'expires': <seconds, at most the period> to the options "
                "(add_periodic_task: expires=)")
    return None


def check_project(project: Project, findings: list[Finding], chosen: frozenset[str]) -> list[Finding]:
    """CB401 findings about beat entries whose task sets ``expires`` on its decorator in another module
    go away: beat sends through the registered task, whose options apply (celery 5.7
    ``beat.Scheduler.apply_async``, ``app/base.py`` ``_get_exec_options``). Entries in modules that
    do not name the scheduler are judged by the one the project runs (``Project.scheduler``), and
    their findings advise its expiry key (``for_project_scheduler``). In a project where no module
    imports celery, a ``CELERYBEAT_SCHEDULE`` is read by a scheduler of the project's own, which need
    not honour any expiry: no CB401 (tests/cli/test_cli_beat_scheduler.py)."""
    if CODE in chosen and not any(module.imports_celery for module in project.modules):
        findings = [f for f in findings if f.code != CODE]
    expiring = project.expiring()
    covered = {(module.path, line) for module in project.modules
               for line, task in module.beat_entries if task in expiring}
    kept = [f for f in findings if not (f.code == CODE and (f.path, f.line) in covered)]
    scheduler = project.scheduler() if CODE in chosen else None
    if scheduler is None:
        return kept
    unconfigured = {module.path for module in project.modules if module.scheduler is None}
    kept = [replace(f, message=for_project_scheduler(f.message, scheduler))
            if f.code == CODE and f.path in unconfigured else f for f in kept]
    reported = {(f.path, f.line) for f in kept if f.code == CODE}
    for module in project.modules:
        if module.scheduler is not None:
            continue  # the module's own setting was applied by ``check``
        for site, source in module.expiry_sites:
            message = scheduler_message(site, scheduler, expiring)
            if message is not None and (module.path, site.line) not in reported:
                kept.append(Finding(module.path, site.line, site.column, CODE, message, source))
    return kept
