"""GitLab Code Quality (``artifacts:reports:codequality``): a JSON array of violations, each with
``description``, ``check_name``, ``fingerprint``, ``severity`` and ``location.path`` /
``location.lines.begin``, the fields GitLab documents as required."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, Final

from celery_boundary.core.findings import Finding, keyed

#: pickle in a message runs code on the worker (CB101-CB103); CB301 is a team's taste; an internal
#: error is ours, not the code's. Everything else breaks or floods a queue: major.
_SEVERITY_OF: Final = {"CB101": "critical", "CB102": "critical", "CB103": "critical", "CB301": "minor",
                       "celery-internal": "info"}


def severity(code: str) -> str:
    """One of GitLab's severities (info, minor, major, critical, blocker)."""
    return _SEVERITY_OF.get(code, "major")


def render_gitlab(findings: Sequence[Finding]) -> str:
    return json.dumps([_violation(finding, key) for key, finding in keyed(findings)], indent=2) + "\n"


def _violation(finding: Finding, key: tuple[str, str, str, int]) -> dict[str, Any]:
    return {
        "description": f"{finding.code} {finding.message}",
        "check_name": finding.code,
        "fingerprint": fingerprint(key),
        "severity": severity(finding.code),
        "location": {"path": finding.path, "lines": {"begin": max(finding.line, 1)}},
    }


def fingerprint(key: tuple[str, str, str, int]) -> str:
    """The baseline's key (code, path, digest of the line's content, occurrence): unique in a report,
    the same when lines above move, so GitLab's merge-request widget does not call it new."""
    code, path, digest, occurrence = key
    return hashlib.sha256(f"{code}\0{path}\0{digest}\0{occurrence}".encode()).hexdigest()[:32]
