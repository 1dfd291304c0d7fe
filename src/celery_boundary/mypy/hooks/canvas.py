"""The typed canvas: ``chain``, ``group``, ``chord``, ``|``, ``link=`` / ``link_error=`` (celery-canvas).

Each link is checked where it is written: the previous node's result, as the result serializer
delivers it, fills the next task's first open parameter (Celery 5.7 prepends it to the args of a
mutable signature; ``.si()`` ignores it). A type that does not fit is ``celery-canvas``; a value that
does not survive the result serializer is celery-unserializable / celery-lossy, judged by
boundary.py exactly as a call argument. Results of ``.delay()`` / ``.apply_async()`` /
``chord(...)(body)`` are typed with what arrives.

Hook phase: the function hooks of ``chain`` / ``group`` / ``chord`` and the method hooks of
signatures.
"""

from __future__ import annotations

from mypy.checker import TypeChecker
from mypy.erasetype import erase_typevars
from mypy.messages import format_type
from mypy.nodes import (
    ARG_OPT,
    ARG_POS,
    ARG_STAR,
    Context,
    Expression,
    GeneratorExpr,
    ListComprehension,
    ListExpr,
    TupleExpr,
)
from mypy.plugin import CheckerPluginInterface, FunctionContext, MethodContext
from mypy.subtypes import is_subtype
from mypy.typeops import make_simplified_union
from mypy.types import AnyType, Instance, Type, TypeOfAny, get_proper_type

from celery_boundary.mypy import errorcodes
from celery_boundary.mypy.hooks.boundary import Crossing, arrival_clause, arrival_type, check_argument
from celery_boundary.mypy.hooks.canvas_nodes import Node, attach_node, is_signature, read_node
from celery_boundary.mypy.hooks.group_results import group_result, is_group
from celery_boundary.mypy.metadata import Lookup, SIGNATURE
from celery_boundary.mypy.startup.settings import Settings

#: The name a group node goes by in messages ("the result of "group(...)"") and in checks.
GROUP = "group(...)"
#: Celery 5 calls an errback as ``errback(request, exc, traceback)`` (celery/app/task.py, 5.7).
ERRBACK_ARITY = 3


def check_link(
    api: CheckerPluginInterface, settings: Settings, lookup: Lookup, prev: Node, nxt: Node, context: Context
) -> None:
    """``prev``'s result becomes the first argument of ``nxt``'s first task (of each group member)."""
    for member in nxt.fanout:
        check_link(api, settings, lookup, prev, Node(None, member, member.name or "task", nxt.pydantic), context)
    takes = nxt.takes
    if takes is None or prev.result is None:
        return  # .si(), a group, or a signature the plugin cannot see through
    open_positional = [i for i, kind in enumerate(takes.arg_kinds) if kind in (ARG_POS, ARG_OPT, ARG_STAR)]
    name = takes.name or nxt.first
    if not open_positional:
        api.fail(
            f'The canvas passes the result of "{prev.last}" to "{name}", which has no parameter left for it: '
            f"Celery prepends the result to the arguments given in .s(...), and they already fill every "
            f"positional parameter (or name the first one). Fix: use {name}.si(...) to ignore the parent "
            f"result, or leave its first parameter open",
            context,
            code=errorcodes.CANVAS,
        )
        return
    index = open_positional[0]
    param = takes.arg_names[index] or f"#{index + 1}"
    # A generic task (def ident(x: T) -> T): its type variables are unsolved here; trust them.
    expected = erase_typevars(takes.arg_types[index])
    declared = erase_typevars(prev.result)
    arrived = arrival_type(api, settings, lookup, declared, prev.pydantic) or declared
    if is_subtype(declared, expected) or is_subtype(arrived, expected):
        # Named as the link ("fetch -> shout") so the report reads as the canvas, not a call.
        crossing = Crossing(f"{prev.last} -> {name}", param, settings.result_serializer, expected, nxt.pydantic)
        check_argument(api, settings, lookup, crossing, declared, context)
    else:
        options = api.options
        travel = arrival_clause(options, settings, declared, arrived)
        api.fail(
            f'The canvas passes the result of "{prev.last}" ({format_type(declared, options)}{travel}) to '
            f'"{name}" parameter "{param}" ({format_type(expected, options)}). Fix: make "{param}" accept '
            f"{format_type(arrived, options)}, or use {name}.si(...) to ignore the parent result",
            context,
            code=errorcodes.CANVAS,
        )
    for other, kind in enumerate(takes.arg_kinds):
        if other != index and kind.is_required():
            missing = takes.arg_names[other] or f"#{other + 1}"
            api.fail(
                f'The canvas calls "{name}" without argument "{missing}": the result of "{prev.last}" fills '
                f'only "{param}". Fix: pass it in {name}.s(...)',
                context,
                code=errorcodes.CANVAS,
            )


