"""--write-baseline / --baseline: legacy findings are accepted wherever their lines move; only new
findings fail; entries that no longer occur are reported on stderr without failing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_helpers import lines_of, write

from celery_boundary.cli import main

pytestmark = pytest.mark.usefixtures("stand_in")

JOBS = """
def nightly():
    _cleanup.delay(1)
    _cleanup.delay(1)


def hourly():
    _rotate.delay()
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def baselined(project: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    write(project, "app/jobs.py", JOBS)
    write(project, "app/settings.py", 'task_serializer = "pickle"\n')
    status, out, err = run(capsys, "check", "--write-baseline", "baseline.json")
    assert (status, out) == (0, "")
    assert "wrote 4 accepted findings to baseline.json" in err
    return project


def test_the_baseline_file_names_code_path_fingerprint_and_occurrence(baselined: Path) -> None:
    document = json.loads((baselined / "baseline.json").read_text())
    assert document["version"] == 1
    entries = [(e["code"], e["path"], e["occurrence"], e["line"]) for e in document["entries"]]
    assert entries == [
        ("CB201", "app/jobs.py", 0, 2),
        ("CB201", "app/jobs.py", 1, 3),
        ("CB201", "app/jobs.py", 0, 7),
        ("CB101", "app/settings.py", 0, 1),
    ]
    first, second, other = (e["fingerprint"] for e in document["entries"][:3])
    assert first == second != other  # equal lines, equal fingerprints; the occurrence tells them apart


def test_a_baselined_tree_passes(baselined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", "--baseline", "baseline.json") [:2] == (0, "")


def test_findings_moved_down_five_lines_are_still_baselined(baselined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(baselined, "app/jobs.py", "import os\n\n\n# a comment\nimport sys\n" + JOBS.replace("    _", "        _"))
    write(baselined, "app/settings.py", "\n" * 5 + 'task_serializer  =  "pickle"\n')  # spacing is normalised
    status, out, err = run(capsys, "check", "--baseline", "baseline.json")
    assert (status, out) == (0, "")
    assert "no longer occur" not in err


def test_a_new_identical_looking_finding_elsewhere_is_new(baselined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(baselined, "app/more.py", "def weekly():\n    _cleanup.delay(1)\n")
    status, out, _ = run(capsys, "check", "-q", "--baseline", "baseline.json")
    assert status == 1
    assert lines_of(out) == ["app/more.py:2:5: CB201 private task _cleanup launched directly"]


def test_a_third_equal_finding_in_the_same_file_is_new(baselined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(baselined, "app/jobs.py", JOBS + "    _cleanup.delay(1)\n")
    status, out, _ = run(capsys, "check", "-q", "--baseline", "baseline.json")
    assert status == 1
    assert lines_of(out) == ["app/jobs.py:8:5: CB201 private task _cleanup launched directly"]


def test_a_changed_line_is_new_and_its_old_entry_stale(baselined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(baselined, "app/jobs.py", JOBS.replace("_rotate.delay()", "_rotate.delay(force=True)"))
    status, out, err = run(capsys, "check", "-q", "--baseline", "baseline.json")
    assert status == 1
    assert lines_of(out) == ["app/jobs.py:7:5: CB201 private task _rotate launched directly"]
    assert "1 baseline entry in baseline.json no longer occur" in err
    assert "app/jobs.py:7: CB201 private task _rotate launched directly" in err


def test_fixed_findings_are_reported_stale_without_failing(baselined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(baselined, "app/settings.py", 'task_serializer = "json"\n')
    status, out, err = run(capsys, "check", "--baseline", "baseline.json")
    assert (status, out) == (0, "")
    assert "1 baseline entry in baseline.json no longer occur" in err
    assert "  app/settings.py:1: CB101 pickle executes code on load; use json" in err


def test_entries_of_files_not_checked_are_not_stale(baselined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # pre-commit passes the staged files only: the baseline's entries for the others still hold.
    write(baselined, "app/settings.py", 'task_serializer = "json"\n')
    status, out, err = run(capsys, "check", "--baseline", "baseline.json", "app/settings.py")
    assert (status, out) == (0, "")
    assert "1 baseline entry in baseline.json no longer occur" in err  # settings.py's, fixed
    assert "app/jobs.py" not in err


def test_paths_are_relative_to_the_baseline_file(
    baselined: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(baselined / "app")
    assert run(capsys, "check", "-q", ".", "--baseline", os.path.join("..", "baseline.json"))[:2] == (0, "")
    write(baselined, "app/new.py", "_x.delay()\n")
    status, out, _ = run(capsys, "check", "-q", ".", "--baseline", "../baseline.json")
    assert (status, lines_of(out)) == (1, ["new.py:1:1: CB201 private task _x launched directly"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "the baseline is not valid JSON"),
        ('{"version": 7, "entries": []}', "not a celery-boundary baseline (version 1)"),
        ('{"version": 1, "entries": [{"code": "CB101"}]}', "baseline entry 1 is malformed"),
        ('{"version": 1, "entries": [{"code": "CB101", "path": null, "fingerprint": "ab", "occurrence": 0}]}',
         "baseline entry 1 is malformed ('path' is not a string)"),
        ('{"version": 1, "entries": {}}', "the baseline has no list of entries"),
        ("[" * 100_000 + "]" * 100_000, "the baseline is nested too deeply"),
    ],
    ids=["not-json", "other-version", "missing-fields", "path-null", "entries-not-a-list", "nested-100k-deep"],
)
def test_a_broken_baseline_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    write(project, "baseline.json", content)
    status, out, err = run(capsys, "check", "--baseline", "baseline.json")
    assert (status, out) == (2, "")
    assert message in err and len(lines_of(err)) == 1


def test_baselined_sarif_and_json_carry_only_new_findings(baselined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(baselined, "app/more.py", "_late.delay()\n")
    status, out, _ = run(capsys, "check", "-q", "--format", "json", "--baseline", "baseline.json")
    assert status == 1
    assert [(f["path"], f["code"]) for f in json.loads(out)] == [("app/more.py", "CB201")]


def test_writing_from_some_files_keeps_the_other_files_entries(
    baselined: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # pre-commit passes the staged files only: their entries are rewritten, the others' are kept.
    write(baselined, "app/settings.py", 'task_serializer = "json"\nresult_serializer = "pickle"\n')
    write(baselined, "app/more.py", "_late.delay()\n")
    status, out, err = run(capsys, "check", "--write-baseline", "baseline.json", "app/settings.py", "app/more.py")
    assert (status, out) == (0, "")
    assert "wrote 5 accepted findings to baseline.json" in err
    document = json.loads((baselined / "baseline.json").read_text())
    assert [(e["code"], e["path"], e["line"]) for e in document["entries"]] == [
        ("CB201", "app/jobs.py", 2), ("CB201", "app/jobs.py", 3), ("CB201", "app/jobs.py", 7),
        ("CB201", "app/more.py", 1), ("CB101", "app/settings.py", 2),
    ]
    assert run(capsys, "check", "-q", "--baseline", "baseline.json") == (0, "", "")


def test_writing_from_some_files_drops_the_entries_of_files_gone_or_excluded(
    baselined: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(baselined, "pyproject.toml", '[tool.celery_boundary]\nexclude = ["settings.py"]\n')
    os.remove(baselined / "app" / "jobs.py")
    write(baselined, "app/more.py", "_late.delay()\n")
    assert run(capsys, "check", "-q", "--write-baseline", "baseline.json", "app/more.py")[0] == 0
    document = json.loads((baselined / "baseline.json").read_text())
    assert [e["path"] for e in document["entries"]] == ["app/more.py"]


def test_writing_over_a_broken_baseline_from_some_files_replaces_it(
    baselined: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(baselined, "baseline.json", "{not json")
    assert run(capsys, "check", "-q", "--write-baseline", "baseline.json", "app/settings.py")[0] == 0
    document = json.loads((baselined / "baseline.json").read_text())
    assert [e["path"] for e in document["entries"]] == ["app/settings.py"]
