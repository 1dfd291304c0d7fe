"""``register_preserializer``: put a class into kombu's json type registry with a preserializer.

The wire format is kombu's own (``kombu.utils.json.register_type``, kombu >= 5.3.7): a registered
value travels as ``{"__type__": "cb:pkg.mod.Class", "__value__": <packed>}``. With
``include_subclasses=True`` the packed value is ``{"class": "pkg.mod.Sub", "value": <packed>}`` and
the decoder finds ``pkg.mod.Sub`` among the subclasses of the registered class that are already
loaded, never by importing (see ``names.SubclassIndex``).

kombu is imported when the first class is registered, not when this module is imported.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Final, TypeVar, overload

from celery_boundary.runtime.builtin import pick_builtin
from celery_boundary.runtime.names import SubclassIndex, dotted_name, explain_unreachable, marker_for
from celery_boundary.runtime.protocol import Preserializer
from celery_boundary.runtime.registered import RegisteredType, record, registration_of
# importable from this module too, beside register_preserializer:
from celery_boundary.runtime.registered import registered_types as registered_types  # noqa: F401

C = TypeVar("C", bound=type)

# kombu's encoder (a json.JSONEncoder) writes these natively and only calls ``default()`` -- where
# the registry lives -- for everything else, so registering a subclass of one has no effect
# (kombu 5.7.0: StrEnum arrives as str, IntEnum as int, NamedTuple as list; pinned by
# tests/runtime/test_runtime_register.py::test_native_refusal_matches_what_kombu_does).
_NATIVE: Final[tuple[tuple[type, str], ...]] = (
    (bool, "boolean"),
    (int, "number"),
    (float, "number"),
    (str, "string"),
    (dict, "object"),
    (list, "array"),
    (tuple, "array"),
)

# What kombu registers by itself at import (kombu >= 5.3.0), for error messages.
_KOMBU_DEFAULTS: Final = frozenset(
    {"datetime.datetime", "datetime.date", "datetime.time", "decimal.Decimal", "uuid.UUID"}
)


@overload
def register_preserializer(
    *, include_subclasses: bool = False, preserializer: Preserializer[Any] | None = None
) -> Callable[[C], C]: ...


@overload
def register_preserializer(
    cls: C, /, *, include_subclasses: bool = False, preserializer: Preserializer[Any] | None = None
) -> C: ...


@overload
def register_preserializer(
    preserializer: Preserializer[Any], /, *, include_subclasses: bool = False
) -> Callable[[C], C]: ...


def register_preserializer(
    target: object = None, /, *, include_subclasses: bool = False, preserializer: Preserializer[Any] | None = None
) -> Any:
    """Register a class so that its instances cross a Celery task boundary (json) as themselves.

    Forms::

        register_preserializer(Address)                        # call form: built-in by class kind
        register_preserializer(Money, preserializer=MoneyPreserializer())
        register_preserializer(Event, include_subclasses=True)  # subclasses arrive as themselves

        @register_preserializer()                              # decorator forms
        @register_preserializer(MoneyPreserializer())
        @register_preserializer(include_subclasses=True)

    Register in a module that both the producer and the worker import (the module that creates
    the Celery app): kombu's registry is per process. Raises ``TypeError`` at registration when
    the class cannot work: not reachable by name from a worker, natively written by JSON (the
    registration would have no effect), already covered by an earlier registration, or not
    handled by the preserializer.
    """
    if target is None:
        return _decorator(preserializer, include_subclasses)
    if isinstance(target, type):
        _refuse_preserializer_class(target, preserializer)
        _register(target, preserializer, include_subclasses)
        return target
    if isinstance(target, Preserializer):
        if preserializer is not None:
            raise TypeError("register_preserializer: the preserializer was given twice (positionally and by keyword)")
        return _decorator(target, include_subclasses)
    raise TypeError(
        f"register_preserializer expects a class, a preserializer (an object with compatible_with, pack "
        f"and unpack) or nothing, not {target!r}"
    )


def _decorator(preserializer: Preserializer[Any] | None, include_subclasses: bool) -> Callable[[C], C]:
    def decorate(cls: C) -> C:
        if not isinstance(cls, type):
            raise TypeError(f"@register_preserializer(...) decorates a class, not {cls!r}")
        _register(cls, preserializer, include_subclasses)
        return cls

    return decorate


def _refuse_preserializer_class(cls: type, preserializer: Preserializer[Any] | None) -> None:
    # register_preserializer(MyPreserializer) means "register the preserializer class as a type":
    # almost certainly a forgotten pair of parentheses.
    if preserializer is None and all(
        callable(getattr(cls, name, None)) for name in ("compatible_with", "pack", "unpack")
    ):
        raise TypeError(
            f"{cls.__qualname__} looks like a preserializer, not a class to register; pass an instance as "
            f"a decorator (@register_preserializer({cls.__qualname__}())) or with a class "
            f"(register_preserializer(MyClass, preserializer={cls.__qualname__}()))"
        )


def _register(cls: type, preserializer: Preserializer[Any] | None, include_subclasses: bool) -> None:
    name = dotted_name(cls)
    why = explain_unreachable(cls)
    if why is not None:
        raise TypeError(f"cannot register a preserializer for {cls.__qualname__}: {why}")
    _refuse_native(cls)
    if cls is object:
        raise TypeError("cannot register a preserializer for object: it would capture every value kombu cannot write")
    chosen = preserializer if preserializer is not None else pick_builtin(cls)
    if not isinstance(chosen, Preserializer):
        raise TypeError(f"{chosen!r} is not a preserializer: it needs compatible_with, pack and unpack methods")
    try:
        chosen.compatible_with(cls)
    except TypeError as error:
        raise TypeError(f"{chosen!r} cannot handle {name}: {error}") from error

    from kombu.utils import json as kombu_json

    _refuse_shadowed(cls, kombu_json)
    marker = marker_for(cls)
    if include_subclasses:
        encode, decode = _subclass_codec(cls, chosen)
    else:
        encode, decode = _exact_codec(cls, chosen)
    kombu_json.register_type(cls, marker, encode, decode)
    record(RegisteredType(cls, marker, chosen, include_subclasses))


def _refuse_native(cls: type) -> None:
    for native, json_kind in _NATIVE:
        if issubclass(cls, native):
            hint = (
                "use a plain Enum (class X(Enum)) and register it, or send .value and rebuild the member in the task"
                if any(base.__module__ == "enum" for base in cls.__mro__[1:])
                else "use a dataclass or a pydantic model instead, or send the plain value"
            )
            raise TypeError(
                f"cannot register {dotted_name(cls)}: it is a {native.__name__} subclass, which kombu's json "
                f"encoder writes natively as a JSON {json_kind} without consulting register_type (kombu 5.7.0); "
                f"the registration would have no effect and the value would arrive as a plain "
                f"{'list' if json_kind == 'array' else native.__name__}. Instead, {hint}"
            )


def _refuse_shadowed(cls: type, kombu_json: Any) -> None:
    # kombu's encoder takes the first registered type the value is an instance of, in registration
    # order; re-registering a type keeps its slot (kombu 5.7.0 ``_encoders`` is a dict).
    encoders: dict[type, Any] = getattr(kombu_json, "_encoders", {})
    for earlier in encoders:
        if earlier is cls:
            return
        if isinstance(earlier, type) and issubclass(cls, earlier):
            owner = _describe_owner(earlier)
            raise TypeError(
                f"cannot register {dotted_name(cls)}: {dotted_name(earlier)} was registered earlier ({owner}), "
                f"and kombu uses the first registered type a value is an instance of, so this registration "
                f"would never be used. Register {cls.__qualname__} before {earlier.__qualname__}"
                + (", or rely on that registration, which keeps subclasses" if "include_subclasses" in owner else "")
            )


def _describe_owner(cls: type) -> str:
    if dotted_name(cls) in _KOMBU_DEFAULTS:
        return "by kombu itself, at import"
    entry = registration_of(cls)
    if entry is None:
        return "by a kombu register_type call"
    if entry.include_subclasses:
        return "by register_preserializer(..., include_subclasses=True)"
    return "by register_preserializer"


def _exact_codec(cls: type, chosen: Preserializer[Any]) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    # A subclass instance is packed as ``cls`` and arrives as ``cls`` (kombu's isinstance match):
    # the checker reports that as lossy; include_subclasses=True keeps the subclass.
    def encode(obj: Any) -> Any:
        return chosen.pack(obj, cls)

    def decode(data: Any) -> Any:
        return chosen.unpack(data, cls)

    return encode, decode


def _subclass_codec(base: type, chosen: Preserializer[Any]) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    index = SubclassIndex(base)
    checked: weakref.WeakSet[type] = weakref.WeakSet([base])

    def check(concrete: type) -> None:
        if concrete not in checked:
            why = explain_unreachable(concrete)
            if why is not None:
                raise TypeError(f"cannot send a {concrete.__qualname__} as a registered {dotted_name(base)}: {why}")
            chosen.compatible_with(concrete)
            checked.add(concrete)

    def encode(obj: Any) -> Any:
        concrete = type(obj)
        check(concrete)
        return {"class": dotted_name(concrete), "value": chosen.pack(obj, concrete)}

    def decode(data: Any) -> Any:
        if not isinstance(data, dict) or data.keys() != {"class", "value"}:
            raise ValueError(f"malformed {marker_for(base)} value: expected {{'class': ..., 'value': ...}}")
        concrete = index.find(data["class"])
        check(concrete)
        return chosen.unpack(data["value"], concrete)

    return encode, decode
