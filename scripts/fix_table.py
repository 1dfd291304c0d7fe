"""Run ``celery-boundary fix`` on copies of real projects and print the table of docs/validation.md's
section "``fix`` on real projects".

    python scripts/fix_table.py SOURCE [SOURCE ...] --work DIR [--json FILE]
    python scripts/fix_table.py --render FILE [FILE ...]     # the markdown table of saved runs

For each project directory (someone else's code, outside this repository; never changed):

1. copy it to ``DIR/<its folder name>`` (the folder name kept: it is what a task name may depend on),
   drop any ``.git`` it has, ``git init`` and commit every file (ignored ones too);
2. ``celery-boundary check --format json --select CB .``: the findings before;
3. ``celery-boundary fix --diff --unsafe-fixes .``: ``git apply --check`` and ``patch -p1 --dry-run``
   must accept the diff, and applying it must give the same tree as step 4;
4. ``celery-boundary fix --unsafe-fixes .`` (every fix the tool offers): what it applied, per code,
   and what it refused (its stderr lines);
5. every changed ``.py`` file must still compile (``python -m py_compile``);
6. a second ``fix --unsafe-fixes .`` must change nothing (``git status`` as after step 4);
7. ``check`` again: no finding (code, file, message) that was not there before.

Every command runs in the copy as its working directory, with the interpreter running this script.
Not a test.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from celery_boundary.gate.fix import FIXABLE

TOOL = [sys.executable, "-m", "celery_boundary.cli"]


@dataclass
class Row:
    project: str
    py_files: int = 0
    before: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    changed_files: int = 0
    parse_ok: bool = True
    second_run_unchanged: bool = True
    diff_applies: bool = True
    diff_equals_fix: bool = True
    new_findings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def run(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, cwd=cwd, input=stdin, capture_output=True, check=False)


def git(cwd: Path, *args: str) -> str:
    return run(["git", *args], cwd).stdout.decode("utf-8", "replace")


def findings(cwd: Path) -> list[dict[str, object]]:
    done = run([*TOOL, "check", "--format", "json", "--select", "CB", "."], cwd)
    result: list[dict[str, object]] = json.loads(done.stdout or b"[]")
    return result


def prepare(source: Path, work: Path) -> Path:
    copy = work / source.name
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(source, copy, symlinks=True)
    shutil.rmtree(copy / ".git", ignore_errors=True)
    for args in (["init", "-q"], ["add", "-A", "-f"],
                 ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "before", "--no-verify"]):
        git(copy, *args)
    return copy


def tree_of_worktree(cwd: Path) -> str:
    git(cwd, "add", "-A", "-f")
    tree = git(cwd, "write-tree").strip()
    git(cwd, "reset", "-q")
    return tree


def measure(source: Path, work: Path) -> Row:
    copy = prepare(source, work)
    row = Row(source.name)
    row.py_files = sum(1 for line in git(copy, "ls-files", "*.py").splitlines() if line)
    before = findings(copy)
    row.before = dict(Counter(str(f["code"]) for f in before))

    diff = run([*TOOL, "fix", "--diff", "--unsafe-fixes", "."], copy)
    (work / f"{source.name}.diff").write_bytes(diff.stdout)
    if diff.stdout:
        checked = run(["git", "apply", "--check", "-"], copy, diff.stdout)
        patched = run(["patch", "-p1", "--dry-run", "-s"], copy, diff.stdout)
        row.diff_applies = checked.returncode == 0 and patched.returncode == 0
        if not row.diff_applies:
            row.problems.append(f"diff: {checked.stderr.decode()[:300]} {patched.stdout.decode()[:300]}")
        run(["git", "apply", "-"], copy, diff.stdout)
    from_diff = tree_of_worktree(copy)
    git(copy, "checkout", "-q", "--", ".")
    git(copy, "clean", "-q", "-f", "-d")

    fixed = run([*TOOL, "fix", "--unsafe-fixes", "."], copy)
    stderr = fixed.stderr.decode("utf-8", "replace")
    row.refused = [line for line in stderr.splitlines() if not line.startswith("celery-boundary:")]
    row.diff_equals_fix = tree_of_worktree(copy) == from_diff
    changed = [line for line in git(copy, "diff", "--name-only").splitlines() if line]
    row.changed_files = len(changed)
    for path in changed:
        if path.endswith(".py"):
            compiled = run([sys.executable, "-m", "py_compile", path], copy)
            if compiled.returncode:
                row.parse_ok = False
                row.problems.append(f"{path}: {compiled.stderr.decode()[:300]}")
    first = git(copy, "diff", "--binary") + git(copy, "status", "--porcelain")
    summary = [line for line in stderr.splitlines() if line.startswith("celery-boundary:")]
    row.problems += summary

    again = run([*TOOL, "fix", "--unsafe-fixes", "."], copy)
    row.second_run_unchanged = git(copy, "diff", "--binary") + git(copy, "status", "--porcelain") == first
    if not row.second_run_unchanged:
        row.problems.append(f"second run: {again.stderr.decode()[:300]}")

    after = findings(copy)
    remaining = Counter(str(f["code"]) for f in after)
    row.applied = {code: count - remaining[code] for code, count in row.before.items()
                   if code in FIXABLE and count - remaining[code]}
    # A renamed task's own findings (CB301) name it '_task' after the fix: the same finding.
    old = Counter((f["code"], f["path"], re.sub(r"'_(\w+)'", r"'\1'", str(f["message"]))) for f in before)
    new = Counter((f["code"], f["path"], re.sub(r"'_(\w+)'", r"'\1'", str(f["message"]))) for f in after)
    row.new_findings = [f"{code} {path}: {message}" for code, path, message in (new - old)]
    return row


def render(rows: list[dict[str, object]]) -> str:
    """The markdown table of docs/validation.md."""
    def counts(value: object) -> str:
        assert isinstance(value, dict)
        return ", ".join(f"{code} {n}" for code, n in sorted(value.items())) or "-"

    def yes(value: object) -> str:
        return "yes" if value else "**no**"

    lines = ["| project | `.py` files | findings before | fixes applied | not fixed (stderr) | parse ok | "
             "second run unchanged | `--diff` applies, = fix | new findings after |",
             "| --- | ---: | --- | --- | --- | --- | --- | --- | ---: |"]
    for row in sorted(rows, key=lambda r: str(r["project"])):
        refused = row["refused"]
        assert isinstance(refused, list)
        # "path:line: CB401 not fixed: why" -> "CB401 not fixed"; the reasons are in the prose below the table
        reasons = Counter(re.sub(r" \(line \d+\)", "", re.sub(r"^\S+?:(\d+: )?\s*", "", line)).split(": ")[0]
                          for line in refused)
        said = "; ".join(f"{n} x {reason}" for reason, n in sorted(reasons.items())) or "-"
        new = row["new_findings"]
        assert isinstance(new, list)
        applies = yes(row["diff_applies"] and row["diff_equals_fix"]) if row["changed_files"] else "(empty)"
        lines.append(f"| {row['project']} | {row['py_files']} | {counts(row['before'])} | {counts(row['applied'])} | "
                     f"{said} | {yes(row['parse_ok'])} | {yes(row['second_run_unchanged'])} | "
                     f"{applies} | {len(new)} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", type=Path)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--render", nargs="+", type=Path, metavar="FILE")
    args = parser.parse_args()
    if args.render:
        print(render([row for path in args.render for row in json.loads(path.read_text())]))
        return 0
    if args.work is None:
        parser.error("--work is required")
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for source in args.sources:
        row = measure(source.resolve(), args.work.resolve())
        rows.append(row)
        print(json.dumps(asdict(row)), flush=True)
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
