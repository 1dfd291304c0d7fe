"""The plugin through the real flake8 command: entry point, ``# noqa``, opt-in rules, options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flake8_expectations import EXAMPLES, HERE, expected

NOQA = HERE / "data" / "noqa.py"


def flake8(*args: str, cwd: Path = HERE) -> tuple[set[tuple[int, str]], str]:
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--format", "%(row)d:%(code)s", *args],
        cwd=cwd, capture_output=True, text=True,
    )
    assert done.returncode in (0, 1), done.stderr
    rows = {(int(row), code) for row, code in (line.split(":") for line in done.stdout.splitlines())}
    return rows, done.stderr


def test_entry_point_reports_the_example_codes() -> None:
    paths = [p for p in sorted(EXAMPLES.glob("*.py")) if not p.read_text(encoding="utf-8").startswith("# cb-")]
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "CB", "--format", "%(path)s:%(row)d:%(code)s",
         *map(str, paths)], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    got: dict[str, set[tuple[int, str]]] = {str(p): set() for p in paths}
    for line in done.stdout.splitlines():
        path, row, code = line.rsplit(":", 2)
        got[path].add((int(row), code))
    assert got == {str(p): expected(p.read_text(encoding="utf-8")) for p in paths}


def test_noqa_silences_only_the_named_code() -> None:
    rows, _ = flake8("--select", "CB", str(NOQA))
    assert rows == {(4, "CB101"), (15, "CB201"), (19, "CB301")}


def test_cb301_is_on_by_default_and_can_be_ignored() -> None:
    default, _ = flake8(str(NOQA))
    assert (19, "CB301") in default and (15, "CB201") in default
    ignored, _ = flake8("--extend-ignore", "CB301", str(NOQA))
    assert (19, "CB301") not in ignored and (15, "CB201") in ignored


def test_options_reach_the_rules() -> None:
    rows, _ = flake8("--select", "CB301", "--cb-max-task-logic", "7", str(NOQA))
    assert rows == set()
    rows, _ = flake8("--select", "CB101", "--cb-trusted-serializers", "pickle", str(NOQA))
    assert rows == set()


def test_options_are_read_from_flake8_config(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[flake8]\nselect = CB\ncb-max-task-logic = 7\n")
    target = tmp_path / "t.py"
    target.write_text(NOQA.read_text(encoding="utf-8"))
    done = subprocess.run([sys.executable, "-m", "flake8", "--format", "%(row)d:%(code)s", "t.py"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert "CB301" not in done.stdout and "CB201" in done.stdout


def test_tool_celery_boundary_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.celery_boundary]\ntask_decorators = ['proj.jobs.job']\n")
    (tmp_path / "t.py").write_text(
        "from proj.jobs import job\n\n\n@job\ndef __step(x):\n    return x\n\n\n__step(1)\n")
    rows, _ = flake8("--select", "CB", "t.py", cwd=tmp_path)
    assert rows == {(9, "CB201")}


def test_a_bad_config_is_reported_once_and_does_not_crash(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.celery_boundary]\nmax_task_logic = 'many'\n")
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("task_serializer = 'pickle'\n")
    rows, stderr = flake8("--select", "CB", "-j", "1", "a.py", "b.py", cwd=tmp_path)
    assert rows == {(1, "CB101")}  # both files, same row
    assert stderr.count("max_task_logic") == 1, stderr


def test_plugin_imports_no_heavy_module() -> None:
    code = ("import sys, celery_boundary.flake8.plugin\n"
            "print(','.join(m for m in ('celery', 'kombu', 'libcst', 'mypy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_the_substring_pretest_skips_only_modules_no_rule_can_match() -> None:
    from celery_boundary.checks import RuleSettings, might_apply

    assert not might_apply("import os\n\ndef f(x):\n    return x.get('a')\n", RuleSettings())
    assert might_apply("from proj import tasks\ntasks._step.delay(1)\n", RuleSettings())
    assert might_apply("CELERY_ACCEPT_CONTENT = ['pickle']\n", RuleSettings())
    assert not might_apply("from proj.jobs import job\n", RuleSettings())
    assert might_apply("from proj.jobs import job\n", RuleSettings(task_decorators=frozenset({"proj.jobs.job"})))


def test_an_internal_error_is_reported_once_and_flake8_goes_on(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import ast

    from celery_boundary.flake8 import plugin

    def explode(tree: ast.Module, settings: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(plugin, "check_tree", explode)
    monkeypatch.setattr(plugin.Plugin, "_warned", set())
    source = "task_serializer = 'pickle'\n"
    for _ in range(2):
        found = list(plugin.Plugin(ast.parse(source), [source], "x.py").run())
        assert found == []
    assert capsys.readouterr().err.count("internal error on x.py") == 1


def test_each_file_uses_the_nearest_tool_celery_boundary_table(tmp_path: Path) -> None:
    source = "from proj.jobs import job\n\n\n@job\ndef __step(x):\n    return x\n\n\n__step(1)\n"
    for name, decorators in (("one", "['proj.jobs.job']"), ("two", "[]")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyproject.toml").write_text(f"[tool.celery_boundary]\ntask_decorators = {decorators}\n")
        (tmp_path / name / "t.py").write_text(source)
    done = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "CB",
                           "--format", "%(path)s:%(row)d:%(code)s", "one", "two"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.stdout.split() == ["one/t.py:9:CB201"], done.stderr
