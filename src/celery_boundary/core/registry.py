"""Types registered with kombu's JSON type registry, as the checker knows them.

kombu's ``JSONEncoder.default`` walks its registry in insertion order and takes the first entry
whose type the value is an ``isinstance`` of (kombu 5.7.0). kombu itself registers datetime, date,
time, Decimal and UUID at import (5.3.0+), before anything a user registers, so a user entry for a
``datetime`` subclass is shadowed by kombu's own ``datetime`` entry. Re-registering a type keeps
its original position (it is a dict update). This module models exactly that.
"""

from __future__ import annotations


from celery_boundary.core import fullnames as fn
from celery_boundary.core.records import record
from celery_boundary.core.shapes import Instance, Shape


@record
class Registration:
    """One ``register_type`` / ``register_preserializer`` call.

    ``marker=None`` is kombu's one-way form: the value arrives as its encoded form (``arrives``,
    or unknown). ``keeps_subclass`` is true when the decoder restores the exact subclass (our
    ``register_preserializer(..., include_subclasses=True)``); kombu's plain decoders rebuild the
    registered type, so a subclass arrives as its registered parent.
    """

    fullname: str
    marker: str | None = "preserializer"
    keeps_subclass: bool = False
    arrives: Shape | None = None
    #: Where the user registered it, as messages name it (``register_type at proj/app.py:9``); "kombu"
    #: for kombu's own entries.
    origin: str = ""

    @property
    def by_runtime(self) -> bool:
        """Made by celery_boundary's ``register_preserializer`` (which has ``include_subclasses``)."""
        return self.marker == "preserializer"

    def by(self) -> str:
        """`` by <origin>`` for a message, or nothing for kombu's own entries."""
        return f" by {self.origin}" if self.origin and self.origin != "kombu" else ""

    def note(self) -> str:
        """`` (registered by <origin>)`` for a message, or nothing for kombu's own entries."""
        by = self.by()
        return f" (registered{by})" if by else ""


KOMBU_DEFAULTS: tuple[Registration, ...] = (
    Registration(fn.DATETIME, "datetime", origin="kombu"),
    Registration(fn.DATE, "date", origin="kombu"),
    Registration(fn.TIME, "time", origin="kombu"),
    Registration(fn.DECIMAL, "decimal", origin="kombu"),
    Registration(fn.UUID, "uuid", origin="kombu"),
)


@record
class Registry:
    """What is registered for the json serializer, in kombu's order, defaults first."""

    entries: tuple[Registration, ...] = ()

    def add(self, *registrations: Registration) -> Registry:
        return Registry(self.entries + registrations)

    def ordered(self) -> list[Registration]:
        """kombu's ``_encoders`` dict: first position wins, last value wins."""
        slots: dict[str, Registration] = {}
        for entry in (*KOMBU_DEFAULTS, *self.entries):
            slots[entry.fullname] = entry
        return list(slots.values())

    def match(self, instance: Instance) -> Registration | None:
        for entry in self.ordered():
            if instance.is_a(entry.fullname):
                return entry
        return None

    def names(self) -> frozenset[str]:
        return frozenset(entry.fullname for entry in self.entries)


EMPTY = Registry()
