"""Runtime preserializers: the only part of celery-boundary imported by a running Celery app.

``register_preserializer(Address)`` makes ``Address`` instances cross a Celery task boundary
(json serializer) as themselves, through kombu's own type registry; ``register_models()`` makes
Django model instances cross by reference (label and pk) and fetches them again on the worker. Importing this package
imports neither kombu, Django, pydantic nor attrs: kombu is imported by the first registration, pydantic
and attrs only for the classes that need them. See docs/runtime.md.
"""

from celery_boundary.runtime.builtin import (
    AttrsPreserializer,
    DataclassPreserializer,
    EnumPreserializer,
    PydanticModelPreserializer,
    pick_builtin,
)
from celery_boundary.runtime.models import ModelRowMissing, UnsavedModelError, register_models
from celery_boundary.runtime.names import dotted_name, marker_for
from celery_boundary.runtime.protocol import Preserializer
from celery_boundary.runtime.register import register_preserializer
from celery_boundary.runtime.registered import RegisteredType, registered_types

__all__ = [
    "AttrsPreserializer",
    "DataclassPreserializer",
    "EnumPreserializer",
    "ModelRowMissing",
    "Preserializer",
    "UnsavedModelError",
    "PydanticModelPreserializer",
    "RegisteredType",
    "dotted_name",
    "marker_for",
    "pick_builtin",
    "register_models",
    "register_preserializer",
    "registered_types",
]
