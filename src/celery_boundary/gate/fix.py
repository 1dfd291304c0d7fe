"""``celery-boundary fix``: find the fixable findings the way ``check`` does (noqa honoured), then
rewrite only the files that have one, with libcst, keeping comments and formatting.

CB202 renames a chain-only task in every module that references it (``gate.rename``).
Safe fixes apply by default; unsafe ones (CB101-CB103: queued pickle messages) only with
``--unsafe-fixes`` (ruff's convention). Every fix of a run is planned first; then all the files are
written or none (``gate.writes``), each only when the result still parses. The fixes of one file run
one codemod after another, each on the text the previous one left, with the findings' lines carried
through each change (``fix_source``). ``--diff`` writes nothing and prints a unified diff in each
file's own encoding (exit 1 when there is one). Files ``fix`` cannot read, parse or afford (larger
than ``MAX_FIX_BYTES``) are named on stderr, one line each, and left as they are.
"""

from __future__ import annotations

import ast
import difflib
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from celery_boundary import checks
from celery_boundary.analysis import project
from celery_boundary.analysis.dependencies import celery_floor
from celery_boundary.analysis.index import build_index
from celery_boundary.checks.canvas import CHAIN_ONLY
from celery_boundary.checks import transactions
from celery_boundary.core import config as config_module
from celery_boundary.core import rules
from celery_boundary.core.findings import Finding
from celery_boundary.gate.check import outside_files
from celery_boundary.gate.project_pass import collect_facts
from celery_boundary.gate.engine import check_files, iter_findings, rule_settings, run_rules
from celery_boundary.gate.factory_scan import with_project_factories
from celery_boundary.gate.files import (discover, discover_with_skips, display, display_link, project_root, read_source,
                                        run_folders)
from celery_boundary.gate.rename import Scope, rename_task
from celery_boundary.gate.selection import expand
from celery_boundary.gate.summary import plural
from celery_boundary.gate.writes import Change, still_parses, unified_diff, write_all

if TYPE_CHECKING:
    from celery_boundary.codemods.base import FixTransformer

#: The codes ``fix`` rewrites: every rule whose registry record has a fix (``Rule.fix``). Each has a
#: codemod in ``file_fixers`` or, for CB202, ``rename_task`` (tests/test_rule_registry.py).
FIXABLE: Final = frozenset(rule.code for rule in rules.RULES if rule.fix is not rules.FixSafety.NONE)
#: Larger modules are not fixed (named on stderr): fixing is linear but slow in libcst, measured on
#: generated beat settings with a CB401 fix on every line (two cores): 1 MB 50 s and 0.7 GB, 2 MB 104 s
#: and 1.3 GB, so a 7 MB module would take six minutes. No hand-written Celery module is that large;
#: generated ones are regenerated, not fixed. ``check`` reads them (7.1 MB: 17 s).
MAX_FIX_BYTES: Final = 1_000_000


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
    with run_folders():
        return _run_fix(options, stdout, stderr)


