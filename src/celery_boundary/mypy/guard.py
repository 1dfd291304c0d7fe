"""Never break mypy: a hook that fails reports one celery-internal error, then steps aside.

An unexpected exception inside a hook becomes a single ``celery-internal`` error per run, at the
code that triggered it, asking for a bug report; the hook then answers what mypy would have
answered without the plugin.

Hook phase: every hook the plugin routes runs through ``Guard.call``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from mypy.errors import CompileError
from mypy.nodes import Context
from mypy.plugin import CheckerPluginInterface, SemanticAnalyzerPluginInterface

from celery_boundary.mypy import errorcodes

T = TypeVar("T")
P = ParamSpec("P")
ISSUES = "https://github.com/celery-boundary/celery-boundary/issues"


class Guard:
    """Holds the 'already reported' flag for one plugin instance (one mypy run or daemon)."""

    def __init__(self) -> None:
        self.reported = False

    def call(
        self,
        fallback: T,
        api: CheckerPluginInterface | SemanticAnalyzerPluginInterface,
        context: Context,
        work: Callable[P, T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``work(*args, **kwargs)``, or ``fallback`` once a failure is reported at ``context``.

        Every hook runs through here; the arguments are passed along, so a call makes no closure.
        """
        try:
            return work(*args, **kwargs)
        except CompileError:
            raise
        except Exception as exc:  # noqa: BLE001 - the whole point: the host tool must survive
            self.report(exc, api, context)
            return fallback

    def report(
        self, exc: Exception, api: CheckerPluginInterface | SemanticAnalyzerPluginInterface, context: Context
    ) -> None:
        """The first failure of the run becomes a celery-internal error; later ones are silent."""
        if not self.reported:
            self.reported = True
            api.fail(describe_failure(exc), context, code=errorcodes.INTERNAL)


def describe_failure(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1]
    return (
        f"celery-boundary failed here ({type(exc).__name__}: {exc} at "
        f"{where.filename.rsplit('/', 1)[-1]}:{where.lineno}); the check was skipped. "
        f"Please report it at {ISSUES}"
    )
