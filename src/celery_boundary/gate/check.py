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
from pathlib import Path
from typing import Final, TextIO

from celery_boundary.analysis.task_names import is_link
from celery_boundary.core import config as config_module
from celery_boundary.core.client_contracts import load_contracts
from celery_boundary.gate import baseline as baseline_module
from celery_boundary.gate.files import (discover, discover_project, display, project_root, resolved_text,
                                        run_folders)
from celery_boundary.gate import cache as cache_module, run_memo
from celery_boundary.gate.errors import UsageError
from celery_boundary.gate.writes import emit
from celery_boundary.core.findings import Finding
from celery_boundary.gate.formats import render_text, renderer, wants_colour
from celery_boundary.gate.selection import expand, require_mypy
from celery_boundary.gate.summary import Summary, plural, report_skips, statistics

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
        from celery_boundary.gate.project_pass import compute  # a remembered run needs none of the rules

        findings, skips, checked = compute(settings, chosen, files, odd, others, folder, project_root(settings), err,
                                           jobs=options.jobs, quiet=options.quiet, mypy=options.mypy)
        if memo_key is not None and folder is not None:
            run_memo.remember(folder, memo_key, before, findings, skips, checked)
    else:
        findings, skips, checked = remembered.findings, remembered.skips, remembered.checked
        report_skips(skips, chosen, err)

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
        from celery_boundary.gate.engine import rule_settings

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