def check_errback(api: CheckerPluginInterface, errback: Node, context: Context) -> None:
    """``link_error=`` / ``.on_error()``: Celery 5 calls it with ``(request, exc, traceback)``."""
    takes = errback.takes
    if takes is None:
        return
    if any(kind == ARG_STAR for kind in takes.arg_kinds):
        return
    positional = [k for k in takes.arg_kinds if k in (ARG_POS, ARG_OPT)]
    required = [k for k in takes.arg_kinds if k.is_required()]
    if len(positional) >= ERRBACK_ARITY and len(required) <= ERRBACK_ARITY:
        return
    name = takes.name or errback.first
    api.fail(
        f'Error callback "{name}" cannot take the (request, exc, traceback) Celery 5 passes to it: '
        f"{len(positional)} positional parameter(s) are left open. "
        f"Fix: def {name}(request, exc, traceback) and link {name}.s()",
        context,
        code=errorcodes.CANVAS,
    )


# --- building nodes --------------------------------------------------------------------------


def node_of(api: CheckerPluginInterface, expr: Expression, typ: Type) -> Node | None:
    return read_node(_expr_type(api, expr, typ))


def _expr_type(api: CheckerPluginInterface, expr: Expression, fallback: Type) -> Type:
    if isinstance(api, TypeChecker) and api.has_type(expr):
        return api.lookup_type(expr)
    return fallback


def fold_chain(
    api: CheckerPluginInterface, settings: Settings, lookup: Lookup, links: list[tuple[Node | None, Context]]
) -> Node | None:
    """Check each link against the one before; the chain takes what its first link takes."""
    if not links:
        return None
    head, _ = links[0]
    current = head
    for nxt, context in links[1:]:
        if current is not None and nxt is not None:
            check_link(api, settings, lookup, current, nxt, context)
        current = nxt
    if head is None or current is None:
        return None
    # Sent on its own, the chain gives its first link no parent result: a late first link is wrong then.
    return Node(current.result, head.takes, current.last, current.pydantic, fanout=head.fanout, late=head.late)


def group_node(api: CheckerPluginInterface, members: list[Node | None], default_name: str = GROUP) -> Node:
    """A group delivers ``list[<member results>]`` (Any as soon as one member is unknown)."""
    results: list[Type] = []
    for member in members:
        result = member.result if member is not None else None
        proper = get_proper_type(result) if result is not None else None
        if proper is None or (isinstance(proper, Instance) and proper.type.fullname == "builtins.object"):
            results = []  # a join of unrelated signatures: not a real result type
            break
        if member is not None and member.last == GROUP:
            results = []  # a group inside a group: whether Celery flattens its results is not modelled
            break
        results.append(result)  # type: ignore[arg-type]  # None excluded above
    item: Type = make_simplified_union(results) if results and members else AnyType(TypeOfAny.special_form)
    # Members written out one by one receive the parent result (a generator's element is one
    # member standing for many: the same check). Unknown members are skipped, never guessed.
    fanout = tuple(m.takes for m in members if m is not None and m.takes is not None)
    listed = api.named_generic_type("builtins.list", [item])
    late = next((m.late for m in members if m is not None and m.late is not None), None)
    return Node(result=listed, takes=None, last=default_name, fanout=fanout, late=late)


def members_of(api: CheckerPluginInterface, expr: Expression, typ: Type) -> list[Node | None]:
    """Members written in a list/tuple literal, or the element of a generator/iterable of signatures."""
    if isinstance(expr, (ListExpr, TupleExpr)):
        return [node_of(api, item, AnyType(TypeOfAny.special_form)) for item in expr.items]
    if isinstance(expr, (GeneratorExpr, ListComprehension)):
        # chord's header is typed Any (celery-types 0.26): the generator's own type has Any items.
        element = expr.left_expr if isinstance(expr, GeneratorExpr) else expr.generator.left_expr
        return [node_of(api, element, AnyType(TypeOfAny.special_form))]
    proper = get_proper_type(_expr_type(api, expr, typ))
    if is_signature(proper):
        member = read_node(proper)
        return [member]  # a group as the header keeps its own list (last == GROUP)
    if isinstance(proper, Instance) and proper.args and is_signature(proper.args[0]):
        return [read_node(proper.args[0])]  # group(t.s(i) for i in xs), a list of signatures
    return [None]


