"""The flake8 entry point ``CB`` (pyproject: ``CB = "celery_boundary.flake8.plugin:Plugin"``).

Routes only: options in, findings out. The rules live in ``celery_boundary.checks`` and run without
flake8.
flake8 (7.x) builds one ``Plugin`` per file and runs it whatever ``--select`` says, so ``run``
first does a substring test on the source and returns at once for modules that cannot match.
"""

from __future__ import annotations

import argparse
import ast
import functools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from celery_boundary import __version__
from celery_boundary.core import config as config_module
from celery_boundary.core import rules
from celery_boundary.checks import RuleSettings, check_tree, might_apply

#: Rules that are off unless selected (``--select CB`` / ``extend-select = CB301``): see their docs.
OPT_IN: tuple[str, ...] = tuple(
    rule.code for rule in rules.RULES if rules.Tool.FLAKE8 in rule.tools and not rule.default_enabled
)


class Plugin:
    name = "celery-boundary"
    version = __version__
    settings: ClassVar[RuleSettings] = RuleSettings()
    #: The ``--cb-*`` values given on the command line or in flake8's configuration.
    overrides: ClassVar[dict[str, Any]] = {}
    _warned: ClassVar[set[str]] = set()

    def __init__(self, tree: ast.AST, lines: list[str], filename: str = "<stdin>") -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, manager: Any) -> None:
        lists = (("--cb-task-decorators", "dotted names of your own decorators that create Celery tasks"),
                 ("--cb-trusted-serializers", "serializer names that use pickle on purpose (signed) and "
                                              "CB101-CB103 accept"))
        for flag, text in lists:
            manager.add_option(flag, default=None, parse_from_config=True, comma_separated_list=True,
                               help=f"celery-boundary: {text} (default: [tool.celery_boundary])")
        for key in ("logic",):
            manager.add_option(f"--cb-max-task-{key}", type=int, default=None, parse_from_config=True,
                               help="celery-boundary CB301: most business logic a task body may hold "
                                    "(default: [tool.celery_boundary] or the built-in default)")
        manager.extend_default_ignore(list(OPT_IN))

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        cls.overrides = overrides_from(options)
        cls.settings = settings_for(load_config(None), cls.overrides)

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        if not isinstance(self.tree, ast.Module):
            return
        settings = self._settings()
        if not might_apply("".join(self.lines), settings):
            return
        try:
            findings = check_tree(self.tree, settings)
        except Exception as exc:  # never crash flake8 on odd input: say so once and stay silent
            self._warn(f"celery-boundary: internal error on {self.filename}: {exc!r}; "
                       "please report it (the CB rules skipped this file)")
            return
        for finding in findings:
            yield finding.line, finding.column - 1, finding.text, type(self)  # flake8: 0-based column

    def _settings(self) -> RuleSettings:
        """The settings of the ``[tool.celery_boundary]`` nearest to the checked file (a monorepo
        may hold several), falling back to the one found from the working directory."""
        if self.filename in ("stdin", "-", "<stdin>"):
            return self.settings
        directory = Path(os.path.dirname(os.path.abspath(self.filename)))  # no symlink syscalls
        config = load_config(directory)
        if config.source is None:
            return self.settings
        return settings_for(config, self.overrides)

    @classmethod
    def _warn(cls, text: str) -> None:
        if text not in cls._warned:
            cls._warned.add(text)
            print(text, file=sys.stderr)


@functools.lru_cache(maxsize=512)
def load_config(directory: Path | None) -> config_module.Config:
    """``[tool.celery_boundary]`` found from ``directory`` (None: the working directory, where flake8
    finds its own configuration), once per directory; a bad file is reported once on stderr and
    the defaults apply."""
    try:
        return config_module.load(start=directory)
    except config_module.ConfigError as exc:
        Plugin._warn(f"celery-boundary: {exc} (flake8 CB rules use the defaults)")
        return config_module.Config()


def settings_for(config: config_module.Config, overrides: dict[str, Any]) -> RuleSettings:
    return RuleSettings(**{**RuleSettings.from_config(config).__dict__, **overrides})


def overrides_from(options: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in ("task_decorators", "trusted_serializers"):
        given = getattr(options, f"cb_{key}", None)
        if given:
            values[key] = frozenset(item.strip() for item in given if item.strip())
    for key in ("logic",):
        given = getattr(options, f"cb_max_task_{key}", None)
        if given is not None and int(given) < 0:
            Plugin._warn(f"celery-boundary: --cb-max-task-{key} must be a whole number >= 0, not {given} "
                         "(ignored)")
        elif given is not None:
            values[f"max_task_{key}"] = int(given)
    return values
