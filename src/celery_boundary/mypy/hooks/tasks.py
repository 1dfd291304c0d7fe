"""Restore task types: every task form keeps the signature of the function it wraps.

celery-types 0.26 types ``@app.task`` as ``Task[Any, Any]``, loses ``P`` with ``base=`` and rejects
several ``@shared_task`` options (tests/mypy/test_task_forms.yml). The plugin replaces the
decorator's signature with ``(*args: Any, **options: Any)`` and computes the result itself:

- ``@app.task`` / ``@shared_task`` given a function: ``Task[[params], R]`` (or the ``base=`` /
  ``Celery(task_cls=...)`` class) directly.
- with options: a callable named ``FACTORY``; mypy looks up a function hook by a callable's name
  when it is applied (``check_callable_call``, mypy 1.20 / 2.4), so the options ride on its return
  type until the decorated function arrives.

The task function's signature (``self`` dropped for ``bind=True``) and the options are kept in the
task instance's ``extra_attrs``, which mypy serializes into its cache with the type. So is the app
variable the decorator belongs to (``@legacy.task`` -> ``proj.legacy.legacy``, apps.py): a warm run
that loads the task's module from the cache still knows which app's serializers judge its calls.

Hook phase: the decorator's signature and function hooks (through definitions.py); every call
hook reads the task it restores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from mypy.errorcodes import ARG_TYPE as ARG_TYPE_CODE
from mypy.maptype import map_instance_to_supertype
from mypy.nodes import ARG_POS, ARG_STAR, ARG_STAR2, Context, Decorator, Expression, NameExpr, StrExpr, TypeInfo
from mypy.plugin import CheckerPluginInterface, FunctionContext, FunctionSigContext, MethodContext, MethodSigContext
from mypy.typeops import bind_self
from mypy.types import (
    AnyType,
    CallableType,
    ExtraAttrs,
    FunctionLike,
    Instance,
    LiteralType,
    Parameters,
    ParamSpecType,
    Type,
    TypeOfAny,
    TypeType,
    UnionType,
    get_proper_type,
)

from celery_boundary.core.records import record, replace
from celery_boundary.mypy.hooks.apps import app_of
from celery_boundary.mypy.hooks.boundary import is_model

from celery_boundary.core import fullnames as fn
from celery_boundary.mypy.memo import Memo
from celery_boundary.mypy.metadata import FACTORY, METADATA

SIG: Final = "__celery_boundary_signature__"
SERIALIZER: Final = "__celery_boundary_serializer__"
PYDANTIC: Final = "__celery_boundary_pydantic__"
BIND: Final = "__celery_boundary_bind__"
NAME: Final = "__celery_boundary_name__"
APP: Final = "__celery_boundary_app__"
#: Methods whose override in a base class means it may inject or pop arguments
#: (tests/mypy/test_calls.yml, bases_that_inject_arguments_are_trusted).
DISPATCH_METHODS: Final = ("apply_async", "__call__", "delay")

LookupInfo = Callable[[str], TypeInfo | None]


@record
class TaskOptions:
    serializer: str | None = None
    pydantic: bool = False
    bind: bool = False
    base: TypeInfo | None = None
    #: The fullname of the app variable whose decorator made the task (None: ``shared_task``, or an
    #: app the plugin cannot name).
    app: str | None = None


def open_signature(ctx: FunctionSigContext | MethodSigContext) -> FunctionLike:
    """``(*args: Any, **options: Any) -> Any``: any option Celery accepts is accepted."""
    default = ctx.default_signature
    any_type = AnyType(TypeOfAny.special_form)
    fallback = default.fallback if isinstance(default, CallableType) else default.items[0].fallback
    return CallableType(
        [any_type, any_type],
        [ARG_STAR, ARG_STAR2],
        [None, None],
        any_type,
        fallback,
        name=default.get_name(),
    )


def restore_task(
    ctx: FunctionContext | MethodContext,
    lookup: LookupInfo,
    django_task: Callable[[str | None], bool] = lambda app: False,
) -> Type:
    """The type of ``app.task(...)`` / ``shared_task(...)`` (a task, or the options factory).

    ``django_task(app)``: whether the tasks of app variable ``app`` (None: ``shared_task``) are
    Celery's ``DjangoTask`` (Settings.django_task)."""
    app = app_of(ctx.context) if isinstance(ctx, MethodContext) else None
    base = _default_base(ctx, lookup, django_task(app))
    positional = ctx.args[0] if ctx.args else []
    keywords = dict(zip(ctx.arg_names[1], ctx.args[1])) if len(ctx.args) > 1 else {}
    keyword_types = dict(zip(ctx.arg_names[1], ctx.arg_types[1])) if len(ctx.arg_types) > 1 else {}
    options = read_options(keywords, keyword_types, base)
    if isinstance(ctx, MethodContext):
        options = replace(options, app=app)
    if options.base is None:
        return ctx.default_return_type
    if len(positional) == 1:  # @app.task, or app.task(fun, name=...)
        return make_task(ctx.api, ctx.arg_types[0][0], options, lookup, _decorated_name(ctx.context), ctx.context)
    if positional:
        return ctx.default_return_type
    placeholder = task_instance(ctx.api, options.base, None, options)
    any_type = AnyType(TypeOfAny.special_form)
    function = ctx.api.named_generic_type("builtins.function", [])
    return CallableType([any_type], [ARG_POS], ["fun"], placeholder, function, name=FACTORY)


