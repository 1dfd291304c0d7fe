"""``celery-boundary contracts diff OLD NEW`` (two exported documents) or ``--base REF [PATH...]`` (the old
side exported from a git revision without checking it out: ``git archive REF`` into a temporary folder).
The rules are in ``gate.contract_rules``; formats: text, json, github (workflow commands), sarif.

Exit codes: 0 no breaking change, 1 a breaking change (not ``--ignore``d; with ``--fail-on workers-first``
also a change that needs the workers deployed first), 2 usage error.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO
from urllib.parse import quote

from celery_boundary import __version__
from celery_boundary.core import config as config_module
from celery_boundary.gate.catalog import DOCS_URL
from celery_boundary.gate.contract_changes import BREAKS, RULES, WORKERS_FIRST, Change, Json
from celery_boundary.gate.contract_rules import compare
from celery_boundary.core.client_contracts import VERSION, document_problem
from celery_boundary.gate.contracts import export
from celery_boundary.gate.engine import rule_settings
from celery_boundary.gate.errors import UsageError
from celery_boundary.gate.files import discover
from celery_boundary.gate.sarif import SCHEMA_URI

FORMATS: Final = ("text", "json", "github", "sarif")
#: ``--fail-on``: what makes the exit code 1.
FAIL_ON: Final = ("breaking", "workers-first")
DIFF_FORMAT: Final = "celery-boundary/task-contracts-diff"


@dataclass(frozen=True)
class DiffOptions:
    items: tuple[str, ...] = ()
    base: str | None = None
    format: str = "text"
    ignore: tuple[str, ...] = ()
    output: Path | None = None
    exclude: tuple[str, ...] = ()
    fail_on: str = "breaking"


def run_diff(options: DiffOptions, stdout: TextIO | None = None) -> int:
    if options.format not in FORMATS:
        raise UsageError(f"unknown --format {options.format!r}: choose one of {', '.join(FORMATS)}")
    if options.fail_on not in FAIL_ON:
        raise UsageError(f"unknown --fail-on {options.fail_on!r}: choose one of {', '.join(FAIL_ON)}")
    unknown = [rule for rule in options.ignore if rule not in RULES]
    if unknown:
        raise UsageError(f"--ignore: unknown rule {unknown[0]!r} (known: {', '.join(sorted(RULES))})")
    if options.base is not None:
        new = _export_here(options.items, options.exclude)
        old = export_revision(options.base, options.items, options.exclude)
    else:
        if len(options.items) != 2:
            raise UsageError("give two contracts documents (OLD NEW), or --base REF with the paths to export")
        old, new = load(Path(options.items[0])), load(Path(options.items[1]))
    changes = [c for c in compare(old, new) if c.rule not in options.ignore]
    for side, document in (("old", old), ("new", new)):
        skipped = document.get("skipped")
        for entry in skipped if isinstance(skipped, list) else []:  # its tasks are missing from that side
            sys.stderr.write(f"celery-boundary: the {side} contracts skipped {entry['path']}: {entry['reason']}\n")
    renderers = {"text": render_text, "json": render_json, "github": render_github, "sarif": render_sarif}
    text = renderers[options.format](changes)
    if options.output is None:
        (stdout or sys.stdout).write(text)
    else:
        try:
            options.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{options.output}: cannot write the report: {exc.strerror or exc}") from None
    ordered = options.fail_on == "workers-first"
    return 1 if any(c.breaking or ordered and WORKERS_FIRST in (c.queued, c.rolling) for c in changes) else 0


def load(path: Path) -> Json:
    """A contracts document, refused unless its format and version are the ones this version writes."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{path}: not JSON: {exc}") from None
    problem = document_problem(document)
    if problem is not None:
        advice = " (export both sides with the same celery-boundary)" if problem.startswith("has") else ""
        raise UsageError(f"{path} {problem}{advice}")
    assert isinstance(document, dict)  # document_problem refuses anything else
    return document


def _export_here(paths: tuple[str, ...], exclude: tuple[str, ...]) -> Json:
    settings = config_module.load(start=Path.cwd())
    files = discover(paths, (*settings.exclude, *exclude))
    return export(files, Path.cwd(), rule_settings(settings).task_decorators)


