"""Files written for a newer Python than the one running ``check`` (CB001 otherwise): libcst's native
parser (1.8.5 and later) reads the grammar of Python 3.14 on any Python libcst runs on, so a file that
``ast.parse`` rejects is read by libcst, the few newer constructs are rewritten into older spellings
that mean the same to the CB rules, and the result is given to ``ast.parse`` again:

- ``except A, B:`` (3.14, PEP 758) -> ``except (A, B):``;
- ``except* E:`` (3.11) -> ``except E:`` (on Python 3.10);
- ``def f[T](...)`` and ``class C[T]:`` (3.12, PEP 695; defaults, 3.13) -> without the type parameters;
- ``type Alias[T] = ...`` (3.12) -> ``Alias = ...``;
- t-strings (3.14, PEP 750) and f-strings only Python 3.12 reads (PEP 701: a quote of the same kind or
  a backslash inside the braces) -> an empty string literal spanning the same lines.

libcst's native parser is not protected like CPython's: brackets nested a few thousand deep overflow its
stack (the process dies) and a chain of tens of thousands of operators takes minutes. A file is given to
it only when tokenize shows brackets nested no deeper than Python itself allows (200) and no logical line
with more than ``MAX_OPERATORS`` operators; otherwise it stays CB001.

Line numbers stay those of the file (a rewrite that would add or remove a line is given up: the file
stays CB001); columns after a rewritten construct on its line may move by a few characters. A file that
is still not read is CB001 with Python's own message. Never raises.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from typing import Final

import libcst as cst

#: The number of newlines in a string literal's code (what its replacement must keep).
_NEWLINE = "\n"


def parse_newer(text: str) -> tuple[ast.Module | None, bool]:
    """(the ast of ``text`` read through libcst with newer syntax rewritten, or None; whether libcst
    reads the file at all, i.e. it is valid in some Python). ``check`` imports this module only for a
    file ``ast.parse`` rejected (libcst takes a while to import)."""
    if not _within_reach(text):
        return None, False
    try:
        module = cst.parse_module(text)
    except Exception:  # libcst's parser errors: not Python of any version libcst knows
        return None, False
    try:
        older = module.visit(_OlderSpelling()).code
    except Exception:  # a node it cannot rewrite: the file stays CB001
        return None, True
    if older.count(_NEWLINE) != text.count(_NEWLINE):
        return None, True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(older), True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, True


#: CPython's tokenizer refuses brackets nested deeper (MAXLEVEL); libcst crashes from ~2000.
MAX_DEPTH: Final = 200
#: Operators and operator keywords on one logical line: libcst reads 1000 in about a second.
MAX_OPERATORS: Final = 1000
_OPERATOR_WORDS: Final = frozenset({"not", "and", "or", "lambda", "if", "else", "await", "in", "is"})
_FLAT: Final = frozenset({",", ":", ".", ";", "="})


def _within_reach(text: str) -> bool:
    """Brackets and operator chains shallow enough for libcst's parser (see the module docstring)."""
    depth = operators = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.OP:
                if token.string in "([{":
                    depth += 1
                    if depth > MAX_DEPTH:
                        return False
                elif token.string in ")]}":
                    depth -= 1
                if token.string not in _FLAT:
                    operators += 1
            elif token.type == tokenize.NAME and token.string in _OPERATOR_WORDS:
                operators += 1
            elif token.type == tokenize.NEWLINE:
                operators = 0
            if operators > MAX_OPERATORS:
                return False
    except (tokenize.TokenError, SyntaxError, ValueError):
        return False
    return True


class _OlderSpelling(cst.CSTTransformer):
    """The rewrites listed in the module docstring."""

    def leave_ExceptHandler(self, original: cst.ExceptHandler,
                            updated: cst.ExceptHandler) -> cst.ExceptHandler:
        return updated.with_changes(type=_parenthesized(updated.type))

    def leave_TryStar(self, original: cst.TryStar, updated: cst.TryStar) -> cst.Try:
        handlers = [cst.ExceptHandler(body=h.body, type=_parenthesized(h.type), name=h.name,
                                      leading_lines=h.leading_lines, whitespace_after_except=h.whitespace_after_star,
                                      whitespace_before_colon=h.whitespace_before_colon)
                    for h in updated.handlers]
        return cst.Try(body=updated.body, handlers=handlers, orelse=updated.orelse,
                       finalbody=updated.finalbody, leading_lines=updated.leading_lines,
                       whitespace_before_colon=updated.whitespace_before_colon)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return updated.with_changes(type_parameters=None)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        return updated.with_changes(type_parameters=None)

    def leave_TypeAlias(self, original: cst.TypeAlias, updated: cst.TypeAlias) -> cst.Assign:
        return cst.Assign(targets=[cst.AssignTarget(updated.name)], value=updated.value,
                          semicolon=updated.semicolon)

    def leave_TemplatedString(self, original: cst.TemplatedString,
                              updated: cst.TemplatedString) -> cst.SimpleString:
        return _blank(updated)

    def leave_FormattedString(self, original: cst.FormattedString,
                              updated: cst.FormattedString) -> cst.BaseExpression:
        code = cst.Module([]).code_for_node(updated)
        try:
            ast.parse(f"({code})")
        except (SyntaxError, ValueError):
            return _blank(updated)  # PEP 701: only a newer Python reads it
        return updated


def _parenthesized(expr: cst.BaseExpression | None) -> cst.BaseExpression | None:
    if isinstance(expr, cst.Tuple) and not expr.lpar:
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


def _blank(node: cst.CSTNode) -> cst.SimpleString:
    """An empty string literal over as many lines as ``node``'s code."""
    lines = cst.Module([]).code_for_node(node).count(_NEWLINE)
    return cst.SimpleString('""' if not lines else '"""' + _NEWLINE * lines + '"""')