def apply_task_options(ctx: FunctionContext, lookup: LookupInfo) -> Type:
    """The factory applied to the decorated function: the options ride on the placeholder."""
    placeholder = get_proper_type(ctx.default_return_type)
    if not isinstance(placeholder, Instance) or not ctx.arg_types or not ctx.arg_types[0]:
        return ctx.default_return_type
    options = replace(options_of(placeholder), base=placeholder.type)
    return make_task(ctx.api, ctx.arg_types[0][0], options, lookup, _decorated_name(ctx.context), ctx.context)


def _decorated_name(context: Context) -> str | None:
    """mypy checks a decorator application with the Decorator node as context (1.20 / 2.4)."""
    return context.func.name if isinstance(context, Decorator) else None


def make_task(
    api: CheckerPluginInterface,
    fun: Type,
    options: TaskOptions,
    lookup: LookupInfo,
    name: str | None = None,
    context: Context | None = None,
) -> Type:
    assert options.base is not None
    sig = get_proper_type(fun)
    if not isinstance(sig, CallableType):
        return task_instance(api, options.base, None, options)
    if sig.name is None and name is not None:
        sig = sig.copy_modified(name=name)  # a decorator under the task returned an anonymous callable
    if options.bind:
        if context is not None and not takes_self(sig):
            report_bind_without_self(api, sig.name or name or "task", context)
        sig = drop_self(sig)
    if options.pydantic:
        sig = accept_model_dicts(api, sig)
    return task_instance(api, options.base, sig, options)


def accept_model_dicts(api: CheckerPluginInterface, sig: CallableType) -> CallableType:
    """pydantic=True (Celery 5.5+): a model parameter is validated from the dict that arrives."""
    if not any(is_model(t) for t in sig.arg_types):
        return sig
    as_dict = api.named_generic_type(
        "builtins.dict", [api.named_generic_type("builtins.str", []), AnyType(TypeOfAny.special_form)]
    )
    types = [UnionType.make_union([t, as_dict]) if is_model(t) else t for t in sig.arg_types]
    return sig.copy_modified(arg_types=types)


def takes_self(sig: CallableType) -> bool:
    """A first positional parameter, or ``*args``, to receive the task instance."""
    return bool(sig.arg_kinds) and (sig.arg_kinds[0].is_positional() or sig.arg_kinds[0] == ARG_STAR)


def report_bind_without_self(api: CheckerPluginInterface, name: str, context: Context) -> None:
    """celery-types 0.26 reports this as arg-type; the restored task type must not hide it (saleor)."""
    api.fail(
        f'Task "{name}" has bind=True but no parameter for the task instance: the worker calls it with '
        f"the task as the first positional argument, so every run fails with TypeError. "
        f"Fix: add a first parameter (def {name}(self, ...)) or drop bind=True",
        context,
        code=ARG_TYPE_CODE,
    )


