"""The rules of ``celery-boundary contracts diff``: every change between two contracts documents
(``gate.contracts``), classified for two audiences.

- ``queued``: an old message meets a new worker: messages already in the broker when the workers are
  redeployed, and every client (another service) still built against the old contract.
- ``rolling``: a new message meets an old worker: during a rolling deploy, producers already running the
  new code send to workers still running the old one.

Each audience's effect is ``breaks``, ``safe`` or ``workers-first`` (breaks only when producers run the
new code before every worker does). A change is breaking when it breaks for either audience. What each
message says happens is pinned against a real worker by tests/truth/test_contract_truth.py.
"""

from __future__ import annotations

from collections.abc import Iterator
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
_POSITIONAL: Final = ("positional_only", "positional_or_keyword")
_KEYWORD: Final = ("positional_or_keyword", "keyword_only")


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


def compare(old: Json, new: Json) -> list[Change]:
    """Every change from ``old`` to ``new``, sorted by task, rule and parameter."""
    olds = _by_name(old)
    news = _by_name(new)
    changes: list[Change] = []
    gone = [name for name in olds if name not in news]
    added = [name for name in news if name not in olds]
    for name in gone:
        match = _successor(olds[name], [news[a] for a in added])
        if match is None:
            changes.append(_removed(olds[name]))
            continue
        added.remove(str(match["name"]))
        changes.append(_renamed(olds[name], match))
        changes.extend(compare_task(olds[name], match))
    changes.extend(_added(news[name]) for name in added)
    for name in olds.keys() & news.keys():
        changes.extend(compare_task(olds[name], news[name]))
    return sorted(changes, key=lambda c: (c.where, c.task, c.rule, c.parameter or ""))


def _by_name(document: Json) -> dict[str, Json]:
    tasks = document.get("tasks")
    found: dict[str, Json] = {}
    for task in tasks if isinstance(tasks, list) else []:
        found.setdefault(str(task["name"]), task)  # a name defined twice: the first definition wins
    return found


def _successor(old: Json, candidates: list[Json]) -> Json | None:
    """The new task an old one became: the same binding path (a ``name=`` edited), or an implicit
    name whose module moved (the same function name; the same parameters when several candidates)."""
    same_path = [c for c in candidates if c["dotted"] == old["dotted"]]
    if same_path:
        return same_path[0]
    if not old["implicit_name"]:
        return None
    binding = str(old["dotted"]).rpartition(".")[2]
    moved = [c for c in candidates if c["implicit_name"] and str(c["dotted"]).rpartition(".")[2] == binding]
    if len(moved) > 1:
        moved = [c for c in moved if _param_names(c) == _param_names(old)]
    return moved[0] if len(moved) == 1 else None


def _param_names(task: Json) -> list[str]:
    return [str(p["name"]) for p in _params(task)]


def _params(task: Json) -> list[Json]:
    params = task.get("parameters")
    return list(params) if isinstance(params, list) else []


def _where(task: Json) -> tuple[str, int]:
    return str(task.get("path", "")), int(str(task.get("line", 0)))


def _removed(old: Json) -> Change:
    name = str(old["name"])
    return Change(
        "TASK_REMOVED", name,
        BREAKS, f"a message queued for `{name}` is discarded by the new worker ('Received unregistered task'), "
        "and its result is NotRegistered", SAFE, "new producers do not send it",
        f"keep `{name}` registered (an alias task that calls its replacement) until the queues hold no "
        "message for it and no client sends it", where=_where(old))


def _added(new: Json) -> Change:
    name = str(new["name"])
    return Change(
        "TASK_ADDED", name, SAFE, "no queued message names it",
        WORKERS_FIRST, f"a new message for `{name}` reaching an old worker is discarded there "
        "('Received unregistered task') and its result is NotRegistered",
        "deploy the workers before the producers that send it", where=_where(new))


def _renamed(old: Json, new: Json) -> Change:
    rule = "TASK_RENAMED" if old["dotted"] == new["dotted"] else "TASK_MOVED"
    before, after = str(old["name"]), str(new["name"])
    advice = (f"pin the old name with `@task(name=\"{before}\")` (the name Celery registers does not have to "
              "follow the module)" if rule == "TASK_MOVED" else
              f"register the new name and keep `{before}` as an alias task until the queues drain; deploy the "
              "workers before the producers that send the new name")
    return Change(
        rule, before,
        BREAKS, f"a message queued for `{before}` is discarded by the new worker, which registers the task as "
        f"`{after}` ('Received unregistered task'; the result is NotRegistered)",
        BREAKS, f"a new message for `{after}` reaching an old worker is discarded there (it registers "
        f"`{before}`)", advice, where=_where(new), extra={"new_name": after})


