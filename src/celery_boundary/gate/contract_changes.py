"""The record of one change between two task contracts and the words every rule shares, for
``celery-boundary contracts diff`` (the rules: ``gate.contract_rules`` for tasks and options,
``gate.contract_params`` for parameters).

Each change is judged for two audiences:

- ``queued``: an old message meets a new worker: messages already in the broker when the workers are
  redeployed, and every client (another service) still built against the old contract.
- ``rolling``: a new message meets an old worker: during a rolling deploy, producers already running the
  new code send to workers still running the old one.

Each audience's effect is ``breaks``, ``safe`` or ``workers-first`` (breaks only when producers run the
new code before every worker does). A change is breaking when it breaks for either audience. What the
messages say happens is pinned against a real worker by tests/truth/test_contract_truth.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

BREAKS: Final = "breaks"
SAFE: Final = "safe"
WORKERS_FIRST: Final = "workers-first"

#: Every rule id, with what it means (docs/contracts.md lists them with the same words).
RULES: Final = {
    "TASK_REMOVED": "a task is no longer defined",
    "TASK_RENAMED": "a task's registered name changed (name= edited)",
    "TASK_MOVED": "a task's implicit name (module.function) changed because its module moved",
    "TASK_ADDED": "a new task",
    "PARAM_REQUIRED_ADDED": "a parameter without a default was added",
    "PARAM_OPTIONAL_ADDED": "a parameter with a default was added",
    "PARAM_REMOVED": "a parameter was removed",
    "PARAM_RENAMED": "a parameter was renamed (same position)",
    "PARAM_MOVED": "a parameter moved to another position",
    "PARAM_KIND_CHANGED": "a parameter became positional-only or keyword-only, or stopped being one",
    "PARAM_DEFAULT_REMOVED": "a parameter lost its default",
    "PARAM_DEFAULT_ADDED": "a parameter gained a default",
    "PARAM_DEFAULT_CHANGED": "a parameter's default changed",
    "PARAM_TYPE_NARROWED": "a parameter accepts fewer values than before",
    "PARAM_TYPE_WIDENED": "a parameter accepts more values than before",
    "PARAM_TYPE_CHANGED": "a parameter's type changed",
    "RESULT_TYPE_CHANGED": "the task's result type changed",
    "SERIALIZER_CHANGED": "the serializer of the task's messages changed",
    "QUEUE_CHANGED": "the queue the task's messages go to changed",
}

Json = dict[str, object]
POSITIONAL: Final = ("positional_only", "positional_or_keyword")
KEYWORD: Final = ("positional_or_keyword", "keyword_only")


@dataclass(frozen=True)
class Change:
    rule: str
    task: str
    queued: str
    queued_text: str
    rolling: str
    rolling_text: str
    advice: str
    parameter: str | None = None
    #: (path, line) of the task in the new document, else in the old one.
    where: tuple[str, int] = ("", 0)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def breaking(self) -> bool:
        return BREAKS in (self.queued, self.rolling)

    def as_json(self) -> Json:
        return {"rule": self.rule, "task": self.task, "parameter": self.parameter, "breaking": self.breaking,
                "queued": {"effect": self.queued, "message": self.queued_text},
                "rolling": {"effect": self.rolling, "message": self.rolling_text},
                "advice": self.advice, "path": self.where[0], "line": self.where[1], **self.extra}


def params_of(task: Json) -> list[Json]:
    params = task.get("parameters")
    return list(params) if isinstance(params, list) else []


def _members(schema: object) -> list[object]:
    if isinstance(schema, dict) and "anyOf" in schema:
        members = schema["anyOf"]
        return list(members) if isinstance(members, list) else [schema]
    return [schema]


def type_relation(before: Json, after: Json) -> str | None:
    """None (the same), ``narrowed``, ``widened`` or ``changed``, from the schemas when both have one,
    else from the annotations as written."""
    old_schema, new_schema = before.get("schema"), after.get("schema")
    if old_schema is not None and new_schema is not None:
        if old_schema == new_schema:
            return None
        if new_schema == {}:
            return "widened"
        if old_schema == {}:
            return "narrowed"
        olds, news = _members(old_schema), _members(new_schema)
        if all(m in news for m in olds):
            return "widened"
        if all(m in olds for m in news):
            return "narrowed"
        return "changed"
    if " ".join(str(before.get("type")).split()) == " ".join(str(after.get("type")).split()):
        return None
    return "changed"
