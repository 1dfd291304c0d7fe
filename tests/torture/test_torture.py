"""Torture: trees mixing every odd input (FIFOs, link loops, dangling links, deep valid code, latin-1,
syntax errors, overlapping fixes, a chain-only task imported inside a function) go through ``check``,
``fix --diff``, ``fix`` and flake8 in child processes with timeouts: no traceback, no hang, no byte of
user code lost, and ``fix`` followed by ``check`` never reports a new finding while the fixed package
still compiles and imports. Few, derandomized examples: it runs in CI on two cores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
TIMEOUT = 120

TASKS = (
    "from celery import shared_task\n\n\n@shared_task\ndef fetch(x):\n    return [x]\n\n\n"
    "@shared_task\ndef total(counts):\n    return sum(counts)\n"
)
PIECES: dict[str, Callable[[Path], None]] = {}


def piece(function: Callable[[Path], None]) -> Callable[[Path], None]:
    PIECES[function.__name__] = function
    return function


def put(root: Path, relative: str, data: str | bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


@piece
def fifo(root: Path) -> None:
    (root / "pkg").mkdir(exist_ok=True)
    os.mkfifo(root / "pkg" / "f.py")


@piece
def link_loop(root: Path) -> None:
    (root / "pkg").mkdir(exist_ok=True)
    (root / "pkg" / "loop.py").symlink_to("loop.py")


@piece
def dangling_link(root: Path) -> None:
    (root / "pkg").mkdir(exist_ok=True)
    (root / "pkg" / "gone.py").symlink_to("nowhere.py")


@piece
def deep_plus(root: Path) -> None:
    put(root, "pkg/deep_plus.py", "accept_content = ['pickle']\nx = " + "+".join(["1"] * 2000) + "\n")


@piece
def deep_list(root: Path) -> None:
    put(root, "pkg/deep_list.py", "accept_content = ['pickle']\nx = " + "[" * 150 + "]" * 150 + "\n")


@piece
def huge_sum(root: Path) -> None:
    put(root, "pkg/huge_sum.py", "accept_content = ['pickle']\nx = " + "+".join(["1"] * 50_000) + "\n")


@piece
def latin1(root: Path) -> None:
    put(root, "pkg/latin.py", "# -*- coding: latin-1 -*-\naccept_content = ['pickle']\nNAME = 'caf\xe9'\n"
        .encode("latin-1"))


@piece
def syntax_error(root: Path) -> None:
    put(root, "pkg/broken.py", "from celery import shared_task\n\ndef f(:\n")


@piece
def overlapping_fixes(root: Path) -> None:
    put(root, "pkg/celeryconfig.py", 'accept_content = [\n    "json",\n    "pickle",\n]\nbeat_schedule = {\n'
        '    "a": {  # noqa: CB401\n        "task": "pkg.tasks.fetch",\n        "schedule": 30.0,\n    },\n'
        '    "b": {\n        "task": "pkg.tasks.fetch",\n        "schedule": 60.0,\n    },\n}\n')


@piece
def local_import(root: Path) -> None:
    put(root, "pkg/top.py", "from celery import chain\nfrom pkg.tasks import fetch, total\n\n\n"
        "def begin():\n    chain(fetch.s(2), total.s()).delay()\n")
    put(root, "pkg/inner.py", "from celery import chain\n\n\ndef start():\n"
        "    from pkg.tasks import fetch, total\n    chain(fetch.s(1), total.s()).delay()\n")


def build(root: Path, names: list[str]) -> None:
    (root / ".git").mkdir()
    put(root, "pkg/__init__.py", "")
    put(root, "pkg/tasks.py", TASKS)
    for name in dict.fromkeys(names):
        PIECES[name](root)


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "celery_boundary.cli", *args], cwd=root, capture_output=True,
                          text=True, errors="replace", timeout=TIMEOUT, env=ENV)
    assert "Traceback" not in done.stderr, (args, done.stderr[-3000:])
    assert done.returncode in (0, 1), (args, done.stderr[-3000:])
    return done


def findings(root: Path) -> set[tuple[str, str]]:
    """(path, code) of every finding ``check`` reports, CB001 aside (fix does not remove skips)."""
    report = json.loads(cli(root, "check", "-q", "--format", "json").stdout)
    return {(f["path"], f["code"]) for f in report if f["code"] != "CB001"}


def regular_files(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(root.rglob("*.py"))
            if not path.is_symlink() and path.is_file()}


def lost_lines(before: bytes, after: bytes) -> set[bytes]:
    """Lines of ``before`` missing from ``after`` that a fix does not remove or rename."""
    fixed = (b"pickle", b"total", b"[")
    kept = set(after.splitlines())
    return {line for line in before.splitlines() if line not in kept and not any(f in line for f in fixed)}


def torture(root: Path, names: list[str]) -> None:
    build(root, names)
    before = regular_files(root)
    found = findings(root)
    diff = cli(root, "fix", "--unsafe-fixes", "--diff")
    assert regular_files(root) == before, "--diff writes nothing"
    assert diff.returncode == (1 if diff.stdout else 0)
    cli(root, "fix", "--unsafe-fixes")
    after = regular_files(root)
    assert set(after) == set(before)
    for path, text in before.items():
        assert not lost_lines(text, after[path]), path
    assert findings(root) <= found, "fix followed by check reports no new finding"
    assert cli(root, "fix", "--unsafe-fixes", "--diff").stdout == "", "a second fix changes nothing"
    importable = [path for path in after if path.name not in {"huge_sum.py", "broken.py"}]
    compiled = subprocess.run([sys.executable, "-c", "import sys, pkg.tasks\nfor p in sys.argv[1:]: "
                               "compile(open(p, 'rb').read(), p, 'exec')\nimport pkg.top" if (root / "pkg/top.py")
                               .exists() else "import pkg.tasks", *map(str, importable)],
                              cwd=root, capture_output=True, text=True, timeout=TIMEOUT, env=ENV)
    assert compiled.returncode == 0, compiled.stderr[-3000:]


def test_every_odd_input_at_once(tmp_path: Path) -> None:
    torture(tmp_path, list(PIECES))


def test_flake8_plugin_never_fails_on_the_odd_inputs_flake8_itself_can_read(tmp_path: Path) -> None:
    """flake8 reads the files and builds the tree itself: a FIFO or 50,000 terms fail in flake8's own
    code, before any plugin runs, so those are left out here; the plugin must not fail on the rest."""
    build(tmp_path, [name for name in PIECES if name not in {"fifo", "huge_sum"}])
    reported = ""
    for path in sorted((tmp_path / "pkg").glob("*.py")):  # one run per file: pyflakes' own RecursionError
        # on deep_plus.py ends flake8's run for every file after it
        done = subprocess.run([sys.executable, "-m", "flake8", "--select", "CB", "-j", "1", str(path)],
                              cwd=tmp_path, capture_output=True, text=True, errors="replace", timeout=TIMEOUT,
                              env=ENV)
        output = done.stdout + done.stderr
        assert "Traceback" not in output and '"CB' not in output, output[-3000:]
        reported += done.stdout
    assert "celeryconfig.py:1:1: CB102" in reported and "deep_list.py:1:1: CB102" in reported


@settings(max_examples=6, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.sampled_from(sorted(PIECES)), min_size=1, max_size=4))
def test_generated_trees_survive_check_and_fix(tmp_path_factory: object, names: list[str]) -> None:
    root = tmp_path_factory.mktemp("tree")  # type: ignore[attr-defined]
    torture(root, names)
