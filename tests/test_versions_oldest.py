"""noxfile.py's ``oldest`` session: Python 3.10 and the lowest release of every runtime dependency
pyproject.toml allows pass their subset of the suite. Slow: the session installs from PyPI."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_supported_versions import noxfile, run_session


@pytest.mark.slow
def test_the_oldest_supported_versions_pass(tmp_path: Path) -> None:
    oldest = run_session(tmp_path, "oldest")
    assert oldest["python"].startswith("3.10.")
    pins = noxfile().OLDEST
    assert {name: oldest[name] for name in oldest if name != "python"} == {
        name: pins[name] for name in oldest if name != "python"
    }
