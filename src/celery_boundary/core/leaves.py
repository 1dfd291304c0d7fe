"""How each serializer treats an instance of one class (kombu 5.7.0, msgpack 1.x, PyYAML 6).

json: natives (str, int, float, bool, None, list, tuple, dict and their subclasses) never reach
kombu's ``JSONEncoder.default``; everything else goes ``__json__`` -> Django ``Promise`` -> the
type registry (isinstance, insertion order) -> bytes -> ``TypeError`` (EncodeError).
msgpack: natives and their subclasses, bytes-like as bytes; map keys other than str/bytes fail
when the worker decodes (``strict_map_key``). yaml (``safe_dump``): exact native types only,
plus set, bytes, datetime and date. pickle: anything but frames, OS handles and locks.
"""

from __future__ import annotations

from celery_boundary.core import fullnames as fn
from celery_boundary.core import serializers
from celery_boundary.core.shapes import (
    AnyShape,
    CallableShape,
    Instance,
    Shape,
    Trait,
    TupleShape,
    UnionShape,
    UnknownShape,
    builtin,
    describe,
    union_of,
)
from celery_boundary.core.advice import short, subclass_fix, why_not
from celery_boundary.core.keys import visit_key
from celery_boundary.core.walk import Outcome, Walk

JSON, MSGPACK, YAML, PICKLE = (
    serializers.JSON,
    serializers.MSGPACK,
    serializers.YAML,
    serializers.PICKLE,
)
SCALARS = frozenset({fn.BOOL, fn.INT, fn.FLOAT, fn.STR, fn.BYTES, fn.NONE_TYPE})
#: Builtins whose subclasses json/msgpack encode natively, most specific first.
NATIVE_BASES = (fn.BOOL, fn.INT, fn.FLOAT, fn.STR, fn.DICT, fn.LIST, fn.TUPLE)


def visit_callable(walk: Walk, shape: CallableShape, where: str) -> Shape | None:
    if walk.serializer is PICKLE:
        walk.report(
            Outcome.UNKNOWN,
            shape,
            where,
            "pickle carries module-level functions by reference, but not lambdas or closures",
        )
        return shape
    walk.report(
        Outcome.NOT_CARRIED,
        shape,
        where,
        f"a function is code, not data: {walk.serializer.name} cannot carry it",
        "pass a task signature (task.s(...)) or a dotted name and look it up on the worker",
    )
    return None


def visit_instance(walk: Walk, inst: Instance, where: str) -> Shape | None:
    if inst.fullname == fn.OBJECT:
        return walk.visit(AnyShape("object"), where)
    if walk.serializer is PICKLE:
        return _visit_pickled(walk, inst, where)
    if inst.is_any_of(fn.GENERATORS | fn.FILES | fn.LOCKS):
        _refuse_handle(walk, inst, where)
        return None
    if inst.fullname in fn.ABSTRACT_BASES:
        walk.report(
            Outcome.UNKNOWN,
            inst,
            where,
            f"an abstract base class: builtin values cross {walk.serializer.name}, other implementations may not",
        )
        # Each value arrives as its own type does: a Hashable tuple arrives as an unhashable list.
        return UnknownShape(inst.name)
    if inst.fullname in fn.MAPPINGS | fn.SEQUENCES | fn.ITERABLES | fn.ABSTRACT_SETS:
        return _visit_abstract(walk, inst, where)
    if inst.fullname in SCALARS:
        return inst
    if inst.fullname in (fn.LIST, fn.SET, fn.FROZENSET, fn.DICT, fn.TUPLE):
        return _visit_container(walk, inst, where)
    native = next((base for base in NATIVE_BASES if inst.is_a(base)), None)
    if native is not None:
        return _visit_native_subclass(walk, inst, native, where)
    if walk.serializer is JSON:
        return _visit_json_object(walk, inst, where)
    return _visit_other_object(walk, inst, where)


