"""The one place ``check`` meets the CB rules: ``might_apply`` then ``run_rules`` on one parsed module.

The rules are the flake8 plugin's, callable without flake8 (``celery_boundary.flake8.visitors``:
``check_index(index, settings)`` over one ``analysis.index`` walk, which ``check`` keeps for its
project-wide pass). ``check`` parses each file once and
hands that tree over; files that cannot trigger any rule (a substring pre-test) are never parsed.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from celery_boundary.analysis.index import ModuleIndex, build_index
from celery_boundary.core.config import Config

#: A raw diagnostic: 1-based line, 0-based column (flake8's convention), "CODE message".
Raw = tuple[int, int, str]

RULES_MODULE: Final = "celery_boundary.flake8.visitors"


class RulesUnavailable(Exception):
    """The CB rules are not importable (a broken install): ``check`` says so and exits 2."""


@dataclass(frozen=True)
class RuleSource:
    """The per-module rules, bound to the settings read from ``[tool.celery_boundary]``."""

    might_apply: Callable[[str, Config], bool]
    #: Raw findings, and the module index the rules built (reused by the project pass), if any.
    run: Callable[[ast.Module, str, Sequence[str], Config], tuple[Iterable[Raw], ModuleIndex | None]]


def might_apply(text: str, config: Config) -> bool:
    """False only when no rule can match this source (saves the parse)."""
    return load_source().might_apply(text, config)


def run_rules(
    tree: ast.Module, path: str, lines: Sequence[str], config: Config
) -> tuple[list[Raw], ModuleIndex | None]:
    """Every CB diagnostic the per-module rules find in one parsed file, and their module index."""
    raw, index = load_source().run(tree, path, lines, config)
    return list(raw), index


_SOURCE: RuleSource | None = None


def load_source() -> RuleSource:
    """The rule entry, imported once per process (before the pool forks, so workers share it)."""
    global _SOURCE
    if _SOURCE is None:
        _SOURCE = _bind_visitors()
    return _SOURCE


def _bind_visitors() -> RuleSource:
    try:
        visitors: Any = importlib.import_module(RULES_MODULE)
        settings_class: Any = visitors.Settings
        check_index, pre_test = visitors.check_index, visitors.might_apply
    except (ImportError, AttributeError) as exc:
        raise RulesUnavailable(f"the CB rules cannot be loaded from {RULES_MODULE}: {exc}") from None
    cache: dict[Config, Any] = {}

    def settings_for(config: Config) -> Any:
        if config not in cache:
            cache[config] = settings_class.from_config(config)
        return cache[config]

    def applies(text: str, config: Config) -> bool:
        return bool(pre_test(text, settings_for(config)))

    def run(tree: ast.Module, path: str, lines: Sequence[str], config: Config) -> tuple[list[Raw], ModuleIndex | None]:
        # One index walk for the rules and the project pass: we build the index and keep it.
        settings = settings_for(config)
        index = build_index(tree, settings.task_decorators)
        findings = check_index(index, settings)
        return [(int(f.line), int(f.col), f"{f.code} {f.message}") for f in findings], index

    return RuleSource(applies, run)