def export_revision(ref: str, paths: tuple[str, ...], exclude: tuple[str, ...]) -> Json:
    """The contracts of ``paths`` as they are at git revision ``ref``, read from ``git archive`` into a
    temporary folder (the work tree is not touched); paths are shown as in the work tree."""
    prefix = _git("rev-parse", "--show-prefix").decode().strip()
    archive = _git("archive", "--format=tar", ref)
    settings = config_module.load(start=Path.cwd())
    with tempfile.TemporaryDirectory(prefix="celery-boundary-base-") as folder:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4: no links out, no devices
                tar.extractall(folder, filter="data")
            else:  # pragma: no cover - older patch releases
                tar.extractall(folder)  # noqa: S202 - our own repository's archive
        here = Path(folder) / prefix
        wanted = [str(here / p) for p in (paths or (".",)) if (here / p).exists()]
        files = discover(wanted, (*settings.exclude, *exclude)) if wanted else []
        document = export(files, here, rule_settings(settings).task_decorators)
    return document


def _git(*args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], capture_output=True, check=False)
    except OSError as exc:
        raise UsageError(f"--base needs git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise UsageError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _label(effect: str) -> str:
    return {BREAKS: "BREAKS", WORKERS_FIRST: "deploy workers first"}.get(effect, "safe")


def render_text(changes: list[Change]) -> str:
    lines: list[str] = []
    for change in changes:
        what = f" `{change.parameter}`" if change.parameter else ""
        kind = "breaking" if change.breaking else "not breaking"
        lines.append(f"{change.where[0]}:{change.where[1]}: {change.rule} {change.task}{what} [{kind}]")
        lines.append(f"  queued messages -> new worker: {_label(change.queued)}: {change.queued_text}")
        lines.append(f"  new messages -> old worker:    {_label(change.rolling)}: {change.rolling_text}")
        lines.append(f"  evolve: {change.advice}")
    breaking = sum(c.breaking for c in changes)
    lines.append(f"{len(changes)} change{'s' if len(changes) != 1 else ''}, {breaking} breaking")
    return "\n".join(lines) + "\n"


def render_json(changes: list[Change]) -> str:
    document = {"format": DIFF_FORMAT, "version": VERSION, "breaking": any(c.breaking for c in changes),
                "changes": [c.as_json() for c in changes]}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _escape(text: str, property_: bool) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property_ else text


def _level(change: Change) -> str:
    if change.breaking:
        return "error"
    return "warning" if WORKERS_FIRST in (change.queued, change.rolling) else "note"


def render_github(changes: list[Change]) -> str:
    """GitHub Actions workflow commands: an annotation on the task's line of the new code."""
    lines = []
    for change in changes:
        lines.append(f"::{_level(change)} file={_escape(change.where[0], True)},line={change.where[1]},"
                     f"title={change.rule}::{_escape(_sentence(change), False)}")
    return "".join(line + "\n" for line in lines)


def render_sarif(changes: list[Change]) -> str:
    """SARIF 2.1.0: every diff rule as a descriptor (help: docs/contracts.md), one result per change."""
    ids = sorted(RULES)
    driver = {"name": "celery-boundary contracts", "version": __version__, "semanticVersion": __version__,
              "informationUri": f"{DOCS_URL}contracts/",
              "rules": [{"id": rule, "shortDescription": {"text": RULES[rule]}, "helpUri": f"{DOCS_URL}contracts/"}
                        for rule in ids]}
    results: list[dict[str, Any]] = [{
        "ruleId": change.rule, "ruleIndex": ids.index(change.rule), "level": _level(change),
        "message": {"text": _sentence(change)},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": quote(change.where[0] or ".")},
                                            "region": {"startLine": max(change.where[1], 1)}}}],
        "properties": {"task": change.task, "parameter": change.parameter, "queued": change.queued,
                       "rolling": change.rolling},
    } for change in changes]
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}
    return json.dumps(log, indent=2) + "\n"


def _sentence(change: Change) -> str:
    what = f" `{change.parameter}`" if change.parameter else ""
    return (f"{change.task}{what}: queued messages: {change.queued_text}. New messages on old workers: "
            f"{change.rolling_text}. Evolve: {change.advice}")
