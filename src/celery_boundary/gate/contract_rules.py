"""The task rules of ``celery-boundary contracts diff``: TASK_*, RESULT_TYPE_CHANGED, SERIALIZER_CHANGED,
QUEUE_CHANGED; ``compare`` runs them and the parameter rules (``gate.contract_params``) over two
contracts documents (``gate.contracts``). The records and the two audiences: ``gate.contract_changes``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from celery_boundary.gate.contract_changes import (
    BREAKS,
    SAFE,
    WORKERS_FIRST,
    Change,
    Json,
    params_of,
    type_relation,
)
from celery_boundary.gate.contract_params import compare_parameters


def compare(old: Json, new: Json) -> list[Change]:
    """Every change from ``old`` to ``new``, sorted by where (path, line), task, rule and parameter."""
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
    return [str(p["name"]) for p in params_of(task)]


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
    yield from compare_parameters(name, old, new, where)
    yield from _compare_result(name, old, new, where)
    yield from _compare_options(name, old, new, where)


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


#: What a worker does with a message whose content type its accept_content lacks.
_REFUSED: Final = (" ('Received invalid task message' ... ContentDisallowed: 'Refusing to deserialize untrusted "
                   "content'); no result is stored, so `.get()` waits until its timeout")


def _compare_options(task: str, old: Json, new: Json, where: tuple[str, int]) -> Iterator[Change]:
    before, after = _option(old, "serializer"), _option(new, "serializer")
    if before != after:
        yield Change(
            "SERIALIZER_CHANGED", task,
            BREAKS, f"a message queued as {before or 'an unknown serializer'} is discarded by the new worker "
            f"unless its accept_content lists {before or 'it'}{_REFUSED}",
            BREAKS, f"a new {after or 'unknown-serializer'} message is discarded by an old worker unless its "
            f"accept_content lists {after or 'it'}{_REFUSED}",
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
