"""What ``check`` says on stderr after the report, in every format: the summary line and
``--statistics`` (findings per rule). stderr, so a JSON, SARIF or GitLab report on stdout stays valid."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from celery_boundary.core import rules
from celery_boundary.core.findings import NOT_CHECKED, Finding


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 finding``, ``2 findings``; ``many`` when the plural is not ``singular + "s"`` (entries)."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


@dataclass(frozen=True)
class Summary:
    findings: Sequence[Finding]
    files: int
    format: str
    #: Findings the baseline accepted (None: no baseline was used), and the baseline's file.
    accepted: int | None = None
    baseline: Path | None = None
    output: Path | None = None
    #: .py files left out of the walk as test suites or examples, by the ``test_paths`` pattern.
    left_out: Mapping[str, int] = field(default_factory=dict)
    #: Files not checked (CB001): what they define is missing from the project-wide rules too.
    unchecked: Sequence[str] = ()

    def line(self) -> str:
        """``celery-boundary: 2 findings in 1 of 3 files; 4 accepted by the baseline (b.json); wrote the
        sarif report to out.sarif``."""
        where = len({finding.path for finding in self.findings})
        parts = [f"{plural(len(self.findings), 'finding')} in {where} of {plural(self.files, 'file')}"]
        if self.accepted is not None:
            parts.append(f"{self.accepted} accepted by the baseline ({self.baseline})")
        if self.unchecked:
            names = ", ".join(self.unchecked[:3]) + (f" and {len(self.unchecked) - 3} more"
                                                     if len(self.unchecked) > 3 else "")
            parts.append(f"{plural(len(self.unchecked), 'file')} not checked ({names}): the project-wide "
                         "rules did not see the tasks and uses in them either")
        if self.left_out:
            counts = ", ".join(f"{pattern} {count}" for pattern, count in
                               sorted(self.left_out.items(), key=lambda item: (-item[1], item[0])))
            total = sum(self.left_out.values())
            parts.append(f"{plural(total, 'test or example file')} not checked ({counts}; "
                         "test_paths = [] checks them)")
        if self.output is not None:
            parts.append(f"wrote the {self.format} report to {self.output}")
        return "celery-boundary: " + "; ".join(parts) + "\n"


def statistics(findings: Sequence[Finding]) -> str:
    """One line per code: the code, its count and the rule's slug, the most frequent first (then by code)."""
    counts = Counter(finding.code for finding in findings)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    width = max((len(str(count)) for count in counts.values()), default=1)
    code_width = max((len(code) for code in counts), default=5)
    return "".join(f"{code:<{code_width}}  {count:>{width}}  {_slug(code)}\n" for code, count in rows)


def _slug(code: str) -> str:
    rule = rules.BY_CODE.get(code)
    return rule.slug if rule else "mypy error about a task call"


def report_skips(skips: Sequence[Finding], chosen: frozenset[str], err: TextIO) -> None:
    """One line on stderr per file that was not checked, when CB001 is not selected (when it is, each
    such file is a finding): a skip is never silent."""
    if NOT_CHECKED not in chosen:  # --ignore CB001: still never silent
        for skip in skips:
            err.write(f"{skip.path}: skipped, {skip.message.removeprefix('file not checked: ')}\n")
