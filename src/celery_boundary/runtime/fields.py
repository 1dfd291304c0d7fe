"""Field-by-field packing for dataclasses and attrs classes, driven by their annotations.

A dataclass is packed as a dict of its ``__init__`` arguments; each value is turned into JSON by
pydantic, following the field's annotation (``TypeAdapter`` over a TypedDict of the fields), and
rebuilt from JSON the same way. That is what makes nested values come back as themselves: a
``tuple[int, str]`` field is a tuple again (kombu alone would deliver a list), ``set[int]`` and
``dict[int, date]`` survive, enums come back by value, datetimes from ISO strings, nested pydantic
models, dataclasses and attrs classes as themselves. Unregistered nested dataclasses and attrs
classes use this same codec (pydantic cannot build attrs classes by itself); a nested class that
kombu's registry carries as itself travels in its own kombu envelope, so its registration applies.

Limits (pydantic 2.14): a field annotated ``Any`` / ``object`` / a bare TypeVar arrives as the JSON
form of its value (a ``datetime`` arrives as ``str``); a field whose type pydantic cannot describe
is refused at registration, naming the field; ``init=False`` fields are not sent (the class
recomputes them).

pydantic is imported on first use only, so importing the runtime stays cheap.
"""

from __future__ import annotations

import dataclasses
import typing
import weakref
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from celery_boundary.runtime.names import dotted_name
from celery_boundary.runtime.registered import keeps_subclasses


@dataclass(frozen=True)
class FieldSpec:
    attribute: str
    argument: str
    annotation: Any
    required: bool


def is_attrs_class(cls: object) -> bool:
    return isinstance(cls, type) and hasattr(cls, "__attrs_attrs__")


def is_dataclass_type(cls: object) -> bool:
    return isinstance(cls, type) and dataclasses.is_dataclass(cls)


class AnnotationsNotReady(TypeError):
    """An annotation names something not defined yet (the class itself, while it is decorated)."""


def _resolve_hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except NameError as error:
        raise AnnotationsNotReady(
            f"cannot read the annotations of {dotted_name(cls)} ({error}); every annotation must name "
            f"something defined in, or imported into, its module"
        ) from error
    except Exception as error:  # a malformed annotation
        raise TypeError(
            f"cannot read the annotations of {dotted_name(cls)} ({type(error).__name__}: {error}); "
            f"every annotation must name something importable from its module"
        ) from error


def _dataclass_specs(cls: type) -> list[FieldSpec]:
    hints = _resolve_hints(cls)
    specs = []
    for field in dataclasses.fields(cls):
        if not field.init:
            continue  # not an __init__ argument: the class computes it (e.g. in __post_init__)
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        specs.append(FieldSpec(field.name, field.name, hints.get(field.name, Any), required))
    return specs


def _attrs_specs(cls: type) -> list[FieldSpec]:
    import attrs  # the class is an attrs class, so attrs is importable

    hints = _resolve_hints(cls)
    specs = []
    for attribute in attrs.fields(cls):
        if not attribute.init:
            continue
        annotation = hints.get(attribute.name, attribute.type if attribute.type is not None else Any)
        if isinstance(annotation, str):
            raise TypeError(f"cannot resolve the annotation {annotation!r} of {dotted_name(cls)}.{attribute.name}")
        argument = attribute.alias or attribute.name.lstrip("_")  # attrs strips leading underscores
        specs.append(FieldSpec(attribute.name, argument, annotation, attribute.default is attrs.NOTHING))
    return specs


def _rewrite(annotation: Any) -> Any:
    """Wherever a class sits in a type: a class registered with kombu travels in kombu's envelope
    (so its own registration applies: its preserializer, include_subclasses); an unregistered
    dataclass or attrs class uses this codec; everything else is pydantic's."""
    if _registered_with_kombu(annotation):
        return Annotated[annotation, _ThroughKombu(annotation)]
    if is_dataclass_type(annotation) or is_attrs_class(annotation):
        return Annotated[annotation, _NestedCodec(annotation)]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is None or not args or origin is Literal:
        return annotation
    if origin is Annotated:
        params = (_rewrite(args[0]), *annotation.__metadata__)
        return Annotated[params]
    rewritten = tuple(_rewrite(arg) if not isinstance(arg, list) else [_rewrite(a) for a in arg] for arg in args)
    if rewritten == args:
        return annotation
    if origin is Union or type(annotation).__name__ == "UnionType":
        return Union[rewritten]
    try:
        return origin[rewritten]
    except TypeError:  # a special form that cannot be rebuilt this way: leave it to pydantic
        return annotation


class _NestedCodec:
    """``Annotated`` metadata: pydantic asks it for a schema that calls our codec."""

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import PydanticSerializationUnexpectedValue, core_schema

        cls = self.cls

        def unpack(data: Any) -> Any:
            return data if type(data) is cls else codec_for(cls).unpack(data)

        def pack(obj: Any) -> Any:
            if not isinstance(obj, cls):
                # In a union, this tells pydantic to try the next member (pydantic-core 2.x).
                raise PydanticSerializationUnexpectedValue(f"expected {cls.__qualname__}, got {type(obj).__qualname__}")
            return codec_for(cls).pack(obj)

        return core_schema.no_info_plain_validator_function(
            unpack,
            serialization=core_schema.plain_serializer_function_ser_schema(pack, when_used="always"),
        )


