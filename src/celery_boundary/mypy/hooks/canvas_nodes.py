"""Canvas nodes: what a plugin-made signature carries (celery-canvas).

celery-types 0.26 makes ``Signature`` generic over its result only, and ``chain`` / ``group`` /
``chord`` are plain ``Signature[Any]`` subclasses. The plugin keeps the rest in the instance's
``extra_attrs`` (serialized with the type into mypy's cache, like the task metadata in tasks.py):

- ``RESULT``: the declared result type of the node (a chain's last link, a group's ``list[...]``);
- ``TAKES``: the parameters still open on the node's first task (named after it), or absent when
  the node takes no parent result (``.si()``, a group, anything unknown);
- ``LAST``: the name of the task that produces ``RESULT``; ``PYDANTIC`` when that task is
  ``pydantic=True``; ``BODYLESS`` for ``chord(header)`` still waiting for its body;
- ``LATE``: the task whose ``.s(...)`` arguments fit only after a parent result (``label.s(2)`` for
  ``label(text, size)``): right as a later link, wrong when the node is sent with no parent.

A join of two signatures (``x if c else y``) drops ``extra_attrs``: the result is silence, never a
false positive.

Hook phase: written and read by the call, canvas and bound-call hooks.
"""

from __future__ import annotations

from typing import Final

from mypy.nodes import ARG_NAMED, ARG_POS, ARG_STAR, ArgKind
from mypy.plugin import CheckerPluginInterface
from mypy.types import CallableType, ExtraAttrs, Instance, LiteralType, Type, get_proper_type

from celery_boundary.core.records import record
from celery_boundary.mypy.metadata import SIGNATURE

RESULT: Final = "__celery_boundary_canvas_result__"
TAKES: Final = "__celery_boundary_canvas_takes__"
LAST: Final = "__celery_boundary_canvas_last__"
PYDANTIC: Final = "__celery_boundary_canvas_pydantic__"
BODYLESS: Final = "__celery_boundary_canvas_bodyless__"
LATE: Final = "__celery_boundary_canvas_late__"
#: A group's members' open parameters (``FANOUT0``, ``FANOUT1`` ...): each receives the parent result.
FANOUT: Final = "__celery_boundary_canvas_fanout_"
#: Beyond this many members a group's fan-out is not recorded (a smaller cache, no check).
MAX_FANOUT: Final = 32


@record
class Node:
    """One piece of a canvas, as far as the plugin can see it."""

    result: Type | None
    takes: CallableType | None
    last: str
    pydantic: bool = False
    bodyless: bool = False
    fanout: tuple[CallableType, ...] = ()
    #: The task whose partial arguments fit only after a parent result (see LATE).
    late: str | None = None

    @property
    def first(self) -> str:
        return self.takes.name or self.last if self.takes is not None else self.last


def is_signature(typ: Type) -> bool:
    proper = get_proper_type(typ)
    return isinstance(proper, Instance) and proper.type.has_base(SIGNATURE)


def read_node(typ: Type) -> Node | None:
    """The node a signature type carries; a bare ``Signature[R]`` gives its result only."""
    proper = get_proper_type(typ)
    if not isinstance(proper, Instance) or not proper.type.has_base(SIGNATURE):
        return None
    attrs = proper.extra_attrs.attrs if proper.extra_attrs else {}
    if RESULT in attrs:
        takes = get_proper_type(attrs[TAKES]) if TAKES in attrs else None
        last = get_proper_type(attrs[LAST]) if LAST in attrs else None
        late = get_proper_type(attrs[LATE]) if LATE in attrs else None
        return Node(
            result=attrs[RESULT],
            takes=takes if isinstance(takes, CallableType) else None,
            last=last.value if isinstance(last, LiteralType) and isinstance(last.value, str) else "signature",
            pydantic=PYDANTIC in attrs,
            bodyless=BODYLESS in attrs,
            fanout=_fanout(attrs),
            late=late.value if isinstance(late, LiteralType) and isinstance(late.value, str) else None,
        )
    if proper.type.fullname == SIGNATURE and len(proper.args) == 1:
        # Signature[R] from celery-types itself (a stored signature whose extras a join dropped);
        # Signature[object] is a join of unrelated signatures ([a.s(), b.s()]): not a result type.
        result = get_proper_type(proper.args[0])
        if isinstance(result, Instance) and result.type.fullname == "builtins.object":
            return None
        return Node(result=proper.args[0], takes=None, last="signature")
    return None


