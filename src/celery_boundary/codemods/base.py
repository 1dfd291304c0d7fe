"""What every fix shares: which lines findings point at, the statement around a node, the name a
value is assigned to, and appending an item to a call or a dict without breaking its layout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import libcst as cst
from libcst.metadata import ParentNodeProvider, PositionProvider

Item = TypeVar("Item", cst.Arg, cst.DictElement)


class FixTransformer(cst.CSTTransformer):
    """A transformer that knows the lines where findings of its codes were reported."""

    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, lines: dict[str, frozenset[int]], celery: tuple[int, ...] | None = None,
                 scheduler: str | None = None) -> None:
        super().__init__()
        self.lines = lines  # code -> 1-based lines with a finding
        #: The oldest celery the project allows (``analysis.dependencies``), None when unknown.
        self.celery = celery
        #: The beat scheduler the project runs (``analysis.project.Project.scheduler``), None when unknown.
        self.scheduler = scheduler
        self.changed = 0

    def statement_lines(self, node: cst.CSTNode) -> range:
        """The lines of the simple statement (or decorator) around ``node``."""
        current: cst.CSTNode = node
        while not isinstance(current, (cst.SimpleStatementLine, cst.Decorator)):
            parent = self.get_metadata(ParentNodeProvider, current, None)
            if parent is None:
                break
            current = parent
        where = self.get_metadata(PositionProvider, current)
        return range(where.start.line, where.end.line + 1)

    def flagged(self, node: cst.CSTNode, codes: Sequence[str]) -> bool:
        span = self.statement_lines(node)
        return any(line in self.lines.get(code, frozenset()) for code in codes for line in span)

    def starts_on_flagged_line(self, node: cst.CSTNode, code: str) -> bool:
        return self.get_metadata(PositionProvider, node).start.line in self.lines.get(code, frozenset())

    def setting_name(self, node: cst.CSTNode) -> str | None:
        """The setting a value is given to: keyword, dict key, or assignment target (last part)."""
        current = node
        while True:
            parent = self.get_metadata(ParentNodeProvider, current, None)
            if isinstance(parent, cst.Arg):
                if parent.keyword is not None:
                    return parent.keyword.value
            elif isinstance(parent, cst.DictElement):
                key = parent.key
                if parent.value is current and isinstance(key, cst.SimpleString):
                    value = key.evaluated_value
                    return value if isinstance(value, str) else None
                return None
            elif isinstance(parent, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
                target = parent.targets[0].target if isinstance(parent, cst.Assign) else parent.target
                return target_name(target)
            elif isinstance(parent, cst.Call) and isinstance(parent.func, cst.Attribute) and \
                    parent.func.attr.value in ("extend", "append"):
                return target_name(parent.func.value)  # ``accept_content.extend([...])``
            elif not isinstance(parent, (cst.Element, cst.List, cst.Tuple, cst.Set, cst.Call, cst.IfExp,
                                         cst.BooleanOperation)):
                return None
            current = parent


def target_name(target: cst.BaseExpression) -> str | None:
    if isinstance(target, cst.Name):
        return target.value
    if isinstance(target, cst.Attribute):
        return target.attr.value
    if isinstance(target, cst.Subscript) and len(target.slice) == 1:
        index = target.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            value = index.value.evaluated_value
            return value if isinstance(value, str) else None
    return None


def last_name(node: cst.BaseExpression) -> str | None:
    """``timedelta`` for ``timedelta`` and ``datetime.timedelta``; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def append_item(items: Sequence[Item], new: Item) -> list[Item]:
    """``items`` + ``new``, laid out like the existing items (one per line, or all on one line)."""
    if not items:
        return [new]
    *head, last = items
    separator = head[-1].comma if head and isinstance(head[-1].comma, cst.Comma) else None
    if separator is not None and isinstance(separator.whitespace_after, cst.ParenthesizedWhitespace):
        indent = separator.whitespace_after.last_line
        trailing = last.comma
        if isinstance(trailing, cst.Comma) and isinstance(trailing.whitespace_after, cst.ParenthesizedWhitespace):
            closing = trailing.whitespace_after
            last = last.with_changes(comma=cst.Comma(whitespace_after=cst.ParenthesizedWhitespace(
                first_line=closing.first_line, indent=True, last_line=indent)))
            new = new.with_changes(comma=cst.Comma(whitespace_after=cst.ParenthesizedWhitespace(
                empty_lines=closing.empty_lines, indent=closing.indent, last_line=closing.last_line)))
        else:  # the newline before the closing bracket belongs to the bracket: keep a trailing comma
            if isinstance(trailing, cst.Comma):
                new = new.with_changes(comma=cst.Comma())
            last = last.with_changes(comma=cst.Comma(whitespace_after=cst.ParenthesizedWhitespace(
                indent=True, last_line=indent)))
        return [*head, last, new]
    last = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return [*head, last, new]
