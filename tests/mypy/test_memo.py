"""The plugin's memo: answers are reused per key, forgotten together, and never break on odd keys."""

from __future__ import annotations

from celery_boundary.mypy import memo
from celery_boundary.mypy.memo import Memo


def test_an_answer_is_computed_once_per_key() -> None:
    table: Memo[int] = Memo()
    calls: list[str] = []

    def compute(key: str) -> int:
        calls.append(key)
        return len(key)

    assert table.get("abc", lambda: compute("abc")) == 3
    assert table.get("abc", lambda: compute("abc")) == 3
    assert table.get("de", lambda: compute("de")) == 2
    assert calls == ["abc", "de"]


def test_forget_all_empties_every_table() -> None:
    first: Memo[int] = Memo()
    second: Memo[int] = Memo()
    first.get("k", lambda: 1)
    second.get("k", lambda: 2)
    memo.forget_all()
    assert first.get("k", lambda: 10) == 10
    assert second.get("k", lambda: 20) == 20


def test_unhashable_keys_are_computed_every_time() -> None:
    table: Memo[int] = Memo()
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return 7

    key = ("x", [1, 2])  # a list inside: unhashable
    assert table.get(key, compute) == 7
    assert table.get(key, compute) == 7
    assert len(calls) == 2


def test_a_full_table_starts_again_instead_of_growing() -> None:
    table: Memo[int] = Memo()
    for number in range(memo.LIMIT + 5):
        table.get(number, int)
    assert len(table._table) <= memo.LIMIT
    assert table.get(memo.LIMIT + 4, lambda: -1) == 0  # kept: it came after the restart
