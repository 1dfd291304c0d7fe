"""The sample projects in fixtures/ as snapshots: every seeded mistake (a `# expect: CODE` comment on
its line) is found by the tool that owns the code, and nothing else is reported.

flake8 codes are CB...; mypy codes are everything else (arg-type, celery-unserializable, ...), and
``note`` for a mypy note (mypy prints no code after a note).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from mypy.version import __version__ as MYPY_VERSION

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROJECTS = sorted(p.name for p in FIXTURES.iterdir() if (p / "pyproject.toml").is_file())
EXPECT = re.compile(r"#\s*expect:\s*([\w\- ]+)")
Finding = tuple[str, int, str]
MYPY_MAJOR = int(MYPY_VERSION.split(".")[0])


def packages(project: Path) -> list[str]:
    return sorted(p.name for p in project.iterdir() if (p / "__init__.py").is_file())


def expected(project: Path, flake8: bool) -> set[Finding]:
    found: set[Finding] = set()
    for path in sorted(project.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = EXPECT.search(line)
            if not match:
                continue
            for code in match.group(1).split():
                if code.startswith("CB") == flake8:
                    found.add((path.relative_to(project).as_posix(), number, code))
    return found


def run_flake8(project: Path) -> set[Finding]:
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "CB", "--format", "%(path)s:%(row)d:%(code)s", *packages(project)],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr
    rows = set()
    for line in done.stdout.splitlines():
        path, row, code = line.rsplit(":", 2)
        rows.add((Path(path).as_posix().removeprefix("./"), int(row), code))
    return rows


@pytest.mark.parametrize("name", PROJECTS)
def test_flake8_finds_exactly_the_seeded_mistakes(name: str) -> None:
    project = FIXTURES / name
    want = expected(project, flake8=True)
    assert want, "a fixture project without seeded CB mistakes proves nothing"
    assert run_flake8(project) == want


MYPY_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): (?:error: .*\[(?P<code>[\w-]+)\]|(?P<note>note): .*)$")


def run_mypy(project: Path, tmp_path: Path, *options: str) -> set[Finding]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--show-error-codes",
            "--no-error-summary",
            *options,
            *packages(project),
        ],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    rows = set()
    for line in done.stdout.splitlines():
        match = MYPY_LINE.match(line)
        assert match, f"unexpected mypy output: {line}"
        rows.add((Path(match["path"]).as_posix(), int(match["line"]), match["code"] or match["note"]))
    return rows


@pytest.mark.parametrize("name", PROJECTS)
def test_mypy_with_the_plugin_finds_exactly_the_seeded_mistakes(name: str, tmp_path: Path) -> None:
    project = FIXTURES / name
    want = expected(project, flake8=False)
    assert any(code.startswith("celery-") for _, _, code in want)
    assert run_mypy(project, tmp_path) == want


@pytest.mark.skipif(MYPY_MAJOR < 2, reason="mypy 1.x has no worker processes")
@pytest.mark.parametrize("name", PROJECTS)
def test_mypy_with_worker_processes_finds_the_same(name: str, tmp_path: Path) -> None:
    """mypy 2.x ``-n``: each worker process loads the plugin; cold and warm agree with the snapshot."""
    project = FIXTURES / name
    want = expected(project, flake8=False)
    assert run_mypy(project, tmp_path, "-n", "2") == want
    assert run_mypy(project, tmp_path, "-n", "2") == want
