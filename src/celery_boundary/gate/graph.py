"""``celery-boundary graph``: what launches what, drawn from the same analysis as ``check`` and with
its findings on the nodes and edges (``analysis.graph`` per module, ``analysis.graph_project`` for the
project). Formats: ``dot`` and ``json`` always; ``svg`` and ``png`` through the ``graphviz`` package
and Graphviz's ``dot`` program (the optional extra ``graph``); ``html``, one self-contained page
(``gate.graph_html``).

Exit codes: 0 the graph was written, 2 usage error (an unknown format, a ``--focus`` that names no
node, Graphviz missing for svg/png).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, TextIO

from celery_boundary import checks
from celery_boundary.analysis import graph_project, project
from celery_boundary.core import config as config_module
from celery_boundary.core.findings import Finding
from celery_boundary.gate.check import outside_files
from celery_boundary.gate.project_pass import collect_facts
from celery_boundary.gate.engine import check_files, iter_findings, rule_settings
from celery_boundary.gate.errors import UsageError
from celery_boundary.gate.writes import emit
from celery_boundary.gate.factory_scan import with_project_factories
from celery_boundary.gate.files import discover
from celery_boundary.gate.graph_files import module_graphs
from celery_boundary.gate.graph_html import render_html
from celery_boundary.gate.graph_render import render_dot, render_image
from celery_boundary.gate.selection import expand

FORMATS: Final = ("dot", "json", "svg", "png", "html")
#: Default ``--depth`` around a ``--focus``.
DEFAULT_DEPTH: Final = 2


@dataclass(frozen=True)
class GraphOptions:
    paths: tuple[str, ...] = ()
    format: str = "dot"
    output: Path | None = None
    focus: str | None = None
    depth: int | None = None
    app: str | None = None
    queue: str | None = None
    exclude: tuple[str, ...] = ()
    config: Path | None = None


def run_graph(options: GraphOptions, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    if options.format not in FORMATS:
        raise UsageError(f"unknown --format {options.format!r}: choose one of {', '.join(FORMATS)}")
    if options.depth is not None and (options.focus is None or options.depth < 0):
        raise UsageError("--depth needs --focus and a number >= 0")
    graph = build(options)
    if options.format == "json":
        emit(render_json(graph), options.output, out, "graph")
    elif options.format == "dot":
        emit(render_dot(graph), options.output, out, "graph")
    elif options.format == "html":
        emit(render_html(graph), options.output, out, "graph")
    else:
        data = render_image(render_dot(graph), options.format)
        _write_bytes(data, options.output, getattr(out, "buffer", None))
    return 0


def build(options: GraphOptions) -> graph_project.Graph:
    """The project's graph with the check engine's findings, filtered as the options say."""
    settings = config_module.load(options.config) if options.config else config_module.load(start=Path.cwd())
    files = discover(options.paths, (*settings.exclude, *options.exclude))
    decorators = rule_settings(settings).task_decorators
    graph = graph_project.build_graph(module_graphs(files, decorators),
                                      project_findings(files, settings, options.exclude))
    if options.focus is not None:
        starts = graph_project.find_nodes(graph, options.focus)
        if not starts:
            raise UsageError(f"--focus {options.focus!r} names no task or module of the graph")
        graph = graph_project.neighbourhood(graph, starts, DEFAULT_DEPTH if options.depth is None else options.depth)
    if options.app is not None or options.queue is not None:
        graph = graph_project.only_tasks(graph, options.app, options.queue)
    return graph


def project_findings(files: list[Path], settings: config_module.Config, exclude: tuple[str, ...]) -> list[Finding]:
    """What ``check`` reports over the same files (default rules, no baseline, no mypy)."""
    chosen = expand((), ())
    others = outside_files(files, settings, (*settings.exclude, *exclude))
    settings = with_project_factories([*files, *others], settings)
    results = check_files(files, settings, chosen)
    findings = list(iter_findings(results))
    if checks.PROJECT_CODES & chosen:
        whole = project.Project(collect_facts(files, results, settings, others))
        checked = {result.path for result in results}
        findings = [f for f in checks.check_project(whole, findings, chosen, rule_settings(settings))
                    if f.path in checked]
    return sorted(findings)


def render_json(graph: graph_project.Graph) -> str:
    return json.dumps(graph.as_json(), indent=2, sort_keys=True) + "\n"


def _write_bytes(data: bytes, output: Path | None, out: BinaryIO | None) -> None:
    if output is None:
        if out is None:
            raise UsageError("svg/png: give --output FILE (stdout takes no bytes here)")
        out.write(data)
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"{output}: cannot write the graph: {exc.strerror or exc}") from None
