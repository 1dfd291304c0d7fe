"""``register_models``: Django model instances cross a json task boundary by reference.

A registered model instance travels as its label and primary key,
``{"__type__": "cb:django.model", "__value__": {"model": "articles.Article", "pk": 3}}``. The
worker receives a lazy stand-in for the instance (``lazy_rows.LazyRow``, a Django
``SimpleLazyObject`` whose ``__class__`` is the model) that fetches the row through the model's
default manager the first time the task uses it: the task sees the row as it is then, not a copy
from send time (which is what pickle delivers), and a row that is gone raises ``ModelRowMissing``
inside the task, where ``autoretry_for`` and ``throws`` see it (tests/truth/test_django_models.py).
Fetching while the message is decoded would raise before the task runs: Celery 5.7.0 turns that into
kombu's ``DecodeError``, records no result and never calls the task (measured with the same worker).
Costs: one query per model argument the task uses, and the row must be committed before the task
runs (``delay_on_commit``). See docs/runtime.md.

Importing this module imports neither Django nor kombu: ``register_models`` imports both.
"""

from __future__ import annotations

from typing import Any, Final

from celery_boundary.runtime.registered import RegisteredType, record

MARKER: Final = "cb:django.model"
"""The kombu marker of every registered model: the label in the value says which model it is."""

_DJANGO_MODEL: Final = ("django.db.models.base", "Model")


class UnsavedModelError(ValueError):
    """A registered model instance that was never saved was sent: there is no row to fetch again.

    Unsaved means no primary key, or a primary key its field's default generated on an instance
    Django still marks as being added (``_state.adding``), as a ``UUIDField(default=uuid4)`` pk does.

    Raised by kombu's json encoder at send time, so ``.delay()`` raises kombu's ``EncodeError``
    with this error as its message.
    """

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label

    def __str__(self) -> str:
        return (
            f"cannot send an unsaved {self.label} instance by reference: it has no row yet (no primary key, "
            f"or only one its primary key field's default made up). "
            f"Save it first (and send after the transaction commits: delay_on_commit)"
        )


class ModelRowMissing(LookupError):
    """The row a task argument referred to is gone when the worker fetches it.

    ``label`` is the model's label (``"articles.Article"``) and ``pk`` the primary key that was
    sent. Raised inside the task, the first time it uses the argument, so ``autoretry_for`` and
    ``throws`` can name it. Picklable, and rebuilt from a json result: ``args`` are ``(label, pk)``.
    """

    def __init__(self, label: str, pk: object) -> None:
        super().__init__(label, pk)
        self.label = label
        self.pk = pk

    def __str__(self) -> str:
        return (
            f"{self.label} with pk={self.pk!r} does not exist on the worker: the row was deleted, or its "
            f"transaction had not committed, before the task ran"
        )


def is_django_model(cls: object) -> bool:
    """A Django model class, recognised by its MRO (without importing Django)."""
    return isinstance(cls, type) and any(
        (base.__module__, base.__qualname__) == _DJANGO_MODEL for base in cls.__mro__
    )


class ModelReferencePreserializer:
    """Packs a model instance as ``{"model": label, "pk": pk}``; unpacks as a lazy fetch of the row.

    The label is the instance's own model's (``type(obj)._meta.label``), so a subclass registered
    through its parent arrives as itself.
    """

    def compatible_with(self, cls: type[Any]) -> None:
        if not is_django_model(cls):
            raise TypeError(f"{cls.__module__}.{cls.__qualname__} is not a Django model")

    def pack(self, obj: Any, cls: type[Any]) -> Any:
        if type(obj) is not obj.__class__:  # a LazyRow sent on (a retry, a chain): the same reference
            from celery_boundary.runtime.lazy_rows import reference_of

            reference = reference_of(obj)
            if reference is not None:
                return reference
        label: str = obj.__class__._meta.label
        if obj.pk is None or (obj._state.adding and obj.__class__._meta.pk.has_default()):
            # A pk field with a default (uuid4, a generated string) fills the pk of an unsaved
            # instance too: there ``_state.adding`` (True until it is saved or loaded) says it has no row.
            raise UnsavedModelError(label)
        return {"model": label, "pk": obj.pk}

    def unpack(self, data: Any, cls: type[Any]) -> Any:
        from django.apps import apps

        from celery_boundary.runtime.lazy_rows import make_lazy_row

        if not isinstance(data, dict) or data.keys() != {"model", "pk"}:
            raise ValueError(f"malformed {MARKER} value: expected {{'model': ..., 'pk': ...}}, got {data!r}")
        label, pk = data["model"], data["pk"]
        model = apps.get_model(label)  # LookupError (at decode) for a label that is no installed model

        def fetch() -> Any:
            try:
                return model._default_manager.get(pk=pk)
            except model.DoesNotExist:
                raise ModelRowMissing(label, pk) from None

        return make_lazy_row(model, label, pk, fetch)

    def __repr__(self) -> str:
        return "ModelReferencePreserializer()"


def register_models(*models: type) -> None:
    """Make Django model instances cross the json serializer by reference (label and pk).

    ``register_models()`` covers every model (``django.db.models.Model`` and all its subclasses);
    ``register_models(Article, Comment)`` covers those models and their subclasses. Call it where
    ``register_preserializer`` goes: in the module that creates the Celery app. Raises ``TypeError``
    for anything that is not a Django model class.
    """
    from django.db.models import Model
    from kombu.utils import json as kombu_json

    targets = models or (Model,)
    chosen = ModelReferencePreserializer()
    for model in targets:
        if not (isinstance(model, type) and issubclass(model, Model)):
            raise TypeError(f"register_models expects Django model classes, not {model!r}")
    for model in targets:
        kombu_json.register_type(model, MARKER, _encoder(chosen, model), _decoder(chosen, model))
        record(RegisteredType(model, MARKER, chosen, include_subclasses=True))


def _encoder(chosen: ModelReferencePreserializer, model: type) -> Any:
    def encode(obj: Any) -> Any:
        return chosen.pack(obj, model)

    return encode


def _decoder(chosen: ModelReferencePreserializer, model: type) -> Any:
    def decode(data: Any) -> Any:
        return chosen.unpack(data, model)

    return decode
