"""Tasks of other services, typed from their contracts (``contracts = [...]``: core/client_contracts.py).

``app.send_task("billing.charge", ...)``, ``signature("billing.charge", ...)`` and ``app.signature(...)``
with a name no task of the checked program has, but a configured contract does, are checked like a
call of a task with the contract's signature (arg-type / call-arg, celery-unserializable); a name under
a contract's prefix that the contract does not have is celery-unknown-task.

A parameter's type is, in this order:

1. its annotation as written in the service (``type``), when every name in it is a builtin, a typing
   form (``Optional``, ``Union``, ``X | Y``, ``list``, ``dict``, ``tuple``, ``set``, ``Sequence``,
   ``Mapping``, ``Iterable``, ``Collection``, ``Any``), a name the call site's module imports, a
   standard type kombu's json carries (``datetime``, ``date``, ``time``, ``Decimal``, ``UUID``) or a
   dotted name mypy has loaded;
2. else built from its wire schema: ``string`` str, ``integer`` int, ``number`` float, ``boolean``
   bool, ``null`` None, ``array`` list, ``object`` dict[str, ...], ``anyOf`` a union, and kombu's
   ``{"__type__": "datetime", ...}`` object its Python type;
3. else ``Any`` (the call is checked for arity only).

Pseudo-tasks: a Task subclass without ``run`` whose body sets ``name = "billing.charge"`` stands for
the contract's task: ``Charge().delay(...)`` is checked the same way (its name is kept in the class's
metadata by bases.py).

Hook phase: the by-name hooks (by_name.py) and the Task method hooks of a pseudo-task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from mypy.checker import TypeChecker
from mypy.nodes import (
    ARG_NAMED,
    ARG_NAMED_OPT,
    ARG_OPT,
    ARG_POS,
    ARG_STAR,
    ARG_STAR2,
    ArgKind,
    Context,
    MypyFile,
    TypeInfo,
)
from mypy.plugin import CheckerPluginInterface, MethodContext, MethodSigContext
from mypy.types import (
    AnyType,
    CallableType,
    FunctionLike,
    Instance,
    NoneType,
    Type,
    TypeOfAny,
    UnionType,
    get_proper_type,
)

from celery_boundary.analysis.task_names import closest
from celery_boundary.core import fullnames as fn
from celery_boundary.core.client_contracts import ContractParameter, Contracts, TypeTerm, type_term
from celery_boundary.mypy.errorcodes import UNKNOWN_TASK
from celery_boundary.mypy.hooks.calls import check_task_call, rewrite_call_signature
from celery_boundary.mypy.hooks.tasks import TaskOptions, task_instance
from celery_boundary.mypy.metadata import METADATA, Lookup
from celery_boundary.mypy.startup.settings import Settings

#: The contract's kinds as mypy's.
_KINDS: Final[dict[tuple[str, bool], ArgKind]] = {
    ("positional_only", True): ARG_POS, ("positional_only", False): ARG_OPT,
    ("positional_or_keyword", True): ARG_POS, ("positional_or_keyword", False): ARG_OPT,
    ("keyword_only", True): ARG_NAMED, ("keyword_only", False): ARG_NAMED_OPT,
    ("var_positional", False): ARG_STAR, ("var_keyword", False): ARG_STAR2,
    ("var_positional", True): ARG_STAR, ("var_keyword", True): ARG_STAR2,
}
_BUILTINS: Final = frozenset({"int", "str", "float", "bool", "bytes", "object", "complex"})
_ANY: Final = frozenset({"Any", "typing.Any", "typing_extensions.Any"})
_GENERIC: Final[dict[str, tuple[str, int]]] = {
    **{name: ("builtins.list", 1) for name in ("list", "List", "typing.List")},
    **{name: ("builtins.dict", 2) for name in ("dict", "Dict", "typing.Dict")},
    **{name: ("builtins.set", 1) for name in ("set", "Set", "typing.Set")},
    **{name: ("builtins.frozenset", 1) for name in ("frozenset", "FrozenSet", "typing.FrozenSet")},
    **{name: ("typing.Sequence", 1) for name in ("Sequence", "typing.Sequence", "collections.abc.Sequence")},
    **{name: ("typing.Mapping", 2) for name in ("Mapping", "typing.Mapping", "collections.abc.Mapping")},
    **{name: ("typing.Iterable", 1) for name in ("Iterable", "typing.Iterable", "collections.abc.Iterable")},
    **{name: ("typing.Collection", 1) for name in ("Collection", "typing.Collection", "collections.abc.Collection")},
    **{name: ("builtins.tuple", 1) for name in ("tuple", "Tuple", "typing.Tuple")},
}
#: Standard types kombu's json carries (the service's bare ``datetime`` is almost always the class).
_STANDARD: Final = {"datetime": "datetime.datetime", "date": "datetime.date", "time": "datetime.time",
                    "Decimal": "decimal.Decimal", "UUID": "uuid.UUID"}
#: kombu.utils.json's markers (kombu >= 5.3) and the Python types they arrive as.
_MARKERS: Final = {"datetime": "datetime.datetime", "date": "datetime.date", "time": "datetime.time",
                   "decimal": "decimal.Decimal", "uuid": "uuid.UUID", "bytes": "builtins.bytes",
                   "base64": "builtins.bytes"}
#: The metadata key of a pseudo-task's ``name = "..."`` (bases.py writes it).
PSEUDO_NAME: Final = "name"


def contract_task(api: CheckerPluginInterface, name: str, contracts: Contracts, lookup: Lookup) -> Instance | None:
    """The task type of contract task ``name`` (None: no contract has it, or its parameters are unknown)."""
    task = contracts.task(name)
    base = lookup(fn.CELERY_TASK)
    if task is None or task.parameters is None or base is None:
        return None
    build = _Builder(api, lookup)
    sig = CallableType(
        [build.parameter(p) for p in task.parameters],
        [_KINDS[p.kind, p.required] for p in task.parameters],
        [None if p.kind.startswith("var_") else p.name for p in task.parameters],
        build.typed(task.result_type, task.result_schema),
        api.named_generic_type("builtins.function", []),
        name=task.name,
    )
    return task_instance(api, base, sig, TaskOptions(base=base))


def pseudo_task(receiver: Type, api: CheckerPluginInterface, contracts: Contracts, lookup: Lookup) -> Instance | None:
    """``Charge()`` of ``class Charge(app.Task): name = "billing.charge"`` (no ``run``), typed from
    the contract that has that name; None otherwise."""
    task = get_proper_type(receiver)
    if not contracts.contracts or not isinstance(task, Instance):
        return None
    name = _pseudo_name(task.type)
    return contract_task(api, name, contracts, lookup) if name is not None else None


def _pseudo_name(info: TypeInfo) -> str | None:
    for klass in info.mro:
        if klass.fullname.startswith("celery."):
            return None
        if "run" in klass.names:
            return None  # a task of its own: its run is the signature
        value = klass.metadata.get(METADATA, {}).get(PSEUDO_NAME)
        if isinstance(value, str):
            return value
    return None


class _Builder:
    """Contract types as mypy types, for one call site (its module's imports resolve names)."""

    def __init__(self, api: CheckerPluginInterface, lookup: Lookup) -> None:
        self.api, self.lookup = api, lookup
        self.tree: MypyFile | None = api.tree if isinstance(api, TypeChecker) else None
        self.any = AnyType(TypeOfAny.special_form)

    def parameter(self, param: ContractParameter) -> Type:
        return self.typed(param.type, param.schema)

    def typed(self, text: str | None, schema: Any) -> Type:
        term = type_term(text)
        found = self.term(term) if term is not None else None
        if found is None:
            found = self.schema(schema)
        return found if found is not None else self.any

    # --- 1. the annotation as written ------------------------------------------------------------
    def term(self, term: TypeTerm) -> Type | None:
        name, args = term.name, term.args
        if name == "None":
            return NoneType()
        if name in _ANY:
            return AnyType(TypeOfAny.explicit)
        if name in ("|", "Union", "typing.Union", "Optional", "typing.Optional"):
            items = [self.term(arg) for arg in args]
            if not items or any(item is None for item in items):
                return None
            if name.endswith("Optional"):
                items.append(NoneType())
            return UnionType.make_union([item for item in items if item is not None])
        if name in _GENERIC:
            return self._generic(name, args)
        if args:
            return None  # Literal[...], Annotated[...], a user generic: the schema says more
        if name in _BUILTINS:
            return self.api.named_generic_type(f"builtins.{name}", [])
        info = self._imported(name) or self.lookup(_STANDARD.get(name, name))
        if info is None:
            return None
        return Instance(info, [self.any] * len(info.defn.type_vars))

    def _generic(self, name: str, args: tuple[TypeTerm, ...]) -> Type | None:
        fullname, count = _GENERIC[name]
        items = [self.term(arg) for arg in args]
        if any(item is None for item in items) or len(items) not in (0, count):
            return None
        if fullname == "builtins.tuple" and args:
            return None  # fixed-length tuples: the schema (an array) is as precise
        info = self.lookup(fullname)
        if info is None:
            return None
        return Instance(info, [item for item in items if item is not None] or [self.any] * count)

    def _imported(self, name: str) -> TypeInfo | None:
        """``name`` as the call site's module binds it (``from decimal import Decimal``)."""
        if self.tree is None:
            return None
        head, _, rest = name.partition(".")
        node = self.tree.names.get(head)
        target = node.node if node is not None else None
        if isinstance(target, TypeInfo) and not rest:
            return target
        if target is not None and rest and isinstance(getattr(target, "fullname", None), str):
            return self.lookup(f"{target.fullname}.{rest}")
        return None

    # --- 2. the wire schema ----------------------------------------------------------------------
    def schema(self, schema: Any) -> Type | None:
        if schema is True or schema == {}:
            return self.any
        if not isinstance(schema, dict):
            return None
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list):
                items = [self.schema(item) for item in schema[key]]
                if not items or any(item is None for item in items):
                    return None
                return UnionType.make_union([item for item in items if item is not None])
        kind = schema.get("type")
        if isinstance(kind, list):
            items = [self.schema({**schema, "type": one}) for one in kind]
            return None if any(i is None for i in items) else UnionType.make_union([i for i in items if i])
        return self._schema_of(kind, schema)

    def _schema_of(self, kind: object, schema: dict[str, Any]) -> Type | None:
        named: Callable[[str], Type] = lambda n: self.api.named_generic_type(n, [])  # noqa: E731
        if kind == "string":
            return named("builtins.str")
        if kind == "integer":
            return named("builtins.int")
        if kind == "number":
            return named("builtins.float")
        if kind == "boolean":
            return named("builtins.bool")
        if kind == "null":
            return NoneType()
        if kind == "array":
            item = self.schema(schema.get("items", {}))
            return self.api.named_generic_type("builtins.list", [item or self.any])
        if kind == "object":
            marker = _marker(schema)
            if marker is not None:
                info = self.lookup(_MARKERS.get(marker, ""))
                return Instance(info, []) if info is not None else None
            value = self.schema(schema.get("additionalProperties", {}))
            return self.api.named_generic_type("builtins.dict", [named("builtins.str"), value or self.any])
        return None


