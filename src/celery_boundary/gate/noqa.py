"""``# noqa`` the way flake8 7 reads it, so a comment written for the flake8 plugin also silences
``celery-boundary check``:

- ``# noqa`` (any case) silences every code on the line; ``# noqa: CB101,CB2`` silences codes equal to or
  starting with a listed code (flake8 7.5 ``Violation.is_inline_ignored``);
- lines joined by a token that spans them (a triple-quoted string) share one comment: a ``# noqa``
  after the closing quotes covers the line the string starts on; a line break inside brackets does not
  join lines (flake8 7.5 ``FileProcessor._noqa_line_mapping``);
- a line that is only ``# flake8: noqa`` skips the file.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Sequence
from typing import Final

# Same pattern as flake8 7.5 defaults.NOQA_INLINE_REGEXP (codes are letters then digits).
NOQA_INLINE: Final = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
NOQA_FILE: Final = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)
_SPLIT: Final = re.compile(r"[,\s]")


class NoqaMap:
    """Answers "is CODE silenced on line N" for one file; tokenizes only files that mention noqa."""

    def __init__(self, text: str, lines: Sequence[str]) -> None:
        self._lines = lines
        self._mentions = "noqa" in text.lower()
        self._logical: dict[int, str] | None = None
        self._text = text

    def skips_file(self) -> bool:
        return self._mentions and any(NOQA_FILE.match(line) for line in self._lines)

    def silences(self, code: str, line: int) -> bool:
        if not self._mentions:
            return False
        match = NOQA_INLINE.search(self._logical_line(line))
        if match is None:
            return False
        listed = match.group("codes")
        if listed is None:
            return True
        codes = tuple(part for part in _SPLIT.split(listed) if part)
        return code in codes or code.startswith(codes)

    def _logical_line(self, line: int) -> str:
        if self._logical is None:
            self._logical = _map_logical_lines(self._text, len(self._lines))
        fallback = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        return self._logical.get(line, fallback)


def _map_logical_lines(text: str, count: int) -> dict[int, str]:
    """Map each physical line number to the text of the lines its tokens span (flake8's noqa scope)."""
    lines = text.splitlines(keepends=True)
    mapping: dict[int, str] = {}
    first, last = count + 2, -1
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first, last = min(first, token.start[0]), max(last, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                joined = "".join(lines[first - 1 : last])
                mapping.update(dict.fromkeys(range(first, last + 1), joined))
                first, last = count + 2, -1
    except (tokenize.TokenError, SyntaxError):
        return {}  # as flake8: a file that does not tokenize falls back to physical lines
    return mapping