def _run_fix(options: FixOptions, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    settings = config_module.load(options.config) if options.config else config_module.load(start=Path.cwd())
    wanted = expand(options.select, options.ignore) & FIXABLE
    unsafe = {code for code in wanted if rules.get(code).fix is rules.FixSafety.UNSAFE}
    applied = wanted if options.unsafe_fixes else wanted - unsafe
    excluded = (*settings.exclude, *options.exclude)
    files, odd = discover_with_skips(options.paths, excluded, settings.test_paths)
    for path, reason in odd:
        err.write(f"{display_link(path)}: skipped, {reason}\n")
    # The project's task factories, as `check` finds them: the same findings, the same tasks.
    others = outside_files(files, settings, (*excluded, *settings.test_paths))  # walked once
    scanned = with_project_factories([*files, *others], settings)
    factories = frozenset(scanned.task_decorators) - frozenset(settings.task_decorators)
    settings = scanned
    files, large = _within_size(files)
    for path, size in large:
        err.write(f"{display(path)}: skipped, {size / 1e6:.1f} MB is more than fix reads "
                  f"({MAX_FIX_BYTES / 1e6:.0f} MB); fix it by hand or split the module\n")
    results = check_files(files, settings, frozenset(wanted), roots=project.roots_of([*files, *others]))
    for result in results:
        if result.skipped:
            err.write(f"{result.path}: skipped, {result.skipped}\n")
    findings = list(iter_findings(results))
    facts: list[project.ModuleFacts] = []
    scheduler = None
    if checks.PROJECT_CODES & wanted:
        facts = collect_facts(files, results, settings, others)
        checked = {result.path for result in results}
        whole = project.Project(facts)
        findings = [f for f in checks.check_project(whole, findings, frozenset(wanted)) if f.path in checked]
        scheduler = whole.scheduler()
    held_back = [f for f in findings if f.code not in applied]
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.code in applied and finding.code != CHAIN_ONLY:
            by_file[finding.path].append(finding)

    changes: dict[str, Change] = {}
    fixed = 0
    # CB206's fix: delay_on_commit only when every celery the project allows has it.
    celery = celery_floor(project_root(settings)) if by_file else None
    for shown, found in sorted(by_file.items()):
        change, count = _fix_file(shown, found, err, settings, celery, scheduler)
        if change is not None:
            changes[shown] = change
            fixed += count
    renames = [f for f in findings if f.code == CHAIN_ONLY and CHAIN_ONLY in applied]
    if renames:
        scope = Scope(facts, [*files, *others], discover([str(project_root(settings))]), settings, factories)
        for finding in renames:
            renamed = rename_task(finding, scope, changes, err)
            changes.update(renamed)
            fixed += 1 if renamed else 0
    if options.diff:
        for shown, change in changes.items():
            _write_bytes(out, unified_diff(shown, change))
    else:
        write_all(changes)
    if not options.quiet:
        verb = "would fix" if options.diff else "fixed"
        err.write(f"celery-boundary: {verb} {plural(fixed, 'place')} in {plural(len(changes), 'file')}\n")
        if held_back:
            err.write(f"celery-boundary: {plural(len(held_back), 'more finding')} "
                      f"{'has an unsafe fix' if len(held_back) == 1 else 'have unsafe fixes'} "
                      f"({', '.join(sorted({f.code for f in held_back}))}); review docs/rules and rerun "
                      "with --unsafe-fixes\n")
    return 1 if options.diff and changes else 0


def _within_size(files: Sequence[Path]) -> tuple[list[Path], list[tuple[Path, int]]]:
    """(the files fix reads, the files larger than ``MAX_FIX_BYTES`` with their sizes)."""
    kept, large = [], []
    for path in files:
        try:
            size = path.stat().st_size
        except OSError:
            size = 0  # the read reports it
        if size > MAX_FIX_BYTES:
            large.append((path, size))
        else:
            kept.append(path)
    return kept, large


def _fix_file(shown: str, found: Sequence[Finding], err: TextIO, settings: config_module.Config,
              celery: tuple[int, ...] | None = None, scheduler: str | None = None) -> tuple[Change | None, int]:
    """The file's fixes planned and applied on its current text, or None with one line on stderr; each
    finding the fixes left as it was is named on stderr with why (``NOT_HANDLED``). ``celery``: the
    lowest Celery the project allows (CB206's fix); ``scheduler``: the project's beat scheduler (CB401's)."""
    try:
        before = read_source(Path(shown))
    except OSError as exc:
        err.write(f"{shown}: fix skipped, cannot be read: {exc.strerror or exc}\n")
        return None, 0
    if not still_parses(before):  # read by check through libcst (gate/newer_syntax.py): no fix is checked on it
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        err.write(f"{shown}: fix skipped, written in a newer Python's syntax than {version}: run fix under the "
                  "Python your project runs on\n")
        return None, 0
    try:
        result = fix_source(before, found, celery, scheduler)
    except (RecursionError, MemoryError) as exc:  # valid code nested deeper than libcst's stack
        err.write(f"{shown}: fix skipped, too deeply nested for the fixer ({type(exc).__name__})\n")
        return None, 0
    for finding in result.deferred:
        err.write(f"{shown}:{finding.line}: {finding.code} not fixed in this run: an earlier fix in this file "
                  "rewrote its lines; run fix again\n")
    if result.count and result.after != before and not still_parses(result.after):
        # never write code that does not parse: leave the file as it was
        err.write(f"{shown}: fix skipped, the result would not parse; please report it\n")
        return None, 0
    changed = result.count > 0 and result.after != before
    for line, code in _left_alone(result.after if changed else before, found, result.deferred, settings):
        err.write(f"{shown}:{line}: {code} not fixed: {NOT_HANDLED[code]}\n")
    if not changed:
        return None, 0
    return Change(before, result.after), result.count


#: Why a fix leaves a finding of its code as it was: the forms each fix handles (docs/ci.md's table).
NOT_HANDLED: Final = {
    **dict.fromkeys(("CB101", "CB102", "CB103"), (
        "the fix replaces only 'pickle' and its content type; a serializer the project registers itself "
        "(a signed pickle) is for you to replace with json or to list in trusted_serializers")),
    "CB401": ("the fix adds an expiry only to a beat entry or add_periodic_task call that states its period in "
              "seconds (a number, a timedelta), not to a crontab, a period computed elsewhere or a "
              "django-celery-beat row; add the expiry by hand"),
    "CB402": ("the fix adds minute=0 only where the hour is literal hours (hour=3, \"8,20\", \"9-17\"); a crontab "
              "with only a day or a month, or a computed hour, needs your minute"),
    "CB206": ("the fix defers a launch that is a statement of its own (its result unused) outside a delete "
              "receiver: a launch whose result is kept needs your change (e.g. transaction.on_commit around the "
              "code that uses it), and one in a delete receiver your check that the task does not load the "
              "deleted row"),
}


def _left_alone(text: bytes, found: Sequence[Finding], deferred: Sequence[Finding],
                settings: config_module.Config) -> list[tuple[int, str]]:
    """(line in ``text``, code) of each finding of ``found`` that the module's rules still report in
    ``text`` (its fixed text), the deferred ones aside."""
    try:
        index = build_index(ast.parse(text), rule_settings(settings).task_decorators)
        reported = sorted(run_rules(index, "", settings), key=lambda f: f.line)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    still: dict[tuple[str, str], list[int]] = defaultdict(list)
    for finding in reported:
        still[(finding.code, finding.message)].append(finding.line)
    left = []
    for finding in sorted(found, key=lambda f: f.line):
        lines = still[(finding.code, finding.message)]
        if finding not in deferred and finding.code in NOT_HANDLED and lines:
            left.append((lines.pop(0), finding.code))
    return left


def _write_bytes(out: TextIO, data: bytes) -> None:
    """Bytes through to the stream (a diff in the file's own encoding); text streams without a buffer
    (tests' StringIO) get it decoded."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        out.write(data.decode("utf-8", "surrogateescape"))
        return
    out.flush()
    buffer.write(data)
    buffer.flush()


@dataclass(frozen=True)
class FixedSource:
    after: bytes
    count: int
    #: Findings not fixed because an earlier fix in the same file rewrote their lines (overlap).
    deferred: tuple[Finding, ...] = ()


def fix_source(source: bytes, findings: Sequence[Finding], celery: tuple[int, ...] | None = None,
               scheduler: str | None = None) -> FixedSource:
    """Apply every implemented fix for ``findings`` (all in this file) to ``source``.

    Each codemod runs on the text the previous ones left, so the lines the findings name (computed
    on ``source``) are carried through each change (``_carry_lines``): a line an earlier fix removed
    or split no longer names the same code, and its finding is deferred to the next run (an overlap).
    """
    import libcst as cst  # lazy: only `fix` pays for libcst
    from libcst.metadata import MetadataWrapper

    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return FixedSource(source, 0)
    # finding -> its line in the current text (a delete receiver's CB206 is for a human: transactions.fixable)
    positions = {finding: finding.line for finding in findings if transactions.fixable(finding)}
    deferred: list[Finding] = []
    count = 0
    fixers = file_fixers()
    for transformer_class in dict.fromkeys(fixers.values()):  # each codemod once, in registry order
        codes = {code for code, fixer in fixers.items() if fixer is transformer_class}
        lines: dict[str, set[int]] = defaultdict(set)
        for finding, line in positions.items():
            if finding.code in codes:
                lines[finding.code].add(line)
        if not lines:
            continue
        transformer = transformer_class({code: frozenset(numbers) for code, numbers in lines.items()}, celery,
                                        scheduler)
        before = module.code
        module = MetadataWrapper(module).visit(transformer)
        count += transformer.changed
        positions = {finding: line for finding, line in positions.items() if finding.code not in codes}
        if transformer.changed:
            carried = _carry_lines(before, module.code)
            deferred += [finding for finding, line in positions.items() if line not in carried]
            positions = {finding: carried[line] for finding, line in positions.items() if line in carried}
    return FixedSource(module.bytes, count, tuple(f for f in deferred if f.code in fixers))


def file_fixers() -> dict[str, type[FixTransformer]]:
    """Each code fixed within one file -> its libcst transformer (CB202's rename spans modules and is
    ``rename_task``). Imports libcst: only ``fix`` calls it."""
    from celery_boundary.codemods import beat_expiry, crontab_minute, pickle_json, transaction_launch

    return {**dict.fromkeys(pickle_json.CODES, pickle_json.PickleToJson),
            **dict.fromkeys(crontab_minute.CODES, crontab_minute.CrontabMinute),  # adds no line: runs first
            **dict.fromkeys(beat_expiry.CODES, beat_expiry.BeatExpiry),
            **dict.fromkeys(transaction_launch.CODES, transaction_launch.TransactionLaunch)}


def _carry_lines(before: str, after: str) -> dict[int, int]:
    """Each line of ``before`` that is still there in ``after`` (unchanged, or changed in place within a
    block of as many lines) -> its number in ``after``."""
    old, new = before.splitlines(), after.splitlines()
    carried: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            carried.update({i1 + k + 1: j1 + k + 1 for k in range(i2 - i1)})
    return carried
