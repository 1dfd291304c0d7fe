"""Type shape -> verdict: can a value of this type cross the boundary, and what arrives?

``judge(shape, "json")`` walks the shape the way the serializer walks a value. Containers are
handled here; how a single class is treated by each serializer lives in ``core.leaves``.
Every row this module can produce is pinned by a truth test (tests/truth/) that pushes real values
through kombu and a real worker.
"""

from __future__ import annotations

import enum

from celery_boundary.core import fullnames as fn
from celery_boundary.core import serializers
from celery_boundary.core.records import field, mutable_record, record
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


class Outcome(enum.IntEnum):
    """Ordered from best to worst: a verdict is the worst of its problems."""

    CARRIED = 0
    UNKNOWN = 1
    LOSSY = 2
    NOT_CARRIED = 3


@record
class Problem:
    """One reason a type does not cross exactly, and where inside the judged type it sits."""

    outcome: Outcome
    type_text: str
    where: str
    reason: str
    fix: str = ""
    arrives_as: str | None = None

    @property
    def located(self) -> str:
        """``Address at [*][*]``, or just ``Address`` at the top level."""
        return f"{self.type_text} at {self.where}" if self.where else self.type_text


@record
class Verdict:
    serializer: str
    judged: str
    outcome: Outcome
    arrives: Shape | None
    problems: tuple[Problem, ...]

    @property
    def worst(self) -> Problem | None:
        ranked = sorted(self.problems, key=lambda p: -p.outcome)
        return ranked[0] if ranked else None

    def of(self, outcome: Outcome) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.outcome is outcome)


@mutable_record
class Walk:
    """State of one ``judge`` call; ``core.leaves`` reports problems through it."""

    serializer: serializers.Serializer
    registry: Registry
    trust_any: bool
    problems: list[Problem] = field(default_factory=list)
    expanding: set[str] = field(default_factory=set)

    def report(
        self,
        outcome: Outcome,
        shape: Shape,
        where: str,
        reason: str,
        fix: str = "",
        arrives: Shape | None = None,
    ) -> None:
        arrives_as = describe(arrives) if arrives is not None else None
        self.problems.append(Problem(outcome, describe(shape), where, reason, fix, arrives_as))


def judge(
    shape: Shape,
    serializer: str | serializers.Serializer = serializers.DEFAULT,
    *,
    registry: Registry = EMPTY,
    trust_any: bool = True,
) -> Verdict:
    """The verdict for sending a value of ``shape`` with ``serializer``."""
    ser = serializer if isinstance(serializer, serializers.Serializer) else serializers.lookup(serializer)
    walk = Walk(ser, registry, trust_any)
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
        return shape
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


# Imported last: leaves imports the names above.
from celery_boundary.core import leaves  # noqa: E402