def compare_task(old: Json, new: Json) -> Iterator[Change]:
    name = str(new["name"])
    where = _where(new)
    yield from _compare_parameters(name, old, new, where)
    yield from _compare_result(name, old, new, where)
    yield from _compare_options(name, old, new, where)


def _compare_parameters(name: str, old: Json, new: Json, where: tuple[str, int]) -> Iterator[Change]:
    if old.get("parameters") is None or new.get("parameters") is None:
        return  # a signature the export could not read: nothing to compare
    olds = {str(p["name"]): p for p in _params(old) if p["kind"] in (*_POSITIONAL, "keyword_only")}
    news = {str(p["name"]): p for p in _params(new) if p["kind"] in (*_POSITIONAL, "keyword_only")}
    old_order = [n for n, p in olds.items() if p["kind"] in _POSITIONAL]
    new_order = [n for n, p in news.items() if p["kind"] in _POSITIONAL]
    old_absorbs = _absorbs(old)
    new_absorbs = _absorbs(new)
    removed = [n for n in olds if n not in news]
    added = [n for n in news if n not in olds]
    for gone in list(removed):
        twin = _rename_of(gone, olds, news, added, old_order, new_order)
        if twin is not None:
            removed.remove(gone)
            added.remove(twin)
            yield _param_renamed(name, gone, twin, where)
    for gone in removed:
        yield _param_removed(name, olds[gone], new_absorbs, where)
    for fresh in added:
        yield _param_added(name, news[fresh], old_absorbs, where)
    yield from _compare_catch_alls(name, old, new_absorbs, where)
    for common in (n for n in olds if n in news):
        before, after = olds[common], news[common]
        yield from _compare_parameter(name, common, before, after, where)
        if common in old_order and common in new_order and old_order.index(common) != new_order.index(common):
            yield _param_moved(name, common, old_order.index(common), new_order.index(common), where)


def _compare_catch_alls(task: str, old: Json, new_absorbs: tuple[bool, bool],
                        where: tuple[str, int]) -> Iterator[Change]:
    """``*args`` / ``**kwargs`` dropped: queued messages that passed extra arguments no longer bind."""
    for param in _params(old):
        kind = param["kind"]
        if kind == "var_positional" and not new_absorbs[0] or kind == "var_keyword" and not new_absorbs[1]:
            shown = ("*" if kind == "var_positional" else "**") + str(param["name"])
            how = "positional" if kind == "var_positional" else "keyword"
            yield Change(
                "PARAM_REMOVED", task,
                BREAKS, f"a message queued with extra {how} arguments (taken by `{shown}` before) raises TypeError "
                "on the new worker", SAFE, f"an old worker still takes `{shown}`",
                f"keep `{shown}` until the queues hold no old message", parameter=shown, where=where)


def _absorbs(task: Json) -> tuple[bool, bool]:
    """(takes any extra positional argument, takes any extra keyword argument): ``*args``, ``**kwargs``."""
    kinds = {p["kind"] for p in _params(task)}
    return "var_positional" in kinds, "var_keyword" in kinds


def _rename_of(gone: str, olds: dict[str, Json], news: dict[str, Json], added: list[str],
               old_order: list[str], new_order: list[str]) -> str | None:
    if gone in old_order:
        position = old_order.index(gone)
        twin = new_order[position] if position < len(new_order) else None
        # A rename keeps whether the parameter is required; otherwise it is a removal and an addition.
        return twin if twin in added and news[twin]["required"] == olds[gone]["required"] else None
    same_kind = [a for a in added if news[a]["kind"] == "keyword_only" and news[a].get("type") == olds[gone].get(
        "type") and news[a]["required"] == olds[gone]["required"]]
    return same_kind[0] if len(same_kind) == 1 else None


def _param_renamed(task: str, before: str, after: str, where: tuple[str, int]) -> Change:
    return Change(
        "PARAM_RENAMED", task,
        BREAKS, f"a message queued with `{before}=` by keyword raises TypeError on the new worker (unexpected "
        f"keyword argument '{before}'); one passing it by position still binds",
        BREAKS, f"a new message with `{after}=` by keyword raises TypeError on an old worker (unexpected keyword "
        f"argument '{after}')",
        f"accept both names for a while: add `{after}` with a default and keep `{before}` (with a default), "
        "deploy the workers first, switch the producers, then drop the old name once the queues drain",
        parameter=before, where=where, extra={"new_parameter": after})


