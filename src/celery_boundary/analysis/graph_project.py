"""The project's launch graph: every module's ``analysis.graph.ModuleGraph`` combined once, with the
check engine's findings drawn on it, as plain data (``as_json``: the ``graph --format json`` schema,
documented in docs/graph.md), and its filters (``--focus``/``--depth``, ``--app``, ``--queue``).

Nodes: ``task:<module>.<binding>`` (a task of the project), ``sites:<module>`` (every launch site of
one module outside a task body, collapsed into one node), ``beat:<module>`` (a module's beat entries
or ``add_periodic_task`` calls), ``name:<registered name>`` (a name sent or scheduled that no task of
the project is registered under). Edges: ``launch``, ``chain``, ``chord``, ``link``, ``link_error``,
``replace``, ``beat``. Everything is sorted: the same project gives the same bytes.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from celery_boundary.analysis.graph import BEAT, Edge, ModuleGraph, Ref, TaskSpec
from celery_boundary.core.findings import Finding

SCHEMA_VERSION: Final = 1
#: Queue of a task with no ``queue=`` and no route: Celery's ``task_default_queue``.
DEFAULT_QUEUE: Final = "celery"
SHARED: Final = "shared_task"
_CATEGORIES: Final = (
    ("command", ("commands",)),
    ("signal", ("signals", "receivers", "handlers", "hooks", "webhooks")),
    ("view", ("views", "viewsets", "api", "endpoints", "mutations", "resolvers", "schema", "graphql", "forms",
              "admin", "urls", "serializers")),
    ("test", ("tests", "test", "testing", "conftest")),
)

Json = dict[str, object]
_Resolve = Callable[[Ref], "str | None"]


@dataclass
class Node:
    id: str
    kind: str
    label: str
    module: str
    path: str
    line: int = 0
    end_line: int = 0
    start_line: int = 0
    attrs: dict[str, object] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def as_json(self) -> Json:
        return {"id": self.id, "kind": self.kind, "label": self.label, "module": self.module, "path": self.path,
                "line": self.line, **self.attrs, "findings": [_finding(f) for f in sorted(set(self.findings))]}


@dataclass
class Link:
    source: str
    target: str
    kind: str
    hows: set[str] = field(default_factory=set)
    vias: set[str] = field(default_factory=set)
    #: Queues a launch names itself (``apply_async(queue=...)``), over the task's own.
    queues: set[str] = field(default_factory=set)
    sites: set[tuple[str, int, str]] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)

    def as_json(self) -> Json:
        return {"source": self.source, "target": self.target, "kind": self.kind, "how": sorted(self.hows),
                "via": sorted(v for v in self.vias if v), "queues": sorted(self.queues),
                "label": ", ".join(sorted(self.labels)),
                "sites": [{"path": p, "line": n, "function": f} for p, n, f in sorted(self.sites)],
                "findings": [_finding(f) for f in sorted(set(self.findings))]}


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    links: dict[tuple[str, str, str], Link] = field(default_factory=dict)

    def as_json(self) -> Json:
        return {"version": SCHEMA_VERSION,
                "nodes": [self.nodes[key].as_json() for key in sorted(self.nodes)],
                "edges": [self.links[key].as_json() for key in sorted(self.links)]}

    def link(self, source: str, target: str, kind: str) -> Link:
        key = (source, target, kind)
        found = self.links.get(key)
        if found is None:
            found = self.links[key] = Link(source, target, kind)
        return found


def _finding(finding: Finding) -> Json:
    return {"code": finding.code, "message": finding.message, "path": finding.path, "line": finding.line}


def build_graph(modules: Iterable[ModuleGraph], findings: Sequence[Finding] = ()) -> Graph:
    modules = sorted(modules, key=lambda m: (m.module, m.path))
    graph = Graph()
    apps = {obj: main for m in modules for obj, main in m.apps}
    routes = [route for m in modules for route in m.routes]
    by_dotted: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for module in modules:
        for task in module.tasks:
            node = _task_node(module, task, apps, routes)
            graph.nodes.setdefault(node.id, node)
            by_dotted.setdefault(task.dotted, node.id)
            by_name.setdefault(task.name or task.dotted, node.id)

    def resolve(ref: Ref) -> str | None:
        if not ref.by_name:
            return by_dotted.get(ref.target)
        found = by_name.get(ref.target)
        if found is None:
            found = f"name:{ref.target}"
            graph.nodes.setdefault(found, Node(found, "unknown", ref.target, "", "",
                                               attrs={"name": ref.target}))
        return found

    for module in modules:
        for edge in module.edges:
            _add_edge(graph, module, edge, resolve)
        for beat in module.beats:
            target = resolve(beat.target)
            if target is None:
                continue
            source = f"beat:{module.module}"
            graph.nodes.setdefault(source, Node(source, "beat", f"beat ({module.module})", module.module,
                                                module.path, beat.lines[0]))
            link = graph.link(source, target, BEAT)
            link.hows.add("schedule")
            link.labels.add(beat.schedule)
            link.sites.update((module.path, line, beat.entry or "<entry>") for line in beat.lines)
            scheduled = graph.nodes[target]
            if scheduled.kind == "task":
                periodic = scheduled.attrs.setdefault("periodic", [])
                assert isinstance(periodic, list)
                periodic.append({"entry": beat.entry, "schedule": beat.schedule,
                                 "expires": beat.expires or bool(scheduled.attrs.get("expires")),
                                 "path": module.path, "line": beat.lines[0]})
    linked = {end for key in graph.links for end in key[:2]}
    for module in modules:  # a Task subclass nothing launches is a base class (``task_cls``), not a task
        for task in module.tasks:
            if task.is_class and f"task:{task.dotted}" not in linked:
                graph.nodes.pop(f"task:{task.dotted}", None)
    for node in graph.nodes.values():
        periodic = node.attrs.get("periodic")
        if isinstance(periodic, list):
            periodic.sort(key=lambda p: (str(p["path"]), int(str(p["line"]))))
    _attach(graph, findings)
    return graph


def _task_node(module: ModuleGraph, task: TaskSpec, apps: dict[str, str], routes: list[tuple[str, str]]) -> Node:
    name = task.name or task.dotted
    app = SHARED if task.app is None else apps.get(task.app) or task.app
    queue = task.queue or _route(name, routes)
    return Node(f"task:{task.dotted}", "task", task.binding, module.module, module.path, task.line, task.end_line,
                task.start_line,
                {"name": name, "dotted": task.dotted, "app": app, "queue": queue or DEFAULT_QUEUE,
                 "queue_known": queue is not None, "private": task.binding.startswith("_"),
                 "expires": task.expires, "periodic": []})


def _route(name: str, routes: list[tuple[str, str]]) -> str | None:
    """The queue ``task_routes`` sends ``name`` to: an exact key first, then glob patterns in order
    (celery 5.7 ``celery.app.routes.MapRoute``)."""
    exact = next((queue for pattern, queue in routes if pattern == name), None)
    if exact is not None:
        return exact
    return next((queue for pattern, queue in routes if "*" in pattern and fnmatch.fnmatchcase(name, pattern)), None)


def _add_edge(graph: Graph, module: ModuleGraph, edge: Edge, resolve: _Resolve) -> None:
    target = resolve(edge.target)
    if target is None:
        return
    if edge.source is not None:
        source = resolve(edge.source)
        if source is None:
            return
    elif edge.task is not None:
        source = f"task:{module.module}.{edge.task}"
    else:
        source = f"sites:{module.module}"
        node = graph.nodes.get(source)
        if node is None:
            category = category_of(module.module)
            node = graph.nodes[source] = Node(source, "sites", module.module, module.module, module.path, edge.line,
                                              attrs={"category": category, "functions": []})
        functions = node.attrs["functions"]
        assert isinstance(functions, list)
        entry = {"name": edge.function, "line": edge.line}
        if entry not in functions:
            functions.append(entry)
            functions.sort(key=lambda f: (int(str(f["line"])), str(f["name"])))
        node.line = min(node.line, edge.line)
    link = graph.link(source, target, edge.kind)
    link.hows.add(edge.how)
    link.vias.add(edge.via)
    if edge.queue is not None:
        link.queues.add(edge.queue)
    link.sites.add((module.path, edge.line, edge.function))


def category_of(module: str) -> str:
    """What a module's launch sites are, by its dotted name: command, signal, view, test or other."""
    parts = module.split(".")
    for category, words in _CATEGORIES:
        if any(part in words or part.startswith(words) for part in parts[1:] or parts):
            return category
    return "other"


