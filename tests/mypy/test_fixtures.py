"""The fixture projects as snapshots: mypy with the plugin finds exactly the seeded mistakes.

Each fixture line carrying ``# expect: CODE`` for a mypy code (``arg-type``, ``call-arg``,
``celery-*``) must be reported with that code on that line, and nothing else with those codes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = sorted(p for p in (ROOT / "fixtures").iterdir() if (p / "pyproject.toml").is_file())
MYPY_CODES = re.compile(r"^(arg-type|call-arg|celery-[a-z-]+)$")
REPORTED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")


def expected(project: Path) -> set[tuple[str, int, str]]:
    found = set()
    for path in project.rglob("*.py"):
        for number, text in enumerate(path.read_text().splitlines(), 1):
            for code in re.findall(r"# expect: ([\w-]+(?:,\s*[\w-]+)*)", text):
                for one in re.split(r",\s*", code):
                    if MYPY_CODES.match(one):
                        found.add((path.relative_to(project).as_posix(), number, one))
    return found


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_fixture_findings_match_the_seeded_mistakes(project: Path, tmp_path: Path) -> None:
    packages = sorted(p.name for p in project.iterdir() if (p / "__init__.py").is_file())
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), *packages],
        cwd=project, capture_output=True, text=True, timeout=300,
    )
    reported = set()
    for line in done.stdout.splitlines():
        match = REPORTED.match(line)
        if match and MYPY_CODES.match(match["code"]):
            reported.add((match["file"], int(match["line"]), match["code"]))
    assert reported == expected(project), done.stdout


DJANGO_SETTINGS = {"newsroom": "newsroom.settings"}


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_fixture_findings_with_django_and_pydantic_plugins(project: Path, tmp_path: Path) -> None:
    """The same findings when django-stubs' and pydantic's plugins run first (copy of the project)."""
    copy = tmp_path / project.name
    shutil.copytree(project, copy)
    config = "[mypy]\nplugins = mypy_django_plugin.main, pydantic.mypy, celery_boundary.mypy\n"
    config += "python_version = 3.11\ncheck_untyped_defs = true\nignore_missing_imports = true\n"
    settings = DJANGO_SETTINGS.get(project.name)
    if settings is None:
        config = config.replace("mypy_django_plugin.main, ", "")
    else:
        config += f"\n[mypy.plugins.django-stubs]\ndjango_settings_module = {settings}\n"
    (copy / "mypy.ini").write_text(config)
    packages = sorted(p.name for p in copy.iterdir() if (p / "__init__.py").is_file())
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", str(tmp_path / "cache"), *packages],
        cwd=copy, capture_output=True, text=True, timeout=300, env={"PYTHONPATH": str(copy), "PATH": ""},
    )
    reported = set()
    for line in done.stdout.splitlines():
        match = REPORTED.match(line)
        if match and MYPY_CODES.match(match["code"]):
            reported.add((match["file"], int(match["line"]), match["code"]))
    assert reported == expected(project), done.stdout + done.stderr
