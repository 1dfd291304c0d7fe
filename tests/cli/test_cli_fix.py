"""``celery-boundary fix``: before/after pairs (reviewed by hand), a second run changes nothing, the
result re-checks clean for what was fixable, unsafe fixes wait for --unsafe-fixes, --diff writes
nothing, noqa is honoured, files are replaced atomically."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from celery_boundary.cli import main

PAIRS = Path(__file__).resolve().parent / "fixes"


def place(project: Path, name: str) -> Path:
    target = project / "proj" / "config.py"
    target.parent.mkdir(exist_ok=True)
    shutil.copy(PAIRS / f"{name}_before.py", target)
    return target


@pytest.mark.parametrize(("name", "flags"), [("CB401", []), ("CB401_database", []), ("CB402", []), ("CB10x", ["--unsafe-fixes"])])
def test_fix_turns_before_into_after_and_a_second_run_changes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str], name: str, flags: list[str]
) -> None:
    target = place(project, name)
    assert main(["fix", "-q", *flags]) == 0
    assert target.read_text() == (PAIRS / f"{name}_after.py").read_text()
    assert main(["fix", "-q", *flags]) == 0
    assert target.read_text() == (PAIRS / f"{name}_after.py").read_text()
    capsys.readouterr()


def test_the_fixed_file_re_checks_clean_except_what_has_no_mechanical_fix(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    place(project, "CB401")
    main(["fix", "-q"])
    assert "proj/config.py:19: CB401 not fixed: the fix adds an expiry only to a beat entry or add_periodic_task " \
        "call that states its period in seconds" in capsys.readouterr().err  # named, with why
    assert main(["check", "-q", "--select", "CB401", "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert out.count('"code": "CB401"') == 1 and '"line": 19' in out  # the crontab entry: a human's call


def test_paperless_ngx_signed_pickle_is_named_not_fixed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A serializer the project registers itself (paperless-ngx's HMAC-signed pickle, registered in
    # another module) is flagged by its name; the fix rewrites only pickle itself and says so.
    settings = project / "paperless" / "settings.py"
    settings.parent.mkdir()
    text = ('CELERY_RESULT_SERIALIZER = "signed-pickle"\nCELERY_TASK_SERIALIZER = "signed-pickle"\n'
            'CELERY_ACCEPT_CONTENT = ["application/json", "application/x-signed-pickle"]\n')
    settings.write_text(text)
    assert main(["fix", "--unsafe-fixes"]) == 0
    assert settings.read_text() == text
    err = capsys.readouterr().err
    assert [line.split(" not fixed")[0] for line in err.splitlines() if "not fixed" in line] == [
        "paperless/settings.py:1: CB101", "paperless/settings.py:2: CB101", "paperless/settings.py:3: CB102"]
    assert "a serializer the project registers itself (a signed pickle) is for you to replace with json or to " \
        "list in trusted_serializers" in err


def test_unsafe_fixes_wait_for_the_flag(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = place(project, "CB10x")
    before = target.read_text()
    assert main(["fix"]) == 0
    assert target.read_text() == before
    err = capsys.readouterr().err
    assert "fixed 0 places in 0 files" in err
    assert "8 more findings have unsafe fixes (CB101, CB102, CB103)" in err and "--unsafe-fixes" in err


def test_diff_writes_nothing_and_exits_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = place(project, "CB401")
    before = target.read_text()
    assert main(["fix", "--diff"]) == 1
    captured = capsys.readouterr()
    assert target.read_text() == before
    assert captured.out.startswith("--- a/proj/config.py\n+++ b/proj/config.py\n")
    assert '+        "options": {"expires": 60.0},\n' in captured.out
    assert "would fix 5 places in 1 file\n" in captured.err  # four CB401, one CB402
    assert main(["fix", "--diff", "--select", "CB1"]) == 0  # nothing safe to fix among CB1xx


def test_select_limits_the_fixes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = place(project, "CB10x")
    assert main(["fix", "-q", "--unsafe-fixes", "--select", "CB103"]) == 0
    text = target.read_text()
    assert '@shared_task(serializer="json")' in text and 'serializer = "json"' in text
    assert "task_serializer='pickle'" in text and '"pickle"]' in text
    capsys.readouterr()


def test_the_file_is_replaced_atomically_keeping_its_mode(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = place(project, "CB401")
    target.chmod(0o640)
    inode = target.stat().st_ino
    main(["fix", "-q"])
    assert target.stat().st_ino != inode  # a new file renamed over the old one, not rewritten in place
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["config.py"]  # no temporary left behind
    capsys.readouterr()


def test_fix_imports_libcst_but_check_does_not(project: Path) -> None:
    place(project, "CB401")
    code = ("import sys\nfrom celery_boundary.cli import main\nmain(['{}', '-q'])\n"
            "print('libcst' in sys.modules)\n")
    for command, expected in (("check", "False"), ("fix", "True")):
        done = subprocess.run([sys.executable, "-c", code.format(command)], capture_output=True, text=True,
                              cwd=project)
        assert done.stdout.strip().splitlines()[-1] == expected, done.stderr
