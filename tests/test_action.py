"""action.yml, the GitHub Action: a composite action whose steps use only inputs it declares (and use
every one), whose inputs reach the scripts through env (never pasted into a script), and whose check
and gate steps, run here with bash as GitHub runs them, write the SARIF report, record the exit code
and fail the job only after the upload step. docs/ci.md's example names real inputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def inputs_used(value: Any) -> set[str]:
    text = json.dumps(value)
    return set(re.findall(r"\binputs\.([a-z][a-z0-9-]*)", text))


def step(name: str) -> dict[str, Any]:
    (found,) = [s for s in STEPS if s["name"] == name]
    return found


def test_a_composite_action_with_described_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["name"] and ACTION["description"]
    for name, spec in ACTION["inputs"].items():
        assert spec["description"], name
        assert isinstance(spec.get("default", ""), str), name  # inputs are strings
    for output in ACTION["outputs"].values():
        assert output["description"] and output["value"]


def test_the_steps_use_exactly_the_declared_inputs() -> None:
    assert inputs_used(STEPS) | inputs_used(ACTION["outputs"]) == set(ACTION["inputs"])


def test_every_script_step_has_a_shell_and_reads_inputs_only_through_env() -> None:
    scripts = [s for s in STEPS if "run" in s]
    assert len(scripts) == 3
    for script in scripts:
        assert script["shell"] == "bash"
        assert "${{" not in script["run"], script["name"]  # no expression injection into a script


def test_the_upload_step_uploads_the_report_the_check_writes() -> None:
    upload = step("Upload to code scanning")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == step("Check")["env"]["SARIF_FILE"] == "${{ inputs.sarif-file }}"
    assert "steps.check.outputs.exit-code != '2'" in upload["if"]
    names = [s["name"] for s in STEPS]
    assert names.index("Check") < names.index("Upload to code scanning") < names.index("Fail on findings")


def resolve(env: dict[str, str], inputs: dict[str, str], outputs: dict[str, str]) -> dict[str, str]:
    """A step's env with the expressions GitHub would evaluate: inputs (or their defaults), outputs."""
    values = {f"inputs.{name}": spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    values |= {f"inputs.{name}": value for name, value in inputs.items()}
    values |= {f"steps.check.outputs.{name}": value for name, value in outputs.items()}
    return {key: EXPRESSION.sub(lambda m: values[m.group(1)], value) for key, value in env.items()}


def run_step(name: str, project: Path, inputs: dict[str, str], outputs: dict[str, str]) -> tuple[int, dict[str, str]]:
    script = step(name)
    github_output = project / "github-output"
    github_output.write_text("", encoding="utf-8")
    env = {**os.environ, **resolve(script["env"], inputs, outputs), "GITHUB_OUTPUT": str(github_output)}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")  # the installed tool
    # GitHub runs `shell: bash` steps as: bash --noprofile --norc -eo pipefail {0}
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script["run"]],
                          cwd=project, env=env, capture_output=True, text=True)
    written = dict(line.split("=", 1) for line in github_output.read_text(encoding="utf-8").splitlines())
    return done.returncode, written


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "celeryconfig.py").write_text('task_serializer = "pickle"\n', encoding="utf-8")
    (tmp_path / "src" / "tasks.py").write_text("result_serializer = 'pickle'\n", encoding="utf-8")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "settings.py").write_text('accept_content = ["pickle"]\n', encoding="utf-8")
    return tmp_path


def sarif_codes(path: Path) -> list[tuple[str, str]]:
    results = json.loads(path.read_text(encoding="utf-8"))["runs"][0]["results"]
    return sorted((r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results)


def test_the_check_step_writes_the_report_and_records_exit_1(project: Path) -> None:
    inputs = {"paths": "src/celeryconfig.py other", "args": "--ignore CB102"}
    status, outputs = run_step("Check", project, inputs, {})
    assert (status, outputs) == (0, {"exit-code": "1"})  # the job goes on to the upload
    assert sarif_codes(project / "celery-boundary.sarif") == [("CB101", "src/celeryconfig.py")]
    assert run_step("Fail on findings", project, inputs, outputs)[0] == 1


def test_the_baseline_input_accepts_legacy_findings(project: Path) -> None:
    subprocess.run([sys.executable, "-m", "celery_boundary.cli", "check", "--write-baseline", "base.json"],
                   cwd=project, check=True, capture_output=True)
    inputs = {"baseline": "base.json", "sarif-file": "out/report.sarif"}
    (project / "out").mkdir()
    status, outputs = run_step("Check", project, inputs, {})
    assert (status, outputs) == (0, {"exit-code": "0"})
    assert sarif_codes(project / "out" / "report.sarif") == []
    assert run_step("Fail on findings", project, inputs, outputs)[0] == 0


def test_a_configuration_error_records_exit_2(project: Path) -> None:
    status, outputs = run_step("Check", project, {"args": "--select CB999"}, {})
    assert (status, outputs) == (0, {"exit-code": "2"})
    assert run_step("Fail on findings", project, {}, outputs)[0] == 2


def test_the_docs_use_the_action_at_a_release_tag_with_its_inputs() -> None:
    section = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8").split("### The celery-boundary action", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block
    workflow = yaml.safe_load(block.group(1))
    steps = workflow["jobs"]["celery-boundary"]["steps"]
    (action,) = [s for s in steps if str(s.get("uses", "")).startswith("celery-boundary/")]
    assert action["uses"] == f"celery-boundary/celery-boundary@v{VERSION}"
    assert set(action.get("with", {})) <= set(ACTION["inputs"])
    assert workflow["permissions"]["security-events"] == "write"
