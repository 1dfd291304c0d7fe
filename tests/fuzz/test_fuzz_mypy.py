"""Generated Celery-shaped modules through mypy with the plugin: no ``INTERNAL ERROR``, no traceback,
no ``celery-internal`` (the plugin's guard for an exception inside a hook). Type errors in the
generated code are expected and ignored; only a crash fails.

One cache directory serves every example (mypy re-checks only the rewritten module), so an example
costs about a tenth of a second after the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from mypy import api

from celery_sources import celery_modules


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("mypy-fuzz")
    (root / "mypy.ini").write_text("[mypy]\nplugins = celery_boundary.mypy\nignore_missing_imports = True\n")
    yield root


def run_mypy(root: Path, source: str) -> tuple[str, int]:
    module = root / "generated.py"
    module.write_text(source)
    out, err, status = api.run(["--config-file", str(root / "mypy.ini"), "--cache-dir", str(root / "cache"),
                                "--show-traceback", "--no-error-summary", str(module)])
    return out + err, status


# mypy raises the recursion limit while it runs; hypothesis warns that it cannot restore it.
@pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(source=celery_modules())
def test_celery_shaped_modules_never_crash_the_mypy_plugin(workspace: Path, source: str) -> None:
    text, status = run_mypy(workspace, source)
    assert "INTERNAL ERROR" not in text and "Traceback" not in text, text[-3000:]
    assert "[celery-internal]" not in text, text[-3000:]
    assert status in (0, 1), text[-3000:]


def test_the_workspace_runs_the_plugin(workspace: Path) -> None:
    """The fuzz test is only worth something if the plugin is on: a set argument must be reported."""
    text, status = run_mypy(workspace, "from celery import Celery\napp = Celery('x')\n\n\n@app.task\n"
                                       "def t(x: set[int]) -> None: ...\n\n\nt.delay({1, 2})\n")
    assert status == 1 and "[celery-unserializable]" in text, text
