"""Facts about classes kept in their mypy metadata (serialized with the class in the cache).

- Task base classes: ``serializer = "..."`` and ``name = "..."`` set in a ``Task`` subclass body (a
  base-class hook; the name makes a class without ``run`` a pseudo-task: contract_tasks.py).
- Classes decorated with ``@register_preserializer`` (a class-decorator hook): wherever the class is
  sent, it is registered. Metadata is part of the class's interface, so editing the decorator
  re-checks the modules that use the class: cold, warm and daemon runs agree.

Hook phase: the class-decorator and base-class hooks (semantic analysis).
"""

from __future__ import annotations

from mypy.nodes import AssignmentStmt, CallExpr, NameExpr, StrExpr
from mypy.plugin import ClassDefContext

from celery_boundary.mypy.metadata import METADATA, PRESERIALIZER


def record_task_class(ctx: ClassDefContext) -> None:
    """Store the class-level ``serializer`` and ``name`` strings of a Task subclass (idempotent)."""
    found: dict[str, str] = {}
    for stmt in ctx.cls.defs.body:
        if not isinstance(stmt, AssignmentStmt) or not isinstance(stmt.rvalue, StrExpr):
            continue
        for target in stmt.lvalues:
            if isinstance(target, NameExpr) and target.name in ("serializer", "name"):
                found[target.name] = stmt.rvalue.value
    if found:
        ctx.cls.info.metadata.setdefault(METADATA, {}).update(found)


def record_preserializer(ctx: ClassDefContext) -> None:
    """``@register_preserializer`` / ``@register_preserializer(include_subclasses=True)``."""
    keeps = False
    if isinstance(ctx.reason, CallExpr):
        for name, arg in zip(ctx.reason.arg_names, ctx.reason.args):
            if name == "include_subclasses":
                keeps = isinstance(arg, NameExpr) and arg.fullname == "builtins.True"
    ctx.cls.info.metadata.setdefault(METADATA, {})[PRESERIALIZER] = {"include_subclasses": keeps}
