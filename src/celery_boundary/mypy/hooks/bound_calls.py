"""After a task is defined: its explicit name, and ``self.replace(...)`` / ``self.retry(...)`` in a
bound task's body (celery-canvas, arg-type / call-arg).

A bound task's ``self`` is ``Any`` unless annotated, and mypy asks no plugin about a method of
``Any``. The decorator hook sees the body's statements (only the body of a ``bind=True`` task, and
only its statements: cheap) and finds ``self.replace(...)`` / ``self.retry(...)`` there:

- mypy 2.x checks function bodies *after* their decorators (two phases, ``process_stale_scc``,
  mypy 2.4): the receiver of those calls, and nothing else, is pointed at a variable typed as the
  task (``BOUND_SELF``), so mypy asks the plugin about them like about an annotated ``self``; the
  plugin types their result ``Any``, as before, so nothing else about the body changes;
- mypy 1.x (and 2.x with ``local_partial_types = False``) has checked the body already: the calls
  are checked here, from the types mypy recorded.

``self.replace(sig)``: Celery 5.7 sends ``sig`` as written (no parent result is prepended) and
gives its result to the task's callers, callbacks and the rest of its chain. So an inline
``t.s(...)`` must be complete, and what the replacement returns (as it arrives through the result
serializer) must fit the task's declared return type. ``self.retry(args=..., kwargs=...)``:
checked against the task's own signature like ``apply_async`` (by_name.check_retry).

Hook phase: the last step of the decorator hook, and the ``self.replace`` method hook.
"""

from __future__ import annotations

from typing import Final

from mypy.argmap import map_actuals_to_formals
from mypy.checker import TypeChecker
from mypy.erasetype import erase_typevars
from mypy.messages import format_type
from mypy.nodes import (
    AssignmentStmt,
    Block,
    CallExpr,
    Decorator,
    Expression,
    FUNC_NO_INFO,
    ExpressionStmt,
    ForStmt,
    FuncDef,
    FuncItem,
    IfStmt,
    MemberExpr,
    NameExpr,
    RaiseStmt,
    ReturnStmt,
    Statement,
    TryStmt,
    Var,
    WhileStmt,
    WithStmt,
)
from mypy.plugin import FunctionContext, MethodContext
from mypy.subtypes import is_subtype
from mypy.types import AnyType, CallableType, Instance, Type, TypeOfAny, UninhabitedType, get_proper_type

from celery_boundary.core import fullnames as fn
from celery_boundary.mypy import errorcodes
from celery_boundary.mypy.hooks.boundary import arrival_clause, arrival_type
from celery_boundary.mypy.hooks.calls import check_task_call, make_partial
from celery_boundary.mypy.hooks.canvas_nodes import read_node
from celery_boundary.mypy.hooks.task_names import record_task_name
from celery_boundary.mypy.hooks.tasks import BIND, TaskOptions, TaskView, drop_self, task_instance, view_task
from celery_boundary.mypy.metadata import Lookup
from celery_boundary.mypy.startup.settings import Settings

#: The methods of the bound task instance this module checks.
SELF_METHODS: Final = frozenset({"replace", "retry"})
#: The full name of the variable that stands for an unannotated ``self`` in those calls.
BOUND_SELF: Final = "celery_boundary.bound_self"


def finish_task(ctx: FunctionContext | MethodContext, settings: Settings, lookup: Lookup, result: Type) -> Type:
    """The decorator hook's last step: keep the explicit name, look at a bound task's body."""
    result = record_task_name(ctx, result)
    if isinstance(ctx.context, Decorator):
        task = get_proper_type(result)
        if isinstance(task, Instance) and task.extra_attrs is not None and BIND in task.extra_attrs.attrs:
            prepare_bound_body(ctx.api, settings, lookup, task, ctx.context.func)
    return result


def prepare_bound_body(api: object, settings: Settings, lookup: Lookup, task: Instance, func: FuncDef) -> None:
    """Unannotated ``self``: check the calls now (body checked) or let mypy ask about them (not yet)."""
    if not isinstance(api, TypeChecker) or not func.arguments or func.arguments[0].type_annotation is not None:
        return  # an annotated self: mypy asks the plugin about its methods itself
    calls = self_calls(func.body, func.arguments[0].variable)
    if not calls:
        return
    view = view_task(task, lookup)
    if view is None:
        return
    stand_in: Var | None = None
    for call, _ in calls:
        callee = call.callee
        assert isinstance(callee, MemberExpr) and isinstance(callee.expr, NameExpr)
        if not _celery_defines(task, callee.name):
            continue  # a base class's own replace/retry: its business, and untyped as before
        if not api.has_type(call):
            if stand_in is None:
                stand_in = Var(callee.expr.name, task)
                stand_in._fullname = BOUND_SELF
                stand_in.is_ready = True
            callee.expr.node = stand_in  # the body is checked later: mypy will ask the plugin
        elif callee.name == "replace" and len(call.args) == 1 and api.has_type(call.args[0]):
            check_replacement(api, settings, lookup, view, call.args[0], api.lookup_type(call.args[0]), call)
        elif callee.name == "retry":
            check_unannotated_retry(api, settings, lookup, task, view, call)


