"""The checker agrees with the runtime: the mypy plugin's verdict for each truth row.

The other truth tests prove the core's verdicts against kombu and a worker, for shapes built from
runtime annotations. The mypy plugin builds its shapes from mypy's types instead. This test writes
every row as a task parameter (one task per row and serializer, ``@app.task(serializer=...)``),
calls ``.delay`` with a value of that type, declares a task returning it (json result serializer),
runs mypy with the plugin once, and checks that each call and each return gets the diagnostic the
core's verdict implies: ``celery-unserializable`` for not carried,
``celery-lossy`` for lossy, nothing for carried or unknown; and ``celery-model-instance`` where a
serializer that carries a Django model instance or QuerySet (pickle, a custom one) delivers a copy
from send time (tests/truth/test_django_models.py shows that copy on a real worker).

Most checks expect silence, which mypy without the plugin gives too. So each generated module ends
with a probe only the plugin reports (a ``set`` sent to a json task), and every case asserts the
probe's diagnostic appeared in the same mypy run as its own check.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
import truth_cases
from test_kombu import verdict_for
from truth_cases import Row
from truth_source import source_of

from celery_boundary.core.verdicts import Outcome, Verdict

HERE = Path(__file__).resolve().parent
SERIALIZERS = ("json", "msgpack", "yaml", "pickle", "truth-custom")
RESULT = "json (result)"
MODULES = {"truth_cases": "truth_cases", "truth_preserialized": "P", "truthapp.models": "truthapp.models"}
IMPORTS = """\
import collections
import collections.abc
import datetime
import decimal
import numbers
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
#: The probe's key among the checks, and the only diagnostic it may get: json has no set.
PROBE = ("plugin probe", "json")
PROBE_CODE = "celery-unserializable"
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


def write_module(path: Path, rows: list[Row]) -> dict[int, tuple[str, str]]:
    """The generated module; returns the line of each check -> (row name, serializer)."""
    lines = IMPORTS.splitlines()
    calls: dict[int, tuple[str, str]] = {}
    for index, row in enumerate(rows):
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
    lines += [
        "",
        "@app.task(serializer='json')",
        "def probe(x: set[int]) -> None: ...",
        "def call_probe(v: set[int]) -> None:",
        "    probe.delay(v)",
    ]
    calls[len(lines)] = PROBE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return calls


def run_mypy(work: Path, rows: list[Row], trust_any: bool) -> dict[tuple[str, str], list[str]]:
    """Error codes mypy (with the plugin) reports at each check of the generated module."""
    from mypy import api

    module = work / "truth_calls.py"
    calls = write_module(module, rows)
    config = work / "mypy.ini"
    # The app module is the generated one: the plugin reads the registrations of the modules it
    # imports (truth_cases, truth_preserialized) from their source, as it does in a project.
    config.write_text(
        f"[mypy]\nplugins = celery_boundary.mypy\npython_version = 3.11\nfollow_imports = silent\n"
        f"ignore_missing_imports = true\nmypy_path = {HERE}\n\n"
        f"[celery_boundary]\napp = truth_calls\ntrust_any = {str(trust_any).lower()}\n",
        encoding="utf-8",
    )
    args = ["--config-file", str(config), "--cache-dir", str(work / ".mypy_cache"), "--show-error-codes"]
    out, err, _ = api.run([*args, "--no-error-summary", str(module)])
    assert "Traceback" not in out + err, out + err
    found: dict[tuple[str, str], list[str]] = {key: [] for key in calls.values()}
    for line in out.splitlines():
        match = re.match(rf"{re.escape(str(module))}:(\d+): error: .*\[([a-z-]+)\]$", line)
        if match and int(match.group(1)) in calls:
            found[calls[int(match.group(1))]].append(match.group(2))
    return found


ROWS = list(truth_cases.ROWS)


@pytest.fixture(scope="module")
def diagnostics(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, dict[tuple[str, str], list[str]]]:
    """One mypy run per trust_any setting, each over the rows that use it."""
    runs = {}
    for trust in (True, False):
        work = tmp_path_factory.mktemp(f"mypy_truth_{trust}")
        runs[trust] = run_mypy(work, [row for row in ROWS if row.trust_any is trust], trust)
    return runs


#: Serializers that carry a Django row as a copy from send time (celery-model-instance).
SNAPSHOT_SERIALIZERS = ("pickle", "truth-custom")


def is_django_row(row: Row) -> bool:
    from django.db.models import Model, QuerySet

    origin = typing.get_origin(row.annotation) or row.annotation
    return isinstance(origin, type) and issubclass(origin, (Model, QuerySet))


def expected_code(verdict: Verdict, trust_any: bool) -> str | None:
    if verdict.outcome is Outcome.UNKNOWN and not trust_any:
        # With trust_any = false the plugin reports what the core left unchecked because of Any.
        return "celery-unserializable" if any("trust_any" in p.reason for p in verdict.problems) else None
    return EXPECTED_CODE[verdict.outcome]


@pytest.mark.parametrize("serializer", (*SERIALIZERS, RESULT))
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_mypy_plugin_agrees_with_the_core(
    row: Row, serializer: str, diagnostics: dict[bool, dict[tuple[str, str], list[str]]]
) -> None:
    verdict = verdict_for(row, "json" if serializer == RESULT else serializer)
    expected = expected_code(verdict, row.trust_any)
    if serializer in SNAPSHOT_SERIALIZERS and is_django_row(row):
        assert expected is None, f"{row.name} / {serializer}: the core refuses what the worker carries"
        expected = "celery-model-instance"
    run = diagnostics[row.trust_any]
    assert run[PROBE] == [PROBE_CODE], f"the plugin did not run: its probe got {run[PROBE] or 'nothing'}"
    got = run[(row.name, serializer)]
    assert got == ([expected] if expected else []), (
        f"{row.name} / {serializer}: core says {verdict.outcome.name}, mypy reports {got or 'nothing'}"
    )


@pytest.mark.parametrize("trust_any", (True, False))
def test_each_mypy_run_reports_the_plugin_probe(
    trust_any: bool, diagnostics: dict[bool, dict[tuple[str, str], list[str]]]
) -> None:
    assert diagnostics[trust_any][PROBE] == [PROBE_CODE]
