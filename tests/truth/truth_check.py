"""What "the runtime agrees with the verdict" means, value by value.

``same(a, b)``: equal and of the same type, recursively (dict keys included, nan equal to nan,
-0.0 distinct from 0.0, Decimal by its exact text, datetimes by instant and UTC offset).
``conforms(value, shape)``: the value is of the shape the verdict says arrives.
``roundtrip(value, serializer)``: kombu's dumps -> loads, reporting which side failed.
"""

from __future__ import annotations

import collections
import collections.abc
import datetime
import decimal
import importlib
import io
import math
import numbers
import re
from dataclasses import dataclass
from typing import Any

import kombu.serialization
from kombu.exceptions import DecodeError, EncodeError

from celery_boundary.core import fullnames as fn
from celery_boundary.core.shapes import (
    AliasShape,
    AnyShape,
    CallableShape,
    Instance,
    LiteralShape,
    NeverShape,
    NoneShape,
    Shape,
    Trait,
    TupleShape,
    TypedDictShape,
    TypeVarShape,
    UnionShape,
    UnknownShape,
)
from celery_boundary.core.verdicts import Outcome, Problem, Verdict

#: Values pushed through the runtime, per "row / serializer / where" (printed at the end of the run).
TRIED: collections.Counter[str] = collections.Counter()

CUSTOM = "truth-custom"
ACCEPT = ["json", "msgpack", "yaml", "pickle", CUSTOM]


def _custom_dumps(value: object) -> str:
    # A stand-in for a project's own serializer: repr, read back with literal_eval.
    return repr(value)


def _custom_loads(payload: bytes | str) -> object:
    import ast

    text = payload.decode() if isinstance(payload, bytes) else payload
    return ast.literal_eval(text)


kombu.serialization.register(
    CUSTOM, _custom_dumps, _custom_loads, content_type="application/x-truth-custom", content_encoding="utf-8"
)


_ACCEPT_TYPES = kombu.serialization.prepare_accept_content(ACCEPT)


@dataclass(frozen=True)
class Crossing:
    """The result of one dumps -> loads: ``arrived`` when both worked, else the failing step."""

    failed_at: str | None  # None, "dumps" or "loads"
    arrived: object = None
    error: BaseException | None = None


def roundtrip(value: object, serializer: str) -> Crossing:
    try:
        content_type, encoding, payload = kombu.serialization.dumps(value, serializer=serializer)
    except EncodeError as exc:
        return Crossing("dumps", error=exc)
    try:
        arrived = kombu.serialization.loads(payload, content_type, encoding, accept=_ACCEPT_TYPES)
    except DecodeError as exc:
        return Crossing("loads", error=exc)
    return Crossing(None, arrived)


# --- same: equal and of the same type, recursively ---------------------------------------------


def same(a: object, b: object) -> bool:
    if _is_lazy_string(a) and _is_lazy_string(b):
        # pickle rebuilds a Django lazy string through lazy(), which makes a new proxy class
        # each time: the value is a lazy string with the same text, of an equal-looking class.
        return str(a) == str(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        assert isinstance(b, float)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, decimal.Decimal):
        return str(a) == str(b)
    if isinstance(a, datetime.datetime):
        assert isinstance(b, datetime.datetime)
        # Value-level limit (kombu 5.7.0 json, PyYAML): a ZoneInfo name and `fold` do not travel;
        # the instant and the UTC offset do. tests/truth/test_value_limits.py pins the loss itself.
        return a == b and a.utcoffset() == b.utcoffset() and (a.tzinfo is None) == (b.tzinfo is None)
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple))
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (set, frozenset)):
        assert isinstance(b, (set, frozenset))
        # Matched element by element: a nan that crossed is another object, so {nan} != {nan}.
        remaining = list(b)
        for item in a:
            found = next((i for i, other in enumerate(remaining) if same(item, other)), None)
            if found is None:
                return False
            remaining.pop(found)
        return not remaining
    if isinstance(a, dict):
        assert isinstance(b, dict)
        if len(a) != len(b):
            return False
        pairs = _pair_keys(a, b)
        return pairs is not None and all(same(ka, kb) and same(a[ka], b[kb]) for ka, kb in pairs)
    if _is_queryset(a):
        return a.model is b.model and list(a) == list(b)  # type: ignore[attr-defined]
    if isinstance(a, BaseException):
        assert isinstance(b, BaseException)
        return same(a.args, b.args)
    if isinstance(a, memoryview):
        assert isinstance(b, memoryview)
        return a.tobytes() == b.tobytes()
    return bool(a == b)


def _pair_keys(a: dict[Any, Any], b: dict[Any, Any]) -> list[tuple[Any, Any]] | None:
    """Match keys by equality *and* type (1, 1.0 and True are equal keys but not the same)."""
    pairs = []
    remaining = list(b)
    for ka in a:
        found = [i for i, kb in enumerate(remaining) if type(kb) is type(ka) and kb == ka]
        if not found:
            return None
        pairs.append((ka, remaining.pop(found[0])))
    return pairs


def _is_lazy_string(value: object) -> bool:
    return any(c.__name__ == "Promise" and c.__module__ == "django.utils.functional" for c in type(value).__mro__)


def _is_queryset(value: object) -> bool:
    return any(c.__name__ == "QuerySet" and c.__module__ == "django.db.models.query" for c in type(value).__mro__)


# --- conforms: the value is of the shape that the verdict says arrives ----------------------------