def _param_removed(task: str, old: Json, absorbs: tuple[bool, bool], where: tuple[str, int]) -> Change:
    param = str(old["name"])
    positional = old["kind"] in _POSITIONAL
    keyword = old["kind"] in _KEYWORD
    if (not positional or absorbs[0]) and (not keyword or absorbs[1]):
        queued, queued_text = SAFE, f"a message queued with `{param}` binds it to *args / **kwargs on the new worker"
    else:
        queued, queued_text = BREAKS, (
            f"a message queued with `{param}` raises TypeError on the new worker (unexpected keyword argument "
            f"'{param}' by keyword, or too many positional arguments by position)")
    if old["required"]:
        rolling, rolling_text = BREAKS, (
            f"a new message without `{param}` raises TypeError on an old worker (missing required argument "
            f"'{param}')")
    else:
        rolling, rolling_text = SAFE, f"an old worker uses the default of `{param}`"
    return Change(
        "PARAM_REMOVED", task, queued, queued_text, rolling, rolling_text,
        f"keep `{param}` with a default (ignored) until the queues hold no old message and no client sends it; "
        "remove it in a later deploy", parameter=param, where=where)


def _param_added(task: str, new: Json, absorbs: tuple[bool, bool], where: tuple[str, int]) -> Change:
    param = str(new["name"])
    old_takes = absorbs[1] if new["kind"] == "keyword_only" else absorbs[0] and absorbs[1]
    if old_takes:
        rolling, rolling_text = SAFE, f"an old worker takes `{param}` into *args / **kwargs"
    else:
        rolling, rolling_text = WORKERS_FIRST, (
            f"a new message passing `{param}` raises TypeError on an old worker (unexpected keyword argument "
            f"'{param}', or too many positional arguments)")
    if new["required"]:
        return Change(
            "PARAM_REQUIRED_ADDED", task,
            BREAKS, f"a message queued without `{param}` raises TypeError on the new worker (missing required "
            f"argument '{param}')", rolling, rolling_text,
            f"add `{param}` with a default (queued messages then get the default), deploy the workers before "
            "the producers that pass it; make it required only once no queued message lacks it",
            parameter=param, where=where)
    return Change(
        "PARAM_OPTIONAL_ADDED", task, SAFE, f"a message queued without `{param}` gets its default "
        f"({new.get('default')})", rolling, rolling_text,
        "deploy the workers before the producers that pass it", parameter=param, where=where)


def _param_moved(task: str, param: str, before: int, after: int, where: tuple[str, int]) -> Change:
    return Change(
        "PARAM_MOVED", task,
        BREAKS, f"a message queued with positional arguments binds its value at position {before} to another "
        f"parameter on the new worker, and `{param}` gets the one at position {after} (no error when the types "
        "agree)",
        BREAKS, f"a new message with positional arguments binds `{param}`'s value to another parameter on an old "
        "worker", "keep the parameters' order (add new ones at the end) and pass arguments by keyword",
        parameter=param, where=where, extra={"old_position": str(before), "new_position": str(after)})


def _compare_parameter(task: str, param: str, before: Json, after: Json, where: tuple[str, int]) -> Iterator[Change]:
    yield from _compare_kind(task, param, str(before["kind"]), str(after["kind"]), where)
    if before["required"] and not after["required"]:
        yield Change(
            "PARAM_DEFAULT_ADDED", task, SAFE, "queued messages all pass it",
            WORKERS_FIRST, f"a new message without `{param}` raises TypeError on an old worker (missing "
            f"required argument '{param}')", "deploy the workers before the producers that leave it out",
            parameter=param, where=where)
    elif not before["required"] and after["required"]:
        yield Change(
            "PARAM_DEFAULT_REMOVED", task,
            BREAKS, f"a message queued without `{param}` raises TypeError on the new worker (missing required "
            f"argument '{param}')", SAFE, f"new messages all pass `{param}`",
            "keep the default until no queued message or client leaves the parameter out", parameter=param,
            where=where)
    elif before.get("default") != after.get("default"):
        yield Change(
            "PARAM_DEFAULT_CHANGED", task, SAFE, f"a message queued without `{param}` now gets {after.get('default')}"
            f" instead of {before.get('default')}", SAFE, f"an old worker still uses {before.get('default')}",
            "make sure both defaults are acceptable while old and new code run side by side", parameter=param,
            where=where)
    yield from _compare_types(task, param, before, after, where)


def _compare_kind(task: str, param: str, before: str, after: str, where: tuple[str, int]) -> Iterator[Change]:
    if before == after:
        return
    lost = [how for how, kinds in (("by position", _POSITIONAL), ("by keyword", _KEYWORD))
            if before in kinds and after not in kinds]
    gained = [how for how, kinds in (("by position", _POSITIONAL), ("by keyword", _KEYWORD))
              if after in kinds and before not in kinds]
    yield Change(
        "PARAM_KIND_CHANGED", task,
        BREAKS if lost else SAFE, f"a message queued with `{param}` passed {' or '.join(lost)} raises TypeError on "
        "the new worker" if lost else "every way an old message passes it still binds",
        WORKERS_FIRST if gained else SAFE, f"a new message passing `{param}` {' or '.join(gained)} raises "
        "TypeError on an old worker" if gained else "every way a new message passes it binds on an old worker",
        "keep accepting the parameter the old way until the queues drain; pass arguments by keyword",
        parameter=param, where=where, extra={"old_kind": before, "new_kind": after})


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


