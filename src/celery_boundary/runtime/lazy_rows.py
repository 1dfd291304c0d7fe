"""The worker's stand-in for a model instance sent by reference (``register_models``).

Imports Django: ``models`` imports this module only when it decodes a reference.

``LazyRow`` fetches the row on first use, inside the task, so ``ModelRowMissing`` reaches
``autoretry_for``. Its ``__class__`` is the model, known from the label without a query: kombu's
json encoder asks ``isinstance`` of every registered type when a task sends the value on (a retry,
a chain), and a stand-in that fetched for that would fail a retry of a deleted row; instead it is
sent on as the same reference (tests/truth/test_django_models.py).
"""

from __future__ import annotations

from typing import Any, Callable

from django.utils.functional import SimpleLazyObject


class LazyRow(SimpleLazyObject):  # type: ignore[type-arg]  # generic in django-stubs only
    """A model instance fetched on first attribute access; ``isinstance(row, Model)`` needs no query."""

    def __init__(self, model: type, label: str, pk: object, fetch: Callable[[], Any]) -> None:
        super().__init__(fetch)
        # LazyObject.__setattr__ would fetch and set on the row: write the instance dict directly.
        self.__dict__["_cb_model"] = model
        self.__dict__["_cb_reference"] = {"model": label, "pk": pk}

    @property  # type: ignore[misc]  # read-only: a stand-in never changes its class
    def __class__(self) -> type:
        return self.__dict__["_cb_model"]  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        if name == "__json__":  # kombu's encoder asks first (getattr(o, "__json__", None)): no fetch
            raise AttributeError(name)
        return super().__getattr__(name)

    def __repr__(self) -> str:
        reference = self.__dict__["_cb_reference"]
        return f"<LazyRow {reference['model']} pk={reference['pk']!r}>"


def make_lazy_row(model: type, label: str, pk: object, fetch: Callable[[], Any]) -> Any:
    return LazyRow(model, label, pk, fetch)


def reference_of(obj: object) -> dict[str, Any] | None:
    """The reference a ``LazyRow`` was made from (without fetching), or None for anything else."""
    if type(obj) is LazyRow:
        reference: dict[str, Any] = obj.__dict__["_cb_reference"]
        return reference
    return None
