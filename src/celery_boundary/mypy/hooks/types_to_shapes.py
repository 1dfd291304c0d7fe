"""mypy ``Type`` -> core ``Shape``: how the boundary model sees the type of a value.

Used by every check that asks ``core.verdicts.judge`` (celery-unserializable, celery-lossy).
The translation is structural and bounded: classes are described by their MRO and a few traits,
never by walking their attributes (serializers do not walk them either, except NamedTuple fields).

Hook phase: used through boundary.py.
"""

from __future__ import annotations

from typing import Final

from mypy.maptype import map_instance_to_supertype
from mypy.nodes import TypeInfo
from mypy.types import (
    AnyType,
    CallableType,
    LiteralType,
    NoneType,
    Overloaded,
    ParamSpecType,
    TupleType,
    Type,
    TypeAliasType,
    TypedDictType,
    TypeType,
    TypeVarType,
    UninhabitedType,
    UnionType,
    UnpackType,
    get_proper_type,
)
from mypy.types import Instance as MypyInstance

from celery_boundary.core import fullnames as fn
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

#: Deep enough for any real annotation; guards against pathological generic nesting.
MAX_DEPTH: Final = 24
#: Builtin containers whose subclasses JSON and msgpack encode as the container (kombu 5.7.0).
NATIVE_CONTAINERS: Final = (fn.DICT, fn.LIST)


def shape_of(typ: Type, depth: int = 0) -> Shape:
    """The shape of a mypy type (inferred at a call site or declared on a task)."""
    if depth > MAX_DEPTH:
        return UnknownShape("a deeply nested type")
    if isinstance(typ, TypeAliasType) and typ.is_recursive and typ.alias is not None:
        alias = typ
        name = alias.alias.fullname if alias.alias else str(alias)
        return AliasShape(name, lambda: shape_of(get_proper_type(alias), depth + 1))
    proper = get_proper_type(typ)
    if isinstance(proper, MypyInstance):
        return _instance_shape(proper, depth)
    if isinstance(proper, AnyType):
        return AnyShape()
    if isinstance(proper, NoneType):
        return NoneShape()
    if isinstance(proper, UninhabitedType):
        return NeverShape()
    if isinstance(proper, UnionType):
        return union_of([shape_of(item, depth + 1) for item in proper.items])
    if isinstance(proper, LiteralType):
        fallback = _instance_shape(proper.fallback, depth)
        if isinstance(fallback, Instance):
            return LiteralShape((proper.value,), fallback)
        return fallback
    if isinstance(proper, TupleType):
        return _tuple_shape(proper, depth)
    if isinstance(proper, TypedDictType):
        return TypedDictShape(
            proper.fallback.type.name,
            tuple(
                (key, shape_of(value, depth + 1), key in proper.required_keys)
                for key, value in proper.items.items()
            ),
        )
    if isinstance(proper, TypeVarType):
        return TypeVarShape(
            proper.name,
            bound=shape_of(proper.upper_bound, depth + 1),
            constraints=tuple(shape_of(value, depth + 1) for value in proper.values),
        )
    if isinstance(proper, CallableType):
        if proper.is_type_obj():
            return Instance(fn.TYPE, mro=(fn.TYPE, fn.OBJECT))
        return CallableShape("Callable")
    if isinstance(proper, Overloaded):
        return CallableShape("Callable")
    if isinstance(proper, TypeType):
        return Instance(fn.TYPE, mro=(fn.TYPE, fn.OBJECT))
    return UnknownShape(str(proper))


def _instance_shape(inst: MypyInstance, depth: int) -> Shape:
    info = inst.type
    if info.is_newtype and info.bases:
        # NewType("UserId", int) is an int at run time.
        return _instance_shape(info.bases[0], depth + 1)
    if info.tuple_type is not None and info.fullname != fn.TUPLE:
        return _namedtuple_shape(info, info.tuple_type, depth)
    if info.typeddict_type is not None:
        return shape_of(info.typeddict_type, depth + 1)
    args = tuple(shape_of(arg, depth + 1) for arg in inst.args if not isinstance(get_proper_type(arg), ParamSpecType))
    if info.fullname == fn.TUPLE:
        return TupleShape(rest=args[0] if args else AnyShape())
    return Instance(
        info.fullname,
        args,
        mro=tuple(base.fullname for base in info.mro),
        traits=_traits(info),
        native=_native(inst, depth),
        json_returns=_json_returns(info, depth),
    )


def _traits(info: TypeInfo) -> frozenset[Trait]:
    traits: set[Trait] = set()
    for base in info.mro:
        if "dataclass" in base.metadata:
            traits.add(Trait.DATACLASS)
        if "attrs" in base.metadata:
            traits.add(Trait.ATTRS)
    if info.is_protocol:
        traits.add(Trait.PROTOCOL)
    if info.get("__json__") is not None:
        traits.add(Trait.HAS_JSON)
    return frozenset(traits)


def _native(inst: MypyInstance, depth: int) -> Instance | None:
    """A dict/list subclass seen as the builtin it subclasses (kombu encodes it natively)."""
    if inst.type.fullname in NATIVE_CONTAINERS:
        return None
    for base in inst.type.mro[1:]:
        if base.fullname in NATIVE_CONTAINERS:
            mapped = map_instance_to_supertype(inst, base)
            args = tuple(shape_of(arg, depth + 1) for arg in mapped.args)
            return Instance(base.fullname, args)
    return None


def _json_returns(info: TypeInfo, depth: int) -> Shape | None:
    node = info.get("__json__")
    method = get_proper_type(node.type) if node is not None and node.type is not None else None
    if isinstance(method, CallableType):
        return shape_of(method.ret_type, depth + 1)
    return None


def _tuple_shape(tup: TupleType, depth: int) -> Shape:
    fallback = tup.partial_fallback.type
    if fallback.fullname != fn.TUPLE:
        return _namedtuple_shape(fallback, tup, depth)
    items: list[Shape] = []
    for item in tup.items:
        if isinstance(item, UnpackType):
            # tuple[int, *tuple[str, ...]]: too dynamic to index; judge every member as one.
            members = [shape_of(i, depth + 1) for i in tup.items if not isinstance(i, UnpackType)]
            return TupleShape(rest=union_of(members + [AnyShape()]))
        items.append(shape_of(item, depth + 1))
    return TupleShape(tuple(items))


def _namedtuple_shape(info: TypeInfo, tup: TupleType, depth: int) -> Shape:
    names = _namedtuple_fields(info)
    fields = tuple(
        (names[i] if i < len(names) else str(i), shape_of(item, depth + 1)) for i, item in enumerate(tup.items)
    )
    return Instance(
        info.fullname,
        mro=tuple(base.fullname for base in info.mro),
        traits=_traits(info) | {Trait.NAMEDTUPLE},
        fields=fields,
    )


def _namedtuple_fields(info: TypeInfo) -> list[str]:
    # mypy stores NamedTuple field names in the class metadata (mypy 1.x and 2.x).
    meta = info.metadata.get("namedtuple", {})
    names = meta.get("fields") if isinstance(meta, dict) else None
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        return list(names)
    return []
