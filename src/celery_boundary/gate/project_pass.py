"""The work of ``check`` when it is not remembered (``gate/run_memo.py``): the rules over every file,
through the warm cache (``gate/warm.py``), and the project-wide pass over the facts of the checked
files and of the project's other files. Imported only by a run that computes: a remembered run
imports none of the rules."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from celery_boundary import checks
from celery_boundary.analysis import project
from celery_boundary.core import config as config_module
from celery_boundary.core.findings import Finding, select, with_source
from celery_boundary.gate import warm
from celery_boundary.gate.cache import Cache
from celery_boundary.gate.engine import FileResult, Progress, check_files, iter_findings, not_checked, rule_settings
from celery_boundary.gate.factory_scan import with_project_factories
from celery_boundary.gate.files import display_link, read_source
from celery_boundary.gate.mypy_merge import run_mypy  # imports mypy only when run
from celery_boundary.gate.summary import report_skips

if TYPE_CHECKING:
    from concurrent.futures import Future  # with logging, 10 % of check's imports: --mypy only


def compute(settings: config_module.Config, chosen: frozenset[str], files: list[Path], odd: list[tuple[Path, str]],
            others: list[Path], folder: Path | None, root: Path, err: TextIO, *, jobs: int, quiet: bool,
            mypy: bool) -> tuple[list[Finding], list[Finding], frozenset[str]]:
    """(the findings before the baseline, the files that could not be checked, the displayed paths of
    those checked): the rules over every file, through the warm cache in ``folder`` (for the project
    in ``root``), and the project-wide pass; mypy too with ``mypy``."""
    store = None if folder is None else Cache(folder, root, settings)
    settings = with_project_factories([*files, *others], settings,
                                      None if store is None else partial(warm.stored_factories, store))
    # The project's top-level packages, also when pre-commit names some files: a file's facts are
    # the same whichever files are named.
    roots = project.roots_of([*files, *others], None if store is None else store.module_names)
    if store is not None:
        store.use_effective(settings, roots)

    # mypy (seconds) runs in its own process while this one runs the ast rules: both cores busy.
    typed = _start_mypy(files) if mypy and files else None
    progress = Progress.maybe(len(files), quiet, err)
    if store is None:
        results = check_files(files, settings, chosen, jobs=jobs, progress=progress, roots=roots)
    else:
        results = warm.check_files(files, settings, chosen, store, jobs=jobs, progress=progress, roots=roots)
    if progress:
        progress.close()
    skips = [not_checked(display_link(path), reason) for path, reason in odd] + [
        not_checked(result.path, result.skipped, result.skipped_line) for result in results if result.skipped]
    report_skips(skips, chosen, err)
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
