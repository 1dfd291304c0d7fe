"""celery-boundary's mypy plugin: ``plugins = ["celery_boundary.mypy"]``.

mypy imports this module and calls ``plugin(version)``. The plugin class lives in ``plugin.py``
and only routes hooks; the checks live in the domain modules next to it.
"""

from __future__ import annotations

from mypy.plugin import Plugin

__version__ = "0.1.0"


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point: the plugin class for this mypy ``version``."""
    from celery_boundary.mypy.plugin import CeleryBoundaryPlugin

    return CeleryBoundaryPlugin
