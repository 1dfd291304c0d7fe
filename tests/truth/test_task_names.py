"""The registered names ``analysis.task_names`` computes are the keys of a real ``app.tasks``.

Each project's modules are imported in a fresh interpreter with the project's folder first on
``sys.path`` (Django set up when the app module names a settings module); every ``Celery`` instance
found in the imported modules is asked for its tasks (which finalizes it, so ``shared_task`` tasks
are registered too), Celery's own ``celery.*`` tasks left out.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from celery_boundary.analysis.index import build_index
from celery_boundary.analysis.project import Project, summarize
from celery_boundary.analysis.task_names import imported_as, imported_modules, module_name, module_names, task_names

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

_REGISTRY = """
import importlib, json, os, sys
sys.path[:0] = sys.argv[1].split(os.pathsep)
from celery import Celery
first, rest = json.loads(sys.argv[2]), json.loads(sys.argv[3])
loaded = [importlib.import_module(name) for name in first]
if os.environ.get("DJANGO_SETTINGS_MODULE"):
    import django
    django.setup()
loaded += [importlib.import_module(name) for name in rest]
names = set()
for module in loaded:
    for value in vars(module).values():
        if isinstance(value, Celery):
            names |= {name for name in value.tasks.keys() if not name.startswith("celery.")}
print(json.dumps(sorted(names)))
"""


def registered(root: Path, first: list[str], rest: list[str], *more_roots: Path) -> set[str]:
    """The tasks of every app the modules create, imported with ``root`` (and ``more_roots``) first on
    ``sys.path``."""
    path = os.pathsep.join(map(str, (root, *more_roots)))
    done = subprocess.run([sys.executable, "-c", _REGISTRY, path, json.dumps(first), json.dumps(rest)],
                          capture_output=True, text=True, cwd=root)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def computed(paths: list[Path]) -> tuple[set[str], set[str]]:
    """(the names a plain import registers, the names a module run as a script registers too)."""
    names: set[str] = set()
    also: set[str] = set()
    for path in paths:
        index = build_index(ast.parse(path.read_text(encoding="utf-8")))
        for task in task_names(index, module_name(path)):
            assert task.name is not None
            names.add(task.name)
            also.update(task.also)
    return names, also


def python_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*.py") if path.name != "__init__.py")


@pytest.mark.parametrize(("name", "app_module"), [("shop", "shop.celery_app"), ("newsroom", "newsroom.celery")])
def test_the_fixtures_tasks_are_registered_under_the_computed_names(name: str, app_module: str) -> None:
    root = FIXTURES / name
    paths = python_files(root)
    modules = [module_name(path) for path in paths if module_name(path) != app_module]
    names, also = computed(paths)
    assert names == registered(root, [app_module], modules)
    assert not also
    assert "shop.restock" in names or name != "shop", "an explicit name= replaces module.function"


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


GENERATED = {
    "gen/__init__.py": "",
    "gen/celery_app.py": """
        from celery import Celery

        app = Celery("gen", broker="memory://", set_as_current=False)
    """,
    "gen/pkg/__init__.py": "",
    "gen/pkg/sub/__init__.py": "",
    "gen/pkg/sub/deep.py": """
        from celery import Task, shared_task

        from gen.celery_app import app

        QUEUE_NAME = "reports.build"


        @app.task
        def plain(x):
            return x


        @app.task(name="billing.charge")
        def charge(x):
            return x


        @app.task(name=QUEUE_NAME)
        def build(x):
            return x


        @app.task(name="")
        def empty_name(x):
            return x


        @shared_task(bind=True)
        def shared(self, x):
            return x


        def send_impl(x):
            return x


        send = app.task(send_impl)


        class Sync(Task):
            name = "gen.sync"

            def run(self, x):
                return x


        class Unnamed(Task):
            def run(self, x):
                return x


        app.register_task(Sync())
        app.register_task(Unnamed())
    """,
    "gen/factories.py": """
        from celery import shared_task


        def retrying(**options):
            def wrap(function):
                return shared_task(autoretry_for=(OSError,), **options)(function)
            return wrap


        @retrying()
        def fetch(url):
            return url


        @retrying(name="net.fetch_named")
        def fetch_named(url):
            return url
    """,
    # A folder whose name is no identifier holds the importable packages (mayan-edms's layout).
    "my-service/__init__.py": "",
    "my-service/svc/__init__.py": "",
    "my-service/svc/jobs.py": """
        from gen.celery_app import app


        @app.task
        def ping():
            return "pong"
    """,
}


def test_a_generated_project_is_registered_under_the_computed_names(tmp_path: Path) -> None:
    for relative, text in GENERATED.items():
        write(tmp_path, relative, text)
    gen = python_files(tmp_path / "gen")
    names, also = computed(gen)
    assert names == registered(tmp_path, [], [module_name(path) for path in gen])
    assert {"gen.pkg.sub.deep.plain", "billing.charge", "reports.build", "gen.pkg.sub.deep.empty_name",
            "gen.pkg.sub.deep.send_impl", "gen.sync", "gen.pkg.sub.deep.Unnamed", "gen.factories.fetch",
            "net.fetch_named"} <= names
    assert not also
    service = tmp_path / "my-service"
    jobs = service / "svc" / "jobs.py"
    assert module_name(jobs) == "svc.jobs"
    # my-service itself is the folder on sys.path (the app's package copied beside svc).
    write(service, "gen/__init__.py", "")
    write(service, "gen/celery_app.py", GENERATED["gen/celery_app.py"])
    assert computed([jobs])[0] == registered(service, [], ["svc.jobs"]) == {"svc.jobs.ping"}


SCRIPT = """
    import json

    from celery import Celery

    app = Celery("proj", broker="memory://", set_as_current=False)


    @app.task
    def job():
        return 1


    if __name__ == "__main__":
        print(json.dumps(sorted(n for n in app.tasks.keys() if not n.startswith("celery."))))
