"""Run celery-boundary over real open-source Celery projects and print a markdown report.

    python scripts/validate.py PATH [PATH ...] [--timeout S] [--no-mypy] [--mypy-files N] [--json FILE]

For each project directory (a checkout of someone else's code, outside this repository):

* ``flake8 --select CB`` (every CB rule, CB301 included) - findings per rule; crashes are the
  plugin's "internal error" line or any traceback on stderr;
* ``flake8 --select E9,F`` with the plugin and without it (filtered out of flake8's plugin
  discovery, as in benchmarks/flake8_overhead.py) - the cost the plugin adds to a plain run, as a
  CPU-time ratio (flake8 runs every plugin whatever ``--select`` says);
* ``celery-boundary check --select CB`` - findings per rule, files skipped with an internal error;
* mypy on the modules that mention Celery (``--mypy-files`` at most, missing imports ignored,
  ``follow_imports = silent``), cold cache, plain and with ``plugins = celery_boundary.mypy`` -
  internal errors (``INTERNAL ERROR``, a traceback, ``[celery-internal]``), the errors that only
  the plugin run reports, and the time ratio;
* the census of task bodies (the business logic CB301 reads, its weight per task), over
  every task the index finds, and decorators that look like task decorators but were not taken
  for one (candidates for missed tasks).

Every tool runs in a subprocess with a timeout, from an empty working directory (so no
``[tool.celery_boundary]`` or flake8 configuration of this repository applies). Not a test.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

CODES = ("CB101", "CB102", "CB103", "CB201", "CB202", "CB203", "CB204", "CB301", "CB401")
BIN = Path(sys.executable).parent
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "build", "dist"}

# flake8's own main(); with "without", our entry point is dropped from plugin discovery first.
_FLAKE8 = """
import sys
import flake8.plugins.finder as finder
if sys.argv[1] == "without":
    found = finder.find_plugins
    finder.find_plugins = lambda cfg, opts: [
        p for p in found(cfg, opts) if not p.entry_point.value.startswith("celery_boundary")]
from flake8.main.cli import main
main(sys.argv[2:])
"""
_FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<msg>.*)$")
_MYPY_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?:\d+:)? (?P<kind>error|note): (?P<msg>.*?)"
                        r"(?:  \[(?P<code>[a-z0-9-]+)\])?$")
#: Modules mypy checks: those that define tasks or configure Celery, and those that launch tasks
#: (``.delay(`` / ``.apply_async(`` / signatures), where the plugin's call checks report.
_CELERY_MENTION = re.compile(r"^\s*(from celery|import celery)|shared_task|\.task\(|@\w+\.task\b"
                             r"|\.delay\(|\.apply_async\(|\.si?\(", re.M)
_TASKISH = re.compile(r"(^|\.)(\w*task)$")


@dataclass
class Run:
    seconds: float = 0.0
    cpu: float = 0.0
    returncode: int | None = None
    timed_out: bool = False
    stdout: str = ""
    stderr: str = ""


@dataclass
class Report:
    name: str
    path: str
    commit: str = ""
    files: int = 0
    lines: int = 0
    flake8: dict[str, int] = field(default_factory=dict)
    check: dict[str, int] = field(default_factory=dict)
    crashes: list[str] = field(default_factory=list)
    times: dict[str, float] = field(default_factory=dict)
    mypy: dict[str, object] = field(default_factory=dict)
    tasks: list[dict[str, object]] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    #: Task factories found by the project-wide scan (``check``'s), used by the census.
    factories: list[str] = field(default_factory=list)


def run(args: list[str], timeout: float, cwd: Path) -> Run:
    """One subprocess, timed (wall and children's CPU), bounded by ``timeout``."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=cwd)
        result = Run(returncode=done.returncode, stdout=done.stdout, stderr=done.stderr)
    except subprocess.TimeoutExpired as exc:
        result = Run(timed_out=True, stdout=_text(exc.stdout), stderr=_text(exc.stderr))
    result.seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.cpu = usage.ru_utime + usage.ru_stime - before
    return result


def _text(data: bytes | str | None) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if not SKIP_DIRS.intersection(p.relative_to(root).parts))


