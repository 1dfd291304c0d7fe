"""``fix`` never writes wrong code, ``check`` never crashes or hangs: fixes planned on the text they
change, renames complete or refused, all-or-nothing writes, no traceback and no hang on odd files,
and every file not checked reported as CB001."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main
from celery_boundary.gate import fix as fix_module
from celery_boundary.gate import writes

#: The app module: a project where no module imports celery gets no CB401.
CELERY_APP = "from celery import Celery\n\napp = Celery('proj', config_source='proj.celeryconfig')\n"
SETTINGS_CB102_CB401 = '''
accept_content = [
    "json",
    "pickle",
]
beat_schedule = {
    "quiet": {  # noqa: CB401
        "task": "proj.tasks.quiet",
        "schedule": 30.0,
    },
    "tick": {
        "task": "proj.tasks.tick",
        "schedule": 60.0,
    },
}
'''

TASKS = '''
from celery import shared_task


@shared_task
def fetch(x):
    return [x]


@shared_task
def total(counts):
    return sum(counts)
'''

CHAIN_IN_A_FUNCTION = '''
from celery import chain


def start():
    from pkg.tasks import fetch, total
    chain(fetch.s(1), total.s()).delay()
'''


def run_cli(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The console entry in a child process (a hang is a timeout, not a stuck test run)."""
    return subprocess.run([sys.executable, "-m", "celery_boundary.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


# 1. Fixes computed on the text they change ---------------------------------------------------------


def test_cb401_fix_lands_on_its_entry_after_the_cb102_fix_removed_a_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = write(project, "proj/celeryconfig.py", SETTINGS_CB102_CB401)
    write(project, "proj/celery.py", CELERY_APP)
    assert main(["fix", "-q", "--unsafe-fixes"]) == 0
    text = target.read_text()
    assert '"pickle"' not in text
    tick = text[text.index('"tick"'):]
    quiet = text[text.index('"quiet"'):text.index('"tick"')]
    assert '"options": {"expires": 60.0}' in tick  # the flagged entry, with its own period
    assert "expires" not in quiet  # the noqa one is left alone
    assert text.count("expires") == 1
    assert main(["fix", "-q", "--unsafe-fixes"]) == 0
    assert target.read_text() == text  # a second run changes nothing
    capsys.readouterr()


def test_an_overlapping_fix_is_deferred_with_a_message() -> None:
    from celery_boundary.core.findings import Finding

    source = b'accept_content = [\n    "json",\n    "pickle",\n]\n'
    # Two findings on a line the first fix removes: the second cannot be placed on the new text.
    found = [Finding("c.py", 1, 1, "CB102", "m"), Finding("c.py", 3, 1, "CB401", "m")]
    result = fix_module.fix_source(source, found)
    assert result.after == b'accept_content = [\n    "json",\n]\n'
    assert [f.code for f in result.deferred] == ["CB401"]


# 2. Renames complete or refused -----------------------------------------------------------------------


CHAIN_AT_MODULE_LEVEL = '''
from celery import chain
from pkg.tasks import fetch, total


def begin():
    chain(fetch.s(2), total.s()).delay()
'''


@pytest.fixture
def pkg(project: Path) -> Path:
    """A chain-only task ``total`` (CB202), used from a module-level import in pkg/top.py."""
    write(project, "pkg/__init__.py", "")
    write(project, "pkg/tasks.py", TASKS)
    write(project, "pkg/top.py", CHAIN_AT_MODULE_LEVEL)
    return project


def test_rename_follows_a_function_local_import_to_its_uses(pkg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    views = write(pkg, "pkg/views.py", CHAIN_IN_A_FUNCTION)
    assert main(["fix", "-q"]) == 0
    assert views.read_text() == CHAIN_IN_A_FUNCTION.lstrip("\n").replace(
        "import fetch, total", "import fetch, _total").replace("total.s()", "_total.s()")
    done = subprocess.run([sys.executable, "-c", "import pkg.views"], cwd=pkg, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    capsys.readouterr()


def test_rename_refused_for_a_getattr_string_naming_the_task(pkg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(pkg, "pkg/views.py", CHAIN_IN_A_FUNCTION + '\n\ndef late():\n    from pkg import tasks\n'
          '    return getattr(tasks, "total")\n')
    before = {p: p.read_text() for p in (pkg / "pkg").glob("*.py")}
    assert main(["fix"]) == 0
    err = capsys.readouterr().err
    assert "CB202 not renamed: pkg/views.py names 'total' in a string (line 11: getattr" in err
    assert before == {p: p.read_text() for p in (pkg / "pkg").glob("*.py")}


def test_rename_refused_when_an_excluded_file_mentions_the_task(
    pkg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(pkg, "pkg/views.py", CHAIN_IN_A_FUNCTION)
    write(pkg, "legacy/jobs.py", "from pkg.tasks import total\n\nRESULT = total.delay\n")
    before = {p: p.read_text() for p in pkg.rglob("*.py")}
    assert main(["fix", "--exclude", "legacy"]) == 0
    err = capsys.readouterr().err
    assert "legacy/jobs.py mentions 'total' (line 1, 3) and is excluded from the run" in err
    assert before == {p: p.read_text() for p in pkg.rglob("*.py")}


@pytest.mark.parametrize("folder", ["outer", "mayan-edms"])
def test_rename_keeps_the_registered_name_celery_computes(
    project: Path, capsys: pytest.CaptureFixture[str], folder: str
) -> None:
    """``outer/`` is a package (``outer.pkg.tasks.total``); ``mayan-edms`` cannot be imported, so the
    packages start below it (``pkg.tasks.total``), as ``analysis.task_names.module_name`` says."""
    (project / folder).mkdir()
    write(project, f"{folder}/__init__.py", "")
    write(project, f"{folder}/pkg/__init__.py", "")
    write(project, f"{folder}/pkg/tasks.py", TASKS)
    package = "pkg.tasks" if folder == "mayan-edms" else "outer.pkg.tasks"
    write(project, f"{folder}/pkg/top.py", CHAIN_AT_MODULE_LEVEL.replace("pkg.tasks", package))
    assert main(["fix", "-q"]) == 0
    expected = "outer.pkg.tasks.total" if folder == "outer" else "pkg.tasks.total"
    assert f'@shared_task(name="{expected}")\ndef _total(' in (project / folder / "pkg/tasks.py").read_text()
    capsys.readouterr()


# 3. All-or-nothing writes ------------------------------------------------------------------------------


def test_multi_file_fix_changes_no_file_when_one_cannot_be_replaced(
    pkg: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(pkg, "pkg/views.py", CHAIN_IN_A_FUNCTION)
    before = {p: p.read_bytes() for p in pkg.rglob("*.py")}
    real_replace = os.replace

    def failing(source: str, target: os.PathLike[str] | str) -> None:
        if Path(target).name == "views.py":
            raise PermissionError(13, "Permission denied")
        real_replace(source, target)

    monkeypatch.setattr(writes.os, "replace", failing)
    assert main(["fix"]) == 2
    err = capsys.readouterr().err
    assert "views.py: cannot write the fix: Permission denied; no file was changed" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert before == {p: p.read_bytes() for p in pkg.rglob("*.py")}
    assert not [p for p in pkg.rglob("*.tmp")]  # no temporary left behind


def test_an_unwritable_folder_is_one_line_and_no_file_changes(
    pkg: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(pkg, "pkg/views.py", CHAIN_IN_A_FUNCTION)
    before = {p: p.read_bytes() for p in pkg.rglob("*.py")}
    real_mkstemp = tempfile.mkstemp

    def no_space(*args: object, **kwargs: object) -> tuple[int, str]:
        if str(kwargs.get("prefix", "")).startswith(".views.py"):
            raise PermissionError(13, "Permission denied")  # root ignores chmod: simulate the folder
        return real_mkstemp(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(tempfile, "mkstemp", no_space)
    assert main(["fix"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "celery-boundary: error: pkg/views.py: cannot write the fix: Permission denied; no file was changed"]
    assert before == {p: p.read_bytes() for p in pkg.rglob("*.py")}


def test_fix_writes_through_a_symlink_keeping_link_mode_and_owner(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = write(project, "shared/celeryconfig.py", SETTINGS_CB102_CB401)
    real.chmod(0o640)
    os.chown(real, 1234, 5678)
    (project / "proj").mkdir()
    link = project / "proj" / "celeryconfig.py"
    link.symlink_to(real)
    write(project, "proj/celery.py", CELERY_APP)
    assert main(["fix", "-q", "proj"]) == 0
    assert link.is_symlink() and '"options": {"expires": 60.0}' in real.read_text()
    status = real.stat()
    assert (status.st_mode & 0o777, status.st_uid, status.st_gid) == (0o640, 1234, 5678)
    capsys.readouterr()


# 4. No traceback, no hang ----------------------------------------------------------------------------


def test_a_fifo_named_py_is_skipped_with_a_message_not_read(project: Path) -> None:
    write(project, "pkg/good.py", "accept_content = ['pickle']\n")
    os.mkfifo(project / "pkg" / "f.py")
    for args in (("check",), ("check", "pkg/f.py"), ("fix", "--unsafe-fixes", "--diff"), ("fix",)):
        done = run_cli(project, *args, timeout=60)
        assert "Traceback" not in done.stderr
        assert "pkg/f.py" in done.stdout + done.stderr and "FIFO" in done.stdout + done.stderr, args


def test_check_one_file_with_a_symlink_loop_elsewhere(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "pkg/good.py", "from celery import shared_task\n")
    (project / "pkg" / "loop.py").symlink_to("loop.py")
    (project / "other").mkdir()
    (project / "other" / "a.py").symlink_to("b.py")
    (project / "other" / "b.py").symlink_to("a.py")
    (project / "pkg" / "dangling.py").symlink_to("nowhere.py")
    assert main(["check", "pkg/good.py"]) == 0
    assert main(["check", "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {(f["path"], f["code"]) for f in out} == {
        ("other/a.py", "CB001"), ("other/b.py", "CB001"), ("pkg/dangling.py", "CB001"), ("pkg/loop.py", "CB001")}


DEEP = {
    "plus_2000": "x = " + "+".join(["a"] * 2000) + "\n",
    "list_150": "x = " + "[" * 150 + "]" * 150 + "\n",
    "plus_50000": "x = " + "+".join(["a"] * 50_000) + "\n",
}


def test_deeply_nested_valid_code_is_a_per_file_message_and_the_rest_is_fixed(project: Path) -> None:
    header = "from celery import shared_task\naccept_content = ['json', 'pickle']\n"
    for name, body in DEEP.items():
        write(project, f"pkg/{name}.py", header + body)
    plain = write(project, "pkg/plain.py", header)
    for args in (("check",), ("fix", "--unsafe-fixes", "--diff"), ("fix", "--unsafe-fixes")):
        done = run_cli(project, *args, timeout=120)
        assert "Traceback" not in done.stderr, (args, done.stderr[-2000:])
    assert "pickle" not in plain.read_text()  # the rest was fixed
    done = run_cli(project, "check")
    assert "pkg/plus_50000.py:1:1: CB001 file not checked: too deeply nested" in done.stdout


def test_a_canvas_chained_deeper_than_the_rules_follow_is_cb001_not_silence(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 700 links: the canvas rules recurse about three frames a link (see tests/flake8/test_flake8_never_crash.py).
    pipe = " | ".join(["t.s(1)"] * 700)
    write(project, "pkg/deep.py", f"from celery import shared_task\n@shared_task\ndef t(x): pass\n"
                                  f"@shared_task\ndef u():\n    ({pipe}).delay()\n")
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # the console's default (mypy's main, if it ran in this process, raises it)
    try:
        assert main(["check"]) == 1
    finally:
        sys.setrecursionlimit(before)
    out = capsys.readouterr().out
    assert "pkg/deep.py:1:1: CB001 file not checked: too deeply nested for the rules (RecursionError)" in out


def test_fix_skips_a_module_larger_than_the_size_guard_and_says_so(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fix_module, "MAX_FIX_BYTES", 1000)
    big = write(project, "pkg/big.py", "accept_content = ['pickle']\n" + "x = 1\n" * 300)
    small = write(project, "pkg/small.py", "accept_content = ['pickle']\n")
    assert main(["fix", "--unsafe-fixes"]) == 0
    err = capsys.readouterr().err
    assert "pkg/big.py: skipped, 0.0 MB is more than fix reads" in err
    assert "pickle" in big.read_text() and "pickle" not in small.read_text()


def test_diff_of_a_latin1_file_is_accepted_by_git_apply(project: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n# caf\xe9\naccept_content = ['pickle']\nNAME = 'r\xe9sum\xe9'\n"
    (project / "pkg").mkdir()
    (project / "pkg" / "conf.py").write_bytes(source.encode("latin-1"))
    subprocess.run(["git", "init", "-q", "."], cwd=project, check=True)
    done = subprocess.run([sys.executable, "-m", "celery_boundary.cli", "fix", "--unsafe-fixes", "--diff"],
                          cwd=project, capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 1, done.stderr
    assert b"\xef\xbf\xbd" not in done.stdout and b"r\xe9sum\xe9" in done.stdout
    (project / "fix.diff").write_bytes(done.stdout)
    check = subprocess.run(["git", "apply", "--check", "fix.diff"], cwd=project, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


# 5. Skips are findings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_an_unparsable_tasks_module_is_cb001_in_every_format(
    project: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    write(project, "pkg/tasks.py", "from celery import shared_task\n\n@shared_task\ndef f(:\n    pass\n")
    assert main(["check", "-q", "--format", fmt]) == 1  # was: [] and exit 0
    out = capsys.readouterr().out
    assert "CB001" in out and "pkg/tasks.py" in out


def test_a_skip_can_be_accepted_in_a_baseline(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "pkg/tasks.py", "from celery import shared_task\n\n@shared_task\ndef f(:\n    pass\n")
    assert main(["check", "-q", "--write-baseline", "baseline.json"]) == 0
    assert main(["check", "-q", "--baseline", "baseline.json"]) == 0
    write(project, "pkg/more.py", "from celery import shared_task\nx = (\n")
    assert main(["check", "-q", "--baseline", "baseline.json"]) == 1
    assert capsys.readouterr().out.startswith("pkg/more.py:2:1: CB001")


def test_app_naming_a_missing_module_is_a_one_line_warning(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "pyproject.toml", '[tool.celery_boundary]\napp = "proj.celery_app"\n')
    write(project, "pkg/tasks.py", "x = 1\n")
    assert main(["check", "-q"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "warning" in err[0] and "app = 'proj.celery_app'" in err[0]
    write(project, "proj/celery_app.py", "")
    assert main(["check", "-q"]) == 0
    assert capsys.readouterr().err == ""
