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
