"""``celery-boundary contracts export``: every task the project defines as one versioned JSON document
(the format: docs/contracts.md; its JSON Schema: ``contracts.schema.json`` beside this module).

Each module's tasks come from ``analysis.contracts``; this pass applies what is project-wide: the
``task_serializer`` and ``task_default_queue`` settings (one literal value in the project, else Celery's
default, else unknown when the project sets several) and the literal ``task_routes``. The document is deterministic:
tasks sorted by name and path, keys sorted, paths relative to the root given.

Exit codes: 0 the document was written, 2 usage error.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from celery_boundary import __version__
from celery_boundary.analysis.contracts import ModuleContracts, Parameter, TaskContract, module_contracts
from celery_boundary.analysis.index import build_index
from celery_boundary.analysis.task_names import module_name
from celery_boundary.analysis.wire_schema import WireType, wire_type
from celery_boundary.core import config as config_module
from celery_boundary.core.client_contracts import FORMAT, VERSION
from celery_boundary.gate.engine import rule_settings
from celery_boundary.gate.writes import emit
from celery_boundary.gate.files import discover, display, read_source

DEFAULT_SERIALIZER: Final = "json"
#: Celery's ``task_default_queue`` when the project sets none.
DEFAULT_QUEUE: Final = "celery"
#: Words without which a module can define no task nor set a serializer or route.
_HINTS: Final = ("task", "Task", "serializer", "routes", "ROUTES")
SCHEMA_FILE: Final = Path(__file__).with_name("contracts.schema.json")


@dataclass(frozen=True)
class ExportOptions:
    paths: tuple[str, ...] = ()
    output: Path | None = None
    exclude: tuple[str, ...] = ()
    config: Path | None = None


def run_export(options: ExportOptions, stdout: TextIO | None = None) -> int:
    settings = config_module.load(options.config) if options.config else config_module.load(start=Path.cwd())
    files = discover(options.paths, (*settings.exclude, *options.exclude))
    document = export(files, Path.cwd(), rule_settings(settings).task_decorators)
    write_document(document, options.output, stdout or sys.stdout)
    return 0


def write_document(document: dict[str, object], output: Path | None, out: TextIO) -> None:
    emit(render(document), output, out, "contracts")


def render(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export(files: list[Path], root: Path, decorators: frozenset[str] = frozenset()) -> dict[str, object]:
    """The contracts document of ``files``, paths shown relative to ``root``."""
    modules: list[tuple[Path, ModuleContracts]] = []
    skipped: list[dict[str, object]] = []
    for path in files:
        found = _module(path, decorators)
        if isinstance(found, str):
            skipped.append({"path": _relative(path, root), "reason": found})
        elif found is not None:
            modules.append((path, found))
    serializer = _project_setting(sorted({v for _, m in modules for v in m.serializers}), DEFAULT_SERIALIZER,
                                  "task_serializer")
    default_queue = _project_setting(sorted({v for _, m in modules for v in m.default_queues}), DEFAULT_QUEUE,
                                     "task_default_queue")
    routes = [route for _, m in modules for route in m.routes]
    tasks: list[dict[str, object]] = []
    unnamed: list[dict[str, object]] = []
    for path, found in modules:
        shown = _relative(path, root)
        for task in found.tasks:
            if task.name is None:
                unnamed.append({"dotted": task.dotted, "path": shown, "line": task.line,
                                "reason": "the name= given to the decorator is computed at run time"})
            else:
                tasks.append(task_document(task, shown, serializer, routes, default_queue))
    tasks.sort(key=lambda t: (str(t["name"]), str(t["path"]), int(str(t["line"]))))
    unnamed.sort(key=lambda t: (str(t["path"]), int(str(t["line"]))))
    return {"format": FORMAT, "version": VERSION, "generator": f"celery-boundary {__version__}",
            "settings": {"task_serializer": _setting_json(serializer),
                         "task_default_queue": _setting_json(default_queue)},
            "tasks": tasks, "unnamed": unnamed, "skipped": sorted(skipped, key=lambda f: str(f["path"]))}


def _module(path: Path, decorators: frozenset[str]) -> ModuleContracts | str | None:
    """The module's contracts; None when it can hold no task; why not when it cannot be read (the
    document lists it: a task missing from it would otherwise read as removed)."""
    try:
        text = importlib.util.decode_source(read_source(path))
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        return f"cannot read: {exc}"
    if not any(hint in text for hint in _HINTS):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        return f"cannot parse: {exc}"
    try:
        return module_contracts(build_index(tree, decorators), module_name(path))
    except Exception as exc:  # never a traceback for one odd file
        return f"not understood: {type(exc).__name__}"


#: (a setting's value or None when not statically known, where it comes from, a note).
_Setting = tuple[str | None, str, str | None]


def _project_setting(values: list[str], default: str, name: str) -> _Setting:
    """The project's value of a setting: the one literal value it sets, else Celery's default, else
    unknown when it sets several (which one wins depends on what the worker imports)."""
    if not values:
        return default, "default", None
    if len(values) == 1:
        return values[0], "settings", None
    return None, "settings", f"the project sets {name} to several values: {', '.join(values)}"


def _setting_json(setting: _Setting) -> dict[str, object]:
    name, source, note = setting
    found: dict[str, object] = {"name": name, "source": source}
    if note is not None:
        found["note"] = note
    return found


def task_document(task: TaskContract, path: str, project: _Setting, routes: list[tuple[str, str]],
                  default_queue: _Setting) -> dict[str, object]:
    if task.serializer is not None:
        serializer: _Setting = (task.serializer, "task", None) if task.serializer_literal else (
            None, "task", f"serializer={task.serializer} is not a literal")
    else:
        serializer = project
    wire = serializer[0]
    document: dict[str, object] = {
        "name": task.name, "implicit_name": task.implicit_name, "dotted": task.dotted, "path": path,
        "line": task.line, "serializer": _setting_json(serializer), "pydantic": task.pydantic,
        "queue": _queue(task, routes, default_queue),
        "result": _typed(task.returns, task, wire),
    }
    if task.parameters is None:
        document["parameters"] = None
        document["parameters_unknown"] = "the function the task runs is not defined in this module"
    else:
        document["parameters"] = [_parameter(p, task, wire) for p in task.parameters]
    return document


def _parameter(parameter: Parameter, task: TaskContract, serializer: str | None) -> dict[str, object]:
    found: dict[str, object] = {"name": parameter.name, "kind": parameter.kind, "required": parameter.required}
    if parameter.default is not None:
        found["default"] = parameter.default
    found.update(_typed(parameter.annotation, task, serializer))
    return found


def _typed(annotation: ast.expr | None, task: TaskContract, serializer: str | None) -> dict[str, object]:
    wire: WireType = wire_type(annotation, task.names, serializer)
    found: dict[str, object] = {"type": ast.unparse(annotation) if annotation is not None else None,
                                "schema": wire.schema}
    if wire.unresolved is not None:
        found["unresolved"] = wire.unresolved
    return found


def _queue(task: TaskContract, routes: list[tuple[str, str]], default: _Setting) -> dict[str, object]:
    if task.queue is not None:
        if task.queue_literal:
            return {"name": task.queue, "source": "task"}
        return {"name": None, "source": "task", "note": f"queue={task.queue} is not a literal"}
    routed = route_for(str(task.name), routes)
    if routed is not None:
        return {"name": routed, "source": "task_routes"}
    return _setting_json((default[0], "default", default[2]))  # the worker's task_default_queue


def route_for(name: str, routes: list[tuple[str, str]]) -> str | None:
    """The queue literal ``task_routes`` send ``name`` to: an exact key first, then glob patterns in
    order (celery 5.7 ``celery.app.routes.MapRoute``)."""
    exact = next((queue for pattern, queue in routes if pattern == name), None)
    if exact is not None:
        return exact
    return next((queue for pattern, queue in routes if "*" in pattern and fnmatch.fnmatchcase(name, pattern)), None)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        return display(path)
