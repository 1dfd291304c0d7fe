"""docs/ci.md, .pre-commit-hooks.yaml and docs/examples/github-actions.yml say only what the CLI does:
every command they show parses, the option table lists exactly the options of ``check``, and the CI
example's commands run."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest
import yaml
from cli_helpers import write

from celery_boundary.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
CI_DOC = ROOT / "docs" / "ci.md"
WORKFLOW = ROOT / "docs" / "examples" / "github-actions.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def commands_in(text: str) -> list[list[str]]:
    return [shlex.split(line)[1:] for line in re.findall(r"^\s*(?:\$ )?(celery-boundary [^\n`]*)$", text, re.M)]


def check_options() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {o for action in sub.choices["check"]._actions for o in action.option_strings} - {"-h", "--help"}


def test_every_command_in_the_ci_page_parses() -> None:
    commands = commands_in(CI_DOC.read_text(encoding="utf-8"))
    assert len(commands) >= 5
    for argv in commands:
        build_parser().parse_args(argv)


def test_the_option_table_lists_exactly_the_options_of_check() -> None:
    text = CI_DOC.read_text(encoding="utf-8")
    table = text.split("## Command line", 1)[1].split("### Exit codes", 1)[0]
    documented = set(re.findall(r"`(--?[a-z][a-z-]*)", table))
    assert documented == check_options()


def test_the_exit_code_table_covers_0_1_2() -> None:
    table = CI_DOC.read_text(encoding="utf-8").split("### Exit codes", 1)[1]
    assert re.findall(r"^\| (\d) \|", table, re.M) == ["0", "1", "2"]


def test_the_pre_commit_hooks() -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load(HOOKS.read_text(encoding="utf-8"))}
    assert set(hooks) == {"celery-boundary", "celery-boundary-flake8"}
    gate = hooks["celery-boundary"]
    assert (gate["language"], gate["types"]) == ("python", ["python"])
    entry = shlex.split(gate["entry"])
    assert entry[0] == "celery-boundary"
    build_parser().parse_args([*entry[1:], "some_file.py"])  # pre-commit appends the staged files
    lint = hooks["celery-boundary-flake8"]
    assert (lint["entry"], lint["args"], lint["language"]) == ("flake8", ["--select=CB"], "python")


def test_the_workflow_uploads_the_sarif_file_the_check_writes() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    steps = workflow["jobs"]["celery-boundary"]["steps"]
    runs = [step["run"] for step in steps if "run" in step and step["run"].startswith("celery-boundary")]
    assert len(runs) == 1
    args = build_parser().parse_args(shlex.split(runs[0])[1:])
    assert args.format == "sarif"
    upload = next(step for step in steps if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["sarif_file"] == str(args.output)
    assert workflow["permissions"]["security-events"] == "write"


@pytest.mark.usefixtures("stand_in")
def test_the_baseline_adoption_steps_work_as_documented(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = CI_DOC.read_text(encoding="utf-8").split("## Adopting it on legacy code", 1)[1]
    write_step, check_step = commands_in(text)
    write(project, "proj/settings.py", 'task_serializer = "pickle"\n')
    assert main(write_step) == 0
    assert main(check_step) == 0
    write(project, "proj/celeryconfig.py", 'result_serializer = "pickle"\n')
    assert main(check_step) == 1
    assert capsys.readouterr().out.startswith("proj/celeryconfig.py:1:1: CB101 ")
