"""ONE record per rule: the public contract every front end, doc page and test reads.

The flake8 codes (CB1xx-CB4xx) and the mypy error codes (celery-*) are never reused. Docs live in
``docs/rules/<code>.md``; a meta-test keeps this registry, the pages and the test cases in step.
"""

from __future__ import annotations

import enum
from typing import Final

from celery_boundary.core.records import record


class Tool(enum.Enum):
    MYPY = "mypy"
    FLAKE8 = "flake8"
    CLI = "cli"


class FixSafety(enum.Enum):
    NONE = "none"
    SAFE = "safe"
    UNSAFE = "unsafe"


@record
class Rule:
    code: str
    slug: str
    summary: str
    tools: tuple[Tool, ...]
    default_enabled: bool = True
    fix: FixSafety = FixSafety.NONE
    fix_title: str = ""

    @property
    def doc_page(self) -> str:
        return f"docs/rules/{self.code}.md"


_ALL = (Tool.FLAKE8, Tool.CLI)

RULES: Final[tuple[Rule, ...]] = (
    # --- mypy plugin ---------------------------------------------------------------------------
    Rule(
        "celery-unserializable",
        "unserializable-argument",
        "A task argument or return value cannot be carried by the task's serializer",
        (Tool.MYPY, Tool.CLI),
    ),
    Rule(
        "celery-lossy",
        "lossy-argument",
        "A task argument or return value arrives as another type than was sent",
        (Tool.MYPY, Tool.CLI),
    ),
    Rule(
        "celery-canvas",
        "canvas-mismatch",
        "A canvas passes a result to a task that does not accept it",
        (Tool.MYPY, Tool.CLI),
    ),
    Rule(
        "celery-internal",
        "internal-error",
        "celery-boundary failed on this code; please report it",
        (Tool.MYPY, Tool.CLI),
    ),
    # --- flake8 rules ----------------------------------------------------------------------------
    Rule("CB101", "pickle-serializer", "A code-executing serializer (pickle) is configured", _ALL,
         fix=FixSafety.UNSAFE, fix_title="Use the json serializer"),
    Rule("CB102", "pickle-accept-content", "pickle is accepted as message content", _ALL,
         fix=FixSafety.UNSAFE, fix_title="Remove pickle from the accepted content"),
    Rule("CB103", "pickle-per-task", "A task or a call chooses the pickle serializer", _ALL,
         fix=FixSafety.UNSAFE, fix_title="Use the json serializer"),
    Rule("CB201", "private-task-launched", "A private (chain-only) task is launched directly", _ALL),
    Rule("CB202", "chain-only-task-public", "A task used only inside canvases should be private", _ALL,
         fix=FixSafety.SAFE, fix_title="Rename the task to a private name"),
    Rule("CB203", "canvas-launched-in-task", "A canvas is launched inside a task body", _ALL),
    Rule("CB204", "blocking-result-in-task", "A task blocks on another task's result", _ALL),
    # Opt-in: thresholds are a team's taste; flake8 reports it when CB or CB301 is selected.
    Rule("CB301", "logic-in-task-body", "A task body holds business logic instead of delegating", _ALL,
         default_enabled=False),
    Rule("CB401", "periodic-task-without-expiry", "A periodic task has no expiry", _ALL,
         fix=FixSafety.SAFE, fix_title="Add expires to the schedule entry"),
)

BY_CODE: Final[dict[str, Rule]] = {rule.code: rule for rule in RULES}


def get(code: str) -> Rule:
    return BY_CODE[code]
