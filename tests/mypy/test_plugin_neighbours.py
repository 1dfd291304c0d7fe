"""The plugin shares the ``plugins`` list with django-stubs and pydantic, in any order.

mypy asks plugins in turn and the first hook wins: neither side's hooks may be lost. Django model
instances are recognised through django-stubs' types (``django.db.models.base.Model`` in the MRO).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SETTINGS = """\
SECRET_KEY = "x"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "shop"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
"""

MODELS = """\
from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=10)
"""

TASKS = """\
from celery import Celery
from pydantic import BaseModel
from shop.models import Customer

app = Celery("shop")


class Order(BaseModel):
    id: int


@app.task
def greet(customer: Customer) -> None: ...


@app.task
def greet_id(customer_id: int) -> None: ...


@app.task(pydantic=True)
def place(order: Order) -> Order:
    return order


greet.delay(Customer.objects.get(pk=1))
greet_id.delay(Customer.objects.get(pk=1).pk)
greet_id.delay(Customer.objects.get(pk=1).name)
place.delay(Order(id=1))
Order(id="x", extra=1)
reveal_type(place.delay(Order(id=1)).get())
reveal_type(Customer.objects.get(pk=1).name)
"""

ORDERS = [
    "mypy_django_plugin.main, pydantic.mypy, celery_boundary.mypy",
    "celery_boundary.mypy, pydantic.mypy, mypy_django_plugin.main",
]


@pytest.mark.parametrize("plugins", ORDERS)
def test_three_plugins_in_any_order(tmp_path: Path, plugins: str) -> None:
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "__init__.py").write_text("")
    (shop / "settings.py").write_text(SETTINGS)
    (shop / "models.py").write_text(MODELS)
    (shop / "tasks.py").write_text(TASKS)
    (tmp_path / "mypy.ini").write_text(
        f"[mypy]\nplugins = {plugins}\n\n[mypy.plugins.django-stubs]\ndjango_settings_module = shop.settings\n"
        "\n[pydantic-mypy]\ninit_forbid_extra = True\ninit_typed = True\n"
    )
    # A subprocess: django-stubs configures Django once per process.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "shop"],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": ""}, timeout=300,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("shop/")]
    # ours: the model instance; mypy with our restored signature: the CharField value is a str
    assert any(line.startswith("shop/tasks.py:25: error:") and "[celery-unserializable]" in line and "Django model" in line for line in lines), lines
    assert any(line.startswith("shop/tasks.py:27: error:") and "[arg-type]" in line for line in lines), lines
    # pydantic's plugin: typed __init__ with extra fields forbidden
    assert any(line.startswith("shop/tasks.py:29: error:") for line in lines), lines
    assert 'shop/tasks.py:30: note: Revealed type is "dict[str, Any]"' in lines
    # django-stubs' plugin: the field's Python type
    assert 'shop/tasks.py:31: note: Revealed type is "str"' in lines
    assert not any(line.startswith("shop/tasks.py:26:") or line.startswith("shop/tasks.py:28:") for line in lines), lines