def _celery_defines(task: Instance, method: str) -> bool:
    defining = task.type.get_containing_type_info(method)
    return defining is not None and defining.module_name.startswith("celery.")


def is_task_body(function: object) -> bool:
    """A decorated function (``@app.task(bind=True)``), or ``run`` of a class-based task: its
    signature and return type are the task's. Any other function taking the task is a helper."""
    if not isinstance(function, FuncDef):
        return False
    if function.is_decorated:
        return True
    info = function.info
    return function.name == "run" and info is not FUNC_NO_INFO and info.has_base(fn.CELERY_TASK)


def task_label(function: FuncItem) -> str:
    """How messages name the task: the class of a class-based task's ``run``, else the function."""
    info = function.info
    if function.name == "run" and info is not FUNC_NO_INFO:
        return info.name
    return function.name


def is_bound_self(node: object) -> bool:
    return isinstance(node, Var) and node.fullname == BOUND_SELF


def check_replace(ctx: MethodContext, settings: Settings, lookup: Lookup) -> Type:
    """The method hook of ``self.replace(sig)`` (an annotated ``self``, or the stand-in)."""
    api, call = ctx.api, ctx.context
    if not isinstance(api, TypeChecker) or not isinstance(call, CallExpr) or len(call.args) != 1:
        return ctx.default_return_type
    callee = call.callee
    function = api.scope.current_function()
    if not isinstance(callee, MemberExpr) or not isinstance(callee.expr, NameExpr) or function is None:
        return ctx.default_return_type
    stand_in = is_bound_self(callee.expr.node)
    if not stand_in and (not function.arguments or callee.expr.node is not function.arguments[0].variable):
        return ctx.default_return_type  # not the task's own ``self``
    if not stand_in and not is_task_body(function):
        return ctx.default_return_type  # a helper taking the task (its return type is not the task's)
    view = view_task(ctx.type, lookup) if stand_in else None
    own = get_proper_type(function.type) if function.type is not None else None
    if view is None and isinstance(own, CallableType):
        label = task_label(function)
        view = TaskView(own.copy_modified(name=label), label, TaskOptions(), None, False)
    if view is None or not ctx.arg_types or not ctx.arg_types[0]:
        return ctx.default_return_type
    reported = check_replacement(api, settings, lookup, view, call.args[0], ctx.arg_types[0][0], call)
    # The stand-in keeps the call as untyped as an unannotated self made it; a reported mismatch
    # is not reported again by mypy (return-value).
    return AnyType(TypeOfAny.special_form) if stand_in or reported else ctx.default_return_type


def self_calls(block: Block, me: Var) -> list[tuple[CallExpr, bool]]:
    """``<me>.replace(...)`` / ``<me>.retry(...)`` written as a statement (``return``, ``raise``,
    a bare call, an assignment), anywhere in the block's compound statements; and whether each
    is returned. Statements only, no expression trees: cheap, and where these calls are written."""
    found: list[tuple[CallExpr, bool]] = []
    pending: list[Block] = [block]
    while pending:
        for stmt in pending.pop().body:
            expr: Expression | None = None
            if isinstance(stmt, (ExpressionStmt, ReturnStmt)):
                expr = stmt.expr
            elif isinstance(stmt, RaiseStmt):
                expr = stmt.expr
            elif isinstance(stmt, AssignmentStmt):
                expr = stmt.rvalue
            elif isinstance(stmt, (IfStmt, WhileStmt, ForStmt, TryStmt, WithStmt, Block)):
                pending.extend(_blocks(stmt))
            if isinstance(expr, CallExpr) and _calls_self(expr, me):
                found.append((expr, isinstance(stmt, ReturnStmt)))
    return found


def _blocks(stmt: Statement) -> list[Block]:
    if isinstance(stmt, Block):
        return [stmt]
    if isinstance(stmt, IfStmt):
        return [*stmt.body, *([stmt.else_body] if stmt.else_body else [])]
    if isinstance(stmt, (WhileStmt, ForStmt)):
        return [stmt.body, *([stmt.else_body] if stmt.else_body else [])]
    if isinstance(stmt, TryStmt):
        extra = [b for b in (stmt.else_body, stmt.finally_body) if b is not None]
        return [stmt.body, *stmt.handlers, *extra]
    if isinstance(stmt, WithStmt):
        return [stmt.body]
    return []


def _calls_self(call: CallExpr, me: Var) -> bool:
    callee = call.callee
    return (
        isinstance(callee, MemberExpr)
        and callee.name in SELF_METHODS
        and isinstance(callee.expr, NameExpr)
        and callee.expr.node is me
    )


# --- self.replace(sig) -----------------------------------------------------------------------


