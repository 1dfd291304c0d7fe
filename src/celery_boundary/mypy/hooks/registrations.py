"""Registrations made in the module being checked, read from mypy's own tree of it.

The app module (config ``app``) is read from source at start-up (``appscan``); this adds the
``register_type`` / ``register_preserializer`` calls (and class decorators) at the top level of the
module that holds the call site. That module is being checked, so its tree is fresh: the result is
the same in cold and warm runs. Names are mypy's resolved fullnames, so aliases are followed.

Hook phase: read once per tree of the module the checking hooks are in.
"""

from __future__ import annotations

from mypy.nodes import CallExpr, ClassDef, Expression, ExpressionStmt, MypyFile, NameExpr, RefExpr, Statement

from typing import Final

from mypy.types import Instance, TupleType, Type, TypedDictType, UnionType, get_proper_type

from celery_boundary.core.registry import Registration
from celery_boundary.mypy.metadata import METADATA, PRESERIALIZER
from celery_boundary.analysis.registrations import PRESERIALIZER as PRESERIALIZER_NAMES
from celery_boundary.analysis.registrations import REGISTER_MODELS, REGISTER_TYPE
from celery_boundary.core import fullnames as fn

MAX_DEPTH: Final = 24


def module_registrations(tree: MypyFile) -> tuple[Registration, ...]:
    found: list[Registration] = []
    for stmt in tree.defs:
        found.extend(_from_statement(stmt, tree.path))
    return tuple(found)


def _from_statement(stmt: Statement, path: str) -> list[Registration]:
    """``path``: the module's file, as messages name the registration (``register_type at a.py:3``)."""
    if isinstance(stmt, ExpressionStmt) and isinstance(stmt.expr, CallExpr):
        return _from_call(stmt.expr, path)
    if isinstance(stmt, ClassDef):
        found = []
        for decorator in stmt.decorators:
            target = decorator.callee if isinstance(decorator, CallExpr) else decorator
            if _fullname(target) in PRESERIALIZER_NAMES:
                keeps = isinstance(decorator, CallExpr) and _flag(decorator, "include_subclasses")
                origin = f"register_preserializer at {path}:{decorator.line}"
                found.append(Registration(stmt.fullname, "preserializer", keeps, None, origin))
        return found
    return []


def _from_call(call: CallExpr, path: str) -> list[Registration]:
    callee = _fullname(call.callee)
    if callee in REGISTER_MODELS:
        return _models(call, path)
    if not call.args or callee is None:
        return []
    target = _fullname(call.args[0])
    if target is None:
        return []
    if callee == REGISTER_TYPE:
        marker = _marker(call)
        return [Registration(target, marker, False, None, f"register_type at {path}:{call.line}")]
    if callee in PRESERIALIZER_NAMES:
        keeps = _flag(call, "include_subclasses")
        return [Registration(target, "preserializer", keeps, None, f"register_preserializer at {path}:{call.line}")]
    return []


def _models(call: CallExpr, path: str) -> list[Registration]:
    """``register_models()``: every Django model; ``register_models(A, B)``: those. Subclasses arrive
    as themselves (the reference names the instance's own model)."""
    listed = [_fullname(arg) for arg in call.args]
    if any(name is None for name in listed):
        return []  # ``register_models(*models)``: which models is not known here
    origin = f"register_models at {path}:{call.line}"
    return [Registration(name, "preserializer", True, None, origin) for name in listed or [fn.DJANGO_MODEL] if name]


def _fullname(expr: Expression) -> str | None:
    return expr.fullname or None if isinstance(expr, RefExpr) else None


def _flag(call: CallExpr, name: str) -> bool:
    for arg_name, arg in zip(call.arg_names, call.args):
        if arg_name == name:
            return isinstance(arg, NameExpr) and arg.fullname == "builtins.True"
    return False


def _marker(call: CallExpr) -> str | None:
    """kombu: ``register_type(T, marker, encoder, decoder)``; a None marker is one-way (5.3.7+)."""
    marker: Expression | None = call.args[1] if len(call.args) > 1 and call.arg_names[1] is None else None
    for arg_name, arg in zip(call.arg_names, call.args):
        if arg_name == "marker":
            marker = arg
    if isinstance(marker, NameExpr) and marker.fullname == "builtins.None":
        return None
    return "registered"


def registered_classes(typ: Type, depth: int = 0, found: list[Registration] | None = None) -> list[Registration]:
    """Classes inside ``typ`` whose metadata says ``@register_preserializer`` (see bases.py)."""
    found = [] if found is None else found
    if depth > MAX_DEPTH:
        return found
    proper = get_proper_type(typ)
    items: list[Type] = []
    if isinstance(proper, Instance):
        for info in proper.type.mro:
            meta = info.metadata.get(METADATA, {}).get(PRESERIALIZER)
            if isinstance(meta, dict):
                keeps = bool(meta.get("include_subclasses"))
                origin = f"@register_preserializer on {info.fullname}"
                found.append(Registration(info.fullname, "preserializer", keeps, None, origin))
                break
        items = list(proper.args)
    elif isinstance(proper, (UnionType, TupleType)):
        items = list(proper.items)
    elif isinstance(proper, TypedDictType):
        items = list(proper.items.values())
    for item in items:
        registered_classes(item, depth + 1, found)
    return found


class LocalRegistrations:
    """``module_registrations`` of the module being checked, computed once per tree."""

    def __init__(self) -> None:
        # Keyed by the identity of the tree and of its statement list: the daemon merges an edited
        # module into the old MypyFile object (mypy.server.astmerge) but gives it the new defs list.
        self._seen: dict[str, tuple[MypyFile, list[Statement], tuple[Registration, ...]]] = {}

    def of(self, api: object) -> tuple[Registration, ...]:
        tree = getattr(api, "tree", None)  # mypy.checker.TypeChecker.tree (1.20, 2.4)
        if not isinstance(tree, MypyFile):
            return ()
        cached = self._seen.get(tree.fullname)
        if cached is not None and cached[0] is tree and cached[1] is tree.defs:
            return cached[2]
        found = module_registrations(tree)
        self._seen[tree.fullname] = (tree, tree.defs, found)
        return found
