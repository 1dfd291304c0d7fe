"""Read the Celery app module's source (config ``app``) with ``ast``: never import user code.

What it learns: the task and result serializers set by ``Celery(..., task_serializer=...)``,
``app.conf.update(...)``, ``app.conf.<key> = ...`` and ``app.config_from_object(...)``, for the
module and for each module-level variable bound to ``Celery(...)`` (``AppVariable``: a task is
judged by the app its decorator belongs to); the types registered for json, in the app
module and the project modules it imports, as ``analysis/registrations.py`` reads them (direct
``register_type`` / ``register_preserializer`` calls, loops, the project's registration helpers).

Why from source at start-up: a registration learned by a hook in the registering module is lost
when that module comes from mypy's cache (the incremental trap, mypy 2.4.1; tests/mypy/test_incremental.py). The files
read are fingerprinted and reported through ``report_config_data`` so that an edit invalidates the
cache. A scan whose files are unchanged since the last run is taken from mypy's cache folder
(memory.py). Discovery (``app`` unset) lives in discovery.py.

Start-up phase.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from celery_boundary.analysis import registrations
from celery_boundary.core.records import field, mutable_record, record
from celery_boundary.core.registry import Registration
from celery_boundary.mypy.startup.memory import MISSING, Memory, Observed, Stamp, is_file, read_stamped

#: Setting names (new, then old upper-case) for the two serializers a front end needs.
TASK_KEYS: Final = ("task_serializer", "CELERY_TASK_SERIALIZER")
RESULT_KEYS: Final = ("result_serializer", "CELERY_RESULT_SERIALIZER")
#: Bound on how many project modules are followed from the app module.
MAX_MODULES: Final = 64
#: ``config_from_object`` targets that are Django's settings.
DJANGO_SETTINGS_OBJECTS: Final = ("django.conf:settings", "django.conf.settings")
#: The serializer name used when the source does not say which one runs (a value read from the
#: environment, a settings module that cannot be found, discovered apps that disagree). The core
#: treats any name it does not know as a custom serializer: *unknown* verdicts, so silence.
UNDETERMINED: Final = "undetermined (see [tool.celery_boundary] app)"


@record
class AppVariable:
    """A module-level variable bound to ``Celery(...)`` (``proj.legacy.legacy``) and its serializers
    (None: not set, Celery's json)."""

    fullname: str
    task_serializer: str | None = None
    result_serializer: str | None = None
    #: Its module is a Django project's app module (it sets ``DJANGO_SETTINGS_MODULE`` or reads
    #: ``django.conf:settings``) and ``Celery(...)`` names no ``task_cls``: Celery's Django fix-up
    #: makes its task class ``DjangoTask`` (Celery 5.4+), which has ``delay_on_commit``.
    django_task: bool = False


@mutable_record
class AppFacts:
    task_serializer: str | None = None
    result_serializer: str | None = None
    registrations: list[Registration] = field(default_factory=list)
    fingerprint: str = ""
    files: list[str] = field(default_factory=list)
    #: App modules found by ``discover_app`` when ``app`` is not configured.
    discovered: list[str] = field(default_factory=list)
    #: Each app variable of the app module(s), in the order found.
    apps: list[AppVariable] = field(default_factory=list)


class Sources:
    """The files one settings load reads, each read and parsed once: several discovered apps import
    the same settings modules (bookwyrm: two apps, fifteen parses of five files, 20 ms).

    Every read and file probe is also noted in ``observed`` (the scan under way), a cached read too:
    those are the facts a remembered scan is re-checked against (memory.py).
    """

    def __init__(self) -> None:
        self._trees: dict[Path, tuple[bytes, ast.Module | None]] = {}
        self._stamps: dict[Path, Stamp] = {}
        self._readers: dict[tuple[str, Path], _ModuleReader | None] = {}
        self.observed = Observed()

    def read(self, path: Path, source: bytes | None = None, stamp: Stamp = MISSING) -> tuple[bytes, ast.Module | None]:
        """The file's bytes (``source`` when already read whole, with its ``stamp``) and its tree
        (None: it does not parse).

        Raises OSError."""
        found = self._trees.get(path)
        if found is None:
            if source is None:
                read = read_stamped(str(path), None)
                if read is None:
                    raise OSError(f"cannot read {path}")
                source, stamp = read
            try:
                tree: ast.Module | None = ast.parse(source, filename=str(path))
            except (SyntaxError, ValueError, RecursionError):
                tree = None
            found = self._trees[path] = (source, tree)
            self._stamps[path] = stamp
        self.observed.reads[str(path)] = self._stamps[path]
        return found

    def is_file(self, path: Path) -> bool:
        text = str(path)
        found = self.observed.probes[text] = is_file(text)
        return found

    def reader(self, name: str, path: Path, tree: ast.Module) -> _ModuleReader | None:
        """``tree`` read as module ``name`` (None: too deeply nested to read)."""
        key = (name, path)
        if key not in self._readers:
            made = _ModuleReader(name, path.name == "__init__.py")
            try:
                made.visit(tree)
            except RecursionError:
                self._readers[key] = None
            else:
                self._readers[key] = made
        return self._readers[key]


def scan_app(
    module: str, roots: Sequence[Path], sources: Sources | None = None, memory: Memory | None = None
) -> AppFacts:
    """Facts from ``module`` (``proj.celery`` or ``proj.celery:app``) and the project modules it imports.

    With ``memory``, a scan whose files and probes are unchanged since the last run is not redone.
    """
    key = json.dumps([module, [str(root) for root in roots]])
    if memory is not None:
        remembered = memory.recall("scans", key)
        if remembered is not None:
            try:
                return facts_from_json(remembered)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError):
                pass
    sources = Sources() if sources is None else sources
    sources.observed = Observed()
    facts = _scan(module, roots, sources)
    if memory is not None:
        memory.remember("scans", key, sources.observed, facts_to_json(facts))
    return facts


