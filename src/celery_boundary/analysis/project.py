"""The project's tasks and their uses across modules: each module reduced to ``ModuleFacts`` (small and
picklable, so a process-pool worker can return it) by ``summarize``, then combined once by
``Project``. The project-wide halves of CB202, CB203 and CB401 (in ``celery_boundary.checks``) read
it; ``fix`` reads it to rename a task everywhere.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from celery_boundary.analysis.index import ModuleIndex
from celery_boundary.analysis.task_input import ignores_input
from celery_boundary.analysis.schedulers import ExpirySite, combine, deploy_scheduler, expiry_sites, module_scheduler
from celery_boundary.analysis.symbols import APP, LOCAL
from celery_boundary.analysis.task_names import ModuleNames, is_link, module_name, task_names
from celery_boundary.analysis.django_settings import SettingsFacts, settings_facts
from celery_boundary.analysis.transactions import ViewLaunch, imports_celery, view_launches
from celery_boundary.analysis.uses import NameRef, Use, module_uses, name_references, schedule_entries

_DOTTED: Final = re.compile(r"[A-Za-z_][\w.]*")


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
    #: The task never reads the result a receiving link, or the failure an error callback, is handed
    #: (``analysis.task_input``): no CB202 for such a use.
    ignores_result: bool = False
    ignores_failure: bool = False


@dataclass(frozen=True)
class ModuleFacts:
    path: str
    module: str
    #: Public function tasks the module defines (private ones cannot be CB202).
    tasks: tuple[TaskFacts, ...]
    #: Every use of a task-like name, its target made absolute (``pkg.tasks.total``).
    uses: tuple[Use, ...]
    #: String constants that look like dotted names (task names in send_task, beat entries).
    strings: frozenset[str]
    #: Registered names (``module.function`` and ``name=``) of tasks whose options set ``expires``.
    expiring: frozenset[str] = frozenset()
    #: (line, registered task name) of each beat entry with a literal "task" (for CB401).
    beat_entries: tuple[tuple[int, str], ...] = ()
    #: The name every task of the module (public or not, class, nested) is registered under
    #: (``analysis.task_names``), with the other names a script module registers them under.
    registered: frozenset[str] = frozenset()
    #: False when a task's name is computed at run time (``name=settings.X``): not every name is known.
    names_known: bool = True
    #: Literal task names the module sends, signs, looks up or schedules (``uses.name_references``).
    name_refs: tuple[NameRef, ...] = ()
    #: The beat scheduler the module configures (``analysis.schedulers``), or None.
    scheduler: str | None = None
    #: Beat entries and ``add_periodic_task`` calls whose options state an expiry, with their
    #: source line (CB401 across modules: whether it survives depends on the project's scheduler).
    expiry_sites: tuple[tuple[ExpirySite, str], ...] = ()
    #: What the module says about Django's databases and settings module (CB206, ATOMIC_REQUESTS).
    settings: SettingsFacts = SettingsFacts()
    #: Launches in views with no transaction of their own, with their source line (CB206 when the
    #: project's settings set ATOMIC_REQUESTS).
    view_launches: tuple[tuple[ViewLaunch, str], ...] = ()
    #: The module imports celery (CB206: a project that imports it nowhere sends no Celery task).
    imports_celery: bool = False


def roots_of(paths: Iterable[Path], names: ModuleNames | None = None) -> frozenset[str]:
    """The top-level packages (or modules) of the checked files: where a project task can live.
    Files of one folder inside a package share its top-level package: one is asked per folder."""
    names = names or ModuleNames()
    roots: set[str] = set()
    packaged: set[str] = set()
    for path in paths:
        folder = os.path.dirname(path)
        if folder in packaged and not is_link(path):
            continue
        name = names(path)
        roots.add(name.split(".")[0])
        if "." in name or path.name == "__init__.py":
            packaged.add(folder)
    return frozenset(roots)


def summarize(index: ModuleIndex, path: Path, shown: str, lines: Sequence[str],
              silenced: Callable[[int], bool] = lambda line: False,
              roots: frozenset[str] = frozenset()) -> ModuleFacts:
    """The module's public tasks and every use of a task-like name (``analysis.uses``).
    ``roots``: the project's top-level packages; names imported from anywhere else are not followed."""
    module = module_name(path)
    tasks = tuple(
        TaskFacts(f"{module}.{task.name}", task.name, getattr(task.node, "lineno", 1),
                  getattr(task.node, "col_offset", 0) + 1, _line(lines, getattr(task.node, "lineno", 1)),
                  task.task_name, silenced(getattr(task.node, "lineno", 1)),
                  _end_line(task.node), ignores_input(task), ignores_input(task, errback=True))
        for task in index.tasks.values() if not task.private and not task.is_class
    )
    is_package = path.name == "__init__.py"
    uses = []
    for use in module_uses(index, roots):
        dotted = _absolute(use.target, module, is_package)
        if dotted is not None:
            uses.append(Use(dotted, use.kind, use.line))
    strings = frozenset(s for s in index.strings if _DOTTED.fullmatch(s))
    expiring = frozenset(
        name for task in index.tasks.values() if "expires" in task.options
        for name in (f"{module}.{task.name}", task.task_name) if name
    )
    named = task_names(index, module)
    registered = frozenset(n for task in named for n in (task.name, *task.also) if n is not None)
    sites = tuple((site, _line(lines, site.line)) for site in expiry_sites(index))
    entries = [*schedule_entries(index), *_periodic_task_targets(index, module, is_package)]
    return ModuleFacts(shown, module, tasks, tuple(uses), strings, expiring, tuple(entries),
                       registered, all(task.name is not None for task in named), tuple(name_references(index)),
                       module_scheduler(index), sites, _settings(index, module, is_package),
                       tuple((launch, _line(lines, launch.line)) for launch in view_launches(index)),
                       imports_celery(index))


