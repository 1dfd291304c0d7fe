"""register_models without a database: importable without Django, its refusals, its exceptions.

What a real worker does with registered model instances: tests/truth/test_django_models.py.
"""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from celery_boundary.runtime import ModelRowMissing, UnsavedModelError, register_models
from celery_boundary.runtime.models import ModelReferencePreserializer


def test_the_runtime_imports_without_django() -> None:
    code = (
        "import sys; sys.modules['django'] = None\n"  # an import of django now raises ImportError
        "import celery_boundary.runtime as runtime\n"
        "assert callable(runtime.register_models)\n"
        "assert not [m for m in sys.modules if m.startswith(('django.', 'kombu'))]\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_refuses_what_is_not_a_model_before_registering_anything() -> None:
    with pytest.raises(TypeError, match="expects Django model classes, not <class 'int'>"):
        register_models(int)


def test_the_preserializer_refuses_classes_that_are_not_models() -> None:
    with pytest.raises(TypeError, match="builtins.dict is not a Django model"):
        ModelReferencePreserializer().compatible_with(dict)


def test_a_malformed_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="malformed cb:django.model value"):
        ModelReferencePreserializer().unpack({"pk": 1}, object)


def test_the_exceptions_keep_label_and_pk_through_pickle() -> None:
    missing = pickle.loads(pickle.dumps(ModelRowMissing("articles.Article", 3)))
    assert (missing.label, missing.pk) == ("articles.Article", 3)
    assert "articles.Article with pk=3 does not exist" in str(missing)
    unsaved = pickle.loads(pickle.dumps(UnsavedModelError("articles.Article")))
    assert unsaved.label == "articles.Article" and "unsaved articles.Article" in str(unsaved)


class _PkField:
    def __init__(self, has_default: bool) -> None:
        self._has_default = has_default

    def has_default(self) -> bool:
        return self._has_default


def _instance(pk: object, *, adding: bool, pk_has_default: bool) -> object:
    """The attributes ``pack`` reads from a Django instance: ``_meta.label``, ``_meta.pk``, ``pk``, ``_state``."""
    from types import SimpleNamespace

    model = type("Token", (), {"_meta": SimpleNamespace(label="auth.Token", pk=_PkField(pk_has_default))})
    row = model()
    row.pk = pk  # type: ignore[attr-defined]
    row._state = SimpleNamespace(adding=adding)  # type: ignore[attr-defined]
    return row


def test_an_unsaved_instance_whose_pk_field_has_a_default_is_refused() -> None:
    """A ``UUIDField(default=uuid4)`` pk is filled before the save: only ``_state.adding`` tells."""
    unsaved = _instance("58b15c8c-75ed-48a2-8a21-96cc05f7fe9e", adding=True, pk_has_default=True)
    with pytest.raises(UnsavedModelError, match="unsaved auth.Token"):
        ModelReferencePreserializer().pack(unsaved, object)
    saved = _instance("58b15c8c-75ed-48a2-8a21-96cc05f7fe9e", adding=False, pk_has_default=True)
    assert ModelReferencePreserializer().pack(saved, object) == {
        "model": "auth.Token",
        "pk": "58b15c8c-75ed-48a2-8a21-96cc05f7fe9e",
    }


def test_a_pk_given_by_hand_to_a_new_instance_is_sent_as_a_reference() -> None:
    """``Token(pk=5)`` for an existing row: the pk was chosen, not made up by a default."""
    by_hand = _instance(5, adding=True, pk_has_default=False)
    assert ModelReferencePreserializer().pack(by_hand, object) == {"model": "auth.Token", "pk": 5}
    with pytest.raises(UnsavedModelError):
        ModelReferencePreserializer().pack(_instance(None, adding=True, pk_has_default=False), object)
