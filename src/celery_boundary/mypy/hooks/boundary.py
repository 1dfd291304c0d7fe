"""Judge values that cross the task boundary and report celery-unserializable / celery-lossy /
celery-model-instance.

Each argument's type as inferred at the call site (and each task's return annotation) is
translated into a core Shape and judged for the serializer in effect. A lossy verdict is reported
only when what arrives does not fit the parameter's annotation: a tuple passed to a
``Sequence[int]`` parameter arrives as a list and is still fine; passed to ``tuple[int, int]`` it
is a real bug.

Hook phase: used by every checking hook (definitions, calls, canvas).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from mypy.messages import format_type, format_type_bare
from mypy.nodes import Context
from mypy.options import Options
from mypy.plugin import CheckerPluginInterface
from mypy.subtypes import is_subtype
from mypy.types import AnyType, Instance, LiteralType, NoneType, Type, TypeOfAny, UnionType, get_proper_type

from celery_boundary.core import fullnames as fn
from celery_boundary.core import serializers
from celery_boundary.core.records import record
from celery_boundary.core.registry import Registry
from celery_boundary.core.shapes import AnyShape, Shape, describe
from celery_boundary.core.verdicts import Outcome, Problem, Verdict, judge
from celery_boundary.mypy import errorcodes
from celery_boundary.mypy.hooks.model_instances import find_snapshot
from celery_boundary.mypy.hooks.registrations import registered_classes
from celery_boundary.mypy.hooks.shapes_to_types import type_of
from celery_boundary.mypy.hooks.types_to_shapes import shape_of
from celery_boundary.mypy.memo import Memo
from celery_boundary.mypy.metadata import Lookup
from celery_boundary.mypy.startup.settings import Settings
from celery_boundary.mypy.startup.appscan import UNDETERMINED

#: Celery dumps a pydantic model passed to a pydantic=True task from 5.7 on (tests/mypy/test_versions.py).
PYDANTIC_CALL_SITE_DUMP = (5, 7)


@record
class Crossing:
    """One value crossing: who sends it, to which parameter, with which serializer."""

    task: str
    param: str
    serializer: str
    expected: Type | None
    pydantic: bool = False
    #: Star arguments: the container itself never arrives, so only a refusal is reported.
    unserializable_only: bool = False


def check_argument(
    api: CheckerPluginInterface, settings: Settings, lookup: Lookup, crossing: Crossing, sent: Type, context: Context
) -> None:
    if crossing.pydantic and crossing.expected is not None and is_model(sent) and _accepts_model(crossing.expected):
        if settings.celery_version < PYDANTIC_CALL_SITE_DUMP:
            version = settings.versions.get("celery", "?")
            api.fail(
                f'"{crossing.task}" argument "{crossing.param}" is a pydantic model: Celery {version} '
                f"dumps models passed to pydantic=True tasks only from 5.7 on. "
                f"Fix: pass .model_dump(mode='json') or upgrade Celery",
                context,
                code=errorcodes.UNSERIALIZABLE,
            )
        return
    if is_plain_scalar(sent):
        return  # ids, names, counts: most arguments; every known serializer carries them exactly
    settings, verdict = _assess(settings, sent, crossing.serializer)
    head = f'"{crossing.task}" argument "{crossing.param}" ({verdict.judged})'
    if verdict.outcome is not Outcome.NOT_CARRIED:
        _report_snapshot(api, verdict, head, sent, context)
    if crossing.unserializable_only and verdict.outcome is not Outcome.NOT_CARRIED:
        return
    _report(api, settings, lookup, verdict, head, crossing.expected, context)


def _report_snapshot(api: CheckerPluginInterface, verdict: Verdict, head: str, sent: Type, context: Context) -> None:
    """celery-model-instance: pickle and custom serializers carry a model instance as a copy."""
    if verdict.serializer == UNDETERMINED:
        return  # read from the environment or disputed between apps: not judged (docs/mypy.md)
    serializer = serializers.lookup(verdict.serializer)
    if serializer is not serializers.PICKLE and serializer.known:
        return  # json, msgpack and yaml refuse model instances and QuerySets: celery-unserializable
    found = find_snapshot(sent, serializer)
    if found is not None:
        message = (
            f"{head} arrives as a copy from send time with the {verdict.serializer} serializer: "
            f"{found.located}{found.reason}. Fix: {found.fix}"
        )
        api.fail(message, context, code=errorcodes.MODEL_INSTANCE)


def check_return(
    api: CheckerPluginInterface,
    settings: Settings,
    lookup: Lookup,
    task: str,
    returned: Type,
    pydantic: bool,
    context: Context,
) -> None:
    if pydantic and is_model(returned):
        return  # Celery returns model_dump(mode="json"): .get() gets a dict (5.5+)
    if is_plain_scalar(returned):
        return
    settings, verdict = _assess(settings, returned, settings.result_serializer)
    head = f'Task "{task}" return value ({verdict.judged})'
    _report(api, settings, lookup, verdict, head, None, context, result=True)


def arrival_type(
    api: CheckerPluginInterface, settings: Settings, lookup: Lookup, returned: Type, pydantic: bool
) -> Type | None:
    """What ``.get()`` delivers for a task returning ``returned`` (None: keep the declared type)."""
    if pydantic and is_model(returned):
        return api.named_generic_type("builtins.dict", [api.named_generic_type("builtins.str", []), _any()])
    if is_plain_scalar(returned):
        return None
    key = (settings.memo_key, returned)
    return _ARRIVALS.get(key, lambda: _arrival_type(settings, lookup, returned))


def arrival_clause(options: Options, settings: Settings, sent: Type, arrived: Type) -> str:
    """``, which arrives as list[int] with the json result serializer`` when the result changes on
    the way (``arrived`` is not ``sent``: see ``arrival_type``), else nothing."""
    if arrived is sent:
        return ""
    return f", which arrives as {format_type(arrived, options)} with the {settings.result_serializer} result serializer"


def _arrival_type(settings: Settings, lookup: Lookup, returned: Type) -> Type | None:
    _, verdict = _assess(settings, returned, settings.result_serializer)
    if verdict.outcome is not Outcome.LOSSY or verdict.arrives is None:
        return None
    return type_of(verdict.arrives, lookup)


#: Verdicts per (settings, type, serializer), and what arrives per (settings, returned type):
#: the same types cross at every call of a task (memo.py says when they are forgotten).
_ASSESSMENTS: Final = Memo[tuple[Settings, Verdict]]()
_ARRIVALS: Final = Memo[Type | None]()


def _assess(settings: Settings, typ: Type, serializer: str) -> tuple[Settings, Verdict]:
    """The verdict on ``typ``, and the settings with the classes registered inside it."""
    key = (settings.memo_key, typ, serializer)
    return _ASSESSMENTS.get(key, lambda: _assess_now(settings, typ, serializer))


def _assess_now(settings: Settings, typ: Type, serializer: str) -> tuple[Settings, Verdict]:
    settings = settings.with_classes(registered_classes(typ))
    return settings, _judge(settings, shape_of(typ), serializer)


#: Exact builtins every known serializer carries as themselves (kombu 5.7.0, msgpack 1.x, PyYAML 6).
PLAIN_SCALARS: Final = frozenset({"builtins.int", "builtins.str", "builtins.float", "builtins.bool"})


def is_plain_scalar(typ: Type) -> bool:
    """A fast path: no verdict is needed for ``int``, ``str``, ``float``, ``bool``, ``None`` or a literal of them."""
    if type(typ) is Instance:  # the common case, without get_proper_type's call
        return typ.type.fullname in PLAIN_SCALARS
    proper = get_proper_type(typ)
    if isinstance(proper, LiteralType):
        proper = proper.fallback
    if isinstance(proper, Instance):
        return proper.type.fullname in PLAIN_SCALARS
    return isinstance(proper, NoneType)


def _any() -> Type:
    return AnyType(TypeOfAny.special_form)


def _judge(settings: Settings, shape: Shape, serializer: str) -> Verdict:
    registry, trust_any = settings.effective_registry, settings.config.trust_any
    try:
        return _judge_cached(shape, serializer, registry, trust_any)
    except TypeError:  # an unhashable literal value somewhere inside: judge it uncached
        return judge(shape, serializer, registry=registry, trust_any=trust_any)


@lru_cache(maxsize=4096)
def _judge_cached(shape: Shape, serializer: str, registry: Registry, trust_any: bool) -> Verdict:
    """Verdicts are pure functions of these four values: the same task types recur at every call."""
    return judge(shape, serializer, registry=registry, trust_any=trust_any)


def _report(
    api: CheckerPluginInterface,
    settings: Settings,
    lookup: Lookup,
    verdict: Verdict,
    head: str,
    expected: Type | None,
    context: Context,
    result: bool = False,
) -> None:
    which = "result serializer" if result else "serializer"
    if verdict.outcome is Outcome.NOT_CARRIED:
        problem = verdict.of(Outcome.NOT_CARRIED)[0]
        message = f"{head} cannot cross with the {verdict.serializer} {which}: {_explain(problem, verdict, result)}"
        api.fail(message, context, code=errorcodes.UNSERIALIZABLE)
    elif verdict.outcome is Outcome.LOSSY and settings.config.lossy != "off":
        if _arrival_fits(verdict, expected, lookup):
            return
        problem = verdict.of(Outcome.LOSSY)[0]
        arrives = problem.arrives_as or "another type"
        expects = f", but the parameter expects {_text(expected, api.options)}" if expected is not None else ""
        message = (
            f"{head} arrives as {_arrived_text(verdict) or arrives} with the {verdict.serializer} {which}"
            f"{expects}: {_explain(problem, verdict, result)}"
        )
        api.fail(message, context, code=errorcodes.LOSSY)
    elif verdict.outcome is Outcome.UNKNOWN and not settings.config.trust_any:
        for problem in verdict.of(Outcome.UNKNOWN):
            if "trust_any" in problem.reason:
                where = f" at {problem.where}" if problem.where else ""
                fix = f". Fix: {problem.fix}" if problem.fix else ""
                message = f"{head} holds {problem.type_text}{where}, not checked with trust_any = false{fix}"
                api.fail(message, context, code=errorcodes.UNSERIALIZABLE)
                return


def _explain(problem: Problem, verdict: Verdict, result: bool = False) -> str:
    where = f"{problem.located}: " if problem.where or problem.type_text != verdict.judged else ""
    text = problem.fix.replace("the parameter", "the return type") if result else problem.fix
    fix = f". Fix: {text}" if text else ""
    return f"{where}{problem.reason}{fix}"


def _arrived_text(verdict: Verdict) -> str | None:
    return describe(verdict.arrives) if verdict.arrives is not None else None


def _text(expected: Type, options: Options) -> str:
    return f'"{format_type_bare(expected, options)}"'


def _arrival_fits(verdict: Verdict, expected: Type | None, lookup: Lookup) -> bool:
    """Does what arrives still satisfy the parameter's annotation?"""
    if expected is None or verdict.arrives is None:
        return False
    if isinstance(verdict.arrives, AnyShape):
        return True
    arrived = type_of(verdict.arrives, lookup)
    return arrived is not None and is_subtype(arrived, expected)


def is_model(typ: Type) -> bool:
    proper = get_proper_type(typ)
    if isinstance(proper, UnionType):
        items = [get_proper_type(item) for item in proper.items]
        return any(is_model(item) for item in items) and all(
            is_model(item) or _is_none(item) for item in items
        )
    return isinstance(proper, Instance) and proper.type.has_base(fn.PYDANTIC_BASE_MODEL)


def _accepts_model(expected: Type) -> bool:
    proper = get_proper_type(expected)
    items = proper.items if isinstance(proper, UnionType) else [proper]
    return any(is_model(item) for item in items)


def _is_none(typ: Type) -> bool:
    return isinstance(get_proper_type(typ), NoneType)
