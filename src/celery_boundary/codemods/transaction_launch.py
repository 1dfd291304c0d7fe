"""CB206: launch the task after the commit. Only a launch whose result is not used (a statement of
its own) is rewritten:

- ``t.delay(...)`` -> ``t.delay_on_commit(...)`` and ``t.apply_async(...)`` ->
  ``t.apply_async_on_commit(...)`` when the project requires celery 5.4 or later
  (``analysis.dependencies``): both return None, hence the unused result;
- otherwise (an older or unknown celery, ``send_task``, a canvas called, a transaction on another
  database than the default: ``delay_on_commit`` waits only for the default one):
  ``transaction.on_commit(functools.partial(<callable>, <arguments>)[, using=<database>])``, adding
  ``from django.db import transaction`` and ``import functools`` when missing. ``functools.partial``
  evaluates the arguments now, as ``delay_on_commit`` does; a lambda would read them at the commit,
  after a loop variable has moved on.

A module that binds ``transaction`` to anything but ``django.db.transaction`` is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import libcst as cst
from libcst.metadata import ParentNodeProvider

from celery_boundary.codemods.base import FixTransformer, last_name

CODES: Final = ("CB206",)
#: ``delay_on_commit`` and ``apply_async_on_commit`` appeared in celery 5.4 (celery.contrib.django.task).
ON_COMMIT_SINCE: Final = (5, 4)
_RENAMED: Final = {"delay": "delay_on_commit", "apply_async": "apply_async_on_commit"}


class TransactionLaunch(FixTransformer):
    def __init__(self, lines: dict[str, frozenset[int]], celery: tuple[int, ...] | None = None,
                 scheduler: str | None = None) -> None:
        super().__init__(lines, celery, scheduler)
        self.needs: set[str] = set()

    def visit_Module(self, node: cst.Module) -> bool:
        self.bindings = _transaction_bindings(node)
        return True

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not self.starts_on_flagged_line(original, "CB206"):
            return updated
        if not isinstance(self.get_metadata(ParentNodeProvider, original, None), cst.Expr):
            return updated  # the result is used: neither rewrite returns it
        func = updated.func
        using = self._database(original)
        if isinstance(func, cst.Attribute) and func.attr.value in _RENAMED and self.celery is not None \
                and self.celery >= ON_COMMIT_SINCE and using is None:
            self.changed += 1
            return updated.with_changes(func=func.with_changes(attr=cst.Name(_RENAMED[func.attr.value])))
        if self.bindings not in ("django", "none"):
            return updated
        self.needs.update({"transaction", "functools"} if updated.args else {"transaction"})
        self.changed += 1
        if isinstance(func, cst.Attribute) and func.attr.value.endswith("_on_commit"):
            func = func.with_changes(attr=cst.Name(func.attr.value.removesuffix("_on_commit")))
        later: cst.BaseExpression = func
        if updated.args:
            args = [cst.Arg(func), *updated.args]
            last = args[-1]
            if isinstance(last.comma, cst.Comma) and not isinstance(
                    last.comma.whitespace_after, cst.ParenthesizedWhitespace):
                args[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT)
            args[0] = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            later = cst.Call(cst.Attribute(cst.Name("functools"), cst.Name("partial")), args,
                             whitespace_before_args=updated.whitespace_before_args)
        args = [cst.Arg(later)]
        if using is not None:  # on_commit waits for the default database unless told
            args = [cst.Arg(later, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                    cst.Arg(using, keyword=cst.Name("using"),
                            equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))]
        return cst.Call(cst.Attribute(cst.Name("transaction"), cst.Name("on_commit")), args)

    def _database(self, node: cst.CSTNode) -> cst.BaseExpression | None:
        """The ``using=`` of the ``atomic`` around ``node`` when it is not the default database."""
        current = node
        while True:
            parent = self.get_metadata(ParentNodeProvider, current, None)
            if parent is None or isinstance(parent, (cst.Lambda, cst.ClassDef)):
                return None
            if isinstance(parent, cst.With) and current is parent.body:
                for item in parent.items:
                    if _is_atomic(item.item):
                        return _using(item.item)
            if isinstance(parent, cst.FunctionDef):
                for decorator in parent.decorators:
                    if _is_atomic(decorator.decorator):
                        return _using(decorator.decorator)
                return None
            current = parent

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        present = _imported(updated)
        missing = [name for name in ("functools", "transaction") if name in self.needs and name not in present]
        if not missing:
            return updated
        lines = {"functools": "import functools\n", "transaction": "from django.db import transaction\n"}
        new = [cst.parse_statement(lines[name]) for name in missing]
        body = list(updated.body)
        at = _after_imports(body)
        return updated.with_changes(body=[*body[:at], *new, *body[at:]])


def _is_atomic(expr: cst.BaseExpression) -> bool:
    """``atomic``, ``transaction.atomic(...)``, ``method_decorator(atomic(...))`` (CB206 found the
    transaction; this only finds it again)."""
    if isinstance(expr, cst.Call):
        if last_name(expr.func) == "method_decorator" and expr.args:
            return _is_atomic(expr.args[0].value)
        expr = expr.func
    return last_name(expr) == "atomic"


def _using(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """The database an ``atomic(...)`` names (``using=`` or first), None for the default one."""
    if not isinstance(expr, cst.Call):
        return None
    if last_name(expr.func) == "method_decorator" and expr.args:
        return _using(expr.args[0].value)
    keyword = next((arg.value for arg in expr.args if arg.keyword is not None and arg.keyword.value == "using"), None)
    first = expr.args[0] if expr.args and expr.args[0].keyword is None and not expr.args[0].star else None
    using = keyword if keyword is not None else first.value if first is not None else None
    if using is None or isinstance(using, cst.Name) and using.value == "None" or \
            isinstance(using, cst.SimpleString) and using.evaluated_value == "default":
        return None
    return using


def _transaction_bindings(module: cst.Module) -> str:
    """"django" when ``transaction`` is django.db's, "other" when the module imports another one,
    "none" when it binds no ``transaction`` at module level."""
    found = "none"
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname else alias.name
                    if isinstance(bound, cst.Name) and bound.value == "transaction":
                        source = cst.Module([]).code_for_node(small.module) if small.module else ""
                        found = "django" if source == "django.db" and alias.name.value == "transaction" else "other"
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name) and \
                            alias.asname.name.value == "transaction":
                        found = "other"
    return found


def _imported(module: cst.Module) -> set[str]:
    names = set()
    if _transaction_bindings(module) == "django":
        names.add("transaction")
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Import) and any(
                        alias.asname is None and cst.Module([]).code_for_node(alias.name) == "functools"
                        for alias in small.names):
                    names.add("functools")
    return names


def _after_imports(body: Sequence[cst.BaseStatement]) -> int:
    """The position after the module's leading docstring and imports."""
    at = 0
    for position, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine):
            break
        small = statement.body[0]
        if isinstance(small, (cst.Import, cst.ImportFrom)) or position == 0 and isinstance(small, cst.Expr) and \
                isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)):
            at = position + 1
        else:
            break
    return at
