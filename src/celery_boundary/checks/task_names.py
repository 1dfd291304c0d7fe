"""CB205 a literal task name that no task of the project is registered under (project-wide only:
``celery-boundary check``; one module cannot know every task).

The names come from ``analysis.task_names`` (what Celery 5.7 registers), the references from
``analysis.uses.name_references`` (``send_task``, ``signature`` / ``Signature`` / ``app.signature``,
``app.tasks[...]``, beat entries). By default only a name close to a registered one is reported - a
typo; a name unlike any of the project's may belong to another service consuming the same broker.
``unknown_task_names = "all"`` reports every unknown name, for projects that own all their tasks.

With ``contracts = [...]`` (other services' ``contracts export`` documents, ``core.client_contracts``),
a name under a contract's prefix that the contract does not have is reported whatever it looks like,
and a ``send_task`` / ``signature`` of a contract's task whose literal ``args`` / ``kwargs`` would not
bind to its parameters on the worker (too many positional, an unexpected keyword, a missing required
one) is reported with the TypeError the worker raises.
"""

from __future__ import annotations

from typing import Final

from celery_boundary.analysis import uses
from celery_boundary.analysis.project import Project
from celery_boundary.analysis.task_names import closest
from celery_boundary.checks.common import RuleSettings
from celery_boundary.core.client_contracts import Contracts, arity_problems, read_contracts
from celery_boundary.core.findings import Finding

UNKNOWN_NAME: Final = "CB205"
#: The codes this group reports (all of them across modules).
CODES: Final = (UNKNOWN_NAME,)
PROJECT_CODES: Final = (UNKNOWN_NAME,)
#: Celery's own tasks (``celery.backend_cleanup`` is in every default beat schedule, ``celery.chord_unlock`` ...).
BUILTIN_PREFIX: Final = "celery."

_DISCARDED = ("the worker that receives it logs 'Received unregistered task', discards the message and stores "
              "NotRegistered as its result")
_CONSEQUENCE: Final = {
    uses.SENT: f"a message sent under a name no worker registered is never run: {_DISCARDED}",
    uses.SIGNED: f"the signature, once launched, sends a message no worker runs: {_DISCARDED}",
    uses.SCHEDULED: f"beat sends a message under it every period and none is run: {_DISCARDED}",
    uses.LOOKED_UP: "looking it up raises celery.exceptions.NotRegistered",
}


def check_project(project: Project, findings: list[Finding], chosen: frozenset[str],
                  settings: RuleSettings) -> list[Finding]:
    """``findings`` and a CB205 at every literal task name that is not registered: close to a
    registered name (a typo) or, with ``unknown_task_names = "all"``, any (unless a task's name is
    computed at run time, which could be any name)."""
    if UNKNOWN_NAME not in chosen:
        return findings
    registered = project.registered()
    every = settings.unknown_task_names == "all" and project.names_known()
    contracts = read_contracts(settings.contracts, settings.config_source)
    added = []
    for module in project.modules:
        for ref in module.name_refs:
            if ref.name in registered or ref.name.startswith(BUILTIN_PREFIX):
                continue
            against = _against_contract(ref, contracts)
            if against is not None:
                if against:
                    added.append(Finding(module.path, ref.line, ref.column, UNKNOWN_NAME, against))
                continue
            near = closest(ref.name, registered)
            if near is None and not every:
                continue
            guess = f"; did you mean {near!r}?" if near else ""
            added.append(Finding(module.path, ref.line, ref.column, UNKNOWN_NAME, (
                f"unknown task name {ref.name!r}: no task of this project is registered under "
                f"it{guess} ({_CONSEQUENCE[ref.how]})")))
    return findings + added


def _against_contract(ref: uses.NameRef, contracts: Contracts) -> str | None:
    """The message for a name a contract has (arity) or owns (unknown): "" when it fits; None when no
    contract speaks for the name."""
    task = contracts.task(ref.name)
    if task is not None:
        if ref.how not in (uses.SENT, uses.SIGNED):
            return ""
        problems = arity_problems(task, ref.positional, ref.keywords)
        if not problems:
            return ""
        return (f"task {ref.name!r} of contract {task.source!r} does not take this message: {'; '.join(problems)} "
                "(Celery checks no arguments for a task sent by name: the worker raises TypeError and the task "
                "never runs). Fix: pass what its parameters take: "
                + ", ".join(_parameter_text(p.name, p.type, p.required) for p in task.parameters or ()))
    owner = contracts.owner(ref.name)
    if owner is None:
        return None
    known = [task.name for task in owner.tasks]
    near = closest(ref.name, frozenset(known))
    guess = f"; did you mean {near!r}?" if near else f"; it has {', '.join(repr(n) for n in known[:5])}"
    return (f"unknown task name {ref.name!r}: contract {owner.source!r} owns the names under "
            f"{owner.prefix!r} and has no task registered under it{guess} ({_CONSEQUENCE[ref.how]})")


def _parameter_text(name: str, annotation: str | None, required: bool) -> str:
    text = f"{name}: {annotation}" if annotation else name
    return text if required else f"{text} (optional)"
