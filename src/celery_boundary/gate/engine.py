"""Run the per-module rules over many files: one read, one ``ast`` parse and one index walk per file
(the rules and the project-wide summary both read that index), ``noqa`` applied, files spread over a
process pool when there are enough of them to pay for it. Files in which no rule can match (a
substring pre-test, ``checks.might_apply``) are never parsed.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Final, TextIO, TypeVar

from celery_boundary import checks
from celery_boundary.analysis.index import ModuleIndex, build_index
from celery_boundary.checks import canvas, task_names, transactions
from celery_boundary.checks.common import RuleSettings
from celery_boundary.core.config import Config
from celery_boundary.analysis import project
from celery_boundary.gate.files import display, read_source
from celery_boundary.core.findings import NOT_CHECKED, Finding
from celery_boundary.gate.noqa import NoqaMap

#: Below this many files a pool costs more than it saves: on two cores, 400 generated Celery modules
#: take 0.71 s in one process and 0.83 s in two; the 2,000-file standard library 5.9 s and 4.1 s.
POOL_THRESHOLD: Final = 500
#: Why a file that cannot be read or decoded is skipped.
UNREADABLE: Final = "cannot be read"
#: Why a file whose rules raised is skipped (its facts are then not taken from the rules' index).
INTERNAL_ERROR: Final = "internal error in the CB rules"


def not_checked(path: str, reason: str, line: int = 1) -> Finding:
    """The CB001 finding for a file that was not checked, and why."""
    return Finding(path, max(line, 1), 1, NOT_CHECKED, f"file not checked: {reason}")


@dataclass(frozen=True)
class FileResult:
    path: str
    findings: tuple[Finding, ...] = ()
    #: Why the file was skipped (cannot be read or parsed), else None.
    skipped: str | None = None
    #: The line the skip points at (a syntax error's line), else 1.
    skipped_line: int = 1
    #: What the project-wide pass needs from this module (None: not parsed, or not asked for).
    facts: project.ModuleFacts | None = None
    #: False when the substring pre-test showed that no per-module rule can match (not parsed).
    parsed: bool = True


def check_file(path: Path, config: Config, chosen: frozenset[str] | None, roots: frozenset[str] = frozenset(),
               data: bytes | None = None) -> FileResult:
    """The findings in one file whose code is in ``chosen`` (None: every code, with the module's facts)
    and that no ``noqa`` silences. ``data``: the file's bytes when already read."""
    shown = display(path)
    try:
        text = importlib.util.decode_source(read_source(path) if data is None else data)
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        return FileResult(shown, skipped=f"{UNREADABLE}: {getattr(exc, 'strerror', None) or exc}")
    if not might_apply(text, config):
        return FileResult(shown, parsed=False)  # no rule can match: not even parsed
    tree, problem, where = _parse(text, shown)
    if tree is None:
        return FileResult(shown, skipped=problem, skipped_line=where)
    lines = text.splitlines()
    noqa = NoqaMap(text, lines)
    wanted = chosen is None or bool(checks.PROJECT_CODES & chosen)
    if noqa.skips_file():
        return FileResult(shown, facts=_facts(tree, path, shown, lines, config, noqa, roots=roots) if wanted else None)
    try:
        index = build_index(tree, rule_settings(config).task_decorators)
        raw = run_rules(index, shown, config)
    except RecursionError:
        facts = _facts(tree, path, shown, lines, config, noqa, roots=roots) if wanted else None
        return FileResult(shown, skipped="too deeply nested for the rules (RecursionError)", facts=facts)
    except Exception as exc:  # never a traceback for one odd file: name it, check the rest
        return FileResult(shown, skipped=f"{INTERNAL_ERROR} ({exc!r}); please report it")
    facts = _facts(tree, path, shown, lines, config, noqa, index, roots) if wanted else None
    found = [
        replace(finding, path=shown, source_line=lines[finding.line - 1] if 0 < finding.line <= len(lines) else "")
        for finding in raw
        if (chosen is None or finding.code in chosen) and not noqa.silences(finding.code, finding.line)
    ]
    return FileResult(shown, tuple(sorted(found)), facts=facts)


_SETTINGS: dict[tuple[Config, str | None], RuleSettings] = {}


def rule_settings(config: Config) -> RuleSettings:
    """The rules' options from ``[tool.celery_boundary]``, built once per configuration and file (the
    ``contracts`` paths are relative to the file, which ``Config`` equality leaves out)."""
    key = (config, config.source)
    settings = _SETTINGS.get(key)
    if settings is None:
        settings = _SETTINGS[key] = RuleSettings.from_config(config)
    return settings


def might_apply(text: str, config: Config) -> bool:
    """False only when no rule can match this source (saves the parse)."""
    return checks.might_apply(text, rule_settings(config))


def run_rules(index: ModuleIndex, path: str, config: Config) -> list[Finding]:
    """Every finding of the per-module rules in one module (path and source line not yet set)."""
    return checks.check_index(index, rule_settings(config), strict=True)  # too deep: CB001, not silence


def facts_of(path: Path, config: Config, roots: frozenset[str] = frozenset(),
             data: bytes | None = None) -> project.ModuleFacts | None:
    """Parse a file the pre-test skipped, for the project-wide pass only (it may use a task)."""
    try:
        text = importlib.util.decode_source(read_source(path) if data is None else data)
    except (OSError, UnicodeDecodeError, SyntaxError):
        return None
    shown = display(path)
    tree, _, _ = _parse(text, shown)
    if tree is None:
        return None
    lines = text.splitlines()
    return _facts(tree, path, shown, lines, config, NoqaMap(text, lines), roots=roots)


def _parse(text: str, shown: str) -> tuple[ast.Module | None, str, int]:
    """(the tree, or None with why it cannot be had and the line that says so)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes in user code
            return ast.parse(text, filename=shown), "", 1
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        newer, valid = _parse_newer(text)
        if newer is not None:
            return newer, "", 1
        why = f"cannot be parsed (line {line}): {getattr(exc, 'msg', exc)}"
        if valid:  # a newer Python's syntax that the rewrite does not cover
            why += (f" (valid in a newer Python than {sys.version_info.major}.{sys.version_info.minor}, "
                    "which runs celery-boundary: run it under the Python your project runs on)")
        return None, why, line or 1
    except (RecursionError, MemoryError) as exc:  # valid code nested deeper than the parser's stack
        return None, f"too deeply nested for Python's parser ({type(exc).__name__})", 1


def _parse_newer(text: str) -> tuple[ast.Module | None, bool]:
    """A file in a newer Python's syntax, read through libcst (``gate.newer_syntax``)."""
    from celery_boundary.gate.newer_syntax import parse_newer  # libcst: imported only when needed

    return parse_newer(text)


def _facts(tree: ast.Module, path: Path, shown: str, lines: list[str], config: Config,
           noqa: NoqaMap, index: ModuleIndex | None = None,
           roots: frozenset[str] = frozenset()) -> project.ModuleFacts | None:
    def silenced(line: int) -> bool:
        return noqa.skips_file() or noqa.silences(canvas.CHAIN_ONLY, line)

    def silenced_name(line: int) -> bool:
        return noqa.skips_file() or noqa.silences(task_names.UNKNOWN_NAME, line)

    try:
        index = index or build_index(tree, rule_settings(config).task_decorators)
        facts = project.summarize(index, path, shown, lines, silenced, roots)
        refs = tuple(ref for ref in facts.name_refs if not silenced_name(ref.line))
        views = tuple(item for item in facts.view_launches
                      if not noqa.skips_file() and not noqa.silences(transactions.CODE, item[0].line))
        if refs != facts.name_refs or views != facts.view_launches:
            return replace(facts, name_refs=refs, view_launches=views)
        return facts
    except Exception:  # RecursionError included: the module then takes no part in the project pass
        return None


def check_files(
    paths: Sequence[Path], config: Config, chosen: frozenset[str], *, jobs: int = 0,
    progress: Progress | None = None, roots: frozenset[str] | None = None,
) -> list[FileResult]:
    """Check every file; ``jobs`` 0 chooses: one process for small trees, one per core otherwise.
    ``roots``: the project's top-level packages (default: those of ``paths``)."""
    if roots is None:
        roots = project.roots_of(paths) if checks.PROJECT_CODES & chosen else frozenset()
    tick = progress.advance if progress else (lambda: None)
    return run_each(partial(check_file, config=config, chosen=chosen, roots=roots), paths, jobs, tick)


_T = TypeVar("_T")


def run_each(work: Callable[[Path], _T], paths: Sequence[Path], jobs: int, tick: Callable[[], None]) -> list[_T]:
    """``work`` over every path, in order: in this process, or spread over ``jobs`` processes (0:
    one per core from ``POOL_THRESHOLD`` files on)."""
    cores = os.cpu_count() or 1
    workers = jobs or (cores if len(paths) >= POOL_THRESHOLD else 1)
    results: list[_T] = []
    if workers <= 1 or len(paths) < 2:
        for path in paths:
            results.append(work(path))
            tick()
        return results
    from concurrent.futures import ProcessPoolExecutor  # several jobs only: its import costs 25 ms

    with ProcessPoolExecutor(max_workers=min(workers, len(paths))) as pool:
        chunk = max(1, min(32, len(paths) // (workers * 8)))
        for result in pool.map(work, paths, chunksize=chunk):
            results.append(result)
            tick()
    return results


class Progress:
    """``\\r  120/3400 files`` on stderr while a terminal watches; nothing in CI or with --quiet."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr

    @classmethod
    def maybe(cls, total: int, quiet: bool, stream: TextIO | None = None) -> Progress | None:
        stream = stream or sys.stderr
        interactive = stream.isatty() and not os.environ.get("CI")
        return cls(total, stream) if interactive and not quiet and total > 1 else None

    def advance(self) -> None:
        self.done += 1
        if self.done == self.total or self.done % 25 == 0:
            self.stream.write(f"\r  {self.done}/{self.total} files")
            self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r" + " " * (len(str(self.total)) * 2 + 10) + "\r")
        self.stream.flush()


def iter_findings(results: Sequence[FileResult]) -> Iterator[Finding]:
    for result in results:
        yield from result.findings