def _marker(schema: dict[str, Any]) -> str | None:
    """kombu's ``{"__type__": "datetime", "__value__": ...}`` object: its marker."""
    marker = (schema.get("properties") or {}).get("__type__")
    if not isinstance(marker, dict):
        return None
    if isinstance(marker.get("const"), str):
        return str(marker["const"])
    options = marker.get("enum")
    return str(options[0]) if isinstance(options, list) and options and isinstance(options[0], str) else None


def report_owned_name(api: CheckerPluginInterface, name: str, context: Context, contracts: Contracts) -> bool:
    """celery-unknown-task for a name under a contract's prefix that the contract does not have."""
    owner = contracts.owner(name)
    if owner is None:
        return False
    known = [task.name for task in owner.tasks]
    near = closest(name, frozenset(known))
    hint = f"did you mean {near!r}?" if near else f"it has {', '.join(map(repr, known[:5]))}"
    api.fail(
        f"unknown task name {name!r}: contract {owner.source!r} owns the names under {owner.prefix!r} and has "
        f"no task registered under it; {hint} (a message sent under a name no worker registered is never run: "
        "the worker logs 'Received unregistered task' and discards it)",
        context,
        code=UNKNOWN_TASK,
    )
    return True


# --- pseudo-tasks: the Task method hooks, with the contract's task as the receiver --------------


def rewrite_pseudo_signature(contracts: Contracts, ctx: MethodSigContext, method: str, lookup: Lookup) -> FunctionLike:
    task = pseudo_task(ctx.type, ctx.api, contracts, lookup)
    return rewrite_call_signature(ctx if task is None else ctx._replace(type=task), method, lookup)


def check_pseudo_call(ctx: MethodContext, method: str, settings: Settings, lookup: Lookup) -> Type:
    task = pseudo_task(ctx.type, ctx.api, settings.contracts, lookup)
    if task is None:
        receiver = get_proper_type(ctx.type)
        name = _pseudo_name(receiver.type) if isinstance(receiver, Instance) else None
        if name is not None:
            report_owned_name(ctx.api, name, ctx.context, settings.contracts)
    return check_task_call(ctx if task is None else ctx._replace(type=task), method, settings, lookup)
