"""Task definitions: restore the task type, then judge its return annotation (result serializer).

Hook phase: the function or method hook of a task decorator.
"""

from __future__ import annotations

from mypy.nodes import Decorator
from mypy.plugin import FunctionContext, MethodContext
from mypy.types import Instance, Type, get_proper_type

from celery_boundary.mypy.hooks.boundary import check_return
from celery_boundary.mypy.hooks.apps import note_undecided_app
from celery_boundary.mypy.hooks.tasks import (
    apply_task_options,
    class_serializer,
    options_of,
    restore_task,
    task_signature,
)
from celery_boundary.mypy.metadata import Lookup
from celery_boundary.mypy.startup.settings import Settings


def define_task(ctx: FunctionContext | MethodContext, settings: Settings, lookup: Lookup, factory: bool) -> Type:
    """``@app.task`` / ``@shared_task`` (``factory``: the options form applied to the function)."""
    if factory and isinstance(ctx, FunctionContext):
        result = apply_task_options(ctx, lookup)
    else:
        result = restore_task(ctx, lookup, settings.django_task)
    task = get_proper_type(result)
    if isinstance(task, Instance):  # a task this hook just built (the options form gives a callable)
        sig = task_signature(task, lookup)
        if sig is not None:
            name = sig.name or task.type.name
            options = options_of(task)
            # Reported on the ``def`` line (mypy's Decorator node sits on the first decorator).
            where = ctx.context.func if isinstance(ctx.context, Decorator) else ctx.context
            judged = settings.for_app(options.app)
            if judged is settings and len(settings.app.apps) > 1:
                own = options.serializer is not None or class_serializer(task) is not None
                note_undecided_app(ctx.api, settings, name, own, where)
            check_return(ctx.api, judged, lookup, name, sig.ret_type, options.pydantic, where)
    return result