def commit_of(root: Path) -> str:
    marker = root / ".validate-commit"  # written by whoever exported the tree (git archive has no .git)
    if marker.exists():
        return marker.read_text().strip()
    done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "?"


def crash_lines(label: str, result: Run) -> list[str]:
    found = []
    if result.timed_out:
        found.append(f"{label}: timed out")
    for line in (result.stderr + "\n" + result.stdout).splitlines():
        if "internal error" in line.lower() or line.startswith("Traceback") or "[celery-internal]" in line:
            found.append(f"{label}: {line.strip()[:300]}")
    return found


def run_flake8(report: Report, root: Path, timeout: float, cwd: Path) -> None:
    common = ["--isolated", "--exit-zero", "--jobs", "1"]
    cb = run([sys.executable, "-c", _FLAKE8, "with", *common, "--select", "CB", str(root)], timeout, cwd)
    report.crashes += crash_lines("flake8 CB", cb)
    for line in cb.stdout.splitlines():
        match = _FINDING.match(line)
        if match and match["code"].startswith("CB"):
            report.flake8[match["code"]] = report.flake8.get(match["code"], 0) + 1
            report.findings.append(line)
    for mode in ("without", "with"):
        plain = run([sys.executable, "-c", _FLAKE8, mode, *common, "--select", "E9,F", str(root)], timeout, cwd)
        report.crashes += crash_lines(f"flake8 E9,F ({mode})", plain)
        report.times[f"flake8_{mode}"] = plain.cpu
    report.times["flake8_cb_only"] = cb.cpu


def run_check(report: Report, root: Path, timeout: float, cwd: Path) -> None:
    exe = BIN / "celery-boundary"
    if not exe.exists():
        report.check = {"unavailable": 1}
        return
    done = run([str(exe), "check", "-q", "--jobs", "1", "--select", "CB", "--format", "json", str(root)],
               timeout, cwd)
    report.times["check"] = done.cpu
    report.crashes += crash_lines("check", done)
    if done.returncode not in (0, 1):
        report.crashes.append(f"check: exit {done.returncode}: {done.stderr.strip()[-300:]}")
        return
    try:
        rows = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        report.crashes.append("check: output is not JSON")
        return
    report.check = dict(Counter(row["code"] for row in rows))


def celery_modules(files: list[Path]) -> list[Path]:
    chosen = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if _CELERY_MENTION.search(text) and "/tests/" not in str(path) and not path.name.startswith("test"):
            chosen.append(path)
    return chosen


def run_mypy(report: Report, root: Path, files: list[Path], limit: int, timeout: float, cwd: Path) -> None:
    targets = celery_modules(files)[:limit]
    report.mypy["modules"] = len(targets)
    if not targets:
        return
    outputs: dict[str, Run] = {}
    for mode in ("plain", "plugin"):
        cache = Path(tempfile.mkdtemp(prefix=f"validate-mypy-{mode}-"))
        # At the project's root, where a user keeps it: the plugin looks for the Celery app (and the
        # serializer it configures) under the configuration file's folder. A config file elsewhere
        # made paperless (signed-pickle) and taiga (pickle) look like json projects.
        ini = root / f".celery-boundary-validate-{mode}.ini"
        plugin = "plugins = celery_boundary.mypy\n" if mode == "plugin" else ""
        ini.write_text("[mypy]\nignore_missing_imports = True\nfollow_imports = silent\n"
                       f"cache_dir = {cache / 'cache'}\nexplicit_package_bases = True\n"
                       f"mypy_path = {root}\n{plugin}")
        args = [str(BIN / "mypy"), "--config-file", str(ini), "--no-pretty", "--show-error-codes",
                "--show-traceback", "--no-color-output", *map(str, targets)]
        try:
            outputs[mode] = result = run(args, timeout, root)
        finally:
            ini.unlink(missing_ok=True)
        report.times[f"mypy_{mode}"] = result.cpu
        report.crashes += crash_lines(f"mypy {mode}", result)
        if result.returncode == 2 or result.timed_out:
            report.mypy[f"{mode}_blocked"] = (result.stdout + result.stderr).strip()[-400:]
    plain, plugin_run = (_mypy_errors(outputs[m].stdout) for m in ("plain", "plugin"))
    only_plugin = sorted(plugin_run - plain)
    report.mypy["errors_plain"] = len(plain)
    report.mypy["errors_plugin"] = len(plugin_run)
    report.mypy["only_with_plugin"] = [" ".join(map(str, e)) for e in only_plugin]
    report.mypy["only_without_plugin"] = [" ".join(map(str, e)) for e in sorted(plain - plugin_run)]
    report.mypy["codes_only_with_plugin"] = dict(Counter(e[2] for e in only_plugin))


