"""Overhead of the CB rules inside flake8: the same flake8 run on the same files with the
celery-boundary plugin and without it, in the same session, printed as a ratio (target <= 1.05x).
Not a test.

    python benchmarks/flake8_overhead.py [--repeat N] [--jobs N] [--instructions] [PATH ...]

Default corpus (>= 100 k lines): the installed ``celery`` and ``kombu`` packages - nearly every file
mentions Celery, so the plugin's substring pre-test passes and every rule runs (its worst case) - plus
part of the standard library (where the pre-test skips most files: the cost a user pays on the rest
of a project). "Without" runs flake8 with the plugin filtered out of flake8's plugin discovery; both
commands run ``--repeat`` times, alternating, and the best time of each counts.

Measured on this shared 2-core machine (Python 3.11, flake8 7.5, --repeat 3, --jobs 1),
360 files / 131 k lines: CPU 11.23 s without, 11.38 s with -> 1.014x; a later run under heavier load
from other jobs: 14.57 s / 14.93 s -> 1.025x. The plugin alone (in-process): 0.33 s -> ~1.03x.
saleor (953 files, 156 k lines, nearly all Celery-related): run-to-run noise exceeded the overhead
(0.91x); the plugin alone took 0.27 s of flake8's ~12 s -> ~1.02x.

Instructions (``--instructions``, the installed celery and kombu: 242 files, 73 k lines), the plugin's
own work beside parsing: 3.05 G before CB206, CB402 and CB301-by-default were added (3.01 G of
parsing); 4.15 G with them as first written (an ``ast.walk`` per module asking whether it imports
celery was a quarter of it); 3.22 G once the index walk notes the import and the scheduler and
wrapper look-ups skip modules that cannot hold them: +5.6 % for three more rules, about 0.2 % of
flake8's whole run (the plugin is ~3.5 % of it). ``--without transactions``: CB206's group costs
0.095 G, 2.9 % of the plugin, about 0.1 % of flake8.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SITE = Path(sysconfig.get_paths()["purelib"])
DEFAULT = [SITE / "celery", SITE / "kombu", STDLIB / "asyncio", STDLIB / "email", STDLIB / "logging",
           STDLIB / "unittest", STDLIB / "concurrent", STDLIB / "json"]

# Run flake8's own main(); with "without", drop our entry point from plugin discovery first.
_RUNNER = """
import sys
import flake8.plugins.finder as finder
if sys.argv[1] == "without":
    found = finder.find_plugins
    finder.find_plugins = lambda cfg, opts: [
        p for p in found(cfg, opts) if not p.entry_point.value.startswith("celery_boundary")]
from flake8.main.cli import main
main(sys.argv[2:])
"""


def count_lines(paths: list[Path]) -> tuple[int, int]:
    files = [f for p in paths for f in ([p] if p.is_file() else p.rglob("*.py"))]
    lines = sum(len(f.read_bytes().splitlines()) for f in files)
    return len(files), lines


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(mode: str, paths: list[Path], jobs: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of flake8, CB findings). CPU time is what the ratio uses: on a
    shared 2-core machine wall time moves with whatever else runs."""
    args = [sys.executable, "-c", _RUNNER, mode, "--isolated", "--jobs", str(jobs), "--exit-zero",
            "--select", "E,W,F,C90,CB", *map(str, paths)]
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"flake8 failed ({mode}): {done.stderr[-2000:]}")
    cb = sum(1 for line in done.stdout.splitlines() if ": CB" in line)
    return elapsed, cpu, cb


