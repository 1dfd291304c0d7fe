"""The core and the runtime helper must not drag the host tools (or celery) into a user's process."""

import subprocess
import sys

import pytest

HEAVY = ("mypy", "flake8", "libcst")


@pytest.mark.parametrize(
    "module",
    [
        "celery_boundary",
        "celery_boundary.core.verdicts",
        "celery_boundary.core.annotations",
        "celery_boundary.core.config",
        "celery_boundary.core.rules",
        "celery_boundary.runtime",
    ],
)
def test_module_imports_no_host_tool(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
