"""What ``fix --diff`` and ``check`` print around the findings: one patch per file that ``git apply`` and
``patch`` take, the summary line in every format, ``--statistics``, ``--show-source``, colours, the GitLab
Code Quality report, and flake8 and ``check`` agreeing on which rules are on."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main
from celery_boundary.core import rules
from celery_boundary.gate.formats import FORMATS, wants_colour
from celery_boundary.gate.selection import expand

TASKS = '''
from celery import chain, shared_task


@shared_task(serializer="pickle")
def fetch(x):
    return x


@shared_task
def total(x):
    return x


def flow():
    return chain(fetch.s(1), total.s()).delay()
'''
FLOWS = '''
from celery import chain

from app.tasks import fetch, total


def other():
    return chain(fetch.s(2), total.s()).apply_async(serializer="pickle")
'''
SETTINGS = '''
from celery.schedules import crontab

accept_content = ["json", "pickle"]
beat_schedule = {
    "nightly": {"task": "app.tasks.nightly", "schedule": crontab(hour=3), "options": {"expires": 60}},
}
'''


def two_fixes_per_file(root: Path) -> None:
    """Every file is touched twice: tasks.py by CB103 and the CB202 rename, flows.py by the rename's
    import and call and by CB103, settings.py by CB102 and CB402."""
    write(root, "app/__init__.py", "")
    write(root, "app/tasks.py", TASKS)
    write(root, "app/flows.py", FLOWS)
    write(root, "app/settings.py", SETTINGS)


def git(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, text=True, check=False)


@pytest.fixture
def patched(project: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]) -> tuple[
        str, Path, Path]:
    """(the diff ``fix --diff --unsafe-fixes`` prints, a git repository holding the tree before it, the
    project after ``fix --unsafe-fixes`` wrote it)."""
    two_fixes_per_file(project)
    repo = tmp_path_factory.mktemp("repo")
    shutil.copytree(project / "app", repo / "app")
    assert git(repo, "init", "-q").returncode == 0
    assert main(["fix", "--diff", "--unsafe-fixes"]) == 1
    diff = capsys.readouterr().out
    assert main(["fix", "-q", "--unsafe-fixes"]) == 0
    return diff, repo, project


def test_fix_diff_prints_one_patch_per_file_however_many_fixes_touch_it(patched: tuple[str, Path, Path]) -> None:
    diff, _, _ = patched
    headers = [line for line in diff.splitlines() if line.startswith(("--- ", "+++ "))]
    assert headers == ["--- a/app/flows.py", "+++ b/app/flows.py", "--- a/app/settings.py", "+++ b/app/settings.py",
                       "--- a/app/tasks.py", "+++ b/app/tasks.py"]
    assert '-from app.tasks import fetch, total\n+from app.tasks import fetch, _total\n' in diff  # the rename
    assert 'apply_async(serializer="json")' in diff  # and CB103, in the same file's patch
    assert '+accept_content = ["json"]\n' in diff and "crontab(minute=0, hour=3)" in diff


def test_git_apply_takes_the_diff_and_gives_what_fix_writes(patched: tuple[str, Path, Path]) -> None:
    diff, repo, fixed = patched
    check = git(repo, "apply", "--check", "-", stdin=diff)
    assert check.returncode == 0, check.stderr
    assert git(repo, "apply", "-", stdin=diff).returncode == 0
    for name in ("tasks.py", "flows.py", "settings.py"):
        assert (repo / "app" / name).read_text() == (fixed / "app" / name).read_text(), name


def test_patch_takes_the_diff(patched: tuple[str, Path, Path]) -> None:
    if shutil.which("patch") is None:
        pytest.skip("GNU patch is not installed (apt-get install patch); git apply is tested above")
    diff, repo, _ = patched
    dry = subprocess.run(["patch", "-p1", "--dry-run"], cwd=repo, input=diff, capture_output=True, text=True,
                         check=False)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert dry.stdout.count("checking file") == 3


def test_a_diff_made_in_a_subdirectory_applies_there_and_from_the_root_with_directory(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    # Paths are relative to the directory fix runs in, with git's a/ and b/ (ruff's --diff is relative
    # too, without them): git apply and patch -p1 take it there; from the repository root, git apply
    # needs --directory (no one set of paths serves both: patch and git apply reject "..").
    two_fixes_per_file(project / "service")
    repo = tmp_path_factory.mktemp("repo")
    shutil.copytree(project / "service", repo / "service")
    assert git(repo, "init", "-q").returncode == 0
    monkeypatch.chdir(project / "service")
    assert main(["fix", "--diff", "--unsafe-fixes"]) == 1
    diff = capsys.readouterr().out
    assert "--- a/app/tasks.py\n+++ b/app/tasks.py\n" in diff
    assert main(["fix", "-q", "--unsafe-fixes"]) == 0
    assert git(repo / "service", "apply", "--check", "-", stdin=diff).returncode == 0
    if shutil.which("patch") is not None:
        dry = subprocess.run(["patch", "-p1", "--dry-run"], cwd=repo / "service", input=diff, capture_output=True,
                             text=True, check=False)
        assert dry.returncode == 0, dry.stdout
    applied = git(repo, "apply", "--directory=service", "-", stdin=diff)
    assert applied.returncode == 0, applied.stderr
    for name in ("tasks.py", "flows.py", "settings.py"):
        assert (repo / "service/app" / name).read_text() == (project / "service/app" / name).read_text(), name


# --- check: what it says around the report (the stand-in rules: CB101 on `*serializer = "pickle"`,
# CB201 on `_private.delay()`) -------------------------------------------------------------------------

def findings_in_two_files(root: Path) -> None:
    write(root, "app/settings.py", 'import os\ntask_serializer = "pickle"\n')
    write(root, "app/jobs.py", "def go():\n    _cleanup.delay(1)\n    _cleanup.delay(2)\n")


def last_line(text: str) -> str:
    return text.splitlines()[-1]


@pytest.mark.usefixtures("stand_in")
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_summary_line_is_on_stderr_in_every_format(
    project: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    findings_in_two_files(project)
    write(project, "app/clean.py", "x = 1\n")
    assert main(["check", "--format", fmt]) == 1
    captured = capsys.readouterr()
    assert last_line(captured.err) == "celery-boundary: 3 findings in 2 of 3 files"
    assert "findings in" not in captured.out  # the report on stdout stays parseable
    assert main(["check", "-q", "--format", fmt]) == 1
    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("stand_in")
def test_the_summary_line_says_one_finding_and_one_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "settings.py", 'task_serializer = "pickle"\n')
    assert main(["check", "--format", "json"]) == 1
    assert last_line(capsys.readouterr().err) == "celery-boundary: 1 finding in 1 of 1 file"
    write(project, "settings.py", "x = 1\n")
    assert main(["check"]) == 0
    assert last_line(capsys.readouterr().err) == "celery-boundary: 0 findings in 0 of 1 file"


@pytest.mark.usefixtures("stand_in")
def test_the_summary_line_names_the_report_file_and_what_the_baseline_accepted(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    findings_in_two_files(project)
    assert main(["check", "--write-baseline", "baseline.json"]) == 0
    assert last_line(capsys.readouterr().err) == "celery-boundary: wrote 3 accepted findings to baseline.json"
    write(project, "app/new.py", 'result_serializer = "pickle"\n')
    assert main(["check", "--baseline", "baseline.json", "--format", "sarif", "-o", "out.sarif"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert last_line(captured.err) == ("celery-boundary: 1 finding in 1 of 3 files; 3 accepted by the baseline "
                                       "(baseline.json); wrote the sarif report to out.sarif")
    assert '"ruleId": "CB101"' in (project / "out.sarif").read_text()


@pytest.mark.usefixtures("stand_in")
@pytest.mark.parametrize(("removed", "said"), [
    (1, "1 baseline entry in baseline.json no longer occurs (fixed, or the line changed); rewrite the baseline "
        "with --write-baseline to drop it:"),
    (2, "2 baseline entries in baseline.json no longer occur (fixed, or the line changed); rewrite the baseline "
        "with --write-baseline to drop them:"),
])
def test_stale_entries_are_counted_in_good_english(
    project: Path, capsys: pytest.CaptureFixture[str], removed: int, said: str
) -> None:
    findings_in_two_files(project)
    assert main(["check", "-q", "--write-baseline", "baseline.json"]) == 0
    kept = "\n".join(["def go():", *["    _cleanup.delay(1)", "    _cleanup.delay(2)"][removed:], "    pass", ""])
    write(project, "app/jobs.py", kept)
    assert main(["check", "-q", "--baseline", "baseline.json"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == f"celery-boundary: {said}"


@pytest.mark.usefixtures("stand_in")
def test_statistics_count_each_rule_most_frequent_first(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    findings_in_two_files(project)
    assert main(["check", "-q", "--statistics", "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == ["CB201  2  private-task-launched", "CB101  1  pickle-serializer"]
    assert len(json.loads(captured.out)) == 3  # not mixed into the report


@pytest.mark.usefixtures("stand_in")
def test_show_source_puts_the_line_and_a_caret_under_each_finding(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, "jobs.py", "def go():\n\tif True:  _cleanup.delay(1)\n")
    assert main(["check", "-q", "--show-source"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "jobs.py:2:12: CB201 private task _cleanup launched directly",
        "    \tif True:  _cleanup.delay(1)",
        "    \t          ^",  # the tab kept, so the caret sits under the column in any tab width
    ]
    assert main(["check", "-q"]) == 1
    assert len(capsys.readouterr().out.splitlines()) == 1


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("environ", "tty", "expected"), [
    ({}, True, True),
    ({}, False, False),
    ({"CI": "true"}, True, False),  # a CI log is no terminal, whatever the runner's pty says
    ({"NO_COLOR": "1"}, True, False),
    ({"NO_COLOR": ""}, True, True),  # no-color.org: only a non-empty value counts
    ({"FORCE_COLOR": "1"}, False, True),
    ({"FORCE_COLOR": "1", "CI": "true"}, False, True),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, True, False),  # NO_COLOR wins
])
def test_colour_only_on_a_terminal_and_as_the_environment_says(
    environ: dict[str, str], tty: bool, expected: bool
) -> None:
    assert wants_colour(Terminal() if tty else io.StringIO(), environ) is expected


@pytest.fixture
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CI", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("stand_in", "plain_environment")
def test_colours_reach_text_output_only_when_wanted(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    findings_in_two_files(project)
    main(["check", "-q"])
    assert "\033[" not in capsys.readouterr().out  # captured: not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    main(["check", "-q", "--show-source"])
    coloured = capsys.readouterr().out
    assert "\033[1;31mCB101\033[0m" in coloured and "\033[1;31m^\033[0m" in coloured
    assert re.sub(r"\033\[[0-9;]*m", "", coloured).splitlines()[0] == "app/jobs.py:2:5: CB201 private task " \
        "_cleanup launched directly"
    for other in ("json", "github", "gitlab"):
        main(["check", "-q", "--format", other])
        assert "\033[" not in capsys.readouterr().out, other
    main(["check", "-q", "-o", "report.txt"])
    assert "\033[" not in (project / "report.txt").read_text()


# --- GitLab Code Quality --------------------------------------------------------------------------------

@pytest.mark.usefixtures("stand_in")
def test_gitlab_violations_have_every_field_typed_as_gitlab_documents(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    findings_in_two_files(project)
    assert main(["check", "-q", "--format", "gitlab"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert isinstance(report, list) and len(report) == 3
    for violation in report:
        assert isinstance(violation["description"], str) and violation["description"]
        assert isinstance(violation["check_name"], str)
        assert isinstance(violation["fingerprint"], str) and violation["fingerprint"]
        assert violation["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert isinstance(violation["location"]["path"], str)
        begin = violation["location"]["lines"]["begin"]
        assert type(begin) is int and begin >= 1
    assert len({v["fingerprint"] for v in report}) == 3  # the two equal-looking CB201 lines are told apart
    settings = next(v for v in report if v["check_name"] == "CB101")
    assert settings["location"] == {"path": "app/settings.py", "lines": {"begin": 2}}
    assert settings["severity"] == "critical"
    assert settings["description"] == "CB101 pickle executes code on load; use json"


@pytest.mark.usefixtures("stand_in")
def test_gitlab_fingerprints_survive_lines_moving(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    findings_in_two_files(project)
    main(["check", "-q", "--format", "gitlab"])
    before = json.loads(capsys.readouterr().out)
    write(project, "app/jobs.py", '"""Jobs."""\n\n\ndef go():\n    _cleanup.delay(1)\n    _cleanup.delay(2)\n')
    main(["check", "-q", "--format", "gitlab"])
    after = json.loads(capsys.readouterr().out)
    assert [v["location"]["lines"]["begin"] for v in after] != [v["location"]["lines"]["begin"] for v in before]
    assert sorted(v["fingerprint"] for v in after) == sorted(v["fingerprint"] for v in before)


# --- flake8 and check: the same rules on -----------------------------------------------------------------

def flake8_selects(*args: str) -> frozenset[str]:
    """The CB codes flake8's own decision engine selects with these options (no configuration file)."""
    from flake8.main.application import Application
    from flake8.style_guide import Decision

    app = Application()
    app.initialize(["--isolated", *args])
    assert app.guide is not None
    return frozenset(code for code in FLAKE8_CODES if app.guide.decider.decision_for(code) is Decision.Selected)


FLAKE8_CODES = frozenset(rule.code for rule in rules.RULES if rules.Tool.FLAKE8 in rule.tools)


def test_flake8_and_check_turn_on_the_same_rules_by_default() -> None:
    assert flake8_selects() == expand((), ()) & FLAKE8_CODES
    assert "CB301" in flake8_selects() and "CB301" in expand((), ())  # on in both


def test_select_cb_means_every_cb_rule_in_both() -> None:
    assert flake8_selects("--select=CB") == expand(("CB",), ()) & FLAKE8_CODES == FLAKE8_CODES
    assert flake8_selects("--extend-select=CB") == FLAKE8_CODES  # as docs/ci.md says: like check --select CB
    assert flake8_selects() == FLAKE8_CODES  # every rule is on by default


def test_the_documented_way_to_turn_cb301_off_in_both() -> None:
    # docs/ci.md: `extend-ignore = CB301` in flake8, `--ignore CB301` in check.
    assert flake8_selects("--select=E,F,W,CB", "--extend-ignore=CB301") == expand((), ("CB301",)) & FLAKE8_CODES
    assert "CB301" not in expand((), ("CB301",))
