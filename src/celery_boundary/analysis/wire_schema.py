"""A task parameter's annotation (as written, an ``ast`` expression) -> the JSON Schema of what crosses
the wire for it under a serializer, for ``celery-boundary contracts export``.

Only builtin and simple types get a schema; anything else says why not (``unresolved``). What the
serializers do is in docs/facts (checked on kombu 5.7): under ``json`` a tuple arrives as a list, dict
keys arrive as strings, and ``datetime`` / ``date`` / ``time`` / ``Decimal`` / ``UUID`` / ``bytes``
travel as kombu's ``{"__type__": marker, "__value__": ...}`` object; ``msgpack`` and ``yaml`` carry
the JSON-like types (msgpack also ``bytes``); ``pickle`` carries Python objects, which no schema
describes. tests/analysis/test_contracts_export.py pins each mapping.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Final

from celery_boundary.analysis.symbols import Names

Schema = dict[str, object]

_SCALARS: Final[dict[str, Schema]] = {
    "builtins.int": {"type": "integer"},
    "builtins.float": {"type": "number"},
    "builtins.str": {"type": "string"},
    "builtins.bool": {"type": "boolean"},
    "builtins.None": {"type": "null"},
    "builtins.object": {},
    "typing.Any": {},
    "typing_extensions.Any": {},
}
#: kombu.utils.json's registered types (kombu >= 5.3): the marker each travels under, as text.
_KOMBU_MARKERS: Final = {
    "datetime.datetime": "datetime",
    "datetime.date": "date",
    "datetime.time": "time",
    "decimal.Decimal": "decimal",
    "uuid.UUID": "uuid",
    "builtins.bytes": "bytes",
}
_LISTS: Final = frozenset({"builtins.list", "typing.List", "typing.Sequence", "typing.MutableSequence",
                           "collections.abc.Sequence", "collections.abc.MutableSequence", "typing.Iterable",
                           "collections.abc.Iterable", "typing.Collection", "collections.abc.Collection"})
_TUPLES: Final = frozenset({"builtins.tuple", "typing.Tuple"})
_DICTS: Final = frozenset({"builtins.dict", "typing.Dict", "typing.Mapping", "typing.MutableMapping",
                           "collections.abc.Mapping", "collections.abc.MutableMapping"})
_UNIONS: Final = frozenset({"typing.Union", "typing_extensions.Union"})
_OPTIONALS: Final = frozenset({"typing.Optional", "typing_extensions.Optional"})
_LITERALS: Final = frozenset({"typing.Literal", "typing_extensions.Literal"})
_ANNOTATED: Final = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
#: Serializers whose data model the JSON-like schemas describe.
_JSON_LIKE: Final = frozenset({"json", "msgpack", "yaml"})


@dataclass(frozen=True)
class WireType:
    """The schema of what travels, or why there is none."""

    schema: Schema | None
    unresolved: str | None = None


class _Unresolved(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def wire_type(annotation: ast.expr | None, names: Names, serializer: str | None) -> WireType:
    """The schema of ``annotation`` under ``serializer`` (None: not statically known)."""
    if serializer is None:
        return WireType(None, "the task's serializer is not statically known")
    if serializer not in _JSON_LIKE:
        why = "pickle carries Python objects; no schema describes them" if serializer == "pickle" else (
            f"serializer {serializer!r} is not one whose wire format is known")
        return WireType(None, why)
    if annotation is None:
        return WireType({})  # no annotation: any value the serializer carries
    try:
        return WireType(_schema(annotation, names, serializer))
    except _Unresolved as exc:
        return WireType(None, exc.why)


def _schema(expr: ast.expr, names: Names, serializer: str) -> Schema:
    if isinstance(expr, ast.Constant):
        if expr.value is None:
            return {"type": "null"}
        if isinstance(expr.value, str):  # a string annotation: the expression inside it
            try:
                inner = ast.parse(expr.value, mode="eval").body
            except SyntaxError:
                raise _Unresolved(f"the string annotation {expr.value!r} does not parse") from None
            return _schema(inner, names, serializer)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        return _any_of([_schema(expr.left, names, serializer), _schema(expr.right, names, serializer)])
    if isinstance(expr, ast.Subscript):
        return _generic(fullname(expr.value, names), _members(expr.slice), names, serializer, expr)
    name = fullname(expr, names)
    if name in _SCALARS:
        return dict(_SCALARS[name])
    if name in _KOMBU_MARKERS:
        return _marker(name, serializer)
    if name in _LISTS or name in _TUPLES:
        return {"type": "array"}
    if name in _DICTS:
        return {"type": "object"}
    raise _Unresolved(f"{ast.unparse(expr)!r} is not a builtin or simple type")


def _generic(name: str | None, args: list[ast.expr], names: Names, serializer: str, expr: ast.expr) -> Schema:
    if name in _OPTIONALS and len(args) == 1:
        return _any_of([_schema(args[0], names, serializer), {"type": "null"}])
    if name in _UNIONS:
        return _any_of([_schema(arg, names, serializer) for arg in args])
    if name in _ANNOTATED and args:
        return _schema(args[0], names, serializer)
    if name in _LITERALS:
        values = [arg.value for arg in args if isinstance(arg, ast.Constant)]
        if len(values) != len(args) or any(isinstance(v, bytes) for v in values):
            raise _Unresolved(f"{ast.unparse(expr)!r}: a Literal of other than str, int, bool or None")
        return {"enum": values}
    if name in _LISTS and len(args) == 1:
        return {"type": "array", "items": _schema(args[0], names, serializer)}
    if name in _TUPLES:
        if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
            return {"type": "array", "items": _schema(args[0], names, serializer)}
        items = [_schema(arg, names, serializer) for arg in args]
        return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
    if name in _DICTS and len(args) == 2:
        key = fullname(args[0], names)
        if serializer == "msgpack" and key != "builtins.str":
            raise _Unresolved(f"{ast.unparse(expr)!r}: msgpack fails to decode keys other than str")
        if key not in ("builtins.str", "builtins.int", "builtins.float", "builtins.bool", "typing.Any"):
            raise _Unresolved(f"{ast.unparse(expr)!r}: keys other than str, int, float or bool")
        # json turns int, float and bool keys into strings (``{1: x}`` arrives as ``{"1": x}``).
        return {"type": "object", "additionalProperties": _schema(args[1], names, serializer)}
    raise _Unresolved(f"{ast.unparse(expr)!r} is not a builtin or simple type")


def _marker(name: str, serializer: str) -> Schema:
    if serializer == "msgpack" and name == "builtins.bytes":
        return {"contentEncoding": "binary"}
    if serializer != "json":
        raise _Unresolved(f"{name.rpartition('.')[2]} under {serializer}: not a type with a known wire form")
    # kombu.utils.json: {"__type__": marker, "__value__": text}; bytes that are not UTF-8 travel as base64,
    # a UUID's value is {"hex": "..."} (kombu 5.7; tests/truth/test_contract_truth.py dumps each).
    marker: object = {"enum": ["bytes", "base64"]} if name == "builtins.bytes" else {"const": _KOMBU_MARKERS[name]}
    value: Schema = {"type": "string"}
    if name == "uuid.UUID":
        value = {"type": "object", "properties": {"hex": {"type": "string"}}, "required": ["hex"]}
    return {"type": "object", "properties": {"__type__": marker, "__value__": value},
            "required": ["__type__", "__value__"], "additionalProperties": False}


def _any_of(schemas: list[Schema]) -> Schema:
    flat: list[Schema] = []
    for schema in schemas:
        for member in schema.get("anyOf", [schema]):  # type: ignore[attr-defined]
            if member not in flat:
                flat.append(member)
    if {} in flat:
        return {}
    return flat[0] if len(flat) == 1 else {"anyOf": flat}


def _members(slice_: ast.expr) -> list[ast.expr]:
    return list(slice_.elts) if isinstance(slice_, ast.Tuple) else [slice_]


def fullname(expr: ast.expr, names: Names) -> str | None:
    """What a name in an annotation refers to: an import path, ``builtins.<name>`` for a name the
    module neither imports nor binds, ``<local>.<name>`` for a class of the module."""
    if isinstance(expr, ast.Constant) and expr.value is None:
        return "builtins.None"
    if not isinstance(expr, (ast.Name, ast.Attribute)):
        return None
    resolved = names.resolve(expr)
    if resolved is None and isinstance(expr, ast.Name):
        return f"builtins.{expr.id}"
    return resolved
