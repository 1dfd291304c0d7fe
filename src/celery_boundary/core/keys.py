"""Mapping keys: what each serializer does with a dict key of a given type (kombu 5.7.0).

json writes int/float/bool/None keys (and str/int subclasses) as strings; msgpack 1.x packs them
but its decoder (``strict_map_key=True``) refuses anything but str or bytes; yaml keeps scalar keys.
"""

from __future__ import annotations

from celery_boundary.core import fullnames as fn
from celery_boundary.core import serializers
from celery_boundary.core.shapes import (
    AnyShape,
    Instance,
    LiteralShape,
    NoneShape,
    Shape,
    TupleShape,
    UnionShape,
    builtin,
    describe,
)
from celery_boundary.core.walk import Outcome, Walk

JSON, MSGPACK, YAML = serializers.JSON, serializers.MSGPACK, serializers.YAML


def visit_key(walk: Walk, key: Shape, where: str) -> Shape | None:
    """JSON turns int/float/bool/None keys into strings; msgpack's decoder refuses them."""
    at = f"{where}{{key}}"
    if isinstance(key, UnionShape):
        arrived = [visit_key(walk, item, where) for item in key.items]
        return None if any(a is None for a in arrived) else _first(arrived)
    if isinstance(key, AnyShape):
        return walk.visit(key, at)
    kind = _key_kind(key)
    ser = walk.serializer
    if kind == "str":
        return builtin("str")
    if kind == "str-subclass" and ser in (JSON, MSGPACK):
        walk.report(Outcome.LOSSY, key, at, "a str subclass key arrives as a plain str", "", builtin("str"))
        return builtin("str")
    if ser is JSON and kind in ("number", "number-subclass", "bool", "none"):
        walk.report(
            Outcome.LOSSY,
            key,
            at,
            "JSON object keys are strings: this key arrives as a str ('1', 'true', 'null')",
            "use str keys, or convert the keys back in the task",
            builtin("str"),
        )
        return builtin("str")
    if ser is MSGPACK and kind == "bytes":
        return key
    if ser is YAML and kind in ("number", "bool", "none", "bytes", "date"):
        return key
    if ser is MSGPACK and kind in ("number", "number-subclass", "bool", "none", "tuple", "tuple-subclass"):
        # msgpack 1.x packs these keys, then unpackb(strict_map_key=True) refuses them.
        reason = "msgpack's decoder accepts only str or bytes map keys: the worker fails to decode"
    elif ser is YAML and kind == "tuple":
        # safe_dump writes the tuple key as a sequence; safe_load cannot hash it (PyYAML 6).
        reason = "yaml writes a tuple key as a list, which safe_load cannot use as a key: the worker fails to decode"
    else:
        reason = f"{ser.name} cannot use {describe(key)} as a mapping key"
    walk.report(Outcome.NOT_CARRIED, key, at, reason, "use str keys")
    return None


def _key_kind(key: Shape) -> str:
    if isinstance(key, NoneShape):
        return "none"
    if isinstance(key, TupleShape):
        return "tuple"
    if isinstance(key, LiteralShape):
        key = key.fallback
    if not isinstance(key, Instance):
        return "other"
    exact = {fn.STR: "str", fn.BOOL: "bool", fn.INT: "number", fn.FLOAT: "number", fn.BYTES: "bytes"}
    if key.fullname in exact:
        return exact[key.fullname]
    if key.fullname in (fn.DATETIME, fn.DATE):
        return "date"
    if key.is_a(fn.STR):
        return "str-subclass"
    if key.is_a(fn.INT) or key.is_a(fn.FLOAT):
        return "number-subclass"  # IntEnum, IntFlag: json writes int.__repr__ (kombu 5.7.0, CPython 3.11)
    if key.fullname == fn.TUPLE:
        return "tuple"
    if key.is_a(fn.TUPLE):
        return "tuple-subclass"
    return "other"


def _first(items: list[Shape | None]) -> Shape | None:
    return next((i for i in items if i is not None), None)
