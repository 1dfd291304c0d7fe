"""Output formats of ``check``: text (default), json, github (workflow commands), sarif, gitlab
(Code Quality) and html (a self-contained report, ``gate.report_html``). Only text takes the terminal's
options: ``--show-source`` and colour (``wants_colour``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Final, TextIO

from celery_boundary.gate.errors import UsageError
from celery_boundary.core.findings import Finding


_BOLD, _RED, _RESET = "\033[1m", "\033[1;31m", "\033[0m"


def render_text(findings: Sequence[Finding], *, show_source: bool = False, colour: bool = False) -> str:
    """``path:line:col: CODE message``, one per line: what editors and flake8 users already parse.
    ``show_source``: the offending line under it, and a caret under its column (flake8's
    ``--show-source``)."""
    lines = []
    for finding in findings:
        if colour:
            lines.append(f"{_BOLD}{finding.path}:{finding.line}:{finding.column}:{_RESET} "
                         f"{_RED}{finding.code}{_RESET} {finding.message}\n")
        else:
            lines.append(f"{finding.render()}\n")
        if show_source and finding.source_line.strip():
            lines.append(source_with_caret(finding, colour))
    return "".join(lines)


def source_with_caret(finding: Finding, colour: bool = False) -> str:
    """The line, then a caret under the finding's column; tabs before it are kept so the caret lines up."""
    text = finding.source_line.rstrip("\r\n")
    pad = "".join(char if char == "\t" else " " for char in text[:max(finding.column - 1, 0)])
    caret = f"{_RED}^{_RESET}" if colour else "^"
    return f"    {text}\n    {pad}{caret}\n"


def wants_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal and outside CI; ``NO_COLOR`` (any non-empty value, no-color.org) turns
    it off and wins; ``FORCE_COLOR`` (non-empty) turns it on without a terminal or in CI."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("CI"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def render_json(findings: Sequence[Finding]) -> str:
    """An array of objects with code, path, line, column (1-based) and message."""
    rows = [
        {"code": f.code, "path": f.path, "line": f.line, "column": f.column, "message": f.message}
        for f in findings
    ]
    return json.dumps(rows, indent=2) + "\n"


def render_github(findings: Sequence[Finding]) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on the pull request."""
    return "".join(
        f"::error file={_property(f.path)},line={f.line},col={f.column},title={_property(f.code)}"
        f"::{_data(f.message)}\n"
        for f in findings
    )


def _data(text: str) -> str:
    # The escaping GitHub's runner (actions/toolkit command.ts) undoes for a command's message.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _render_sarif(findings: Sequence[Finding]) -> str:
    from celery_boundary.gate import sarif  # each format's module is imported when chosen

    return sarif.render_sarif(findings)


def _render_gitlab(findings: Sequence[Finding]) -> str:
    from celery_boundary.gate import gitlab

    return gitlab.render_gitlab(findings)


def _render_html(findings: Sequence[Finding]) -> str:
    from celery_boundary.gate import report_html  # the graph and the page: 20 ms of imports

    return report_html.render_findings(findings)


FORMATS: Final[dict[str, Callable[[Sequence[Finding]], str]]] = {
    "text": render_text,
    "json": render_json,
    "sarif": _render_sarif,
    "github": render_github,
    "gitlab": _render_gitlab,
    "html": _render_html,
}


def renderer(name: str) -> Callable[[Sequence[Finding]], str]:
    try:
        return FORMATS[name]
    except KeyError:
        raise UsageError(f"unknown format {name!r}; choose one of: {', '.join(FORMATS)}") from None
