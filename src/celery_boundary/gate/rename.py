"""CB202's fix across modules: rename a chain-only task to ``_name`` in every module that uses it, or
refuse and say why and where. Never half: the rename is planned in every module first and handed back
as changes only when each module could be rewritten (``fix`` then writes them all or none).

Refused when a module the rename cannot rewrite mentions the task: a star import, a string that is
exactly the name (``getattr(tasks, "total")``, ``__all__``), another object of that name, or a file
that ``exclude`` / ``--exclude`` keeps out of the run (it is read, never written). The name kept with
``name=`` is the one Celery registers the task under (``analysis.task_names``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from celery_boundary.analysis import project
from celery_boundary.analysis.index import build_index
from celery_boundary.analysis.task_names import imported_as, imported_modules, module_name, module_names, task_names
from celery_boundary.core import config as config_module
from celery_boundary.core.findings import Finding
from celery_boundary.gate.engine import rule_settings
from celery_boundary.gate.files import display, project_root, read_source
from celery_boundary.gate.writes import Change, still_parses

if TYPE_CHECKING:
    from celery_boundary.codemods.private_task import RenameTask


@dataclass(frozen=True)
class Scope:
    """What a rename reads: the project's facts, the files of the run, and every file of the project
    (``exclude`` not applied: an excluded module that mentions the task must not be missed)."""

    facts: Sequence[project.ModuleFacts]
    files: Sequence[Path]
    every: Sequence[Path]
    settings: config_module.Config
    #: Task factories found by scanning the project (not configured): whether one passes ``name=`` on
    #: to Celery is not known, so a task they make is renamed only when it names itself.
    factories: frozenset[str] = frozenset()


def rename_task(finding: Finding, scope: Scope, pending: Mapping[str, Change], err: TextIO) -> dict[str, Change]:
    """CB202: the changes that rename the task at ``finding`` everywhere, or none (with the reason on
    stderr). ``pending``: files other fixes already changed in this run (renamed on their new text)."""
    import libcst as cst  # lazy: only `fix` pays for libcst
    from libcst.metadata import MetadataWrapper

    from celery_boundary.codemods.private_task import RenameTask

    home = next((m for m in scope.facts if m.path == finding.path), None)
    task = next((t for t in home.tasks if t.line == finding.line), None) if home else None
    if home is None or task is None:
        return {}
    where = f"{finding.path}:{finding.line}: CB202 not renamed"
    old, new = task.name, f"_{task.name}"
    involved = {home.path} | {m.path for m in scope.facts for use in m.uses if use.target == task.dotted}
    # Every module that mentions the name is rewritten scope-aware (a function-local import is a use
    # the project facts do not list); one the run excludes is read, never written.
    mentioning, refusal = _mentions(scope, old, pending)
    if refusal:
        err.write(f"{where}: {refusal}\n")
        return {}
    imported, ambiguity = _imported_as(Path(home.path), task.name, scope, pending)
    if imported is None:
        err.write(f"{where}: {ambiguity}\n")
        return {}
    registered = _registered_name(_current(home.path, pending), imported, task.name, task.line, scope.settings)
    changes: dict[str, Change] = {}
    for shown in sorted(involved | mentioning):
        before = _current(shown, pending)
        try:
            module = cst.parse_module(before)
            this = imported if shown == home.path else module_name(Path(shown))
            transformer = RenameTask(this, shown.endswith("__init__.py"), imported,
                                     old, new, frozenset(scope.settings.task_decorators), scope.factories,
                                     registered)
            after = MetadataWrapper(module).visit(transformer).bytes
        except (cst.ParserSyntaxError, RecursionError, MemoryError) as exc:
            err.write(f"{where}: {shown} cannot be rewritten ({type(exc).__name__})\n")
            return {}
        problem = transformer.refusal or _unfollowed(shown, old, transformer)
        if problem:
            err.write(f"{where}: {problem}\n")
            return {}
        if not still_parses(after):
            err.write(f"{where}: the result would not parse\n")
            return {}
        if after != before:
            original = pending[shown].before if shown in pending else before
            changes[shown] = Change(original, after)
    if home.path not in changes:  # never a rename of the uses alone
        err.write(f"{where}: the fix found no definition to rename in {home.path}; please report it\n")
        return {}
    return changes


def _unfollowed(shown: str, old: str, transformer: RenameTask) -> str | None:
    if transformer.string_lines:
        lines = ", ".join(map(str, transformer.string_lines))
        return (f"{shown} names {old!r} in a string (line {lines}: getattr, __all__, ...), which the fix "
                "cannot follow; rename by hand")
    if transformer.unresolved_lines:
        lines = ", ".join(map(str, transformer.unresolved_lines))
        return (f"{shown} mentions {old!r} in a way the fix cannot follow (a star import, a string, another "
                f"object of that name) (line {lines})")
    return None


def _current(shown: str, pending: Mapping[str, Change]) -> bytes:
    return pending[shown].after if shown in pending else read_source(Path(shown))


def _mentions(scope: Scope, old: str, pending: Mapping[str, Change]) -> tuple[set[str], str | None]:
    """(the files of the run whose text mentions the name, why the rename is refused: an excluded
    file mentions it)."""
    word = re.compile(rf"\b{re.escape(old)}\b")
    run = {display(path) for path in scope.files}
    found: set[str] = set()
    for path in dict.fromkeys([*scope.files, *scope.every]):
        shown = display(path)
        if shown in found:
            continue
        try:
            text = _current(shown, pending).decode("utf-8", "replace")
        except OSError:
            continue
        if word.search(text) is None:
            continue
        if shown in run:
            found.add(shown)
            continue
        lines = [str(n) for n, line in enumerate(text.splitlines(), 1) if word.search(line)]
        places = f"line {', '.join(lines[:10])}{' ...' if len(lines) > 10 else ''}"
        return found, (f"{shown} mentions {old!r} ({places}) and is excluded from the run (exclude / "
                       "--exclude): the fix does not write it; rename by hand")
    return found, None


def _imported_as(path: Path, name: str, scope: Scope, pending: Mapping[str, Change]) -> tuple[str | None, str]:
    """(the module name the task's module is imported as, or None with why it is not known). Only a
    module below a folder without ``__init__.py`` that is no project folder has more than one
    (``task_names.module_names``); the project's imports and dotted strings then decide."""
    names = module_names(path, project_root(scope.settings))
    if len(names) == 1:
        return names[0], ""
    imports: dict[Path, frozenset[str]] = {}
    word = re.compile(rf"\b{re.escape(path.stem)}\b")
    for other in dict.fromkeys([*scope.files, *scope.every]):
        try:
            text = _current(display(other), pending)
        except OSError:
            continue
        if word.search(text.decode("utf-8", "replace")) is None:
            continue
        try:
            imports[other] = imported_modules(ast.parse(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    module = imported_as(path, names, imports)
    if module is not None:
        return module, ""
    folder = path.resolve().parents[names[0].count(".")]
    return None, (f"{display(folder)} has no __init__.py, so the name Celery registers the task under depends on "
                  f"which folder is on sys.path ({' or '.join(repr(f'{n}.{name}') for n in names)}) and the "
                  "project's imports do not tell; give the task name=\"...\" yourself and rerun")


def _registered_name(source: bytes, module: str, name: str, line: int, settings: config_module.Config) -> str | None:
    """The name Celery registers the task defined at ``line`` under when its module is imported as
    ``module`` (None when not written literally)."""
    try:
        tree = ast.parse(source)
        index = build_index(tree, rule_settings(settings).task_decorators)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return next((t.name for t in task_names(index, module) if t.binding == name and t.line == line), None)
