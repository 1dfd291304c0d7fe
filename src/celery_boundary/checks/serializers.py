"""CB101 pickle as task/result/event serializer, CB102 pickle in accept_content, CB103 pickle
chosen per task or per call.

Settings are found in every style Celery reads (celery 5.7): Django ``CELERY_*`` names and the old
upper-case names, celeryconfig-style module (or class) attributes, ``app.conf.update(...)``,
``app.conf.<key> = ...``, ``app.conf["key"] = ...``, ``Celery(..., key=...)`` and dict literals.
A serializer registered in the same module with ``kombu.serialization.register`` whose functions
use pickle (or dill / cloudpickle) counts as pickle, signed or not.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Final

from celery_boundary.analysis.call_shapes import can_be_celery
from celery_boundary.analysis.index import ModuleIndex, Site
from celery_boundary.analysis.symbols import LOCAL, last_name
from celery_boundary.core.findings import Finding
from celery_boundary.checks.common import Literal, RuleSettings, literal_strings, report, string_of

PICKLE_SERIALIZER: Final = "CB101"
PICKLE_ACCEPTED: Final = "CB102"
PICKLE_PER_TASK: Final = "CB103"
#: The codes this group reports.
CODES: Final = (PICKLE_SERIALIZER, PICKLE_ACCEPTED, PICKLE_PER_TASK)

PICKLE_CONTENT_TYPE: Final = "application/x-python-serialize"
_SERIALIZER_SETTINGS: Final = frozenset({"task_serializer", "result_serializer", "event_serializer"})
_ACCEPT_SETTINGS: Final = frozenset({"accept_content", "result_accept_content"})
#: Modules whose loads execute code from the message.
_PICKLE_MODULES: Final = frozenset({"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "jsonpickle"})
_PICKLE_HELPERS: Final = frozenset({"kombu.serialization.pickle_loads", "kombu.serialization.pickle"})
_SIGNING_HINTS: Final = ("hmac", "itsdangerous", "sign", "nacl", "cryptography")
#: Methods and calls whose ``serializer=`` picks the serializer of one message (celery 5.7).
_PER_CALL: Final = frozenset({"apply_async", "set", "send_task", "retry", "signature", "subtask",
                              "add_periodic_task", "Signature", "delay_on_commit"})


def setting_kind(name: str) -> str | None:
    """'serializer' / 'accept' for a Celery setting name in any spelling, else None."""
    if name in _SERIALIZER_SETTINGS:
        return "serializer"
    if name in _ACCEPT_SETTINGS:
        return "accept"
    if name.isupper():  # CELERY_TASK_SERIALIZER, CELERY_RESULT_ACCEPT_CONTENT, RESULT_ACCEPT_CONTENT ...
        if name.endswith(("TASK_SERIALIZER", "RESULT_SERIALIZER", "EVENT_SERIALIZER")):
            return "serializer"
        if name.endswith("ACCEPT_CONTENT"):
            return "accept"
    return None


class _Pickles:
    """Which serializer names and content types execute code when loaded, in this module."""

    def __init__(self, index: ModuleIndex, settings: RuleSettings) -> None:
        self.trusted = settings.trusted_serializers
        self.custom: dict[str, str] = {}
        for site in index.calls:
            self._learn_registration(index, site)

    def _learn_registration(self, index: ModuleIndex, site: Site) -> None:
        call = site.node
        assert isinstance(call, ast.Call)
        if last_name(call.func) != "register" or len(call.args) + len(call.keywords) < 3:
            return
        resolved = index.resolve(call.func, site) or ""
        if resolved != "kombu.serialization.register" and not resolved.endswith("registry.register"):
            return
        args = {i: a for i, a in enumerate(call.args)}
        for kw in call.keywords:
            position = {"name": 0, "encoder": 1, "decoder": 2, "content_type": 3}.get(kw.arg or "")
            if position is not None:
                args[position] = kw.value
        codecs = [args[i] for i in (1, 2) if i in args]
        texts = [_source_names(index, codec, site) for codec in codecs]
        used = set().union(*texts) if texts else set()
        if not used & _PICKLE_MODULES and not used & _PICKLE_HELPERS:
            return
        signed = any(hint in name.lower() for name in used for hint in _SIGNING_HINTS)
        how = "a signed pickle" if signed else "pickle"
        for i in (0, 3):
            name = string_of(args.get(i))
            if name:
                self.custom[name] = f"registered with kombu.serialization.register as {how}"

    def why(self, literal: Literal) -> str | None:
        value = literal.value
        if value in self.trusted:
            return None
        if value == "pickle" or value == PICKLE_CONTENT_TYPE:
            reason = "pickle"
        elif value in self.custom:
            reason = f"{value!r} ({self.custom[value]})"
        elif "pickle" in value.lower():
            # Registered in another module (paperless-ngx's "signed-pickle" lives in celery.py,
            # its setting in settings.py): the name says what it loads.
            reason = f"{value!r} (a pickle variant by its name; signed or not, loading it runs code)"
        else:
            return None
        return f"{reason} {literal.note}".strip()


def _source_names(index: ModuleIndex, codec: ast.expr, site: Site) -> set[str]:
    """Resolved names a codec uses: itself, or everything its module-level function / lambda
    body refers to (``def dumps(o): return pickle.dumps(o)``)."""
    bodies: list[ast.AST] = []
    if isinstance(codec, ast.Lambda):
        bodies.append(codec.body)
    elif isinstance(codec, ast.Name):
        for stmt in index.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == codec.id:
                bodies.append(stmt)
    found: set[str] = set()
    resolved = index.resolve(codec, site) if isinstance(codec, (ast.Name, ast.Attribute)) else None
    if resolved:
        found.add(resolved)
        found.add(resolved.split(".")[0])
    for body in bodies:
        for node in ast.walk(body):
            if isinstance(node, (ast.Name, ast.Attribute)):
                name = index.names.resolve(node)
                if name and not name.startswith(LOCAL):
                    found.add(name)
                    found.add(name.split(".")[0])
            elif isinstance(node, ast.Name):
                found.add(node.id)
    return found


def check(index: ModuleIndex, settings: RuleSettings) -> Iterator[Finding]:
    pickles = _Pickles(index, settings)
    constants = index.names.strings
    for site in index.assigns:
        yield from _check_assignment(site, pickles, constants)
    for site in index.calls:
        yield from _check_call(index, site, pickles, constants)
    for site in index.dicts:
        yield from _check_dict(index, site, pickles, constants)
    for task in index.every_task:
        yield from _check_task(task.name, task.options, task.is_class, pickles, constants)


def _check_setting(name: str, value: ast.expr | None, where: ast.AST, pickles: _Pickles,
                   constants: dict[str, str]) -> Iterator[Finding]:
    kind = setting_kind(name)
    if kind is None:
        return
    for literal in literal_strings(value, constants):
        why = pickles.why(literal)
        if why is None:
            continue
        if kind == "serializer":
            yield report(where, PICKLE_SERIALIZER, (
                f"{name} is {why}: loading a pickled message runs the code it names, so whoever "
                "can publish to the broker runs code on the worker; use 'json' and pass ids or "
                "plain data (a signed serializer you accept on purpose goes in trusted_serializers)"))
        else:
            yield report(where, PICKLE_ACCEPTED, (
                f"{name} accepts {why}: the worker then runs code from any pickled message on the "
                "broker, even when your own producers send json; accept only ['json'] (a signed "
                "serializer you accept on purpose goes in trusted_serializers)"))


def _check_assignment(site: Site, pickles: _Pickles, constants: dict[str, str]) -> Iterator[Finding]:
    node = site.node
    value: ast.expr | None
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets, value = [node.target], node.value
    else:
        return
    for target in targets:
        name: str | None = None
        if isinstance(target, ast.Name):
            # A function's local variable is not a setting; module and class attributes are.
            name = target.id if not site.scopes else None
        elif isinstance(target, ast.Attribute):
            name = target.attr
        elif isinstance(target, ast.Subscript) and not _is_environ(target.value):
            name = string_of(target.slice)
        if name:
            yield from _check_setting(name, value, target, pickles, constants)


def _is_environ(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Attribute) and expr.attr == "environ"


def _check_call(index: ModuleIndex, site: Site, pickles: _Pickles, constants: dict[str, str]) -> Iterator[Finding]:
    call = site.node
    assert isinstance(call, ast.Call)
    method = last_name(call.func)
    if method == "setup_security":  # celery.security: the signing "auth" serializer wraps this one
        for kw in call.keywords:
            if kw.arg == "serializer":
                yield from _check_setting("task_serializer", kw.value, kw.value, pickles, constants)
            elif kw.arg == "allowed_serializers":
                yield from _check_setting("accept_content", kw.value, kw.value, pickles, constants)
        return
    if method in ("append", "add", "extend", "insert") and isinstance(call.func, ast.Attribute):
        # ``app.conf.accept_content.append("pickle")``
        holder = call.func.value
        name = holder.attr if isinstance(holder, ast.Attribute) else holder.id if isinstance(
            holder, ast.Name) and not site.scopes else None
        if name is not None and setting_kind(name) == "accept":
            for arg in call.args:
                yield from _check_setting(name, arg, arg, pickles, constants)
    for kw in call.keywords:
        if kw.arg is None:
            continue
        if kw.arg == "serializer" and method in _PER_CALL:
            if not can_be_celery(call):
                continue  # ``cache.set("k", value, serializer="pickle")``: not Signature.set
            yield from _per_message(f".{method}(serializer=...)", kw.value, pickles, constants)
        elif kw.arg == "options" and method in ("signature", "subtask", "Signature"):
            yield from _options_dict(kw.value, f"{method}(options=...)", pickles, constants)
        else:
            yield from _check_setting(kw.arg, kw.value, kw.value, pickles, constants)


def _check_dict(index: ModuleIndex, site: Site, pickles: _Pickles, constants: dict[str, str]) -> Iterator[Finding]:
    node = site.node
    assert isinstance(node, ast.Dict)
    for key, value in zip(node.keys, node.values):
        name = string_of(key)
        if name is None or key is None:
            continue
        if name == "options":  # a beat entry's or a signature dict's per-message options
            yield from _options_dict(value, "options", pickles, constants)
        else:
            yield from _check_setting(name, value, key, pickles, constants)


def _options_dict(expr: ast.expr, where: str, pickles: _Pickles, constants: dict[str, str]) -> Iterator[Finding]:
    if isinstance(expr, ast.Dict):
        for key, value in zip(expr.keys, expr.values):
            if string_of(key) == "serializer":
                yield from _per_message(f"{where}['serializer']", value, pickles, constants)


def _per_message(where: str, value: ast.expr, pickles: _Pickles, constants: dict[str, str]) -> Iterator[Finding]:
    for literal in literal_strings(value, constants):
        why = pickles.why(literal)
        if why is not None:
            yield report(literal.node, PICKLE_PER_TASK, (
                f"{where} chooses {why} for this message: the worker must then accept pickle, "
                "which runs code from any message on the broker; pass plain data with the default "
                "json serializer instead"))


def _check_task(name: str, options: dict[str, ast.expr], is_class: bool, pickles: _Pickles,
                constants: dict[str, str]) -> Iterator[Finding]:
    value = options.get("serializer")
    if value is None:
        return
    for literal in literal_strings(value, constants):
        why = pickles.why(literal)
        if why is not None:
            where = f"task class {name!r} sets serializer to" if is_class else f"task {name!r} chooses"
            yield report(literal.node, PICKLE_PER_TASK, (
                f"{where} {why}: every message of this task is pickled, so the worker must accept "
                "pickle and runs code from any message on the broker; pass ids and plain data "
                "with json (or register a preserializer for your type)"))
