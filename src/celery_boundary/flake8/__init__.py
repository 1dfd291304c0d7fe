"""The flake8 front end (codes CB1xx-CB4xx). ``plugin.Plugin`` is the entry point; the rules in
``visitors/`` use only ``ast`` and can be called without flake8 (``visitors.check_source``).
This package must not import flake8, celery, kombu, mypy or libcst at import time."""
