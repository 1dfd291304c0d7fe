"""The wheel carries what the tool needs: built from this checkout (hatchling, no isolation, so no
download) and installed into a fresh virtual environment without the checkout on its path, it prints
every rule page, lists the rules, and writes SARIF whose rules carry their page as help and an absolute
link to the docs site. check-wheel-contents finds nothing wrong with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from celery_boundary.core import rules
from celery_boundary.gate import catalog

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "rules"


def run(*argv: str | Path, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, ROOT, cwd=out)
    (built,) = out.glob("celery_boundary-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The console script of a fresh venv holding only the wheel: `rule`, `rules` and `check` need none
    of the dependencies (they read files with ast)."""
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel, cwd=venv)
    return venv / "bin" / "celery-boundary"


def test_the_wheel_holds_every_rule_page_and_nothing_else_of_docs(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        packaged = {name.rsplit("/", 1)[1]: archive.read(name) for name in names if "/rules_docs/" in name}
    assert packaged == {page.name: page.read_bytes() for page in PAGES.glob("*.md")}
    assert not [name for name in names if name.startswith("docs/")]


def test_check_wheel_contents_passes(wheel: Path) -> None:
    done = run(Path(sys.executable).parent / "check-wheel-contents", wheel, cwd=wheel.parent)
    assert done.stdout.strip().endswith(": OK")


def test_rule_prints_the_whole_page_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    for code in ("CB101", "celery-lossy"):
        done = run(installed, "rule", code, cwd=tmp_path)
        assert done.stdout == (PAGES / f"{code}.md").read_text(encoding="utf-8")
        assert f"rules_docs{os.sep}{code}.md" in done.stderr
        assert str(ROOT) not in done.stderr


def test_rules_lists_every_code_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    rows = run(installed, "rules", cwd=tmp_path).stdout.splitlines()
    assert [row.split()[0] for row in rows[1:]] == [rule.code for rule in rules.RULES]


def test_sarif_from_the_installed_wheel_carries_the_pages(installed: Path, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the project's root: config lookup stops here
    (tmp_path / "celeryconfig.py").write_text('task_serializer = "pickle"\n', encoding="utf-8")
    done = run(installed, "check", "--format", "sarif", "-q", cwd=tmp_path, check=False)
    assert done.returncode == 1, done.stderr
    run_ = json.loads(done.stdout)["runs"][0]
    assert [result["ruleId"] for result in run_["results"]] == ["CB101"]
    descriptors = {rule["id"]: rule for rule in run_["tool"]["driver"]["rules"]}
    for code, descriptor in descriptors.items():
        page = (PAGES / f"{code}.md").read_text(encoding="utf-8")
        assert descriptor["help"] == {"text": page, "markdown": catalog.with_absolute_links(page)}
        assert descriptor["helpUri"] == f"https://celery-boundary.github.io/celery-boundary/rules/{code}/"
