"""The checker agrees with the runtime: the mypy plugin's verdict for each truth row.

The other truth tests prove the core's verdicts against kombu and a worker, for shapes built from
runtime annotations. The mypy plugin builds its shapes from mypy's types instead. This test writes
every row as a task parameter (one task per row and serializer, ``@app.task(serializer=...)``),
calls ``.delay`` with a value of that type, declares a task returning it (json result serializer),
runs mypy with the plugin once, and checks that each call and each return gets the diagnostic the
core's verdict implies: ``celery-unserializable`` for not carried,
``celery-lossy`` for lossy, nothing for carried or unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import truth_cases
from test_kombu import verdict_for
from truth_cases import Row
from truth_source import source_of

from celery_boundary.core.verdicts import Outcome

HERE = Path(__file__).resolve().parent
SERIALIZERS = ("json", "msgpack", "yaml", "pickle", "truth-custom")
RESULT = "json (result)"
MODULES = {"truth_cases": "truth_cases", "truth_preserialized": "P", "truthapp.models": "truthapp.models"}
IMPORTS = """\
import collections
import collections.abc
import datetime
import decimal
import pathlib
import threading
import typing
import uuid

import django.db.models.query
import django.utils.functional
import pydantic.root_model
from celery import Celery

import truth_cases
import truth_preserialized as P
import truthapp.models

app = Celery("truth")
"""
#: Rows the plugin cannot be asked about through a parameter annotation (config-level trust_any).
SKIPPED = {"Any (trust_any=False)", "object (trust_any=False)"}
EXPECTED_CODE = {
    Outcome.NOT_CARRIED: "celery-unserializable",
    Outcome.LOSSY: "celery-lossy",
    Outcome.CARRIED: None,
    Outcome.UNKNOWN: None,
}


def annotation_source(row: Row) -> str:
    for name, value in vars(truth_cases).items():
        if value is row.annotation and name != getattr(value, "__qualname__", None) and not name.startswith("_"):
            return f"truth_cases.{name}"  # a named alias (JSON, Tags): keep the name mypy sees
    return source_of(row.annotation, MODULES)


def write_module(path: Path) -> dict[int, tuple[str, str]]:
    """The generated module; returns the line of each ``.delay`` call -> (row name, serializer)."""
    lines = IMPORTS.splitlines()
    calls: dict[int, tuple[str, str]] = {}
    for index, row in enumerate(truth_cases.ROWS):
        if row.name in SKIPPED:
            continue
        annotation = annotation_source(row)
        for serializer in SERIALIZERS:
            task = f"t{index}_{serializer.replace('-', '_')}"
            lines += [
                "",
                f"@app.task(serializer={serializer!r})",
                f"def {task}(x: {annotation}) -> None: ...",
                f"def call_{task}(v: {annotation}) -> None:",
                f"    {task}.delay(v)",
            ]
            calls[len(lines)] = (row.name, serializer)
        # The result crosses too: the app's result serializer (json) judges the declared return.
        lines += ["", "@app.task", f"def r{index}(v: {annotation}) -> {annotation}:"]
        calls[len(lines)] = (row.name, RESULT)
        lines += ["    return v"]
        calls[len(lines)] = (row.name, RESULT)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return calls


@pytest.fixture(scope="module")
def diagnostics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, str], list[str]]]:
    from mypy import api

    work = tmp_path_factory.mktemp("mypy_truth")
    module = work / "truth_calls.py"
    calls = write_module(module)
    config = work / "mypy.ini"
    # The app module is the generated one: the plugin reads the registrations of the modules it
    # imports (truth_cases, truth_preserialized) from their source, as it does in a project.
    config.write_text(
        f"[mypy]\nplugins = celery_boundary.mypy\npython_version = 3.11\nfollow_imports = silent\n"
        f"ignore_missing_imports = true\nmypy_path = {HERE}\n\n[celery_boundary]\napp = truth_calls\n",
        encoding="utf-8",
    )
    out, err, _ = api.run(
        [
            "--config-file",
            str(config),
            "--cache-dir",
            str(work / ".mypy_cache"),
            "--show-error-codes",
            "--no-error-summary",
            str(module),
        ]
    )
    assert "Traceback" not in out + err, out + err
    found: dict[tuple[str, str], list[str]] = {key: [] for key in calls.values()}
    for line in out.splitlines():
        match = re.match(rf"{re.escape(str(module))}:(\d+): error: .*\[([a-z-]+)\]$", line)
        if match and int(match.group(1)) in calls:
            found[calls[int(match.group(1))]].append(match.group(2))
    yield found


ROWS = [row for row in truth_cases.ROWS if row.name not in SKIPPED]


@pytest.mark.parametrize("serializer", (*SERIALIZERS, RESULT))
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_mypy_plugin_agrees_with_the_core(
    row: Row, serializer: str, diagnostics: dict[tuple[str, str], list[str]]
) -> None:
    verdict = verdict_for(row, "json" if serializer == RESULT else serializer)
    expected = EXPECTED_CODE[verdict.outcome]
    got = diagnostics[(row.name, serializer)]
    assert got == ([expected] if expected else []), (
        f"{row.name} / {serializer}: core says {verdict.outcome.name}, mypy reports {got or 'nothing'}"
    )

