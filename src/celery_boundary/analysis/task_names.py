"""The name each task of a module is registered under in Celery's task registry, computed as Celery
5.7 computes it (``Celery._task_from_fun`` and ``celery.utils.imports.gen_task_name``):

- ``name="..."`` given to the decorator (a literal, or a module constant holding one); an empty name
  counts as none (``name = name or gen_task_name(...)``);
- otherwise ``<module>.<function>``: the function's ``__module__`` (how the module is imported) and
  its ``__name__`` (for ``send = app.task(send_impl)`` that is ``send_impl``, not ``send``);
- a module run as a script is ``__main__``: its tasks are also registered under ``<app main>.<function>``
  when the module creates its app with a literal ``main`` (``Celery("proj")``);
- a task class (``class Sync(Task)``, registered with ``app.register_task(Sync())``): its ``name``
  class attribute, else ``<module>.<class>``.

The module name is what Python imports the file as: the stem under every parent folder that is a
package (has ``__init__.py``), stopping at a folder whose name is not an identifier (``mayan-edms``
cannot be part of an import path, so the project's packages start below it) and at a distribution's or
repository's root (``pyproject.toml``, ``setup.cfg`` or ``.git`` in it: that folder is on ``sys.path``,
so mayan-edms's ``__init__.py`` beside its ``setup.cfg`` makes no package of it).
Namespace packages (a folder without ``__init__.py`` on the way up) are not followed by
``module_name``: the nearest folder above the last ``__init__.py`` is what a project run from its
root imports. Where that is not certain (``module_names``: a folder without ``__init__.py`` that is
no such project folder, as a namespace package or a folder of scripts), ``imported_as`` decides by how
the project's own code imports or names the module, and says nothing when it does not tell.
tests/truth/test_task_names.py compares these names with the keys of a real ``app.tasks``.

Read by ``analysis.project`` (the project's registered names, CB205) and by ``fix`` (a renamed task
keeps its registered name).
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from celery_boundary.analysis.index import ModuleIndex, TaskDef
from celery_boundary.analysis.symbols import APP_CLASS


@dataclass(frozen=True)
class TaskName:
    """A task and the name Celery registers it under."""

    #: The module-level name the task is bound to (or the nested def's name).
    binding: str
    #: The registered name; None when the code does not say it literally (``name=settings.X``).
    name: str | None
    line: int
    #: Other names the same task is registered under when the module runs as ``__main__``.
    also: tuple[str, ...] = ()


#: Files that mark a distribution's or repository's root folder (mayan-edms's root holds an
#: ``__init__.py`` beside its setup.cfg): that folder is on ``sys.path``, never part of a module name.
#: Not ``manage.py`` or ``setup.py``: a package may hold modules of those names (baserow's
#: ``baserow/manage.py`` runs as ``baserow.manage``; tests/truth/test_task_names.py).
PROJECT_FILES: Final = ("pyproject.toml", "setup.cfg", ".git")


#: Whether a path is a symbolic link, remembered during one run of ``check`` or ``fix`` (None outside
#: one: a long-lived process such as dmypy asks the system each time). A run asks it of every file up
#: to four times (its folder, its module, its top-level package, whether it is a named file), and the
#: walk already knows it of every file it lists (``note_plain``: a directory entry's type costs no
#: system call).
_LINKS: list[dict[str, bool] | None] = [None]


def is_link(path: Path | str) -> bool:
    """``os.path.islink(path)``, remembered for the run under way."""
    known = _LINKS[0]
    if known is None:
        return os.path.islink(path)
    key = os.fspath(path)
    found = known.get(key)
    if found is None:
        found = known[key] = os.path.islink(path)
    return found


def note_plain(paths: Iterable[Path | str]) -> None:
    """Files the walk found to be no links (regular files listed by ``os.scandir``), for ``is_link``."""
    known = _LINKS[0]
    if known is not None:
        known.update((os.fspath(path), False) for path in paths)


def remember_links(on: bool) -> None:
    """Start (``on``: with nothing known) or end remembering ``is_link``'s answers."""
    _LINKS[0] = {} if on else None


