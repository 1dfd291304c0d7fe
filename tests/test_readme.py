"""The README's two set-up commands are the ones that work: .ci/run runs exactly the test command, and
the demo script prints real findings for every sample project."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [c.strip() for c in re.findall(r"```console\n(python3 -m venv[^\n]*)\n```", text)]


def test_readme_has_the_demo_and_the_test_command() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("scripts/demo.py")
    assert commands[1].endswith("-m pytest")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = readme_commands()[1]
    assert test_command in ci


def test_the_demo_prints_findings_for_every_sample_project(tmp_path: Path) -> None:
    # mypy's cache goes to tmp_path, not fixtures/*/.mypy_cache, which tests on other xdist workers
    # (tests/test_fixture_snapshots.py, tests/cli/test_cli_real_rules.py) read at the same time.
    env = {**os.environ, "MYPY_CACHE_DIR": str(tmp_path / "mypy-cache")}
    done = subprocess.run([sys.executable, "scripts/demo.py"], cwd=ROOT, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "celery-unserializable" in done.stdout
    assert "CB401" in done.stdout
    assert "exited" not in done.stdout


def test_the_quick_start_pins_the_release_the_docs_pin() -> None:
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"rev: v{version}\n" in text  # the pre-commit hooks (docs/ci.md, tests/test_pre_commit.py)
    assert f"uses: celery-boundary/celery-boundary@v{version}\n" in text  # the action (tests/test_action.py)
    assert "- id: celery-boundary " in text
