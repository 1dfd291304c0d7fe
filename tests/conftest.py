"""Suite-wide set-up. The two supported-versions sessions (minutes each, mostly installing) run first,
so that each xdist worker takes one while the other tests share both cores afterwards. Under ``CI`` (any value) hypothesis runs derandomized and keeps no example
database: a CI run draws the same examples every time, on every xdist worker, and writes nothing into
the checkout (outside CI the database in ``.hypothesis/`` is safe for several processes at once)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("celery-boundary-ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("celery-boundary-ci")


#: Test modules that run a nox session of their own: first in the run.
FIRST: tuple[str, ...] = ("test_versions_oldest.py", "test_versions_newest.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name not in FIRST)  # stable: the rest keep their order