# --- hooks -----------------------------------------------------------------------------------


def build_chain(ctx: FunctionContext, settings: Settings, lookup: Lookup) -> Type:
    """``chain(a.s(), b.s(), ...)``; ``chain(*tasks)`` stays as celery-types types it."""
    if not ctx.args or any(kind.is_star() for kind in ctx.arg_kinds[0]):
        return ctx.default_return_type
    links = [(node_of(ctx.api, e, t), e) for e, t in zip(ctx.args[0], ctx.arg_types[0])]
    node = fold_chain(ctx.api, settings, lookup, [(n, c) for n, c in links])
    return attach_node(ctx.api, ctx.default_return_type, node) if node else ctx.default_return_type


def build_group(ctx: FunctionContext) -> Type:
    if not ctx.args or any(kind.is_star() for kind in ctx.arg_kinds[0]) or not ctx.args[0]:
        return ctx.default_return_type
    exprs, types = ctx.args[0], ctx.arg_types[0]
    if len(exprs) == 1:
        members = members_of(ctx.api, exprs[0], types[0])
        single = members[0] if len(members) == 1 else None
        if single is not None and single.last == GROUP and single.takes is None:
            return attach_node(ctx.api, ctx.default_return_type, single)
    else:
        members = [node_of(ctx.api, e, t) for e, t in zip(exprs, types)]
    return attach_node(ctx.api, ctx.default_return_type, group_node(ctx.api, members))


def build_chord(ctx: FunctionContext, settings: Settings, lookup: Lookup) -> Type:
    """``chord(header, body)``: the body's first parameter receives the list of header results."""
    if not ctx.args or len(ctx.args[0]) != 1:
        return ctx.default_return_type
    header = header_node(ctx.api, ctx.args[0][0], ctx.arg_types[0][0])
    body_exprs = ctx.args[1] if len(ctx.args) > 1 else []
    if not body_exprs:
        bodyless = Node(header.result, None, header.last, bodyless=True, fanout=header.fanout)
        return attach_node(ctx.api, ctx.default_return_type, bodyless)
    body = node_of(ctx.api, body_exprs[0], ctx.arg_types[1][0])
    if body is None:
        return ctx.default_return_type
    check_link(ctx.api, settings, lookup, header, body, body_exprs[0])
    # In a chain, a chord's parent result goes to the header's members, not to the body.
    chord = Node(body.result, None, body.last, body.pydantic, fanout=header.fanout, late=header.late)
    return attach_node(ctx.api, ctx.default_return_type, chord)


def header_node(api: CheckerPluginInterface, expr: Expression, typ: Type) -> Node:
    members = members_of(api, expr, typ)
    if len(members) == 1 and members[0] is not None and members[0].last == GROUP:
        return members[0]
    if isinstance(expr, (ListExpr, TupleExpr)) or len(members) != 1:
        return group_node(api, members)
    return group_node(api, members) if members[0] is not None else group_node(api, [None])


def call_chord(ctx: MethodContext, settings: Settings, lookup: Lookup) -> Type:
    """``chord(header)(body)``: check the body, type the result as the body's, as it arrives.

    ``group(...)()`` is ``apply_async`` (Celery 5.7 ``group.__call__``): a typed ``GroupResult``."""
    chord = read_node(ctx.type)
    if chord is None:
        return ctx.default_return_type
    if is_group(ctx.type):
        return group_result(ctx.api, settings, lookup, chord) or ctx.default_return_type
    body_exprs = ctx.args[0] if ctx.args else []
    result = chord
    if chord.bodyless and body_exprs:
        body = node_of(ctx.api, body_exprs[0], ctx.arg_types[0][0])
        if body is None:
            return ctx.default_return_type
        check_link(ctx.api, settings, lookup, chord, body, body_exprs[0])
        result = body
    elif chord.bodyless:
        return ctx.default_return_type
    return typed_result(ctx.api, settings, lookup, ctx.default_return_type, result)


