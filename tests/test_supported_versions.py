"""The versions the README claims are tested: noxfile.py's ``oldest`` session (Python 3.10, the lowest
release of every runtime dependency pyproject.toml allows) and ``newest`` (Python 3.13, the newest
releases) pass their subset of this suite (test_versions_oldest.py, test_versions_newest.py), and
installed what they say. A missing interpreter fails the run (``--error-on-missing-interpreters``),
never skips it."""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
REPORT = re.compile(r"^supported-versions: (.*)$", re.M)


@functools.cache
def noxfile() -> ModuleType:
    """noxfile.py, imported once per process (nox warns when a session is registered twice)."""
    spec = importlib.util.spec_from_file_location("noxfile", ROOT / "noxfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nox(tmp_path: Path, *argv: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    # Nothing of this run leaks in: no xdist worker id, no PYTHONPATH pointing at another tree.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "--envdir", str(tmp_path / "nox"),
         "--error-on-missing-interpreters", "--no-color", *argv],
        cwd=ROOT, env={**env, **overrides}, capture_output=True, text=True,
    )


def test_oldest_pins_the_floor_of_every_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floors = {}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        (floor,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        floors[requirement.name] = floor
    oldest = noxfile().OLDEST
    assert set(oldest) == set(floors)
    assert all(Version(oldest[name]) == Version(floor) for name, floor in floors.items()), (oldest, floors)
    assert project["requires-python"] == ">=3.10"


def test_a_missing_interpreter_fails_the_run(tmp_path: Path) -> None:
    # No interpreter but this one on PATH, and no pyenv installation to fall back on.
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python3").symlink_to(sys.executable)
    done = nox(tmp_path, "-s", "oldest", PATH=str(bare), PYENV_ROOT=str(tmp_path / "no-pyenv"))
    assert done.returncode != 0
    assert "Python interpreter 3.10 not found" in done.stderr, done.stderr


def reports(output: str) -> list[dict[str, str]]:
    return [dict(field.split("=", 1) for field in line.split()) for line in REPORT.findall(output)]


def run_session(tmp_path: Path, name: str) -> dict[str, str]:
    """Run one session; what it reports it installed. Each session has its own test module
    (test_versions_oldest.py, test_versions_newest.py) so that both xdist workers take one at the
    start of the run (tests/conftest.py puts them first)."""
    done = nox(tmp_path, "-s", name)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    (report,) = reports(output)
    print(f"supported-versions: {report}")
    return report
