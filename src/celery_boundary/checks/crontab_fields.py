"""CB402 (the periodic group's crontab half, reported through ``checks.periodic``): ``crontab`` with an
hour (or a day or a month) and no minute.

celery's ``crontab`` and django-celery-beat's ``CrontabSchedule`` default ``minute`` to ``"*"``: a
``crontab(hour=3)`` fires at every minute of 3 o'clock, 60 runs where one was meant
(tests/truth/test_crontab_hours.py replays a day with celery 5.7's ``is_due``; test_beat_expiry.py
reads the model's default). A crontab only compared (in a comparison or an ``assert``) is never
scheduled and is not reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Final

from celery_boundary.analysis.index import ModuleIndex, Site
from celery_boundary.analysis.schedulers import CRONTAB_MODEL, beat_model
from celery_boundary.checks.common import dict_items, report, string_of
from celery_boundary.core.findings import Finding

CRONTAB: Final = "celery.schedules.crontab"
#: The fields coarser than a minute: given without ``minute``, they select whole hours or days.
COARSE: Final = ("hour", "day_of_week", "day_of_month", "month_of_year")
_DB_CREATE: Final = frozenset({"create", "get_or_create", "update_or_create"})
#: Keywords a reported call must have: a coarse field, or a row's ``defaults`` that may hold one.
_WORTH_RESOLVING: Final = frozenset({*COARSE, "defaults"})


def check(index: ModuleIndex, code: str) -> Iterator[Finding]:
    """Findings under ``code`` (the periodic group owns it)."""
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        if not any(kw.arg in _WORTH_RESOLVING for kw in call.keywords):
            continue  # no coarse field given: nothing to report, and resolving costs a scope walk
        fields = _fields(index, call, site)
        if fields is None or "minute" in fields or None in fields:
            continue
        given = [name for name in COARSE if name in fields]
        if not given or _only_compared(index, call):
            continue
        shown = ", ".join(f"{name}={ast.unparse(value)}" for name, value in fields.items()
                          if name in given and value is not None)
        span = "every minute of those hours (60 runs an hour)" if "hour" in given else \
            "every minute of those days (1440 runs a day)"
        yield report(call, code, (
            f"crontab({shown}) has no minute: minute defaults to '*', so it fires {span}; add "
            "minute=0 to run once at the start of the hour (or the minute you mean)"))


def _only_compared(index: ModuleIndex, call: ast.Call) -> bool:
    """The crontab is an operand of a comparison or the test of an ``assert``
    (``assert crontab.from_string("0 * * * SUN") == crontab(day_of_week="SUN")``): it is compared,
    never handed to a scheduler, so how often it fires does not matter."""
    node: ast.AST = call
    while True:
        parent = index.parent(node)
        if parent is None or isinstance(parent, ast.stmt) and not isinstance(parent, ast.Assert):
            return False
        if isinstance(parent, (ast.Compare, ast.Assert)):
            return True
        if isinstance(parent, (ast.Lambda, ast.IfExp, ast.BoolOp)):
            return False
        node = parent


def _fields(index: ModuleIndex, call: ast.Call, site: Site) -> dict[str | None, ast.expr | None] | None:
    """The fields a crontab call or a CrontabSchedule row is given (``None`` key: a ``**spread``), or
    None when the call is neither. A positional argument is ``minute`` (crontab's first parameter)."""
    func = call.func
    resolved = index.resolve(func, site)
    if resolved == CRONTAB or resolved == CRONTAB_MODEL:
        fields: dict[str | None, ast.expr | None] = {kw.arg: kw.value for kw in call.keywords}
        if call.args:
            fields["minute"] = call.args[0]
        return fields
    if isinstance(func, ast.Attribute) and func.attr in _DB_CREATE and isinstance(func.value, ast.Attribute) \
            and func.value.attr == "objects" and beat_model(index, func.value.value, site) == CRONTAB_MODEL:
        fields = {kw.arg: kw.value for kw in call.keywords if kw.arg != "defaults"}
        defaults = next((kw.value for kw in call.keywords if kw.arg == "defaults"), None)
        if defaults is not None:
            items = dict_items(defaults)
            if items is None:
                return None
            fields.update((string_of(k) if k is not None else None, v) for k, v in items)
        return fields
    return None