def plugin_cpu(paths: list[Path]) -> float:
    """CPU seconds the CB plugin itself spends on the corpus (trees parsed beforehand, as flake8
    hands them over): a figure that does not move with the machine's load."""
    import ast

    from celery_boundary.flake8.plugin import Plugin

    inputs = []
    for file in (f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*.py")))):
        text = file.read_text(encoding="utf-8", errors="replace")
        try:
            inputs.append((ast.parse(text), text.splitlines(True), str(file)))
        except (SyntaxError, ValueError):
            continue
    start = time.process_time()
    for tree, lines, name in inputs:
        list(Plugin(tree, lines, name).run())
    return time.process_time() - start


#: Parse every file (and, with "plugin", run the CB plugin on it): the difference of the two
#: instruction counts is the plugin's own work, whatever else runs on the machine.
_COUNTED = """
import ast, sys
from pathlib import Path
mode, paths = sys.argv[1], sys.argv[2:]
if mode.startswith("plugin"):
    from celery_boundary.flake8.plugin import Plugin
if mode.startswith("plugin-without-"):  # one rule group's module check left out: that rule's own cost
    import celery_boundary.checks as checks
    left_out = mode.removeprefix("plugin-without-")
    checks.GROUPS = tuple(group for group in checks.GROUPS if group.__name__.rsplit(".", 1)[-1] != left_out)
for file in (f for p in map(Path, paths) for f in ([p] if p.is_file() else sorted(p.rglob("*.py")))):
    text = file.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        continue
    if mode.startswith("plugin"):
        list(Plugin(tree, text.splitlines(True), str(file)).run())
"""


def plugin_instructions(paths: list[Path], without: str | None = None) -> tuple[float, float]:
    """(G instructions of parsing the corpus, G instructions the CB plugin adds to it), counted by
    valgrind's callgrind: about 50x slower than running, unmoved by the machine's load. ``without``:
    the plugin with that rule group (``transactions``, ``periodic``, ...) left out."""
    counts = []
    for mode in ("parse", f"plugin-without-{without}" if without else "plugin"):
        done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                               "-c", _COUNTED, mode, *map(str, paths)], capture_output=True, text=True)
        found = re.search(r"Collected : (\d+)", done.stderr)
        if found is None:
            raise SystemExit(f"valgrind gave no instruction count: {done.stderr[-500:]}")
        counts.append(int(found.group(1)) / 1e9)
    return counts[0], counts[1] - counts[0]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--instructions", action="store_true",
                        help="count the plugin's own instructions with valgrind instead of timing flake8")
    parser.add_argument("--without", metavar="GROUP",
                        help="with --instructions: also count the plugin without this rule group (its cost)")
    options = parser.parse_args(argv)
    paths = options.paths or [p for p in DEFAULT if p.exists()]
    files, lines = count_lines(paths)
    print(f"corpus: {files} files, {lines:,} lines ({', '.join(p.name for p in paths)})")
    if options.instructions:
        parse, plugin = plugin_instructions(paths)
        print(f"instructions: parsing {parse:.2f} G, the CB plugin {plugin:.2f} G more "
              f"({plugin / parse:.1%} of parsing)")
        if options.without:
            _, without = plugin_instructions(paths, options.without)
            print(f"without the {options.without} group: {without:.2f} G; the group costs {plugin - without:.3f} G "
                  f"({(plugin - without) / plugin:.1%} of the plugin)")
        return 0
    wall = {"without": float("inf"), "with": float("inf")}
    cpu = dict(wall)
    findings = 0
    for _ in range(options.repeat):
        for mode in ("without", "with"):
            elapsed, used, cb = run(mode, paths, options.jobs)
            wall[mode] = min(wall[mode], elapsed)
            cpu[mode] = min(cpu[mode], used)
            findings = cb if mode == "with" else findings
    print(f"wall (best of {options.repeat}): without CB {wall['without']:.2f} s, with CB {wall['with']:.2f} s, "
          f"ratio {wall['with'] / wall['without']:.3f}x")
    print(f"CPU  (best of {options.repeat}): without CB {cpu['without']:.2f} s, with CB {cpu['with']:.2f} s, "
          f"ratio {cpu['with'] / cpu['without']:.3f}x (target <= 1.05x); CB findings: {findings}")
    own = plugin_cpu(paths)
    print(f"CB plugin alone, in this process: {own:.2f} s CPU = {1 + own / cpu['without']:.3f}x of flake8 "
          "without it (load-independent estimate)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
