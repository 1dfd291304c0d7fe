"""``celery-boundary check``: discover, run the rules (and mypy), baseline, print, choose the exit code.

Exit codes: 0 no (new) findings, 1 findings, 2 usage or configuration error (raised as ``UsageError``
or ``ConfigError`` and printed by the CLI as one line).
"""

from __future__ import annotations

import gc
import os
import sys
from contextlib import contextmanager
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from celery_boundary import checks
from celery_boundary.analysis import project
from celery_boundary.analysis.task_names import is_link
from celery_boundary.core import config as config_module
from celery_boundary.core.client_contracts import load_contracts
from celery_boundary.gate import baseline as baseline_module
from celery_boundary.gate.files import (discover, discover_project, display, display_link, run_folders,
                                        read_source, resolved_text)
from celery_boundary.gate.factory_scan import with_project_factories
from celery_boundary.gate import cache as cache_module, run_memo, warm
from celery_boundary.gate.cache import Cache
from celery_boundary.gate.engine import (NOT_CHECKED, FileResult, Progress, check_files, iter_findings, not_checked,
                                         rule_settings)
from celery_boundary.gate.errors import UsageError
from celery_boundary.gate.writes import emit
from celery_boundary.core.findings import Finding, select, with_source
from celery_boundary.gate.formats import render_text, renderer, wants_colour
from celery_boundary.gate.mypy_merge import run_mypy  # imports mypy only when run
from celery_boundary.gate.selection import expand, require_mypy
from celery_boundary.gate.summary import Summary, plural, statistics

if TYPE_CHECKING:
    from concurrent.futures import Future  # with logging, 10 % of check's imports: --mypy only

#: New containers between two runs of the cycle collector during ``check`` (Python's default: 700).
GC_THRESHOLD: Final = 200_000


@dataclass(frozen=True)
class CheckOptions:
    paths: tuple[str, ...] = ()
    format: str = "text"
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    baseline: Path | None = None
    write_baseline: Path | None = None
    output: Path | None = None
    config: Path | None = None
    jobs: int = 0
    mypy: bool = False
    quiet: bool = False
    statistics: bool = False
    show_source: bool = False
    #: The warm cache's folder (default: ``cache-dir``, else .celery_boundary_cache in the project root).
    cache_dir: Path | None = None
    no_cache: bool = False


