"""Project-wide CB202, CB203 and CB401: what one module cannot see.

The flake8 rule judges a task by the uses in its own module. ``check`` sees every module, so:

- a public task that other modules use only as a receiving canvas link (``chain(a.s(), total.s())``)
  and that nobody launches on its own is reported at its definition, even when its own module never
  mentions it;
- a per-module CB202 is withdrawn when another module launches the task on its own (``.delay()``, a
  plain call, ``apply_async``) or names it in a string (``send_task("pkg.tasks.total")``, a beat entry),
  or uses it in a way no rule understands (stored, passed on): silence when unsure.

- a per-module CB401 is withdrawn when the beat entry names (by its registered name) a task that sets
  ``expires=`` on its decorator in another module: beat sends through the registered task, whose
  options apply (celery 5.7 beat.Scheduler.apply_async, app/base.py _get_exec_options).

- a per-module CB203 is withdrawn when the project launches the task only on its own (``.delay()``,
  ``apply_async``, a plain call, a beat entry or ``send_task`` naming it) and never uses it in a canvas
  or in a way no rule understands: nothing is chained after it, so no race (saleor's beat-launched
  dispatcher, docs/validation.md F2).

Each worker reduces a module to ``ModuleFacts`` (small, picklable); the project pass joins them.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from celery_boundary.analysis import canvas as cv
from celery_boundary.analysis.index import ModuleIndex, Site, build_index
from celery_boundary.analysis.names import APP, LOCAL, ScopeNode
from celery_boundary.core.findings import Finding

CODE: Final = "CB202"
EXPIRY: Final = "CB401"
CANVAS: Final = "CB203"
#: The codes whose findings the project pass adds or withdraws.
CODES: Final = frozenset({CODE, EXPIRY, CANVAS})
_CANVAS_ONLY: Final = frozenset({cv.RECEIVING, cv.LINK})
_DOTTED: Final = re.compile(r"[A-Za-z_][\w.]*")
_SCOPE_TYPES: Final = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
                       ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class TaskFacts:
    dotted: str
    name: str
    line: int
    column: int
    source_line: str
    explicit_name: str | None
    #: ``# noqa: CB202`` on the definition (or ``# flake8: noqa`` in the file).
    silenced: bool = False
    #: The last line of the definition (a CB203 inside the body is about this task).
    end_line: int = 0


@dataclass(frozen=True)
class Use:
    dotted: str
    kind: str
    line: int


@dataclass(frozen=True)
class ModuleFacts:
    path: str
    module: str
    #: Public function tasks the module defines (private ones cannot be CB202).
    tasks: tuple[TaskFacts, ...]
    uses: tuple[Use, ...]
    #: String constants that look like dotted names (task names in send_task, beat entries).
    strings: frozenset[str]
    #: Registered names (``module.function`` and ``name=``) of tasks whose options set ``expires``.
    expiring: frozenset[str] = frozenset()
    #: (line, registered task name) of each beat entry with a literal "task" (for CB401).
    beat_entries: tuple[tuple[int, str], ...] = ()


@functools.lru_cache(maxsize=4096)
def module_name(path: Path) -> str:
    """Dotted module name: the file's stem under every parent folder that is a package."""
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.resolve().parent
    while (folder / "__init__.py").is_file():
        parts.append(folder.name)
        folder = folder.parent
    return ".".join(reversed(parts)) or path.stem


def extract(tree: ast.Module, path: Path, shown: str, lines: Sequence[str],
            decorators: frozenset[str], silenced: Callable[[int], bool] = lambda line: False,
            index: ModuleIndex | None = None, roots: frozenset[str] = frozenset()) -> ModuleFacts:
    """The module's public tasks and every use of a task-like name, with its canvas position.
    ``roots``: the project's top-level packages; names imported from anywhere else are not followed."""
    module = module_name(path)
    index = index or build_index(tree, decorators)
    tasks = tuple(
        TaskFacts(f"{module}.{task.name}", task.name, getattr(task.node, "lineno", 1),
                  getattr(task.node, "col_offset", 0) + 1, _line(lines, getattr(task.node, "lineno", 1)),
                  task.task_name, silenced(getattr(task.node, "lineno", 1)),
                  _end_line(task.node))
        for task in index.tasks.values() if not task.private and not task.is_class
    )
    uses = _uses(index, module, path.name == "__init__.py", roots)
    strings = frozenset(s for s in index.strings if _DOTTED.fullmatch(s))
    expiring = frozenset(
        name for task in index.tasks.values() if "expires" in task.options
        for name in (f"{module}.{task.name}", task.task_name) if name
    )
    return ModuleFacts(shown, module, tasks, tuple(uses), strings, expiring, tuple(_beat_entries(index)))


def _end_line(node: ast.AST) -> int:
    end: int | None = getattr(node, "end_lineno", None)
    return end if end is not None else int(getattr(node, "lineno", 1))