@functools.lru_cache(maxsize=4096)
def module_name(path: Path) -> str:
    """The dotted name Python imports the file as (see the module docstring)."""
    return module_names(path)[0]


@functools.lru_cache(maxsize=4096)
def module_names(path: Path, root: Path | None = None) -> tuple[str, ...]:
    """Every dotted name the file may be imported as, ``module_name``'s first: then the longer names it
    has when a folder without ``__init__.py`` above its top package is a namespace package (one more
    folder each, up to ``root``, a project folder or a folder whose name is not an identifier)."""
    parts = [] if path.stem == "__init__" else [path.stem]
    try:
        folder = path.resolve().parent
    except (OSError, RuntimeError):  # a link loop (Python 3.11 raises RuntimeError)
        folder = path.absolute().parent
    while _is_package(folder):
        parts.append(folder.name)
        folder = folder.parent
    names = [".".join(reversed(parts)) or path.stem]
    if root is None:
        return tuple(names)
    root = root.resolve()
    while folder != root and root in folder.parents and folder.name.isidentifier() and not _runs_here(folder):
        parts.append(folder.name)
        names.append(".".join(reversed(parts)))
        folder = folder.parent
    return tuple(names)


def _is_package(folder: Path) -> bool:
    return (folder / "__init__.py").is_file() and folder.name.isidentifier() and not _runs_here(folder)


def _runs_here(folder: Path) -> bool:
    return any((folder / marker).exists() for marker in PROJECT_FILES)


def imported_as(path: Path, names: tuple[str, ...], imports: Mapping[Path, frozenset[str]]) -> str | None:
    """Which of ``names`` (``module_names(path, ...)``) the module at ``path`` is imported as: the only
    one, or the only one that the project's code below the folder it would be imported from imports or
    names (``imports``: each file's ``imported_modules``); None when the code does not tell."""
    if len(names) == 1:
        return names[0]
    named = []
    for name in names:
        folder = path.resolve().parents[name.count(".")]  # the folder on sys.path for this name
        if any((name in found or any(s.startswith(name + ".") for s in found))
               for other, found in imports.items() if folder in other.resolve().parents):
            named.append(name)
    return named[0] if len(named) == 1 else None


