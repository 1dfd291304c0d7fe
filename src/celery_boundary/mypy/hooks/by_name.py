"""Tasks the receiver does not name: ``app.send_task("shop.tasks.notify", ...)``,
``signature("shop.tasks.notify", ...)``, and ``self.retry(args=..., kwargs=...)`` in a bound task.

When the name is a literal that resolves statically to a task in the checked program (its module
path + function name, or the literal ``name="..."`` it was registered under: task_names.py), the
call is checked like ``notify.apply_async(args=..., kwargs=...)``: arity (arg-type / call-arg),
serializability, and the result typed as it arrives — when the call site's module imports the
task's module (the only modules mypy has checked or loaded before it in a cold and a warm run
alike). A name no such task has but a configured contract does is checked against the contract's
signature (contract_tasks.py). Anything else — names from settings, modules the call site does not
import, modules outside the build, a name two tasks share — stays silent, but for a name under a
contract's prefix that the contract does not have (celery-unknown-task).

Hook phase: the ``send_task`` / ``app.signature`` / ``retry`` method hooks and the ``signature``
function hook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mypy.checker import TypeChecker
from mypy.nodes import (
    ARG_POS,
    ArgKind,
    Context,
    CallExpr,
    Decorator,
    Expression,
    MemberExpr,
    NameExpr,
    StrExpr,
    SymbolTableNode,
    Var,
)
from mypy.plugin import CheckerPluginInterface, FunctionContext, MethodContext
from mypy.types import AnyType, CallableType, Instance, Type, TypeOfAny, get_proper_type

from celery_boundary.analysis.task_names import closest
from celery_boundary.core import fullnames as fn
from celery_boundary.core.client_contracts import Contracts
from celery_boundary.mypy.hooks.bound_calls import BOUND_SELF, is_task_body, task_label
from celery_boundary.mypy.hooks.calls import check_task_call, make_partial
from celery_boundary.mypy.hooks.task_names import find_named_task, imported_by, name_of, visible_task_names
from celery_boundary.mypy.hooks.tasks import TaskOptions, drop_self, task_instance, task_signature
from celery_boundary.mypy.errorcodes import UNKNOWN_TASK
from celery_boundary.mypy.metadata import Lookup
from celery_boundary.mypy.startup.settings import Settings

LookupSymbol = Callable[[str], SymbolTableNode | None]


def check_send_task(ctx: MethodContext, settings: Settings, lookup: Lookup, symbol: LookupSymbol) -> Type:
    expr = ctx.args[0][0] if ctx.args and len(ctx.args[0]) == 1 else None
    task = _task_named(ctx.api, expr, symbol, settings, lookup) if expr is not None else None
    if task is None:
        report_unknown_name(ctx.api, expr, ctx.context, settings.contracts)
        return ctx.default_return_type
    return check_task_call(ctx, "send_task", settings, lookup, receiver=task)


def _task_named(
    api: CheckerPluginInterface, expr: Expression, symbol: LookupSymbol, settings: Settings, lookup: Lookup
) -> Instance | None:
    """The task type a literal name stands for: a task of the program, else a contract's; or None."""
    if not isinstance(expr, StrExpr) or not expr.value:
        return None
    module = expr.value.rpartition(".")[0]
    # Only a module the call site imports: checked (or loaded from the cache) before it, cold or warm.
    visible = isinstance(api, TypeChecker) and module in imported_by(api.tree)
    by_path = _task_at_path(expr.value, symbol) if visible else None
    found = by_path if by_path is not None else find_named_task(api, expr.value, symbol)
    if found is None and settings.contracts.contracts:
        from celery_boundary.mypy.hooks.contract_tasks import contract_task  # only with contracts configured

        found = contract_task(api, expr.value, settings.contracts, lookup)
    return found


def _task_at_path(name: str, symbol: LookupSymbol) -> Instance | None:
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
    if not isinstance(typ, Instance) or not typ.type.has_base(fn.CELERY_TASK):
        return None
    registered = name_of(typ)
    # Celery registers a task with an explicit name under that name only (5.7): the path is not it.
    return typ if registered is None or registered == name else None


def report_unknown_name(
    api: CheckerPluginInterface, expr: Expression | None, context: Context, contracts: Contracts
) -> None:
    """celery-unknown-task: a literal name that no visible task has and that misspells one that does
    (``visible_task_names``; a name unlike all of them may belong to another service: silent), or
    that is under a contract's prefix and not in that contract (contract_tasks.py).
    ``celery-boundary check`` (CB205) compares with every task of the project."""
    if not isinstance(api, TypeChecker) or not isinstance(expr, StrExpr) or expr.value.startswith("celery."):
        return
    if contracts.contracts:
        from celery_boundary.mypy.hooks.contract_tasks import report_owned_name

        if report_owned_name(api, expr.value, context, contracts):
            return
    known = visible_task_names(api)
    near = closest(expr.value, known) if expr.value not in known else None
    if near is None:
        return
    api.fail(
        f"unknown task name {expr.value!r}: no task of this module or of the modules it imports is registered "
        f"under it; did you mean {near!r}? (a message sent under a name no worker registered is never run: the "
        "worker logs 'Received unregistered task' and discards it)",
        context,
        code=UNKNOWN_TASK,
    )


