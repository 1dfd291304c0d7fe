"""Small value records that cost almost nothing to define.

``dataclasses.dataclass`` writes each method it generates as source text and compiles it (CPython
3.10-3.12): 0.3-1 ms per class. The mypy plugin defines about 25 records, and as dataclasses that
compiling was 93 % of the instructions spent importing it (docs/mypy.md) — the plugin's import is
most of what a warm mypy run pays for it (benchmarks/mypy_overhead.py). ``record`` builds the same methods
from closures shared by every class instead: ``__init__`` (positional and keyword arguments,
defaults, default factories), ``__eq__`` / ``__hash__`` over the compared fields, ``__repr__``,
``__match_args__``, and read-only attributes. mypy reads the decorators as dataclasses (PEP 681
``dataclass_transform``), so construction and assignment are checked statically as before.

What ``record`` leaves out on purpose: ``order``, ``slots``, ``kw_only``, ``InitVar``,
``__post_init__``; a ``ClassVar`` annotation is not a field.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object) -> Callable[[Any], Any]:
        return lambda decorated: decorated


_T = TypeVar("_T")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class FrozenRecordError(AttributeError):
    """Assigning to (or deleting) a field of a frozen record."""


class Field:
    """What ``field(...)`` said about one attribute, and its name once the class is built."""

    __slots__ = ("name", "default", "default_factory", "compare", "repr")

    def __init__(self, default: object, default_factory: object, compare: bool, repr: bool) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.compare = compare
        self.repr = repr

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, compare={self.compare}, repr={self.repr})"


@overload
def field(*, default: _T, compare: bool = True, repr: bool = True) -> _T: ...


@overload
def field(*, default_factory: Callable[[], _T], compare: bool = True, repr: bool = True) -> _T: ...


@overload
def field(*, compare: bool = True, repr: bool = True) -> Any: ...


def field(
    *, default: object = MISSING, default_factory: object = MISSING, compare: bool = True, repr: bool = True
) -> Any:
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("field() takes a default or a default_factory, not both")
    return Field(default, default_factory, compare, repr)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[_T]) -> type[_T]:
    """A frozen value class: equal and hashed by its compared fields, attributes read-only."""
    return _build(cls, frozen=True)


@dataclass_transform(field_specifiers=(field,))
def mutable_record(cls: type[_T]) -> type[_T]:
    """A record whose attributes may be assigned; equal by its compared fields, not hashable."""
    return _build(cls, frozen=False)


def fields(cls_or_record: object) -> tuple[Field, ...]:
    found = getattr(cls_or_record, "__record_fields__", None)
    if not isinstance(found, tuple):
        raise TypeError(f"{cls_or_record!r} is not a record")
    return found


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of ``obj`` with ``changes`` (like ``dataclasses.replace``)."""
    known = fields(obj)
    unknown = set(changes) - {f.name for f in known}
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {sorted(unknown)[0]!r}")
    values = {f.name: getattr(obj, f.name) for f in known}
    values.update(changes)
    return type(obj)(**values)


def _collect(cls: type) -> tuple[Field, ...]:
    inherited: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for known in base.__dict__.get("__record_fields__", ()):
            inherited[known.name] = known
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if "ClassVar" in str(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        if isinstance(value, Field):
            spec = value
            if spec.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        else:
            if isinstance(value, (list, dict, set)):
                raise ValueError(f"{cls.__name__}.{name}: a mutable default is shared; use field(default_factory=...)")
            spec = Field(value, MISSING, True, True)
        spec.name = name
        inherited.pop(name, None)
        inherited[name] = spec
    found = tuple(inherited.values())
    seen_default = False
    for spec in found:
        has_default = spec.default is not MISSING or spec.default_factory is not MISSING
        if seen_default and not has_default:
            raise TypeError(f"{cls.__name__}: field {spec.name!r} without a default follows one with a default")
        seen_default = seen_default or has_default
    return found


def _refuse_keywords(title: str, index: frozenset[str], given: dict[str, Any], kwargs: dict[str, Any]) -> None:
    for name in kwargs:
        if name in given:
            raise TypeError(f"{title}() got multiple values for argument {name!r}")
        if name not in index:
            raise TypeError(f"{title}() got an unexpected keyword argument {name!r}")


def _build(cls: type[_T], frozen: bool) -> type[_T]:
    specs = _collect(cls)
    names = tuple(spec.name for spec in specs)
    index = frozenset(names)
    title = cls.__qualname__

    count = len(names)
    # Plain defaults are merged by dict operations (C); only factories and mistakes take a Python loop.
    defaults = {spec.name: spec.default for spec in specs if spec.default is not MISSING}
    factories = tuple((spec.name, spec.default_factory) for spec in specs if spec.default_factory is not MISSING)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > count:
            raise TypeError(f"{title}() takes {count} positional arguments but {len(args)} were given")
        values = dict(zip(names, args))
        if kwargs:
            if not index.issuperset(kwargs) or not values.keys().isdisjoint(kwargs):
                _refuse_keywords(title, index, values, kwargs)
            values.update(kwargs)
        if len(values) < count:
            merged = dict(defaults)
            merged.update(values)
            for name, factory in factories:
                if name not in merged:
                    merged[name] = factory()  # type: ignore[operator]
            if len(merged) < count:
                missing = next(name for name in names if name not in merged)
                raise TypeError(f"{title}() missing required argument {missing!r}")
            values = merged
        self.__dict__.update(values)

    compared = tuple(spec.name for spec in specs if spec.compare)
    key: Callable[[Any], Any] = attrgetter(*compared) if compared else (lambda _: ())

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(key(self) == key(other))

    shown = tuple(spec.name for spec in specs if spec.repr)

    def __repr__(self: Any) -> str:
        return f"{title}({', '.join(f'{name}={getattr(self, name)!r}' for name in shown)})"

    methods: dict[str, Any] = {"__init__": __init__, "__eq__": __eq__, "__repr__": __repr__}
    if frozen:

        def __hash__(self: Any) -> int:
            return hash(key(self))

        def __setattr__(self: Any, name: str, value: object) -> None:
            raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen {title}")

        def __delattr__(self: Any, name: str) -> None:
            raise FrozenRecordError(f"cannot delete field {name!r} of a frozen {title}")

        methods.update(__hash__=__hash__, __setattr__=__setattr__, __delattr__=__delattr__)
    else:
        methods["__hash__"] = None
    for name, method in methods.items():
        if method is not None:
            method.__qualname__ = f"{title}.{name}"
        # Methods written in the class body win, as with dataclasses (an explicit __hash__ too).
        if name not in cls.__dict__ or (name == "__hash__" and cls.__dict__[name] is None):
            setattr(cls, name, method)
    setattr(cls, "__record_fields__", specs)
    setattr(cls, "__match_args__", names)
    return cls
