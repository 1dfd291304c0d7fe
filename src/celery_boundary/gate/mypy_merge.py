"""``check --mypy``: run mypy (with the user's configuration, which names the celery_boundary.mypy
plugin) through ``mypy.api.run`` and turn its plugin diagnostics into findings.

mypy is imported only here and only when asked (importing it costs about 100 ms;
tests/cli/test_cli_mypy.py checks that ``check`` without ``--mypy`` never imports it). Only the plugin's
own error codes (``celery-*``) are merged: the gate is about the task boundary, not a project's other
type errors, which mypy's own CI step reports.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from celery_boundary.gate.files import display
from celery_boundary.gate.errors import UsageError
from celery_boundary.core.findings import Finding

# mypy 1.20 / 2.4 with --show-column-numbers --show-error-codes: "path:line:col: error: message  [code]"
DIAGNOSTIC: Final = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning): (?P<message>.*?)"
    r"(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
FLAGS: Final = ("--show-column-numbers", "--show-error-codes", "--no-error-summary", "--no-pretty",
                "--no-color-output", "--hide-error-context")
PLUGIN_PREFIX: Final = "celery-"


def run_mypy(paths: Sequence[str], extra_args: Sequence[str] = ()) -> list[Finding]:
    """mypy's celery-* diagnostics over ``paths``; a mypy that cannot run is a usage error (exit 2)."""
    from mypy import api  # lazy: only `check --mypy` pays for importing mypy

    stdout, stderr, status = api.run([*FLAGS, *extra_args, *paths])
    if status not in (0, 1):  # 2: mypy itself failed (bad config, a crash) - not findings
        first = (stderr or stdout).strip().splitlines() or ["(no output)"]
        raise UsageError(f"mypy failed (exit {status}): {first[-1]}")
    return parse_output(stdout)


def parse_output(stdout: str) -> list[Finding]:
    findings = []
    for raw in stdout.splitlines():
        match = DIAGNOSTIC.match(raw)
        if match is None or not (match["code"] or "").startswith(PLUGIN_PREFIX):
            continue
        path = display(Path(match["path"]))
        findings.append(
            Finding(path, int(match["line"]), int(match["col"]), match["code"], match["message"].strip(),
                    tool="mypy")
        )
    return findings
