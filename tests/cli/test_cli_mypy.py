"""``check --mypy``: a real mypy run through mypy.api, its celery-* diagnostics and its errors about task
calls merged into the report.

The stand-in plugin below reports ``celery-unserializable`` on calls to ``jobs.send`` so the merge is
tested end to end without depending on the real plugin's verdicts (tests/mypy covers those).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import write

from celery_boundary.cli import main
from celery_boundary.gate.mypy_merge import parse_output

pytestmark = pytest.mark.usefixtures("stand_in")

PLUGIN = '''
from mypy.errorcodes import ErrorCode
from mypy.plugin import Plugin

CODE = ErrorCode("celery-unserializable", "test", "celery")


def report(ctx):
    ctx.api.fail("set[int] cannot be carried by json", ctx.context, code=CODE)
    return ctx.default_return_type


class StandIn(Plugin):
    def get_function_hook(self, fullname):
        return report if fullname == "jobs.send" else None


def plugin(version):
    return StandIn
'''


@pytest.fixture
def typed_project(project: Path) -> Path:
    write(project, "stand_in_plugin.py", PLUGIN)
    write(project, "pyproject.toml", f"""
        [tool.mypy]
        plugins = ["{(project / 'stand_in_plugin.py').as_posix()}"]
        cache_dir = "/dev/null"
    """)
    write(project, "jobs.py", """
        def send(x: object) -> None: ...


        def go() -> None:
            send({1})
            wrong: int = "a"
    """)
    return project


def test_mypy_diagnostics_of_the_plugin_are_merged(typed_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", "-q", "--mypy", "--format", "json", "jobs.py"])
    assert status == 1
    assert json.loads(capsys.readouterr().out) == [
        {"code": "celery-unserializable", "path": "jobs.py", "line": 5, "column": 5,
         "message": "set[int] cannot be carried by json"},
    ]  # the [assignment] error on line 6 is mypy's own business, not the gate's


def test_mypy_findings_honour_select_and_the_baseline(typed_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-q", "--mypy", "--ignore", "celery-", "jobs.py"]) == 0
    assert main(["check", "-q", "--mypy", "--write-baseline", "b.json", "jobs.py"]) == 0
    write(typed_project, "jobs.py", "\n\n" + (typed_project / "jobs.py").read_text())
    assert main(["check", "-q", "--mypy", "--baseline", "b.json", "jobs.py"]) == 0
    capsys.readouterr()


def test_a_mypy_that_cannot_run_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "pyproject.toml", '[tool.mypy]\nplugins = ["no_such_plugin_module"]\n')
    write(project, "jobs.py", "x = 1\n")
    assert main(["check", "--mypy", "jobs.py"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("celery-boundary: error: mypy failed (exit 2): ") and err.count("\n") == 1


def test_parse_output_reads_mypy_lines_and_keeps_the_plugins_codes_and_task_calls() -> None:
    out = (
        'a/b.py:3:9: error: "Address" cannot be carried by json  [celery-unserializable]\n'
        'a/b.py:4:1: error: Incompatible types in assignment  [assignment]\n'
        "a/b.py:4:1: note: See https://example\n"
        'c.py:10:20: error: {1: "x"} arrives as dict[str, str]: JSON keys are strings  [celery-lossy]\n'
        # mypy 2.4 with the plugin, on fixtures/shop and a task add(x: int, y: int):
        'shop/views.py:25:18: error: Argument 1 to "delay" of "notify" has incompatible type "Customer"; '
        'expected "int"  [arg-type]\n'
        'shop/pipelines.py:65:46: error: Argument 2 to "send_task" of "restock" has incompatible type "str"; '
        'expected "int"  [arg-type]\n'
        'pp/t.py:17:5: error: Too many arguments for "delay" of "add"  [call-arg]\n'
        'pp/t.py:18:5: error: Missing positional argument "y" in call to "si" of "add"  [call-arg]\n'
        # not about a task call: mypy's own business
        'pp/t.py:28:5: error: No overload variant of "get" of "dict" matches argument types "int"  [call-overload]\n'
        'pp/t.py:29:5: error: Too many arguments for "send"  [call-arg]\n'
        'pp/t.py:30:9: error: Argument 1 to "open" has incompatible type "int"; expected "str"  [arg-type]\n'
        'pp/t.py:31:9: error: Argument 1 to "delay" of "Timer" is wrong  [union-attr]\n'
    )
    assert [(f.path, f.line, f.column, f.code) for f in parse_output(out)] == [
        ("a/b.py", 3, 9, "celery-unserializable"), ("c.py", 10, 20, "celery-lossy"),
        ("shop/views.py", 25, 18, "arg-type"), ("shop/pipelines.py", 65, 46, "arg-type"),
        ("pp/t.py", 17, 5, "call-arg"), ("pp/t.py", 18, 5, "call-arg"),
    ]


TASKS = """
    from celery import shared_task


    @shared_task
    def notify(user_id: int) -> None:
        pass


    def go(d: dict[str, int]) -> None:
        notify.delay("seven")
        notify.s(1, 2)
        wrong: int = "a"
        d.get(1, 2, 3)
"""


def test_the_real_plugins_task_call_errors_are_merged_and_selected_like_rules(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "pyproject.toml", f"""
        [tool.mypy]
        plugins = ["celery_boundary.mypy"]
        cache_dir = "{(project / '.mypy_cache').as_posix()}"
    """)
    write(project, "tasks.py", TASKS)
    assert main(["check", "-q", "--mypy", "--format", "json", "tasks.py"]) == 1
    found = [(f["code"], f["line"], f["message"]) for f in json.loads(capsys.readouterr().out)]
    assert found == [
        ("arg-type", 10, 'Argument 1 to "delay" of "notify" has incompatible type "str"; expected "int"'),
        ("call-arg", 11, 'Too many arguments for "s" of "notify"'),
    ]
    assert main(["check", "-q", "--mypy", "--ignore", "call-arg", "--format", "json", "tasks.py"]) == 1
    assert [f["code"] for f in json.loads(capsys.readouterr().out)] == ["arg-type"]
    assert main(["check", "-q", "--mypy", "--select", "CB", "tasks.py"]) == 0
    assert main(["check", "-q", "--mypy", "--format", "sarif", "tasks.py"]) == 1
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert [(r["ruleId"], "ruleIndex" in r) for r in results] == [("arg-type", False), ("call-arg", False)]


@pytest.mark.parametrize("select", ["celery-lossy", "celery-", "arg-type", "CB1,call-arg"])
def test_selecting_codes_only_mypy_reports_needs_mypy(
        project: Path, select: str, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "jobs.py", "x = 1\n")
    assert main(["check", "--select", select, "jobs.py"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("celery-boundary: error: --select ")
    assert err.rstrip().endswith("reported by mypy; add --mypy")


def test_selecting_cb_codes_or_a_prefix_of_both_needs_no_mypy(project: Path) -> None:
    write(project, "jobs.py", "x = 1\n")
    assert main(["check", "-q", "--select", "CB", "jobs.py"]) == 0
    assert main(["check", "-q", "--select", "C", "jobs.py"]) == 0  # CB...: codes are case-sensitive
    assert main(["check", "-q", "--ignore", "arg-type", "jobs.py"]) == 0


def test_check_without_mypy_never_imports_mypy(project: Path) -> None:
    write(project, "ok.py", "x = 1\n")
    code = (
        "import sys\nfrom celery_boundary.cli import main\n"
        "status = main(['check', '-q', '--select', 'CB'])\n"
        "print(status, 'mypy' in sys.modules, 'libcst' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=project)
    assert done.stdout.split() == ["0", "False", "False"], done.stderr