_PICKLE_ABSTRACT = (
    fn.MAPPINGS | fn.SEQUENCES | fn.ITERABLES | fn.ABSTRACT_SETS | fn.PICKLED_SOMETIMES | fn.ABSTRACT_BASES
)


def _visit_pickled(walk: Walk, inst: Instance, where: str) -> Shape | None:
    """pickle (CPython 3.11): classes by reference; not frames, OS handles, locks or buffers.

    Truth tests showed abstract types vary by value under pickle: a dict crosses, a mappingproxy,
    a dict view, a generator or a class defined in a function does not; a list iterator and a
    StringIO cross, a generator and an open file do not.
    """
    if inst.fullname in fn.IN_MEMORY_FILES:
        return inst
    abstract = inst.fullname in _PICKLE_ABSTRACT
    if not abstract and (inst.is_any_of(fn.GENERATORS | fn.FILES | fn.LOCKS) or inst.fullname == fn.MEMORYVIEW):
        _refuse_handle(walk, inst, where)
        return None
    # After the refusals: typeshed declares Generator and AsyncIterator as protocols (mypy 2.4).
    abstract = abstract or Trait.PROTOCOL in inst.traits
    if _user_exception(inst):
        walk.report(
            Outcome.UNKNOWN,
            inst,
            where,
            "pickle rebuilds an exception as cls(*exc.args): one whose __init__ takes other arguments "
            "than it passes to super().__init__() fails to decode on the worker",
            "keep every __init__ argument in args (super().__init__(code, message)), or define __reduce__",
        )
    for arg in inst.args:
        if walk.visit(arg, f"{where}[*]") is None:
            return None
    if abstract:
        walk.report(
            Outcome.UNKNOWN,
            inst,
            where,
            "an abstract type or protocol: pickle carries most implementations, not all "
            "(mappingproxy, dict views, generators, open files and classes defined in a function fail)",
        )
    return inst


def _user_exception(inst: Instance) -> bool:
    """An exception class other than the builtin ones (``Exception`` itself admits any subclass)."""
    if not inst.is_a(fn.BASE_EXCEPTION):
        return False
    return not inst.fullname.startswith("builtins.") or inst.fullname in (fn.BASE_EXCEPTION, fn.EXCEPTION)


def _refuse_handle(walk: Walk, inst: Instance, where: str) -> None:
    if inst.is_any_of(fn.GENERATORS):
        what, fix = "a generator or iterator holds a running frame", "pass a list (list(...))"
    elif inst.is_any_of(fn.FILES):
        what, fix = "an open file or socket is an OS handle", "pass the path or the contents"
    elif inst.fullname == fn.MEMORYVIEW:
        what, fix = "a memoryview points into another object's memory", "pass bytes(view)"
    else:
        what, fix = "a lock only means something inside one process", "use a broker-side lock"
    walk.report(Outcome.NOT_CARRIED, inst, where, f"{what}; {walk.serializer.name} cannot carry it", fix)


def _visit_abstract(walk: Walk, inst: Instance, where: str) -> Shape | None:
    """Mapping/Sequence/Iterable/AbstractSet: judged as the concrete type most values have."""
    if inst.fullname in fn.MAPPINGS:
        concrete = builtin("dict", *(inst.args or (AnyShape(), AnyShape())))
        usual = "a dict"
    elif inst.fullname in fn.ABSTRACT_SETS:
        concrete = builtin("set", *(inst.args or (AnyShape(),)))
        usual = "a set"
    else:
        concrete = builtin("list", *(inst.args or (AnyShape(),)))
        usual = "a list"
    before = len(walk.problems)
    arrived = _visit_container(walk, concrete, where)
    if len(walk.problems) == before:
        walk.report(
            Outcome.UNKNOWN,
            inst,
            where,
            f"an abstract type: {usual} crosses, other implementations may not",
        )
    return arrived


