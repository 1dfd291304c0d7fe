"""Calls of a task: ``.delay``, ``.apply_async``, ``.s``, ``.si``, ``.signature``, ``*_on_commit``.

Two steps per call, routed when Celery's own class defines the method (mypy names the hook after
the receiver's class, ``proj.tasks.MyTask.delay``; plugin.py looks the defining class up):

- ``rewrite_call_signature`` (signature hook) gives mypy the task function's parameters, so its
  own ``arg-type`` / ``call-arg`` errors apply; ``.s`` gets them all optional (partial);
  ``apply_async`` / ``signature`` accept a list for ``args`` (celery-types 0.26 wants a tuple).
- ``check_task_call`` (method hook) checks literal ``args=`` / ``kwargs=`` of ``apply_async`` and
  ``signature`` against the task, judges every argument for the serializer in effect
  (celery-unserializable, celery-lossy), and types the result as what arrives.

Hook phase: the method signature and method hooks of Celery's Task methods.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from mypy.argmap import map_actuals_to_formals
from mypy.checker import TypeChecker
from mypy.checkexpr import has_any_type
from mypy.erasetype import erase_typevars
from mypy.errors import ErrorInfo
from mypy.subtypes import is_subtype
from mypy.nodes import (
    ARG_NAMED,
    ARG_NAMED_OPT,
    ARG_OPT,
    ARG_POS,
    ARG_STAR,
    ARG_STAR2,
    ArgKind,
    CallExpr,
    DictExpr,
    Expression,
    ListExpr,
    NameExpr,
    StarExpr,
    StrExpr,
    TempNode,
    TupleExpr,
)
from mypy.plugin import CheckerPluginInterface, MethodContext, MethodSigContext
from mypy.types import (
    AnyType,
    CallableType,
    FunctionLike,
    Instance,
    LiteralType,
    TupleType,
    Type,
    TypeOfAny,
    UnionType,
    get_proper_type,
)

from celery_boundary.core.records import record
from celery_boundary.mypy.hooks.apps import sending_app
from celery_boundary.mypy.hooks.boundary import Crossing, arrival_type, check_argument, is_plain_scalar
from celery_boundary.mypy.hooks.canvas_nodes import Node, attach_node, remaining
from celery_boundary.mypy.hooks.tasks import TaskView, view_task
from celery_boundary.mypy.memo import Memo
from celery_boundary.mypy.metadata import Lookup, PACKED
from celery_boundary.mypy.startup.settings import Settings

#: Packed methods whose arguments may be completed later in a canvas.
PARTIAL: Final = frozenset({"signature", "subtask"})
#: Methods that send a message now (their result is an AsyncResult of what arrives).
SENDS: Final = frozenset({"delay", "apply_async", "delay_on_commit", "apply_async_on_commit", "send_task"})
#: Methods that make a signature (a canvas node, canvas_nodes.py).
MAKES_SIGNATURE: Final = frozenset({"s", "si", "signature", "subtask"})


class Actual(NamedTuple):
    expr: Expression
    kind: ArgKind
    name: str | None
    type: Type


#: The signature given to mypy per (task type, method, default result type): the same for every call
#: of a task but ``.s(...)``, whose binding depends on the arguments (memo.py says when it is forgotten).
_SIGNATURES: Final = Memo[FunctionLike]()


def rewrite_call_signature(ctx: MethodSigContext, method: str, lookup: Lookup) -> FunctionLike:
    default = ctx.default_signature
    if method == "s" or not isinstance(default, CallableType):
        return _rewrite(ctx, method, lookup)
    key = (ctx.type, method, default.ret_type, default.fallback)
    return _SIGNATURES.get(key, lambda: _rewrite(ctx, method, lookup))


def _rewrite(ctx: MethodSigContext, method: str, lookup: Lookup) -> FunctionLike:
    default = ctx.default_signature
    task = view_task(ctx.type, lookup)
    if task is None or not isinstance(default, CallableType):
        return default
    sig = task.sig
    if method in PACKED:
        return _open_packed(ctx.api, default)
    if task.dispatches:
        # A base class that injects or pops kwargs in apply_async/__call__: arity is its business.
        any_type = AnyType(TypeOfAny.special_form)
        return default.copy_modified(
            arg_types=[any_type, any_type], arg_kinds=[ARG_STAR, ARG_STAR2], arg_names=[None, None]
        )
    name = f"{method} of {task.name}"
    if method == "s":
        partial = make_partial(sig)
        returning = _returning(default.ret_type, sig)
        return _bind_partial(ctx, partial.copy_modified(ret_type=returning, name=name, fallback=default.fallback))
    return sig.copy_modified(ret_type=_returning(default.ret_type, sig), name=name, fallback=default.fallback)


def _bind_partial(ctx: MethodSigContext, partial: CallableType) -> CallableType:
    """``.s(...)`` arguments bind from the first parameter when the signature is sent on its own or
    starts a canvas, and from the second when it is a later link: Celery prepends the parent's
    result (``Signature._merge``, 5.7), so ``chain(fetch.s(), label.s(2))`` runs ``label(result, 2)``.

    The call cannot tell which, so it is accepted when either binding fits; if neither does, mypy's
    errors for the first binding are reported. The call is checked here once per binding tried, and
    mypy then sees an open signature returning what the check inferred (a generic task's result).
    """
    call, api = ctx.context, ctx.api
    if not isinstance(call, CallExpr) or not isinstance(api, TypeChecker) or ARG_POS not in call.arg_kinds:
        return partial  # keywords bind by name: one binding only
    first, fits = _try_call(api, partial, call)
    if not fits:
        shifted = _without_first_positional(partial)
        later, fits_later = _try_call(api, shifted, call) if shifted is not None else (first, False)
        if not fits_later:
            api.msg.add_errors(first.errors)
        else:
            first = later
    any_type = AnyType(TypeOfAny.special_form)
    return partial.copy_modified(
        arg_types=[any_type, any_type], arg_kinds=[ARG_STAR, ARG_STAR2], arg_names=[None, None], ret_type=first.type
    )


@record
class _Trial:
    type: Type
    errors: list[ErrorInfo]


def _try_call(api: TypeChecker, callee: CallableType, call: CallExpr) -> tuple[_Trial, bool]:
    with api.msg.filter_errors(save_filtered_errors=True) as watcher:
        returned, _ = api.expr_checker.check_call(callee, call.args, call.arg_kinds, call, call.arg_names)
    return _Trial(returned, watcher.filtered_errors()), not watcher.has_new_errors()


def _without_first_positional(sig: CallableType) -> CallableType | None:
    """The parameters left when the parent's result takes the first positional one."""
    if not sig.arg_kinds or not sig.arg_kinds[0].is_positional() or sig.arg_kinds[0] == ARG_STAR:
        return None
    return sig.copy_modified(arg_types=sig.arg_types[1:], arg_kinds=sig.arg_kinds[1:], arg_names=sig.arg_names[1:])


def _returning(default: Type, sig: CallableType) -> Type:
    """``AsyncResult[R]`` / ``Signature[R]`` with the task's own R, so a generic task's R is inferred."""
    result = get_proper_type(default)
    if isinstance(result, Instance) and len(result.args) == 1:
        return result.copy_modified(args=[sig.ret_type])
    return default


def make_partial(sig: CallableType) -> CallableType:
    """``.s()``: any argument may come from the parent task in a chain."""
    kinds = [ARG_OPT if k == ARG_POS else ARG_NAMED_OPT if k == ARG_NAMED else k for k in sig.arg_kinds]
    return sig.copy_modified(arg_kinds=kinds)


def _open_packed(api: CheckerPluginInterface, default: CallableType) -> CallableType:
    """``args`` may be a tuple or a list (Celery accepts both; celery-types 0.26 says tuple)."""
    any_type = AnyType(TypeOfAny.special_form)
    types = list(default.arg_types)
    if "args" in default.arg_names:
        index = default.arg_names.index("args")
        list_type = api.named_generic_type("builtins.list", [any_type])
        types[index] = UnionType.make_union([types[index], list_type])
    return default.copy_modified(arg_types=types)


def check_task_call(
    ctx: MethodContext, method: str, settings: Settings, lookup: Lookup, receiver: Type | None = None
) -> Type:
    """``receiver``: the task when it is not the call's receiver (``app.send_task("mod.task", ...)``)."""
    receiver = ctx.type if receiver is None else receiver
    task = view_task(receiver, lookup)
    if task is None:
        return ctx.default_return_type
    sig, options, task_text = task.sig, task.options, task.name
    # The app that publishes: the task's (``@legacy.task``), or the one send_task is called on.
    settings = settings.for_app(sending_app(ctx.context) if method == "send_task" else options.app)
    if method in PACKED:
        actuals = _packed_actuals(ctx)
        if actuals is not None and not task.dispatches:
            # A signature may be partial (the parent's result comes first in a chain), like .s().
            callee = make_partial(sig) if method in PARTIAL else sig
            _check_arity(ctx, callee, actuals, method, task_text)
        per_call = _string_option(ctx, "serializer")
        if actuals is None:
            # args=values / kwargs=values not written out: every item is sent, judge the containers.
            actuals = [
                Actual(expr, kind, None, _type(ctx, expr))
                for expr, kind in ((_formal_expr(ctx, "args"), ARG_STAR), (_formal_expr(ctx, "kwargs"), ARG_STAR2))
                if expr is not None
            ]
    elif method in SENDS and all(is_plain_scalar(t) for types in ctx.arg_types for t in types):
        # .delay(ids, names, counts): the commonest call; nothing to judge but the result.
        return _result_as_it_arrives(ctx, settings, lookup, sig, options.pydantic, receiver is not ctx.type)
    else:
        actuals = _direct_actuals(ctx)
        per_call = None
    if actuals and not all(is_plain_scalar(actual.type) for actual in actuals):
        serializer = per_call or options.serializer or task.class_serializer or settings.task_serializer
        _judge_actuals(ctx, settings, lookup, task, method, serializer, actuals)
    if method in ("apply_async", "apply_async_on_commit", "send_task") and _passes_callbacks(ctx):
        from celery_boundary.mypy.hooks.canvas import check_callbacks  # loaded with the first link=

        check_callbacks(ctx, settings, lookup, Node(sig.ret_type, None, task_text, options.pydantic))
    if method in SENDS:
        return _result_as_it_arrives(ctx, settings, lookup, sig, options.pydantic, receiver is not ctx.type)
    if method in MAKES_SIGNATURE:
        return _signature_node(ctx, method, task, actuals)
    return ctx.default_return_type


def _judge_actuals(
    ctx: MethodContext,
    settings: Settings,
    lookup: Lookup,
    task: TaskView,
    method: str,
    serializer: str,
    actuals: list[Actual],
) -> None:
    """Each argument that is not a plain scalar, judged for the serializer (most calls pass only ids)."""
    sig, name = task.sig, f"{task.name}.{method}"
    for actual in actuals:
        if actual.kind.is_star():
            # *values / **values: the container is unpacked, each item is sent; only refusals count.
            stars = "*" if actual.kind == ARG_STAR else "**"
            crossing = Crossing(name, f"{stars}{_text(actual.expr)}", serializer, None, unserializable_only=True)
            check_argument(ctx.api, settings, lookup, crossing, actual.type, actual.expr)
    # send_task never runs the pydantic=True dump of the call site (Celery 5.7): it needs dicts.
    pydantic = task.options.pydantic and method != "send_task"
    if method == "s":
        sig = _bound_as_written(sig, actuals)
    for formal, actual in _pair(sig, actuals):
        if is_plain_scalar(actual.type) or not is_subtype(actual.type, erase_typevars(sig.arg_types[formal])):
            continue  # mypy reports arg-type for a mismatch already: one error per mistake
        param = sig.arg_names[formal] or f"#{formal + 1}"
        crossing = Crossing(name, param, serializer, sig.arg_types[formal], pydantic)
        check_argument(ctx.api, settings, lookup, crossing, actual.type, actual.expr)


def _bound_as_written(sig: CallableType, actuals: list[Actual]) -> CallableType:
    """The parameters ``.s(...)`` arguments went to: shifted by one when only that binding fits."""
    shifted = _without_first_positional(sig)
    if shifted is None:
        return sig
    if all(is_subtype(a.type, erase_typevars(sig.arg_types[f])) for f, a in _pair(sig, actuals)):
        return sig
    fits = all(is_subtype(a.type, erase_typevars(shifted.arg_types[f])) for f, a in _pair(shifted, actuals))
    return shifted if fits else sig


def _signature_node(ctx: MethodContext, method: str, task: TaskView, actuals: list[Actual] | None) -> Type:
    """``.s(...)`` / ``.signature(...)`` carry the parameters left open; ``.si(...)`` takes no parent result."""
    sig, name, pydantic = task.sig, task.name, task.options.pydantic
    immutable = method == "si" or _is_true(_formal_expr(ctx, "immutable"))
    takes = None
    if not immutable and actuals is not None and not task.dispatches:
        takes = remaining(sig, [a.kind for a in actuals], [a.name for a in actuals])
        takes = takes.copy_modified(name=name) if takes is not None else None
    made = get_proper_type(ctx.default_return_type)
    # Signature[R] with R as mypy solved it for this call (a generic task's T is known here).
    result = made.args[0] if isinstance(made, Instance) and len(made.args) == 1 else sig.ret_type
    late = None
    if takes is not None and actuals and any(a.kind == ARG_POS for a in actuals):
        late = name if _bound_as_written(sig, actuals) is not sig else None
    return attach_node(ctx.api, ctx.default_return_type, Node(result, takes, name, pydantic, late=late))


def _is_true(expr: Expression | None) -> bool:
    return isinstance(expr, NameExpr) and expr.fullname == "builtins.True"


def _text(expr: Expression) -> str:
    return expr.name if isinstance(expr, NameExpr) else "..."


def _direct_actuals(ctx: MethodContext) -> list[Actual]:
    found: list[Actual] = []
    for exprs, kinds, names, types in zip(ctx.args, ctx.arg_kinds, ctx.arg_names, ctx.arg_types):
        found.extend(Actual(e, k, n, t) for e, k, n, t in zip(exprs, kinds, names, types))
    return found


def _packed_actuals(ctx: MethodContext) -> list[Actual] | None:
    """The items of ``args=(...)`` / ``[...]`` and ``kwargs={...}``; None if not literal."""
    found: list[Actual] = []
    args = _formal_expr(ctx, "args")
    kwargs = _formal_expr(ctx, "kwargs")
    if args is None and kwargs is None:
        # apply_async() with neither: Celery's send-time arity check (typing=True) sees no arguments.
        stars = any(kind.is_star() for kinds in ctx.arg_kinds for kind in kinds)
        names = ctx.callee_arg_names
        empty = all(name in names and not ctx.args[names.index(name)] for name in ("args", "kwargs"))
        return [] if empty and not stars else None
    if args is not None:
        items = _sequence_items(ctx, args)
        if items is None:
            return None
        found.extend(items)
    if kwargs is not None:
        if not isinstance(kwargs, DictExpr):
            return None
        for key, value in kwargs.items:
            if key is None:
                found.append(Actual(value, ARG_STAR2, None, _type(ctx, value)))
            elif isinstance(key, StrExpr):
                found.append(Actual(value, ARG_NAMED, key.value, _type(ctx, value)))
            else:
                return None
    return found


def _sequence_items(ctx: MethodContext, args: Expression) -> list[Actual] | None:
    if isinstance(args, (TupleExpr, ListExpr)):
        items: list[Actual] = []
        for item in args.items:
            if isinstance(item, StarExpr):
                items.append(Actual(item.expr, ARG_STAR, None, _type(ctx, item.expr)))
            else:
                items.append(Actual(item, ARG_POS, None, _type(ctx, item)))
        return items
    typ = get_proper_type(_type(ctx, args))
    if isinstance(typ, TupleType) and typ.partial_fallback.type.fullname == "builtins.tuple":
        return [Actual(args, ARG_POS, None, item) for item in typ.items]
    return None


def _check_arity(ctx: MethodContext, sig: CallableType, actuals: list[Actual], method: str, task: str) -> None:
    """Let mypy check the packed arguments as if the task were called (arg-type, call-arg)."""
    api = ctx.api
    if not isinstance(api, TypeChecker):
        return
    callee = sig.copy_modified(name=f"{method} of {task}")
    nodes: list[Expression] = [TempNode(a.type, context=a.expr) for a in actuals]
    kinds = [a.kind for a in actuals]
    names = [a.name for a in actuals]
    # A call of its own as the context: mypy names arguments from the outer CallExpr.
    call = CallExpr(NameExpr(callee.name or method), nodes, kinds, names)
    call.set_line(ctx.context)
    if method not in PARTIAL or ARG_POS not in kinds:
        api.expr_checker.check_call(callee, nodes, kinds, call, names)
        return
    # signature((2,)) as a later link runs task(result, 2), like .s(2): either binding may be meant.
    first, fits = _try_call(api, callee, call)
    shifted = _without_first_positional(callee) if not fits else None
    if not fits and (shifted is None or not _try_call(api, shifted, call)[1]):
        api.msg.add_errors(first.errors)


def _pair(sig: CallableType, actuals: list[Actual]) -> list[tuple[int, Actual]]:
    """(formal index, actual) for each argument bound to a named parameter (stars skipped)."""
    mapping = map_actuals_to_formals(
        [a.kind for a in actuals],
        [a.name for a in actuals],
        sig.arg_kinds,
        sig.arg_names,
        lambda i: actuals[i].type,
    )
    pairs: list[tuple[int, Actual]] = []
    for formal, indexes in enumerate(mapping):
        for index in indexes:
            if actuals[index].kind in (ARG_STAR, ARG_STAR2):
                continue
            pairs.append((formal, actuals[index]))
    return pairs


def _passes_callbacks(ctx: MethodContext) -> bool:
    """``link=`` or ``link_error=`` is given (canvas.check_callbacks judges them)."""
    return _formal_expr(ctx, "link") is not None or _formal_expr(ctx, "link_error") is not None


def _formal_expr(ctx: MethodContext, name: str) -> Expression | None:
    if name not in ctx.callee_arg_names:
        return None
    exprs = ctx.args[ctx.callee_arg_names.index(name)]
    return exprs[0] if len(exprs) == 1 else None


def _string_option(ctx: MethodContext, name: str) -> str | None:
    expr = _formal_expr(ctx, name)
    if isinstance(expr, StrExpr):
        return expr.value
    if expr is not None:
        typ = get_proper_type(_type(ctx, expr))
        if isinstance(typ, Instance) and typ.last_known_value is not None:
            typ = typ.last_known_value
        if isinstance(typ, LiteralType) and isinstance(typ.value, str):
            return typ.value
    return None


def _type(ctx: MethodContext, expr: Expression) -> Type:
    """An item of a literal ``args``/``kwargs``; re-inferred only when the ``Any`` context of
    ``tuple[Any, ...]`` left an ``Any`` in it (``{1, 2}`` was inferred as ``set[Any]``)."""
    api = ctx.api
    if isinstance(api, TypeChecker) and api.has_type(expr):
        stored = api.lookup_type(expr)
        if not has_any_type(stored):
            return stored
    return api.get_expression_type(expr)


def _result_as_it_arrives(
    ctx: MethodContext, settings: Settings, lookup: Lookup, sig: CallableType, pydantic: bool, by_name: bool = False
) -> Type:
    """``AsyncResult[R]`` becomes ``AsyncResult[<what the result serializer delivers>]``."""
    result = get_proper_type(ctx.default_return_type)
    if not isinstance(result, Instance) or len(result.args) != 1:
        return ctx.default_return_type
    # R as inferred for this call (a generic task's T is solved); send_task's is Any: use the task's.
    returned = sig.ret_type if by_name else result.args[0]
    arrives = arrival_type(ctx.api, settings, lookup, returned, pydantic)
    if arrives is None:
        return result.copy_modified(args=[returned]) if by_name else result  # a scalar arrives as itself
    return result.copy_modified(args=[arrives])