"""


def test_a_module_run_as_a_script_registers_its_tasks_under_the_apps_main(tmp_path: Path) -> None:
    script = write(tmp_path, "worker_script.py", SCRIPT)
    names, also = computed([script])
    assert names == {"worker_script.job"} == registered(tmp_path, ["worker_script"], [])
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert also == set(json.loads(run.stdout)) == {"proj.job"}


def test_the_project_lists_every_registered_name(tmp_path: Path) -> None:
    for relative, text in GENERATED.items():
        write(tmp_path, relative, text)
    facts = []
    for path in python_files(tmp_path / "gen"):
        index = build_index(ast.parse(path.read_text(encoding="utf-8")))
        facts.append(summarize(index, path, str(path), []))
    project = Project(facts)
    assert project.names_known()
    assert computed(python_files(tmp_path / "gen"))[0] == project.registered()


def test_a_name_computed_at_run_time_is_not_known(tmp_path: Path) -> None:
    path = write(tmp_path, "dyn.py", """
        from celery import shared_task
        from django.conf import settings


        @shared_task(name=settings.TASK_NAME)
        def job():
            pass
    """)
    index = build_index(ast.parse(path.read_text(encoding="utf-8")))
    assert [task.name for task in task_names(index, "dyn")] == [None]
    assert not Project([summarize(index, path, str(path), [])]).names_known()


@pytest.mark.worker
def test_a_message_under_an_unknown_name_is_discarded_and_its_result_is_not_registered() -> None:
    """What CB205's message says: the worker logs 'Received unregistered task', discards the message
    and stores NotRegistered as the result; ``app.tasks[...]`` raises NotRegistered."""
    from celery import Celery
    from celery.contrib.testing.worker import start_worker
    from celery.exceptions import NotRegistered

    app = Celery("names_truth", broker="memory://", backend="cache+memory://", set_as_current=False)
    # The memory transport is process-global: a queue of its own keeps other tests' workers apart.
    app.conf.update(task_default_queue="truth-names", broker_transport_options={"polling_interval": 0.005},
                    worker_hijack_root_logger=False)

    @app.task(name="core.tag")
    def tag(x: int) -> int:
        return x

    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="CRITICAL"):
        assert app.send_task("core.tag", args=(1,)).get(timeout=10) == 1
        with pytest.raises(NotRegistered, match="core.tags"):
            app.send_task("core.tags", args=(1,)).get(timeout=10)
    with pytest.raises(NotRegistered):
        app.tasks["core.tags"]


def _app(main: str) -> str:
    return f"""
        from celery import Celery

        app = Celery("{main}", broker="memory://", set_as_current=False)


        @app.task
        def ping():
            return "pong"
    """


#: Three layouts where the folder above the tasks module's top package decides the name, each project
#: in its own folder of the test's tmp_path (one interpreter imports all three).
LAYOUTS = {
    # A namespace package (no __init__.py in nsjobs), imported from the project folder.
    "ns/nsjobs/tasks.py": _app("ns"),
    "ns/caller.py": "from nsjobs.tasks import ping\n",
    # A folder of scripts: `celery -A worker_tasks worker` run inside scripts/.
    "sc/pyproject.toml": "",
    "sc/scripts/worker_tasks.py": _app("worker_tasks"),
    "sc/scripts/run.py": "from worker_tasks import ping\n",
    # A project folder that is itself a package (mayan-edms's __init__.py beside manage.py and
    # setup.cfg), named like an identifier: it is on sys.path, not part of the name.
    "runs_here/__init__.py": "",
    "runs_here/manage.py": "",
    "runs_here/setup.cfg": "",
    "runs_here/svc/__init__.py": "",
    "runs_here/svc/jobs.py": _app("svc"),
}


def _imported_as(path: Path, root: Path) -> str | None:
    imports = {p: imported_modules(ast.parse(p.read_text())) for p in root.rglob("*.py")}
    return imported_as(path, module_names(path, root), imports)


def test_the_folder_on_sys_path_is_read_from_the_projects_imports(tmp_path: Path) -> None:
    for relative, text in LAYOUTS.items():
        write(tmp_path, relative, text)
    ns, sc, runs_here = tmp_path / "ns", tmp_path / "sc", tmp_path / "runs_here"
    modules = {ns / "nsjobs/tasks.py": _imported_as(ns / "nsjobs/tasks.py", ns),
               sc / "scripts/worker_tasks.py": _imported_as(sc / "scripts/worker_tasks.py", sc),
               runs_here / "svc/jobs.py": _imported_as(runs_here / "svc/jobs.py", runs_here)}
    assert list(modules.values()) == ["nsjobs.tasks", "worker_tasks", "svc.jobs"]
    assert module_names(ns / "nsjobs/tasks.py", ns) == ("tasks", "nsjobs.tasks")
    names = set()
    for path, module in modules.items():
        assert module is not None
        index = build_index(ast.parse(path.read_text()))
        names |= {task.name for task in task_names(index, module)}
    assert names == registered(ns, [], list(modules.values()), sc / "scripts", runs_here) == {
        "nsjobs.tasks.ping", "worker_tasks.ping", "svc.jobs.ping"}
    (ns / "caller.py").unlink()  # nothing says which folder is on sys.path: no name is guessed
    assert _imported_as(ns / "nsjobs/tasks.py", ns) is None
