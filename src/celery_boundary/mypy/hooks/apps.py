"""Which app made a task, and the note for a task no one app made while the apps disagree.

``@legacy.task`` makes a task bound to ``legacy``: Celery registers it in every app (``shared=True``
by default, celery 5.7) but the object the decorator returns publishes with ``legacy``'s
``task_serializer`` and stores results with its ``result_serializer`` (tests/truth/test_apps_truth.py).
The app is named by the decorator's receiver as mypy resolved it (``RefExpr.fullname``: imports and
``as`` aliases followed), so ``from proj.legacy import legacy as old; @old.task`` names
``proj.legacy.legacy`` too. ``shared_task``, ``current_app.task`` and an app reached through
something the plugin cannot name have no app: they are judged by what every app agrees on.

Hook phase: the task decorator hooks (tasks.py, definitions.py) and the call hooks (calls.py).
"""

from __future__ import annotations

from mypy.nodes import CallExpr, Context, Decorator, Expression, MemberExpr, RefExpr
from mypy.plugin import CheckerPluginInterface

from celery_boundary.mypy import errorcodes
from celery_boundary.mypy.startup.appscan import UNDETERMINED
from celery_boundary.mypy.startup.settings import Settings


def app_of(context: Context) -> str | None:
    """The fullname of the variable the task decorator is called on (``proj.legacy.legacy``).

    mypy checks ``@app.task`` with the ``Decorator`` as context and ``app.task(...)`` /
    ``app.task(fun)`` with the call (mypy 1.20 / 2.4).
    """
    if isinstance(context, CallExpr):
        return _receiver(context.callee)
    if isinstance(context, Decorator):
        named = {_receiver(d) for d in context.decorators if isinstance(d, MemberExpr) and d.name == "task"}
        return named.pop() if len(named) == 1 else None
    return None


def sending_app(context: Context) -> str | None:
    """``legacy.send_task(...)``: the app whose settings the message is published with."""
    return _receiver(context.callee) if isinstance(context, CallExpr) else None


def _receiver(callee: Expression) -> str | None:
    if isinstance(callee, MemberExpr) and isinstance(callee.expr, RefExpr) and callee.expr.fullname:
        return callee.expr.fullname
    return None


def note_undecided_app(
    api: CheckerPluginInterface, settings: Settings, name: str, own_serializer: bool, context: Context
) -> None:
    """Once per task, at its definition: the apps disagree and none of them made this task.

    A note, not an error: nothing is known to be wrong, the checker only lacks the fact that picks
    a serializer, and until it is given the task stays unchecked (as with one app whose serializer
    is read from the environment). The code lets ``# type: ignore[celery-unserializable]`` and
    ``disable_error_code`` silence it with the check it stands in for.
    """
    apps = settings.app.apps
    task_open = (
        not own_serializer
        and settings.task_serializer == UNDETERMINED
        and len({app.task_serializer or "json" for app in apps}) > 1
    )
    result_open = (
        settings.result_serializer == UNDETERMINED and len({app.result_serializer or "json" for app in apps}) > 1
    )
    if not (task_open or result_open):
        return
    listed = ", ".join(
        f"{app.fullname} ({app.task_serializer or 'json'}, results {app.result_serializer or 'json'})" for app in apps
    )
    unchecked = "its arguments and return value are" if task_open and result_open else (
        "its arguments are" if task_open else "its return value is"
    )
    fixes = ['pass serializer="..." to its decorator or set serializer in [tool.celery_boundary]'] if task_open else []
    if result_open:
        fixes.append("set result_serializer in [tool.celery_boundary]")
    # CheckerPluginInterface has fail() only; its MessageBuilder reports notes with a code (mypy 1.20 / 2.4).
    api.msg.note(
        f'Task "{name}" is not tied to one app (shared_task, or an app the checker cannot name), '
        f"and the apps disagree on serializers: {listed}; "
        f"{unchecked} not checked. Fix: {'; '.join(fixes)}",
        context,
        code=errorcodes.UNSERIALIZABLE,
    )
