"""``graph --format html``: one self-contained page (no network, no external reference). It holds the
picture (the SVG Graphviz draws when it is installed, else ``layout_svg``'s own layered drawing), the
graph as ``--format json`` gives it (in ``<script type="application/json" id="graph-data">``), a search
box over task names, and a panel that shows a clicked node's definition site, launch sites, edges and
findings. Both pictures give each node's and edge's ``<g>`` the graph's id, which the script looks up.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Final

from celery_boundary.analysis.graph_project import Graph
from celery_boundary.gate.graph_render import (EDGE_STYLES, FINDING_COLOUR, SITE_COLOURS, graphviz_available,
                                               render_dot, render_image)

_WIDTH: Final = 210
_HEIGHT: Final = 46
_GAP_X: Final = 90
_GAP_Y: Final = 18
_MARGIN: Final = 20


def render_html(graph: Graph, use_graphviz: bool | None = None) -> str:
    """The page; ``use_graphviz`` None: Graphviz's drawing when it is installed."""
    if use_graphviz is None:
        use_graphviz = graphviz_available()
    svg = _graphviz_svg(graph) if use_graphviz else layout_svg(graph)
    # "<", ">" and "&" only occur inside JSON strings: as \u escapes no name can close the <script> or
    # open "<!--" (after which the parser would skip the page's own script's end tag).
    data = json.dumps(graph.as_json(), sort_keys=True)
    data = data.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    before, after = _PAGE.split("@SVG@")
    return before + svg + after.replace("@DATA@", data)


def _graphviz_svg(graph: Graph) -> str:
    text = render_image(render_dot(graph), "svg").decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else text  # without the XML prolog and the DTD's address


def layout_svg(graph: Graph) -> str:
    """A layered drawing, left to right: each node one column right of everything that launches it
    (back edges of a cycle ignored), rows ordered by module, then by the mean row of what points at it."""
    keys = sorted(graph.nodes)
    incoming: dict[str, list[str]] = {key: [] for key in keys}
    for source, target, _ in sorted(graph.links):
        if source != target:
            incoming[target].append(source)
    layer = _layers(keys, incoming)
    columns: dict[int, list[str]] = {}
    for key in keys:
        columns.setdefault(layer[key], []).append(key)
    row: dict[str, float] = {}
    for number in sorted(columns):
        def order(key: str) -> tuple[float, str, str]:
            above = [row[s] for s in incoming[key] if s in row]
            return (sum(above) / len(above) if above else 0.0, graph.nodes[key].module, key)
        columns[number].sort(key=order)
        for position, key in enumerate(columns[number]):
            row[key] = float(position)
    place = {key: (_MARGIN + layer[key] * (_WIDTH + _GAP_X), _MARGIN + int(row[key]) * (_HEIGHT + _GAP_Y))
             for key in keys}
    width = _MARGIN * 2 + (max(layer.values(), default=0) + 1) * (_WIDTH + _GAP_X)
    height = _MARGIN * 2 + max((len(c) for c in columns.values()), default=1) * (_HEIGHT + _GAP_Y)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="11">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="context-stroke"/></marker></defs>']
    for link_key in sorted(graph.links):
        parts.append(_svg_edge(graph, link_key, place))
    for key in keys:
        parts.append(_svg_node(graph, key, place[key]))
    parts.append("</svg>")
    return "\n".join(parts)


def _layers(keys: list[str], incoming: dict[str, list[str]]) -> dict[str, int]:
    """Longest path from a node nothing launches; an edge that closes a cycle is not followed."""
    layer: dict[str, int] = {}
    visiting: set[str] = set()
    for start in keys:
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            key, state = stack.pop()
            if key in layer:
                continue
            if state == 0:
                visiting.add(key)
                stack.append((key, 1))
                stack.extend((s, 0) for s in incoming[key] if s not in layer and s not in visiting)
            else:
                visiting.discard(key)
                layer[key] = max((layer[s] + 1 for s in incoming[key] if s in layer), default=0)
    return layer


def _svg_node(graph: Graph, key: str, at: tuple[int, int]) -> str:
    node = graph.nodes[key]
    x, y = at
    if node.kind == "task":
        fill = "#ffffff" if node.attrs.get("private") else "#e8f0fe"
        second = f"{node.attrs['app']} | {node.attrs['queue']}"
    elif node.kind == "sites":
        fill, second = SITE_COLOURS.get(str(node.attrs.get("category")), "#f1f3f4"), str(node.attrs.get("category"))
    elif node.kind == "beat":
        fill, second = "#feefc3", "beat"
    else:
        fill, second = "#ffffff", "no task of the project"
    codes = " ".join(sorted({f.code for f in node.findings}))
    stroke = FINDING_COLOUR if codes else "#5f6368"
    dash = ' stroke-dasharray="4 3"' if node.attrs.get("private") or node.kind == "unknown" else ""
    second = f"{second} {codes}".strip()
    return (f'<g id="{html.escape(key)}" class="node"><title>{html.escape(key)}</title>'
            f'<rect x="{x}" y="{y}" width="{_WIDTH}" height="{_HEIGHT}" rx="6" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{2 if codes else 1}"{dash}/>'
            f'<text x="{x + 8}" y="{y + 18}" font-weight="bold">{html.escape(_short(node.label, 30))}</text>'
            f'<text x="{x + 8}" y="{y + 35}" fill="{stroke if codes else "#5f6368"}">'
            f'{html.escape(_short(second, 34))}</text></g>')


def _svg_edge(graph: Graph, key: tuple[str, str, str], place: dict[str, tuple[int, int]]) -> str:
    link = graph.links[key]
    colour, style, _ = EDGE_STYLES.get(link.kind, ("#5f6368", "solid", ""))
    if link.findings:
        colour = FINDING_COLOUR
    (sx, sy), (tx, ty) = place[link.source], place[link.target]
    x1, y1, x2, y2 = sx + _WIDTH, sy + _HEIGHT // 2, tx, ty + _HEIGHT // 2
    if x2 <= x1:  # same column or backwards: leave right, come back in from the left
        path = f"M {x1} {y1} C {x1 + 60} {y1 - 40}, {x2 - 60} {y2 - 40}, {x2} {y2}"
    else:
        middle = (x1 + x2) // 2
        path = f"M {x1} {y1} C {middle} {y1}, {middle} {y2}, {x2} {y2}"
    dash = {"dashed": ' stroke-dasharray="5 3"', "dotted": ' stroke-dasharray="2 3"'}.get(style, "")
    width = 2 if style == "bold" or link.findings else 1.2
    edge_id = f"{link.source}->{link.target}:{link.kind}"
    codes = " ".join(sorted({f.code for f in link.findings}))
    label = (f'<text x="{(x1 + x2) // 2}" y="{(y1 + y2) // 2 - 4}" text-anchor="middle" fill="{colour}">'
             f'{codes}</text>') if codes else ""
    return (f'<g id="{html.escape(edge_id)}" class="edge"><title>{html.escape(edge_id)}</title>'
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{width}"{dash} '
            f'marker-end="url(#arrow)"/>{label}</g>')


def _short(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "\u2026"


#: The page around the picture and the data: style, search and the details panel (no external reference).
_PAGE: Final = resources.files("celery_boundary.gate").joinpath("graph_page.html").read_text(encoding="utf-8")