def _mypy_errors(output: str) -> set[tuple[str, int, str, str]]:
    found = set()
    for line in output.splitlines():
        match = _MYPY_LINE.match(line)
        if match and match["kind"] == "error":
            found.add((match["path"], int(match["line"]), match["code"] or "-", match["msg"][:200]))
    return found


def census(report: Report, root: Path, files: list[Path]) -> None:
    """Read every task body as CB301 does (with the project's task factories, as ``check`` finds
    them); list decorators that look like tasks but are not."""
    from celery_boundary.analysis.index import build_index
    from celery_boundary.core.config import Config
    from celery_boundary.checks.thin_tasks import measure_task
    from celery_boundary.gate.factory_scan import with_project_factories

    decorators = frozenset(with_project_factories(files, Config()).task_decorators)
    report.factories = sorted(decorators)
    for path in files:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, OSError, RecursionError):
            continue
        try:
            index = build_index(tree, decorators)
        except Exception as exc:  # noqa: BLE001 - a crash is a finding of this script
            report.crashes.append(f"build_index {path}: {exc!r}")
            continue
        known = {id(t.function) for t in index.every_task if t.function is not None}
        where = path.relative_to(root)
        for task in index.every_task:
            if task.function is None:
                continue
            logic = measure_task(task)
            report.tasks.append({"where": f"{where}:{task.function.lineno}", "name": task.name,
                                 "score": logic.score, **asdict(logic)})
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and id(node) not in known:
                for deco in node.decorator_list:
                    text = ast.unparse(deco.func if isinstance(deco, ast.Call) else deco)
                    if _TASKISH.search(text) and not text.startswith(("pytest", "invoke")):
                        report.missed.append(f"{where}:{node.lineno} @{text} def {node.name}")


