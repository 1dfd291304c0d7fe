"""Answers the plugin computes once per type instead of once per call.

The same task is called, and the same types are sent, many times in a project: its signature, its
options and the verdicts on what it sends do not change between calls. They can only change when
mypy reads a file again (a class gains a preserializer decorator, a task changes signature), and
mypy calls ``Plugin.get_additional_deps`` for every file it parses: in a cold run, for the
modules a warm run re-checks and for each file a daemon update re-reads (mypy 1.20 / 2.4,
``State.compute_dependencies``). The plugin forgets everything there, so a memo never outlives
the trees its answers were read from.

Keys are mypy types (hashable and compared by value, their hash cached on the object) and plain
values; an unhashable key is computed without the memo. ``Routes`` keeps the plugin's routing
answers the same way, per fullname, and is emptied at the same moment.

Hook phase: hooks fill the tables; the plugin empties them in ``get_additional_deps``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Final, Generic, TypeVar

V = TypeVar("V")
H = TypeVar("H")

#: Every table, so that ``forget_all`` reaches them from one place (tables live as long as the process).
_ALL: list[Memo[Any]] = []

#: Entries per table before it starts again: bounds memory in a long-lived daemon.
LIMIT: Final = 20_000


class Memo(Generic[V]):
    """One table of answers; ``forget_all`` empties every table."""

    def __init__(self) -> None:
        self._table: dict[Hashable, V] = {}
        _ALL.append(self)

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        try:
            return self._table[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value somewhere inside the key
            return compute()
        value = compute()
        if len(self._table) >= LIMIT:
            self._table.clear()
        self._table[key] = value
        return value

    def forget(self) -> None:
        self._table.clear()


def forget_all() -> None:
    for table in _ALL:
        table.forget()


class Routes(Generic[H]):
    """The hook ``route`` gives for each fullname, asked once per name until ``forget``.

    mypy asks the plugin for a hook at every call it checks; a routing answer reads classes from the
    trees, so the plugin empties its tables where it forgets the memos. Not in ``forget_all``: a
    table belongs to one plugin instance, not to the process.
    """

    def __init__(self, route: Callable[[str], H | None]) -> None:
        self._route = route
        self._known: dict[str, H | None] = {}

    def __call__(self, fullname: str) -> H | None:
        try:
            return self._known[fullname]
        except KeyError:
            hook = self._known[fullname] = self._route(fullname)
            return hook

    def forget(self) -> None:
        self._known.clear()
