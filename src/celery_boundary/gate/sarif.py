"""SARIF 2.1.0 (OASIS errata 01) for code scanning: one run, every registry rule as a reporting
descriptor, one result per finding with a partial fingerprint that survives line shifts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any, Final
from urllib.parse import quote

from celery_boundary import __version__
from celery_boundary.core import rules
from celery_boundary.gate import catalog
from celery_boundary.core.findings import Finding, keyed

SCHEMA_URI: Final = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY: Final = "celeryBoundary/v1"


def render_sarif(findings: Sequence[Finding]) -> str:
    return json.dumps(build_log(findings), indent=2) + "\n"


def build_log(findings: Sequence[Finding]) -> dict[str, Any]:
    index = {rule.code: i for i, rule in enumerate(rules.RULES)}
    results = [_result(finding, key, index) for key, finding in keyed(findings)]
    driver = {
        "name": "celery-boundary",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": [_descriptor(rule) for rule in rules.RULES],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}


def _descriptor(rule: rules.Rule) -> dict[str, Any]:
    page = catalog.page(rule)
    return {
        "id": rule.code,
        "name": rule.slug,
        "shortDescription": {"text": rule.summary},
        "helpUri": catalog.help_uri(rule),
        "help": {"text": page.text, "markdown": catalog.with_absolute_links(page.text)},
        "defaultConfiguration": {"enabled": rule.default_enabled, "level": "error"},
        "properties": {"tags": [tool.value for tool in rule.tools], "fix": rule.fix.value},
    }


def _result(finding: Finding, key: tuple[str, str, str, int], index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": "error",
        "message": {"text": finding.message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": _uri(finding.path)},
                "region": {"startLine": max(finding.line, 1), "startColumn": max(finding.column, 1)},
            }
        }],
        "partialFingerprints": {FINGERPRINT_KEY: f"{key[2]}:{key[3]}"},
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    return result


def _uri(path: str) -> str:
    """A relative path stays relative (code scanning resolves it from the repository root)."""
    posix = PurePosixPath(path)
    if posix.is_absolute():
        return "file://" + quote(posix.as_posix())
    return quote(posix.as_posix())
