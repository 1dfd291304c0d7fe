"""noxfile.py's ``newest`` session: Python 3.13 and the newest releases pass their subset of the
suite. Slow: the session installs from PyPI."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from packaging.version import Version
from test_supported_versions import run_session


@pytest.mark.slow
def test_the_newest_supported_versions_pass(tmp_path: Path) -> None:
    newest = run_session(tmp_path, "newest")
    assert newest["python"].startswith("3.13.")
    for name, installed in newest.items():
        if name != "python":  # at least what a fresh install of the package brings here
            assert Version(installed) >= Version(metadata.version(name)), (name, installed)
