"""The CB rules, without flake8: ``check_tree`` / ``check_source`` over one module, ``check_project``
over the project's summary (``celery-boundary check``).

One index walk per module (``analysis.index``), then each rule group reads the index:
serializers.py CB101-CB103, canvas.py CB201-CB204, transactions.py CB206, thin_tasks.py CB301,
periodic.py CB401; and one group that judges only across modules, task_names.py CB205. Each group
declares the ``CODES`` it reports; a group that also judges across modules has ``check_project`` and ``PROJECT_CODES``.
tests/test_rule_registry.py keeps the codes, the registry in ``core/rules.py``, the docs pages, the
example files and the fixes in step.
"""

from __future__ import annotations

import ast
import re
from typing import Final

from celery_boundary.analysis.index import ModuleIndex, build_index
from celery_boundary.analysis.project import Project
from celery_boundary.checks import canvas, periodic, serializers, task_names, thin_tasks, transactions
from celery_boundary.checks.common import RuleSettings
from celery_boundary.core.findings import Finding

__all__ = ["CODES", "GROUPS", "PROJECT_CODES", "PROJECT_ONLY", "Finding", "RuleSettings", "check_index",
           "check_project", "check_source", "check_tree", "might_apply"]

#: The rule groups that judge one module; each reads a ``ModuleIndex`` and yields findings.
GROUPS: Final = (serializers, canvas, transactions, thin_tasks, periodic)
#: The rule groups that judge only across modules (no ``check``; ``celery-boundary check`` only).
PROJECT_ONLY: Final = (task_names,)
#: Every code a rule group reports, in registry order (the codes sort as the registry lists them).
CODES: Final = tuple(sorted(code for group in (*GROUPS, *PROJECT_ONLY) for code in group.CODES))
#: The codes whose findings the project-wide pass adds or withdraws.
PROJECT_CODES: Final = frozenset(code for group in (canvas, transactions, periodic, task_names)
                                 for code in group.PROJECT_CODES)
#: A module in which none of these occurs (lower-cased) cannot trigger any CB rule: every rule needs
#: a Celery import, a task decorator (``@app.task``, ``shared_task``), a Task base class
#: (``class X(BaseTask):``), a launch method, a setting name or django-celery-beat's PeriodicTask;
#: CB205 a task name sent, signed or looked up (``app.send_task``, ``app.signature``, ``app.tasks[...]``).
_KEYWORDS: Final = re.compile(
    r"celery|shared_task|periodic_?task|\.task\b|task\):|serializ|accept_content|\.delay|apply_async"
    r"|beat_schedule|send_task|\.signature\(\s*[\"']|\.tasks\[\s*[\"']"
)


def might_apply(text: str, settings: RuleSettings) -> bool:
    """A cheap text test run before any rule (flake8 runs every plugin on every file)."""
    lowered = text.lower()
    if _KEYWORDS.search(lowered):
        return True
    return any(name.rsplit(".", 1)[-1].lower() in lowered
               for name in (*settings.task_decorators, *settings.periodic_wrappers))


def check_tree(tree: ast.Module, settings: RuleSettings | None = None) -> list[Finding]:
    """Every CB finding in one module, sorted by position."""
    settings = settings or RuleSettings()
    return check_index(build_index(tree, settings.task_decorators), settings)


def check_index(index: ModuleIndex, settings: RuleSettings, *, strict: bool = False) -> list[Finding]:
    """Every CB finding over an index already built (the project-wide pass keeps the index).

    A group that recurses too deep (hundreds of chained operators, ``a | b | ...``) is skipped: silence,
    not a traceback, for flake8; ``strict`` lets the RecursionError out so ``check`` reports CB001."""
    findings: set[Finding] = set()
    for group in GROUPS:
        try:
            findings.update(group.check(index, settings))
        except RecursionError:
            if strict:
                raise
    return sorted(findings)


def check_source(source: str, settings: RuleSettings | None = None, filename: str = "<source>") -> list[Finding]:
    """Parse and check; a file that does not parse has no CB findings (flake8 reports E999)."""
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return check_tree(tree, settings)


def check_project(project: Project, findings: list[Finding], chosen: frozenset[str],
                  settings: RuleSettings | None = None) -> list[Finding]:
    """Every module's ``findings`` corrected and completed by what the whole project shows (the groups'
    ``check_project``), sorted."""
    for group in (canvas, transactions, periodic):
        findings = group.check_project(project, findings, chosen)
    findings = task_names.check_project(project, findings, chosen, settings or RuleSettings())
    return sorted(findings)
