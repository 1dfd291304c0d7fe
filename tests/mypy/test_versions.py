"""pydantic=True is Celery-version aware: 5.7 dumps a model passed at the call site, 5.5/5.6 do not.

The version comes from distribution metadata (celery is never imported); here it is replaced.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mypy import api

import celery_boundary.mypy  # noqa: F401  (loads the submodules patched below)

SOURCE = """\
from celery import Celery
from pydantic import BaseModel

app = Celery("shop")


class Order(BaseModel):
    id: int


@app.task(pydantic=True)
def place(order: Order) -> Order:
    return order


place.delay(Order(id=1))
place.delay({"id": 1})  # a dict is what the worker validates: fine on every version
reveal_type(place.delay(Order(id=1)).get())
"""


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy_cache")


def run(tmp_path: Path, cache_dir: Path) -> list[str]:
    (tmp_path / "shop.py").write_text(SOURCE)
    (tmp_path / "mypy.ini").write_text("[mypy]\nplugins = celery_boundary.mypy\n")
    stdout, _, _ = api.run(["--cache-dir", str(cache_dir), "--config-file", str(tmp_path / "mypy.ini"), str(tmp_path / "shop.py")])
    return [line.split("shop.py:", 1)[1] for line in stdout.splitlines() if "shop.py:" in line]


@pytest.mark.parametrize(
    ("celery", "expected"),
    [
        ("5.7.0", []),
        (
            "5.6.2",
            [
                f"{line}: error: \"place.delay\" argument \"order\" is a pydantic model: Celery 5.6.2 dumps models "
                "passed to pydantic=True tasks only from 5.7 on. Fix: pass .model_dump(mode='json') or upgrade "
                "Celery  [celery-unserializable]"
                for line in (16, 18)
            ],
        ),
    ],
)
def test_model_at_the_call_site(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, celery: str, expected: list[str]
) -> None:
    settings = sys.modules["celery_boundary.mypy.startup.settings"]
    monkeypatch.setattr(
        settings, "read_versions", lambda memory=None: {"python": "3.11", "celery": celery, "kombu": "5.7.0", "pydantic": "2"}
    )
    lines = run(tmp_path, cache_dir)
    errors = [line for line in lines if ": error:" in line]
    assert errors == expected
    assert '18: note: Revealed type is "dict[str, Any]"' in lines
