"""CB205 a literal task name that no task of the project is registered under (project-wide only:
``celery-boundary check``; one module cannot know every task).

The names come from ``analysis.task_names`` (what Celery 5.7 registers), the references from
``analysis.uses.name_references`` (``send_task``, ``signature`` / ``Signature`` / ``app.signature``,
``app.tasks[...]``, beat entries). By default only a name close to a registered one is reported - a
typo; a name unlike any of the project's may belong to another service consuming the same broker.
``unknown_task_names = "all"`` reports every unknown name, for projects that own all their tasks.
"""

from __future__ import annotations

from typing import Final

from celery_boundary.analysis import uses
from celery_boundary.analysis.project import Project
from celery_boundary.checks.common import RuleSettings
from celery_boundary.core.findings import Finding

UNKNOWN_NAME: Final = "CB205"
#: The codes this group reports (all of them across modules).
CODES: Final = (UNKNOWN_NAME,)
PROJECT_CODES: Final = (UNKNOWN_NAME,)
#: Celery's own tasks (``celery.backend_cleanup`` is in every default beat schedule, ``celery.chord_unlock`` ...).
BUILTIN_PREFIX: Final = "celery."
#: The most edits (insert, delete, substitute, swap two neighbours) between a typo and the name it misspells.
MOST_EDITS: Final = 2

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
    added = []
    for module in project.modules:
        for ref in module.name_refs:
            if ref.name in registered or ref.name.startswith(BUILTIN_PREFIX):
                continue
            near = closest(ref.name, registered)
            if near is None and not every:
                continue
            guess = f"; did you mean {near!r}?" if near else ""
            added.append(Finding(module.path, ref.line, ref.column, UNKNOWN_NAME, (
                f"unknown task name {ref.name!r}: no task of this project is registered under "
                f"it{guess} ({_CONSEQUENCE[ref.how]})")))
    return findings + added


def closest(name: str, registered: frozenset[str]) -> str | None:
    """The registered name ``name`` most likely misspells, or None: at most ``MOST_EDITS`` edits in the
    part that differs and at most a third of that part's length, with the rest equal - the same
    module path and a close last part (``core.tags`` / ``core.tag``) or the same last part and a close
    module path (``shop.task.refresh`` / ``shop.tasks.refresh``)."""
    best: tuple[int, str] | None = None
    prefix, _, last = name.rpartition(".")
    for candidate in registered:
        other_prefix, _, other_last = candidate.rpartition(".")
        if prefix == other_prefix:
            edits = _close(last, other_last)
        elif last == other_last:
            edits = _close(prefix, other_prefix)
        else:
            continue
        if edits is not None and (best is None or (edits, candidate) < best):
            best = (edits, candidate)
    return best[1] if best else None


def _close(typed: str, meant: str) -> int | None:
    edits = edit_distance(typed, meant)
    if edits == 0 or edits > MOST_EDITS or 3 * edits > max(len(typed), len(meant)):
        return None
    return edits


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment: a swap of two neighbours is one edit)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]
