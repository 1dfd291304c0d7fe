"""Type shape -> verdict: can a value of this type cross the boundary, and what arrives?

``judge(shape, "json")`` walks the shape the way the serializer walks a value. Containers are
handled here; how a single class is treated by each serializer lives in ``core.leaves``, a mapping
key in ``core.keys``. The answer's types (``Outcome``, ``Problem``, ``Verdict``) and the walk's
state live in ``core.walk`` and are importable from here too.
Every row this module can produce is pinned by a truth test (tests/truth/) that pushes real values
through kombu and a real worker.
"""

from __future__ import annotations

from celery_boundary.core import fullnames as fn
from celery_boundary.core import leaves, serializers
from celery_boundary.core.registry import EMPTY, Registry
from celery_boundary.core.shapes import (
    AliasShape,
    AnyShape,
    CallableShape,
    LiteralShape,
    NeverShape,
    NoneShape,
    Shape,
    TupleShape,
    TypedDictShape,
    TypeVarShape,
    UnionShape,
    UnknownShape,
    builtin,
    describe,
    union_of,
)
from celery_boundary.core.walk import Outcome, Problem, Verdict, Walk

__all__ = ["Outcome", "Problem", "Verdict", "judge", "visit"]


def judge(
    shape: Shape,
    serializer: str | serializers.Serializer = serializers.DEFAULT,
    *,
    registry: Registry = EMPTY,
    trust_any: bool = True,
) -> Verdict:
    """The verdict for sending a value of ``shape`` with ``serializer``."""
    ser = serializer if isinstance(serializer, serializers.Serializer) else serializers.lookup(serializer)
    walk = Walk(ser, registry, trust_any, visit)
    arrives = visit(walk, shape, "")
    worst = max((p.outcome for p in walk.problems), default=Outcome.CARRIED)
    return Verdict(ser.name, describe(shape), worst, arrives, tuple(walk.problems))


def visit(walk: Walk, shape: Shape, where: str) -> Shape | None:
    """Judge ``shape`` found at ``where``; return what arrives (None: it does not arrive)."""
    if not walk.serializer.known:
        walk.report(
            Outcome.UNKNOWN,
            shape,
            where,
            f"custom serializer {walk.serializer.name!r}: what it carries is not known",
        )
        # Nor what arrives: a repr/literal_eval serializer turns a str subclass into a plain str
        # (tests/truth/test_kombu.py), so "arrives as declared" would be a claim we cannot back.
        return UnknownShape(f"what {walk.serializer.name} makes of {describe(shape)}")
    if isinstance(shape, (NoneShape, NeverShape)):
        return shape
    if isinstance(shape, AnyShape):
        if not walk.trust_any:
            walk.report(
                Outcome.UNKNOWN,
                shape,
                where,
                f"{shape.spelled} is not checked (trust_any = false)",
                "annotate the value with a concrete type",
            )
        return shape
    if isinstance(shape, UnknownShape):
        walk.report(Outcome.UNKNOWN, shape, where, "this type is not understood by celery-boundary")
        return shape
    if isinstance(shape, UnionShape):
        members = [visit(walk, item, where) for item in shape.items]
        return union_of([m for m in members if m is not None])
    if isinstance(shape, TypeVarShape):
        if shape.constraints:
            return visit(walk, union_of(list(shape.constraints)), where)
        return visit(walk, shape.bound or AnyShape(shape.name), where)
    if isinstance(shape, AliasShape):
        if shape.name in walk.expanding:
            return shape  # coinduction: the recursive occurrence is judged where it is expanded
        walk.expanding.add(shape.name)
        before = len(walk.problems)
        expanded = visit(walk, shape.expand(), where)
        walk.expanding.discard(shape.name)
        return shape if len(walk.problems) == before else expanded
    if isinstance(shape, CallableShape):
        return leaves.visit_callable(walk, shape, where)
    if isinstance(shape, LiteralShape):
        return visit_literal(walk, shape, where)
    if isinstance(shape, TupleShape):
        return visit_tuple(walk, shape, where)
    if isinstance(shape, TypedDictShape):
        return visit_typeddict(walk, shape, where)
    return leaves.visit_instance(walk, shape, where)


def visit_literal(walk: Walk, shape: LiteralShape, where: str) -> Shape | None:
    if shape.fallback.is_a(fn.ENUM):
        arrived = leaves.visit_instance(walk, shape.fallback, where)
        return shape if arrived == shape.fallback else arrived
    return shape


def visit_tuple(walk: Walk, shape: TupleShape, where: str) -> Shape | None:
    if shape.rest is not None:
        items = [visit(walk, shape.rest, f"{where}[*]")]
    else:
        items = [visit(walk, item, f"{where}[{i}]") for i, item in enumerate(shape.items)]
    if any(item is None for item in items):
        return None
    if walk.serializer is serializers.PICKLE:
        return shape
    arrives = builtin("list", union_of([i for i in items if i is not None]))
    walk.report(
        Outcome.LOSSY,
        shape,
        where,
        f"{walk.serializer.name} has no tuple: it arrives as a list",
        "annotate the parameter as list[...] or Sequence[...], or convert on arrival",
        arrives,
    )
    return arrives


def visit_typeddict(walk: Walk, shape: TypedDictShape, where: str) -> Shape | None:
    arrived = [(key, visit(walk, value, f"{where}[{key!r}]"), req) for key, value, req in shape.items]
    if any(value is None for _, value, _ in arrived):
        return None
    return TypedDictShape(shape.name, tuple((k, v, r) for k, v, r in arrived if v is not None))
