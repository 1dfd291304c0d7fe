"""Runtime ``typing`` annotations -> shapes.

The front end for code that already holds real classes: the truth tests, the docs' verdict table,
and the runtime helper. It recognises third-party classes by the names in their MRO and by dunder
attributes, so it imports neither pydantic, attrs nor Django.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import types
import typing
from typing import Any, ForwardRef

import typing_extensions

from celery_boundary.core import fullnames as fn
from celery_boundary.core import records
from celery_boundary.core.shapes import (
    AliasShape,
    AnyShape,
    CallableShape,
    Instance,
    LiteralShape,
    NeverShape,
    NoneShape,
    Shape,
    Trait,
    TupleShape,
    TypedDictShape,
    TypeVarShape,
    UnknownShape,
    union_of,
)

# Runtime spellings that differ from mypy's (typeshed) names.
_RUNTIME_NAMES = {
    "collections.OrderedDict": "collections.OrderedDict",
    "builtins.NoneType": fn.NONE_TYPE,
}
_ABSTRACT = {
    collections.abc.Mapping: "typing.Mapping",
    collections.abc.MutableMapping: "typing.MutableMapping",
    collections.abc.Sequence: "typing.Sequence",
    collections.abc.MutableSequence: "typing.MutableSequence",
    collections.abc.Iterable: "typing.Iterable",
    collections.abc.Collection: "typing.Collection",
    collections.abc.Set: "typing.AbstractSet",
    collections.abc.MutableSet: "typing.MutableSet",
    collections.abc.Iterator: "typing.Iterator",
    collections.abc.Generator: "typing.Generator",
    collections.abc.AsyncIterator: "typing.AsyncIterator",
    collections.abc.Coroutine: "typing.Coroutine",
}
_LITERALS = (typing.Literal, typing_extensions.Literal)
_ANNOTATED = (typing.Annotated, typing_extensions.Annotated)
_NOT_REQUIRED = (typing_extensions.NotRequired, typing_extensions.Required)
_NEVER = tuple({typing.NoReturn, typing_extensions.Never, getattr(typing, "Never", typing.NoReturn)})


def class_fullname(cls: type) -> str:
    name = f"{cls.__module__}.{cls.__qualname__}"
    return _RUNTIME_NAMES.get(name, name)


def shape_of(annotation: object, namespace: dict[str, Any] | None = None) -> Shape:
    """The shape of a runtime annotation; string forward references resolve in ``namespace``."""
    return _Adapter(namespace or {}).convert(annotation)


class _Adapter:
    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace

    def convert(self, tp: object) -> Shape:
        if tp is None or tp is type(None):
            return NoneShape()
        if tp is Any or tp is typing_extensions.Any:
            return AnyShape()
        if tp in _NEVER:
            return NeverShape()
        if isinstance(tp, str):
            return self._forward(tp)
        if isinstance(tp, ForwardRef):
            return self._forward(tp.__forward_arg__)
        if isinstance(tp, typing.TypeVar):
            return TypeVarShape(
                tp.__name__,
                self.convert(tp.__bound__) if tp.__bound__ is not None else None,
                tuple(self.convert(c) for c in tp.__constraints__),
            )
        if type(tp).__name__ == "TypeAliasType":  # PEP 695 `type X = ...` (3.12+)
            value = getattr(tp, "__value__")
            return AliasShape(str(getattr(tp, "__name__")), lambda: self.convert(value))
        supertype = getattr(tp, "__supertype__", None)
        if supertype is not None:  # NewType is the identity at run time
            return self.convert(supertype)
        origin = typing.get_origin(tp)
        if origin is not None:
            return self._generic(tp, origin, typing.get_args(tp))
        if isinstance(tp, type):
            return self._class(tp)
        if tp is typing.Callable or tp is collections.abc.Callable:
            return CallableShape()
        return UnknownShape(repr(tp))

    def _forward(self, name: str) -> Shape:
        if name not in self.namespace:
            return UnknownShape(name)
        target = self.namespace[name]
        return AliasShape(name, lambda: self.convert(target))

    def _generic(self, tp: object, origin: object, args: tuple[Any, ...]) -> Shape:
        if origin in _ANNOTATED:
            return self.convert(args[0])
        if origin in _NOT_REQUIRED:
            return self.convert(args[0])
        if origin is typing.Union or origin is types.UnionType:
            return union_of([self.convert(a) for a in args])
        if origin in _LITERALS:
            return self._literal(args)
        if origin is collections.abc.Callable:
            return CallableShape()
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return TupleShape(rest=self.convert(args[0]))
            if args == ((),):
                return TupleShape()
            return TupleShape(tuple(self.convert(a) for a in args))
        if isinstance(origin, type):
            converted = tuple(self.convert(a) for a in args if a is not Ellipsis)
            if origin in _ABSTRACT:
                return Instance(_ABSTRACT[origin], converted)
            base = self._class(origin)
            if isinstance(base, Instance):
                return records.replace(base, args=converted, native=_native_view(base, converted))
            return base
        return UnknownShape(repr(tp))

    def _literal(self, values: tuple[Any, ...]) -> Shape:
        shapes: list[Shape] = []
        for value in values:
            if isinstance(value, enum.Enum):
                fallback = self._class(type(value))
                assert isinstance(fallback, Instance)
                shapes.append(LiteralShape((value.name,), fallback))
            elif value is None:
                shapes.append(NoneShape())
            else:
                shapes.append(LiteralShape((value,), Instance(class_fullname(type(value)))))
        return union_of(shapes)

    def _class(self, cls: type) -> Shape:
        if cls in _ABSTRACT:
            return Instance(_ABSTRACT[cls])
        if typing_extensions.is_typeddict(cls):
            hints = typing_extensions.get_type_hints(cls)
            required = getattr(cls, "__required_keys__", frozenset(hints))
            return TypedDictShape(
                cls.__qualname__,
                tuple((k, self.convert(v), k in required) for k, v in hints.items()),
            )
        mro = tuple(class_fullname(c) for c in cls.__mro__)
        if getattr(cls, "_is_protocol", False):
            return Instance(class_fullname(cls), mro=mro, traits=frozenset({Trait.PROTOCOL}))
        traits: set[Trait] = set()
        fields: tuple[tuple[str, Shape], ...] = ()
        if dataclasses.is_dataclass(cls):
            traits.add(Trait.DATACLASS)
        if hasattr(cls, "__attrs_attrs__"):
            traits.add(Trait.ATTRS)
        if issubclass(cls, tuple) and hasattr(cls, "_fields"):
            traits.add(Trait.NAMEDTUPLE)
            hints = typing.get_type_hints(cls)
            fields = tuple((name, self.convert(hints.get(name, Any))) for name in cls._fields)
        json_returns: Shape | None = None
        if callable(getattr(cls, "__json__", None)):
            traits.add(Trait.HAS_JSON)
            ret = typing.get_type_hints(getattr(cls, "__json__")).get("return")
            json_returns = self.convert(ret) if ret is not None else None
        return Instance(
            class_fullname(cls),
            mro=mro,
            traits=frozenset(traits),
            fields=fields,
            native=self._native_base(cls),
            json_returns=json_returns,
        )

    def _native_base(self, cls: type) -> Instance | None:
        """``class Bag(dict[str, int])`` seen as ``dict[str, int]`` (what json/msgpack deliver)."""
        for base in getattr(cls, "__orig_bases__", ()):
            origin = typing.get_origin(base)
            if origin in (dict, list):
                return Instance(class_fullname(origin), tuple(self.convert(a) for a in typing.get_args(base)))
        return None


def _native_view(base: Instance, args: tuple[Shape, ...]) -> Instance | None:
    """``OrderedDict[str, int]`` seen as ``dict[str, int]``; only for stdlib containers whose
    type parameters line up with the builtin's."""
    if base.fullname in (fn.DICT, fn.LIST, fn.TUPLE, fn.SET, fn.FROZENSET) or not args:
        return None
    for native in (fn.DICT, fn.LIST):
        if base.is_a(native):
            if base.fullname == "collections.Counter":
                return Instance(fn.DICT, (args[0], Instance(fn.INT)))
            return Instance(native, args)
    return None