def _visit_container(walk: Walk, inst: Instance, where: str) -> Shape | None:
    args = list(inst.args)
    if inst.fullname == fn.TUPLE:
        return walk.visit(TupleShape(rest=args[0] if args else AnyShape()), where)
    if inst.fullname == fn.DICT:
        key = args[0] if args else AnyShape()
        value = args[1] if len(args) > 1 else AnyShape()
        return _visit_dict(walk, inst, key, value, where)
    item = args[0] if args else AnyShape()
    if inst.fullname == fn.FROZENSET or (inst.fullname == fn.SET and walk.serializer is not YAML):
        walk.report(
            Outcome.NOT_CARRIED,
            inst,
            where,
            f"{walk.serializer.name} has no set type",
            "pass sorted(...) or list(...) and rebuild the set in the task",
        )
        walk.visit(item, f"{where}[*]")
        return None
    arrived = walk.visit(item, f"{where}[*]")
    if arrived is not None and inst.fullname == fn.SET and _has_list(arrived):
        # yaml (PyYAML 6) writes a tuple in a set as a sequence, and safe_load cannot hash it.
        walk.report(
            Outcome.NOT_CARRIED,
            item,
            f"{where}[*]",
            "yaml writes a tuple inside a set as a list, which safe_load cannot put in a set: "
            "the worker fails to decode",
            "pass a list of lists and rebuild the set of tuples in the task",
        )
        return None
    return None if arrived is None else Instance(inst.fullname, (arrived,))


def _has_list(shape: Shape) -> bool:
    if isinstance(shape, UnionShape):
        return any(_has_list(item) for item in shape.items)
    return isinstance(shape, Instance) and shape.fullname == fn.LIST


def _visit_dict(walk: Walk, inst: Instance, key: Shape, value: Shape, where: str) -> Shape | None:
    key_arrives = visit_key(walk, key, where)
    value_arrives = walk.visit(value, f"{where}[*]")
    if key_arrives is None or value_arrives is None:
        return None
    return builtin("dict", key_arrives, value_arrives)


def _visit_native_subclass(walk: Walk, inst: Instance, native: str, where: str) -> Shape | None:
    """A subclass of a builtin (StrEnum, IntEnum, NamedTuple, OrderedDict, a str subclass)."""
    if walk.serializer is YAML:
        walk.report(
            Outcome.NOT_CARRIED,
            inst,
            where,
            f"yaml's safe_dump represents exact builtin types only, not a {short(native)} subclass",
            f"pass a plain {short(native)}",
        )
        return None
    if Trait.NAMEDTUPLE in inst.traits or native == fn.TUPLE:
        items = [walk.visit(shape, f"{where}.{name}") for name, shape in inst.fields]
        if any(i is None for i in items):
            return None
        arrives: Shape = builtin("list", _union([i for i in items if i is not None]))
    elif inst.native is not None:
        arrived = _visit_container(walk, inst.native, where)
        if arrived is None:
            return None
        arrives = arrived
    else:
        arrives = Instance(native, _default_args(native))
    registered = walk.registry.match(inst) if walk.serializer is JSON else None
    note = ""
    if registered is not None and registered.origin != "kombu":
        note = (
            f" (its register_type entry for {short(registered.fullname)}{registered.note()} has no effect: "
            "natives never reach kombu's encoder hook)"
        )
    walk.report(
        Outcome.LOSSY,
        inst,
        where,
        f"{walk.serializer.name} encodes it as its base type: it arrives as {describe(arrives)}{note}",
        subclass_fix(inst, native),
        arrives,
    )
    return arrives


def _union(items: list[Shape]) -> Shape:
    return union_of(items) if items else AnyShape()


def _default_args(native: str) -> tuple[Shape, ...]:
    if native == fn.DICT:
        return (AnyShape(), AnyShape())
    if native in (fn.LIST, fn.TUPLE):
        return (AnyShape(),)
    return ()


