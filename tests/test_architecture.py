"""The package's layers hold: the import contracts in pyproject.toml ([tool.importlinter]) are kept,
and no module of ``src/celery_boundary`` imports itself back through a chain of imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

def _env() -> dict[str, str]:
    """This checkout's src/ first, whatever tree the installed package points at."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def test_import_contracts_are_kept() -> None:
    # The lint-imports console script, run by this interpreter wherever its scripts directory is.
    command = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    done = subprocess.run(
        [sys.executable, "-c", command, "--no-logo", "--no-cache", "pyproject.toml"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout, done.stdout


def _import_graph() -> dict[str, list[str]]:
    """Module -> the modules of the package it imports, read by grimp from this checkout's src/ (in
    a child process: the package this interpreter imported may be installed from another tree)."""
    command = (
        "import json, grimp; graph = grimp.build_graph('celery_boundary', cache_dir=None); "
        "print(json.dumps({m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", command], cwd=ROOT, env=_env(), capture_output=True, text=True, check=True
    )
    graph: dict[str, list[str]] = json.loads(done.stdout)
    return graph


def import_cycles() -> list[frozenset[str]]:
    """The strongly connected components of more than one module in the package's import graph
    (function-level and TYPE_CHECKING imports included), by Tarjan's algorithm."""
    graph = _import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[frozenset[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(frozenset(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def _describe(cycles: list[frozenset[str]]) -> str:
    return "\n".join(" <-> ".join(sorted(cycle)) for cycle in cycles)


def test_no_import_cycle() -> None:
    cycles = import_cycles()
    assert not cycles, "import cycles:\n" + _describe(cycles)
