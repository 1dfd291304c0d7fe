"""What a preserializer is: a strategy that turns one kind of object into JSON-able data and back."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")


@runtime_checkable
class Preserializer(Protocol[T]):
    """Packs objects of a kind of class into JSON-able data and unpacks them again.

    It does not write JSON itself (hence *pre*-serializer): kombu's json serializer writes what
    ``pack`` returns, so ``pack`` may return anything kombu's json encoder accepts (dicts, lists,
    str, int, float, bool, None, and types registered with kombu such as ``datetime``). Values
    inside are decoded by kombu before ``unpack`` sees them.

    Both directions receive the registered class: ``pack(obj, cls)`` packs ``obj`` *as* ``cls``
    (for a subclass instance that is the registered parent, or the exact class when the
    registration has ``include_subclasses=True``), and ``unpack(data, cls)`` builds a ``cls``.
    """

    def compatible_with(self, cls: type[Any]) -> None:
        """Return if this preserializer can handle ``cls``; raise ``TypeError`` saying why not."""
        ...

    def pack(self, obj: T, cls: type[T]) -> Any:
        """Turn ``obj`` into data kombu's json encoder can write, as an instance of ``cls``."""
        ...

    def unpack(self, data: Any, cls: type[T]) -> T:
        """Build a ``cls`` from what ``pack`` returned (after a trip through JSON)."""
        ...
