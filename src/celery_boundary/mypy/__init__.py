"""celery-boundary's mypy plugin: ``plugins = ["celery_boundary.mypy"]``.

mypy imports this module and calls ``plugin(version)``. The plugin class lives in ``plugin.py``
and only routes hooks. What it learns once, when mypy creates it, lives in ``startup/``; what the
hooks do, in ``hooks/`` (imported when a hook is first routed there).
"""

from __future__ import annotations

from typing import Any

from celery_boundary.mypy.startup import version as _version


def __getattr__(name: str) -> Any:
    """``__version__`` is computed: it changes when the settings' files change (see version.py)."""
    if name == "__version__":
        return _version.current()
    raise AttributeError(name)


# Imported before ``plugin`` is defined: importing the submodule ``plugin`` binds that name on this
# package, and the function below must win (mypy looks up ``plugin`` again on every load, e.g.
# a second ``mypy.api.run`` in one process or the daemon).
from mypy.plugin import Plugin  # noqa: E402

from celery_boundary.mypy.plugin import CeleryBoundaryPlugin  # noqa: E402


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point: the plugin class (the same for mypy 1.20+ and 2.x)."""
    return CeleryBoundaryPlugin