def _attach(graph: Graph, findings: Sequence[Finding]) -> None:
    """Each finding on the edges with a site at its line, else on the innermost task whose definition
    (decorators included) holds it, else on its module's launch-site node; others are not drawn."""
    at: dict[tuple[str, int], list[Link]] = {}
    for link in graph.links.values():
        for path, line, _ in link.sites:
            at.setdefault((path, line), []).append(link)
    tasks: dict[str, list[Node]] = {}
    others: dict[str, list[Node]] = {}
    for node in graph.nodes.values():
        if node.kind in ("task", "sites"):
            (tasks if node.kind == "task" else others).setdefault(node.path, []).append(node)
    for finding in findings:
        links = at.get((finding.path, finding.line))
        if links:
            for link in links:
                link.findings.append(finding)
            continue
        holders = [n for n in tasks.get(finding.path, ()) if n.start_line <= finding.line <= n.end_line]
        if holders:
            min(holders, key=lambda n: (n.end_line - n.start_line, n.id)).findings.append(finding)
        elif others.get(finding.path):
            sorted(others[finding.path], key=lambda n: n.id)[0].findings.append(finding)


# -- filters ---------------------------------------------------------------------------------------
def find_nodes(graph: Graph, wanted: str) -> list[str]:
    """Nodes a ``--focus`` names: an id, a registered name, a dotted path or a task's bare name."""
    exact = [key for key, node in graph.nodes.items()
             if wanted in (key, node.attrs.get("name"), node.attrs.get("dotted"), node.module)]
    if exact:
        return sorted(exact)
    return sorted(key for key, node in graph.nodes.items() if node.kind == "task" and node.label == wanted)


