"""The launch graph as Graphviz DOT (always available, deterministic), and as SVG or PNG through the
``graphviz`` package (the optional extra ``graph``) and Graphviz's ``dot`` program.

Tasks are grouped into one cluster per module (inside one cluster per app when the project has
several apps); every launch site of a module outside a task body is
one node; a node or edge with findings is drawn red and names their codes.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
from collections.abc import Iterable
from typing import Final

from celery_boundary.analysis.graph_project import Graph, Link, Node
from celery_boundary.gate.errors import UsageError

FINDING_COLOUR: Final = "#d93025"
#: Edge kind -> (colour, style, label).
EDGE_STYLES: Final = {
    "launch": ("#1a73e8", "solid", ""),
    "chain": ("#188038", "bold", "then"),
    "chord": ("#9334e6", "bold", "chord body"),
    "link": ("#188038", "dashed", "link"),
    "link_error": ("#d93025", "dashed", "link_error"),
    "replace": ("#5f6368", "dashed", "replace"),
    "beat": ("#e37400", "dotted", ""),
}
#: Launch-site category -> fill colour.
SITE_COLOURS: Final = {"view": "#fef7e0", "command": "#e6f4ea", "signal": "#fce8e6", "test": "#f1f3f4",
                       "other": "#f1f3f4"}
MISSING_GRAPHVIZ: Final = ("--format {fmt} needs Graphviz: pip install 'celery-boundary[graph]' (the graphviz "
                           "package) and Graphviz's dot program (apt-get install graphviz, brew install "
                           "graphviz); --format dot, json and html work without them")


def render_dot(graph: Graph) -> str:
    lines = ["digraph celery_tasks {",
             '  graph [rankdir=LR, fontname="Helvetica", fontsize=10, newrank=true, nodesep=0.25, ranksep=0.6];',
             '  node [fontname="Helvetica", fontsize=10, margin="0.12,0.05"];',
             '  edge [fontname="Helvetica", fontsize=9, arrowsize=0.7];']
    apps = {str(n.attrs["app"]) for n in graph.nodes.values() if n.kind == "task"}
    # (app, module) -> nodes: with several apps each app is a cluster around its modules' clusters.
    groups: dict[tuple[str, str], list[Node]] = {}
    for key in sorted(graph.nodes):
        node = graph.nodes[key]
        app = str(node.attrs["app"]) if node.kind == "task" and len(apps) > 1 else ""
        groups.setdefault((app, node.module if node.kind in ("task", "sites") else ""), []).append(node)
    number = 0
    for app in sorted({app for app, _ in groups}):
        indent = "  "
        if app:
            lines.append(f"  subgraph cluster_{number} {{")
            lines.append(f'    graph [label={quote("app " + app)}, style="rounded", color="#1a73e8", '
                         'fontcolor="#1a73e8"];')
            number, indent = number + 1, "    "
        for module in sorted(module for group_app, module in groups if group_app == app):
            nodes = groups[(app, module)]
            if module:
                lines.append(f"{indent}subgraph cluster_{number} {{")
                lines.append(f'{indent}  graph [label={quote(module)}, style="rounded,dashed", color="#9aa0a6", '
                             'fontcolor="#5f6368"];')
                number += 1
            lines.extend(indent + ("  " if module else "") + _node(node) for node in nodes)
            if module:
                lines.append(f"{indent}}}")
        if app:
            lines.append("  }")
    lines.extend("  " + _edge(graph.links[key]) for key in sorted(graph.links))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node(node: Node) -> str:
    attrs: dict[str, str] = {"id": node.id}
    codes = _codes(f.code for f in node.findings)
    if node.kind == "task":
        label = [node.label, f"app {node.attrs['app']} | queue {node.attrs['queue']}"]
        periodic = node.attrs.get("periodic")
        if isinstance(periodic, list) and periodic:
            label.append("beat: " + "; ".join(str(p["schedule"]) for p in periodic))
        attrs.update(shape="box", style="rounded,filled" + (",dashed" if node.attrs.get("private") else ""),
                     fillcolor="#e8f0fe" if not node.attrs.get("private") else "#ffffff",
                     tooltip=f"{node.attrs['name']} ({node.path}:{node.line})")
    elif node.kind == "sites":
        functions = node.attrs.get("functions")
        count = len(functions) if isinstance(functions, list) else 0
        label = [node.module, f"{node.attrs['category']}: {count} launch site{'s' if count != 1 else ''}"]
        attrs.update(shape="note", style="filled", fillcolor=SITE_COLOURS.get(str(node.attrs["category"]), "#f1f3f4"),
                     tooltip=node.path)
    elif node.kind == "beat":
        label = ["beat", node.module]
        attrs.update(shape="hexagon", style="filled", fillcolor="#feefc3", tooltip=node.path)
    else:
        label = [node.label, "(no task of the project)"]
        attrs.update(shape="box", style="dashed", tooltip=node.label)
    if codes:
        label.append(codes)
        attrs.update(color=FINDING_COLOUR, penwidth="2", fontcolor=FINDING_COLOUR)
    attrs["label"] = "\n".join(label)
    return f"{quote(node.id)} [{_attributes(attrs)}];"


def _edge(link: Link) -> str:
    colour, style, label = EDGE_STYLES.get(link.kind, ("#5f6368", "solid", ""))
    if link.kind == "launch":
        label = "/".join(sorted(link.hows)) + "".join(f" ({via})" for via in sorted(v for v in link.vias if v))
        label += "".join(f" -> queue {queue}" for queue in sorted(link.queues))
    elif link.kind == "beat":
        label = "; ".join(sorted(link.labels))
    attrs = {"id": f"{link.source}->{link.target}:{link.kind}", "color": colour, "style": style}
    codes = _codes(f.code for f in link.findings)
    if codes:
        label = f"{label} {codes}".strip()
        attrs.update(color=FINDING_COLOUR, fontcolor=FINDING_COLOUR, penwidth="2")
    if label:
        attrs["label"] = label
    return f"{quote(link.source)} -> {quote(link.target)} [{_attributes(attrs)}];"


def _codes(codes: Iterable[str]) -> str:
    return " ".join(sorted(set(codes)))


def _attributes(attrs: dict[str, str]) -> str:
    return ", ".join(f"{key}={quote(value)}" for key, value in sorted(attrs.items()))


def quote(text: str) -> str:
    """A DOT double-quoted string (``\\n`` is a centred line break in a label)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def graphviz_available() -> bool:
    """The ``graphviz`` package is importable and Graphviz's ``dot`` is on PATH."""
    return importlib.util.find_spec("graphviz") is not None and shutil.which("dot") is not None


def render_image(dot: str, fmt: str) -> bytes:
    """``dot`` rendered by Graphviz (``svg`` or ``png``); a ``UsageError`` naming what to install
    when the package or the program is missing."""
    try:
        graphviz = importlib.import_module("graphviz")
    except ImportError:
        raise UsageError(MISSING_GRAPHVIZ.format(fmt=fmt)) from None
    try:
        data = graphviz.Source(dot).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise UsageError(MISSING_GRAPHVIZ.format(fmt=fmt)) from None
    except graphviz.CalledProcessError as exc:
        raise UsageError(f"Graphviz could not draw the graph: {exc}") from None
    assert isinstance(data, bytes)
    return data
