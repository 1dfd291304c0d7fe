"""What launches what in one module, for ``celery-boundary graph``: the tasks the module defines (with
their app, queue and expiry), every launch (``delay``, ``apply_async``, ``send_task`` by name, a canvas
called or sent), the links inside each canvas (chain order, group members, chord header -> body,
``link`` / ``link_error``), the beat entries and ``add_periodic_task`` calls, the literal
``task_routes`` and the apps the module creates. Reduced to ``ModuleGraph`` (small, picklable);
``analysis.graph_project`` combines the modules into one graph.

Canvas semantics follow celery 5.7 (``celery/canvas.py``): calling a chain, group or chord sends it
(``__call__`` -> ``apply_async``), calling a plain signature or a task runs it in this process (no
message: no edge). A task referred to by an imported name is kept as its dotted path; the project pass
keeps it only when a task of the project is defined there.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Final

from celery_boundary.analysis.call_shapes import can_be_celery
from celery_boundary.analysis.canvas import LAUNCH_METHODS
from celery_boundary.analysis.index import ModuleIndex, Site, TaskDef
from celery_boundary.analysis.schedulers import EXPIRE_SECONDS, EXPIRES, beat_entries
from celery_boundary.analysis.symbols import APP, LOCAL, SIGNATURE_CALLS
from celery_boundary.analysis.graph_settings import apps_of, fields_of, keyword_of, members_of, routes_of, text_of
from celery_boundary.analysis.task_names import registered_name

#: Edge kinds. ``launch``: a message sent from a site (or a task body); the canvas kinds join two tasks.
LAUNCH: Final = "launch"
CHAIN: Final = "chain"
CHORD: Final = "chord"
LINK: Final = "link"
LINK_ERROR: Final = "link_error"
REPLACE: Final = "replace"
BEAT: Final = "beat"

_CHAIN, _GROUP, _CHORD = "celery.chain", "celery.group", "celery.chord"
_SIGNATURE_METHODS: Final = frozenset({"s", "si", "signature", "subtask", "map", "starmap", "chunks"})
_CLONES: Final = frozenset({"set", "clone", "freeze", "set_immutable"})
_CALLBACKS: Final = {"link": LINK, "link_error": LINK_ERROR, "on_error": LINK_ERROR}
#: Depth of variables followed into their assignment (``header = group(...)``; ``chord(header)(...)``).
_MAX_FOLLOW: Final = 6


@dataclass(frozen=True)
class Ref:
    """A task as a site names it: its import path (``pkg.tasks.total``) or, ``by_name``, the name it
    is registered under (``send_task("pkg.total")``, ``signature("...")``, a beat entry)."""

    target: str
    by_name: bool = False


@dataclass(frozen=True)
class TaskSpec:
    binding: str
    #: ``module.binding``: how other modules import the task.
    dotted: str
    #: The registered name (``analysis.task_names``); None when computed at run time.
    name: str | None
    line: int
    end_line: int
    #: The first line of the definition, its decorators included (findings there are about the task).
    start_line: int
    #: The app object the decorator belongs to (``pkg.celery.app``); None for ``shared_task``.
    app: str | None
    #: ``queue=`` given to the decorator: the literal, or the expression as written (``settings.Q``).
    queue: str | None
    #: The decorator's options set ``expires``.
    expires: bool
    #: A ``Task`` subclass (a base class unless something launches it).
    is_class: bool = False


@dataclass(frozen=True)
class Edge:
    #: None: the site itself (a function of the module, or ``task`` when it runs inside a task body).
    source: Ref | None
    target: Ref
    kind: str
    #: ``delay``, ``apply_async``, ``send_task``, ``call`` (a canvas called), ``add_periodic_task``, ...
    how: str
    #: The canvas the edge belongs to (``chain``, ``group``, ``chord``), or "".
    via: str
    line: int
    #: The function around the site (``Class.method``), or ``<module>``.
    function: str
    #: The module-level task whose body holds the site, or None.
    task: str | None
    #: ``apply_async(queue="...")`` / ``send_task(..., queue="...")``: the queue this launch sends to.
    queue: str | None = None


@dataclass(frozen=True)
class BeatSpec:
    #: The schedule's key (``"nightly-report"``), the ``name=`` of ``add_periodic_task``, or "".
    entry: str
    target: Ref
    #: The schedule as written (``crontab(minute=0)``, ``30.0``).
    schedule: str
    #: The entry's options state ``expires`` / ``expire_seconds``.
    expires: bool
    #: Every line a finding about the entry may be reported at (the key, the entry, the call).
    lines: tuple[int, ...]


@dataclass(frozen=True)
class ModuleGraph:
    path: str
    module: str
    tasks: tuple[TaskSpec, ...]
    edges: tuple[Edge, ...]
    beats: tuple[BeatSpec, ...]
    #: Literal ``task_routes``: (name or glob pattern, queue), in the order Celery tries them.
    routes: tuple[tuple[str, str], ...]
    #: Apps the module creates: (dotted path of the object, the literal ``main`` or "").
    apps: tuple[tuple[str, str], ...]


def module_graph(index: ModuleIndex, path: str, module: str, is_package: bool = False) -> ModuleGraph:
    reader = _Reader(index, module, is_package)
    return ModuleGraph(path, module, reader.tasks(), reader.edges(), reader.beats(), routes_of(index),
                       apps_of(index, module))


class _Reader:
    def __init__(self, index: ModuleIndex, module: str, is_package: bool) -> None:
        self.index = index
        self.module = module
        self.is_package = is_package
        self.found: list[Edge] = []
        self._by_function = {id(t.function): t for t in index.tasks.values() if t.function is not None}

    # -- tasks ---------------------------------------------------------------------------------
    def tasks(self) -> tuple[TaskSpec, ...]:
        specs = []
        for task in self.index.tasks.values():
            queue = task.options.get("queue")
            line = getattr(task.node, "lineno", 1)
            specs.append(TaskSpec(
                task.name, f"{self.module}.{task.name}", registered_name(self.index, task, self.module),
                line, getattr(task.node, "end_lineno", None) or line,
                min([line, *(d.lineno for d in getattr(task.node, "decorator_list", ()))]), self._app_of(task),
                text_of(queue) if text_of(queue) is not None or queue is None else ast.unparse(queue),
                "expires" in task.options, task.is_class))
        return tuple(specs)

    def _app_of(self, task: TaskDef) -> str | None:
        node = task.node
        decorators = node.decorator_list if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            decorators = [node.value.func]
        for decorator in decorators:
            func = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(func, ast.Attribute) and func.attr == "task" and self.index.names.is_task_decorator(func):
                resolved = self.index.names.resolve(func.value)
                if resolved == APP and isinstance(func.value, ast.Name):  # ``app = Celery(...)`` here
                    return f"{self.module}.{func.value.id}"
                return self.absolute(resolved)
        return None

    # -- edges ---------------------------------------------------------------------------------
    def edges(self) -> tuple[Edge, ...]:
        for site in self.index.calls:
            call = site.node
            assert isinstance(call, ast.Call)
            try:
                self._call(call, site)
            except RecursionError:  # a canvas nested beyond the stack: that launch is left out
                continue
        return tuple(self.found)

    def _call(self, call: ast.Call, site: Site) -> None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in LAUNCH_METHODS and can_be_celery(call):
            ref = self.task_ref(func.value, site)
            if ref is not None:
                self.add(site, None, ref, LAUNCH, func.attr, "", call.lineno, text_of(keyword_of(call, "queue")))
                self._callbacks(call, site, [ref])
                return
            shape = self.canvas(func.value, site)
            if shape is not None:
                self._launch_canvas(shape, site, func.attr, call.lineno)
                self._callbacks(call, site, shape[1])
        elif isinstance(func, ast.Attribute) and func.attr == "send_task" and can_be_celery(call):
            name = text_of(_first(call, "name"))
            if name is not None:
                ref = Ref(name, by_name=True)
                self.add(site, None, ref, LAUNCH, "send_task", "", call.lineno, text_of(keyword_of(call, "queue")))
                self._callbacks(call, site, [ref])
        elif isinstance(func, ast.Call) and self._is_canvas_call(func, site):
            shape = self.canvas(call, site)  # ``chord(header)(body)``, ``chain(...)()``: sent now
            if shape is not None:
                self._launch_canvas(shape, site, "call", call.lineno)
        elif isinstance(func, ast.Attribute) and func.attr in _CALLBACKS and call.args and can_be_celery(call):
            self.canvas(call, site)  # ``sig.link(other.s())`` on its own line: the link is the edge
        elif isinstance(func, ast.Attribute) and func.attr == "replace" and call.args and site.task is not None:
            shape = self.canvas(call.args[0], site)
            if shape is not None:
                for ref in shape[0]:
                    self.add(site, None, ref, REPLACE, "replace", "", call.lineno)

    def _is_canvas_call(self, func: ast.Call, site: Site) -> bool:
        resolved = self.index.resolve(func.func, site)
        return resolved in (_CHAIN, _GROUP, _CHORD) or isinstance(func.func, ast.Call) and self.index.resolve(
            func.func.func, site) == _CHORD

    def _launch_canvas(self, shape: _Shape, site: Site, how: str, line: int) -> None:
        firsts, _, via = shape
        for ref in firsts:
            self.add(site, None, ref, LAUNCH, how, via, line)

    def _callbacks(self, call: ast.Call, site: Site, lasts: list[Ref]) -> None:
        for keyword in call.keywords:
            if keyword.arg in ("link", "link_error"):
                for value in members_of(keyword.value):
                    shape = self.canvas(value, site)
                    if shape is not None:
                        self.join(site, lasts, shape[0], _CALLBACKS[keyword.arg], call.lineno)

    def add(self, site: Site, source: Ref | None, target: Ref, kind: str, how: str, via: str, line: int,
            queue: str | None = None) -> None:
        task = site.task.name if site.task is not None and id(site.task.function) in self._by_function else None
        self.found.append(Edge(source, target, kind, how, via, line, self._function(site), task, queue))

    def join(self, site: Site, sources: list[Ref], targets: list[Ref], kind: str, line: int) -> None:
        for source in sources:
            for target in targets:
                self.add(site, source, target, kind, kind, "", line)

    def _function(self, site: Site) -> str:
        if not site.scopes:
            return "<module>"
        parts: list[str] = []
        node: ast.AST | None = site.scopes[0]
        while node is not None:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                parts.append(node.name)
            node = self.index.parent(node)
        return ".".join(reversed(parts)) or "<lambda>"

    # -- canvases ------------------------------------------------------------------------------
    def canvas(self, expr: ast.expr, site: Site, depth: int = 0) -> _Shape | None:
        """(first tasks, last tasks, kind of canvas) of a signature or canvas expression; the links
        inside it are added as edges. None when it is neither (or not understood)."""
        if depth > _MAX_FOLLOW:
            return None
        if isinstance(expr, ast.Name):
            value = self._assigned(expr, site)
            return self.canvas(value, site, depth + 1) if value is not None else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            return self._chain([expr.left, expr.right], site, depth)
        if not isinstance(expr, ast.Call):
            return None
        func = expr.func
        if isinstance(func, ast.Attribute):
            name = text_of(_first(expr, "varies")) if func.attr == "signature" else None
            if name is not None:  # ``app.signature("pkg.total")``: a task by its registered name
                return [Ref(name, True)], [Ref(name, True)], ""
            if func.attr in _SIGNATURE_METHODS and can_be_celery(expr):
                ref = self.task_ref(func.value, site)
                if ref is not None:
                    return [ref], [ref], ""
            if func.attr in _CLONES and can_be_celery(expr):
                return self.canvas(func.value, site, depth + 1)
            if func.attr in _CALLBACKS and expr.args and can_be_celery(expr):
                inner = self.canvas(func.value, site, depth + 1)
                callback = self.canvas(expr.args[0], site, depth + 1)
                if inner is not None and callback is not None:
                    self.join(site, inner[1], callback[0], _CALLBACKS[func.attr], expr.lineno)
                return inner
        resolved = self.index.resolve(func, site)
        if resolved == _CHAIN:
            return self._chain(_arguments(expr), site, depth)
        if resolved == _GROUP:
            return self._group(_arguments(expr), site, depth)
        if resolved == _CHORD:
            header = expr.args[0] if expr.args else keyword_of(expr, "header")
            body = expr.args[1] if len(expr.args) > 1 else keyword_of(expr, "body")
            return self._chord(header, body, site, depth)
        if isinstance(func, ast.Call) and self.index.resolve(func.func, site) == _CHORD:
            header = func.args[0] if func.args else keyword_of(func, "header")
            return self._chord(header, expr.args[0] if expr.args else keyword_of(expr, "body"), site, depth)
        if resolved in SIGNATURE_CALLS:
            name = text_of(_first(expr, "varies" if resolved == "celery.signature" else "task"))
            if name is not None:
                return [Ref(name, True)], [Ref(name, True)], ""
            ref = self.task_ref(expr.args[0], site) if expr.args else None
            return ([ref], [ref], "") if ref is not None else None
        return None

    def _chain(self, steps: list[ast.expr], site: Site, depth: int) -> _Shape | None:
        shapes = [shape for step in steps if (shape := self.canvas(step, site, depth + 1)) is not None]
        if not shapes:
            return None
        for before, after in zip(shapes, shapes[1:]):
            self.join(site, before[1], after[0], CHAIN, getattr(steps[0], "lineno", 0))
        return shapes[0][0], shapes[-1][1], CHAIN

    def _group(self, members: list[ast.expr], site: Site, depth: int) -> _Shape | None:
        shapes = [shape for member in members if (shape := self.canvas(member, site, depth + 1)) is not None]
        if not shapes:
            return None
        return [r for s in shapes for r in s[0]], [r for s in shapes for r in s[1]], "group"

    def _chord(self, header: ast.expr | None, body: ast.expr | None, site: Site, depth: int) -> _Shape | None:
        members = self._group(members_of(header) if header is not None else [], site, depth)
        after = self.canvas(body, site, depth + 1) if body is not None else None
        if members is None:
            return after
        if after is None:
            return members[0], members[1], CHORD
        self.join(site, members[1], after[0], CHORD, getattr(body, "lineno", 0))
        return members[0], after[1], CHORD

    def _assigned(self, name: ast.Name, site: Site) -> ast.expr | None:
        """The value last assigned to ``name`` before it is read, in the same function."""
        scope = site.scopes[-1] if site.scopes else None
        found: ast.expr | None = None
        for assign in self.index.assigns:
            node = assign.node
            if (assign.scopes[-1] if assign.scopes else None) is not scope or not isinstance(node, ast.Assign):
                continue
            if node.lineno < name.lineno and any(isinstance(t, ast.Name) and t.id == name.id for t in node.targets):
                found = node.value
        return found

    def task_ref(self, expr: ast.expr, site: Site) -> Ref | None:
        """A name or attribute that may be a task (kept by the project pass only when it is one), or
        ``app.tasks["pkg.name"]``: a task by its registered name."""
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Attribute) and expr.value.attr == "tasks":
            name = text_of(expr.slice)
            return Ref(name, True) if name is not None else None
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "task" and len(
                expr.args) == 1 and not expr.keywords:  # ``request.task(send_email)``: an accessor that returns
            return self.task_ref(expr.args[0], site)  # the task object (Pyramid integrations)
        if not isinstance(expr, (ast.Name, ast.Attribute)):
            return None
        dotted = self.absolute(self.index.resolve(expr, site))
        return Ref(dotted) if dotted is not None else None

    def absolute(self, resolved: str | None) -> str | None:
        """A resolved name made absolute (``<local>.x`` and relative imports)."""
        if resolved is None:
            return None
        if resolved == APP or resolved.startswith(APP + "."):
            return None  # the module's own app (``app.send_task``): no task
        if resolved.startswith(LOCAL + "."):
            return self.module + resolved[len(LOCAL):]
        if resolved.startswith("."):
            dots = len(resolved) - len(resolved.lstrip("."))
            package = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
            base = package[: len(package) - (dots - 1)] if dots > 1 else package
            rest = resolved[dots:]
            return ".".join([*base, rest]) if rest else ".".join(base)
        return resolved

    # -- beat ----------------------------------------------------------------------------------
    def beats(self) -> tuple[BeatSpec, ...]:
        found: list[BeatSpec] = []
        for node, task in beat_entries(self.index):
            holder = self.index.parent(node)
            key: ast.expr | None = None
            if isinstance(holder, ast.Dict):
                key = next((k for k, v in zip(holder.keys, holder.values) if v is node and k is not None), None)
            fields = fields_of(node)
            options = fields.get("options")
            lines = sorted({node.lineno, task.lineno, *([key.lineno] if key is not None else [])})
            found.append(BeatSpec(text_of(key) or "", Ref(str(task.value), True), _source(fields.get("schedule")),
                                  options is not None and bool(_option_keys(options)), tuple(lines)))
        for site in self.index.calls:
            call = site.node
            assert isinstance(call, ast.Call)
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr == "add_periodic_task" and len(call.args) > 1:
                shape = self.canvas(call.args[1], site)
                ref = self.task_ref(call.args[1], site) if shape is None else None
                if ref is not None:  # ``add_periodic_task(crontab(...), refresh)``: the task itself
                    shape = [ref], [ref], ""
                expires = any(k.arg in (EXPIRES, EXPIRE_SECONDS) for k in call.keywords)
                for ref in shape[0] if shape is not None else []:
                    found.append(BeatSpec(text_of(keyword_of(call, "name")) or "", ref, _source(call.args[0]), expires,
                                          (call.lineno,)))
        return tuple(found)


_Shape = tuple[list[Ref], list[Ref], str]


def _arguments(call: ast.Call) -> list[ast.expr]:
    """The members of ``chain(a, b)``, ``chain([a, b])``, ``group(a, b)``, ``group(x.s() for ...)``."""
    if len(call.args) == 1:
        return members_of(call.args[0])
    return [a for a in call.args if not isinstance(a, ast.Starred)]


def _first(call: ast.Call, keyword: str) -> ast.expr | None:
    if call.args:
        return None if isinstance(call.args[0], ast.Starred) else call.args[0]
    return keyword_of(call, keyword)


def _source(expr: ast.expr | None) -> str:
    if expr is None:
        return ""
    text = ast.unparse(expr)
    return text if len(text) <= 60 else text[:57] + "..."


def _option_keys(options: ast.expr) -> set[str]:
    return {key for key in fields_of(options) if key in (EXPIRES, EXPIRE_SECONDS)}
