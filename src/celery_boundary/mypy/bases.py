"""Task base classes: remember ``serializer = "..."`` set in a ``Task`` subclass body.

Runs in semantic analysis (a base-class hook) and writes the value into the class's metadata,
which mypy serializes with the class: call sites in other modules read it from the cache.
"""

from __future__ import annotations

from mypy.nodes import AssignmentStmt, NameExpr, StrExpr
from mypy.plugin import ClassDefContext

from celery_boundary.mypy.tasks import METADATA


def record_task_class(ctx: ClassDefContext) -> None:
    """Store the class-level ``serializer`` string of a Task subclass (idempotent)."""
    found: dict[str, str] = {}
    for stmt in ctx.cls.defs.body:
        if not isinstance(stmt, AssignmentStmt) or not isinstance(stmt.rvalue, StrExpr):
            continue
        for target in stmt.lvalues:
            if isinstance(target, NameExpr) and target.name == "serializer":
                found["serializer"] = stmt.rvalue.value
    if found:
        ctx.cls.info.metadata[METADATA] = found
