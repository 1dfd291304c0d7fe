"""Tasks registered under an explicit ``name="..."``, found again from ``send_task("...")`` (celery-canvas).

Celery registers ``@app.task(name="billing.charge")`` under that name, not under its module path;
``app.send_task("billing.charge", ...)`` and ``signature("billing.charge", ...)`` refer to it.

Cache-safe by construction (mypy 1.20 / 2.4):

- the name rides on the task's own type (``extra_attrs``, serialized with the decorated function's
  ``Var`` into mypy's cache, like the task's options in tasks.py), written by the decorator hook;
- a module checked in this process reports its names from that hook (``remember``); a module loaded
  from the cache runs no hook, so its symbol table is read once when it appears (``is_cache_skeleton``);
- an index entry is only a hint: every use looks the symbol up again and checks that its type still
  carries the name (a daemon keeps the index across edits);
- only modules the call site's module imports count (``imported_by``). A warm run loads, before it
  checks an edited module, only what that module needs (mypy 2.4 ``process_graph``), while a cold
  run has checked every module ordered before it: a module the call site does not import would be
  seen cold and missed warm. Imported modules are checked (or loaded) first in both. A name two
  tasks share stays silent.

Hook phase: written by the decorator hook, read by the by-name hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from mypy.checker import TypeChecker
from mypy.nodes import Context, Decorator, Import, ImportAll, ImportFrom, MypyFile, StrExpr, SymbolTableNode, Var
from mypy.plugin import CheckerPluginInterface, FunctionContext, MethodContext
from mypy.types import CallableType, ExtraAttrs, Instance, LiteralType, Type, get_proper_type
from mypy.util import correct_relative_import

from celery_boundary.core import fullnames as fn
from celery_boundary.mypy.memo import Memo
from celery_boundary.mypy.metadata import FACTORY

#: The ``name=`` a task was registered under (on the task instance, or on the options placeholder).
TASK_NAME: Final = "__celery_boundary_task_name__"
#: Path fragments of modules that hold no user task (installed packages, typeshed).
INSTALLED: Final = ("site-packages", "dist-packages", "typeshed")

LookupSymbol = Callable[[str], SymbolTableNode | None]

#: name -> fullnames of the decorated functions registered under it (hints, validated on use).
_INDEX: Final[dict[str, set[str]]] = {}
#: module name -> the tree read last (a new tree, e.g. after a daemon update, is read again).
_READ: Final[dict[str, MypyFile]] = {}
#: Which build's module table (a new dict per build) held how many modules at the last read:
#: nothing new to read while both are unchanged.
_SEEN: list[int] = [0, 0]


# --- the definition side ---------------------------------------------------------------------


def record_task_name(ctx: FunctionContext | MethodContext, result: Type) -> Type:
    """Put ``name="..."`` of this decorator call (or of the options it applies) on the task type."""
    name = _name_keyword(ctx)
    if name is None:
        name = name_of(ctx.default_return_type)  # the options form: the name rides on the placeholder
    if name is None:
        return result
    named = _with_name(ctx.api, result, name)
    remember(name, ctx.context)
    return named


def _name_keyword(ctx: FunctionContext | MethodContext) -> str | None:
    """``name="billing.charge"``, or a ``Final`` constant holding a literal (its type says which)."""
    for names, exprs, types in zip(ctx.arg_names, ctx.args, ctx.arg_types):
        for name, expr, typ in zip(names, exprs, types):
            if name != "name":
                continue
            if isinstance(expr, StrExpr):
                return expr.value
            proper = get_proper_type(typ)
            if isinstance(proper, Instance) and proper.last_known_value is not None:
                proper = proper.last_known_value
            return proper.value if isinstance(proper, LiteralType) and isinstance(proper.value, str) else None
    return None


def name_of(typ: Type) -> str | None:
    proper = get_proper_type(typ)
    if not isinstance(proper, Instance) or not proper.extra_attrs:
        return None
    value = get_proper_type(proper.extra_attrs.attrs.get(TASK_NAME))
    return value.value if isinstance(value, LiteralType) and isinstance(value.value, str) else None


def _with_name(api: CheckerPluginInterface, typ: Type, name: str) -> Type:
    proper = get_proper_type(typ)
    if isinstance(proper, CallableType) and proper.name == FACTORY:
        return proper.copy_modified(ret_type=_with_name(api, proper.ret_type, name))
    if not isinstance(proper, Instance) or not proper.type.has_base(fn.CELERY_TASK):
        return typ
    attrs = dict(proper.extra_attrs.attrs) if proper.extra_attrs else {}
    attrs[TASK_NAME] = LiteralType(name, api.named_generic_type("builtins.str", []))
    named = proper.copy_modified()
    named.extra_attrs = ExtraAttrs(attrs, set(attrs))
    return named


def remember(name: str, context: Context) -> None:
    """A decorated module-level function: a hint for the index (the symbol is checked on use)."""
    if isinstance(context, Decorator) and context.fullname:
        _INDEX.setdefault(name, set()).add(context.fullname)


# --- the call side ---------------------------------------------------------------------------


def find_named_task(api: CheckerPluginInterface, name: str, symbol: LookupSymbol) -> Instance | None:
    """The one task registered as ``name`` in a module the call site imports, or None."""
    if not isinstance(api, TypeChecker) or (name not in _INDEX and _seen(api.modules)):
        return None
    _read_loaded_modules(api.modules)
    visible = imported_by(api.tree)
    found: list[Instance] = []
    for fullname in sorted(_INDEX.get(name, ())):
        if fullname.rpartition(".")[0] not in visible:
            continue
        task = _task_at(fullname, name, symbol)
        if task is not None:
            found.append(task)
    return found[0] if len(found) == 1 else None


def _task_at(fullname: str, name: str, symbol: LookupSymbol) -> Instance | None:
    try:
        node = symbol(fullname)
    except (KeyError, AssertionError):  # mypy asserts on names whose module is not in the build
        return None
    target = node.node if node is not None else None
    if not isinstance(target, Decorator) or target.var.type is None:
        return None  # gone, or not checked yet
    task = get_proper_type(target.var.type)
    if isinstance(task, Instance) and task.type.has_base(fn.CELERY_TASK) and name_of(task) == name:
        return task
    return None


def _seen(modules: dict[str, MypyFile]) -> bool:
    return _SEEN == [id(modules), len(modules)]


def _read_loaded_modules(modules: dict[str, MypyFile]) -> None:
    """Modules loaded from the cache ran no hook: read their names from their symbol tables once."""
    if _seen(modules):
        return  # mypy adds a module to this dict when it loads it from the cache (build.py, 1.20 / 2.4)
    _SEEN[:] = [id(modules), len(modules)]
    for module, tree in modules.items():
        if not tree.is_cache_skeleton or _READ.get(module) is tree:
            continue
        _READ[module] = tree
        if any(part in tree.path for part in INSTALLED):
            continue
        for node in tree.names.values():
            target = node.node
            if isinstance(target, Decorator) and target.var.type is not None:
                name = name_of(target.var.type)
                if name is not None:
                    _INDEX.setdefault(name, set()).add(target.fullname)


_IMPORTS: Final = Memo[frozenset[str]]()


def imported_by(tree: MypyFile) -> frozenset[str]:
    """The module itself and every module its import statements name (at any depth in the file)."""
    return _IMPORTS.get(tree, lambda: _imported_by(tree))


def _imported_by(tree: MypyFile) -> frozenset[str]:
    found = {tree.fullname}
    init = tree.is_package_init_file()
    for node in tree.imports:
        if isinstance(node, Import):
            found.update(module for module, _ in node.ids)
        elif isinstance(node, (ImportFrom, ImportAll)):
            module, _ = correct_relative_import(tree.fullname, node.relative, node.id, init)
            found.add(module)
            if isinstance(node, ImportFrom):
                found.update(f"{module}.{name}" for name, _ in node.names)  # from pkg import tasks
    return frozenset(found)


def visible_task_names(api: TypeChecker) -> frozenset[str]:
    """The registered names of the tasks defined in the call site's module and in the modules it
    imports, as far as mypy has typed them: the ``name=`` a task was registered under, else its module
    path. The same modules as ``find_named_task``'s: checked (or loaded from the cache) before the
    call site in a cold and in a warm run alike."""
    names: set[str] = set()
    for module in imported_by(api.tree):
        tree = api.modules.get(module)
        if tree is None or any(part in (tree.path or "") for part in INSTALLED):
            continue
        for name, node in tree.names.items():
            target = node.node
            if isinstance(target, Decorator):
                target = target.var
            if not isinstance(target, Var) or target.type is None or target.fullname != f"{module}.{name}":
                continue  # not typed yet, or imported from elsewhere (counted in its own module)
            typ = get_proper_type(target.type)
            if isinstance(typ, Instance) and typ.type.has_base(fn.CELERY_TASK):
                names.add(name_of(typ) or f"{module}.{name}")
    return frozenset(names)