def _settings(index: ModuleIndex, module: str, is_package: bool) -> SettingsFacts:
    """The module's settings facts, with its star imports made absolute."""
    found = settings_facts(index)
    stars = tuple(s for s in (_absolute(star, module, is_package) for star in found.star_imports) if s)
    return SettingsFacts(found.databases, found.atomic_requests, found.settings_modules, stars)


class Project:
    """Every module's facts combined once: the project's public tasks, who uses each, and which
    modules name each in a string."""

    def __init__(self, modules: Iterable[ModuleFacts]) -> None:
        self.modules = list(modules)
        #: Registered-by-default name (``module.function``) -> (home module, task).
        self.tasks = {task.dotted: (module, task) for module in self.modules for task in module.tasks}
        #: Task -> (module, use) for every use of it anywhere.
        self.uses: dict[str, list[tuple[ModuleFacts, Use]]] = {}
        for module in self.modules:
            for use in module.uses:
                if use.target in self.tasks:
                    self.uses.setdefault(use.target, []).append((module, use))
        self._naming = _strings_by_last_part(self.modules)
        self._scheduler: tuple[str | None] | None = None

    def kinds(self, dotted: str) -> set[str]:
        """How the project uses the task, every module together."""
        return {use.kind for _, use in self.uses.get(dotted, ())}

    def uses_elsewhere(self, dotted: str, home: ModuleFacts) -> list[tuple[ModuleFacts, Use]]:
        return [(module, use) for module, use in self.uses.get(dotted, ()) if module.module != home.module]

    def naming_modules(self, task: TaskFacts, home: str) -> set[str]:
        """Modules with a string that names the task: a dotted path ending in its name, its ``name=``,
        or (in its own module only, as the per-module rules read it) the bare name: elsewhere a bare
        "total" is far more often a dict key than a task name."""
        modules = set(self._naming.get("." + task.name, ()))
        if task.explicit_name:
            modules |= self._naming.get(task.explicit_name, set())
        if home in self._naming.get(task.name, ()):
            modules.add(home)
        return modules

    def registered(self) -> frozenset[str]:
        """Every name a task of the project is registered under."""
        return frozenset().union(*(module.registered for module in self.modules))

    def names_known(self) -> bool:
        """Every task's registered name is written literally (none computed at run time)."""
        return all(module.names_known for module in self.modules)

    def expiring(self) -> frozenset[str]:
        """Registered names of tasks whose decorator sets ``expires``, in any module."""
        return frozenset().union(*(module.expiring for module in self.modules)) if self.modules else frozenset()

    def scheduler(self) -> str | None:
        """The beat scheduler the project runs, from its modules and its deployment files (Procfile,
        compose files, ... in the folder holding every module, or the repository around it)."""
        if self._scheduler is None:
            deployed = deploy_scheduler(self.root()) if self.modules else None
            self._scheduler = (combine([m.scheduler for m in self.modules if m.scheduler] +
                                       ([deployed] if deployed else [])),)
        return self._scheduler[0]

    def atomic_requests(self) -> tuple[str, int] | None:
        """(path, line) where the settings the project runs with set ``ATOMIC_REQUESTS`` on a
        database, or None. The settings: the modules ``DJANGO_SETTINGS_MODULE`` names in any module
        (``os.environ.setdefault`` in manage.py, wsgi.py, the Celery app module), or, when it names none
        of the checked modules, every module that assigns ``DATABASES``; each with the modules it
        star-imports (``from .base import *``), followed."""
        named = {name for m in self.modules for name in m.settings.settings_modules}
        chosen = [m for m in self.modules if any(_same_module(m.module, name) for name in named)]
        if not chosen:
            chosen = [m for m in self.modules if m.settings.databases]
        seen: set[str] = set()
        while chosen:
            module = chosen.pop()
            if module.module in seen:
                continue
            seen.add(module.module)
            if module.settings.atomic_requests:
                return module.path, module.settings.atomic_requests
            stars = module.settings.star_imports
            chosen.extend(m for m in self.modules if any(_same_module(m.module, star) for star in stars))
        return None

    def root(self) -> Path:
        """The repository around the modules (the folder with ``.git``), else their common folder."""
        # A relative path is as ``check`` shows it: already resolved, relative to the working directory.
        folders = {os.path.dirname(m.path) or "." if not os.path.isabs(m.path) else str(Path(m.path).resolve().parent)
                   for m in self.modules}
        common = Path(os.path.commonpath([str(Path(folder).resolve()) for folder in folders]))
        return next((folder for folder in (common, *common.parents) if (folder / ".git").exists()), common)


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


def _same_module(module: str, name: str) -> bool:
    """``settings.common`` named, ``settings.common`` or ``src.settings.common`` checked (the
    checked module's name depends on where the walk found its package root)."""
    return module == name or module.endswith("." + name) or name.endswith("." + module)


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


def _periodic_task_targets(index: ModuleIndex, module: str, is_package: bool) -> list[tuple[int, str]]:
    """``add_periodic_task(schedule, refresh)`` with a task object: (line, the task's default name)."""
    found = []
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        if isinstance(call.func, ast.Attribute) and call.func.attr == "add_periodic_task" and len(call.args) > 1:
            dotted = _absolute(index.resolve(call.args[1], site), module, is_package)
            if dotted is not None:
                found.append((call.lineno, dotted))
    return found


def _end_line(node: object) -> int:
    end: int | None = getattr(node, "end_lineno", None)
    return end if end is not None else int(getattr(node, "lineno", 1))


def _line(lines: Sequence[str], number: int) -> str:
    return lines[number - 1] if 0 < number <= len(lines) else ""
