"""``celery-boundary``: the command line. A router only: parse arguments, call the command in
``celery_boundary.gate``, turn a usage or configuration error into one line on stderr and exit 2.

    celery-boundary check [PATHS] [--format text|json|sarif|github|gitlab|html] [--select/--ignore CODES]
                          [--baseline FILE] [--write-baseline FILE] [--jobs N] [--mypy] [--quiet]
                          [--statistics] [--show-source] [--cache-dir DIR] [--no-cache]
    celery-boundary fix [PATHS] [--select/--ignore CODES] [--diff] [--unsafe-fixes]
    celery-boundary graph [PATHS] [--format dot|json|svg|png|html] [-o FILE] [--focus TASK [--depth N]]
                          [--app APP] [--queue QUEUE]
    celery-boundary contracts export [PATHS] [-o FILE]
    celery-boundary contracts schema
    celery-boundary contracts stubs CONTRACTS [-o FILE]
    celery-boundary contracts diff OLD NEW | --base REF [PATHS]  [--format text|json|github|sarif] [--ignore RULES]
    celery-boundary rules
    celery-boundary rule CODE
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from celery_boundary import __version__
from celery_boundary.core.config import ConfigError
from celery_boundary.gate.errors import UsageError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="celery-boundary", description="Static analysis for the Celery task boundary.")
    parser.add_argument("--version", action="version", version=f"celery-boundary {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = commands.add_parser("check", help="check files for every CB rule (the CI gate)")
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    check.add_argument("--format", default="text", help="text (default), json, sarif, github, gitlab or html")
    check.add_argument("--output", "-o", type=Path, metavar="FILE", help="write the report here, not stdout")
    check.add_argument("--select", default="", metavar="CODES", help="report only these codes or prefixes")
    check.add_argument("--ignore", default="", metavar="CODES", help="do not report these codes or prefixes")
    check.add_argument("--exclude", default="", metavar="PATTERNS", help="also skip these fnmatch patterns")
    check.add_argument("--baseline", type=Path, metavar="FILE", help="fail only on findings not in FILE")
    check.add_argument("--write-baseline", type=Path, metavar="FILE", help="accept every current finding")
    check.add_argument("--config", type=Path, metavar="FILE", help="pyproject.toml or setup.cfg to read")
    check.add_argument("--jobs", "-j", type=int, default=0, metavar="N", help="processes (0: automatic)")
    check.add_argument("--mypy", action="store_true", help="also run mypy with the plugin and merge it")
    check.add_argument("--quiet", "-q", action="store_true", help="no progress and no summary line")
    check.add_argument("--statistics", action="store_true", help="count the findings of each rule (stderr)")
    check.add_argument("--show-source", action="store_true", help="text: show each finding's line and column")
    check.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="the warm cache's folder (default: cache-dir in [tool.celery_boundary], else "
                            ".celery_boundary_cache in the project root)")
    check.add_argument("--no-cache", action="store_true",
                       help="neither read nor write the cache (every file is read and parsed)")

    fix = commands.add_parser("fix", help="apply the libcst fixes (safe ones by default)")
    fix.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    fix.add_argument("--select", default="", metavar="CODES", help="fix only these codes or prefixes")
    fix.add_argument("--ignore", default="", metavar="CODES", help="do not fix these codes or prefixes")
    fix.add_argument("--exclude", default="", metavar="PATTERNS", help="also skip these fnmatch patterns")
    fix.add_argument("--config", type=Path, metavar="FILE", help="pyproject.toml or setup.cfg to read")
    fix.add_argument("--diff", action="store_true", help="print a diff instead of writing (exit 1 if any)")
    fix.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes marked unsafe (CB101-CB103)")
    fix.add_argument("--quiet", "-q", action="store_true", help="no summary line")

    graph = commands.add_parser("graph", help="draw what launches what: tasks, launch sites, canvases, beat")
    graph.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    graph.add_argument("--format", default="dot", help="dot (default), json, svg, png (need Graphviz) or html")
    graph.add_argument("--output", "-o", type=Path, metavar="FILE", help="write the graph here, not stdout")
    graph.add_argument("--focus", metavar="TASK", help="only this task (or module) and its neighbourhood")
    graph.add_argument("--depth", type=int, metavar="N", help="with --focus: edges away from it (default 2)")
    graph.add_argument("--app", metavar="APP", help="only the tasks of this app (its Celery main name)")
    graph.add_argument("--queue", metavar="QUEUE", help="only the tasks routed to this queue")
    graph.add_argument("--exclude", default="", metavar="PATTERNS", help="also skip these fnmatch patterns")
    graph.add_argument("--config", type=Path, metavar="FILE", help="pyproject.toml or setup.cfg to read")

    _add_contracts(commands)
    commands.add_parser("rules", help="list every rule: code, slug, tools, default, fix")
    rule = commands.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code", metavar="CODE")
    return parser


def _add_contracts(commands: argparse._SubParsersAction[_Parser]) -> None:
    contracts = commands.add_parser("contracts", help="the tasks' contracts: export them, diff two versions")
    actions = contracts.add_subparsers(dest="action", required=True, parser_class=_Parser)
    export = actions.add_parser("export", help="write every task's contract as one JSON document")
    export.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    export.add_argument("--output", "-o", type=Path, metavar="FILE", help="write the document here, not stdout")
    export.add_argument("--exclude", default="", metavar="PATTERNS", help="also skip these fnmatch patterns")
    export.add_argument("--config", type=Path, metavar="FILE", help="pyproject.toml or setup.cfg to read")
    actions.add_parser("schema", help="print the JSON Schema of the exported document")
    stubs = actions.add_parser("stubs", help="write a typed module that sends a document's tasks by name")
    stubs.add_argument("contracts", type=Path, metavar="CONTRACTS", help="a document `contracts export` wrote")
    stubs.add_argument("--output", "-o", type=Path, metavar="FILE", help="write the module here, not stdout")
    diff = actions.add_parser("diff", help="classify every change between two contracts (exit 1 if breaking)")
    diff.add_argument("items", nargs="*", metavar="OLD NEW | PATH",
                      help="two exported documents; with --base, the paths to export (default: .)")
    diff.add_argument("--base", metavar="REF", help="export the old side from this git revision")
    diff.add_argument("--format", default="text", help="text (default), json, github or sarif")
    diff.add_argument("--ignore", default="", metavar="RULES", help="do not report these rule ids")
    diff.add_argument("--fail-on", default="breaking", metavar="WHAT",
                      help="breaking (default), or workers-first: also fail when workers must deploy first")
    diff.add_argument("--output", "-o", type=Path, metavar="FILE", help="write the report here, not stdout")
    diff.add_argument("--exclude", default="", metavar="PATTERNS", help="with --base: also skip these patterns")


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a path or message a C-locale terminal cannot show
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        args = build_parser().parse_args(argv)
        return _route(args)
    except (UsageError, ConfigError) as exc:
        sys.stderr.write(f"celery-boundary: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `celery-boundary check | head`: the reader left; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _route(args: argparse.Namespace) -> int:
    if args.command == "check":
        from celery_boundary.gate.check import CheckOptions, run_check
        from celery_boundary.gate.selection import parse_codes

        options = CheckOptions(
            paths=tuple(args.paths), format=args.format, select=parse_codes(args.select),
            ignore=parse_codes(args.ignore), exclude=parse_codes(args.exclude), baseline=args.baseline,
            write_baseline=args.write_baseline, output=args.output, config=args.config, jobs=args.jobs,
            mypy=args.mypy, quiet=args.quiet, statistics=args.statistics, show_source=args.show_source,
            cache_dir=args.cache_dir, no_cache=args.no_cache,
        )
        return run_check(options)
    if args.command == "fix":
        from celery_boundary.gate.fix import FixOptions, run_fix
        from celery_boundary.gate.selection import parse_codes

        return run_fix(FixOptions(
            paths=tuple(args.paths), select=parse_codes(args.select), ignore=parse_codes(args.ignore),
            exclude=parse_codes(args.exclude), config=args.config, diff=args.diff,
            unsafe_fixes=args.unsafe_fixes, quiet=args.quiet,
        ))
    if args.command == "graph":
        from celery_boundary.gate.graph import GraphOptions, run_graph
        from celery_boundary.gate.selection import parse_codes

        return run_graph(GraphOptions(
            paths=tuple(args.paths), format=args.format, output=args.output, focus=args.focus, depth=args.depth,
            app=args.app, queue=args.queue, exclude=parse_codes(args.exclude), config=args.config,
        ))
    if args.command == "contracts":
        return _contracts(args)
    from celery_boundary.gate import catalog

    if args.command == "rules":
        sys.stdout.write(catalog.table())
        return 0
    page = catalog.page(catalog.lookup(args.code))
    sys.stdout.write(page.text if page.text.endswith("\n") else page.text + "\n")
    if page.source:  # the fallback page says itself that it is the registry's summary
        sys.stderr.write(f"({page.rule.code}: from {page.source})\n")
    return 0


def _contracts(args: argparse.Namespace) -> int:
    from celery_boundary.gate.selection import parse_codes

    if args.action == "export":
        from celery_boundary.gate.contracts import ExportOptions, run_export

        return run_export(ExportOptions(paths=tuple(args.paths), output=args.output,
                                        exclude=parse_codes(args.exclude), config=args.config))
    if args.action == "schema":
        from celery_boundary.gate.contracts import SCHEMA_FILE

        sys.stdout.write(SCHEMA_FILE.read_text(encoding="utf-8"))
        return 0
    if args.action == "stubs":
        from celery_boundary.gate.contracts_stubs import StubsOptions, run_stubs

        return run_stubs(StubsOptions(contracts=args.contracts, output=args.output))
    from celery_boundary.gate.contracts_diff import DiffOptions, run_diff

    return run_diff(DiffOptions(items=tuple(args.items), base=args.base, format=args.format,
                                ignore=parse_codes(args.ignore), output=args.output,
                                exclude=parse_codes(args.exclude), fail_on=args.fail_on))


if __name__ == "__main__":
    raise SystemExit(main())
