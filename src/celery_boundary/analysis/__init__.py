"""Static, ``ast``-only analysis of one module: what names refer to and where tasks, launches,
canvases and settings are. Shared by the flake8 rules (CB1xx-CB4xx) and the ``celery-boundary``
command. Imports nothing from celery, kombu, flake8, mypy or libcst (start-up cost, see FACTS.md).
"""
