"""Generated Celery-shaped modules through the launch graph (``analysis.graph`` per module,
``analysis.graph_project`` across them, the DOT, JSON and built-in SVG renderers): never an exception,
and every edge joins two nodes of the graph."""

from __future__ import annotations

import ast
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celery_boundary.analysis.graph import module_graph
from celery_boundary.analysis.graph_project import build_graph
from celery_boundary.analysis.index import build_index
from celery_boundary.gate.graph_html import layout_svg
from celery_boundary.gate.graph_render import render_dot
from celery_sources import celery_modules, grammar_modules


def draw(sources: list[str]) -> None:
    modules = [module_graph(build_index(ast.parse(source)), f"proj/m{n}.py", f"proj.m{n}")
               for n, source in enumerate(sources)]
    graph = build_graph(modules)
    data = graph.as_json()
    ids = {node["id"] for node in data["nodes"]}  # type: ignore[attr-defined]
    for edge in data["edges"]:  # type: ignore[attr-defined]
        assert edge["source"] in ids and edge["target"] in ids, edge
    assert json.loads(json.dumps(data)) == data
    assert render_dot(graph).endswith("}\n")
    assert layout_svg(graph).endswith("</svg>")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources=st.lists(celery_modules(), min_size=1, max_size=3))
def test_celery_shaped_projects_draw(sources: list[str]) -> None:
    draw(sources)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=grammar_modules())
def test_grammar_modules_draw(source: str) -> None:
    draw([source])
