"""The flake8 front end (codes CB1xx-CB4xx). ``plugin.Plugin`` is the entry point; the rules it runs
are ``celery_boundary.checks``, which use only ``ast`` and run without flake8 (``checks.check_source``).
This package must not import flake8, celery, kombu, mypy or libcst at import time."""
