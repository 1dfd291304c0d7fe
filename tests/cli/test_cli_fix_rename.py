"""``celery-boundary fix`` for CB202: a chain-only task becomes private in every module that references
it, scope-aware, keeping its registered name; refused when it cannot be done safely."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main

TASKS = '''
from celery import Celery, shared_task

app = Celery("pkg")


@shared_task
def fetch(x: int) -> list[int]:
    return [x]


@shared_task
def total(counts: list[int]) -> int:
    return sum(counts)
'''

VIEWS = '''
from celery import chain
from pkg import tasks
from pkg.tasks import fetch, total
from . import tasks as t2


def start():
    chain(fetch.s(1), total.s()).delay()
    chain(fetch.s(2), tasks.total.s()).delay()
    chain(fetch.s(3), t2.total.s()).delay()


def shadow(total):
    return total  # a parameter, not the task
'''


@pytest.fixture
def pkg(project: Path) -> Path:
    write(project, "pkg/__init__.py", "")
    write(project, "pkg/tasks.py", TASKS)
    write(project, "pkg/views.py", VIEWS)
    return project


def test_the_task_is_renamed_everywhere_and_keeps_its_wire_name(pkg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fix", "-q"]) == 0
    assert (pkg / "pkg/tasks.py").read_text() == TASKS.lstrip("\n").replace(
        '@shared_task\ndef total(', '@shared_task(name="pkg.tasks.total")\ndef _total(')
    assert (pkg / "pkg/views.py").read_text() == VIEWS.lstrip("\n").replace(
        "import fetch, total", "import fetch, _total").replace(
        "total.s()", "_total.s()")
    assert "return total  # a parameter" in (pkg / "pkg/views.py").read_text()
    assert main(["check", "-q", "--select", "CB"]) == 0  # re-checks clean
    before = {p: p.read_text() for p in (pkg / "pkg").glob("*.py")}
    assert main(["fix", "-q"]) == 0  # a second run changes nothing
    assert before == {p: p.read_text() for p in (pkg / "pkg").glob("*.py")}
    capsys.readouterr()


def test_a_decorator_with_options_gets_the_name_appended(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, "jobs.py", '''
        from celery import Celery, chain

        app = Celery("jobs")


        @app.task(bind=True)
        def fetch(self, x):
            return [x]


        @app.task(bind=True, max_retries=3)
        def total(self, counts):
            return sum(counts)


        def start():
            chain(fetch.s(1), total.s()).delay()
    ''')
    assert main(["fix", "-q"]) == 0
    text = (project / "jobs.py").read_text()
    assert '@app.task(bind=True, max_retries=3, name="jobs.total")\ndef _total(self, counts):' in text
    assert "chain(fetch.s(1), _total.s()).delay()" in text
    capsys.readouterr()


def test_an_explicit_registered_name_is_kept() -> None:
    # The flake8 rule never reports a task with name= (its own decorator string names it), so the
    # codemod is driven directly here.
    import libcst as cst
    from libcst.metadata import MetadataWrapper

    from celery_boundary.codemods.private_task import RenameTask

    source = '@app.task(name="custom.name")\ndef average(counts):\n    return 0\n\n\nsig = average.s()\n'
    transformer = RenameTask("jobs", False, "jobs", "average", "_average")
    after = MetadataWrapper(cst.parse_module(source)).visit(transformer).code
    assert after == '@app.task(name="custom.name")\ndef _average(counts):\n    return 0\n\n\nsig = _average.s()\n'


def test_refused_when_the_private_name_is_taken(pkg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(pkg, "pkg/tasks.py", TASKS + "\n\ndef _total():\n    return 0\n")
    before = (pkg / "pkg/views.py").read_text()
    assert main(["fix"]) == 0
    assert "CB202 not renamed: '_total' is already defined in pkg.tasks" in capsys.readouterr().err
    assert (pkg / "pkg/views.py").read_text() == before
    assert "def total(" in (pkg / "pkg/tasks.py").read_text()


def test_refused_when_a_module_mentions_the_task_in_a_way_the_fix_cannot_follow(
    pkg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(pkg, "pkg/star.py", "from pkg.tasks import *\n\nRECEIVER = total\n")
    assert main(["fix"]) == 0
    assert "pkg/star.py mentions 'total' in a way the fix cannot follow" in capsys.readouterr().err
    assert "def total(" in (pkg / "pkg/tasks.py").read_text()


def test_noqa_keeps_the_name(pkg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(pkg, "pkg/tasks.py", TASKS.replace("def total(counts: list[int]) -> int:",
                                             "def total(counts: list[int]) -> int:  # noqa: CB202"))
    assert main(["fix", "-q"]) == 0
    assert "def total(" in (pkg / "pkg/tasks.py").read_text()
    assert "import fetch, total" in (pkg / "pkg/views.py").read_text()
    capsys.readouterr()


LINKED_HERE = '''
from celery import chain, shared_task


@shared_task
def fetch(x: int) -> list[int]:
    return [x]


@shared_task
def total(counts: list[int]) -> int:
    return sum(counts)


def start():
    chain(fetch.s(1), total.s()).delay()
'''


@pytest.mark.parametrize(("files", "kept"), [
    # A namespace package (no __init__.py in nsjobs) that the app includes from the project folder.
    ({"proj_app.py": 'from celery import Celery\n\napp = Celery("proj", include=["nsjobs.tasks"])\n',
      "nsjobs/tasks.py": LINKED_HERE}, "nsjobs.tasks.total"),
    # A folder of scripts (`celery -A tasks worker` run inside it): its modules import each other by stem.
    ({"pyproject.toml": "", "scripts/tasks.py": LINKED_HERE, "scripts/run.py": "from tasks import fetch\n"},
     "tasks.total"),
    # mayan-edms's layout: the project folder has an __init__.py beside manage.py and setup.cfg and is
    # on sys.path.
    ({"__init__.py": "", "manage.py": "", "setup.cfg": "", "pkg/__init__.py": "", "pkg/tasks.py": LINKED_HERE},
     "pkg.tasks.total"),
    # baserow's layout: a package holding a manage.py module is still a package.
    ({"pyproject.toml": "", "app/__init__.py": "", "app/manage.py": "", "app/tasks.py": LINKED_HERE},
     "app.tasks.total"),
])
def test_the_name_kept_is_the_one_the_project_imports_the_module_as(
    project: Path, files: dict[str, str], kept: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for relative, text in files.items():
        write(project, relative, text)
    assert main(["fix", "-q"]) == 0
    tasks = next(project / relative for relative in files if relative.endswith("tasks.py"))
    assert f'@shared_task(name="{kept}")\ndef _total(' in tasks.read_text(), capsys.readouterr().err


def test_refused_when_nothing_says_which_folder_is_on_sys_path(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, "nsjobs/tasks.py", LINKED_HERE)
    assert main(["fix"]) == 0
    assert ("nsjobs/tasks.py:10: CB202 not renamed: nsjobs has no __init__.py, so the name Celery registers "
            "the task under depends on which folder is on sys.path ('tasks.total' or 'nsjobs.tasks.total')"
            ) in capsys.readouterr().err
    assert "def total(" in (project / "nsjobs/tasks.py").read_text()


def test_celery_a_task_renamed_in_one_folder_does_not_block_its_namesake_in_another(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # celery's own tree: examples/stamping/tasks.py (a folder of scripts) and t/integration/tasks.py (a
    # package) each define a chain-only `xsum`; renaming the first left `_xsum` in a module that only
    # mentions the second's name, which refused the second rename ("'_xsum' is already defined in tasks").
    write(project, "pyproject.toml", "[tool.celery_boundary]\ntest_paths = []\n")  # celery's own tree: all of it
    write(project, "examples/stamping/tasks.py", LINKED_HERE.replace("total", "xsum"))
    write(project, "examples/stamping/revoke.py", "from tasks import fetch\n")
    write(project, "t/__init__.py", "")
    write(project, "t/integration/__init__.py", "")
    write(project, "t/integration/tasks.py", LINKED_HERE.replace("total", "xsum"))
    assert main(["fix"]) == 0
    assert "not renamed" not in capsys.readouterr().err
    assert '@shared_task(name="tasks.xsum")\ndef _xsum(' in (project / "examples/stamping/tasks.py").read_text()
    assert '@shared_task(name="t.integration.tasks.xsum")\ndef _xsum(' in (
        project / "t/integration/tasks.py").read_text()