_EXACT = {
    fn.STR: str,
    fn.INT: int,
    fn.FLOAT: float,
    fn.BOOL: bool,
    fn.BYTES: bytes,
    fn.NONE_TYPE: type(None),
}


def conforms(value: object, shape: Shape) -> bool:
    if isinstance(shape, (AnyShape, UnknownShape)):
        return True
    if isinstance(shape, NoneShape):
        return value is None
    if isinstance(shape, NeverShape):
        return False
    if isinstance(shape, UnionShape):
        return any(conforms(value, item) for item in shape.items)
    if isinstance(shape, AliasShape):
        return conforms(value, shape.expand())
    if isinstance(shape, TypeVarShape):
        if shape.constraints:
            return any(conforms(value, c) for c in shape.constraints)
        return shape.bound is None or conforms(value, shape.bound)
    if isinstance(shape, LiteralShape):
        if shape.fallback.is_a(fn.ENUM):
            enum_class = _resolve(shape.fallback.fullname)
            return isinstance(value, enum_class) and getattr(value, "name", None) in shape.values
        return any(type(value) is type(v) and value == v for v in shape.values)
    if isinstance(shape, CallableShape):
        return callable(value)
    if isinstance(shape, TupleShape):
        if type(value) is not tuple:
            return False
        if shape.rest is not None:
            return all(conforms(v, shape.rest) for v in value)
        return len(value) == len(shape.items) and all(conforms(v, s) for v, s in zip(value, shape.items))
    if isinstance(shape, TypedDictShape):
        if type(value) is not dict:
            return False
        known = {key: (item, required) for key, item, required in shape.items}
        if any(required and key not in value for key, (_, required) in known.items()):
            return False
        return all(key in known and conforms(v, known[key][0]) for key, v in value.items())
    return _conforms_instance(value, shape)


def _conforms_instance(value: object, shape: Instance) -> bool:
    if shape.fullname in _EXACT:
        return type(value) is _EXACT[shape.fullname]
    args = shape.args
    if shape.fullname in (fn.LIST, fn.SET, fn.FROZENSET):
        expected = {fn.LIST: list, fn.SET: set, fn.FROZENSET: frozenset}[shape.fullname]
        item = args[0] if args else AnyShape()
        return type(value) is expected and all(conforms(v, item) for v in value)  # type: ignore[attr-defined]
    if shape.fullname == fn.DICT:
        key, item = (args[0], args[1]) if len(args) == 2 else (AnyShape(), AnyShape())
        return type(value) is dict and all(conforms(k, key) and conforms(v, item) for k, v in value.items())
    if shape.fullname == fn.OBJECT:
        return True
    abstract = _abstract_class(shape.fullname)
    if abstract is not None:
        return isinstance(value, abstract)
    cls = _resolve(shape.fullname)
    if Trait.PROTOCOL in shape.traits:
        return not getattr(cls, "_is_runtime_protocol", False) or isinstance(value, cls)
    return type(value) is cls


def _abstract_class(fullname: str) -> type | None:
    """``typing.Mapping`` -> ``collections.abc.Mapping``; typing's file types -> ``io.IOBase``."""
    module, _, name = fullname.rpartition(".")
    if module == "numbers":
        found_number = getattr(numbers, name, None)
        return found_number if isinstance(found_number, type) else None
    if module in ("typing", "collections.abc"):
        if name in ("IO", "TextIO", "BinaryIO"):
            return io.IOBase
        found = getattr(collections.abc, "Set" if name == "AbstractSet" else name, None)
        return found if isinstance(found, type) else None
    return None


def _resolve(fullname: str) -> type:
    """The class a dotted name (module + qualname) refers to."""
    runtime = {fn.NONE_TYPE: "builtins.NoneType"}.get(fullname, fullname)
    parts = runtime.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            target = getattr(target, attr)
        assert isinstance(target, type), fullname
        return target
    raise LookupError(fullname)


# --- parts_at: where inside a value a problem sits ---------------------------------------------

_STEP = re.compile(r"\[\*\]|\[(\d+)\]|\{key\}|\['([^']*)'\]|\.(\w+)")


def parts_at(value: object, where: str) -> list[object]:
    """The parts of ``value`` at a problem's location, in the core's path syntax: ``[*]`` list item
    or dict value, ``[0]`` tuple index, ``{key}`` dict key, ``['k']`` TypedDict key, ``.f`` field."""
    current = [value]
    for match in _STEP.finditer(where):
        step, index, key, name = match.group(0), match.group(1), match.group(2), match.group(3)
        found: list[object] = []
        for part in current:
            if step == "{key}" and isinstance(part, dict):
                found.extend(part)
            elif step == "[*]" and isinstance(part, dict):
                found.extend(part.values())
            elif step == "[*]" and isinstance(part, (list, tuple, set, frozenset)):
                found.extend(part)
            elif index is not None and isinstance(part, tuple) and int(index) < len(part):
                found.append(part[int(index)])
            elif key is not None and isinstance(part, dict) and key in part:
                found.append(part[key])
            elif name is not None and hasattr(part, name):
                found.append(getattr(part, name))
        current = found
    return current


def expected_failure(verdict: Verdict, value: object) -> str | None:
    """The step that must fail for this value: dumps, loads (decode), or None (it crosses)."""
    steps = {_step(p) for p in verdict.of(Outcome.NOT_CARRIED) if parts_at(value, p.where)}
    return "dumps" if "dumps" in steps else ("loads" if "loads" in steps else None)


def _step(problem: Problem) -> str:
    return "loads" if "decode" in problem.reason else "dumps"