def check_signature_by_name(
    ctx: FunctionContext | MethodContext, settings: Settings, lookup: Lookup, symbol: LookupSymbol
) -> Type:
    """``signature("shop.tasks.notify", args, kwargs, ...)`` / ``signature(name, args=..., kwargs=...)``.

    celery.canvas.signature(varies, *args, **kwargs) is ``Signature(varies, *args, **kwargs)``
    (Celery 5.7), whose second and third parameters are ``args`` and ``kwargs``: the call is re-read
    as ``task.signature(args, kwargs, ...)`` and checked (and typed) like one.
    """
    if not ctx.args or len(ctx.args[0]) != 1:
        return ctx.default_return_type
    task = _task_named(ctx.api, ctx.args[0][0], symbol, settings, lookup)
    if task is None:
        report_unknown_name(ctx.api, ctx.args[0][0], ctx.context, settings.contracts)
    default = get_proper_type(ctx.default_return_type)
    if task is None or not isinstance(default, Instance) or len(default.args) != 1:
        return ctx.default_return_type
    slots: dict[str, tuple[Expression, Type, ArgKind]] = {}
    positional = ("args", "kwargs")
    for group in range(1, len(ctx.args)):
        actuals = zip(ctx.args[group], ctx.arg_types[group], ctx.arg_kinds[group], ctx.arg_names[group])
        for expr, typ, kind, name in actuals:
            if kind.is_star():
                return ctx.default_return_type  # signature(name, *rest): cannot tell what is what
            if name is None:
                index = len([k for k in slots if k in positional])
                if index >= len(positional):
                    return ctx.default_return_type
                name = positional[index]
            slots[name] = (expr, typ, kind)
    names: list[str | None] = list(slots)
    sig = task_signature(task, lookup)
    if sig is None:
        return ctx.default_return_type
    as_method = MethodContext(
        type=task,
        arg_types=[[slots[n][1]] for n in slots],
        arg_kinds=[[ARG_POS] for _ in slots],
        callee_arg_names=names,
        arg_names=[[n] for n in slots],
        default_return_type=default.copy_modified(args=[sig.ret_type]),
        args=[[slots[n][0]] for n in slots],
        context=ctx.context,
        api=ctx.api,
    )
    return check_task_call(as_method, "signature", settings, lookup)


def check_app_signature(ctx: MethodContext, settings: Settings, lookup: Lookup, symbol: LookupSymbol) -> Type:
    """``app.signature("billing.charge", args, kwargs, ...)``: Celery 5.7 ``Celery.signature(*args,
    **kwargs)`` is ``signature(*args, app=self, **kwargs)``; its first positional argument is split off
    to read the call as ``signature``'s."""
    if not ctx.args or not ctx.args[0] or ctx.arg_kinds[0][0] != ARG_POS:
        return ctx.default_return_type

    def split(groups: list[list[Any]]) -> list[list[Any]]:
        return [groups[0][:1], groups[0][1:], *groups[1:]]

    as_function = ctx._replace(
        args=split(ctx.args), arg_types=split(ctx.arg_types), arg_kinds=split(ctx.arg_kinds),
        arg_names=split(ctx.arg_names), callee_arg_names=["varies", "args", "kwargs"],
    )
    return check_signature_by_name(as_function, settings, lookup, symbol)


def check_retry(ctx: MethodContext, settings: Settings, lookup: Lookup) -> Type:
    """``self.retry(args=..., kwargs=...)`` in a bound task: the new arguments must fit the task.

    The receiver is ``Task[Any, Any]`` (``self: Task``), so the task is found as the enclosing
    function whose first parameter ``self`` is: its signature without ``self`` is what the retried
    message will be called with (Celery 5.7 ``Task.retry`` sends ``args``/``kwargs`` as given).
    """
    api = ctx.api
    call = ctx.context
    if not isinstance(api, TypeChecker) or not isinstance(call, CallExpr):
        return ctx.default_return_type
    callee = call.callee
    function = api.scope.current_function()
    if not isinstance(callee, MemberExpr) or not isinstance(callee.expr, NameExpr) or function is None:
        return ctx.default_return_type
    # An unannotated self reaches here through its stand-in (bound_calls.py), typed as the task.
    stand_in = isinstance(callee.expr.node, Var) and callee.expr.node.fullname == BOUND_SELF
    if not stand_in and (not function.arguments or callee.expr.node is not function.arguments[0].variable):
        return ctx.default_return_type  # not the task's own ``self``
    if not stand_in and not is_task_body(function):
        return ctx.default_return_type  # a helper taking the task: its signature is not the task's
    own = get_proper_type(function.type) if function.type is not None else None
    base = lookup(fn.CELERY_TASK)
    if not isinstance(own, CallableType) or base is None:
        return ctx.default_return_type
    names = ctx.callee_arg_names
    given = {name for name in ("args", "kwargs") if name in names and ctx.args[names.index(name)]}
    if not given:
        return ctx.default_return_type  # retry(exc=..., countdown=...): the request's own arguments again
    sig = drop_self(own).copy_modified(name=task_label(function))
    if len(given) == 1:
        # Celery 5.7 Task.retry: a missing args/kwargs is taken from the request, so arity is unknown.
        sig = make_partial(sig)
    task = task_instance(api, base, sig, TaskOptions(base=base))
    check_task_call(ctx, "retry", settings, lookup, receiver=task)
    # The stand-in keeps the call as untyped as an unannotated self made it (no NoReturn).
    return AnyType(TypeOfAny.special_form) if stand_in else ctx.default_return_type
