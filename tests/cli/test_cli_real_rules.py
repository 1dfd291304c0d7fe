"""The real CB rules through ``check``: the seeded mistakes of fixtures/ are found, exactly; flake8 with
the plugin and ``check`` report the same findings on the same tree; noqa works with real codes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import lines_of, write

from celery_boundary.cli import main
from celery_boundary.core import rules

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PROJECTS = ("shop", "newsroom")
CB_CODES = {rule.code for rule in rules.RULES if rule.code.startswith("CB")}


def expected(project: Path, codes: set[str] = CB_CODES) -> set[tuple[str, int, str]]:
    """(path, line, code) for each ``# expect: CODE`` comment naming one of ``codes``."""
    found = set()
    for path in sorted(project.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.search(r"# expect: ([\w, -]+)$", line)
            for code in (match.group(1).replace(",", " ").split() if match else ()):
                if code in codes:
                    found.add((path.relative_to(project).as_posix(), number, code))
    return found


@pytest.mark.parametrize("name", PROJECTS)
def test_check_finds_exactly_the_seeded_cb_mistakes(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = FIXTURES / name
    monkeypatch.chdir(project)
    status = main(["check", "-q", "--select", "CB", "--format", "json"])
    found = {(f["path"], f["line"], f["code"]) for f in json.loads(capsys.readouterr().out)}
    assert expected(project), "the fixture lost its expectations"
    assert (status, found) == (1, expected(project))


@pytest.mark.parametrize("name", PROJECTS)
def test_check_and_flake8_report_the_same_findings(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = FIXTURES / name
    monkeypatch.chdir(project)
    main(["check", "-q", "--select", "CB"])  # flake8 --select CB: the same rules
    ours = sorted(lines_of(capsys.readouterr().out))
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "CB", "--format", "%(path)s:%(row)d:%(col)d: %(code)s %(text)s", "."],
        cwd=project, capture_output=True, text=True,
    )
    theirs = sorted(line.removeprefix("./") for line in lines_of(done.stdout))
    assert ours and ours == theirs, done.stderr


def test_noqa_silences_a_real_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "celeryconfig.py", """
        task_serializer = "pickle"  # noqa: CB101
        result_serializer = "pickle"  # noqa: CB102
        accept_content = ["json"]
    """)
    assert main(["check", "-q"]) == 1
    out = capsys.readouterr().out
    assert [line.split()[1] for line in lines_of(out)] == ["CB101"]
    assert out.startswith("celeryconfig.py:2:1: CB101 ")


def test_a_file_no_rule_can_match_is_not_even_parsed(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "plain.py", "def f(:\n")  # a syntax error that no CB rule could be about
    write(tmp_path, "config.py", "task_serializer = (\n")
    assert main(["check", "-q"]) == 1  # the file a rule could be about was not checked: CB001 fails the gate
    captured = capsys.readouterr()
    assert captured.out == "config.py:1:1: CB001 file not checked: cannot be parsed (line 1): '(' was never closed\n"
    assert captured.err == ""


def test_check_with_mypy_finds_every_seeded_boundary_mistake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real plugin through ``--mypy``: CB and celery-* codes in one report (mypy's own arg-type
    expectations stay mypy's). A copy, so mypy's cache is not written into fixtures/."""
    project = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", project, ignore=shutil.ignore_patterns(".mypy_cache", "__pycache__"))
    (project / ".git").mkdir()
    monkeypatch.chdir(project)
    status = main(["check", "-q", "--mypy", "--select", "CB,celery-", "--format", "json"])
    found = {(f["path"], _def_line(project / f["path"], f["line"]), f["code"])
             for f in json.loads(capsys.readouterr().out)}
    wanted = expected(project, codes=CB_CODES | {r.code for r in rules.RULES if r.code.startswith("celery-")})
    assert any(code.startswith("celery-") for _, _, code in wanted)
    assert (status, found) == (1, wanted)


def _def_line(path: Path, line: int) -> int:
    """mypy (1.20 / 2.4) reports a decorated function at its first decorator; the fixtures mark the def."""
    lines = path.read_text(encoding="utf-8").splitlines()
    while line <= len(lines) and lines[line - 1].lstrip().startswith("@"):
        line += 1
    return line