def _scan(module: str, roots: Sequence[Path], sources: Sources) -> AppFacts:
    facts = AppFacts()
    digest = hashlib.sha256()
    queue = [module.split(":")[0]]
    seen: set[str] = set()
    modules: list[registrations.Module] = []
    while queue and len(seen) < MAX_MODULES:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        path = find_module(name, roots, sources.is_file)
        if path is None:
            digest.update(f"missing:{name}\n".encode())
            continue
        source, tree = sources.read(path)
        digest.update(f"{name}:{len(source)}\n".encode() + source)
        facts.files.append(str(path))
        reader = sources.reader(name, path, tree) if tree is not None else None
        if reader is None:
            continue
        for source_module, namespace in reader.config_sources:
            _read_config_module(facts, reader, source_module, namespace, roots, digest, sources)
        if tree is not None:
            modules.append(_module(name, path, tree))
        if name == module.split(":")[0]:
            _read_app_variables(facts, reader, module, roots, digest, sources)
        queue.extend(m for m in reader.imported if find_module(m, roots, sources.is_file) is not None)
    facts.registrations = [
        Registration(found.fullname, found.marker, found.keeps_subclass, None, found.origin)
        for found in registrations.find_registrations(modules)
    ]
    facts.fingerprint = digest.hexdigest()[:16]
    facts.files = list(dict.fromkeys(facts.files))  # a settings module read for two config sources
    return facts


def _read_app_variables(
    facts: AppFacts, reader: _ModuleReader, module: str, roots: Sequence[Path], digest: Any, sources: Sources
) -> None:
    """The app module's serializers, and each app variable's.

    One app variable (the common case): the module's settings are its settings, however its
    ``conf`` is reached. Several: each variable's are the ones written on it (its ``Celery(...)``
    keywords, ``<var>.conf...``, ``<var>.config_from_object``), and the module's are those the
    apps agree on (UNDETERMINED when they do not). ``proj.celery:app`` keeps only ``app``.
    """
    name, _, chosen = module.partition(":")
    variables = [var for var in reader.app_settings if not chosen or var == chosen]
    django = reader.django_settings is not None or any(
        source in DJANGO_SETTINGS_OBJECTS for source, _ in reader.config_sources
    )
    if len(reader.app_settings) <= 1:
        facts.task_serializer = reader.settings.get("task")
        facts.result_serializer = reader.settings.get("result")
        facts.apps = [
            AppVariable(
                f"{name}.{var}", facts.task_serializer, facts.result_serializer, django and var not in reader.task_cls
            )
            for var in variables
        ]
        return
    for var in variables:
        settings = reader.app_settings[var]
        for source_module, namespace in reader.app_config_sources.get(var, []):
            _read_config_module(facts, reader, source_module, namespace, roots, digest, sources, settings)
        django_task = django and var not in reader.task_cls
        facts.apps.append(AppVariable(f"{name}.{var}", settings.get("task"), settings.get("result"), django_task))
    facts.task_serializer = agreed([app.task_serializer for app in facts.apps])
    facts.result_serializer = agreed([app.result_serializer for app in facts.apps])


