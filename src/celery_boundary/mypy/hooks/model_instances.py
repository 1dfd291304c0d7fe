"""celery-model-instance: a Django model instance (or a QuerySet) sent with a serializer that carries it.

pickle, and any custom serializer, carry a model instance as a copy of its field values at send
time, and a QuerySet as the rows it had then (tests/truth/test_django_models.py): the task acts on a
snapshot. json refuses both (celery-unserializable), unless ``register_models`` sends instances by
reference. The instance may sit anywhere in the sent value: in a container, a tuple, a TypedDict, or
a field of a dataclass, attrs class or pydantic model (which pickle copies along with it).

Hook phase: called by boundary.check_argument for pickle and custom serializers only.
"""

from __future__ import annotations

from typing import Final

from mypy.expandtype import expand_type_by_instance
from mypy.nodes import TypeInfo, Var
from mypy.types import Instance, TupleType, Type, TypedDictType, UnionType, get_proper_type

from celery_boundary.core import fullnames as fn
from celery_boundary.core import serializers
from celery_boundary.core.advice import why_snapshot
from celery_boundary.core.records import record
from celery_boundary.core.shapes import Instance as ShapeInstance

#: Deep enough for any real value; guards against recursive dataclasses.
MAX_DEPTH: Final = 12
#: Classes whose fields a serializer that carries them copies along (pickle: every attribute).
_FIELD_METADATA: Final = ("dataclass", "attrs")
_NOT_FIELDS: Final = ("builtins.", "pydantic.", "django.")


@record
class Snapshot:
    """A model instance or QuerySet found inside a sent type, and what to say about it."""

    type_text: str
    where: str
    reason: str
    fix: str

    @property
    def located(self) -> str:
        return f"{self.type_text} at {self.where}: " if self.where else ""


def find_snapshot(typ: Type, serializer: serializers.Serializer) -> Snapshot | None:
    """The first model instance or QuerySet inside ``typ``, with its explanation; None if none."""
    found = _find(typ, "", 0, set())
    if found is None:
        return None
    info, where = found
    inst = ShapeInstance(info.fullname, mro=tuple(base.fullname for base in info.mro))
    reason, fix = why_snapshot(inst, serializer)
    return Snapshot(info.name, where, reason, fix)


def _find(typ: Type, where: str, depth: int, seen: set[str]) -> tuple[TypeInfo, str] | None:
    if depth > MAX_DEPTH:
        return None
    proper = get_proper_type(typ)
    parts: list[tuple[Type, str]] = []
    if isinstance(proper, Instance):
        info = proper.type
        if info.has_base(fn.DJANGO_MODEL) or info.has_base(fn.DJANGO_QUERYSET):
            return info, where
        parts = [(arg, f"{where}[*]") for arg in proper.args]
        if info.fullname not in seen and _has_fields(info):
            seen = seen | {info.fullname}
            parts += [(expand_type_by_instance(t, proper), f"{where}.{name}") for name, t in _fields(info)]
    elif isinstance(proper, UnionType):
        parts = [(item, where) for item in proper.items]
    elif isinstance(proper, TupleType):
        parts = [(item, f"{where}[{index}]") for index, item in enumerate(proper.items)]
    elif isinstance(proper, TypedDictType):
        parts = [(value, f"{where}[{key!r}]") for key, value in proper.items.items()]
    for part, place in parts:
        found = _find(part, place, depth + 1, seen)
        if found is not None:
            return found
    return None


def _has_fields(info: TypeInfo) -> bool:
    return any(key in info.metadata for key in _FIELD_METADATA) or info.has_base(fn.PYDANTIC_BASE_MODEL)


def _fields(info: TypeInfo) -> list[tuple[str, Type]]:
    """Annotated instance attributes of the class and its project bases (not ClassVars, not methods)."""
    fields: dict[str, Type] = {}
    for base in reversed(info.mro):
        if base.fullname.startswith(_NOT_FIELDS):
            continue
        for name, symbol in base.names.items():
            node = symbol.node
            if isinstance(node, Var) and node.type is not None and not node.is_classvar and not name.startswith("_"):
                fields[name] = node.type
    return list(fields.items())
