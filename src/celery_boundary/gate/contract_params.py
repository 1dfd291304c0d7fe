"""The parameter rules of ``celery-boundary contracts diff``: PARAM_* (what the records mean:
``gate.contract_changes``). A message binds its ``args`` and ``kwargs`` to the worker's function as a
call does, so each rule says which ``TypeError`` (or silent misbinding) a queued or new message meets.
"""

from __future__ import annotations

from collections.abc import Iterator

from celery_boundary.gate.contract_changes import (
    BREAKS,
    KEYWORD,
    POSITIONAL,
    SAFE,
    WORKERS_FIRST,
    Change,
    Json,
    params_of,
    type_relation,
)


def compare_parameters(name: str, old: Json, new: Json, where: tuple[str, int]) -> Iterator[Change]:
    if old.get("parameters") is None or new.get("parameters") is None:
        return  # a signature the export could not read: nothing to compare
    olds = {str(p["name"]): p for p in params_of(old) if p["kind"] in (*POSITIONAL, "keyword_only")}
    news = {str(p["name"]): p for p in params_of(new) if p["kind"] in (*POSITIONAL, "keyword_only")}
    old_order = [n for n, p in olds.items() if p["kind"] in POSITIONAL]
    new_order = [n for n, p in news.items() if p["kind"] in POSITIONAL]
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
    for param in params_of(old):
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
    kinds = {p["kind"] for p in params_of(task)}
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
        f"accept both names for a while: keep `{before}` in its place (with a default) and add `{after}` at the end "
        f"with a default (in `{before}`'s place it would take an old message's positional value), "
        "deploy the workers first, switch the producers, then drop the old name once the queues drain",
        parameter=before, where=where, extra={"new_parameter": after})


def _param_removed(task: str, old: Json, absorbs: tuple[bool, bool], where: tuple[str, int]) -> Change:
    param = str(old["name"])
    positional = old["kind"] in POSITIONAL
    keyword = old["kind"] in KEYWORD
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
    lost = [how for how, kinds in (("by position", POSITIONAL), ("by keyword", KEYWORD))
            if before in kinds and after not in kinds]
    gained = [how for how, kinds in (("by position", POSITIONAL), ("by keyword", KEYWORD))
              if after in kinds and before not in kinds]
    yield Change(
        "PARAM_KIND_CHANGED", task,
        BREAKS if lost else SAFE, f"a message queued with `{param}` passed {' or '.join(lost)} raises TypeError on "
        "the new worker" if lost else "every way an old message passes it still binds",
        WORKERS_FIRST if gained else SAFE, f"a new message passing `{param}` {' or '.join(gained)} raises "
        "TypeError on an old worker" if gained else "every way a new message passes it binds on an old worker",
        "keep accepting the parameter the old way until the queues drain; pass arguments by keyword",
        parameter=param, where=where, extra={"old_kind": before, "new_kind": after})


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
