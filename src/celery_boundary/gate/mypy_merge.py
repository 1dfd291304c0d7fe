"""``check --mypy``: run mypy (with the user's configuration, which names the celery_boundary.mypy
plugin) through ``mypy.api.run`` and turn what it reports about the task boundary into findings.

mypy is imported only here and only when asked (importing it costs about 100 ms;
tests/cli/test_cli_mypy.py checks that ``check`` without ``--mypy`` never imports it). Merged: the
plugin's own codes (``celery-*``), and mypy's ``arg-type`` / ``call-arg`` / ``call-overload`` / ``misc``
when the message is about a task call. The plugin types a task's ``delay`` / ``apply_async`` / ``s`` /
``si`` / ``signature`` / ``send_task`` after the task, so mypy names both in its message
(``Argument 1 to "delay" of "notify" has incompatible type``, ``Too many arguments for "si" of "add"``).
A project's other type errors are the business of its own mypy step.
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
#: mypy's own codes kept when the message is about a task call.
TASK_CALL_CODES: Final = ("arg-type", "call-arg", "call-overload", "misc")
#: The methods a task call goes through (celery 5.7 ``Task`` and the Django task class).
TASK_METHODS: Final = ("delay", "apply_async", "s", "si", "signature", "subtask", "send_task", "map", "starmap",
                       "chunks", "delay_on_commit", "apply_async_on_commit")
#: ``"delay" of "notify"``: mypy names a method and, after ``of``, the type it is called on.
_TASK_CALL: Final = re.compile(r'"(?:' + "|".join(TASK_METHODS) + r')" of "[^"]+"')


def run_mypy(paths: Sequence[str], extra_args: Sequence[str] = ()) -> list[Finding]:
    """mypy's diagnostics about the task boundary over ``paths``; a mypy that cannot run is a usage
    error (exit 2)."""
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
        if match is None or not about_tasks(match["code"] or "", match["message"]):
            continue
        path = display(Path(match["path"]))
        findings.append(
            Finding(path, int(match["line"]), int(match["col"]), match["code"], match["message"].strip(),
                    tool="mypy")
        )
    return findings


def about_tasks(code: str, message: str) -> bool:
    """A plugin diagnostic, or one of mypy's ``TASK_CALL_CODES`` about a call of a task's method."""
    if code.startswith(PLUGIN_PREFIX):
        return True
    return code in TASK_CALL_CODES and _TASK_CALL.search(message) is not None