def _compare_types(task: str, param: str, before: Json, after: Json, where: tuple[str, int]) -> Iterator[Change]:
    relation = type_relation(before, after)
    if relation is None:
        return
    old_type, new_type = before.get("type"), after.get("type")
    extra = {"old_type": str(old_type), "new_type": str(new_type)}
    if relation == "narrowed":
        yield Change(
            "PARAM_TYPE_NARROWED", task,
            BREAKS, f"a message queued with `{param}` as a `{old_type}` that is not a `{new_type}` arrives "
            "unchanged: the new worker's code gets a value it no longer expects (Celery checks no types)",
            SAFE, f"every `{new_type}` is a `{old_type}`",
            "keep accepting the old values until the queues drain; narrow in a later deploy",
            parameter=param, where=where, extra=extra)
    elif relation == "widened":
        yield Change(
            "PARAM_TYPE_WIDENED", task, SAFE, f"every `{old_type}` is a `{new_type}`",
            WORKERS_FIRST, f"a new message with `{param}` as a `{new_type}` that is not a `{old_type}` reaches an "
            "old worker's code, which does not expect it", "deploy the workers before the producers",
            parameter=param, where=where, extra=extra)
    else:
        yield Change(
            "PARAM_TYPE_CHANGED", task,
            BREAKS, f"a message queued with `{param}` as a `{old_type}` reaches the new worker's code, which "
            f"expects `{new_type}` (Celery checks no types)",
            BREAKS, f"a new message with `{param}` as a `{new_type}` reaches an old worker's code, which expects "
            f"`{old_type}`", f"add a new parameter (or a new task) for `{new_type}` and keep `{param}` "
            "until the queues drain", parameter=param, where=where, extra=extra)


def _compare_result(task: str, old: Json, new: Json, where: tuple[str, int]) -> Iterator[Change]:
    before, after = old.get("result"), new.get("result")
    if not isinstance(before, dict) or not isinstance(after, dict):
        return
    relation = type_relation(before, after)
    if relation is None:
        return
    old_type, new_type = before.get("type"), after.get("type")
    old_clients = (SAFE, f"every `{new_type}` is a `{old_type}`") if relation == "narrowed" else (
        BREAKS, f"a client built against the old contract gets a `{new_type}` from `.get()` where it expects "
        f"`{old_type}`")
    new_clients = (SAFE, f"every `{old_type}` is a `{new_type}`") if relation == "widened" else (
        WORKERS_FIRST, f"a new client gets a `{old_type}` from an old worker where it expects `{new_type}`")
    yield Change(
        "RESULT_TYPE_CHANGED", task, old_clients[0], old_clients[1], new_clients[0], new_clients[1],
        "return a type every client accepts (widen clients first, then the task), or add a new task",
        where=where, extra={"old_type": str(old_type), "new_type": str(new_type), "relation": relation})


def _compare_options(task: str, old: Json, new: Json, where: tuple[str, int]) -> Iterator[Change]:
    before, after = _option(old, "serializer"), _option(new, "serializer")
    if before != after:
        yield Change(
            "SERIALIZER_CHANGED", task,
            BREAKS, f"a message queued as {before or 'an unknown serializer'} is rejected by the new worker "
            "(ContentDisallowed) unless its accept_content lists it",
            BREAKS, f"a new {after or 'unknown-serializer'} message is rejected by an old worker "
            "(ContentDisallowed) unless its accept_content lists it",
            f"add {after} to accept_content on every worker and deploy them, then switch the task's serializer; "
            f"keep {before} accepted until the queues drain", where=where,
            extra={"old_serializer": str(before), "new_serializer": str(after)})
    before, after = _option(old, "queue"), _option(new, "queue")
    if before != after:
        shown_before, shown_after = before or "the default queue", after or "the default queue"
        yield Change(
            "QUEUE_CHANGED", task,
            BREAKS, f"messages already in {shown_before} wait there until some worker consumes {shown_before}",
            WORKERS_FIRST, f"new messages go to {shown_after}, which no old worker consumes: they wait until "
            "new workers start", f"let the workers consume both queues (`celery worker -Q {shown_before},"
            f"{shown_after}`) until {shown_before} is empty", where=where,
            extra={"old_queue": str(before), "new_queue": str(after)})


def _option(task: Json, key: str) -> str | None:
    value = task.get(key)
    if isinstance(value, dict):
        name = value.get("name")
        return str(name) if name is not None else None
    return None
