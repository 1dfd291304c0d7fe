"""What the mypy plugin pays at start-up before mypy checks anything, with and without its memory.

Not a test: prints times and the ratio, remembered / fresh, measured in the same run. "Fresh" reads
the project as a first run does (``--cache-dir=/dev/null``: the app module and what it imports and,
without an ``app`` setting, a walk over the project for ``Celery(...)``; the installed versions).
"Remembered" is a later run: the memory written by a first run in a scratch cache folder, re-checked
with a ``stat`` per fact (mypy/startup/memory.py). Wall time in process, best of ``--repeat``:
unlike the instruction counts of mypy_overhead.py it includes the kernel's work for the system
calls, which is most of what the memory saves.

    python benchmarks/startup_memory.py [--repeat N] [--real PATH ...]

The projects: each ``fixtures/`` project (shop sets ``app``, newsroom finds it) and any ``--real``
folder, read from its root with no configuration file (discovery, as ``scripts/validate.py`` runs it).
Measured on this 2-core machine (Python 3.11, page cache warm, best of 5):

    newsroom: fresh 0.7 ms, remembered 0.3 ms = 0.38x
    shop: fresh 1.0 ms, remembered 0.3 ms = 0.33x
    readthedocs.org: fresh 15.2 ms, remembered 6.1 ms = 0.40x
    paperless-ngx: fresh 69.7 ms, remembered 2.6 ms = 0.04x
    saleor: fresh 43.9 ms, remembered 14.8 ms = 0.34x  (2,614 files: a ``stat`` each is the floor)
    bookwyrm: fresh 11.3 ms, remembered 2.4 ms = 0.22x
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from mypy.options import Options

from celery_boundary.mypy.startup.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def options_for(project: Path, cache_dir: str) -> Options:
    options = Options()
    config = project / "pyproject.toml"
    options.config_file = str(config) if config.is_file() else None
    options.cache_dir = cache_dir
    return options


def best_ms(project: Path, cache_dir: str, repeat: int) -> tuple[float, dict[str, object]]:
    """Best wall time of ``load_settings`` run in ``project`` (ms) and what it read."""
    here = Path.cwd()
    os.chdir(project)
    try:
        best = float("inf")
        data: dict[str, object] = {}
        for _ in range(repeat):
            started = time.perf_counter()
            data = load_settings(options_for(project, cache_dir)).config_data()
            best = min(best, time.perf_counter() - started)
        return best * 1e3, data
    finally:
        os.chdir(here)


def compare(project: Path, repeat: int) -> None:
    fresh, read_fresh = best_ms(project, os.devnull, repeat)
    with tempfile.TemporaryDirectory() as cache:
        best_ms(project, cache, 1)  # the first run writes the memory
        remembered, read_remembered = best_ms(project, cache, repeat)
    if read_fresh != read_remembered:
        raise SystemExit(f"{project.name}: the remembered settings differ from a fresh read")
    print(f"{project.name}: fresh {fresh:.1f} ms, remembered {remembered:.1f} ms = {remembered / fresh:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--real", type=Path, nargs="*", default=[], help="also these project folders")
    args = parser.parse_args()
    projects = sorted(p for p in (ROOT / "fixtures").iterdir() if (p / "pyproject.toml").is_file())
    for project in [*projects, *(p.resolve() for p in args.real)]:
        compare(project, args.repeat)


if __name__ == "__main__":
    main()
