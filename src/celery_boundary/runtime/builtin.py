"""The built-in preserializers: pydantic models, dataclasses, attrs classes, enums.

Each one recognises its kind of class without importing the library behind it (a pydantic model
has ``pydantic.main.BaseModel`` in its MRO; an attrs class has ``__attrs_attrs__``), so picking a
preserializer never imports pydantic or attrs into a process that does not use them.
"""

from __future__ import annotations

import enum
from typing import Any, Final

from celery_boundary.runtime.fields import check_fields, codec_for, is_attrs_class, is_dataclass_type
from celery_boundary.runtime.names import dotted_name
from celery_boundary.runtime.protocol import Preserializer

_JSON_SCALARS: Final = (str, int, float, bool, type(None))


def is_pydantic_model(cls: object) -> bool:
    return isinstance(cls, type) and any(
        base.__module__ == "pydantic.main" and base.__qualname__ == "BaseModel" for base in cls.__mro__
    )


class PydanticModelPreserializer:
    """pydantic v2 models, including ``RootModel`` and parametrised generic models.

    Packs with ``model_dump(mode="json", by_alias=True, round_trip=True)`` (aliases, so the dump
    validates back; round trip, so computed fields stay out and ``Json`` fields stay valid) and
    unpacks with ``model_validate(..., strict=False)`` (a strict model would otherwise refuse the
    ISO string that a datetime became in JSON).
    """

    def compatible_with(self, cls: type[Any]) -> None:
        if not is_pydantic_model(cls):
            raise TypeError(f"{dotted_name(cls)} is not a pydantic model (it does not inherit pydantic.BaseModel)")

    def pack(self, obj: Any, cls: type[Any]) -> Any:
        # The registered class's serializer, not obj's: a subclass instance packs as ``cls``.
        return cls.__pydantic_serializer__.to_python(obj, mode="json", by_alias=True, round_trip=True)

    def unpack(self, data: Any, cls: type[Any]) -> Any:
        return cls.model_validate(data, strict=False)

    def __repr__(self) -> str:
        return "PydanticModelPreserializer()"


class DataclassPreserializer:
    """Standard-library (and pydantic) dataclasses, field by field, following their annotations.

    Nested dataclasses, attrs classes, pydantic models, enums, datetimes, tuples, sets and
    int-keyed dicts come back as themselves; see ``celery_boundary.runtime.fields`` for the limits.
    """

    def compatible_with(self, cls: type[Any]) -> None:
        if not is_dataclass_type(cls):
            raise TypeError(f"{dotted_name(cls)} is not a dataclass")
        check_fields(cls)

    def pack(self, obj: Any, cls: type[Any]) -> Any:
        return codec_for(cls).pack(obj)

    def unpack(self, data: Any, cls: type[Any]) -> Any:
        return codec_for(cls).unpack(data)

    def __repr__(self) -> str:
        return "DataclassPreserializer()"


class AttrsPreserializer(DataclassPreserializer):
    """attrs classes (``@attrs.define``, ``@attr.s``), field by field, through ``__init__`` aliases."""

    def compatible_with(self, cls: type[Any]) -> None:
        if not is_attrs_class(cls):
            raise TypeError(f"{dotted_name(cls)} is not an attrs class")
        check_fields(cls)

    def __repr__(self) -> str:
        return "AttrsPreserializer()"


class EnumPreserializer:
    """``Enum`` and ``Flag`` members, by value (default) or by name.

    By value, each member's value must be a JSON scalar (str, int, float, bool, None); combined
    ``Flag`` values work because ``Flag(int)`` rebuilds them. By name (``by_name=True``) any values
    work, but combined flags have no single name, so ``Flag`` classes are refused.
    """

    def __init__(self, *, by_name: bool = False) -> None:
        self.by_name = by_name

    def compatible_with(self, cls: type[Any]) -> None:
        if not (isinstance(cls, type) and issubclass(cls, enum.Enum)):
            raise TypeError(f"{dotted_name(cls)} is not an Enum")
        if self.by_name:
            if issubclass(cls, enum.Flag):
                raise TypeError(f"{dotted_name(cls)} is a Flag: a combined flag has no single name; pack by value")
            return
        for member in cls:
            if not isinstance(member.value, _JSON_SCALARS):
                raise TypeError(
                    f"{dotted_name(cls)}.{member.name} has the value {member.value!r}, which is not a JSON "
                    f"scalar (str, int, float, bool, None); use EnumPreserializer(by_name=True)"
                )

    def pack(self, obj: Any, cls: type[Any]) -> Any:
        return obj.name if self.by_name else obj.value

    def unpack(self, data: Any, cls: type[Any]) -> Any:
        return cls[data] if self.by_name else cls(data)

    def __repr__(self) -> str:
        return f"EnumPreserializer(by_name={self.by_name})"


def pick_builtin(cls: type[Any]) -> Preserializer[Any]:
    """The built-in preserializer for the kind of ``cls``; TypeError naming the kinds if none fits."""
    if is_pydantic_model(cls):
        return PydanticModelPreserializer()
    if is_dataclass_type(cls):
        return DataclassPreserializer()
    if is_attrs_class(cls):
        return AttrsPreserializer()
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return EnumPreserializer()
    raise TypeError(
        f"no built-in preserializer for {dotted_name(cls)}: it is not a pydantic model, a dataclass, an "
        f"attrs class or an Enum. Write one (an object with compatible_with, pack and unpack) and pass "
        f"it: register_preserializer({cls.__qualname__}, preserializer=MyPreserializer())"
    )
