"""What the warm cache of ``check`` stores of one file, as JSON values and back: a ``FileResult`` (its
findings and its ``ModuleFacts``) without the file's path, which the reader puts back as it spells
the path today.

Decoding checks every value against the dataclass's field types (``str``, ``int``, ``bool``,
``None``, tuples, frozensets of strings, nested dataclasses) and raises ``Damaged`` on anything
else: a damaged or foreign cache entry is recomputed, never trusted (tests/cli/test_cli_cache.py).
JSON, not pickle: loading a cache file found on disk must not be able to run code.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, Final, TypeVar

from celery_boundary.analysis.project import ModuleFacts
from celery_boundary.core.findings import Finding
from celery_boundary.gate.engine import FileResult

_T = TypeVar("_T")
_Decode = Callable[[Any], Any]


class Damaged(ValueError):
    """A stored value does not have the shape its type says."""


def encode(value: Any) -> Any:
    """A dataclass as the list of its fields (in order), tuples as lists, frozensets as sorted lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [encode(getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, (tuple, list)):
        return [encode(item) for item in value]
    if isinstance(value, frozenset):
        return sorted(encode(item) for item in value)
    return value


def encode_result(result: FileResult) -> Any:
    """A FileResult without its path (the findings and facts carry it too)."""
    findings = [encode(replace(finding, path="")) for finding in result.findings]
    facts = None if result.facts is None else encode(replace(result.facts, path=""))
    return [findings, result.skipped, result.skipped_line, facts, result.parsed]


def decode_result(raw: Any, shown: str) -> FileResult:
    findings, skipped, skipped_line, facts, parsed = _sequence(raw, 5)
    return FileResult(
        shown,
        tuple(decode(Finding, [shown, *_sequence(item)[1:]]) for item in _sequence(findings)),
        _leaf_of((str, type(None)), skipped), _leaf(int, skipped_line),
        decode_facts(facts, shown), _leaf(bool, parsed),
    )


def decode_facts(raw: Any, shown: str) -> ModuleFacts | None:
    return None if raw is None else decode(ModuleFacts, [shown, *_sequence(raw)[1:]])  # the path as spelled today


#: What the project pass reads of a module that only has to be there for the names it registers and
#: the project settings it holds (``collect_facts``, ``light``): its uses, tasks and strings stay empty.
LIGHT_FIELDS: Final = frozenset({"path", "module", "expiring", "registered", "names_known", "scheduler", "settings",
                                 "imports_celery"})


def decode_light_facts(raw: Any, shown: str) -> ModuleFacts | None:
    """``decode_facts`` of ``LIGHT_FIELDS`` only: the other fields are left undecoded, at their
    empty value (a one-file check reads 4,000 such modules in a generated project)."""
    if raw is None:
        return None
    values = _sequence(raw, len(_FACT_FIELDS))
    made: Any = object.__new__(ModuleFacts)  # as ``_record`` builds a record: no __init__ per field
    made.__dict__.update(_light_defaults())
    made.__dict__.update((name, decoder(values[position])) for name, position, decoder in _light_decoders())
    made.__dict__["path"] = shown
    result: ModuleFacts = made
    return result


_FACT_FIELDS: Final = [f.name for f in dataclasses.fields(ModuleFacts)]


def light_part(raw: list[Any]) -> list[Any]:
    """Encoded facts with the fields outside ``LIGHT_FIELDS`` left out (None): what
    ``decode_light_facts`` reads, without the module's uses, tasks and strings."""
    return [value if name in LIGHT_FIELDS else None for name, value in zip(_FACT_FIELDS, raw)]


@functools.cache
def _light_defaults() -> dict[str, Any]:
    """The fields outside ``LIGHT_FIELDS`` at their default (or empty): what a light module holds."""
    empty: dict[str, Any] = {"tasks": (), "uses": (), "strings": frozenset()}  # the fields without a default
    defaults = {}
    for f in dataclasses.fields(ModuleFacts):
        if f.name in LIGHT_FIELDS:
            continue
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.name in empty:
            defaults[f.name] = empty[f.name]
        else:  # the caller recomputes the facts (a TypeError, as from a damaged entry)
            raise TypeError(f"ModuleFacts.{f.name} has no empty value: teach cache_codec._light_defaults")
    return defaults


@functools.cache
def _light_decoders() -> list[tuple[str, int, _Decode]]:
    hints = typing.get_type_hints(ModuleFacts)
    return [(name, position, _decoder(hints[name])) for position, name in enumerate(_FACT_FIELDS)
            if name in LIGHT_FIELDS and name != "path"]


def decode(kind: type[_T], raw: Any) -> _T:
    value: _T = _decoder(kind)(raw)
    return value


_DECODERS: dict[Any, _Decode] = {}


def _decoder(hint: Any) -> _Decode:
    """One decoder per type, built once: checks the raw value's shape as it rebuilds it."""
    found = _DECODERS.get(hint)
    if found is None:
        found = _DECODERS[hint] = _build(hint)
    return found


def _build(hint: Any) -> _Decode:
    if hint in (str, int, bool, type(None)):
        return partial(_leaf, hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if all(arg in (str, int, bool, type(None)) for arg in args):
            return partial(_leaf_of, args)
        return partial(_first, [_decoder(arg) for arg in args])
    if origin in (tuple, frozenset) and args[-1] is Ellipsis or origin is frozenset:
        build = tuple if origin is tuple else frozenset
        if args[0] in (str, int):
            return partial(_leaves, build, args[0])
        return partial(_items, build, _decoder(args[0]))
    if origin is tuple:
        return partial(_fixed, tuple, [_decoder(arg) for arg in args])
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        names = [f.name for f in dataclasses.fields(hint)]
        leaves = [hints[name] if hints[name] in (str, int, bool) else None for name in names]
        return partial(_record, hint, names, [(kind, _decoder(hints[name])) for kind, name in zip(leaves, names)])
    raise TypeError(f"the cache cannot store {hint!r}")  # a new field type: teach the codec


def _leaf(kind: type, raw: Any) -> Any:
    if raw.__class__ is not kind:  # exact: a stored true is no line number
        raise Damaged(f"expected {kind.__name__}, found {type(raw).__name__}")
    return raw


def _leaf_of(kinds: tuple[type, ...], raw: Any) -> Any:
    if raw.__class__ not in kinds:
        raise Damaged(f"expected one of {kinds}, found {type(raw).__name__}")
    return raw


def _leaves(build: Callable[[Any], Any], kind: type, raw: Any) -> Any:
    if raw.__class__ is not list or any(item.__class__ is not kind for item in raw):
        raise Damaged(f"expected a list of {kind.__name__}")
    return build(raw)


def _items(build: Callable[[Any], Any], item: _Decode, raw: Any) -> Any:
    return build([item(value) for value in _sequence(raw)])


def _fixed(build: Callable[[Any], Any], parts: list[_Decode], raw: Any) -> Any:
    return build([part(value) for part, value in zip(parts, _sequence(raw, len(parts)))])


def _record(kind: type, names: list[str], fields: list[tuple[type | None, _Decode]], raw: Any) -> Any:
    """The frozen dataclass with these field values, set as its ``__init__`` sets them (it runs no
    ``__post_init__``): a warm run builds tens of thousands of them, so plain fields are checked here."""
    values = []
    for (leaf, field), value in zip(fields, _sequence(raw, len(fields))):
        if leaf is None:
            values.append(field(value))
        elif value.__class__ is leaf:
            values.append(value)
        else:
            raise Damaged(f"expected {leaf.__name__}, found {type(value).__name__}")
    made: Any = object.__new__(kind)
    made.__dict__.update(zip(names, values))
    return made


def _first(options: list[_Decode], raw: Any) -> Any:
    for option in options:
        try:
            return option(raw)
        except Damaged:
            continue
    raise Damaged(f"{raw!r} matches no type of the field")


def _sequence(raw: Any, length: int | None = None) -> list[Any]:
    if not isinstance(raw, list) or length is not None and len(raw) != length:
        raise Damaged(f"expected a list{'' if length is None else f' of {length}'}, found {type(raw).__name__}")
    return raw