def _visit_json_object(walk: Walk, inst: Instance, where: str) -> Shape | None:
    """The order of kombu's ``JSONEncoder.default`` (5.7.0)."""
    # An unknown encoded form is UnknownShape, not Any: whatever it is, it is not the class (kombu
    # never decodes it back), so it must not "fit" the parameter's annotation in a front end.
    if Trait.HAS_JSON in inst.traits:
        arrives = inst.json_returns or UnknownShape(f"what {inst.name}.__json__() returns")
        walk.report(
            Outcome.LOSSY,
            inst,
            where,
            f"kombu calls its __json__(): it arrives as {describe(arrives)}, not as {inst.name}",
            "rebuild the object in the task, or register a two-way preserializer",
            arrives,
        )
        return arrives
    if inst.is_a(fn.DJANGO_PROMISE):
        walk.report(
            Outcome.LOSSY, inst, where, "a lazy string arrives as a plain str", "pass str(...)", builtin("str")
        )
        return builtin("str")
    entry = walk.registry.match(inst)
    if entry is not None:
        if entry.marker is None:
            arrives = entry.arrives or UnknownShape(f"the encoded form of {inst.name}")
            walk.report(
                Outcome.LOSSY,
                inst,
                where,
                f"registered one-way (marker=None){entry.by()}: it arrives as "
                + (describe(arrives) if entry.arrives is None else f"its encoded form {describe(arrives)}"),
                "give register_type a marker and a decoder",
                arrives,
            )
            return arrives
        if entry.fullname == inst.fullname or entry.keeps_subclass:
            return inst
        arrives = Instance(entry.fullname)
        walk.report(
            Outcome.LOSSY,
            inst,
            where,
            f"kombu matches registered types by isinstance: it is encoded by the entry for "
            f"{short(entry.fullname)}{entry.note()} and arrives as {short(entry.fullname)}",
            f"register {inst.name} itself (before {short(entry.fullname)}), or "
            + ("use include_subclasses=True" if entry.by_runtime else
               "make that registration record the value's own class (type(o)) and look it up when decoding"),
            arrives,
        )
        return arrives
    if inst.is_a(fn.BYTES):  # kombu's bytes rule uses isinstance; the decoder builds plain bytes
        return _bytes_subclass(walk, inst, where)
    return _visit_other_object(walk, inst, where)


def _bytes_subclass(walk: Walk, inst: Instance, where: str) -> Shape:
    walk.report(
        Outcome.LOSSY,
        inst,
        where,
        f"{walk.serializer.name} sends a bytes subclass as bytes: it arrives as bytes",
        "annotate the parameter as bytes, or rebuild the value in the task",
        builtin("bytes"),
    )
    return builtin("bytes")


def _visit_other_object(walk: Walk, inst: Instance, where: str) -> Shape | None:
    """Anything the serializer has no rule for; msgpack/yaml also reach here for every class."""
    ser = walk.serializer
    if ser is MSGPACK and inst.fullname in (fn.BYTEARRAY, fn.MEMORYVIEW):
        walk.report(Outcome.LOSSY, inst, where, "msgpack sends it as bin: it arrives as bytes", "", builtin("bytes"))
        return builtin("bytes")
    if ser is MSGPACK and inst.is_a(fn.BYTES):
        return _bytes_subclass(walk, inst, where)
    if ser is YAML and inst.fullname in (fn.DATETIME, fn.DATE):
        return inst
    if Trait.PROTOCOL in inst.traits:
        walk.report(Outcome.UNKNOWN, inst, where, "a protocol: any class may implement it")
        return inst
    # A registration that exists serves json only: say which, and do not advise registering again.
    registered = walk.registry.match(inst) if ser is not JSON else None
    user_entry = registered if registered is not None and registered.origin != "kombu" else None
    reason, fix = why_not(inst, ser, user_entry)
    if user_entry is not None:
        reason += f" ({short(user_entry.fullname)} is registered{user_entry.by()}, for the json serializer only)"
    walk.report(Outcome.NOT_CARRIED, inst, where, reason, fix)
    return None
