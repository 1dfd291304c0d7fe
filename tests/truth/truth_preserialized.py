"""Rows for classes registered with ``celery_boundary.runtime.register_preserializer``.

The core models each registration as a ``Registration`` (marker, keeps_subclass); these rows check
that the runtime helper delivers what the core says. Only classes defined here are registered.
"""

from __future__ import annotations

import dataclasses
import enum

import attrs
import pydantic

from celery_boundary.core.registry import Registration, Registry
from celery_boundary.runtime import marker_for, register_preserializer


@register_preserializer
class Invoice(pydantic.BaseModel):
    number: str
    lines: list[int] = []


@register_preserializer
@dataclasses.dataclass
class Shipment:
    weight: float
    tags: tuple[str, ...] = ()


@register_preserializer
@attrs.define
class Crate:
    size: int


@register_preserializer
class Channel(enum.Enum):
    EMAIL = "email"
    SMS = 2


@register_preserializer(include_subclasses=True)
@dataclasses.dataclass
class Event:
    at: int


@dataclasses.dataclass
class Signup(Event):
    email: str = ""


@register_preserializer
@dataclasses.dataclass
class Note:
    text: str


@dataclasses.dataclass
class Memo(Note):
    """Not registered itself; its parent is, without include_subclasses."""


def registry_of(*classes: type) -> Registry:
    """The core's model of what ``register_preserializer`` did for these classes."""
    entries = []
    for cls in classes:
        keeps = cls is Event
        name = f"{cls.__module__}.{cls.__qualname__}"
        entries.append(Registration(name, marker_for(cls), keeps_subclass=keeps, origin="register_preserializer"))
    return Registry(tuple(entries))
