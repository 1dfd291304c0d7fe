"""mypy with vs without the celery-boundary plugin, in the same run: cold and warm cache.

    python benchmarks/mypy_overhead.py [--modules 300] [--repeat 1] [--instructions] [--skip-fixtures]
                                       [--real PATH ...]

Generates a project (task modules and caller modules: >= 300 modules, >= 1,000 tasks, >= 5,000
calls), then times ``python -m mypy`` on it with ``plugins = celery_boundary.mypy`` and without,
cold (empty cache) and warm (second run, one call-site module edited), and on each project in
fixtures/, and with ``--real`` on a real project: a copy of its ``.py`` files, mypy given the modules
``scripts/validate.py`` picks (those that define, configure or launch tasks) with its settings. Prints
the ratios of CPU time (user + system of the mypy process: wall time swings
with other load); targets are <= 1.03x cold and <= 1.05x warm. Each configuration runs in its own
process, alternating, best of ``--repeat``.

Without the plugin, celery-types types ``@app.task`` as ``Task[Any, Any]``: mypy checks nothing at
those calls. With it, every call is checked against the task's signature, so part of the cold
ratio is mypy doing the checking the plugin exists for, not plugin code.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS_PER_MODULE = 10
CALLS_PER_CALLER = 25

TASK_MODULE = '''\
from dataclasses import dataclass
from celery import shared_task
from proj.app import app


@dataclass
class Item{n}:
    sku: str
    count: int

'''

TASK_TEMPLATES = (
    "@app.task\ndef add_{n}_{i}(x: int, y: int = 0) -> int:\n    return x + y\n\n",
    "@app.task(bind=True, max_retries=3)\ndef tag_{n}_{i}(self, name: str, tags: list[str]) -> dict[str, int]:\n"
    "    return {{t: 1 for t in tags}}\n\n",
    "@shared_task\ndef ship_{n}_{i}(sku: str, *, count: int = 1) -> tuple[str, int]:\n    return (sku, count)\n\n",
)

CALL_TEMPLATES = (
    "add_{m}_{i}.delay({k}, {k})",
    "add_{m}_{i}.apply_async(args=[{k}, 2], countdown=1)",
    "tag_{m}_{j}.delay('n{k}', ['a', 'b'])",
    "ship_{m}_{l}.s('sku{k}', count={k})",
    "ship_{m}_{l}.apply_async(('sku',), {{'count': {k}}})",
)


def generate(root: Path, modules: int) -> tuple[int, int, int]:
    """Write the project; return (modules, tasks, calls)."""
    proj = root / "proj"
    proj.mkdir(parents=True)
    (proj / "__init__.py").write_text("")
    (proj / "app.py").write_text(
        'from celery import Celery\n\napp = Celery("proj")\napp.conf.update(task_serializer="json")\n'
    )
    task_modules = max(1, modules // 3)
    caller_modules = modules - task_modules
    tasks = calls = 0
    for n in range(task_modules):
        body = [TASK_MODULE.format(n=n)]
        for i in range(TASKS_PER_MODULE):
            body.append(TASK_TEMPLATES[i % 3].format(n=n, i=i))
            tasks += 1
        (proj / f"tasks_{n}.py").write_text("".join(body))
    for c in range(caller_modules):
        m = c % task_modules
        lines = [f"from proj.tasks_{m} import *  # noqa: F403\n", "\n", "def run() -> None:\n"]
        for k in range(CALLS_PER_CALLER):
            template = CALL_TEMPLATES[k % len(CALL_TEMPLATES)]
            i = (k % 3) * 3
            lines.append("    " + template.format(m=m, i=i, j=i + 1, l=i + 2, k=k) + "\n")
            calls += 1
        (proj / f"callers_{c}.py").write_text("".join(lines))
    return 2 + task_modules + caller_modules, tasks, calls


#: mypy settings of the generated project and the fixtures.
OWN = "check_untyped_defs = true\n"


def write_config(root: Path, plugin: bool, settings: str = OWN) -> Path:
    config = root / ("with.ini" if plugin else "without.ini")
    plugins = "plugins = celery_boundary.mypy\n" if plugin else ""
    config.write_text(f"[mypy]\n{plugins}{settings}")
    return config


def copy_real_project(project: Path, into: Path) -> tuple[Path, list[str], str]:
    """(copy, mypy targets, mypy settings) as ``scripts/validate.py`` runs mypy on ``project``."""
    spec = importlib.util.spec_from_file_location("validate", ROOT / "scripts" / "validate.py")
    assert spec is not None and spec.loader is not None
    validate = importlib.util.module_from_spec(spec)
    sys.modules["validate"] = validate  # its dataclasses look their module up
    spec.loader.exec_module(validate)
    files = validate.python_files(project)
    copy = into / project.name
    for file in files:
        target = copy / file.relative_to(project)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
    targets = [str(path.relative_to(project)) for path in validate.celery_modules(files)[:150]]
    settings = (
        "ignore_missing_imports = True\nfollow_imports = silent\nexplicit_package_bases = True\n"
        f"mypy_path = {copy}\n"
    )
    return copy, targets, settings


#: Set by ``--instructions``: count instructions under callgrind instead of timing.
COUNT_INSTRUCTIONS = False

#: The mypy processes run as an installed plugin runs: with bytecode caching on. Under
#: PYTHONDONTWRITEBYTECODE a module without a ``.pyc`` (one just edited) is compiled in every run,
#: which is charged to the plugin and is not what a user's mypy pays.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def compile_plugin() -> None:
    """Write the ``.pyc`` of every plugin module before measuring (``pip install`` does the same)."""
    import celery_boundary

    compileall.compile_dir(Path(celery_boundary.__file__).parent, quiet=1)


def mypy(cwd: Path, config: Path, cache: Path, targets: list[str]) -> float:
    """CPU seconds (user + system) of one mypy process: steadier than wall time on a shared machine.

    With ``--instructions``: billions of instructions executed (valgrind's callgrind), which other
    load on the machine does not change (two runs of the same configuration agree within 0.2 %).
    """
    command = [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(cache), *targets]
    if COUNT_INSTRUCTIONS:
        counted = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            env=ENV,
        )
        found = re.search(r"Collected : (\d+)", counted.stderr)
        if found is None:
            raise SystemExit(f"valgrind gave no instruction count: {counted.stderr[-500:]}")
        return int(found.group(1)) / 1e9
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, capture_output=True, check=False, env=ENV)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def compare(cwd: Path, targets: list[str], touch: Path | None, repeat: int, settings: str = OWN) -> dict[str, float]:
    """Best-of-``repeat`` times for (with, without) x (cold, warm)."""
    configs = {name: write_config(cwd, name == "with", settings) for name in ("with", "without")}
    best: dict[str, float] = {}
    for _ in range(repeat):
        for name, config in configs.items():
            cache = cwd / f".cache_{name}"
            shutil.rmtree(cache, ignore_errors=True)
            cold = mypy(cwd, config, cache, targets)
            if touch is not None:
                touch.write_text(touch.read_text() + "\n# edited\n")
            warm = mypy(cwd, config, cache, targets)
            best[f"{name} cold"] = min(best.get(f"{name} cold", cold), cold)
            best[f"{name} warm"] = min(best.get(f"{name} warm", warm), warm)
    return best


def report(title: str, best: dict[str, float]) -> None:
    cold = best["with cold"] / best["without cold"]
    warm = best["with warm"] / best["without warm"]
    unit = ("G instructions", "G") if COUNT_INSTRUCTIONS else ("CPU s", "s")
    print(
        f"{title} ({unit[0]}): cold {best['with cold']:.2f}{unit[1]} vs {best['without cold']:.2f}{unit[1]} = "
        f"{cold:.3f}x (target 1.03x); warm {best['with warm']:.2f}{unit[1]} vs {best['without warm']:.2f}{unit[1]} = "
        f"{warm:.3f}x (target 1.05x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions with valgrind (about 40x slower, unaffected by other load)",
    )
    parser.add_argument("--skip-fixtures", action="store_true", help="only the generated project")
    parser.add_argument("--real", type=Path, nargs="*", default=[], help="also these real projects")
    parser.add_argument("--skip-generated", action="store_true", help="not the generated project")
    args = parser.parse_args()
    global COUNT_INSTRUCTIONS
    COUNT_INSTRUCTIONS = args.instructions
    compile_plugin()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if not args.skip_generated:
            count, tasks, calls = generate(root, args.modules)
            print(f"generated: {count} modules, {tasks} tasks, {calls} calls")
            report("generated", compare(root, ["proj"], root / "proj" / "callers_0.py", args.repeat))
        projects = [] if args.skip_fixtures else sorted((ROOT / "fixtures").iterdir())
        for project in (p for p in projects if (p / "pyproject.toml").is_file()):
            copy = root / "fixtures" / project.name
            shutil.copytree(project, copy)
            packages = sorted(p.name for p in copy.iterdir() if (p / "__init__.py").is_file())
            first = next(iter(sorted(copy.glob("*/views.py"))), None)
            report(f"fixtures/{project.name}", compare(copy, packages, first, args.repeat))
        for project in args.real:
            copy, targets, settings = copy_real_project(project.resolve(), root / "real")
            if not targets:
                print(f"{project.name}: no module defines, configures or launches tasks")
                continue
            label = f"{project.name} ({len(targets)} Celery modules)"
            report(label, compare(copy, targets, copy / targets[0], args.repeat, settings))


if __name__ == "__main__":
    main()
