"""Tasks sent by name: ``app.send_task("shop.tasks.notify", args=..., kwargs=...)`` (issue 5).

When the name is a literal that resolves statically to a task in the checked program (its module
path + function name), the call is checked like ``notify.apply_async(args=..., kwargs=...)``:
arity (arg-type / call-arg), serializability, and the result typed as it arrives. Anything else —
names from settings, explicit ``name=`` aliases, modules outside the build — stays silent.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import Decorator, StrExpr, SymbolTableNode, Var
from mypy.plugin import MethodContext
from mypy.types import Instance, Type, get_proper_type

from celery_boundary.core import fullnames as fn
from celery_boundary.mypy.calls import check_task_call
from celery_boundary.mypy.settings import Settings
from celery_boundary.mypy.shapes_to_types import Lookup

LookupSymbol = Callable[[str], SymbolTableNode | None]


def check_send_task(ctx: MethodContext, settings: Settings, lookup: Lookup, symbol: LookupSymbol) -> Type:
    task = resolve_task(ctx, symbol)
    if task is None:
        return ctx.default_return_type
    return check_task_call(ctx, "send_task", settings, lookup, receiver=task)


def resolve_task(ctx: MethodContext, symbol: LookupSymbol) -> Type | None:
    """The task type named by the first argument, or None (not a literal, not found, not a task)."""
    if not ctx.args or len(ctx.args[0]) != 1 or not isinstance(ctx.args[0][0], StrExpr):
        return None
    name = ctx.args[0][0].value
    if "." not in name:
        return None
    try:
        node = symbol(name)
    except (KeyError, AssertionError):  # mypy asserts on names whose module is not in the build
        return None
    target = node.node if node is not None else None
    if isinstance(target, Decorator):
        target = target.var
    if not isinstance(target, Var) or target.type is None:
        return None  # not yet checked (a module the call site does not import): stay silent
    typ = get_proper_type(target.type)
    if isinstance(typ, Instance) and typ.type.has_base(fn.CELERY_TASK):
        return typ
    return None
