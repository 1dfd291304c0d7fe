"""Why a class cannot cross, and what to do instead: the teaching half of a diagnostic."""

from __future__ import annotations

from celery_boundary.core import fullnames as fn
from celery_boundary.core import serializers
from celery_boundary.core.registry import Registration
from celery_boundary.core.shapes import Instance, Trait

FIX_PRESERIALIZER = "register a preserializer (celery_boundary.runtime.register_preserializer)"
FIX_MODELS = "register models by reference (celery_boundary.runtime.register_models())"
FIX_QUERYSET = "pass a list of primary keys (list(qs.values_list('pk', flat=True)))"
KOMBU_JSON_TYPES = frozenset({fn.DATETIME, fn.DATE, fn.TIME, fn.DECIMAL, fn.UUID})


def subclass_fix(inst: Instance, native: str) -> str:
    if inst.is_a(fn.ENUM):
        return f"rebuild the member in the task ({inst.name}(value)), or annotate the parameter as {short(native)}"
    return "annotate the parameter with the base type, or rebuild the value in the task"


def short(fullname: str) -> str:
    return fullname.rsplit(".", 1)[-1]


def model_label(inst: Instance) -> str:
    """Django's default label: the app's last dotted part, i.e. the one before ``models``."""
    parts = inst.fullname.split(".")[:-1]
    if "models" in parts[1:]:
        return f"{parts[parts.index('models', 1) - 1]}.{inst.name}"
    return f"app_label.{inst.name}"


def by_pk(inst: Instance) -> str:
    """Send a model instance as what identifies its row."""
    return (
        f"pass obj.pk and the model label ({model_label(inst)!r}); load it in the task with "
        "apps.get_model(label).objects.get(pk=pk)"
    )


def why_snapshot(inst: Instance, ser: serializers.Serializer) -> tuple[str, str]:
    """(what ``ser``, which carries it, makes of a model instance or a QuerySet, what to do).

    What pickle does is pinned by tests/truth/test_django_models.py: an instance arrives with its
    field values from send time; a QuerySet is evaluated when it is pickled and arrives with those
    rows (iterating it and ``count()`` give them; ``.all()`` / ``.filter()`` on it query again).
    """
    if ser.known:
        how = f"{ser.name} copies"
        queryset_how = f"{ser.name} evaluates the QuerySet when it is sent and carries its rows"
    else:
        how = f"the custom serializer {ser.name!r} can only write a copy of"
        queryset_how = (
            f"the custom serializer {ser.name!r} can at best carry its rows as they were when it was sent "
            "(pickle evaluates it)"
        )
    if inst.is_a(fn.DJANGO_QUERYSET):
        return (
            f"{queryset_how}: iterating it or count() in the task gives those rows, not the rows "
            "when the task runs",
            f"{FIX_QUERYSET} and query in the task",
        )
    return (
        f"{how} the instance's field values when it is sent; the task acts on that copy, not on the row as "
        "it is when the task runs (a save() in the task writes the old values back)",
        f"{by_pk(inst)}, or send it with json and {FIX_MODELS}",
    )


def preserializer_fix(ser: serializers.Serializer) -> str:
    """kombu's type registry serves json only: elsewhere, registering changes nothing."""
    if ser.honours_register_type:
        return FIX_PRESERIALIZER
    return f"send it with json and {FIX_PRESERIALIZER} ({ser.name} ignores kombu's type registry)"


def why_not(inst: Instance, ser: serializers.Serializer, registered: Registration | None = None) -> tuple[str, str]:
    """(why ``ser`` cannot carry ``inst``, what to do). ``registered``: the user's registration that
    covers the class for json, advised in place of registering one."""
    name = ser.name
    register = preserializer_fix(ser) if registered is None else "send it with json, where it is registered"
    if inst.is_a(fn.DJANGO_MODEL):
        by_reference = f", or {FIX_MODELS}" if ser.honours_register_type else ""
        return (f"a Django model instance is a database row, not data {name} can carry", by_pk(inst) + by_reference)
    if inst.is_a(fn.DJANGO_QUERYSET):
        # kombu's encoders do not evaluate it: .delay() raises EncodeError (tests/truth/test_django_models.py)
        return (f"a QuerySet is a lazy database query, not data {name} can carry", FIX_QUERYSET)
    if inst.is_a(fn.PYDANTIC_BASE_MODEL):
        return (
            f"a pydantic model is not {name} data",
            f"{register}, pass model.model_dump(mode='json'), or use pydantic=True (Celery >= 5.7 accepts models)",
        )
    if Trait.DATACLASS in inst.traits or Trait.ATTRS in inst.traits:
        kind = "dataclass" if Trait.DATACLASS in inst.traits else "attrs class"
        return (f"a {kind} instance is not {name} data", f"{register}, or pass its fields or an id")
    if inst.is_a(fn.ENUM):
        return (
            f"a plain Enum member is not {name} data",
            f"pass .value (or .name) and rebuild the member in the task, or {register}",
        )
    if inst.fullname in (fn.BYTEARRAY, fn.MEMORYVIEW):
        return (f"{name} carries bytes, not {inst.name}", "pass bytes(...)")
    if inst.fullname == fn.TIMEDELTA:
        return (f"{name} has no rule for timedelta", "pass .total_seconds() and rebuild it in the task")
    if inst.is_any_of(fn.PATHS):
        return (f"{name} has no rule for paths", "pass str(path)")
    if inst.fullname in KOMBU_JSON_TYPES:
        return (
            f"{name} has no rule for {inst.name} (only kombu's json registers it)",
            "pass its isoformat()/str() or use json",
        )
    return (f"{name} has no rule for {inst.name}", f"{register}, or pass an id and load the object in the task")
