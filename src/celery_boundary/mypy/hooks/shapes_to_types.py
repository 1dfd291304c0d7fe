"""core ``Shape`` -> mypy ``Type``, for what *arrives* on the other side of the boundary.

Only simple shapes translate (builtins, classes found by fullname, unions, None, TypedDicts kept
from the original type); anything else gives None and callers keep the declared type or report.

Hook phase: used through boundary.py.
"""

from __future__ import annotations

from typing import Final

from mypy.typeops import make_simplified_union
from mypy.types import AnyType, NoneType, Type, TypeOfAny, UninhabitedType
from mypy.types import Instance as MypyInstance

from celery_boundary.core.shapes import (
    AnyShape,
    Instance,
    LiteralShape,
    NeverShape,
    NoneShape,
    Shape,
    UnionShape,
)
from celery_boundary.mypy.metadata import Lookup

MAX_DEPTH: Final = 24


def type_of(shape: Shape, lookup: Lookup, depth: int = 0) -> Type | None:
    """The mypy type for ``shape``, or None when it does not translate simply."""
    if depth > MAX_DEPTH:
        return None
    if isinstance(shape, NoneShape):
        return NoneType()
    if isinstance(shape, NeverShape):
        return UninhabitedType()
    if isinstance(shape, AnyShape):
        return AnyType(TypeOfAny.explicit)
    if isinstance(shape, LiteralShape):
        return type_of(shape.fallback, lookup, depth + 1)
    if isinstance(shape, UnionShape):
        items = [type_of(item, lookup, depth + 1) for item in shape.items]
        if any(item is None for item in items):
            return None
        return make_simplified_union([item for item in items if item is not None])
    if isinstance(shape, Instance):
        args = [type_of(arg, lookup, depth + 1) for arg in shape.args]
        if any(arg is None for arg in args):
            return None
        info = lookup(shape.fullname)
        if info is None or len(info.defn.type_vars) != len(args):
            return None
        return MypyInstance(info, [arg for arg in args if arg is not None])
    return None
