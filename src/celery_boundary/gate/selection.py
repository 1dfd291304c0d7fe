"""``--select`` / ``--ignore``: code prefixes, as flake8 reads them (``CB1`` selects CB101-CB103).

The codes are the registry's and mypy's own codes that ``check --mypy`` merges from task calls
(``arg-type``, ``call-arg``, ``call-overload``, ``misc``): selected by default, like the rules that are
on by default, and chosen or ignored the same way. Codes only mypy produces need ``--mypy``.
"""

from __future__ import annotations

from collections.abc import Iterable

from celery_boundary.core import rules
from celery_boundary.gate.errors import UsageError
from celery_boundary.gate.mypy_merge import TASK_CALL_CODES


def known_codes() -> tuple[str, ...]:
    return (*(rule.code for rule in rules.RULES), *TASK_CALL_CODES)


def mypy_codes() -> frozenset[str]:
    """The codes only a mypy run produces: the plugin's and mypy's own about task calls."""
    return frozenset(rule.code for rule in rules.RULES if rules.Tool.MYPY in rule.tools) | frozenset(TASK_CALL_CODES)


def require_mypy(select: Iterable[str], mypy: bool) -> None:
    """A ``--select`` prefix that matches only codes mypy produces, without ``--mypy``, would check
    nothing and pass CI: a usage error."""
    if mypy:
        return
    for prefix in select:
        hits = {code for code in known_codes() if code.startswith(prefix)}
        if hits and hits <= mypy_codes():
            raise UsageError(f"--select {prefix}: {', '.join(sorted(hits))} "
                             f"{'is' if len(hits) == 1 else 'are'} reported by mypy; add --mypy")


def parse_codes(text: str | None) -> tuple[str, ...]:
    """``"CB101, CB2"`` -> ("CB101", "CB2"); commas and whitespace both separate."""
    if not text:
        return ()
    return tuple(part for part in text.replace(",", " ").split() if part)


def expand(select: Iterable[str], ignore: Iterable[str]) -> frozenset[str]:
    """The codes to report: the default-enabled rules (or those ``select`` names) minus ``ignore``.

    A prefix that matches no rule is a usage error: a typo in CI config must not silently check nothing.
    """
    default = {r.code for r in rules.RULES if r.default_enabled} | set(TASK_CALL_CODES)
    chosen = _matching(tuple(select)) if select else default
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