def markdown(reports: list[Report]) -> str:
    out = ["## Findings per rule (flake8 --select CB / celery-boundary check --select CB)", "",
           "| project | commit | files | lines | " + " | ".join(CODES) + " | crashes |",
           "|---|---|---:|---:|" + "---:|" * len(CODES) + "---:|"]
    for r in reports:
        cells = [f"{r.flake8.get(c, 0)}/{r.check.get(c, 0)}" for c in CODES]
        out.append(f"| {r.name} | {r.commit[:10]} | {r.files} | {r.lines:,} | " + " | ".join(cells)
                   + f" | {len(r.crashes)} |")
    out += ["", "## Time (CPU seconds; ratios in the same run)", "",
            "| project | flake8 E9,F without CB | with CB | ratio | check --select CB | check / flake8 | "
            "mypy modules | mypy plain | mypy + plugin | ratio |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in reports:
        t = r.times
        base = t.get("flake8_without", 0.0)
        ratio = t.get("flake8_with", 0.0) / base if base else 0.0
        check_ratio = t.get("check", 0.0) / base if base else 0.0
        mp, mq = t.get("mypy_plain"), t.get("mypy_plugin")
        mratio = f"{mq / mp:.2f}x" if mp and mq else "-"
        out.append(f"| {r.name} | {base:.2f} | {t.get('flake8_with', 0.0):.2f} | {ratio:.2f}x | "
                   f"{t.get('check', 0.0):.2f} | {check_ratio:.2f}x | {r.mypy.get('modules', 0)} | "
                   f"{mp or 0:.2f} | {mq or 0:.2f} | {mratio} |")
    out += ["", "## mypy plugin", "", "| project | errors plain | errors + plugin | only with plugin (by code) |"
            " blocked |", "|---|---:|---:|---|---|"]
    for r in reports:
        blocked = "; ".join(k for k in r.mypy if k.endswith("_blocked")) or "-"
        out.append(f"| {r.name} | {r.mypy.get('errors_plain', '-')} | {r.mypy.get('errors_plugin', '-')} | "
                   f"{r.mypy.get('codes_only_with_plugin', {})} | {blocked} |")
    out += ["", "## Task bodies as CB301 reads them (all tasks found)", ""] + census_table(reports)
    crashes = [f"- {r.name}: {c}" for r in reports for c in r.crashes]
    out += ["", "## Crashes", ""] + (crashes or ["none"])
    return "\n".join(out) + "\n"


def census_table(reports: list[Report]) -> list[str]:
    """Per project: tasks found, and how many weigh more than CB301's default ``max_task_logic``."""
    from celery_boundary.core.config import Config

    limit = Config.max_task_logic
    rows = [f"| project | tasks | weight p50 | p90 | max | above {limit} |", "|---|---:|---:|---:|---:|---:|"]
    for r in reports:
        values = sorted(int(str(t["score"])) for t in r.tasks)
        if not values:
            continue
        q = statistics.quantiles(values, n=10, method="inclusive") if len(values) > 1 else values * 9
        above = sum(v > limit for v in values)
        rows.append(f"| {r.name} | {len(values)} | {q[4]:.0f} | {q[8]:.0f} | {values[-1]} | {above} "
                    f"({100 * above / len(values):.0f} %) |")
    return rows if len(rows) > 2 else ["no tasks found"]


def validate(root: Path, options: argparse.Namespace) -> Report:
    root = root.resolve()
    files = python_files(root)
    report = Report(name=root.name, path=str(root), commit=commit_of(root), files=len(files))
    report.lines = sum(len(p.read_bytes().splitlines()) for p in files)
    with tempfile.TemporaryDirectory(prefix="validate-cwd-") as empty:
        cwd = Path(empty)
        if "flake8" in options.tools:
            print(f"[{root.name}] flake8 ...", file=sys.stderr)
            run_flake8(report, root, options.timeout, cwd)
        if "check" in options.tools:
            print(f"[{root.name}] check ...", file=sys.stderr)
            run_check(report, root, options.timeout, cwd)
        if "mypy" in options.tools and not options.no_mypy:
            print(f"[{root.name}] mypy ...", file=sys.stderr)
            run_mypy(report, root, files, options.mypy_files, options.timeout, cwd)
    if "census" in options.tools:
        census(report, root, files)
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--render", type=Path, help="only print the report of a saved --json file")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per tool run")
    parser.add_argument("--no-mypy", action="store_true")
    parser.add_argument(
        "--tools",
        type=lambda text: set(text.split(",")),
        default={"flake8", "check", "mypy", "census"},
        help="comma-separated subset of flake8,check,mypy,census (default: all)",
    )
    parser.add_argument("--mypy-files", type=int, default=150, help="at most this many Celery modules")
    parser.add_argument("--json", type=Path, help="also write every raw result here")
    options = parser.parse_args(argv)
    if options.render:
        saved = [Report(**row) for row in json.loads(options.render.read_text())]
        sys.stdout.write(markdown(saved))
        return 0
    if not options.paths:
        parser.error("give at least one project directory (or --render FILE)")
    reports = []
    for path in options.paths:
        reports.append(validate(path, options))
        if options.json:  # after each project: a later timeout or interrupt keeps what is done
            options.json.write_text(json.dumps([asdict(r) for r in reports], indent=1))
    sys.stdout.write(markdown(reports))
    return 1 if any(r.crashes for r in reports) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
