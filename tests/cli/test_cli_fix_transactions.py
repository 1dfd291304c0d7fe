"""CB206's fix: ``delay_on_commit`` / ``apply_async_on_commit`` when the project requires celery 5.4+,
``transaction.on_commit(functools.partial(...))`` otherwise; a launch whose result is used stays; a
second run changes nothing; the fix waits for --unsafe-fixes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main

PAIRS = Path(__file__).resolve().parent / "fixes"
CELERY_54 = '[project]\nname = "news"\nversion = "1"\ndependencies = ["celery[redis]>=5.4,<6", "django"]\n'


@pytest.mark.parametrize(("pyproject", "after"), [(None, "CB206_after.py"), (CELERY_54, "CB206_celery54_after.py")])
def test_fix_launches_after_the_commit(project: Path, capsys: pytest.CaptureFixture[str], pyproject: str | None,
                                       after: str) -> None:
    if pyproject is not None:
        write(project, "pyproject.toml", pyproject)
    target = project / "proj" / "articles.py"
    target.parent.mkdir()
    shutil.copy(PAIRS / "CB206_before.py", target)
    assert main(["fix", "-q"]) == 0
    assert target.read_text() == (PAIRS / "CB206_before.py").read_text(), "unsafe: waits for --unsafe-fixes"
    for _ in range(2):
        assert main(["fix", "-q", "--unsafe-fixes"]) == 0
        assert target.read_text() == (PAIRS / after).read_text()
    capsys.readouterr()
    assert main(["check", "-q", "--select", "CB206", "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert out.count('"code": "CB206"') == 1  # ``return notify.delay(...)``: the result is used