def check_replacement(
    api: TypeChecker, settings: Settings, lookup: Lookup, view: TaskView, expr: Expression, typ: Type, call: CallExpr
) -> bool:
    """Check the replacing signature; True when a result mismatch was reported."""
    node = read_node(typ)
    if node is None or node.result is None:
        return False  # not a signature the plugin can see through: silent
    _check_complete(api, lookup, expr)
    declared = erase_typevars(view.sig.ret_type)
    got = erase_typevars(node.result)
    proper = get_proper_type(declared)
    if isinstance(proper, (AnyType, UninhabitedType)) or is_subtype(got, declared):
        return False  # unannotated, NoReturn, or fits as declared
    arrived = arrival_type(api, settings, lookup, got, node.pydantic) or got
    expected = arrival_type(api, settings, lookup, declared, view.options.pydantic) or declared
    if is_subtype(arrived, expected):
        return False  # both arrive as the same thing (a tuple and a list both arrive as a list)
    options = api.options
    travel = arrival_clause(options, settings, got, arrived)
    api.fail(
        f'Task "{view.name}" is replaced by "{node.last}", whose result ({format_type(got, options)}{travel}) '
        f'becomes the result of "{view.name}", declared {format_type(declared, options)}: Celery gives the '
        f"replacing signature's result to the task's callers, callbacks and the rest of its chain. "
        f'Fix: declare "{view.name}" as returning {format_type(arrived, options)}, or replace it with a '
        f"signature whose result is {format_type(declared, options)}",
        call,
        code=errorcodes.CANVAS,
    )
    return True


def _check_complete(api: TypeChecker, lookup: Lookup, expr: Expression) -> None:
    """An inline ``t.s(...)`` must fill every required parameter: no parent result comes first."""
    if not isinstance(expr, CallExpr) or not isinstance(expr.callee, MemberExpr) or expr.callee.name != "s":
        return
    if any(kind.is_star() for kind in expr.arg_kinds) or not api.has_type(expr.callee.expr):
        return
    view = view_task(api.lookup_type(expr.callee.expr), lookup)
    if view is None or view.dispatches:
        return
    sig = view.sig
    any_type = AnyType(TypeOfAny.special_form)
    mapping = map_actuals_to_formals(expr.arg_kinds, expr.arg_names, sig.arg_kinds, sig.arg_names, lambda _: any_type)
    for formal, actuals in enumerate(mapping):
        if actuals or not sig.arg_kinds[formal].is_required():
            continue
        param = sig.arg_names[formal] or f"#{formal + 1}"
        api.fail(
            f'self.replace({view.name}.s(...)) runs "{view.name}" without argument "{param}": Celery sends '
            f"a replacing signature as written, with no parent result before its arguments. "
            f'Fix: pass "{param}" in {view.name}.s(...)',
            expr,
            code=errorcodes.CANVAS,
        )


# --- self.retry(args=..., kwargs=...) with an unannotated self -------------------------------


def check_unannotated_retry(
    api: TypeChecker, settings: Settings, lookup: Lookup, task: Instance, view: TaskView, call: CallExpr
) -> None:
    retry = _retry_signature(lookup)
    if retry is None or any(kind.is_star() for kind in call.arg_kinds):
        return
    any_type = AnyType(TypeOfAny.special_form)
    types = [api.lookup_type(arg) if api.has_type(arg) else any_type for arg in call.args]
    mapping = map_actuals_to_formals(
        call.arg_kinds, call.arg_names, retry.arg_kinds, retry.arg_names, lambda i: types[i]
    )
    given = {name for name, actuals in zip(retry.arg_names, mapping) if name in ("args", "kwargs") and actuals}
    if not given:
        return  # retry(exc=..., countdown=...): the request's own arguments again
    receiver: Type = task
    if len(given) == 1:
        # Celery 5.7 Task.retry: a missing args/kwargs is taken from the request, so arity is unknown.
        partial = make_partial(view.sig).copy_modified(name=view.name)
        receiver = task_instance(api, task.type, partial, view.options)
    ctx = MethodContext(
        type=task,
        arg_types=[[types[i] for i in actuals] for actuals in mapping],
        arg_kinds=[[call.arg_kinds[i] for i in actuals] for actuals in mapping],
        callee_arg_names=retry.arg_names,
        arg_names=[[call.arg_names[i] for i in actuals] for actuals in mapping],
        default_return_type=any_type,
        args=[[call.args[i] for i in actuals] for actuals in mapping],
        context=call,
        api=api,
    )
    check_task_call(ctx, "retry", settings, lookup, receiver=receiver)


def _retry_signature(lookup: Lookup) -> CallableType | None:
    info = lookup(fn.CELERY_TASK)
    node = info.names.get("retry") if info is not None else None
    method = get_proper_type(node.type) if node is not None and node.type is not None else None
    return drop_self(method) if isinstance(method, CallableType) else None