def agreed(values: Sequence[str | None]) -> str | None:
    """The one serializer ``values`` name (None: Celery's json), else UNDETERMINED."""
    if not values:
        return None
    distinct = {value or "json" for value in values}
    return values[0] if len(distinct) == 1 else UNDETERMINED


def combine(scans: Sequence[AppFacts], facts: AppFacts, digest: Any) -> AppFacts:
    """Several app modules (discovered, or ``app`` listing several) as one: their files,
    registrations and app variables, and the serializers they agree on."""
    for scan in scans:
        digest.update(scan.fingerprint.encode())
        facts.files.extend(path for path in scan.files if path not in facts.files)
        facts.registrations.extend(scan.registrations)
        known = {app.fullname for app in facts.apps}
        facts.apps.extend(app for app in scan.apps if app.fullname not in known)
    if scans:
        facts.task_serializer = agreed([s.task_serializer for s in scans])
        facts.result_serializer = agreed([s.result_serializer for s in scans])
    facts.fingerprint = digest.hexdigest()[:16]
    return facts


def _module(name: str, path: Path, tree: ast.Module) -> registrations.Module:
    """The module as ``analysis.registrations`` reads it; its path as the project spells it
    (``proj/app.py``), which registrations name in messages."""
    package = path.name == "__init__.py"
    shown = name.replace(".", "/") + ("/__init__.py" if package else ".py")
    return registrations.Module(name, shown, tree, package)


def facts_to_json(facts: AppFacts) -> dict[str, Any]:
    registrations = [[r.fullname, r.marker, r.keeps_subclass, r.origin] for r in facts.registrations]
    return {
        "task": facts.task_serializer,
        "result": facts.result_serializer,
        "registrations": registrations,
        "fingerprint": facts.fingerprint,
        "files": facts.files,
        "discovered": facts.discovered,
        "apps": [[app.fullname, app.task_serializer, app.result_serializer, app.django_task] for app in facts.apps],
    }


def facts_from_json(data: Any) -> AppFacts:
    """Raises (KeyError, TypeError, ValueError, IndexError) on a malformed entry."""

    def optional(value: Any) -> str | None:
        return None if value is None else str(value)

    registrations = [
        Registration(str(name), optional(marker), bool(keeps), None, str(origin))
        for name, marker, keeps, origin in data["registrations"]
    ]
    return AppFacts(
        optional(data["task"]),
        optional(data["result"]),
        registrations,
        str(data["fingerprint"]),
        [str(path) for path in data["files"]],
        [str(name) for name in data["discovered"]],
        [
            AppVariable(str(name), optional(task), optional(result), bool(django))
            for name, task, result, django in data["apps"]
        ],
    )


