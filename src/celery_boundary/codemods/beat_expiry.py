"""CB401: give a periodic entry an expiry equal to its period, so runs that wait longer than one period
are dropped instead of piling up. Only where the period is a number of seconds written in the code
(``60``, ``60.0``, ``timedelta(minutes=5)``): a crontab's period is left to a human.

- beat entry dict literal: ``"options": {"expires": N}`` (or ``"expires"`` added to an existing
  ``"options"`` dict literal); ``dict(task=..., schedule=N)``: ``options={"expires": N}``;
- ``sender.add_periodic_task(N, sig)``: ``expires=N`` (extra keywords become the entry's options).

Under django-celery-beat's ``DatabaseScheduler`` (named in the module, ``analysis.schedulers``, or, when
the module names none, in the project: ``Project.scheduler``) the key is ``expire_seconds``; an entry
flagged although its options hold ``expires`` (which that scheduler drops) gets ``expire_seconds``
beside it, with the same value when it is a number.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Final

import libcst as cst

from celery_boundary.analysis.index import build_index
from celery_boundary.analysis.schedulers import DATABASE, EXPIRE_SECONDS, EXPIRES, module_scheduler
from celery_boundary.codemods.base import FixTransformer, append_item, last_name, string_value

CODES: Final = ("CB401",)
_SECONDS: Final = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1,
                   "milliseconds": 0.001}


class BeatExpiry(FixTransformer):
    key = EXPIRES

    def visit_Module(self, node: cst.Module) -> None:
        try:
            tree = ast.parse(node.code)
        except (SyntaxError, ValueError):
            return
        # The module's own setting first; a module that names none runs under the project's.
        if (module_scheduler(build_index(tree)) or self.scheduler) == DATABASE:
            self.key = EXPIRE_SECONDS

    def leave_Dict(self, original: cst.Dict, updated: cst.Dict) -> cst.BaseExpression:
        keys = {string_value(e.key): e for e in updated.elements if isinstance(e, cst.DictElement)}
        if (
            len(keys) != len(updated.elements)
            or "schedule" not in keys
            or "expires" in keys
            or not self.starts_on_flagged_line(original, "CB401")
        ):
            return updated
        period = seconds_of(keys["schedule"].value)
        options = keys.get("options")
        dropped = _dropped_expires(options)
        if dropped is not None and options is not None and isinstance(options.value, cst.Dict):
            # DatabaseScheduler: the row keeps expire_seconds only.
            seconds = cst.DictElement(cst.SimpleString(f'"{EXPIRE_SECONDS}"'), dropped)
            inner = append_item(_plain(options.value.elements), seconds)
            new_options = options.with_changes(value=options.value.with_changes(elements=inner))
            self.changed += 1
            return updated.with_changes(elements=[new_options if e is options else e for e in updated.elements])
        if period is None or options is not None and _option_keys(options):
            return updated
        expires = cst.DictElement(cst.SimpleString(f'"{self.key}"'), period)
        if options is None:
            entry = cst.DictElement(cst.SimpleString('"options"'), cst.Dict([expires]))
            self.changed += 1
            return updated.with_changes(elements=append_item(_plain(updated.elements), entry))
        if isinstance(options.value, cst.Dict) and all(isinstance(e, cst.DictElement) for e in options.value.elements):
            inner = append_item(_plain(options.value.elements), expires)
            new_options = options.with_changes(value=options.value.with_changes(elements=inner))
            self.changed += 1
            return updated.with_changes(elements=[new_options if e is options else e for e in updated.elements])
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not self.starts_on_flagged_line(original, "CB401"):
            return updated
        keywords = {arg.keyword.value: arg for arg in updated.args if arg.keyword is not None}
        func = updated.func
        if isinstance(func, cst.Name) and func.value == "dict" and "schedule" in keywords:
            if "options" in keywords or "expires" in keywords:
                return updated
            period = seconds_of(keywords["schedule"].value)
            if period is None:
                return updated
            option = cst.Dict([cst.DictElement(cst.SimpleString(f'"{self.key}"'), period)])
            self.changed += 1
            return updated.with_changes(args=append_item(list(updated.args), _keyword("options", option)))
        if isinstance(func, cst.Attribute) and func.attr.value == "add_periodic_task" and updated.args:
            first = updated.args[0]
            named_other = first.keyword is not None and first.keyword.value != "schedule"
            if EXPIRES in keywords and EXPIRE_SECONDS not in keywords and isinstance(
                    keywords[EXPIRES].value, (cst.Integer, cst.Float)):  # dropped by DatabaseScheduler
                self.changed += 1
                value = keywords[EXPIRES].value.deep_clone()
                return updated.with_changes(args=append_item(list(updated.args), _keyword(EXPIRE_SECONDS, value)))
            if EXPIRES in keywords or EXPIRE_SECONDS in keywords or named_other:
                return updated
            period = seconds_of(keywords["schedule"].value if "schedule" in keywords else first.value)
            if period is None:
                return updated
            self.changed += 1
            return updated.with_changes(args=append_item(list(updated.args), _keyword(self.key, period)))
        return updated


def _option_keys(options: cst.DictElement) -> set[str]:
    if not isinstance(options.value, cst.Dict):
        return {EXPIRES}  # not a literal: leave it alone
    return {key for e in options.value.elements if isinstance(e, cst.DictElement)
            for key in [string_value(e.key)] if key in (EXPIRES, EXPIRE_SECONDS)}


def _dropped_expires(options: cst.DictElement | None) -> cst.BaseExpression | None:
    """The number an options literal gives ``expires`` without ``expire_seconds``, or None."""
    if options is None or not isinstance(options.value, cst.Dict):
        return None
    elements = options.value.elements
    if not all(isinstance(e, cst.DictElement) for e in elements):
        return None
    values = {string_value(e.key): e.value for e in elements if isinstance(e, cst.DictElement)}
    value = values.get(EXPIRES)
    if EXPIRE_SECONDS in values or not isinstance(value, (cst.Integer, cst.Float)):
        return None
    return value.deep_clone()


def _plain(elements: Sequence[cst.BaseDictElement]) -> list[cst.DictElement]:
    """The elements of a dict literal without ``**spread`` (callers checked there is none)."""
    return [e for e in elements if isinstance(e, cst.DictElement)]


def _keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(value, keyword=cst.Name(name), equal=cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))


def seconds_of(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """The period in seconds as an expression, when the code states it: a number, or timedelta(...)
    with numeric literal arguments. None for crontab, solar, names and anything computed."""
    if isinstance(expr, (cst.Integer, cst.Float)):
        return expr.deep_clone()
    if isinstance(expr, cst.Call) and last_name(expr.func) == "timedelta":
        total = 0.0
        for position, arg in enumerate(expr.args):
            unit = arg.keyword.value if arg.keyword else ("days", "seconds")[position] if position < 2 else None
            if unit not in _SECONDS or not isinstance(arg.value, (cst.Integer, cst.Float)):
                return None
            total += float(arg.value.evaluated_value) * _SECONDS[unit]
        if total <= 0:
            return None
        return cst.Integer(str(int(total))) if total == int(total) else cst.Float(repr(total))
    return None
