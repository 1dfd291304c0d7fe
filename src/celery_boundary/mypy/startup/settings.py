"""What the plugin knows before it sees any code: configuration, the app module, versions.

Built once when mypy creates the plugin. ``config_data`` is what ``report_config_data`` returns:
mypy's cache fingerprints only this package's entry module, so every input that changes a
verdict (config, celery/kombu/pydantic versions, the app sources read) must be in it.

Start-up phase: the ``Settings`` built here are what every hook is given.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sys
from pathlib import Path
from typing import Any, Final

from mypy.options import Options

from celery_boundary.core import config
from celery_boundary.core.client_contracts import NONE, Contracts, load_contracts
from celery_boundary.core.records import record, replace
from celery_boundary.core.registry import Registration, Registry
from celery_boundary.mypy.startup.appscan import UNDETERMINED, AppFacts, AppVariable, Sources, combine, scan_app
from celery_boundary.mypy.startup.memory import Memory, memory_path
from celery_boundary.mypy.startup.version import VERSION, stamp


@record
class Settings:
    config: config.Config
    app: AppFacts
    registry: Registry
    versions: dict[str, str]
    #: ``registry`` plus the registrations of the module being checked (see ``with_module``).
    local: tuple[Registration, ...] = ()
    #: What the settings were read from, to notice edits between daemon runs.
    watched: tuple[tuple[str, int, int], ...] = ()
    #: One number per loaded configuration: with ``local`` it keys memoized verdicts (memo.py), so
    #: two plugin instances in one process (tests, a restarted daemon) never share an answer.
    generation: int = 0
    #: The app whose serializers judge the task at hand (``for_app``); None: those the apps agree on.
    chosen_app: AppVariable | None = None
    #: Other services' contracts (``contracts = [...]``): tasks sent by name are typed from them.
    contracts: Contracts = NONE

    @property
    def memo_key(self) -> tuple[int, tuple[Registration, ...], str | None]:
        return (self.generation, self.local, self.chosen_app.fullname if self.chosen_app else None)

    def for_app(self, fullname: str | None) -> Settings:
        """The settings for a task made (or sent) by app variable ``fullname``: that app's serializers
        when the project has several apps (``@legacy.task`` publishes with legacy's, celery 5.7);
        these settings otherwise (one app's serializers already are these settings')."""
        if fullname is None or len(self.app.apps) < 2:
            return self
        chosen = next((app for app in self.app.apps if app.fullname == fullname), None)
        return self if chosen is None or chosen == self.chosen_app else replace(self, chosen_app=chosen)

    @property
    def effective_registry(self) -> Registry:
        return self.registry.add(*self.local) if self.local else self.registry

    def with_module(self, registrations: tuple[Registration, ...]) -> Settings:
        return self if registrations == self.local else replace(self, local=registrations)

    def renamed(self, names: dict[str, str]) -> Settings:
        """The registry with classes read from source under an import path (``pydantic.BaseModel``)
        named as mypy names them (``pydantic.main.BaseModel``); a new generation, so no verdict memoized
        under the old names is reused."""
        entries = tuple(replace(entry, fullname=names.get(entry.fullname, entry.fullname))
                        for entry in self.registry.entries)
        return replace(self, registry=Registry(entries), generation=next(_GENERATIONS))

    def with_classes(self, registrations: list[Registration]) -> Settings:
        """Add classes registered by decorator (found in the judged type's metadata)."""
        new = tuple(r for r in registrations if r not in self.local)
        return replace(self, local=self.local + new) if new else self

    @property
    def task_serializer(self) -> str:
        """The configured ``serializer`` key over the app module's (configured or discovered) over json.

        ``appscan.UNDETERMINED`` when the source cannot tell: a name the core does not know, so silence.
        """
        if self.chosen_app is not None:
            return self.config.serializer or self.chosen_app.task_serializer or "json"
        return self.config.serializer or self.app.task_serializer or "json"

    @property
    def result_serializer(self) -> str:
        if self.chosen_app is not None:
            return self.config.result_serializer or self.chosen_app.result_serializer or "json"
        return self.config.result_serializer or self.app.result_serializer or "json"

    @property
    def celery_version(self) -> tuple[int, int]:
        return parse_version(self.versions.get("celery", ""))

    def django_task(self, app: str | None) -> bool:
        """Tasks of app variable ``app`` (None: ``shared_task``, every app) are Celery's ``DjangoTask``:
        the apps are Django projects' with no ``task_cls`` and Celery is 5.4+ (tests/mypy/test_django_tasks.yml)."""
        if self.celery_version < (5, 4) or not self.app.apps:
            return False
        chosen = [found for found in self.app.apps if app is None or found.fullname == app]
        return bool(chosen) and all(found.django_task for found in chosen)

    def config_data(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "plugin": VERSION,
            "versions": self.versions,
            "serializer": self.task_serializer,
            "result_serializer": self.result_serializer,
            "trust_any": cfg.trust_any,
            "lossy": cfg.lossy,
            "preserializers": list(cfg.preserializers),
            "preserializers_with_subclasses": list(cfg.preserializers_with_subclasses),
            "task_decorators": list(cfg.task_decorators),
            "app": list(cfg.apps),
            "app_discovered": list(self.app.discovered),
            "apps": [[app.fullname, app.task_serializer, app.result_serializer] for app in self.app.apps],
            "app_fingerprint": self.app.fingerprint,
            # The documents' content: an edited contract re-checks every module (a warm run agrees).
            "contracts": [list(cfg.contracts), self.contracts.digest],
        }


DISTRIBUTIONS: Final = ("celery", "kombu", "pydantic")
_GENERATIONS: Final = itertools.count(1)


def load_settings(options: Options) -> Settings:
    """Read the configuration next to the mypy config file (else the working directory).

    Raises ``config.ConfigError`` (one line) on a bad configuration.
    """
    start = Path(options.config_file).resolve().parent if options.config_file else Path.cwd()
    cfg = config.load(start=start)
    contracts = load_contracts(cfg)
    roots = search_roots(options, start, cfg)
    # mypy's own cache rules: none with --cache-dir=/dev/null, none read with --no-incremental.
    kept = memory_path(options.cache_dir, f"{start}\0{options.config_file}") if options.incremental else None
    try:
        memory = Memory(kept)
        facts, versions = _read_project(cfg, start, roots, memory)
    except Exception:  # noqa: BLE001 - the memory only saves time: one this code cannot use is ignored
        facts, versions = _read_project(cfg, start, roots, Memory())  # a real failure raises here again
    else:
        memory.save()
    registrations = [
        *(Registration(name, origin="config preserializers") for name in cfg.preserializers),
        *(Registration(name, keeps_subclass=True, origin="config preserializers_with_subclasses")
          for name in cfg.preserializers_with_subclasses),
        *facts.registrations,
    ]
    watched = [*facts.files, *([cfg.source] if cfg.source else []),
               *(str(Path(cfg.source or ".").parent / entry) for entry in cfg.contracts)]
    return Settings(
        cfg,
        facts,
        Registry(tuple(registrations)),
        versions,
        watched=stamp(watched),
        generation=next(_GENERATIONS),
        contracts=contracts,
    )


def _read_project(
    cfg: config.Config, start: Path, roots: list[Path], memory: Memory
) -> tuple[AppFacts, dict[str, str]]:
    if len(cfg.apps) == 1:
        facts = scan_app(cfg.apps[0], roots, memory=memory)
    elif cfg.apps:
        sources = Sources()
        scans = [scan_app(module, roots, sources, memory) for module in cfg.apps]
        facts = combine(scans, AppFacts(), hashlib.sha256(f"apps:{list(cfg.apps)}\n".encode()))
    else:
        facts = discover(start, roots, memory)
    return facts, read_versions(memory)


def discover(start: Path, roots: list[Path], memory: Memory | None = None) -> AppFacts:
    """``app`` unset: find the app module(s) under the config file's folder (see ``discover_app``).

    A failure to read the project gives an undetermined serializer (silence), never a crash.
    """
    from celery_boundary.mypy.startup.discovery import discover_app  # only without ``app``: its walk and regexes

    try:
        return discover_app(start, roots, memory)
    except (OSError, RecursionError, ValueError):
        return AppFacts(UNDETERMINED, UNDETERMINED, fingerprint="discovery failed")


def search_roots(options: Options, start: Path, cfg: config.Config) -> list[Path]:
    roots: list[Path] = []
    source = Path(cfg.source).parent if cfg.source else None
    for folder in (source, start, Path.cwd()):
        if folder is not None:
            roots.extend([folder, folder / "src"])
    roots.extend(Path(p) for p in options.mypy_path)
    unique: list[Path] = []
    for root in roots:
        if root not in unique and root.is_dir():
            unique.append(root)
    return unique


def read_versions(memory: Memory | None = None) -> dict[str, str]:
    """Versions from the ``<name>-<version>.dist-info`` folders on ``sys.path`` (the first folder
    that has one wins, as at import).

    Never imports celery (~150 ms); not even ``importlib.metadata``, whose
    e-mail header parsing cost ~20 ms for three packages here, a real share of a warm mypy run.
    What a folder holds is remembered while its mtime stays (installing or removing a package
    changes it).
    """
    found = {"python": f"{sys.version_info[0]}.{sys.version_info[1]}"}
    for entry in sys.path:
        folder = entry or "."
        here = memory.per_folder("dists", folder, _dists_in) if memory is not None else _dists_in(folder)
        for dist, version in here.items():
            found.setdefault(dist, version)
        if len(found) > len(DISTRIBUTIONS):
            break
    for dist in DISTRIBUTIONS:
        found.setdefault(dist, "absent")
    return found


def _dists_in(folder: str) -> dict[str, str]:
    """{distribution: version} of the DISTRIBUTIONS installed in ``folder`` (the first listed wins)."""
    here: dict[str, str] = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return here
    for name in names:
        if name.endswith(".dist-info"):
            dist, _, version = name[: -len(".dist-info")].partition("-")
            key = dist.lower().replace("_", "-")
            if key in DISTRIBUTIONS and key not in here:
                here[key] = version
    return here


def parse_version(text: str) -> tuple[int, int]:
    parts = text.split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except (ValueError, IndexError):
        return (0, 0)