def _read_config_module(
    facts: AppFacts,
    reader: _ModuleReader,
    module: str,
    namespace: str | None,
    roots: Sequence[Path],
    digest: Any,
    sources: Sources,
    settings: dict[str, str] | None = None,
) -> None:
    """``config_from_object("proj.celeryconfig")`` or Django settings (``namespace="CELERY"``), read
    into ``settings`` (the module's when None).

    With a namespace Celery reads ``CELERY_TASK_SERIALIZER`` first, then the bare key (celery 5.7).
    """
    settings = reader.settings if settings is None else settings
    if module in DJANGO_SETTINGS_OBJECTS:
        module = reader.django_settings or ""
    path = find_module(module.split(":")[0], roots, sources.is_file) if module else None
    if path is None:
        # Settings we cannot read may name any serializer: unknown, not json (M1, docs/validation.md).
        digest.update(f"missing config:{module}\n".encode())
        for kind in ("task", "result"):
            settings.setdefault(kind, UNDETERMINED)
        return
    values = _settings_values(facts, module.split(":")[0], path, roots, digest, set(), sources)
    for kind, keys in (("task", TASK_KEYS), ("result", RESULT_KEYS)):
        names = [f"{namespace}_{keys[0].upper()}", keys[0]] if namespace else list(keys)
        found = next((values[n] for n in names if n in values), None)
        if found is not None:
            # Explicit app.conf assignments in the app module are taken to win (they usually follow).
            settings.setdefault(kind, found)


def _settings_values(
    facts: AppFacts, module: str, path: Path, roots: Sequence[Path], digest: Any, seen: set[str], sources: Sources
) -> dict[str, str]:
    """Top-level ``NAME = "value"`` of a settings module, through ``from .base import *`` (Django settings
    packages); later assignments win, as at import. A computed value is UNDETERMINED."""
    seen.add(module)
    source, tree = sources.read(path)
    digest.update(f"{module}:{len(source)}\n".encode() + source)
    facts.files.append(str(path))
    if tree is None:
        return {}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    values: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and any(alias.name == "*" for alias in stmt.names):
            parts = package.split(".") if stmt.level else []
            parts = parts[: len(parts) - (stmt.level - 1)] if stmt.level > 1 else parts
            star = ".".join([*parts, stmt.module] if stmt.module else parts)
            star_path = (
                find_module(star, roots, sources.is_file) if star not in seen and len(seen) < MAX_MODULES else None
            )
            if star_path is not None:
                values.update(_settings_values(facts, star, star_path, roots, digest, seen, sources))
        elif isinstance(stmt, ast.Assign):
            value = stmt.value
            # ``os.environ.get(...)`` and friends: present but not knowable statically.
            text = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else UNDETERMINED
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = text
    return values


def find_module(name: str, roots: Iterable[Path], probe: Callable[[Path], bool] = Path.is_file) -> Path | None:
    parts = name.split(".")
    for root in roots:
        base = root.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if probe(candidate):
                return candidate
    return None


