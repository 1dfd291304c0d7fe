"""The one place ``check`` meets the CB rules: ``run_rules(tree, path, lines, config)``.

The rules themselves are the flake8 plugin's (src/celery_boundary/flake8); this module only adapts
their entry to an already parsed module, so every rule runs on the one ``ast`` parse ``check`` made.
It speaks flake8's own plugin protocol (a class built from ``tree`` / ``filename`` / ``lines`` whose
``run()`` yields ``(line, col, "CODE message", type)``, flake8 7.5), which works without flake8 loaded.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from celery_boundary.core.config import Config

#: A raw diagnostic: 1-based line, 0-based column (flake8's convention), "CODE message".
Raw = tuple[int, int, str]
RuleSource = Callable[[ast.Module, str, Sequence[str], Config], Iterable[Raw]]

PLUGIN_MODULE: Final = "celery_boundary.flake8.plugin"


class RulesUnavailable(Exception):
    """The flake8 rules are not importable (a broken install): ``check`` says so and exits 2."""


def run_rules(tree: ast.Module, path: str, lines: Sequence[str], config: Config) -> list[Raw]:
    """Every CB diagnostic the per-module rules find in one parsed file."""
    return list(load_source()(tree, path, lines, config))


_SOURCE: RuleSource | None = None


def load_source() -> RuleSource:
    """The rule entry, imported once per process (workers import it after the fork, on first use)."""
    global _SOURCE
    if _SOURCE is None:
        _SOURCE = _adapt_flake8_plugin()
    return _SOURCE


def _adapt_flake8_plugin() -> RuleSource:
    try:
        plugin_class: Any = importlib.import_module(PLUGIN_MODULE).Plugin
    except (ImportError, AttributeError) as exc:
        raise RulesUnavailable(f"the CB rules cannot be loaded from {PLUGIN_MODULE}: {exc}") from None
    wanted = set(inspect.signature(plugin_class).parameters)

    def run(tree: ast.Module, path: str, lines: Sequence[str], config: Config) -> Iterable[Raw]:
        offered = {"tree": tree, "filename": path, "lines": list(lines)}
        checker = plugin_class(**{name: value for name, value in offered.items() if name in wanted})
        for line, col, text, _type in checker.run():
            yield int(line), int(col), str(text)

    return run
