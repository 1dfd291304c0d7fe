"""CB101-CB103: pickle -> json. A pickle string given to a ``*serializer`` setting (config module,
Django settings, ``Celery(...)``, ``app.conf``, ``@task(serializer=)``, a Task class attribute, a call's
``serializer=``) becomes ``"json"``; pickle is removed from an ``*accept_content`` list (``["json"]``
when nothing is left). Unsafe: messages already queued as pickle are refused once workers accept only
json; migrate through ``accept_content = ["json", "pickle"]`` until the queues drain (docs/rules/CB102.md).
"""

from __future__ import annotations

from typing import Final, Union

import libcst as cst

from celery_boundary.codemods.base import FixTransformer, string_value

CODES: Final = ("CB101", "CB102", "CB103")
PICKLE: Final = frozenset({"pickle", "application/x-python-serialize"})
Container = Union[cst.List, cst.Tuple, cst.Set]


class PickleToJson(FixTransformer):
    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.BaseExpression:
        if string_value(original) not in PICKLE:
            return updated
        if isinstance(self.get_metadata(cst.metadata.ParentNodeProvider, original, None), cst.Element):
            return updated  # an item of a list: accept_content, handled by its container
        name = (self.setting_name(original) or "").lower()
        if name.endswith("serializer") and self.flagged(original, ("CB101", "CB103")):
            self.changed += 1
            return updated.with_changes(value=_requote(original.value, "json"))
        if name.endswith("accept_content") and self.flagged(original, ("CB102",)):
            self.changed += 1
            return updated.with_changes(value=_requote(original.value, "json"))
        return updated

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.BaseExpression:
        return self._drop_pickle(original, updated)

    def leave_Tuple(self, original: cst.Tuple, updated: cst.Tuple) -> cst.BaseExpression:
        return self._drop_pickle(original, updated)

    def leave_Set(self, original: cst.Set, updated: cst.Set) -> cst.BaseExpression:
        return self._drop_pickle(original, updated)

    def _drop_pickle(self, original: Container, updated: Container) -> cst.BaseExpression:
        pickled = [e for e in updated.elements if string_value(e.value) in PICKLE]
        if not pickled:
            return updated
        name = (self.setting_name(original) or "").lower()
        if not name.endswith("accept_content") or not self.flagged(original, ("CB102",)):
            return updated
        kept = [e for e in updated.elements if string_value(e.value) not in PICKLE]
        self.changed += 1
        if not kept:
            quote = pickled[0].value
            assert isinstance(quote, cst.SimpleString)
            kept = [cst.Element(cst.SimpleString(_requote(quote.value, "json")))]
        last = kept[-1]
        original_last = updated.elements[-1]
        kept[-1] = last.with_changes(comma=original_last.comma)  # keep the layout of the closing line
        if isinstance(updated, cst.Tuple) and len(kept) == 1 and not isinstance(kept[0].comma, cst.Comma):
            kept[0] = kept[0].with_changes(comma=cst.Comma())  # ("json",) stays a tuple
        return updated.with_changes(elements=kept)


def _requote(literal: str, value: str) -> str:
    """``'pickle'`` -> ``'json'``, keeping the prefix and quote style."""
    start = len(literal) - len(literal.lstrip("rRbBuUfF"))
    prefix, body = literal[:start], literal[start:]
    quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
    return f"{prefix}{quote}{value}{quote}"
