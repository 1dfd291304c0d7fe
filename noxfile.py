"""The supported versions, tested: the oldest and the newest releases the README claims, each in a
virtual environment of its own, running the subset of the suite that exercises every front end and the
truth tests (SUBSET). tests/test_supported_versions.py runs both sessions in CI.

    nox -s oldest newest --error-on-missing-interpreters

``oldest``: Python 3.10 with the lowest release of each runtime dependency that pyproject.toml allows
(OLDEST; kombu is the lowest that the lowest Celery accepts). ``newest``: Python 3.13 with the newest
releases. Each installs the package with its ``test`` extra (the ``dev`` extra adds the tools that
check the repository itself, which need Python 3.11+), the test tools the newest that install beside
those, and prints one line, ``supported-versions: python=... celery=...``, with what it installed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["oldest", "newest"]

ROOT = Path(__file__).resolve().parent

#: The floor of every runtime dependency in pyproject.toml, pinned; kombu's is Celery 5.5.0's own
#: (``kombu>=5.5.2,<5.6``). tests/test_supported_versions.py checks these against pyproject.toml.
OLDEST = {
    "celery": "5.5.0",
    "kombu": "5.5.2",
    "mypy": "1.20.0",
    "flake8": "7.0.0",
    "libcst": "1.4.0",
    "celery-types": "0.26.0",
    "pydantic": "2.7.0",
    "typing-extensions": "4.15.0",  # celery-types 0.26.0 needs >=4.15.0
    "tomli": "2.0.0",
}

#: What the sessions run: each front end and the truth tests, in a few minutes on two cores.
SUBSET = [
    "tests/truth/test_kombu.py",  # real values through kombu's serializers
    "tests/runtime/test_runtime_worker.py",  # a real in-process worker, preserializers on both sides
    "tests/truth/test_apps_truth.py",  # the same source run through kombu and checked by the plugin
    "tests/mypy/test_calls.yml",  # the mypy plugin's cases
    "tests/mypy/test_serializability.yml",
    "tests/mypy/test_task_forms.yml",
    "tests/mypy/test_incremental.py",  # warm runs (the daemon's runs are left to the whole suite, below)
    "tests/mypy/test_versions.py",  # pydantic=True as Celery 5.5, 5.6 and 5.7 judge it
    "tests/flake8/test_flake8_examples.py",  # the flake8 rules over every example file
    "tests/flake8/test_flake8_entry_point.py",  # flake8 finds the plugin by its entry point
    "tests/cli/test_cli_real_rules.py",  # check (and check --mypy) over the sample projects
    "tests/cli/test_cli_fix.py",  # fix: the libcst codemods
    "tests/test_fixture_snapshots.py",  # mypy and flake8 over the sample projects
    # mypy 2.x's own worker processes (-n 2) over the sample projects: six more mypy runs, left to the
    # whole suite (each worker must start within mypy's fixed 3 s, which a loaded machine misses)
    "--deselect", "tests/test_fixture_snapshots.py::test_mypy_with_worker_processes_finds_the_same",
    # dmypy must start within a fixed time too: the daemon's tests run in the whole suite on Python 3.11
    "-k", "not daemon",
]

#: The distributions whose installed versions each session reports.
REPORTED = ["celery", "kombu", "mypy", "flake8", "libcst", "celery-types", "pydantic", "typing-extensions"]

_REPORT = (
    "import sys; from importlib import metadata; "
    "print('supported-versions: python=%d.%d.%d ' % sys.version_info[:3] + ' '.join("
    "f'{name}={metadata.version(name)}' for name in sys.argv[1:]))"
)


def interpreter(version: str) -> str:
    """The interpreter for ``version``: nox looks ``python3.X`` up on PATH, but pyenv's shims there
    answer only for the versions pyenv has active, so pyenv's own installation of the newest patch
    release of ``version`` comes first when there is one."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    pattern = re.compile(re.escape(version) + r"\.(\d+)")
    found = [(int(m.group(1)), path) for path in versions.glob(f"{version}.*")
             if (m := pattern.fullmatch(path.name)) and (path / "bin" / f"python{version}").is_file()]
    return str(max(found)[1] / "bin" / f"python{version}") if found else version


def _run_subset(session: nox.Session) -> None:
    session.run("python", "-c", _REPORT, *REPORTED)
    # -n 0: the sessions run inside the suite's own xdist run, one on each of its workers: one process
    # each keeps the machine's cores at two busy processes (mypy's and dmypy's start-up limits hold).
    session.run("python", "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "--durations", "5",
                "--basetemp", session.create_tmp() + "/pytest", *SUBSET, *session.posargs)


@nox.session(python=interpreter("3.10"))
def oldest(session: nox.Session) -> None:
    constraints = Path(session.create_tmp()) / "oldest.txt"
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in OLDEST.items()), encoding="utf-8")
    session.install("-e", f"{ROOT}[test]", "-c", str(constraints))
    _run_subset(session)


@nox.session(python=interpreter("3.13"))
def newest(session: nox.Session) -> None:
    session.install("--upgrade", "--upgrade-strategy", "eager", "-e", f"{ROOT}[test]")
    _run_subset(session)
