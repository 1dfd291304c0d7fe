"""Run mypy (with the celery-boundary plugin) and flake8 (CB rules) over each sample project in
fixtures/, the way a user's CI would, and print what they find.

    python scripts/demo.py [fixtures/shop ...]

Each project is checked from its own directory, so its pyproject.toml ([tool.mypy] with the plugin,
[tool.celery_boundary]) and setup.cfg ([flake8]) apply. Exit status: 0 when every project shows findings
(the fixtures are seeded with mistakes), 1 otherwise.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def packages(project: Path) -> list[str]:
    return sorted(p.name for p in project.iterdir() if (p / "__init__.py").is_file())


def run(project: Path, *command: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", *command, *packages(project)],
        cwd=project,
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode not in (0, 1) or (done.stderr.strip() and not lines):
        lines.append(f"{command[0]} exited {done.returncode}: {done.stderr.strip()[:500]}")
    return lines


def main(argv: list[str]) -> int:
    projects = [Path(a).resolve() for a in argv] or sorted(
        p for p in (ROOT / "fixtures").iterdir() if (p / "pyproject.toml").is_file()
    )
    all_found = True
    for project in projects:
        print(f"== {project.relative_to(ROOT)}")
        mypy = run(project, "mypy", "--no-incremental", "--no-error-summary", "--show-error-codes")
        flake8 = run(project, "flake8", "--select", "CB")
        print("-- mypy --plugin celery_boundary.mypy")
        print("\n".join(mypy) or "(nothing)")
        print("-- flake8 --select CB")
        print("\n".join(flake8) or "(nothing)")
        all_found = all_found and bool(mypy) and bool(flake8)
    return 0 if all_found else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
