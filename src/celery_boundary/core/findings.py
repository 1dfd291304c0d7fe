"""The one record of a diagnostic, from detection to every output format: the CB rules return it
(without a path, which ``check`` adds with the offending line), ``check --mypy`` parses mypy's output
into it, and the baseline, ``noqa``, ``fix`` and every renderer read it. The flake8 plugin hands its
line, column and ``text`` to flake8."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Final


#: The gate's own code for a file it did not check (unreadable, not a regular file, not parsable,
#: too deeply nested): a skip is a finding, so it fails the gate and can be baselined.
NOT_CHECKED: Final = "CB001"


@dataclass(frozen=True, order=True)
class Finding:
    """A diagnostic at a place. ``line`` and ``column`` are 1-based (as flake8 and mypy print them)."""

    path: str
    line: int
    column: int
    code: str
    message: str
    #: The text of the offending physical line; the baseline fingerprints it so entries survive line shifts.
    source_line: str = ""
    #: Which engine produced it: "ast" (the CB rules) or "mypy".
    tool: str = "ast"

    @property
    def text(self) -> str:
        """``CODE message``: what flake8 prints (flake8 and ``# noqa`` need the code first)."""
        return f"{self.code} {self.message}"

    def render(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.text}"


def fingerprint(finding: Finding) -> str:
    """A digest of the code and the offending line with its whitespace normalised (not its number)."""
    content = " ".join(finding.source_line.split())
    digest = hashlib.sha256(f"{finding.code}\0{content}".encode()).hexdigest()
    return digest[:16]


def keyed(findings: Iterable[Finding]) -> list[tuple[tuple[str, str, str, int], Finding]]:
    """Each finding with its baseline key: code, path, fingerprint and occurrence index.

    The occurrence index tells apart identical-looking findings in one file (two ``.delay()`` calls on
    equal lines): the n-th one, in line order, keeps index n wherever the lines move.
    """
    seen: Counter[tuple[str, str, str]] = Counter()
    result = []
    for finding in sorted(findings):
        base = (finding.code, finding.path, fingerprint(finding))
        result.append(((*base, seen[base]), finding))
        seen[base] += 1
    return result


def select(findings: Sequence[Finding], chosen: frozenset[str]) -> list[Finding]:
    """Keep the findings whose code is in ``chosen`` (the expanded --select/--ignore set)."""
    return [finding for finding in findings if finding.code in chosen]


def with_source(finding: Finding, lines: Sequence[str]) -> Finding:
    """Attach the offending line's text when the producer did not (mypy diagnostics)."""
    if finding.source_line or not 0 < finding.line <= len(lines):
        return finding
    return replace(finding, source_line=lines[finding.line - 1])
