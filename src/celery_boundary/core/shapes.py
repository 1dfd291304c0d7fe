"""The shape of a type, as the boundary model sees it.

Front ends translate their own type representations into these small frozen records (the mypy
plugin from mypy's types, ``core.annotations`` from runtime ``typing`` objects) and ask
``core.verdicts.judge`` about them. Nothing here knows about mypy, flake8 or libcst.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Union

from celery_boundary.core import fullnames as fn
from celery_boundary.core.records import field, record


class Trait(enum.Enum):
    """Facts about a class that its MRO alone does not show."""

    DATACLASS = "dataclass"
    ATTRS = "attrs"
    NAMEDTUPLE = "namedtuple"
    HAS_JSON = "__json__"
    PROTOCOL = "protocol"


@record
class Instance:
    """An instance of a class: ``int``, ``list[str]``, ``Address``.

    ``mro`` holds the dotted names of the class and all its bases, most derived first (an empty
    tuple means ``(fullname, "builtins.object")``). ``fields`` lists named fields where the
    serializer walks them (NamedTuple). ``native`` is this value seen as the builtin container it
    subclasses, with type arguments mapped (``OrderedDict[str, int]`` -> ``dict[str, int]``).
    ``json_returns`` is what ``__json__`` returns, when known.
    """

    fullname: str
    args: tuple[Shape, ...] = ()
    mro: tuple[str, ...] = ()
    traits: frozenset[Trait] = frozenset()
    fields: tuple[tuple[str, Shape], ...] = ()
    native: Instance | None = None
    json_returns: Shape | None = None

    @property
    def bases(self) -> tuple[str, ...]:
        return self.mro or (self.fullname, fn.OBJECT)

    def is_a(self, fullname: str) -> bool:
        return fullname in self.bases

    def is_any_of(self, names: frozenset[str]) -> bool:
        return any(base in names for base in self.bases)

    @property
    def name(self) -> str:
        return self.fullname.rsplit(".", 1)[-1]


@record
class AnyShape:
    """``Any``, or ``object`` (nothing is known about the runtime value)."""

    spelled: str = "Any"


@record
class NoneShape:
    pass


@record
class NeverShape:
    """``Never`` / ``NoReturn``: no value ever crosses."""


@record
class LiteralShape:
    """``Literal[...]`` over str, bytes, int, bool, None or enum members (given by member name)."""

    values: tuple[object, ...]
    fallback: Instance


@record
class UnionShape:
    items: tuple[Shape, ...]


@record
class TupleShape:
    """``tuple[int, str]`` (``items``) or ``tuple[int, ...]`` (``rest``); NamedTuples are Instances."""

    items: tuple[Shape, ...] = ()
    rest: Shape | None = None


@record
class TypedDictShape:
    name: str
    items: tuple[tuple[str, Shape, bool], ...]  # key, value shape, required


@record
class CallableShape:
    spelled: str = "Callable"


@record
class TypeVarShape:
    name: str
    bound: Shape | None = None
    constraints: tuple[Shape, ...] = ()


@record
class AliasShape:
    """A named, possibly recursive, type alias. ``expand`` is called lazily, so cycles are fine."""

    name: str
    expand: Callable[[], Shape] = field(compare=False, repr=False)


@record
class UnknownShape:
    """A type the front end could not translate; the verdict is *unknown*."""

    spelled: str


Shape = Union[
    Instance,
    AnyShape,
    NoneShape,
    NeverShape,
    LiteralShape,
    UnionShape,
    TupleShape,
    TypedDictShape,
    CallableShape,
    TypeVarShape,
    AliasShape,
    UnknownShape,
]


def builtin(name: str, *args: Shape) -> Instance:
    """``builtin("list", builtin("int"))`` is ``list[int]``."""
    return Instance(f"builtins.{name}", args)


def union_of(items: list[Shape]) -> Shape:
    """A union with duplicates and nested unions flattened; one item is itself."""
    flat: list[Shape] = []
    for item in items:
        for part in item.items if isinstance(item, UnionShape) else (item,):
            if part not in flat:
                flat.append(part)
    if not flat:
        return NeverShape()
    return flat[0] if len(flat) == 1 else UnionShape(tuple(flat))


def describe(shape: Shape) -> str:
    """Render a shape the way a user writes the type: ``dict[str, list[Address]]``."""
    if isinstance(shape, Instance):
        if not shape.args:
            return shape.name
        return f"{shape.name}[{', '.join(describe(a) for a in shape.args)}]"
    if isinstance(shape, (AnyShape, CallableShape, UnknownShape)):
        return shape.spelled
    if isinstance(shape, NoneShape):
        return "None"
    if isinstance(shape, NeverShape):
        return "Never"
    if isinstance(shape, LiteralShape):
        return f"Literal[{', '.join(_literal_text(v, shape.fallback) for v in shape.values)}]"
    if isinstance(shape, UnionShape):
        return " | ".join(describe(item) for item in shape.items)
    if isinstance(shape, TupleShape):
        if shape.rest is not None:
            return f"tuple[{describe(shape.rest)}, ...]"
        return f"tuple[{', '.join(describe(i) for i in shape.items) or '()'}]"
    if isinstance(shape, TypedDictShape):
        return shape.name
    if isinstance(shape, TypeVarShape):
        return shape.name
    return shape.name


def _literal_text(value: object, fallback: Instance) -> str:
    if fallback.is_a(fn.ENUM):
        return f"{fallback.name}.{value}"
    return repr(value)
