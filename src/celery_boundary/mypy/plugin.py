"""The mypy ``Plugin``: decides which function handles which hook, nothing more.

Method hooks arrive named after the class that defines the method; the class is looked up and
tested with ``has_base``, never compared by spelling.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import Any, Final

from mypy.nodes import MypyFile, TypeInfo
from mypy.options import Options
from mypy.plugin import (
    ClassDefContext,
    FunctionContext,
    FunctionSigContext,
    MethodContext,
    MethodSigContext,
    Plugin,
    ReportConfigContext,
)
from mypy.types import FunctionLike, Type

from celery_boundary.core import config
from celery_boundary.core import fullnames as fn
from celery_boundary.mypy.appscan import PRESERIALIZER_NAMES
from celery_boundary.mypy.canvas_nodes import SIGNATURE
from celery_boundary.mypy.bases import record_preserializer, record_task_class
from celery_boundary.mypy import canvas
from celery_boundary.mypy.bound_calls import check_replace, finish_task, is_task_replace
from celery_boundary.mypy.by_name import check_retry, check_send_task, check_signature_by_name
from celery_boundary.mypy.group_results import GROUP_RESULT_METHODS, type_group_get
from celery_boundary.mypy.calls import DIRECT, PACKED, check_task_call, rewrite_call_signature
from celery_boundary.mypy.definitions import define_task
from celery_boundary.mypy.guard import Guard
from celery_boundary.mypy.memo import forget_all
from celery_boundary.mypy.registrations import LocalRegistrations
from celery_boundary.mypy.settings import Settings, load_settings
from celery_boundary.mypy.version import watch
from celery_boundary.mypy.tasks import FACTORY, open_signature

#: ``celery.shared_task`` is re-exported from ``celery.app`` (celery-types 0.26).
SHARED_TASK: Final = frozenset({fn.CELERY_SHARED_TASK, "celery.shared_task"})
APP_TASK: Final = f"{fn.CELERY_APP}.task"
#: celery-types 0.26 canvas classes (celery.chain etc. resolve to these) and the methods routed on signatures.
CANVAS_CLASSES: Final = frozenset({"celery.canvas.chain", "celery.canvas.group", "celery.canvas.chord"})
SIGNATURE_METHODS: Final = frozenset(
    {"__or__", "__ror__", "__call__", "delay", "apply_async", "on_error", "link_error", "link"}
)
#: ``celery.signature`` / ``celery.subtask`` resolve to this function (celery-types 0.26).
SIGNATURE_FUNCTION: Final = "celery.canvas.signature"
#: Path fragments of modules that are not the user's code.
INSTALLED: Final = ("site-packages", "dist-packages", "typeshed")


class CeleryBoundaryPlugin(Plugin):
    def __init__(self, options: Options) -> None:
        super().__init__(options)
        try:
            self.settings: Settings = load_settings(options)
        except config.ConfigError as exc:
            # One line, like mypy's own config errors; no traceback.
            print(f"celery-boundary: error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        watch(options.config_file, self.settings.watched)
        self.guard = Guard()
        self.local = LocalRegistrations()
        self.decorators = SHARED_TASK | frozenset(self.settings.config.task_decorators)
        # Asked for every module of every run (a warm run too); an instance's settings never change.
        self._config_data = self.settings.config_data()
        self._method_hooks: dict[str, Callable[[MethodContext], Type] | None] = {}
        self._method_sig_hooks: dict[str, Callable[[MethodSigContext], FunctionLike] | None] = {}

    # --- lookups -----------------------------------------------------------------------------
    def lookup_info(self, fullname: str) -> TypeInfo | None:
        node = self.lookup_fully_qualified(fullname)
        return node.node if node is not None and isinstance(node.node, TypeInfo) else None

    def _is_app_task(self, fullname: str) -> bool:
        """``app.task`` on Celery or a subclass of it that does not override ``task``."""
        if fullname == APP_TASK:
            return True
        owner, _, method = fullname.rpartition(".")
        if method != "task":
            return False
        info = self.lookup_info(owner)
        defining = info.get_containing_type_info("task") if info is not None else None
        return defining is not None and defining.fullname == fn.CELERY_APP

    def _celery_task_method(self, fullname: str) -> str | None:
        """``proj.tasks.MyTask.delay`` -> ``delay`` when Celery's own class defines ``delay``.

        mypy 1.20 / 2.4 name method hooks after the *receiver's* class (``method_fullname``), so
        the class that defines the method is found in its MRO: a base class overriding
        ``apply_async`` (injecting or popping kwargs) gets no hook and no false positive.
        """
        owner, _, method = fullname.rpartition(".")
        if method not in DIRECT and method not in PACKED:
            return None
        info = self.lookup_info(owner)
        if info is None or not info.has_base(fn.CELERY_TASK):
            return None
        defining = info.get_containing_type_info(method)
        if defining is None or not defining.module_name.startswith("celery."):
            return None
        return method

    # --- routes ------------------------------------------------------------------------------
    def get_function_signature_hook(self, fullname: str) -> Callable[[FunctionSigContext], FunctionLike] | None:
        return open_signature if fullname in self.decorators else None

    def get_additional_deps(self, file: MypyFile) -> list[tuple[int, str, int]]:
        """Called for every file mypy parses: what was learnt from the old trees is forgotten (memo.py)."""
        forget_all()
        self._method_hooks.clear()
        self._method_sig_hooks.clear()
        return []

    def get_method_signature_hook(self, fullname: str) -> Callable[[MethodSigContext], FunctionLike] | None:
        # mypy asks for every method call: the answer per class and method is kept (memo.py).
        try:
            return self._method_sig_hooks[fullname]
        except KeyError:
            hook = self._method_sig_hooks[fullname] = self._method_signature_hook(fullname)
            return hook

    def _method_signature_hook(self, fullname: str) -> Callable[[MethodSigContext], FunctionLike] | None:
        if self._is_app_task(fullname):
            return open_signature
        method = self._celery_task_method(fullname)
        if method is None:
            return None
        return partial(self._rewrite_call, method)

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        if fullname in self.decorators:
            return partial(self._define, False)
        if fullname == FACTORY:
            return partial(self._define, True)
        if fullname in CANVAS_CLASSES:
            return partial(self._build_canvas, fullname.rpartition(".")[2])
        if fullname == SIGNATURE_FUNCTION:
            return self._signature_by_name
        return None

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        try:
            return self._method_hooks[fullname]
        except KeyError:
            hook = self._method_hooks[fullname] = self._method_hook(fullname)
            return hook

    def _method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        if self._is_app_task(fullname):
            return partial(self._define, False)
        method = self._celery_task_method(fullname)
        if method is not None:
            return partial(self._check_call, method)
        method = self._signature_method(fullname)
        if method is not None:
            return partial(self._check_canvas, method)
        if fullname in GROUP_RESULT_METHODS:
            return self._group_result_get
        if is_task_replace(fullname, self.lookup_info):
            return self._check_replace
        return self._send_task if self._is_app_method(fullname, "send_task") else None

    def _is_app_method(self, fullname: str, name: str) -> bool:
        owner, _, method = fullname.rpartition(".")
        if method != name:
            return False
        info = self.lookup_info(owner)
        defining = info.get_containing_type_info(name) if info is not None else None
        return defining is not None and defining.fullname == fn.CELERY_APP

    def _signature_method(self, fullname: str) -> str | None:
        """``celery.canvas.chain.__or__`` -> ``__or__`` for Celery's own canvas methods."""
        owner, _, method = fullname.rpartition(".")
        if method not in SIGNATURE_METHODS:
            return None
        info = self.lookup_info(owner)
        if info is None or not info.has_base(SIGNATURE):
            return None
        defining = info.get_containing_type_info(method)
        if method == "__ror__":
            # Signature[int] | Signature[str] reaches dict.__ror__ (celery-types 0.26, mypy 2.4.1).
            return method
        if defining is None or not defining.module_name.startswith("celery."):
            return None
        if method == "__call__" and not (info.has_base("celery.canvas.chord") or info.has_base("celery.canvas.group")):
            return None  # calling a signature runs the task in-process: nothing crosses (a group's is apply_async)
        return method

    def get_class_decorator_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        return self._record_preserializer if fullname in PRESERIALIZER_NAMES else None

    def get_base_class_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        info = self.lookup_info(fullname)
        if info is not None and info.has_base(fn.CELERY_TASK):
            return self._record_class
        return None

    def report_config_data(self, ctx: ReportConfigContext) -> dict[str, Any] | None:
        # Installed packages and typeshed hold no task calls: keep their cache when only the
        # configuration or the app module changes (the data invalidates every module it covers).
        if any(part in ctx.path for part in INSTALLED):
            return None
        return self._config_data

    def _settings_for(self, ctx: FunctionContext | MethodContext) -> Settings:
        return self.settings.with_module(self.local.of(ctx.api))

    # --- guarded handlers --------------------------------------------------------------------
    def _define(self, factory: bool, ctx: FunctionContext | MethodContext) -> Type:
        task = self.guard.run(
            lambda: define_task(ctx, self._settings_for(ctx), self.lookup_info, factory),
            lambda: ctx.default_return_type,
            ctx.api,
            ctx.context,
        )
        # Guarded on its own: a failure there keeps the restored task type.
        return self.guard.run(
            lambda: finish_task(ctx, self._settings_for(ctx), self.lookup_info, task),
            lambda: task,
            ctx.api,
            ctx.context,
        )

    def _record_preserializer(self, ctx: ClassDefContext) -> None:
        self.guard.run(lambda: record_preserializer(ctx), lambda: None, ctx.api, ctx.reason)

    def _record_class(self, ctx: ClassDefContext) -> None:
        self.guard.run(lambda: record_task_class(ctx), lambda: None, ctx.api, ctx.reason)

    def _rewrite_call(self, method: str, ctx: MethodSigContext) -> FunctionLike:
        return self.guard.run(
            lambda: rewrite_call_signature(ctx, method, self.lookup_info),
            lambda: ctx.default_signature,
            ctx.api,
            ctx.context,
        )

    def _build_canvas(self, kind: str, ctx: FunctionContext) -> Type:
        def work() -> Type:
            settings = self._settings_for(ctx)
            if kind == "chain":
                return canvas.build_chain(ctx, settings, self.lookup_info)
            if kind == "group":
                return canvas.build_group(ctx)
            return canvas.build_chord(ctx, settings, self.lookup_info)

        return self.guard.run(work, lambda: ctx.default_return_type, ctx.api, ctx.context)

    def _check_canvas(self, method: str, ctx: MethodContext) -> Type:
        def work() -> Type:
            settings = self._settings_for(ctx)
            if method in ("__or__", "__ror__"):
                return canvas.join_pipe(ctx, settings, self.lookup_info, reverse=method == "__ror__")
            if method == "__call__":
                return canvas.call_chord(ctx, settings, self.lookup_info)
            if method in ("on_error", "link_error"):
                return canvas.check_on_error(ctx, returns_self=method == "on_error")
            if method == "link":
                return canvas.check_link_method(ctx, settings, self.lookup_info)
            return canvas.send_signature(ctx, settings, self.lookup_info)

        return self.guard.run(work, lambda: ctx.default_return_type, ctx.api, ctx.context)

    def _check_replace(self, ctx: MethodContext) -> Type:
        return self.guard.run(
            lambda: check_replace(ctx, self._settings_for(ctx), self.lookup_info),
            lambda: ctx.default_return_type,
            ctx.api,
            ctx.context,
        )

    def _group_result_get(self, ctx: MethodContext) -> Type:
        return self.guard.run(lambda: type_group_get(ctx), lambda: ctx.default_return_type, ctx.api, ctx.context)

    def _signature_by_name(self, ctx: FunctionContext) -> Type:
        return self.guard.run(
            lambda: check_signature_by_name(
                ctx, self._settings_for(ctx), self.lookup_info, self.lookup_fully_qualified
            ),
            lambda: ctx.default_return_type,
            ctx.api,
            ctx.context,
        )

    def _send_task(self, ctx: MethodContext) -> Type:
        return self.guard.run(
            lambda: check_send_task(ctx, self._settings_for(ctx), self.lookup_info, self.lookup_fully_qualified),
            lambda: ctx.default_return_type,
            ctx.api,
            ctx.context,
        )

    def _check_call(self, method: str, ctx: MethodContext) -> Type:
        if method == "retry":
            return self.guard.run(
                lambda: check_retry(ctx, self._settings_for(ctx), self.lookup_info),
                lambda: ctx.default_return_type,
                ctx.api,
                ctx.context,
            )
        return self.guard.run(
            lambda: check_task_call(ctx, method, self._settings_for(ctx), self.lookup_info),
            lambda: ctx.default_return_type,
            ctx.api,
            ctx.context,
        )
