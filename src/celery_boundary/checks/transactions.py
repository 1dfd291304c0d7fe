"""CB206 a Celery task launched inside a database transaction that wrote before it: the message leaves
at once, the rows only at the commit, so a fast worker reads no row or the old one
(tests/truth/test_transaction_launch.py).

``check`` reports what one module shows (``analysis.transactions``): a launch inside ``with atomic()`` /
``@atomic`` after a write (``written_before``), or in a ``pre_delete`` / ``post_delete`` /
``m2m_changed`` receiver (Django's own atomic block). ``check_project`` adds the launches inside a
transaction only when the caller holds one - in a view after a write, in a model's ``save()`` /
``delete()`` override, in a ``pre_save`` / ``post_save`` receiver - when the settings the project runs
with set ``ATOMIC_REQUESTS`` on a database (``Project.atomic_requests``), and drops every CB206 finding
when no module of the project imports celery. Not reported: ``delay_on_commit`` /
``apply_async_on_commit`` (but inside ``atomic(using="other")``: they wait for the default database
only), and a launch inside a lambda or function (``transaction.on_commit(lambda: t.delay(pk))``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from celery_boundary.analysis.index import ModuleIndex
from celery_boundary.analysis.project import Project
from celery_boundary.analysis.transactions import (
    ALWAYS_ATOMIC_SIGNALS,
    DECORATOR,
    ON_COMMIT,
    RECEIVER,
    SAVE,
    WITH,
    VIEW,
    Around,
    ViewLaunch,
    caller_dependent,
    launches,
    transaction_around,
    written_before,
)
from celery_boundary.core.findings import Finding
from celery_boundary.checks.common import RuleSettings, report

CODE: Final = "CB206"
#: Receivers of these run inside the deletion's transaction, and the row is gone after its commit.
DELETE_SIGNALS: Final = frozenset({"pre_delete", "post_delete"})
#: What a delete receiver's message says (and ``fixable`` reads): no fix defers such a launch.
DELETED_ROW: Final = "the row is deleted at the commit"
#: The codes this group reports.
CODES: Final = (CODE,)
#: The codes whose findings ``check_project`` adds (launches in views under ATOMIC_REQUESTS).
PROJECT_CODES: Final = (CODE,)


def check(index: ModuleIndex, settings: RuleSettings) -> Iterator[Finding]:
    for launch in launches(index):
        around = transaction_around(index, launch)
        if around is None or launch.method in ON_COMMIT and not around.using or caller_dependent(around):
            continue
        if around.kind in (WITH, DECORATOR) and (
                around.scope is None or not written_before(index, launch, around.scope)):
            continue
        deleted = around.kind == RECEIVER and around.text in DELETE_SIGNALS
        yield report(launch.node, CODE, message(launch.how, launch.method, where(around), around.using, deleted))


def fixable(finding: Finding) -> bool:
    """Whether ``fix --unsafe-fixes`` may defer the launch to the commit: not in a delete receiver,
    where the task must first be given the row's values (the row is gone after the commit)."""
    return finding.code != CODE or DELETED_ROW not in finding.message


def where(around: Around) -> str:
    """The transaction around a launch, as the message names it."""
    if around.kind == WITH:
        return f"inside `{around.text}` (line {around.line})"
    if around.kind == DECORATOR:
        return f"in {around.function}(), decorated {around.text} (line {around.line})"
    assert around.kind == RECEIVER and around.text in ALWAYS_ATOMIC_SIGNALS
    return (f"in the {around.text} receiver {around.function}() (line {around.line}), which Django sends "
            "inside its own atomic block")


def message(how: str, method: str, place: str, using: str = "", deleted: bool = False) -> str:
    target = how.removesuffix("()").removesuffix("_on_commit")
    if deleted:
        # Before the commit the worker may still load the row (or a delete that is then rolled back);
        # after it, never: deferring alone would make a task that loads the row by its id never work.
        return (f"task launched inside a database transaction: {how} {place}; {DELETED_ROW}: a worker that "
                "runs before the commit may still load it, or act on a delete that is then rolled back, and one "
                "that runs after it cannot load it at all; launch it after the commit "
                f"({target}_on_commit(...) (celery 5.4+, Django's task class) or "
                f"transaction.on_commit(functools.partial({target}, ...))), and if the task loads the deleted row, "
                "send the values it needs from it in the message instead")
    if using:
        # DjangoTask.delay_on_commit calls transaction.on_commit without using=: the default database.
        fix = (f"send it from transaction.on_commit(functools.partial({target}, ...), using={using}) "
               "(delay_on_commit waits only for the default database's commit)")
    elif method in ("delay", "apply_async"):
        fix = (f"send it with {target}_on_commit(...) (celery 5.4+, Django's task class) or "
               f"transaction.on_commit(functools.partial({target}, ...))")
    else:
        fix = "send it from transaction.on_commit(functools.partial(...)), which runs after the commit"
    return (f"task launched inside a database transaction: {how} {place}; the worker can run before "
            f"the commit and find no row, or the old data; {fix}")


def _caller_place(launch: ViewLaunch, evidence: str) -> str:
    if launch.kind == VIEW:
        return (f"in the view {launch.view} (line {launch.view_line}) after a write, which Django runs inside "
                f"a transaction because {evidence}")
    if launch.kind == SAVE:
        what = f"in {launch.view} (line {launch.view_line})"
    else:
        what = f"in the {launch.view} receiver {launch.function}() (line {launch.view_line})"
    return (f"{what}, which Django runs in no transaction of its own but inside its caller's: every save or delete "
            f"from a view runs in one because {evidence}")


def check_project(project: Project, findings: list[Finding], chosen: frozenset[str]) -> list[Finding]:
    """Launches in views (``analysis.transactions.view_around``) become findings when the project's
    settings set ``ATOMIC_REQUESTS``: Django wraps every such view in ``transaction.atomic`` (5.2,
    ``BaseHandler.make_view_atomic``)."""
    if CODE not in chosen:
        return findings
    if not any(module.imports_celery for module in project.modules):
        # No module imports celery: every ``.delay()`` is some other library's (a dispatcher of its own).
        return [f for f in findings if f.code != CODE]
    atomic = project.atomic_requests()
    if atomic is None:
        return findings
    path, line = atomic
    reported = {(f.path, f.line, f.column) for f in findings if f.code == CODE}
    added = []
    for module in project.modules:
        for launch, source in module.view_launches:
            if (module.path, launch.line, launch.column) in reported:
                continue
            place = _caller_place(launch, f"DATABASES sets ATOMIC_REQUESTS ({path}:{line})")
            added.append(Finding(module.path, launch.line, launch.column, CODE,
                                 message(launch.how, launch.method, place), source))
    return findings + added