def _registered_with_kombu(annotation: Any) -> bool:
    """A class that kombu's registry (ours or a plain register_type) carries as itself, other than
    the types pydantic writes itself from the annotation (kombu also registers datetime, Decimal, UUID)."""
    if not isinstance(annotation, type) or typing.get_origin(annotation) is not None:
        return False
    if annotation.__module__ in _PYDANTIC_NATIVE_MODULES:
        return False
    from kombu.utils import json as kombu_json

    encoders: dict[type, Any] = getattr(kombu_json, "_encoders", {})
    for known in encoders:  # kombu takes the first match (5.7.0)
        if isinstance(known, type) and issubclass(annotation, known):
            # Only if the class arrives as itself: a subclass of an exact registration would
            # arrive as its parent there, so it keeps the field-by-field codec instead.
            return known is annotation or keeps_subclasses(known)
    return False


_PYDANTIC_NATIVE_MODULES = frozenset({"builtins", "datetime", "decimal", "uuid", "pathlib", "ipaddress", "enum"})


class _ThroughKombu:
    """``Annotated`` metadata: the value is written as kombu's own envelope, which kombu's decoder
    turns back into the object before the outer value is unpacked (it decodes innermost first)."""

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        import json

        from kombu.utils import json as kombu_json
        from pydantic_core import PydanticSerializationUnexpectedValue, core_schema

        cls = self.cls

        def unpack(data: Any) -> Any:
            if isinstance(data, cls):
                return data
            if isinstance(data, dict) and data.keys() == {"__type__", "__value__"}:
                decoded = kombu_json.loads(json.dumps(data))
                if isinstance(decoded, cls):
                    return decoded
            raise ValueError(f"expected a {cls.__qualname__} in kombu's envelope, got {data!r}")

        def pack(obj: Any) -> Any:
            if not isinstance(obj, cls):
                raise PydanticSerializationUnexpectedValue(f"expected {cls.__qualname__}, got {type(obj).__qualname__}")
            return json.loads(kombu_json.dumps(obj))

        return core_schema.no_info_plain_validator_function(
            unpack,
            serialization=core_schema.plain_serializer_function_ser_schema(pack, when_used="always"),
        )


class FieldsCodec:
    """Packs one dataclass or attrs class as a dict of its ``__init__`` arguments."""

    def __init__(self, cls: type, specs: list[FieldSpec]) -> None:
        self.cls = cls
        self.specs = specs
        self._adapter: Any = None

    def adapter(self) -> Any:
        if self._adapter is None:
            from pydantic import TypeAdapter
            from typing_extensions import NotRequired, TypedDict

            shape: dict[str, Any] = {}
            for spec in self.specs:
                annotation = _rewrite(spec.annotation)
                shape[spec.argument] = annotation if spec.required else NotRequired[annotation]
            fields = TypedDict(f"{self.cls.__name__}Fields", shape)  # type: ignore[misc]
            try:
                self._adapter = TypeAdapter(fields)
            except Exception as error:
                raise self._explain(error) from error
        return self._adapter

    def _explain(self, error: Exception) -> TypeError:
        from pydantic import PydanticSchemaGenerationError, TypeAdapter

        if not isinstance(error, PydanticSchemaGenerationError):
            # e.g. a nested pydantic model that is not fully defined yet: retried on first use
            return AnnotationsNotReady(f"cannot pack the fields of {dotted_name(self.cls)} yet: {error}")
        for spec in self.specs:
            try:
                TypeAdapter(_rewrite(spec.annotation))
            except PydanticSchemaGenerationError:
                return TypeError(
                    f"cannot pack {dotted_name(self.cls)}.{spec.attribute}: pydantic has no JSON form for its "
                    f"type {spec.annotation!r}. Give the field a type pydantic understands (or a pydantic "
                    f"model, dataclass, attrs class or Enum), or register {self.cls.__qualname__} with your own "
                    f"preserializer (preserializer=...)"
                )
        return TypeError(f"cannot pack the fields of {dotted_name(self.cls)}: {error}")

    def pack(self, obj: object) -> Any:
        values = {spec.argument: getattr(obj, spec.attribute) for spec in self.specs}
        return self.adapter().dump_python(values, mode="json", by_alias=True, round_trip=True)

    def unpack(self, data: Any) -> Any:
        # strict=False: the data came through JSON, so a datetime is an ISO string, a tuple a list.
        arguments = self.adapter().validate_python(data, strict=False)
        return self.cls(**arguments)


_CODECS: weakref.WeakKeyDictionary[type, FieldsCodec] = weakref.WeakKeyDictionary()


def check_fields(cls: type) -> None:
    """Refuse now what can never be packed; leave for first use what is merely not defined yet.

    The codec built here is thrown away: the one used for messages is built on first use, when the
    registrations made after this one (nested classes, the class itself) are known too.
    """
    try:
        FieldsCodec(cls, _specs(cls)).adapter()
    except AnnotationsNotReady:
        pass


def _specs(cls: type) -> list[FieldSpec]:
    return _attrs_specs(cls) if is_attrs_class(cls) else _dataclass_specs(cls)


def codec_for(cls: type) -> FieldsCodec:
    codec = _CODECS.get(cls)
    if codec is None:
        codec = _CODECS[cls] = FieldsCodec(cls, _specs(cls))
    return codec
