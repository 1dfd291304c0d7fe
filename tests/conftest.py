"""Suite-wide set-up. Under ``CI`` (any value) hypothesis runs derandomized and keeps no example
database: a CI run draws the same examples every time, on every xdist worker, and writes nothing into
the checkout (outside CI the database in ``.hypothesis/`` is safe for several processes at once)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("celery-boundary-ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("celery-boundary-ci")
