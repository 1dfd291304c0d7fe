"""Names vulture (tests/test_dead_code.py) cannot see being used: read by vulture, never imported.

Name families the host tools call (libcst ``visit_*`` / ``leave_*``, mypy ``get_*_hook``, flake8's
``add_options`` / ``parse_options``) are ignored by pattern in pyproject.toml ([tool.vulture]).
"""

# flake8: noqa

_: object

# mypy loads the plugin through this module-level function (``plugins = celery_boundary.mypy``).
plugin  # celery_boundary/mypy/__init__.py
# PEP 562 module __getattr__: called by Python for celery_boundary.mypy.<name>.
__getattr__  # celery_boundary/mypy/__init__.py
# An attribute of mypy's own Var, read by mypy.
_.is_ready  # celery_boundary/mypy/bound_calls.py

# A record field that describes the serializer; nothing reads it, and it stays in the record's
# positional constructor beside the facts that are read.
_.executes_code  # celery_boundary/core/serializers.py