def join_pipe(ctx: MethodContext, settings: Settings, lookup: Lookup, reverse: bool = False) -> Type:
    """``a.s() | b.s()`` (a group on the left makes a chord: the body receives the list).

    ``reverse``: mypy chose ``b``'s ``__ror__`` (dict's, for two signatures of different result
    types in celery-types 0.26), which types the pipe as ``dict[str, Any]``: the plugin restores a
    ``Signature``.
    """
    if not ctx.args or not ctx.args[0]:
        return ctx.default_return_type
    here = read_node(ctx.type)
    other = node_of(ctx.api, ctx.args[0][0], ctx.arg_types[0][0])
    left, right = (other, here) if reverse else (here, other)
    if reverse and not is_signature(ctx.arg_types[0][0]):
        return ctx.default_return_type
    node = fold_chain(ctx.api, settings, lookup, [(left, ctx.context), (right, ctx.context)])
    default = get_proper_type(ctx.default_return_type)
    if not (isinstance(default, Instance) and default.type.has_base(SIGNATURE)):
        info = lookup(SIGNATURE)
        if info is None:
            return ctx.default_return_type
        default = Instance(info, [AnyType(TypeOfAny.special_form)])
    if node is None:
        return default
    if default.type.fullname == SIGNATURE and node.result is not None:
        default = default.copy_modified(args=[node.result])
    return attach_node(ctx.api, default, node)


def send_signature(ctx: MethodContext, settings: Settings, lookup: Lookup) -> Type:
    """``.delay()`` / ``.apply_async()`` on a signature, chain or chord: ``AsyncResult[<arrives>]``;
    on a group: a ``GroupResult`` whose ``.get()`` gives the list that arrives."""
    node = read_node(ctx.type)
    if node is None or node.bodyless:
        return ctx.default_return_type
    if node.late is not None:
        report_late(ctx.api, node.late, ctx.context)
    check_callbacks(ctx, settings, lookup, node)
    if is_group(ctx.type):
        # Celery 5.7 returns a GroupResult, not an AsyncResult (group_results.py).
        return group_result(ctx.api, settings, lookup, node) or ctx.default_return_type
    return typed_result(ctx.api, settings, lookup, ctx.default_return_type, node)


def report_late(api: CheckerPluginInterface, task: str, context: Context) -> None:
    """A ``.s(...)`` whose arguments fit only after a parent result, sent where none comes first."""
    api.fail(
        f'"{task}" is sent without a parent result, but its .s(...) arguments fit only after one: '
        f"Celery passes them from the first parameter here, so they land in the wrong parameters. "
        f"Fix: pass the first parameter too, or put a task before it in a chain",
        context,
        code=errorcodes.CANVAS,
    )


def check_callbacks(ctx: MethodContext, settings: Settings, lookup: Lookup, sender: Node) -> None:
    """``link=`` receives the result; ``link_error=`` receives ``(request, exc, traceback)``."""
    for name in ("link", "link_error"):
        if name not in ctx.callee_arg_names:
            continue
        exprs = ctx.args[ctx.callee_arg_names.index(name)]
        types = ctx.arg_types[ctx.callee_arg_names.index(name)]
        if len(exprs) != 1:
            continue
        expr, typ = exprs[0], types[0]
        items = expr.items if isinstance(expr, ListExpr) else [expr]
        callbacks = [node_of(ctx.api, item, typ) for item in items]
        for callback in callbacks:
            if callback is None:
                continue
            if name == "link":
                check_link(ctx.api, settings, lookup, sender, callback, expr)
            else:
                check_errback(ctx.api, callback, expr)


def check_on_error(ctx: MethodContext, returns_self: bool) -> Type:
    """``sig.on_error(errback)`` / ``sig.link_error(errback)``.

    ``on_error`` returns the signature itself (celery/canvas.py 5.7: ``return self``); celery-types
    0.26 says it returns the errback, so ``a.s().on_error(e.s()) | b.s()`` would link ``e``.
    """
    if ctx.args and len(ctx.args[0]) == 1:
        errback = node_of(ctx.api, ctx.args[0][0], ctx.arg_types[0][0])
        if errback is not None:
            check_errback(ctx.api, errback, ctx.args[0][0])
    return ctx.type if returns_self and is_signature(ctx.type) else ctx.default_return_type


def check_link_method(ctx: MethodContext, settings: Settings, lookup: Lookup) -> Type:
    """``sig.link(callback)``: the callback receives the signature's result."""
    sender = read_node(ctx.type)
    if sender is not None and ctx.args and len(ctx.args[0]) == 1:
        callback = node_of(ctx.api, ctx.args[0][0], ctx.arg_types[0][0])
        if callback is not None:
            check_link(ctx.api, settings, lookup, sender, callback, ctx.args[0][0])
    return ctx.default_return_type


def typed_result(api: CheckerPluginInterface, settings: Settings, lookup: Lookup, default: Type, node: Node) -> Type:
    result = get_proper_type(default)
    if node.result is None or not isinstance(result, Instance) or len(result.args) != 1:
        return default
    arrived = arrival_type(api, settings, lookup, node.result, node.pydantic) or node.result
    return result.copy_modified(args=[arrived])