def _beat_entries(index: ModuleIndex) -> list[tuple[int, str]]:
    """Entries ``{"task": "pkg.mod.name", "schedule": ...}`` (dict literal or ``dict(...)``), at the
    lines a CB401 about them is reported: the entry, and the key that holds it."""
    found: list[tuple[int, str]] = []
    for site in index.dicts:
        node = site.node
        assert isinstance(node, ast.Dict)
        fields = {k.value: v for k, v in zip(node.keys, node.values)
                  if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        _add_entry(index, node, fields, found)
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        if isinstance(call.func, ast.Name) and call.func.id == "dict":
            _add_entry(index, call, {kw.arg: kw.value for kw in call.keywords if kw.arg}, found)
    return found


def _add_entry(index: ModuleIndex, node: ast.expr, fields: dict[str, ast.expr], found: list[tuple[int, str]]) -> None:
    task = fields.get("task")
    if "schedule" not in fields or not (isinstance(task, ast.Constant) and isinstance(task.value, str)):
        return
    lines = {node.lineno}
    holder = index.parent(node)
    if isinstance(holder, ast.Dict):
        lines |= {key.lineno for key, value in zip(holder.keys, holder.values) if value is node and key}
    elif isinstance(holder, (ast.Assign, ast.AnnAssign)):
        lines.add(holder.lineno)
    found.extend((line, task.value) for line in sorted(lines))


def roots_of(paths: Iterable[Path]) -> frozenset[str]:
    """The top-level packages (or modules) of the checked files: where a project task can live."""
    return frozenset(module_name(path).split(".")[0] for path in paths)


def _uses(index: ModuleIndex, module: str, is_package: bool, roots: frozenset[str]) -> list[Use]:
    seen: set[int] = set()
    uses: list[Use] = []
    imports = index.names.imports

    def relevant(expr: ast.expr) -> bool:
        """Only names that can be a project task are resolved (resolving costs a scope walk)."""
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return False
        if expr.id in index.tasks:
            return True
        source = imports.get(expr.id)
        return source is not None and (not roots or source.startswith(".") or source.split(".")[0] in roots)

    def record(expr: ast.expr, site: Site | None, kind: str) -> None:
        if id(expr) in seen or not relevant(expr):
            return
        scopes = site.scopes if site else ()
        dotted = _absolute(index.names.resolve(expr, scopes), module, is_package)
        if dotted is not None:
            seen.add(id(expr))
            uses.append(Use(dotted, kind, getattr(expr, "lineno", 0)))

    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, (ast.Name, ast.Attribute)):
            record(func.value, site, _kind(index, func.value, site))
        if isinstance(func, (ast.Name, ast.Attribute)):
            record(func, site, cv.ALONE)
    for ref in index.task_refs:
        assert isinstance(ref.node, ast.Name)
        record(ref.node, ref, _kind(index, ref.node, ref))
    # Any other mention of an imported name (stored, passed on): a use no rule understands.
    for node in list(index.parents):  # every node but the module: cheaper than another ast.walk
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in index.names.imports:
            expr: ast.expr = node
            site = Site(node, _scopes_of(index, node), None)
            while True:
                record(expr, site, cv.UNKNOWN)
                parent = index.parent(expr)
                if not (isinstance(parent, ast.Attribute) and parent.value is expr):
                    break
                expr = parent
    return uses


def _scopes_of(index: ModuleIndex, node: ast.AST) -> tuple[ScopeNode, ...]:
    """The functions and comprehensions around ``node``, outermost first (their locals shadow)."""
    found: list[ScopeNode] = []
    parent = index.parent(node)
    while parent is not None:
        if isinstance(parent, _SCOPE_TYPES):
            found.append(parent)
        parent = index.parent(parent)
    return tuple(reversed(found))


def _kind(index: ModuleIndex, expr: ast.expr, site: Site) -> str:
    """How the task that ``expr`` names is used here (the flake8 rule's positions, no variables)."""
    parent = index.parent(expr)
    if isinstance(parent, ast.Attribute) and parent.value is expr:
        call = index.parent(parent)
        if isinstance(call, ast.Call) and call.func is parent:
            if parent.attr in cv.SIGNATURE_METHODS:
                return cv.position(index, call, site)
            if parent.attr in cv.LAUNCH_METHODS or parent.attr == "apply":
                return cv.ALONE
        return cv.UNKNOWN
    if isinstance(parent, ast.Call) and parent.func is expr:
        return cv.ALONE
    return cv.UNKNOWN


def _absolute(resolved: str | None, module: str, is_package: bool) -> str | None:
    if resolved is None or resolved.startswith(APP):
        return None
    if resolved.startswith(LOCAL + "."):
        return f"{module}.{resolved[len(LOCAL) + 1:]}"
    if resolved.startswith("."):  # relative import: ".tasks.total" from pkg.views -> pkg.tasks.total
        dots = len(resolved) - len(resolved.lstrip("."))
        package = module.split(".") if is_package else module.split(".")[:-1]
        base = package[: len(package) - (dots - 1)] if dots > 1 else package
        rest = resolved[dots:]
        return ".".join([*base, rest]) if rest else ".".join(base)
    return resolved


