"""The mypy ``Plugin``: decides which function handles which hook, nothing more.

Method hooks arrive named after the class that defines the method; the class is looked up and
tested with ``has_base``, never compared by spelling.

The modules that do the work are imported when a hook is first routed to them, not when mypy
loads the plugin: a warm run re-checks a few modules and pays only for what they use (the
canvas, by-name and bound-task modules are a fifth of the plugin's import, itself most of a
warm run's overhead). Routing answers are kept per name, so the import runs once per run.

Both phases meet here: ``__init__`` runs the start-up (``startup/``), the ``get_*_hook`` methods
route mypy's hooks to ``hooks/``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import Any, Final, TypeAlias

from mypy.nodes import Import, ImportAll, ImportFrom, MypyFile, TypeInfo
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
from celery_boundary.core.registry import Registration
from celery_boundary.mypy.guard import Guard
from celery_boundary.mypy.memo import Routes, forget_all
from celery_boundary.mypy.metadata import DIRECT, FACTORY, GROUP_RESULT_METHODS, Lookup, PACKED, SIGNATURE
from celery_boundary.analysis.registrations import PRESERIALIZER as PRESERIALIZER_NAMES
from celery_boundary.mypy.startup.settings import Settings, load_settings
from celery_boundary.mypy.startup.version import watch

#: ``celery.shared_task`` is re-exported from ``celery.app`` (celery-types 0.26).
SHARED_TASK: Final = frozenset({fn.CELERY_SHARED_TASK, "celery.shared_task"})
APP_TASK: Final = f"{fn.CELERY_APP}.task"
#: Task methods whose calls are checked against the task, and ``self.replace`` (bound_calls.py).
TASK_METHODS: Final = DIRECT | PACKED
REPLACE: Final = frozenset({"replace"})
#: celery-types 0.26 canvas classes (celery.chain etc. resolve to these) and the methods routed on signatures.
CANVAS_CLASSES: Final = frozenset({"celery.canvas.chain", "celery.canvas.group", "celery.canvas.chord"})
ROUTED_SIGNATURE_METHODS: Final = frozenset(
    {"__or__", "__ror__", "__call__", "delay", "apply_async", "on_error", "link_error", "link"}
)
#: ``celery.signature`` / ``celery.subtask`` resolve to this function (celery-types 0.26).
SIGNATURE_FUNCTION: Final = "celery.canvas.signature"

Context: TypeAlias = FunctionContext | MethodContext
#: What every checking hook is given: the call, the settings for its module, a class lookup.
Handler: TypeAlias = Callable[[Any, Settings, Lookup], Type]


def _plain(work: Callable[[Any], Type]) -> Handler:
    """A handler that needs neither settings nor lookups."""
    return lambda ctx, settings, lookup: work(ctx)


def _for_method(check: Callable[[MethodContext, str, Settings, Lookup], Type], method: str) -> Handler:
    """A handler that is also given the name of the Task method called."""
    return lambda ctx, settings, lookup: check(ctx, method, settings, lookup)


class CeleryBoundaryPlugin(Plugin):
    def __init__(self, options: Options) -> None:
        super().__init__(options)
        try:
            self.settings: Settings = load_settings(options)
        except config.ConfigError as exc:
            # One line, like mypy's own config errors; no traceback.
            print(f"celery-boundary: error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        watch(options.config_file, self.settings.watched, self.settings.app.fingerprint)
        self.guard = Guard()
        # Registrations of the module being checked: hooks/registrations.py, loaded with the first check.
        self._registrations: Callable[[object], tuple[Registration, ...]] = self._first_registrations
        self.decorators = SHARED_TASK | frozenset(self.settings.config.task_decorators)
        # Asked for every module of every run (a warm run too); an instance's settings never change.
        self._config_data = self.settings.config_data()
        # mypy asks for a hook at every call: the answer per fullname is kept (memo.py).
        self._method_hooks = Routes(self._method_hook)
        self._method_sig_hooks = Routes(self._method_signature_hook)
        self._function_hooks = Routes(self._function_hook)
        # The settings of the module being checked, kept while its registrations are the same object.
        self._last_local: tuple[Registration, ...] | None = None
        self._last_settings = self.settings
        # Registered classes read from source are named by their import path, which may be a re-export
        # (``from pydantic import BaseModel``): each is looked up once mypy has loaded its module.
        self._unresolved = {entry.fullname for entry in self.settings.registry.entries}
        self._django_task = any(self.settings.django_task(app.fullname) for app in self.settings.app.apps)

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
        return self._celery_defines(fullname, TASK_METHODS)

    def _celery_defines(self, fullname: str, methods: frozenset[str]) -> str | None:
        """The method of ``fullname`` if it is one of ``methods`` and Celery's own Task class defines it."""
        owner, _, method = fullname.rpartition(".")
        if method not in methods:
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
        if fullname in self.decorators:
            from celery_boundary.mypy.hooks.tasks import open_signature  # rare: a decorator applied

            return open_signature
        return None

    def get_additional_deps(self, file: MypyFile) -> list[tuple[int, str, int]]:
        """Called for every file mypy parses: what was learnt from the old trees is forgotten (memo.py)."""
        forget_all()
        self._method_hooks.forget()
        self._method_sig_hooks.forget()
        self._function_hooks.forget()
        self._last_local = None
        if self._django_task and _imports_celery(file):
            # DjangoTask's stub, so that a Django project's tasks can be typed as it (Settings.django_task).
            return [(10, fn.DJANGO_TASK_MODULE, -1)]
        return []

    def get_method_signature_hook(self, fullname: str) -> Callable[[MethodSigContext], FunctionLike] | None:
        return self._method_sig_hooks(fullname)

    def _method_signature_hook(self, fullname: str) -> Callable[[MethodSigContext], FunctionLike] | None:
        if self._is_app_task(fullname):
            from celery_boundary.mypy.hooks.tasks import open_signature

            return open_signature
        method = self._celery_task_method(fullname)
        if method is None:
            return None
        if self.settings.contracts.contracts:
            from celery_boundary.mypy.hooks.contract_tasks import rewrite_pseudo_signature

            return partial(self._rewrite_call, partial(rewrite_pseudo_signature, self.settings.contracts), method)
        from celery_boundary.mypy.hooks.calls import rewrite_call_signature

        return partial(self._rewrite_call, rewrite_call_signature, method)

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        return self._function_hooks(fullname)

    def _function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        if fullname in self.decorators:
            return self._definition_hook(False)
        if fullname == FACTORY:
            return self._definition_hook(True)
        if fullname in CANVAS_CLASSES:
            return partial(self._run, self._canvas_builder(fullname.rpartition(".")[2]))
        if fullname == SIGNATURE_FUNCTION:
            from celery_boundary.mypy.hooks.by_name import check_signature_by_name

            return partial(self._run, partial(check_signature_by_name, symbol=self.lookup_fully_qualified))
        return None

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        return self._method_hooks(fullname)

    def _method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        if self._is_app_task(fullname):
            return self._definition_hook(False)
        method = self._celery_task_method(fullname)
        if method == "retry":
            from celery_boundary.mypy.hooks.by_name import check_retry

            return partial(self._run, check_retry)
        if method is not None and self.settings.contracts.contracts:
            from celery_boundary.mypy.hooks.contract_tasks import check_pseudo_call  # a pseudo-task may be one

            return partial(self._run, _for_method(check_pseudo_call, method))
        if method is not None:
            from celery_boundary.mypy.hooks.calls import check_task_call

            return partial(self._run, _for_method(check_task_call, method))
        method = self._signature_method(fullname)
        if method is not None:
            return partial(self._run, self._canvas_method(method))
        if fullname in GROUP_RESULT_METHODS:
            from celery_boundary.mypy.hooks.group_results import type_group_get

            return partial(self._run, _plain(type_group_get))
        if self._celery_defines(fullname, REPLACE) is not None:
            from celery_boundary.mypy.hooks.bound_calls import check_replace

            return partial(self._run, check_replace)
        if self._is_app_method(fullname, "send_task"):
            from celery_boundary.mypy.hooks.by_name import check_send_task

            return partial(self._run, partial(check_send_task, symbol=self.lookup_fully_qualified))
        if self._is_app_method(fullname, "signature"):
            from celery_boundary.mypy.hooks.by_name import check_app_signature

            return partial(self._run, partial(check_app_signature, symbol=self.lookup_fully_qualified))
        return None

    def _definition_hook(self, factory: bool) -> Callable[[Context], Type]:
        from celery_boundary.mypy.hooks.bound_calls import finish_task
        from celery_boundary.mypy.hooks.definitions import define_task

        return partial(self._define, partial(define_task, factory=factory), finish_task)

    @staticmethod
    def _canvas_builder(kind: str) -> Handler:
        from celery_boundary.mypy.hooks import canvas

        if kind == "chain":
            return canvas.build_chain
        if kind == "group":
            return _plain(canvas.build_group)
        return canvas.build_chord

    @staticmethod
    def _canvas_method(method: str) -> Handler:
        from celery_boundary.mypy.hooks import canvas

        if method in ("__or__", "__ror__"):
            return partial(canvas.join_pipe, reverse=method == "__ror__")
        if method == "__call__":
            return canvas.call_chord
        if method in ("on_error", "link_error"):
            return _plain(partial(canvas.check_on_error, returns_self=method == "on_error"))
        if method == "link":
            return canvas.check_link_method
        return canvas.send_signature

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
        if method not in ROUTED_SIGNATURE_METHODS:
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
        path = ctx.path  # asked for every module, typeshed's and installed ones too: no generator
        if "site-packages" in path or "typeshed" in path or "dist-packages" in path:
            return None
        return self._config_data

    def _settings_for(self, ctx: Context) -> Settings:
        """The settings plus the registrations of the module being checked (one object per tree)."""
        if self._unresolved:
            self._resolve_registered_names()
        local = self._registrations(ctx.api)
        if local is not self._last_local:
            self._last_local = local
            self._last_settings = self.settings.with_module(local)
        return self._last_settings

    def _resolve_registered_names(self) -> None:
        renamed: dict[str, str] = {}
        for name in list(self._unresolved):
            node = self.lookup_fully_qualified(name)  # None while the module holding it is not loaded
            if node is None:
                continue
            self._unresolved.discard(name)
            if isinstance(node.node, TypeInfo) and node.node.fullname != name:
                renamed[name] = node.node.fullname
        if renamed:
            self.settings = self.settings.renamed(renamed)
            self._last_local = None

    def _first_registrations(self, api: object) -> tuple[Registration, ...]:
        from celery_boundary.mypy.hooks.registrations import LocalRegistrations

        self._registrations = LocalRegistrations().of
        return self._registrations(api)

    # --- guarded handlers: every hook runs through the guard (guard.py) ------------------------
    def _run(self, handler: Handler, ctx: Context) -> Type:
        return self.guard.call(ctx.default_return_type, ctx.api, ctx.context, self._handle, handler, ctx)

    def _handle(self, handler: Handler, ctx: Context) -> Type:
        """Inside the guard: the settings of a module are read from its tree, which may fail too."""
        return handler(ctx, self._settings_for(ctx), self.lookup_info)

    def _define(
        self,
        define: Handler,
        finish: Callable[[Context, Settings, Lookup, Type], Type],
        ctx: Context,
    ) -> Type:
        task = self._run(define, ctx)

        # Guarded on its own: a failure there keeps the restored task type.
        def finishing(ctx: Context, settings: Settings, lookup: Lookup) -> Type:
            return finish(ctx, settings, lookup, task)

        return self.guard.call(task, ctx.api, ctx.context, self._handle, finishing, ctx)

    def _record_preserializer(self, ctx: ClassDefContext) -> None:
        from celery_boundary.mypy.hooks.bases import record_preserializer

        self.guard.call(None, ctx.api, ctx.reason, record_preserializer, ctx)

    def _record_class(self, ctx: ClassDefContext) -> None:
        from celery_boundary.mypy.hooks.bases import record_task_class

        self.guard.call(None, ctx.api, ctx.reason, record_task_class, ctx)

    def _rewrite_call(
        self, rewrite: Callable[[MethodSigContext, str, Lookup], FunctionLike], method: str, ctx: MethodSigContext
    ) -> FunctionLike:
        return self.guard.call(ctx.default_signature, ctx.api, ctx.context, rewrite, ctx, method, self.lookup_info)


def _imports_celery(file: MypyFile) -> bool:
    for node in file.imports:
        if isinstance(node, Import):
            names = [name for name, _ in node.ids]
        elif isinstance(node, (ImportFrom, ImportAll)):
            names = [node.id]
        else:
            continue
        if any(name == "celery" or name.startswith("celery.") for name in names):
            return True
    return False
