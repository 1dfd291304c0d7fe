"""Output formats of ``check``: text (default), json, github (workflow commands) and sarif."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Final

from celery_boundary.gate import sarif
from celery_boundary.gate.errors import UsageError
from celery_boundary.core.findings import Finding


def render_text(findings: Sequence[Finding]) -> str:
    """``path:line:col: CODE message``, one per line: what editors and flake8 users already parse."""
    return "".join(f"{finding.render()}\n" for finding in findings)


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


FORMATS: Final[dict[str, Callable[[Sequence[Finding]], str]]] = {
    "text": render_text,
    "json": render_json,
    "sarif": sarif.render_sarif,
    "github": render_github,
}


def renderer(name: str) -> Callable[[Sequence[Finding]], str]:
    try:
        return FORMATS[name]
    except KeyError:
        raise UsageError(f"unknown format {name!r}; choose one of: {', '.join(FORMATS)}") from None
