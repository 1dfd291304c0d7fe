"""What a judgement is made of: ``Outcome``, ``Problem``, ``Verdict``, and ``Walk``, its state.

``core.verdicts.judge`` walks a shape the way the serializer walks a value: containers in
``core.verdicts``, single classes in ``core.leaves``, mapping keys in ``core.keys``. All three
import their shared types from here and descend into the parts of a shape with ``Walk.visit``,
which ``judge`` points at ``core.verdicts.visit``; ``verdicts`` imports ``leaves`` and ``leaves``
imports ``keys``, never the other way round.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeAlias

from celery_boundary.core import serializers
from celery_boundary.core.records import field, mutable_record, record
from celery_boundary.core.registry import Registry
from celery_boundary.core.shapes import Shape, describe


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


#: Judges the part of a shape found at a place and returns what arrives (``core.verdicts.visit``).
Visitor: TypeAlias = Callable[["Walk", Shape, str], "Shape | None"]


@mutable_record
class Walk:
    """State of one ``judge`` call; ``core.leaves`` and ``core.keys`` report problems through it."""

    serializer: serializers.Serializer
    registry: Registry
    trust_any: bool
    descend: Visitor = field(compare=False, repr=False)
    problems: list[Problem] = field(default_factory=list)
    expanding: set[str] = field(default_factory=set)

    def visit(self, shape: Shape, where: str) -> Shape | None:
        """Judge ``shape`` found at ``where``; return what arrives (None: it does not arrive)."""
        return self.descend(self, shape, where)

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
