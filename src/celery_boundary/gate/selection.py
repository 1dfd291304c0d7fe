"""``--select`` / ``--ignore``: code prefixes, as flake8 reads them (``CB1`` selects CB101-CB103)."""

from __future__ import annotations

from collections.abc import Iterable

from celery_boundary.core import rules
from celery_boundary.gate.errors import UsageError


def known_codes() -> tuple[str, ...]:
    return tuple(rule.code for rule in rules.RULES)


def parse_codes(text: str | None) -> tuple[str, ...]:
    """``"CB101, CB2"`` -> ("CB101", "CB2"); commas and whitespace both separate."""
    if not text:
        return ()
    return tuple(part for part in text.replace(",", " ").split() if part)


def expand(select: Iterable[str], ignore: Iterable[str]) -> frozenset[str]:
    """The codes to report: the default-enabled rules (or those ``select`` names) minus ``ignore``.

    A prefix that matches no rule is a usage error: a typo in CI config must not silently check nothing.
    """
    chosen = _matching(tuple(select)) if select else {r.code for r in rules.RULES if r.default_enabled}
    return frozenset(chosen - _matching(tuple(ignore)))


def _matching(prefixes: tuple[str, ...]) -> set[str]:
    codes = known_codes()
    found: set[str] = set()
    for prefix in prefixes:
        hits = {code for code in codes if code.startswith(prefix)}
        if not hits:
            raise UsageError(f"unknown rule code {prefix!r}; known codes: {', '.join(codes)}")
        found |= hits
    return found