def drop_self(sig: CallableType) -> CallableType:
    """``bind=True``: the task instance is passed as the first argument, not by the caller."""
    if not sig.arg_kinds or not sig.arg_kinds[0].is_positional():
        return sig
    return sig.copy_modified(
        arg_types=sig.arg_types[1:], arg_kinds=sig.arg_kinds[1:], arg_names=sig.arg_names[1:]
    )


def task_instance(
    api: CheckerPluginInterface, base: TypeInfo, sig: CallableType | None, options: TaskOptions
) -> Instance:
    any_type = AnyType(TypeOfAny.special_form)
    type_vars = base.defn.type_vars
    args: list[Type] = [any_type] * len(type_vars)
    attrs: dict[str, Type] = {}
    str_type = api.named_generic_type("builtins.str", [])
    if sig is not None and len(type_vars) == 2 and isinstance(type_vars[0], ParamSpecType):
        # Task[P, R] carries the signature itself; only its name rides along (for messages).
        params = Parameters(sig.arg_types, sig.arg_kinds, sig.arg_names, variables=sig.variables)
        args = [params, sig.ret_type]
        if sig.name:
            attrs[NAME] = LiteralType(sig.name, str_type)
    elif sig is not None:
        attrs[SIG] = sig  # a base class that is not generic over P: keep the whole signature
    if options.serializer is not None:
        attrs[SERIALIZER] = LiteralType(options.serializer, str_type)
    if options.app is not None:
        attrs[APP] = LiteralType(options.app, str_type)
    if options.pydantic or options.bind:
        bool_type = api.named_generic_type("builtins.bool", [])
        if options.pydantic:
            attrs[PYDANTIC] = LiteralType(True, bool_type)
        if options.bind:
            attrs[BIND] = LiteralType(True, bool_type)
    extra = ExtraAttrs(attrs, set(attrs)) if attrs else None
    return Instance(base, args, extra_attrs=extra)


def read_options(
    keywords: dict[str | None, Expression], types: dict[str | None, Type], base: TypeInfo | None
) -> TaskOptions:
    serializer = keywords.get("serializer")
    base_type = get_proper_type(types["base"]) if "base" in types else None
    if isinstance(base_type, TypeType) and isinstance(base_type.item, Instance):
        base = base_type.item.type
    elif isinstance(base_type, CallableType) and base_type.is_type_obj():
        base = base_type.type_object()
    elif base_type is not None:
        base = None  # a base we cannot see through: leave celery-types' answer alone
    return TaskOptions(
        serializer=serializer.value if isinstance(serializer, StrExpr) else None,
        pydantic=_is_true(keywords.get("pydantic")),
        bind=_is_true(keywords.get("bind")),
        base=base,
    )


def _is_true(expr: Expression | None) -> bool:
    return isinstance(expr, NameExpr) and expr.fullname == "builtins.True"


def _default_base(ctx: FunctionContext | MethodContext, lookup: LookupInfo, django_task: bool) -> TypeInfo | None:
    """``Celery(task_cls=X)`` is ``Celery[X]`` in celery-types; ``shared_task`` uses Task; a Django
    project's app (``django_task``) uses ``DjangoTask`` where celery-types has it."""
    default = (lookup(fn.DJANGO_TASK) if django_task else None) or lookup(fn.CELERY_TASK)
    if isinstance(ctx, MethodContext):
        app = get_proper_type(ctx.type)
        if isinstance(app, Instance) and app.args:
            task_cls = get_proper_type(app.args[0])
            if isinstance(task_cls, Instance) and task_cls.type.has_base(fn.CELERY_TASK):
                return default if task_cls.type.fullname == fn.CELERY_TASK else task_cls.type
    return default


# --- reading a task back at a call site ------------------------------------------------------


def options_of(task: Instance) -> TaskOptions:
    attrs = task.extra_attrs.attrs if task.extra_attrs else {}
    return TaskOptions(
        serializer=_string_attr(attrs, SERIALIZER),
        pydantic=PYDANTIC in attrs,
        bind=BIND in attrs,
        base=task.type,
        app=_string_attr(attrs, APP),
    )


def _string_attr(attrs: dict[str, Type], key: str) -> str | None:
    value = get_proper_type(attrs[key]) if key in attrs else None
    return value.value if isinstance(value, LiteralType) and isinstance(value.value, str) else None


