"""Static, ``ast``-only analysis: what names refer to and where tasks, launches, canvases and settings
are in one module (``names``, ``index``, ``canvas``, ``factories``), who launches, links, schedules or
names which task (``uses``), and the same across the project (``project``). Read by the rule checks
(``celery_boundary.checks``) and the ``celery-boundary`` commands. Imports nothing from celery, kombu,
flake8, mypy or libcst: flake8 imports this package on every run, and importing libcst alone takes
about 160 ms (tests/cli/test_cli_fix.py checks that ``check`` never imports it).
"""
