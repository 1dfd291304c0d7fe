"""``celery-boundary fix``: find the fixable findings the way ``check`` does (noqa honoured), then
rewrite only the files that have one, with libcst, keeping comments and formatting.

CB202 renames a chain-only task in every module that references it (``rename_task``).
Safe fixes apply by default; unsafe ones (CB101-CB103: queued pickle messages) only with
``--unsafe-fixes`` (ruff's convention). A file is written atomically (a temporary file in the same
folder, then ``os.replace``), and only when the result still parses. ``--diff`` writes nothing and
prints a unified diff (exit 1 when there is one).
"""

from __future__ import annotations

import ast
import difflib
import os
import re
import sys
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from celery_boundary import checks
from celery_boundary.analysis import project
from celery_boundary.analysis.task_names import module_name
from celery_boundary.checks.canvas import CHAIN_ONLY
from celery_boundary.core import config as config_module
from celery_boundary.core import rules
from celery_boundary.gate.check import collect_facts, outside_files
from celery_boundary.gate.files import discover, display
from celery_boundary.gate.engine import check_files, iter_findings
from celery_boundary.gate.errors import UsageError
from celery_boundary.gate.factory_scan import with_project_factories
from celery_boundary.core.findings import Finding
from celery_boundary.gate.selection import expand

if TYPE_CHECKING:
    from celery_boundary.codemods.base import FixTransformer

#: The codes ``fix`` rewrites: every rule whose registry record has a fix (``Rule.fix``). Each has a
#: codemod in ``file_fixers`` or, for CB202, ``rename_task`` (tests/test_rule_registry.py).
FIXABLE: Final = frozenset(rule.code for rule in rules.RULES if rule.fix is not rules.FixSafety.NONE)


@dataclass(frozen=True)
class FixOptions:
    paths: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    config: Path | None = None
    diff: bool = False
    unsafe_fixes: bool = False
    quiet: bool = False


