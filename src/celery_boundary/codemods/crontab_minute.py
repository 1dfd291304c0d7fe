"""CB402: add ``minute=0`` to a ``crontab(hour=...)`` (``minute="0"`` to a ``CrontabSchedule`` row),
only where the intent is plain: the hour is a literal naming hours (``3``, ``"8,20"``, ``"9-17"``, not
``"*"`` or ``"*/2"``) and nothing gives a minute. A crontab with only a day or a month, a computed hour,
or a ``**spread`` is left to a human.
"""

from __future__ import annotations

import re
from typing import Final

import libcst as cst

from celery_boundary.codemods.base import FixTransformer, last_name

CODES: Final = ("CB402",)
_PLAIN_HOURS: Final = re.compile(r"\d{1,2}(?:[-,]\d{1,2})*")
_MODEL: Final = "CrontabSchedule"


class CrontabMinute(FixTransformer):
    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not self.starts_on_flagged_line(original, "CB402"):
            return updated
        model = _names_model(updated.func)
        if last_name(updated.func) != "crontab" and not model:
            return updated
        if any(arg.star or arg.keyword is None for arg in updated.args):
            return updated  # a positional minute, or ``**fields``
        keywords = {arg.keyword.value: arg for arg in updated.args if arg.keyword is not None}
        hour = keywords.get("hour")
        if "minute" in keywords or hour is None or not _plain_hour(hour.value):
            return updated
        zero: cst.BaseExpression = cst.SimpleString('"0"') if model else cst.Integer("0")
        # On hour's line, before it: no line is added (fixes after this one still find theirs).
        minute = hour.with_changes(keyword=cst.Name("minute"), value=zero,
                                   comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        position = list(updated.args).index(hour)
        self.changed += 1
        return updated.with_changes(args=[*updated.args[:position], minute, *updated.args[position:]])


def _names_model(func: cst.BaseExpression) -> bool:
    """``CrontabSchedule(...)`` or ``CrontabSchedule.objects.create(...)`` (and get_or_create, ...)."""
    if last_name(func) == _MODEL:
        return True
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Attribute) and func.value.attr.value == "objects":
        return last_name(func.value.value) == _MODEL
    return False


def _plain_hour(value: cst.BaseExpression) -> bool:
    if isinstance(value, cst.Integer):
        return True
    if isinstance(value, cst.SimpleString):
        text = value.evaluated_value
        return isinstance(text, str) and _PLAIN_HOURS.fullmatch(text.replace(" ", "")) is not None
    return False
