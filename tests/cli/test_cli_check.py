"""``celery-boundary check``: discovery, noqa, select/ignore, exit codes and one-line errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cli_helpers import lines_of, write

from celery_boundary.cli import main
from celery_boundary.gate.check import CheckOptions, run_check
from celery_boundary.gate.engine import Progress

pytestmark = pytest.mark.usefixtures("stand_in")

SETTINGS = 'task_serializer = "pickle"\nresult_serializer = "json"\n'


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_clean_tree_exits_0_and_prints_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "app/settings.py", 'task_serializer = "json"\n')
    status, out, _ = run(capsys, "check", "--quiet")
    assert (status, out) == (0, "")


def test_findings_exit_1_in_flake8_text_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "app/settings.py", "import os\n" + SETTINGS)
    write(project, "app/jobs.py", "def go():\n    _cleanup.delay(1)\n")
    status, out, err = run(capsys, "check", "app")
    assert status == 1
    assert lines_of(out) == [
        "app/jobs.py:2:5: CB201 private task _cleanup launched directly",
        "app/settings.py:2:1: CB101 pickle executes code on load; use json",
    ]
    assert "2 findings in 2 of 2 files" in err


def test_an_explicit_file_is_checked(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "settings.py", SETTINGS)
    write(project, "other.py", SETTINGS)
    status, out, _ = run(capsys, "check", "settings.py")
    assert status == 1
    assert lines_of(out) == ["settings.py:1:1: CB101 pickle executes code on load; use json"]


@pytest.mark.parametrize(
    ("comment", "silenced"),
    [
        ("# noqa", True),
        ("# NOQA", True),
        ("# noqa: CB101", True),
        ("# noqa:CB101,CB201", True),
        ("# noqa: CB1", True),  # flake8: a listed prefix covers the codes it starts
        ("# noqa: CB201", False),
        ("# noqa: E501", False),
        ("# type: ignore", False),
    ],
)
def test_noqa_comments_work_as_in_flake8(
    project: Path, capsys: pytest.CaptureFixture[str], comment: str, silenced: bool
) -> None:
    write(project, "settings.py", f'task_serializer = "pickle"  {comment}\n')
    status, out, _ = run(capsys, "check", "-q")
    assert (status, out == "") == (0 if silenced else 1, silenced)


def test_noqa_after_a_multi_line_string_covers_the_statement_as_in_flake8(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # flake8 7.5 maps every line a token spans (a triple-quoted string) to the joined text, but a line
    # break inside brackets ends the physical line: the comment on ")" does not cover "_cleanup.delay(".
    write(project, "jobs.py", """
        def go():
            _cleanup.delay(\"\"\"
                text
            \"\"\")  # noqa: CB201
            _cleanup.delay(
                2,
            )  # noqa: CB201
    """)
    status, out, _ = run(capsys, "check", "-q")
    assert status == 1
    assert lines_of(out) == ["jobs.py:5:5: CB201 private task _cleanup launched directly"]


def test_flake8_noqa_line_skips_the_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "settings.py", "# flake8: noqa\n" + SETTINGS)
    assert run(capsys, "check", "-q")[:2] == (0, "")


def test_select_and_ignore_take_codes_and_prefixes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "both.py", SETTINGS + "_cleanup.delay()\n")
    assert [line.split()[1] for line in lines_of(run(capsys, "check", "-q", "--select", "CB2")[1])] == ["CB201"]
    assert [line.split()[1] for line in lines_of(run(capsys, "check", "-q", "--ignore", "CB201")[1])] == ["CB101"]
    assert run(capsys, "check", "-q", "--select", "CB1,CB2", "--ignore", "CB")[:2] == (0, "")


def test_virtualenvs_build_dirs_and_excluded_patterns_are_skipped(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in (".venv/lib", "build/lib", ".git/hooks", "node_modules/x", "migrations"):
        write(project, f"{folder}/settings.py", SETTINGS)
    write(project, "app/generated_pb2.py", SETTINGS)
    write(project, "app/settings.py", SETTINGS)
    _, out, _ = run(capsys, "check", "-q", "--exclude", "migrations,*_pb2.py")
    assert [line.split(":")[0] for line in lines_of(out)] == ["app/settings.py"]


def test_exclude_patterns_from_the_configuration(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "pyproject.toml", '[tool.celery_boundary]\nexclude = ["legacy", "*/generated/*"]\n')
    for folder in ("legacy", "app/generated", "app"):
        write(project, f"{folder}/settings.py", SETTINGS)
    _, out, _ = run(capsys, "check", "-q")
    assert [line.split(":")[0] for line in lines_of(out)] == ["app/settings.py"]


def test_a_bad_exclude_value_is_a_configuration_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "pyproject.toml", "[tool.celery_boundary]\nexclude = 3\n")
    status, _, err = run(capsys, "check")
    assert status == 2
    assert "[celery_boundary] exclude must be a list of file patterns" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "missing/"], "missing/: no such file or directory"),
        (["check", "--format", "xml"], "unknown format 'xml'; choose one of: text, json, sarif, github"),
        (["check", "--select", "CB999"], "unknown rule code 'CB999'; known codes: celery-unserializable"),
        (["check", "--jobs", "-1"], "--jobs must be 0 (automatic) or a positive number, not -1"),
        (["check", "--jobs", "many"], "argument --jobs/-j: invalid int value: 'many'"),
        (["check", "--baseline", "nowhere.json"], "nowhere.json: cannot read the baseline"),
        (["lint"], "argument command: invalid choice: 'lint'"),
        ([], "the following arguments are required: command"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    write(project, "settings.py", SETTINGS)
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert len(lines_of(err)) == 1
    assert err.startswith("celery-boundary: error: ")
    assert message in err


def test_a_bad_configuration_key_exits_2_naming_the_key(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "pyproject.toml", "[tool.celery_boundary]\nserialiser = 'json'\n")
    write(project, "settings.py", SETTINGS)
    status, out, err = run(capsys, "check")
    assert (status, out) == (2, "")
    assert len(lines_of(err)) == 1
    assert "unknown key 'serialiser' in [celery_boundary]" in err


def test_invalid_toml_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "pyproject.toml", "[tool.celery_boundary\n")
    status, _, err = run(capsys, "check")
    assert status == 2
    assert "is not valid TOML" in err and len(lines_of(err)) == 1


def test_a_file_that_does_not_parse_is_named_and_the_rest_is_checked(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, "broken.py", "def f(:\n")
    write(project, "latin.py", b"x = '\xe9'\n".decode("latin-1"))
    (project / "latin.py").write_bytes(b"x = '\xe9'\n")  # not UTF-8 and no coding cookie
    write(project, "settings.py", SETTINGS)
    status, out, err = run(capsys, "check", "-q")
    assert status == 1
    assert lines_of(out) == [
        "broken.py:1:1: CB001 file not checked: cannot be parsed (line 1): invalid syntax",
        "latin.py:1:1: CB001 file not checked: cannot be read: invalid or missing encoding declaration",
        "settings.py:1:1: CB101 pickle executes code on load; use json",
    ]
    assert "Traceback" not in err
    # --ignore CB001 takes the skips out of the report, never out of sight: one stderr line each.
    status, out, err = run(capsys, "check", "-q", "--ignore", "CB001")
    assert lines_of(out) == ["settings.py:1:1: CB101 pickle executes code on load; use json"]
    assert "broken.py: skipped, cannot be parsed (line 1)" in err
    assert "latin.py: skipped, cannot be read" in err


def test_jobs_spreads_files_over_processes_with_the_same_report(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(40):
        write(project, f"pkg/m{n:02}.py", SETTINGS if n % 3 == 0 else "x = 1\n")
    one = run(capsys, "check", "-q", "--jobs", "1")
    two = run(capsys, "check", "-q", "--jobs", "2")
    assert one[0] == two[0] == 1
    assert one[1] == two[1]
    assert len(lines_of(one[1])) == 14


def test_output_file_receives_the_report(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "settings.py", SETTINGS)
    status, out, _ = run(capsys, "check", "-q", "--format", "json", "--output", "report.json")
    assert (status, out) == (1, "")
    assert '"code": "CB101"' in (project / "report.json").read_text()


def test_no_progress_when_stderr_is_not_a_terminal(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(30):
        write(project, f"m{n}.py", "x = 1\n")
    _, _, err = run(capsys, "check")
    assert "\r" not in err


def test_a_rule_crash_names_the_file_and_checks_the_rest(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery_boundary.gate import engine
    from cli_helpers import stand_in_rules

    def fragile(index, path, config):  # type: ignore[no-untyped-def]
        if path == "odd.py":
            raise ValueError("unexpected node")
        return list(stand_in_rules(index.tree))

    monkeypatch.setattr(engine, "might_apply", lambda text, config: True)
    monkeypatch.setattr(engine, "run_rules", fragile)
    write(project, "odd.py", "x = 1\n")
    write(project, "settings.py", SETTINGS)
    status, out, err = run(capsys, "check", "-q")
    assert status == 1
    assert lines_of(out) == [
        "odd.py:1:1: CB001 file not checked: internal error in the CB rules (ValueError('unexpected node')); "
        "please report it",
        "settings.py:1:1: CB101 pickle executes code on load; use json",
    ]
    assert "Traceback" not in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_and_is_cleared(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    for n in range(30):
        write(project, f"m{n:02}.py", "x = 1\n")
    terminal, out = _Terminal(), io.StringIO()
    assert run_check(CheckOptions(), stdout=out, stderr=terminal) == 0
    shown = terminal.getvalue()
    assert "\r  25/30 files" in shown and "\r  30/30 files" in shown
    assert shown.split("\r")[-2].strip() == ""  # the last progress line is blanked before the summary
    assert out.getvalue() == ""


@pytest.mark.parametrize(("quiet", "ci", "tty"), [(True, None, True), (False, "true", True), (False, None, False)])
def test_no_progress_when_quiet_in_ci_or_off_a_terminal(
    monkeypatch: pytest.MonkeyPatch, quiet: bool, ci: str | None, tty: bool
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    stream = _Terminal() if tty else io.StringIO()
    assert Progress.maybe(30, quiet, stream) is None