class _ModuleReader(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.names: dict[str, str] = {}
        self.imported: list[str] = []
        self.settings: dict[str, str] = {}
        #: ``config_from_object`` targets in source order, with their namespace.
        self.config_sources: list[tuple[str, str | None]] = []
        #: ``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")``.
        self.django_settings: str | None = None
        #: The module calls ``Celery(...)`` (app discovery).
        self.creates_app = False
        #: Module-level variables bound to ``Celery(...)``, in source order, and the settings written
        #: on each (``config_from_object`` targets apart: read after the visit).
        self.app_settings: dict[str, dict[str, str]] = {}
        self.app_config_sources: dict[str, list[tuple[str, str | None]]] = {}
        #: App variables whose ``Celery(...)`` names a ``task_cls`` (the Django fix-up keeps it).
        self.task_cls: set[str] = set()
        self._top_level: set[int] = set()

    def visit_Module(self, node: ast.Module) -> None:
        self._top_level = {id(stmt) for stmt in node.body}
        self.generic_visit(node)

    # --- imports: local name -> dotted name --------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.imported.append(alias.name)
            if alias.asname:
                self.names[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.names[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            parent = self.package.split(".")
            parent = parent[: len(parent) - (node.level - 1)] if node.level > 1 else parent
            base = ".".join([*parent, base] if base else parent)
        if base:
            self.imported.append(base)
        for alias in node.names:
            self.names[alias.asname or alias.name] = f"{base}.{alias.name}"
            self.imported.append(f"{base}.{alias.name}")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.names[node.name] = f"{self.module}.{node.name}"
        self.generic_visit(node)

    # --- settings (registrations: analysis/registrations.py, over every module read) -----------
    def visit_Call(self, node: ast.Call) -> None:
        callee = self.resolve(node.func)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "config_from_object" and node.args:
            target = node.args[0]
            namespace = next(
                (k.value.value for k in node.keywords if k.arg == "namespace" and isinstance(k.value, ast.Constant)),
                None,
            )
            # A non-literal target (an object, a class) is recorded as "" : its settings are unknown.
            name = target.value if isinstance(target, ast.Constant) and isinstance(target.value, str) else ""
            source = (name, namespace if isinstance(namespace, str) else None)
            self.config_sources.append(source)
            owner = _app_name(node.func.value)
            if owner in self.app_settings:
                self.app_config_sources.setdefault(owner, []).append(source)
        elif isinstance(node.func, ast.Attribute) and node.func.attr == "setdefault" and len(node.args) == 2:
            key, value = node.args
            is_setting = isinstance(key, ast.Constant) and key.value == "DJANGO_SETTINGS_MODULE"
            if is_setting and isinstance(value, ast.Constant):
                self.django_settings = str(value.value)
        elif callee is not None and callee.endswith("Celery"):
            self.creates_app = True
            self._read_settings(node.keywords)
        elif isinstance(node.func, ast.Attribute) and node.func.attr == "update" and _is_conf(node.func.value):
            written_on = self.app_settings.get(_app_name(node.func.value))
            self._read_settings(node.keywords, written_on)
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    self._read_dict(arg, written_on)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if _is_django_settings_key(target) and isinstance(node.value, ast.Constant):
                self.django_settings = str(node.value.value)  # os.environ["DJANGO_SETTINGS_MODULE"] = "..."
            if isinstance(target, ast.Attribute) and _is_conf(target.value):
                self._setting(target.attr, node.value, self.app_settings.get(_app_name(target.value)))
        if len(node.targets) == 1:
            self._bind_app(node, node.targets[0], node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._bind_app(node, node.target, node.value)
        self.generic_visit(node)

    def _bind_app(self, node: ast.stmt, target: ast.expr, value: ast.expr) -> None:
        """``legacy = Celery("legacy", task_serializer="pickle")`` at module level: an app variable."""
        if id(node) not in self._top_level or not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
            return
        callee = self.resolve(value.func)
        if callee is not None and callee.endswith("Celery"):
            if any(keyword.arg == "task_cls" for keyword in value.keywords):
                self.task_cls.add(target.id)
            settings = self.app_settings[target.id] = {}
            self._read_settings(value.keywords, settings, module=False)

    def _read_settings(self, keywords: list[ast.keyword], owner: dict[str, str] | None = None,
                       module: bool = True) -> None:
        for keyword in keywords:
            if keyword.arg is not None:
                self._setting(keyword.arg, keyword.value, owner, module)

    def _read_dict(self, node: ast.Dict, owner: dict[str, str] | None) -> None:
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                self._setting(key.value, value, owner)

    def _setting(self, key: str, value: ast.expr, owner: dict[str, str] | None = None, module: bool = True) -> None:
        """A setting written in this module (``module``), and on app variable ``owner`` if known."""
        # A value computed at run time (``os.environ[...]``) is a setting we cannot know: undetermined.
        text = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else UNDETERMINED
        kind = "task" if key in TASK_KEYS else "result" if key in RESULT_KEYS else None
        if kind is None:
            return
        for settings in (self.settings if module else None, owner):
            if settings is not None:
                settings[kind] = text

    def resolve(self, expr: ast.expr) -> str | None:
        if isinstance(expr, ast.Name):
            return self.names.get(expr.id, f"{self.module}.{expr.id}")
        if isinstance(expr, ast.Attribute):
            owner = self.resolve(expr.value)
            return None if owner is None else f"{owner}.{expr.attr}"
        return None


def _is_django_settings_key(target: ast.expr) -> bool:
    return (
        isinstance(target, ast.Subscript)
        and isinstance(target.slice, ast.Constant)
        and target.slice.value == "DJANGO_SETTINGS_MODULE"
    )


def _is_conf(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Attribute) and expr.attr == "conf"


def _app_name(expr: ast.expr) -> str:
    """``legacy`` of ``legacy.conf`` / ``legacy`` ("" for anything else)."""
    if _is_conf(expr):
        assert isinstance(expr, ast.Attribute)
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else ""
