"""ONE loader for ``[tool.celery_boundary]`` (pyproject.toml) or ``[celery_boundary]`` (setup.cfg,
mypy.ini), read by every front end. A bad key or value raises ``ConfigError`` with one line that
names the key and what is allowed; callers print it, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Final

from celery_boundary.core.records import field, fields, record

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

SECTION: Final = "celery_boundary"
INI_FILES: Final = ("setup.cfg", "mypy.ini", ".mypy.ini", "tox.ini")


class ConfigError(Exception):
    """One line naming the file, the key and what is allowed."""


@record
class Config:
    #: Dotted module of the Celery app (read for settings and preserializer registrations); a tuple
    #: when several are listed. Read it through ``apps``.
    app: str | tuple[str, ...] | None = None
    #: Overrides the task serializer found in the app configuration.
    serializer: str | None = None
    #: Overrides the result serializer found in the app configuration.
    result_serializer: str | None = None
    #: ``Any`` / ``object`` values are trusted to cross (silence) unless false.
    trust_any: bool = True
    #: Dotted names of types registered with a preserializer in code that is not checked.
    preserializers: tuple[str, ...] = ()
    #: The same, for registrations whose decoder restores the value's own class: subclasses of these
    #: types arrive as themselves.
    preserializers_with_subclasses: tuple[str, ...] = ()
    #: Dotted names of user decorators that create Celery tasks.
    task_decorators: tuple[str, ...] = ()
    #: Dotted names of project functions that schedule a periodic task for their caller, who chooses
    #: ``expires`` (CB401 judges each call); ``check`` finds those it reads by itself.
    periodic_wrappers: tuple[str, ...] = ()
    #: "error" reports values that arrive as another type (celery-lossy); "off" silences them.
    lossy: str = "error"
    #: CB301: the most business logic (decisions, computations, records, filtered queries, fields
    #: set; raw SQL weighs three) a task body may hold before it is reported.
    max_task_logic: int = 6
    #: Serializer names (e.g. a signed pickle registered with kombu) that CB101-CB103 accept on purpose.
    trusted_serializers: tuple[str, ...] = ()
    #: CB205: "near" reports literal task names close to a task of the project (typos); "all" reports
    #: every literal task name that no task of the project is registered under.
    unknown_task_names: str = "near"
    #: fnmatch patterns of files and directories `celery-boundary check` skips (besides .venv, build, ...).
    exclude: tuple[str, ...] = ()
    #: fnmatch patterns of test suites and examples that `check` and `fix` skip when they walk a folder
    #: (a path named on the command line is checked); ``[]`` checks them too. Not ``test``: DefectDojo's
    #: ``dojo/test`` is a Django app of the product (its "Test" model).
    test_paths: tuple[str, ...] = ("tests", "t", "examples", "example", "test_*.py", "*_test.py", "conftest.py")
    #: The folder of `celery-boundary check`'s warm cache, relative to the configuration file's folder
    #: (default: ``.celery_boundary_cache`` in the project root; ``gate/cache.py``).
    cache_dir: str | None = None
    #: Contract documents (``contracts export`` of other services) the project's ``send_task`` /
    #: ``signature`` calls by name are checked against; paths relative to the configuration file's
    #: folder (``core/client_contracts.py``).
    contracts: tuple[str, ...] = ()
    #: Where the configuration came from (None: defaults).
    source: str | None = field(default=None, compare=False)

    @property
    def apps(self) -> tuple[str, ...]:
        """The configured app modules, whether ``app`` names one or a list."""
        if self.app is None:
            return ()
        return (self.app,) if isinstance(self.app, str) else self.app


_FIELDS: Final = {f.name: f for f in fields(Config) if f.name != "source"}
_CHOICES: Final[dict[str, tuple[str, ...]]] = {"lossy": ("error", "off"), "unknown_task_names": ("near", "all")}
_PATTERNS: Final = frozenset({"exclude", "test_paths"})  # lists of fnmatch patterns, not dotted names
_PATHS: Final = frozenset({"contracts"})  # lists of file paths
#: Keys of the size-based CB301, replaced by ``max_task_logic`` when the rule began to weigh business
#: logic rather than count statements (tests/core/test_config.py).
_RETIRED: Final = frozenset({"max_task_statements", "max_task_branches", "max_task_loops", "max_task_depth"})


def parse(table: dict[str, Any], source: str = "<config>") -> Config:
    """Validate a table of raw values (TOML types, or strings from an ini file)."""
    values: dict[str, Any] = {}
    for raw_key, raw in table.items():
        key = raw_key.replace("-", "_")
        if key in _RETIRED:
            raise ConfigError(f"{source}: [{SECTION}] {raw_key} is retired: CB301 weighs the business logic in "
                              "a task body (branches on the data, records built, query clauses), not its size; "
                              "remove it, and set max_task_logic (default 6) to tune CB301")
        if key not in _FIELDS:
            allowed = ", ".join(sorted(_FIELDS))
            raise ConfigError(f"{source}: unknown key {raw_key!r} in [{SECTION}]; allowed keys: {allowed}")
        values[key] = _coerce_apps(raw, source) if key == "app" else _coerce(key, raw, source)
    return Config(**values, source=source)


def _coerce(key: str, raw: Any, source: str) -> Any:
    default = _FIELDS[key].default
    where = f"{source}: [{SECTION}] {key}"
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
            return raw.strip().lower() in ("true", "1", "yes")
        raise ConfigError(f"{where} must be true or false, not {raw!r}")
    if isinstance(default, int):
        try:
            number = int(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or number < 0:
            raise ConfigError(f"{where} must be a whole number >= 0, not {raw!r}")
        return number
    if isinstance(default, tuple):
        items = _as_list(raw)
        if key in _PATHS:
            if items is None or not all(items):
                raise ConfigError(f"{where} must be a list of file paths like 'contracts/billing.json', not {raw!r}")
            return tuple(items)
        if key in _PATTERNS:
            if items is None or not all(items):
                raise ConfigError(f"{where} must be a list of file patterns like 'migrations', not {raw!r}")
            return tuple(items)
        if items is None:
            raise ConfigError(f"{where} must be a list of dotted names, not {raw!r}")
        bad = [item for item in items if not _is_dotted(item)]
        if bad:
            raise ConfigError(f"{where}: {bad[0]!r} is not a dotted name like 'pkg.module.Name'")
        return tuple(items)
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{where} must be a non-empty string, not {raw!r}")
    value = raw.strip()
    if key in _CHOICES and value not in _CHOICES[key]:
        raise ConfigError(f"{where} must be one of {', '.join(_CHOICES[key])}, not {value!r}")
    return value


def _coerce_apps(raw: Any, source: str) -> str | tuple[str, ...]:
    """``app``: one dotted module (``proj.celery`` or ``proj.celery:app``), or a list of them (TOML
    list; ini: comma or newline separated). One name stays a string."""
    where = f"{source}: [{SECTION}] app"
    items = _as_list(raw)
    if not items or not all(items):
        raise ConfigError(f"{where} must be a dotted module name like 'proj.celery' or a list of them, not {raw!r}")
    for item in items:
        if not _is_dotted(item.split(":")[0]):
            raise ConfigError(f"{where} must be a dotted module name like 'proj.celery', not {item!r}")
    if isinstance(raw, str) and len(items) == 1:
        return items[0]
    return tuple(dict.fromkeys(items))


def _as_list(raw: Any) -> list[str] | None:
    if isinstance(raw, str):  # ini files: comma- or newline-separated
        return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        return [item.strip() for item in raw]
    return None


def _is_dotted(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def _find_table(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest pyproject.toml with the table, or ini file with the section, at or above
    ``start``, and the table it holds (each file is parsed once: tomllib is pure Python)."""
    directory = start if start.is_dir() else start.parent
    for folder in (directory, *directory.parents):
        pyproject = folder / "pyproject.toml"
        table = _pyproject_table(pyproject) if pyproject.is_file() else None
        if table is not None:
            return pyproject, table
        for name in INI_FILES:
            candidate = folder / name
            section = _ini_section(candidate) if candidate.is_file() else None
            if section is not None:
                return candidate, section
        if (folder / ".git").exists():
            break
    return None


def load(path: Path | None = None, *, start: Path | None = None) -> Config:
    """Load the configuration from ``path``, or the nearest file at or above ``start`` (cwd)."""
    if path is None:
        found = _find_table((start or Path.cwd()).resolve())
        if found is None:
            return Config()
        path, table = found
        return parse(table, str(path))
    named = _pyproject_table(path) if path.suffix == ".toml" else _ini_section(path)
    return parse(named or {}, str(path))


def _pyproject_table(path: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: is not valid TOML: {exc}") from None
    table = data.get("tool", {}).get(SECTION)
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{SECTION}] must be a table")
    return table


def _ini_section(path: Path) -> dict[str, Any] | None:
    import configparser  # only a project configured in setup.cfg or tox.ini pays for the import

    parser = configparser.ConfigParser(interpolation=None)  # as flake8 reads it: a "%" is a "%"
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}".splitlines()[0]) from None
    if not parser.has_section(SECTION):
        return None
    return dict(parser.items(SECTION))
