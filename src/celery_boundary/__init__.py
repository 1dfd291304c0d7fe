"""celery-boundary: static analysis for the Celery task boundary.

Importing this package is cheap: it imports neither mypy, flake8, libcst, celery nor kombu.
"""

__version__ = "0.1.0"
