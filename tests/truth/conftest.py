"""Truth tests: Django configured minimally (one app, in-memory sqlite) before cases are imported."""

from __future__ import annotations

import pytest
import truth_django

truth_django.configure()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many real values each verdict row pushed through the runtime."""
    from truth_check import TRIED

    if not TRIED:
        return
    terminalreporter.section("truth: values tried per row")
    for row, count in sorted(TRIED.items()):
        terminalreporter.write_line(f"{count:5d}  {row}")
    terminalreporter.write_line(f"{sum(TRIED.values()):5d}  total")