def neighbourhood(graph: Graph, starts: Sequence[str], depth: int) -> Graph:
    """The nodes within ``depth`` edges of ``starts`` (either direction) and the edges between them."""
    around: dict[str, set[str]] = {}
    for source, target, _ in graph.links:
        around.setdefault(source, set()).add(target)
        around.setdefault(target, set()).add(source)
    seen = set(starts)
    queue = deque((start, 0) for start in starts)
    while queue:
        node, distance = queue.popleft()
        if distance >= depth:
            continue
        for other in sorted(around.get(node, ())):
            if other not in seen:
                seen.add(other)
                queue.append((other, distance + 1))
    return subgraph(graph, seen)


def only_tasks(graph: Graph, app: str | None = None, queue: str | None = None) -> Graph:
    """The tasks of one app and/or queue, with the sites and beat entries that launch them."""
    kept = {key for key, node in graph.nodes.items() if node.kind == "task"
            and (app is None or node.attrs.get("app") == app) and (queue is None or node.attrs.get("queue") == queue)}
    for source, target, _ in graph.links:
        if target in kept and not graph.nodes[source].kind == "task":
            kept.add(source)
    return subgraph(graph, kept)


def subgraph(graph: Graph, keep: Iterable[str]) -> Graph:
    wanted = set(keep)
    return Graph({key: node for key, node in graph.nodes.items() if key in wanted},
                 {key: link for key, link in graph.links.items() if key[0] in wanted and key[1] in wanted})
