"""Generated modules through ``celery-boundary check`` in process (``celery_boundary.cli.main``):
discovery, the per-module rules, noqa, the project-wide CB202 pass and the JSON renderer. A rule
that raises is reported by ``check`` as "skipped, internal error ..." on stderr; that must not
happen, and the exit code must be 0 or 1 (never 2, never a traceback).

Several modules go into one project so the project pass sees tasks defined in one module and
used in another (same names on purpose: shadowed and repeated task names across modules).
"""

from __future__ import annotations

import io
import json
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celery_boundary.cli import main
from celery_sources import celery_modules, grammar_modules

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run_check(sources: list[str], *extra: str) -> tuple[int, list[dict[str, object]], str]:
    with tempfile.TemporaryDirectory(prefix="cb-fuzz-") as directory:
        root = Path(directory)
        (root / ".git").mkdir()  # config lookup stops here
        (root / "pyproject.toml").write_text("[tool.celery_boundary]\nmax_task_logic = 0\n")
        package = root / "proj"
        package.mkdir()
        (package / "__init__.py").write_text("")
        for number, source in enumerate(sources):
            (package / f"m{number}.py").write_text(source, encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["check", "--quiet", "--jobs", "1", "--format", "json", "--select", "CB",
                         "--config", str(root / "pyproject.toml"), *extra, str(root)])
    return code, json.loads(out.getvalue() or "[]"), err.getvalue()


def assert_clean(code: int, rows: list[dict[str, object]], stderr: str) -> None:
    assert code in (0, 1), stderr
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    assert stderr == "", stderr  # every generated file parses, so nothing may be skipped either
    assert (code == 1) == bool(rows)
    for row in rows:
        assert str(row["code"]).startswith("CB"), row
        assert isinstance(row["line"], int) and row["line"] >= 1, row


@FUZZ
@given(sources=st.lists(celery_modules(), min_size=1, max_size=3))
def test_celery_shaped_projects_never_crash_check(sources: list[str]) -> None:
    assert_clean(*run_check(sources))


@pytest.mark.filterwarnings("ignore::SyntaxWarning:<string>")  # hypothesmith compiles what it generates
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=grammar_modules())
def test_grammar_modules_never_crash_check(source: str) -> None:
    assert_clean(*run_check([source]))


def test_the_project_pass_runs_on_generated_shapes() -> None:
    """The fuzzed path must reach the project-wide rule: a public task used only as a chain link
    in another module is reported (CB202), so the fuzz tests do exercise that pass."""
    tasks = "from celery import shared_task\n\n@shared_task\ndef step(x):\n    return x\n"
    user = "from celery import chain\nfrom proj.m0 import step\n\ndef go():\n    chain(step.s(1), step.s()).delay()\n"
    code, rows, stderr = run_check([tasks, user])
    assert_clean(code, rows, stderr)
    assert "CB202" in {row["code"] for row in rows}
