"""How celery-boundary grows with project size: a generated Celery project of N modules (5 tasks each,
so 2,000 modules hold 10,000 tasks) through ``celery-boundary check``, flake8 with the CB plugin, and
mypy with the plugin (cold cache, warm cache after editing one call-site module, and dmypy: start +
first check, then a recheck after the same edit), and plain mypy (no plugin, its own cache) cold and
warm as the baseline. Prints wall time and peak memory (max RSS of the process, or of the daemon for
dmypy) per size, the growth factor from the smallest to the largest size, and per size the ratio
mypy + plugin / plain mypy (time and memory), all from one run. Not a test.

    python benchmarks/scale.py [--sizes 200,500,1000,2000] [--skip mypy,dmypy]

Every command runs once per size in its own process (``--jobs 1`` for check and flake8), one after
another; on a shared machine absolute times move, so read the growth factors, taken in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
TASKS_PER_MODULE = 5
PLAIN_COLD, PLUGIN_COLD = "plain mypy, cold", "mypy + plugin, cold"
PLAIN_WARM, PLUGIN_WARM = "plain mypy, warm (1 edit)", "mypy + plugin, warm (1 edit)"

APP = '''\
from celery import Celery

app = Celery("proj")
app.conf.update(task_serializer="json", accept_content=["json"])
app.conf.beat_schedule = {
    "tick": {"task": "proj.mod0.t0_0", "schedule": 60.0, "options": {"expires": 50}},
}
'''

MODULE_HEAD = '''\
"""Generated module {i}: tasks, calls to the previous module's tasks, one canvas."""
from __future__ import annotations

from dataclasses import dataclass

from celery import chain, shared_task

from proj.app import app
{import_previous}


@dataclass
class Row{i}:
    key: int
    label: str

'''

TASK_APP = '''

@app.task
def t{i}_{j}(order_id: int, labels: list[str], scale: float = 1.0) -> dict[str, int]:
    """Load, delegate, return plain data."""
    return {{"order": order_id, "labels": len(labels)}}
'''

TASK_SHARED = '''

@shared_task(bind=True, max_retries=3)
def t{i}_{j}(self, ids: list[int]) -> int:
    try:
        return sum(ids)
    except ValueError as exc:
        raise self.retry(exc=exc)
'''

CALLS = '''

def launch{i}(order_id: int) -> None:
    prev.t{p}_0.delay(order_id, ["a", "b"])
    prev.t{p}_2.apply_async((order_id, ["c"]), {{"scale": 2.0}}, countdown=5)
    prev.t{p}_1.delay([order_id, 1, 2])
    chain(prev.t{p}_4.s(order_id, []), prev.t{p}_3.si([1])).delay()
