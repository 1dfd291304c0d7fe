"""Which beat scheduler a project runs (CB401): the one setting a module gives
(``beat_scheduler`` / ``CELERY_BEAT_SCHEDULER`` / ``CELERYBEAT_SCHEDULER`` assigned, passed to
``Celery(...)`` or ``conf.update(...)``, a settings dict key) and the ``celery beat -S/--scheduler``
option in the project's Procfile, compose files, pyproject, systemd units and shell scripts.

What matters is whether it is django-celery-beat's ``DatabaseScheduler``: it copies ``beat_schedule``
entries into ``PeriodicTask`` rows, which have no column for ``options["expires"]`` (dropped) but
keep ``options["expire_seconds"]``; celery's own schedulers pass ``options`` to ``apply_async`` as
given and ignore ``expire_seconds`` (django-celery-beat 2.9, celery 5.7:
tests/truth/test_beat_expiry.py).
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re
from dataclasses import dataclass
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from celery_boundary.analysis.index import ModuleIndex, Site

#: django-celery-beat's DatabaseScheduler (or a class named after it).
DATABASE: Final = "database"
#: celery's own ``PersistentScheduler`` / ``Scheduler``: options as given, expire_seconds ignored.
CELERY: Final = "celery"
#: Any other scheduler (redbeat, a project's own): options as given as far as is known.
OTHER: Final = "other"

_SETTING: Final = re.compile(r"(?:CELERY_?)?BEAT_?SCHEDULER|beat_scheduler", re.IGNORECASE)
# ``celery -A proj beat -S django``, ``--scheduler=django_celery_beat.schedulers:DatabaseScheduler``
_OPTION: Final = re.compile(r"(?:^|\s)(?:-S|--scheduler)(?:=|\s+)['\"]?([\w.:]+)")
_DEPLOY_GLOBS: Final = ("Procfile*", "*compose*.y*ml", "pyproject.toml", "*.service", "*.sh", "Makefile",
                        "*.conf", "*.ini")
#: One pattern for every glob: a file's name is tested once (``check`` lists thousands of files).
_DEPLOY_NAME: Final = re.compile("|".join(fnmatch.translate(glob) for glob in _DEPLOY_GLOBS))
_MAX_DEPTH: Final = 3
_MAX_BYTES: Final = 256_000


def kind_of(value: str) -> str:
    """The kind of scheduler a ``beat_scheduler`` value or ``-S`` argument names (``django`` is
    django-celery-beat's entry point alias for DatabaseScheduler)."""
    name = re.split(r"[.:]", value)[-1]
    if value == "django" or name == "DatabaseScheduler":
        return DATABASE
    if value.startswith("celery.beat") and name in ("PersistentScheduler", "Scheduler"):
        return CELERY
    return OTHER


def combine(kinds: Iterable[str]) -> str | None:
    """One kind for several mentions: the database scheduler wins (any deployment that runs it drops
    ``options['expires']``), else celery's when only celery's is named, else another, else None."""
    found = set(kinds)
    for kind in (DATABASE, OTHER, CELERY):
        if kind in found:
            return kind
    return None


def module_scheduler(index: ModuleIndex) -> str | None:
    """The scheduler the module itself configures, or None when it says nothing."""
    return combine(kind_of(value) for value in _module_values(index))


def _module_values(index: ModuleIndex) -> Iterator[str]:
    for site in index.assigns:
        node = site.node
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(_is_setting(_target_name(target)) for target in targets):
            yield from _strings(node.value)
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        for kw in call.keywords:
            if kw.arg is not None and _is_setting(kw.arg):
                yield from _strings(kw.value)
        yield from _strings_of_command(call)
    for site in index.dicts:
        node = site.node
        assert isinstance(node, ast.Dict)
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and _is_setting(key.value):
                yield from _strings(value)


def _strings_of_command(call: ast.Call) -> list[str]:
    """``subprocess.run(["celery", "beat", "-S", "django"])`` and the like: a literal argument list."""
    if not call.args or not isinstance(call.args[0], (ast.List, ast.Tuple)):
        return []
    words = [e.value for e in call.args[0].elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return command_schedulers(" ".join(words)) if "beat" in words else []


def _is_setting(name: str | None) -> bool:
    # Every spelling ends in "scheduler": the pattern runs only on names that do (every keyword
    # argument of every call is asked).
    return name is not None and name[-9:].lower() == "scheduler" and _SETTING.fullmatch(name) is not None


def _target_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
        value = target.slice.value
        return value if isinstance(value, str) else None
    return None


def _strings(expr: ast.expr) -> Iterator[str]:
    """A literal value, or the literal defaults of an environment look-up (``env(..., default=...)``)."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and not _is_setting(node.value):
            yield node.value


def command_schedulers(text: str) -> list[str]:
    """The ``-S`` / ``--scheduler`` arguments of ``celery ... beat`` commands in a text (one line at
    a time; a worker started with ``--beat`` runs beat too)."""
    found: list[str] = []
    for line in text.splitlines():
        if "beat" in line and "celery" in line.lower():
            found.extend(match.group(1) for match in _OPTION.finditer(line))
    return found


def deploy_scheduler(root: Path) -> str | None:
    """The scheduler the project's deployment files start beat with, or None."""
    kinds: list[str] = []
    for path in deploy_files(root):
        try:
            if path.stat().st_size > _MAX_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        kinds.extend(kind_of(value) for value in command_schedulers(text))
    return combine(kinds)


_MARKERS: Final = (".git", "pyproject.toml", "setup.cfg", "setup.py", "Procfile", "manage.py")
_MAX_ENTRIES: Final = 5000


def deploy_files(root: Path) -> Iterator[Path]:
    """The deployment files under a project's root (a folder with a repository or packaging marker:
    ``check`` over site-packages or ``/`` reads none), a bounded walk."""
    if not any((root / marker).exists() for marker in _MARKERS):
        return
    pending = [(str(root), 0)]
    seen = 0
    while pending and seen < _MAX_ENTRIES:
        folder, depth = pending.pop()
        try:
            with os.scandir(folder) as found:
                children = sorted(found, key=lambda entry: entry.name)
        except OSError:
            continue
        for child in children:
            seen += 1
            name = child.name
            if name.startswith(".") and name != ".github" or name in ("node_modules", "site-packages", "__pycache__"):
                continue
            try:
                is_dir = child.is_dir(follow_symlinks=False)
            except OSError:  # unreadable (a /proc entry, a broken mount)
                continue
            if is_dir:
                if depth < _MAX_DEPTH:
                    pending.append((child.path, depth + 1))
            elif _DEPLOY_NAME.match(name):
                yield Path(child.path)


#: The two ways an entry states its expiry in its options.
EXPIRES: Final = "expires"
EXPIRE_SECONDS: Final = "expire_seconds"


@dataclass(frozen=True)
class ExpirySite:
    """A beat entry or ``add_periodic_task`` call whose options state an expiry, and with which keys:
    whether it survives depends on the scheduler."""

    line: int
    #: 1-based.
    column: int
    #: How a message names the entry: its key or ``name=`` quoted, else ``for task 'pkg.mod.name'``.
    label: str
    keys: frozenset[str]
    #: The task's registered name when written literally (a decorator's ``expires=`` survives).
    task: str | None = None


def expiry_sites(index: ModuleIndex) -> list[ExpirySite]:
    """Every beat entry (``{"task": ..., "schedule": ..., "options": {...}}``, ``dict(...)``) and
    ``add_periodic_task(..., expires=/expire_seconds=)`` whose options literally hold ``expires`` or
    ``expire_seconds``; reported at the entry's key when it sits in a schedule dict."""
    found: list[ExpirySite] = []
    for node, task in beat_entries(index):
        options = _field(node, "options")
        keys = frozenset(_option_keys(options)) if options is not None else frozenset()
        if not keys:
            continue
        anchor: ast.AST = node
        label = f"for task {_string(task)!r}"
        holder = index.parent(node)
        if isinstance(holder, ast.Dict):
            key = next((k for k, v in zip(holder.keys, holder.values) if v is node and k is not None), None)
            if key is not None:
                anchor, label = key, repr(_string(key)) if _string(key) is not None else label
        found.append(ExpirySite(getattr(anchor, "lineno", 1), getattr(anchor, "col_offset", 0) + 1, label, keys,
                                _string(task)))
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        if isinstance(call.func, ast.Attribute) and call.func.attr == "add_periodic_task":
            keys = frozenset(kw.arg for kw in call.keywords if kw.arg in (EXPIRES, EXPIRE_SECONDS))
            if keys:
                name = next((_string(kw.value) for kw in call.keywords if kw.arg == "name"), None)
                found.append(ExpirySite(call.lineno, call.col_offset + 1,
                                        repr(name) if name else "made by add_periodic_task", keys))
    return found


def beat_entries(index: ModuleIndex) -> Iterator[tuple[ast.expr, ast.Constant]]:
    """Each beat entry (a dict literal or ``dict(...)`` with ``schedule`` and a literal ``task``) and
    its task name's literal."""
    for site in index.dicts:
        node = site.node
        assert isinstance(node, ast.Dict)
        fields = {k.value: v for k, v in zip(node.keys, node.values)
                  if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        task = fields.get("task")
        if "schedule" in fields and isinstance(task, ast.Constant) and isinstance(task.value, str):
            yield node, task
    for site in index.calls:
        call = site.node
        assert isinstance(call, ast.Call)
        if isinstance(call.func, ast.Name) and call.func.id == "dict":
            fields = {kw.arg: kw.value for kw in call.keywords if kw.arg}
            task = fields.get("task")
            if "schedule" in fields and isinstance(task, ast.Constant) and isinstance(task.value, str):
                yield call, task


def _field(entry: ast.expr, name: str) -> ast.expr | None:
    if isinstance(entry, ast.Dict):
        return next((v for k, v in zip(entry.keys, entry.values) if _string(k) == name), None)
    if isinstance(entry, ast.Call):
        return next((kw.value for kw in entry.keywords if kw.arg == name), None)
    return None


def _option_keys(options: ast.expr) -> Iterator[str]:
    if isinstance(options, ast.Dict):
        keys: Iterable[str | None] = (_string(k) for k in options.keys)
    elif isinstance(options, ast.Call) and isinstance(options.func, ast.Name) and options.func.id == "dict":
        keys = (kw.arg for kw in options.keywords)
    else:
        return
    for key in keys:
        if key in (EXPIRES, EXPIRE_SECONDS):
            yield key


def _string(expr: ast.expr | None) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return None


PERIODIC_MODEL: Final = "django_celery_beat.models.PeriodicTask"
CRONTAB_MODEL: Final = "django_celery_beat.models.CrontabSchedule"


def beat_model(index: ModuleIndex, model: ast.expr, site: Site) -> str | None:
    """The django-celery-beat model (``PERIODIC_MODEL``, ``CRONTAB_MODEL``, ...) an expression names:
    imported, or looked up as a data migration does (``apps.get_model("django_celery_beat",
    "PeriodicTask")``, directly or through a variable of the same function)."""
    resolved = index.resolve(model, site)
    if resolved is not None and resolved.startswith("django_celery_beat.models."):
        return resolved
    if isinstance(model, ast.Name) and site.scopes:
        for node in ast.walk(site.scopes[-1]):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == model.id
                                                    for t in node.targets):
                return _get_model(node.value)
        return None
    return _get_model(model)


def _get_model(expr: ast.expr) -> str | None:
    if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "get_model"):
        return None
    # ``get_model(app_label, model_name=None)``, positional or by keyword (django.apps.apps, or the
    # historical registry a data migration receives).
    words = [_string(arg) for arg in expr.args]
    given = {kw.arg: _string(kw.value) for kw in expr.keywords if kw.arg in ("app_label", "model_name")}
    if "app_label" in given and not words:
        words = [given["app_label"]]
    if "model_name" in given and len(words) == 1:
        words.append(given["model_name"])
    if words[:1] == ["django_celery_beat"] and len(words) == 2 and words[1]:
        return f"django_celery_beat.models.{words[1]}"
    if len(words) == 1 and words[0] and words[0].startswith("django_celery_beat."):
        return f"django_celery_beat.models.{words[0].split('.', 1)[1]}"
    return None