def _fanout(attrs: dict[str, Type]) -> tuple[CallableType, ...]:
    found: list[CallableType] = []
    while f"{FANOUT}{len(found)}" in attrs:
        member = get_proper_type(attrs[f"{FANOUT}{len(found)}"])
        if not isinstance(member, CallableType):
            return ()
        found.append(member)
    return tuple(found)


def attach_node(api: CheckerPluginInterface, typ: Type, node: Node) -> Type:
    """``typ`` (a Signature instance) carrying ``node``; anything else is returned unchanged."""
    proper = get_proper_type(typ)
    if not isinstance(proper, Instance) or node.result is None:
        return typ
    str_type = api.named_generic_type("builtins.str", [])
    bool_type = api.named_generic_type("builtins.bool", [])
    attrs: dict[str, Type] = {RESULT: node.result, LAST: LiteralType(node.last, str_type)}
    if node.takes is not None:
        attrs[TAKES] = node.takes
    if node.pydantic:
        attrs[PYDANTIC] = LiteralType(True, bool_type)
    if node.bodyless:
        attrs[BODYLESS] = LiteralType(True, bool_type)
    if node.late is not None:
        attrs[LATE] = LiteralType(node.late, str_type)
    for index, member in enumerate(node.fanout[:MAX_FANOUT] if len(node.fanout) <= MAX_FANOUT else ()):
        attrs[f"{FANOUT}{index}"] = member
    return Instance(proper.type, proper.args, proper.line, proper.column, extra_attrs=ExtraAttrs(attrs, set(attrs)))


def remaining(sig: CallableType, kinds: list[ArgKind], names: list[str | None]) -> CallableType | None:
    """The parameters of ``sig`` the parent result and nothing else may fill (None: cannot tell).

    Celery prepends the parent result to a mutable signature's partial args (``Signature._merge``,
    5.7): in a chain, ``scale.s(3)`` runs as ``scale(result, 3)``. So the result takes the first
    positional parameter, the partial positionals shift one to the right, and keywords bind by
    name; a first parameter already given by keyword leaves the result no room (Celery raises
    "got multiple values").
    """
    if any(kind.is_star() for kind in kinds):
        return None  # .s(*values): which parameters are filled is not known statically
    given = sum(1 for kind in kinds if kind == ARG_POS)
    by_name = {name for name, kind in zip(names, kinds) if kind == ARG_NAMED and name is not None}
    positional = [i for i, kind in enumerate(sig.arg_kinds) if kind.is_positional() and not kind.is_star()]
    star = ARG_STAR in sig.arg_kinds
    if positional and sig.arg_names[positional[0]] in by_name:
        positional_kinds = [i for i, kind in enumerate(sig.arg_kinds) if kind.is_positional()]
        # The result collides with the keyword ("got multiple values"): no room for it.
        kinds_left = [i for i in range(len(sig.arg_kinds)) if i not in positional_kinds]
        kinds_left = [i for i in kinds_left if sig.arg_names[i] not in by_name]
        return sig.copy_modified(
            arg_types=[sig.arg_types[i] for i in kinds_left],
            arg_kinds=[sig.arg_kinds[i] for i in kinds_left],
            arg_names=[sig.arg_names[i] for i in kinds_left],
        )
    keep: list[int] = []
    for index, kind in enumerate(sig.arg_kinds):
        name = sig.arg_names[index]
        if kind.is_star():
            keep.append(index)
        elif kind.is_positional():
            slot = positional.index(index)
            if slot == 0 and name not in by_name and (len(positional) > given or star):
                keep.append(index)  # the parent result's parameter
            elif slot > given and name not in by_name:
                keep.append(index)  # after the shifted partial positionals: still open
        elif name not in by_name:
            keep.append(index)  # keyword-only, not given
    return sig.copy_modified(
        arg_types=[sig.arg_types[i] for i in keep],
        arg_kinds=[sig.arg_kinds[i] for i in keep],
        arg_names=[sig.arg_names[i] for i in keep],
    )