'''


def generate(root: Path, modules: int) -> None:
    package = root / "proj"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(APP)
    for i in range(modules):
        previous = f"from proj import mod{i - 1} as prev"
        text = MODULE_HEAD.format(i=i, import_previous=previous if i else "")
        text += "".join((TASK_SHARED if j % 2 else TASK_APP).format(i=i, j=j) for j in range(TASKS_PER_MODULE))
        if i:
            text += CALLS.format(i=i, p=i - 1)
        (package / f"mod{i}.py").write_text(text)
    (root / "mypy.ini").write_text("[mypy]\nplugins = celery_boundary.mypy\nfollow_imports = normal\n")
    (root / "mypy-plain.ini").write_text("[mypy]\nfollow_imports = normal\n")
    (root / "pyproject.toml").write_text('[tool.celery_boundary]\napp = "proj.app"\n')
    (root / ".git").mkdir()


def edit_call_site(root: Path) -> None:
    """The incremental case: only a call-site module changes (registering modules come from the cache)."""
    path = root / "proj" / "mod1.py"
    path.write_text(path.read_text() + "\n\ndef added() -> None:\n    prev.t0_0.delay(1, [])\n")


@dataclass
class Sample:
    seconds: float
    max_rss_mib: float
    status: int
    #: CPU time (user + system) of the child: less moved by other load than wall time. For dmypy it
    #: is the client's only (the daemon does the work), so read its wall time.
    cpu_seconds: float = 0.0


def measure(args: list[str], cwd: Path, timeout: float = 1800.0) -> Sample:
    """Wall time and the max RSS of this one child (os.wait4 reports it per process)."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen(args, cwd=cwd, stdout=sink, stderr=subprocess.PIPE)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    if process.stderr is not None:
        process.stderr.close()
    return Sample(elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status),
                  usage.ru_utime + usage.ru_stime)


def daemon_rss(cwd: Path) -> float:
    """The daemon's peak RSS (VmHWM) in MiB, read from /proc (dmypy's own figure needs psutil)."""
    done = subprocess.run([str(BIN / "dmypy"), "status", "--verbose"], cwd=cwd, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "pid":
            try:
                status = Path(f"/proc/{value.strip()}/status").read_text()
            except OSError:
                break
            for entry in status.splitlines():
                if entry.startswith("VmHWM:"):
                    return int(entry.split()[1]) / 1024
    return float("nan")


def run_size(modules: int, skip: set[str]) -> dict[str, Sample]:
    results: dict[str, Sample] = {}
    with tempfile.TemporaryDirectory(prefix=f"cb-scale-{modules}-") as directory:
        root = Path(directory)
        generate(root, modules)
        if "check" not in skip:
            results["check"] = measure([str(BIN / "celery-boundary"), "check", "-q", "--jobs", "1", "--select",
                                        "CB", "--format", "json", "proj"], root)
        if "flake8" not in skip:
            results["flake8"] = measure([str(BIN / "flake8"), "--isolated", "--jobs", "1", "--select", "E9,F,CB",
                                         "--exit-zero", "proj"], root)
        if "mypy" not in skip:
            mypy = [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", ".mypy_cache", "proj"]
            plain = [sys.executable, "-m", "mypy", "--config-file", "mypy-plain.ini", "--cache-dir", ".mypy_plain",
                     "proj"]
            results[PLAIN_COLD] = measure(plain, root)
            results[PLUGIN_COLD] = measure(mypy, root)
            edit_call_site(root)
            results[PLAIN_WARM] = measure(plain, root)
            results[PLUGIN_WARM] = measure(mypy, root)
        if "dmypy" not in skip:
            shutil.rmtree(root / ".mypy_cache", ignore_errors=True)
            dmypy = [str(BIN / "dmypy"), "run", "--", "--config-file", "mypy.ini", "proj"]
            first = measure(dmypy, root)
            first.max_rss_mib = daemon_rss(root)
            results["dmypy first"] = first
            edit_call_site(root)
            again = measure(dmypy, root)
            again.max_rss_mib = daemon_rss(root)
            results["dmypy recheck (1 edit)"] = again
            subprocess.run([str(BIN / "dmypy"), "stop"], cwd=root, capture_output=True)
    return results


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def print_ratios(table: dict[int, dict[str, Sample]], sizes: list[int]) -> None:
    """mypy + plugin against plain mypy, per size (same run, same generated tree)."""
    pairs = [(PLUGIN_COLD, PLAIN_COLD), (PLUGIN_WARM, PLAIN_WARM)]
    if not all(plugin in table[sizes[0]] for plugin, _ in pairs):
        return
    print()
    print("| mypy + plugin / plain mypy | " + " | ".join(f"{s} modules" for s in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for plugin, plain in pairs:
        cells = []
        for size in sizes:
            with_, without = table[size][plugin], table[size][plain]
            cells.append(f"{with_.seconds / without.seconds:.2f}x time "
                         f"({_ratio(with_.cpu_seconds, without.cpu_seconds)} CPU), "
                         f"{with_.max_rss_mib / without.max_rss_mib:.2f}x memory")
        print(f"| {plugin.split(', ', 1)[1]} | " + " | ".join(cells) + " |")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,500,1000,2000")
    parser.add_argument("--skip", default="", help="comma-separated: check, flake8, mypy, dmypy")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args(argv)
    sizes = [int(s) for s in options.sizes.split(",")]
    skip = {s for s in options.skip.split(",") if s}
    table: dict[int, dict[str, Sample]] = {}
    for size in sizes:
        print(f"{size} modules ({size * TASKS_PER_MODULE} tasks) ...", file=sys.stderr)
        table[size] = run_size(size, skip)
    tools = list(table[sizes[0]])
    print("| tool | " + " | ".join(f"{s} modules" for s in sizes) + f" | growth {sizes[0]}->{sizes[-1]} |")
    print("|---|" + "---:|" * (len(sizes) + 1))
    for tool in tools:
        cells = [f"{table[s][tool].seconds:.1f} s ({table[s][tool].cpu_seconds:.1f} s CPU), "
                 f"{table[s][tool].max_rss_mib:.0f} MiB"
                 + ("" if table[s][tool].status in (0, 1) else f" (exit {table[s][tool].status})") for s in sizes]
        first, last = table[sizes[0]][tool], table[sizes[-1]][tool]
        growth = (f"{last.seconds / first.seconds:.1f}x time ({_ratio(last.cpu_seconds, first.cpu_seconds)} CPU), "
                  f"{last.max_rss_mib / first.max_rss_mib:.1f}x memory")
        print(f"| {tool} | " + " | ".join(cells) + f" | {growth} |")
    print_ratios(table, sizes)
    if options.json:
        options.json.write_text(json.dumps({s: {t: vars(v) for t, v in r.items()} for s, r in table.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
