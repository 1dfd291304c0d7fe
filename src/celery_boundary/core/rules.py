"""ONE record per rule: the public contract every front end, doc page and test reads.

The flake8 codes (CB1xx-CB4xx) and the mypy error codes (celery-*) are never reused. Docs live in
``docs/rules/<code>.md``; a meta-test keeps this registry, the pages and the test cases in step.
"""

from __future__ import annotations

from typing import ClassVar, Final

from celery_boundary.core.records import record


class _Choice:
    """One of a fixed set of named values, compared by identity (``Tool.MYPY``, ``.value``).

    Not ``enum.Enum``: creating the two enum classes was half of this module's import, and every
    mypy run with the plugin imports it (mypy/errorcodes.py reads the summaries).
    """

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.value.upper()}"


class Tool(_Choice):
    """A front end that reports a rule."""

    MYPY: ClassVar[Tool]
    FLAKE8: ClassVar[Tool]
    CLI: ClassVar[Tool]


class FixSafety(_Choice):
    """Whether ``celery-boundary fix`` rewrites a rule's findings, and how safely."""

    NONE: ClassVar[FixSafety]
    SAFE: ClassVar[FixSafety]
    UNSAFE: ClassVar[FixSafety]


Tool.MYPY, Tool.FLAKE8, Tool.CLI = Tool("mypy"), Tool("flake8"), Tool("cli")
FixSafety.NONE, FixSafety.SAFE, FixSafety.UNSAFE = FixSafety("none"), FixSafety("safe"), FixSafety("unsafe")


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
        "celery-unknown-task",
        "unknown-task-name",
        "A literal task name is no task's name, and is close to one",
        (Tool.MYPY, Tool.CLI),
    ),
    Rule(
        "celery-model-instance",
        "model-instance-snapshot",
        "A Django model instance or QuerySet is sent as a copy of the row from send time",
        (Tool.MYPY, Tool.CLI),
    ),
    Rule(
        "celery-internal",
        "internal-error",
        "celery-boundary failed on this code; please report it",
        (Tool.MYPY, Tool.CLI),
    ),
    # --- the gate itself: a file `celery-boundary check` could not check is a finding, not a skip ----
    Rule("CB001", "file-not-checked", "A file could not be read, parsed or checked", (Tool.CLI,)),
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
    # Across modules only: one module cannot know every task's name.
    Rule("CB205", "unknown-task-name", "A task name given as a string is no task of the project or of its contracts",
         (Tool.CLI,)),
    Rule("CB206", "task-launched-in-transaction", "A task is launched inside a database transaction", _ALL,
         fix=FixSafety.UNSAFE, fix_title="Launch the task after the commit"),
    Rule("CB301", "logic-in-task-body", "A task body holds business logic instead of delegating", _ALL),
    Rule("CB401", "periodic-task-without-expiry", "A periodic task has no expiry", _ALL,
         fix=FixSafety.SAFE, fix_title="Add expires to the schedule entry"),
    Rule("CB402", "crontab-hour-without-minute", "A crontab gives an hour but no minute", _ALL,
         fix=FixSafety.SAFE, fix_title="Add minute=0"),
)

BY_CODE: Final[dict[str, Rule]] = {rule.code: rule for rule in RULES}


def get(code: str) -> Rule:
    return BY_CODE[code]
