"""The classes registered through ``register_preserializer`` in this process.

Kept apart from ``register`` so that ``fields`` can ask whether a registration keeps subclasses
without importing the module that builds registrations (which imports ``builtin``, which imports
``fields``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from celery_boundary.runtime.protocol import Preserializer


@dataclass(frozen=True)
class RegisteredType:
    """One registration, as kombu sees it: ``cls`` travels under ``marker``."""

    cls: type
    marker: str
    preserializer: Preserializer[Any]
    include_subclasses: bool


_REGISTERED: dict[type, RegisteredType] = {}


def record(entry: RegisteredType) -> None:
    """Remember a registration kombu has just been given."""
    _REGISTERED[entry.cls] = entry


def registration_of(cls: type) -> RegisteredType | None:
    """The registration made here for exactly ``cls``, if any."""
    return _REGISTERED.get(cls)


def keeps_subclasses(cls: type) -> bool:
    """True when ``cls`` was registered here with ``include_subclasses=True``."""
    entry = _REGISTERED.get(cls)
    return entry is not None and entry.include_subclasses


def registered_types() -> tuple[RegisteredType, ...]:
    """Every class registered through ``register_preserializer`` in this process, oldest first."""
    return tuple(_REGISTERED.values())