def run_check(options: CheckOptions, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    with fewer_collections(), run_folders():
        return _run_check(options, stdout, stderr)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's cycle collector, run after every 700 new containers, walks every live one: a warm run
    decodes tens of thousands of records (none in a cycle) and spent two thirds of its decoding in
    it (benchmarks/check_cache.py). For the run, it waits for 200,000 (as mypy's own ``main`` does)."""
    before = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _run_check(options: CheckOptions, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    render = renderer(options.format)
    chosen = expand(options.select, options.ignore)
    require_mypy(options.select, options.mypy)
    settings = config_module.load(options.config) if options.config else config_module.load(start=Path.cwd())
    load_contracts(settings)  # a missing or damaged contract is a usage error before any file is read
    if options.jobs < 0:
        raise UsageError(f"--jobs must be 0 (automatic) or a positive number, not {options.jobs}")
    accepted = baseline_module.load_baseline(options.baseline) if options.baseline else None
    files, odd, left_out = discover_project(options.paths, (*settings.exclude, *options.exclude),
                                            settings.test_paths)
    warn_missing_app(settings, err)
    # Task factories of the whole project, also when only some files are named (pre-commit).
    # Uses in test suites and examples are not the product's: the project pass reads neither.
    excluded = (*settings.exclude, *options.exclude, *settings.test_paths)
    others = outside_files(files, settings, excluded, options.paths or (".",))  # factory scan, project pass
    folder = None if options.no_cache else cache_module.folder_for(settings, project_root(settings), options.cache_dir)
    # The same command over the same, unchanged files: the last run's findings (gate/run_memo.py).
    # Only over the whole project (a run naming some files, as pre-commit does, is a new command each
    # time: the stat of every file twice would cost it a sixth); not with --mypy, nor for the html
    # report, whose graph reads the files again.
    memo_key = None if folder is None or others or options.mypy or options.format == "html" else run_memo.key_of(
        options.paths or (".",), chosen, settings, options.exclude)
    read_too = [] if memo_key is None else [*files, *run_memo.other_inputs(settings, project_root(settings))]
    remembered = None if memo_key is None or folder is None else run_memo.recall(folder, memo_key, read_too)
    if remembered is None:
        before = run_memo.stats_of(read_too) if memo_key is not None else {}
        findings, skips, checked = _compute(options, settings, chosen, files, odd, others, folder, err)
        if memo_key is not None and folder is not None:
            run_memo.remember(folder, memo_key, before, findings, skips, checked)
    else:
        findings, skips, checked = remembered.findings, remembered.skips, remembered.checked
        _report_skips(skips, chosen, err)

    if options.write_baseline:
        unread = {display(path) for path in others}  # pre-commit names some files: keep the others' entries
        count = baseline_module.write_baseline(options.write_baseline, findings, unread)
        if not options.quiet:
            err.write(f"celery-boundary: wrote {plural(count, 'accepted finding')} to {options.write_baseline}\n")
        return 0
    found = len(findings)
    every: list[Finding] = findings
    stale: list[baseline_module.Entry] = []
    if accepted is not None:
        findings, stale = baseline_module.apply_baseline(accepted, findings)
        stale = [entry for entry in stale if entry.path in checked]  # pre-commit: others' entries are not stale
        _report_stale(stale, options.baseline, err)

    if options.format == "text":
        colour = options.output is None and wants_colour(out)
        emit(render_text(findings, show_source=options.show_source, colour=colour), options.output, out, "report")
    elif options.format == "html":  # the report with the baseline's status and the launch graph
        kept = set(findings)
        from celery_boundary.gate import report_html  # the graph and the page, for this format only

        emit(report_html.render_report(report_html.Report(
            findings, [f for f in every if f not in kept], options.baseline if accepted is not None else None, stale,
            len(files) + len(odd), report_html.graph_page(files, every, rule_settings(settings).task_decorators),
        )), options.output, out, "report")
    else:
        emit(render(findings), options.output, out, "report")
    if options.statistics:
        err.write(statistics(findings))
    if not options.quiet:
        err.write(Summary(findings, len(files) + len(odd), options.format,
                          None if accepted is None else found - len(findings), options.baseline,
                          options.output, left_out, [skip.path for skip in skips]).line())
    return 1 if findings else 0


def _compute(options: CheckOptions, settings: config_module.Config, chosen: frozenset[str], files: list[Path],
             odd: list[tuple[Path, str]], others: list[Path], folder: Path | None,
             err: TextIO) -> tuple[list[Finding], list[Finding], frozenset[str]]:
    """(the findings before the baseline, the files that could not be checked, the displayed paths of
    those checked): the rules over every file, through the warm cache in ``folder``, and the
    project-wide pass."""
    store = None if folder is None else Cache(folder, project_root(settings), settings)
    settings = with_project_factories([*files, *others], settings,
                                      None if store is None else partial(warm.stored_factories, store))
    # The project's top-level packages, also when pre-commit names some files: a file's facts are
    # the same whichever files are named.
    roots = project.roots_of([*files, *others], None if store is None else store.module_names)
    if store is not None:
        store.use_effective(settings, roots)

    # mypy (seconds) runs in its own process while this one runs the ast rules: both cores busy.
    typed = _start_mypy(files) if options.mypy and files else None
    progress = Progress.maybe(len(files), options.quiet, err)
    if store is None:
        results = check_files(files, settings, chosen, jobs=options.jobs, progress=progress, roots=roots)
    else:
        results = warm.check_files(files, settings, chosen, store, jobs=options.jobs, progress=progress, roots=roots)
    if progress:
        progress.close()
    skips = [not_checked(display_link(path), reason) for path, reason in odd] + [
        not_checked(result.path, result.skipped, result.skipped_line) for result in results if result.skipped]
    _report_skips(skips, chosen, err)
    findings = list(iter_findings(results))
    if checks.PROJECT_CODES & chosen:
        source = warm.FileSource() if store is None else warm.CachedSource(store)
        whole = project.Project(collect_facts(files, results, settings, others, source, roots))
        checked = {result.path for result in results}
        rules = rule_settings(settings)
        findings = [f for f in checks.check_project(whole, findings, chosen, rules) if f.path in checked]
    findings += select(skips, chosen)
    if typed is not None:
        findings += select(typed.result(), chosen)
    findings = _with_sources(findings)
    findings.sort()
    if store is not None:
        store.save()
    return findings, skips, frozenset(result.path for result in results)


def _report_skips(skips: Sequence[Finding], chosen: frozenset[str], err: TextIO) -> None:
    if NOT_CHECKED not in chosen:  # --ignore CB001: still never silent
        for skip in skips:
            err.write(f"{skip.path}: skipped, {skip.message.removeprefix('file not checked: ')}\n")


def collect_facts(
    files: Sequence[Path], results: Sequence[FileResult], settings: config_module.Config,
    others: Sequence[Path] = (), source: warm.FileSource | None = None, roots: frozenset[str] | None = None,
) -> list[project.ModuleFacts]:
    """Facts of every parsed module, plus those of any other module of the project that mentions a
    public task: files the pre-test skipped, and ``others``, the project's files not named on the
    command line (``outside_files``: pre-commit passes only the staged files, but a task's uses are
    everywhere). When a module names a task in a string (CB205), also every other module that may
    define a task: the name must be compared with every task of the project. ``source`` reads
    those files (from the warm cache, or from disk)."""
    facts = [result.facts for result in results if result.facts is not None]
    names = {task.name for module in facts for task in module.tasks}
    named = any(module.name_refs for module in facts)
    # CB206 in views: the settings modules (DATABASES, DJANGO_SETTINGS_MODULE) mention no task.
    views = any(module.view_launches for module in facts)
    unparsed = [path for path, result in zip(files, results) if not result.parsed]
    if not names and not named and not views or not unparsed and not others:
        return facts
    words = frozenset(names)
    roots = project.roots_of([*files, *others]) if roots is None else roots
    outside = set(others)
    source = source or warm.FileSource()
    for path in [*unparsed, *others]:
        full = bool(words) and source.mentions(path, words) or views and source.settings_like(path)
        if full or named and path in outside and source.applies(path, settings):
            # Only for the names it registers (CB205): a module that mentions no task of the checked
            # files uses none of them, so its uses, tasks and strings change no finding of theirs.
            extra = source.facts(path, settings, roots, light=not full)
            if extra is not None:
                facts.append(extra)
    return facts


def outside_files(files: Sequence[Path], settings: config_module.Config, exclude: Sequence[str],
                  named: Sequence[str] = ()) -> list[Path]:
    """The project's .py files that were not named (the project: the configuration file's folder, else
    the repository around the working directory). ``named``: the paths given (default ``.``)."""
    root = project_root(settings)
    if any(os.path.isdir(path) and resolved_text(Path(path)) == str(root) for path in named):
        return []  # the whole project was named (``check`` from its root): nothing is outside
    checked = {resolved_text(path) for path in files}
    names = {os.path.basename(path) for path in checked}
    try:
        every = discover([str(root)], exclude)
    except UsageError:
        return []
    # A file is resolved only when it may be a named one: its name is, or it is a link (pre-commit
    # names a few files of thousands).
    return [path for path in every if (path.name not in names and not is_link(path))
            or resolved_text(path) not in checked]


def project_root(settings: config_module.Config) -> Path:
    if settings.source:
        return Path(settings.source).resolve().parent
    cwd = Path.cwd().resolve()
    return next((folder for folder in (cwd, *cwd.parents) if (folder / ".git").exists()), cwd)


def warn_missing_app(settings: config_module.Config, err: TextIO) -> None:
    """One line on stderr for each ``app`` that names a module no file of the project is (a typo, a move)."""
    root = project_root(settings)
    for app in settings.apps:
        module = app.split(":")[0]
        relative = Path(*module.split("."))
        if any((base / relative).with_suffix(".py").is_file() or (base / relative / "__init__.py").is_file()
               for base in (root, root / "src", Path.cwd())):
            continue
        where = f" ({settings.source})" if settings.source else ""
        err.write(f"celery-boundary: warning: [tool.celery_boundary] app = {app!r}{where} names no module "
                  f"of the project (no {relative.as_posix()}.py or {relative.as_posix()}/__init__.py under "
                  f"{display(root)}); the app's settings cannot be read\n")


def _start_mypy(files: Sequence[Path]) -> Future[list[Finding]]:
    """mypy over exactly the files ``check`` reads (so ``exclude`` applies), in a child process that
    alone imports mypy; a mypy that cannot run raises UsageError from ``result()``."""
    from concurrent.futures import ProcessPoolExecutor  # --mypy only

    pool = ProcessPoolExecutor(max_workers=1)
    future = pool.submit(run_mypy, [str(path) for path in files])
    pool.shutdown(wait=False)  # the submitted run still completes
    return future


def _with_sources(found: Sequence[Finding]) -> list[Finding]:
    """Each finding with its line's text (mypy's diagnostics and CB205 come without it; the baseline
    fingerprints it)."""
    merged = []
    lines_of: dict[str, list[str]] = {}
    for finding in found:
        if finding.source_line:
            merged.append(finding)
            continue
        if finding.path not in lines_of:
            try:
                lines_of[finding.path] = read_source(Path(finding.path)).decode("utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                lines_of[finding.path] = []
        merged.append(with_source(finding, lines_of[finding.path]))
    return merged


def _report_stale(stale: Sequence[baseline_module.Entry], file: Path | None, err: TextIO) -> None:
    if not stale:
        return
    err.write(
        f"celery-boundary: {plural(len(stale), 'baseline entry', 'baseline entries')} in {file} no longer "
        f"{'occurs' if len(stale) == 1 else 'occur'} (fixed, or the line changed); rewrite the baseline with "
        f"--write-baseline to drop {'it' if len(stale) == 1 else 'them'}:\n"
    )
    for entry in stale:
        err.write(f"  {entry.path}:{entry.line}: {entry.code} {entry.message}\n")
