"""The pre-commit recipes of docs/ci.md, run by pre-commit itself in a temporary git repository: a
staged file with a CB101 stops the commit with the finding in the hook's output, a clean staged file
passes, and with ``--baseline`` an accepted finding passes too; the manual hook that writes the
baseline from the staged files keeps the other files' entries.

The local recipe (``language: system``) runs the commands of this test's environment. The recipe
pinned to a release runs against a clone of this repository at HEAD (committed work only), tagged
the way releases are; pre-commit installs the clone with its dependencies from PyPI, hence ``slow``.
"""

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
CI_DOC = ROOT / "docs" / "ci.md"
BASELINE = ".celery-boundary-baseline.json"
PICKLE = 'task_serializer = "pickle"\n'
CLEAN = 'task_serializer = "json"\n'
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def recipes() -> list[dict[str, Any]]:
    section = CI_DOC.read_text(encoding="utf-8").split("## pre-commit\n", 1)[1].split("\n## ", 1)[0]
    configs = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S)]
    return [config for config in configs if isinstance(config, dict) and "repos" in config]


def recipe(kind: str) -> dict[str, Any]:
    (config,) = [c for c in recipes() if (c["repos"][0]["repo"] == "local") == (kind == "local")]
    return config


def git(repo: Path, *argv: str) -> None:
    subprocess.run(["git", "-C", str(repo), *argv], check=True, capture_output=True)


def environment(tmp_path: Path, *, checkout_on_path: bool) -> dict[str, str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "SKIP": ""}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.org")
    # The local hooks run the `celery-boundary` and `flake8` of this interpreter's environment.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    if not checkout_on_path:  # the release hook must run the package pre-commit installed, nothing else
        env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    return env


class Project:
    """A git repository with a committed legacy finding (accepted by the baseline) and the config."""

    def __init__(self, path: Path, config: dict[str, Any], env: dict[str, str]) -> None:
        self.path, self.env = path, env
        path.mkdir()
        git(path, "init", "-q")
        (path / "legacy.py").write_text(PICKLE, encoding="utf-8")
        (path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        self.celery_boundary("check", "--write-baseline", BASELINE)
        git(path, "add", "-A")
        command = ["git", "-C", str(path), "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "legacy"]
        subprocess.run(command, check=True, env=env)

    def celery_boundary(self, *argv: str) -> None:
        command = [sys.executable, "-m", "celery_boundary.cli", *argv]  # the package under test
        subprocess.run(command, cwd=self.path, check=True, capture_output=True)

    def stage(self, name: str, text: str) -> None:
        (self.path / name).write_text(text, encoding="utf-8")
        git(self.path, "add", name)

    def run(self, hook: str, *options: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pre_commit", "run", hook, "--color", "never", *options]
        return subprocess.run(command, cwd=self.path, env=self.env, capture_output=True, text=True)


def assert_hook_judges_staged_files(project: Project, hook: str) -> None:
    project.stage("settings.py", CLEAN)
    clean = project.run(hook)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout

    project.stage("celeryconfig.py", PICKLE)
    bad = project.run(hook)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert re.search(r"^celeryconfig\.py:1:1: CB101 ", bad.stdout, re.M), bad.stdout
    assert "legacy.py" not in bad.stdout  # only staged files are reported, and no entry is stale
    git(project.path, "rm", "-q", "--force", "--", "settings.py", "celeryconfig.py")


def assert_baseline_accepts_the_legacy_finding(project: Project) -> None:
    (project.path / "legacy.py").write_text("# touched\n" + PICKLE, encoding="utf-8")
    git(project.path, "add", "legacy.py")
    done = project.run("celery-boundary")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout  # the hook ran on legacy.py


def test_the_docs_show_a_local_and_a_release_recipe_with_the_baseline() -> None:
    local, release = recipe("local"), recipe("release")
    assert [hook["id"] for hook in local["repos"][0]["hooks"]] == [
        "celery-boundary", "celery-boundary-flake8", "celery-boundary-accept"]
    assert all(hook["language"] == "system" for hook in local["repos"][0]["hooks"])
    assert f"--baseline {BASELINE}" in local["repos"][0]["hooks"][0]["entry"]
    (repo,) = release["repos"]
    assert repo["repo"] == "https://github.com/celery-boundary/celery-boundary"
    assert repo["rev"] == f"v{VERSION}"  # releases are tagged v<version>
    assert repo["hooks"][0] == {"id": "celery-boundary", "args": ["--baseline", BASELINE]}


@pytest.mark.parametrize("hook", ["celery-boundary", "celery-boundary-flake8"])
def test_the_local_recipe(hook: str, tmp_path: Path) -> None:
    project = Project(tmp_path / "project", recipe("local"), environment(tmp_path, checkout_on_path=True))
    assert_hook_judges_staged_files(project, hook)
    if hook == "celery-boundary":
        assert_baseline_accepts_the_legacy_finding(project)


def test_the_manual_hook_accepts_the_staged_files_findings_and_keeps_the_others(tmp_path: Path) -> None:
    project = Project(tmp_path / "project", recipe("local"), environment(tmp_path, checkout_on_path=True))
    project.stage("celeryconfig.py", PICKLE)
    assert project.run("celery-boundary").returncode == 1  # a new finding stops the commit
    accept = project.run("celery-boundary-accept", "--hook-stage", "manual")
    assert "files were modified by this hook" in accept.stdout, accept.stdout + accept.stderr
    document = json.loads((project.path / BASELINE).read_text(encoding="utf-8"))
    assert sorted((e["path"], e["code"]) for e in document["entries"]) == [
        ("celeryconfig.py", "CB101"), ("legacy.py", "CB101")]  # the unstaged file's entry is kept
    git(project.path, "add", BASELINE)
    done = project.run("celery-boundary")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs this repository's git history (a checkout)")
def test_the_release_recipe_against_a_clone_of_this_repository(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(ROOT), str(clone)], check=True, capture_output=True)
    git(clone, "checkout", "-q", head.stdout.strip())
    git(clone, "tag", f"v{VERSION}")
    config = recipe("release")
    config["repos"][0]["repo"] = str(clone)
    project = Project(tmp_path / "project", config, environment(tmp_path, checkout_on_path=False))
    for hook in ("celery-boundary", "celery-boundary-flake8"):
        assert_hook_judges_staged_files(project, hook)
    assert_baseline_accepts_the_legacy_finding(project)