def apply_project_rules(facts: Iterable[ModuleFacts], findings: list[Finding],
                        chosen: frozenset[str] = CODES) -> list[Finding]:
    """``findings`` with per-module CB202 / CB401 withdrawn where other modules show they are wrong,
    plus the CB202 findings only the whole project shows (when CB202 is among ``chosen``)."""
    modules = list(facts)
    tasks = {task.dotted: (module, task) for module in modules for task in module.tasks}
    uses: dict[str, list[tuple[ModuleFacts, Use]]] = {}
    for module in modules:
        for use in module.uses:
            if use.dotted in tasks:
                uses.setdefault(use.dotted, []).append((module, use))
    naming = _strings_by_last_part(modules)
    reported = {(f.path, f.line) for f in findings if f.code == CODE}
    withdrawn: set[tuple[str, int]] = set()
    added: list[Finding] = []
    for dotted, (home, task) in tasks.items():
        elsewhere = [(m, u) for m, u in uses.get(dotted, ()) if m.module != home.module]
        naming_modules = _naming_modules(naming, task, home.module)
        named = any(module != home.module for module in naming_modules)
        if (home.path, task.line) in reported:
            if named or any(u.kind not in _CANVAS_ONLY for _, u in elsewhere):
                withdrawn.add((home.path, task.line))
            continue
        kinds = {u.kind for _, u in uses.get(dotted, ())}
        if not elsewhere or not kinds <= _CANVAS_ONLY or cv.RECEIVING not in kinds:
            continue
        if task.silenced or named or home.module in naming_modules:
            continue
        places = sorted({f"{m.path}:{u.line}" for m, u in elsewhere})
        where = ", ".join(places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")
        added.append(Finding(home.path, task.line, task.column, CODE, (
            f"task {task.name!r} is used in this project only as a canvas link that receives another "
            f"task's result ({where}), and is never launched on its own: make it private (rename it "
            f"'_{task.name}' in every module that references it) so that nobody launches it without its input"
        ), task.source_line))
    kept = [f for f in findings if not (f.code == CODE and (f.path, f.line) in withdrawn)]
    kept = _withdraw_covered_entries(modules, kept)
    kept = _withdraw_lone_dispatchers(tasks, uses, naming, kept)
    return sorted(kept + (added if CODE in chosen else []))


def _withdraw_covered_entries(modules: Sequence[ModuleFacts], findings: list[Finding]) -> list[Finding]:
    """CB401 findings about beat entries whose task sets ``expires`` in another module go away."""
    expiring = frozenset().union(*(module.expiring for module in modules)) if modules else frozenset()
    if not expiring:
        return findings
    covered = {(module.path, line) for module in modules for line, task in module.beat_entries if task in expiring}
    return [f for f in findings if not (f.code == EXPIRY and (f.path, f.line) in covered)]


def _withdraw_lone_dispatchers(tasks: dict[str, tuple[ModuleFacts, TaskFacts]],
                               uses: dict[str, list[tuple[ModuleFacts, Use]]], naming: dict[str, set[str]],
                               findings: list[Finding]) -> list[Finding]:
    """CB203 findings inside tasks that the whole project launches only on its own go away: the race
    needs something chained after the task, and no module puts it in a canvas."""
    if not any(f.code == CANVAS for f in findings):
        return findings
    alone: dict[str, list[tuple[int, int]]] = {}
    for dotted, (home, task) in tasks.items():
        kinds = {u.kind for _, u in uses.get(dotted, ())}
        launched = cv.ALONE in kinds or bool(_naming_modules(naming, task, home.module))
        if launched and kinds <= {cv.ALONE}:
            alone.setdefault(home.path, []).append((task.line, task.end_line or task.line))
    return [f for f in findings if not (
        f.code == CANVAS and any(start <= f.line <= end for start, end in alone.get(f.path, ())))]


def _strings_by_last_part(modules: Sequence[ModuleFacts]) -> dict[str, set[str]]:
    """Every string -> the modules holding it, and ``".last"`` -> modules holding a dotted string
    ending in that part (``"pkg.tasks.total"`` is found under ``".total"``)."""
    found: dict[str, set[str]] = {}
    for module in modules:
        for text in module.strings:
            found.setdefault(text, set()).add(module.module)
            if "." in text:
                found.setdefault("." + text.rsplit(".", 1)[-1], set()).add(module.module)
    return found


def _naming_modules(naming: dict[str, set[str]], task: TaskFacts, home: str) -> set[str]:
    """Modules with a string that names the task: a dotted path ending in its name, its ``name=``,
    or (in its own module only, as the flake8 rule reads it) the bare name: elsewhere a bare
    "total" is far more often a dict key than a task name."""
    modules = set(naming.get("." + task.name, ()))
    if task.explicit_name:
        modules |= naming.get(task.explicit_name, set())
    if home in naming.get(task.name, ()):
        modules.add(home)
    return modules


def _line(lines: Sequence[str], number: int) -> str:
    return lines[number - 1] if 0 < number <= len(lines) else ""
