"""What every rule group shares: the options the rules read, ``report`` (a node to a ``Finding``) and
small readers of literal values (strings, containers, environment look-ups with defaults)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Final, NamedTuple

from celery_boundary.core.config import Config
from celery_boundary.core.findings import Finding


@dataclass(frozen=True)
class RuleSettings:
    """The options the rules read, from ``[tool.celery_boundary]`` and the ``--cb-*`` flags."""

    task_decorators: frozenset[str] = frozenset()
    #: CB401: functions (dotted names) and directives (``.name``) that schedule for their caller.
    periodic_wrappers: frozenset[str] = frozenset()
    #: Serializer names accepted deliberately although they execute code (e.g. a signed pickle).
    trusted_serializers: frozenset[str] = frozenset()
    max_task_logic: int = Config.max_task_logic
    #: CB205: "near" reports a task name close to a registered one, "all" every unknown name.
    unknown_task_names: str = Config.unknown_task_names
    #: CB205: the contract files of other services (as configured) and the configuration file they are
    #: relative to; read by the project-wide half only (``core.client_contracts``).
    contracts: tuple[str, ...] = ()
    config_source: str | None = None

    @classmethod
    def from_config(cls, config: Config) -> RuleSettings:
        return cls(
            task_decorators=frozenset(config.task_decorators),
            periodic_wrappers=frozenset(config.periodic_wrappers),
            trusted_serializers=frozenset(config.trusted_serializers),
            max_task_logic=config.max_task_logic,
            unknown_task_names=config.unknown_task_names,
            contracts=config.contracts,
            config_source=config.source,
        )


def report(node: ast.AST, code: str, message: str) -> Finding:
    """A finding at ``node`` (1-based column); the path is the caller's (``check`` sets it)."""
    return Finding("", getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1, code, message)


def string_of(expr: ast.expr | None) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return None


def dict_items(expr: ast.expr | None) -> list[tuple[ast.expr | None, ast.expr]] | None:
    """Keys and values of a dict literal or ``dict(k=v)`` call (keys of the call as Constants);
    None for anything else. A ``**spread`` yields a ``None`` key."""
    if isinstance(expr, ast.Dict):
        return list(zip(expr.keys, expr.values))
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "dict" and not expr.args:
        items: list[tuple[ast.expr | None, ast.expr]] = []
        for kw in expr.keywords:
            key = None if kw.arg is None else ast.Constant(
                kw.arg, lineno=kw.value.lineno, col_offset=kw.value.col_offset)
            items.append((key, kw.value))
        return items
    return None


def dict_get(expr: ast.expr | None, key: str) -> tuple[bool, ast.expr | None]:
    """(known, value) for ``key`` in a literal dict: known is False when the dict is not a literal
    or has a ``**spread`` that may hold the key."""
    items = dict_items(expr)
    if items is None:
        return False, None
    found: ast.expr | None = None
    spread = False
    for k, v in items:
        if k is None:
            spread = True
        elif string_of(k) == key:
            found = v
    return (found is not None or not spread), found


#: Calls whose ``default`` is the value when the environment does not say (os.environ.get,
#: os.getenv, django-environ's env / env.str / env.list, python-decouple's config).
_ENV_POSITIONAL_DEFAULT: Final = frozenset({"get", "getenv", "setdefault"})
_ENV_KEYWORD_DEFAULT: Final = frozenset({"get", "getenv", "env", "config", "str", "list", "tuple", "json"})


class Literal(NamedTuple):
    value: str
    node: ast.expr
    #: Why the value is only a fallback ("when the environment does not set it"), or "".
    note: str


def literal_strings(expr: ast.expr | None, constants: dict[str, str], note: str = "") -> list[Literal]:
    """String values an expression may have, as far as it is written literally: constants,
    containers, ``a if c else b``, ``x + y``, module constants, and the defaults of environment
    look-ups (the value itself comes from outside, so it is unknown and silent)."""
    if expr is None:
        return []
    if isinstance(expr, ast.Constant):
        return [Literal(expr.value, expr, note)] if isinstance(expr.value, str) else []
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return [lit for item in expr.elts for lit in literal_strings(item, constants, note)]
    if isinstance(expr, ast.Name):
        value = constants.get(expr.id)
        return [Literal(value, expr, note)] if value is not None else []
    if isinstance(expr, ast.IfExp):
        return literal_strings(expr.body, constants, note) + literal_strings(expr.orelse, constants, note)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return literal_strings(expr.left, constants, note) + literal_strings(expr.right, constants, note)
    if isinstance(expr, ast.Call):
        return _env_default(expr, constants)
    return []


def _env_default(call: ast.Call, constants: dict[str, str]) -> list[Literal]:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    fallback = "when the environment does not set it (the default)"
    for kw in call.keywords:
        if kw.arg == "default" and name in _ENV_KEYWORD_DEFAULT:
            return literal_strings(kw.value, constants, fallback)
    if name in _ENV_POSITIONAL_DEFAULT and len(call.args) >= 2:
        return literal_strings(call.args[1], constants, fallback)
    if name in ("list", "tuple", "set", "frozenset") and len(call.args) == 1 and not call.keywords:
        return literal_strings(call.args[0], constants)
    return []