def imported_modules(tree: ast.Module) -> frozenset[str]:
    """The absolute module names a module imports, and its string constants that are dotted names
    (``include=["proj.tasks"]``, a beat entry's ``"proj.tasks.refresh"``)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value and \
                all(part.isidentifier() for part in node.value.split(".")):
            found.add(node.value)
    return frozenset(found)


def module_in(package: tuple[str, ...], path: Path) -> str:
    """The dotted name of the file ``path`` in ``package`` (the package itself for ``__init__.py``)."""
    stem = path.stem
    return ".".join(package if stem == "__init__" else (*package, stem)) or stem


class ModuleNames:
    """``module_name`` for many files, walking each folder's packages once (thousands of files share
    a few hundred folders)."""

    def __init__(self) -> None:
        self._packages: dict[str, tuple[str, ...]] = {}
        self._names: dict[Path, str] = {}
        self._cwd = os.getcwd()

    def __call__(self, path: Path) -> str:
        name = self._names.get(path)
        if name is None:
            name = self._names[path] = self._name(path)
        return name

    def _name(self, path: Path) -> str:
        if is_link(path):  # the file's own target decides its folder
            return module_name(path)
        folder = os.path.join(self._cwd, os.path.dirname(path) or ".")  # not normalised: "link/.." is not "."
        package = self._packages.get(folder)
        if package is None:
            try:
                real = Path(folder).resolve()
            except (OSError, RuntimeError):
                real = Path(folder)
            package = self._packages[folder] = self._package(real)
        return module_in(package, path)

    def _package(self, folder: Path) -> tuple[str, ...]:
        """The package a resolved folder is (outermost first: its chain of ``__init__.py`` folders, as
        ``module_names`` walks it), each parent folder looked at once."""
        key = "\0real:" + str(folder)
        found = self._packages.get(key)
        if found is None:
            inside = _is_package(folder)
            found = self._packages[key] = (*self._package(folder.parent), folder.name) if inside else ()
        return found


def task_names(index: ModuleIndex, module: str) -> list[TaskName]:
    """Every task the module defines (module-level, nested and classes) with its registered name."""
    main = _script_app_main(index)
    found = []
    for task in index.every_task:
        name = registered_name(index, task, module)
        also: tuple[str, ...] = ()
        if main is not None and name is not None and name.startswith(module + "."):
            also = (f"{main}.{name[len(module) + 1:]}",)
        found.append(TaskName(task.name, name, getattr(task.node, "lineno", 1), also))
    return found


def registered_name(index: ModuleIndex, task: TaskDef, module: str) -> str | None:
    """The name ``task`` is registered under when its module is imported as ``module``."""
    given = task.options.get("name")
    if given is not None:
        explicit = _literal(index, given)
        if explicit is None:
            return None  # a name computed at run time: not known here
        if explicit:
            return explicit
    if task.is_class:
        return f"{module}.{task.name}"
    if task.function is None:
        return None  # ``app.task(imported_function)``: its ``__module__`` is another module's
    return f"{module}.{task.function.name}"


def _literal(index: ModuleIndex, expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Name):
        return index.names.strings.get(expr.id)
    return None


def _script_app_main(index: ModuleIndex) -> str | None:
    """The literal ``main`` of the app this module creates, when the module can run as a script
    (``if __name__ == "__main__":``): its tasks are then registered under that name too."""
    tree = index.tree
    if not any(_is_main_guard(stmt) for stmt in tree.body):
        return None
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            if index.names.resolve(call.func) != APP_CLASS:
                continue
            main = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "main"), None)
            return _literal(index, main) if main is not None else None
    return None


def _is_main_guard(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    sides = [stmt.test.left, *stmt.test.comparators]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)


#: The most edits (insert, delete, substitute, swap two neighbours) between a typo and the name it misspells.
MOST_EDITS: Final = 2


def closest(name: str, registered: frozenset[str]) -> str | None:
    """The registered name ``name`` most likely misspells, or None: at most ``MOST_EDITS`` edits in the
    part that differs and at most a third of that part's length, with the rest equal - the same
    module path and a close last part (``core.tags`` / ``core.tag``) or the same last part and a close
    module path (``shop.task.refresh`` / ``shop.tasks.refresh``)."""
    best: tuple[int, str] | None = None
    prefix, _, last = name.rpartition(".")
    by_prefix, by_last = _by_parts(registered)
    for candidate, edits in (*((c, _close(last, c.rpartition(".")[2])) for c in by_prefix.get(prefix, ())),
                             *((c, _close(prefix, c.rpartition(".")[0])) for c in by_last.get(last, ()))):
        if edits is not None and (best is None or (edits, candidate) < best):
            best = (edits, candidate)
    return best[1] if best else None


@functools.lru_cache(maxsize=8)
def _by_parts(registered: frozenset[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The names by module path and by last part, built once per set (a project has thousands of
    name references and as many tasks)."""
    by_prefix: dict[str, list[str]] = {}
    by_last: dict[str, list[str]] = {}
    for candidate in sorted(registered):
        prefix, _, last = candidate.rpartition(".")
        by_prefix.setdefault(prefix, []).append(candidate)
        by_last.setdefault(last, []).append(candidate)
    return by_prefix, by_last


def _close(typed: str, meant: str) -> int | None:
    edits = edit_distance(typed, meant)
    if edits == 0 or edits > MOST_EDITS or 3 * edits > max(len(typed), len(meant)):
        return None
    return edits


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment: a swap of two neighbours is one edit)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]