def run_fix(options: FixOptions, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    settings = config_module.load(options.config) if options.config else config_module.load(start=Path.cwd())
    wanted = expand(options.select, options.ignore) & FIXABLE
    unsafe = {code for code in wanted if rules.get(code).fix is rules.FixSafety.UNSAFE}
    applied = wanted if options.unsafe_fixes else wanted - unsafe
    files = discover(options.paths, (*settings.exclude, *options.exclude))
    # The project's task factories, as `check` finds them: the same findings, the same tasks.
    others = outside_files(files, settings, (*settings.exclude, *options.exclude))  # walked once
    scanned = with_project_factories([*files, *others], settings)
    factories = frozenset(scanned.task_decorators) - frozenset(settings.task_decorators)
    settings = scanned
    results = check_files(files, settings, frozenset(wanted))
    findings = list(iter_findings(results))
    facts: list[project.ModuleFacts] = []
    if checks.PROJECT_CODES & wanted:
        facts = collect_facts(files, results, settings, others)
        checked = {result.path for result in results}
        findings = [f for f in checks.check_project(project.Project(facts), findings, frozenset(wanted))
                    if f.path in checked]
        files = [*files, *others]  # a rename must see every mention
    held_back = [f for f in findings if f.code not in applied]
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.code in applied and finding.code != CHAIN_ONLY:
            by_file[finding.path].append(finding)

    changed: set[str] = set()
    fixed = 0
    for shown, found in sorted(by_file.items()):
        before = Path(shown).read_bytes()
        after, count = fix_source(before, found)
        if count == 0 or after == before:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(after)
        except SyntaxError:  # never write code that does not parse: leave the file as it was
            err.write(f"{shown}: fix skipped, the result would not parse; please report it\n")
            continue
        changed.add(shown)
        fixed += count
        if options.diff:
            out.writelines(_diff(shown, before, after))
        else:
            write_atomically(Path(shown), after)
    for finding in (f for f in findings if f.code == CHAIN_ONLY and CHAIN_ONLY in applied):
        renamed = rename_task(finding, facts, files, settings, options.diff, out, err, factories)
        changed.update(renamed)
        fixed += 1 if renamed else 0
    if not options.quiet:
        verb = "would fix" if options.diff else "fixed"
        err.write(f"celery-boundary: {verb} {fixed} place(s) in {len(changed)} file(s)\n")
        if held_back:
            err.write(f"celery-boundary: {len(held_back)} more finding(s) have unsafe fixes "
                      f"({', '.join(sorted({f.code for f in held_back}))}); review docs/rules and rerun "
                      "with --unsafe-fixes\n")
    return 1 if options.diff and changed else 0


def fix_source(source: bytes, findings: Sequence[Finding]) -> tuple[bytes, int]:
    """Apply every implemented fix for ``findings`` (all in this file) to ``source``."""
    import libcst as cst  # lazy: only `fix` pays for libcst
    from libcst.metadata import MetadataWrapper

    lines: dict[str, set[int]] = defaultdict(set)
    for finding in findings:
        lines[finding.code].add(finding.line)
    frozen = {code: frozenset(numbers) for code, numbers in lines.items()}
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return source, 0
    count = 0
    fixers = file_fixers()
    for transformer_class in dict.fromkeys(fixers.values()):  # each codemod once, in registry order
        if not any(code in frozen for code, fixer in fixers.items() if fixer is transformer_class):
            continue
        transformer = transformer_class(frozen)
        module = MetadataWrapper(module).visit(transformer)
        count += transformer.changed
    return module.bytes, count


def file_fixers() -> dict[str, type[FixTransformer]]:
    """Each code fixed within one file -> its libcst transformer (CB202's rename spans modules and is
    ``rename_task``). Imports libcst: only ``fix`` calls it."""
    from celery_boundary.codemods import beat_expiry, crontab_minute, pickle_json

    return {**dict.fromkeys(pickle_json.CODES, pickle_json.PickleToJson),
            **dict.fromkeys(crontab_minute.CODES, crontab_minute.CrontabMinute),  # adds no line: runs first
            **dict.fromkeys(beat_expiry.CODES, beat_expiry.BeatExpiry)}


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step: an interrupted run leaves the old file or the new, never half."""
    mode = path.stat().st_mode
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write the fix: {exc.strerror or exc}") from None


def _diff(shown: str, before: bytes, after: bytes) -> list[str]:
    old = before.decode("utf-8", "replace").splitlines(keepends=True)
    new = after.decode("utf-8", "replace").splitlines(keepends=True)
    return list(difflib.unified_diff(old, new, f"a/{shown}", f"b/{shown}"))


def rename_task(finding: Finding, facts: Sequence[project.ModuleFacts], files: Sequence[Path],
                settings: config_module.Config, diff: bool, out: TextIO, err: TextIO,
                factories: frozenset[str] = frozenset()) -> set[str]:
    """CB202: rename the task at ``finding`` in every module that uses it; returns the files changed.

    ``factories``: task factories found by scanning the project (not configured): whether one passes
    ``name=`` on to Celery is not known, so a task they make is renamed only when it names itself.
    """
    import libcst as cst  # lazy: only `fix` pays for libcst
    from libcst.metadata import MetadataWrapper

    from celery_boundary.codemods.private_task import RenameTask

    home = next((m for m in facts if m.path == finding.path), None)
    task = next((t for t in home.tasks if t.line == finding.line), None) if home else None
    if home is None or task is None:
        return set()
    old, new = task.name, f"_{task.name}"
    involved = {home.path} | {m.path for m in facts for use in m.uses if use.target == task.dotted}
    word = re.compile(rf"\b{re.escape(old)}\b")
    for path in files:
        shown = display(path)
        if shown not in involved and _mentions(path, word):
            err.write(f"{finding.path}:{finding.line}: CB202 not renamed: {shown} mentions {old!r} in a way "
                      "the fix cannot follow (a star import, a string, another object of that name)\n")
            return set()
    rewritten: dict[str, tuple[bytes, bytes]] = {}
    for shown in sorted(involved):
        before = Path(shown).read_bytes()
        try:
            module = cst.parse_module(before)
        except cst.ParserSyntaxError:
            return set()
        transformer = RenameTask(module_name(Path(shown)), shown.endswith("__init__.py"), home.module,
                                 old, new, frozenset(settings.task_decorators), factories)
        after = MetadataWrapper(module).visit(transformer).bytes
        if transformer.refusal:
            err.write(f"{finding.path}:{finding.line}: CB202 not renamed: {transformer.refusal}\n")
            return set()
        try:
            ast.parse(after)
        except SyntaxError:
            err.write(f"{finding.path}:{finding.line}: CB202 not renamed: the result would not parse\n")
            return set()
        if after != before:
            rewritten[shown] = (before, after)
    for shown, (before, after) in rewritten.items():
        if diff:
            out.writelines(_diff(shown, before, after))
        else:
            write_atomically(Path(shown), after)
    return set(rewritten)


def _mentions(path: Path, pattern: re.Pattern[str]) -> bool:
    try:
        return pattern.search(path.read_text(encoding="utf-8", errors="replace")) is not None
    except OSError:
        return False