@record
class TaskView:
    """What every call of one task needs, worked out once per task type (memo.py)."""

    sig: CallableType
    #: The task's name for messages.
    name: str
    options: TaskOptions
    #: ``serializer = ...`` on a user base class.
    class_serializer: str | None
    #: A user base class overrides apply_async / __call__ / delay (it may inject or pop kwargs).
    dispatches: bool


_VIEWS: Final = Memo[TaskView | None]()
_SIGNATURES: Final = Memo[CallableType | None]()


def view_task(receiver: Type, lookup: LookupInfo) -> TaskView | None:
    """The task behind ``receiver``, or None (unknown task: stay silent)."""
    return _VIEWS.get(receiver, lambda: _view(receiver, lookup))


def _view(receiver: Type, lookup: LookupInfo) -> TaskView | None:
    sig = task_signature(receiver, lookup)
    task = get_proper_type(receiver)
    if sig is None or not isinstance(task, Instance):
        return None
    name = task_name(receiver, sig)
    return TaskView(sig, name, options_of(task), class_serializer(receiver), overrides_dispatch(receiver))


def task_signature(receiver: Type, lookup: LookupInfo) -> CallableType | None:
    """What a call of this task must match, or None (unknown task: stay silent)."""
    return _SIGNATURES.get(receiver, lambda: _task_signature(receiver, lookup))


def _task_signature(receiver: Type, lookup: LookupInfo) -> CallableType | None:
    task = get_proper_type(receiver)
    if not isinstance(task, Instance) or not task.type.has_base(fn.CELERY_TASK):
        return None
    if task.extra_attrs and SIG in task.extra_attrs.attrs:
        sig = get_proper_type(task.extra_attrs.attrs[SIG])
        return sig if isinstance(sig, CallableType) else None
    run = _class_run(task)
    if run is not None:
        return run
    task_info = lookup(fn.CELERY_TASK)
    if task_info is None:
        return None
    as_task = map_instance_to_supertype(task, task_info)
    if len(as_task.args) != 2:
        return None
    params = get_proper_type(as_task.args[0])
    if not isinstance(params, Parameters) or params.is_ellipsis_args:
        return None
    function = _function_fallback(task_info)
    if function is None:
        return None
    name = get_proper_type(task.extra_attrs.attrs.get(NAME)) if task.extra_attrs else None
    return CallableType(
        params.arg_types,
        params.arg_kinds,
        params.arg_names,
        as_task.args[1],
        function,
        variables=params.variables,
        name=name.value if isinstance(name, LiteralType) and isinstance(name.value, str) else None,
    )


def _class_run(task: Instance) -> CallableType | None:
    """``class SendEmail(Task): def run(self, to: str) -> None`` (a class-based task)."""
    for info in task.type.mro:
        if info.fullname.startswith("celery."):
            return None
        node = info.names.get("run")
        if node is not None and node.type is not None:
            method = get_proper_type(node.type)
            if isinstance(method, CallableType):
                return bind_self(method, task).copy_modified(name=task.type.name)
    return None


def _function_fallback(task_info: TypeInfo) -> Instance | None:
    run = task_info.names.get("run")
    method = get_proper_type(run.type) if run is not None and run.type is not None else None
    return method.fallback if isinstance(method, CallableType) else None


def overrides_dispatch(receiver: Type) -> bool:
    """A user base class overriding apply_async/__call__/delay may inject or pop kwargs."""
    task = get_proper_type(receiver)
    if not isinstance(task, Instance):
        return False
    for info in task.type.mro:
        if info.fullname.startswith("celery."):
            return False
        if any(name in info.names for name in DISPATCH_METHODS):
            return True
    return False


def class_serializer(receiver: Type) -> str | None:
    """``serializer = "pickle"`` on a base class, recorded in its metadata by ``record_task_class``."""
    task = get_proper_type(receiver)
    if not isinstance(task, Instance):
        return None
    for info in task.type.mro:
        value = info.metadata.get(METADATA, {}).get("serializer")
        if isinstance(value, str):
            return value
    return None


def task_name(receiver: Type, sig: CallableType | None) -> str:
    if sig is not None and sig.name:
        return sig.name.split(" of ")[0]
    task = get_proper_type(receiver)
    return task.type.name if isinstance(task, Instance) else "task"
