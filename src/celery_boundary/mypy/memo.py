"""Answers the plugin computes once per type instead of once per call.

The same task is called, and the same types are sent, many times in a project: its signature, its
options and the verdicts on what it sends do not change between calls. They can only change when
mypy reads a file again (a class gains a preserializer decorator, a task changes signature), and
mypy calls ``Plugin.get_additional_deps`` for every file it parses: in a cold run, for the
modules a warm run re-checks and for each file a daemon update re-reads (mypy 1.20 / 2.4,
``State.compute_dependencies``). The plugin forgets everything there, so a memo never outlives
the trees its answers were read from.

Keys are mypy types (hashable and compared by value, their hash cached on the object) and plain
values; an unhashable key is computed without the memo.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Final, Generic, TypeVar

V = TypeVar("V")

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
