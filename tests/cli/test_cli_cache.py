"""The warm cache of ``check`` (gate/cache.py): where it lives, that a warm run reads only changed
files and finds what a cold run finds, and that nothing damaged, foreign or stale is trusted."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import write
from hypothesis import given, settings, strategies as st

import celery_boundary
from celery_boundary.analysis.project import ModuleFacts
from celery_boundary.cli import main
from celery_boundary.gate import cache, engine, warm

TASKS = """
from celery import shared_task


@shared_task
def fetch(x: int) -> list[int]:
    return [x]


@shared_task
def total(counts: list[int]) -> int:
    return sum(counts)
"""

FLOW = """
from celery import chain
from shop.jobs import fetch, total


def start() -> None:
    chain(fetch.s(1), total.s()).delay()
"""

SETTINGS = 'task_serializer = "pickle"\n'


@pytest.fixture
def shop(project: Path) -> Path:
    write(project, "shop/__init__.py", "")
    write(project, "shop/jobs.py", TASKS)
    write(project, "shop/flows.py", FLOW)
    write(project, "shop/settings.py", SETTINGS)
    write(project, "shop/util.py", "def helper() -> int:\n    return 1\n")
    return project


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[tuple[str, int, str]]]:
    status = main(["check", "-q", "--format", "json", *argv])
    found = json.loads(capsys.readouterr().out)
    return status, [(f["path"], f["line"], f["code"]) for f in found]


def spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[Path]:
    """Record the path of every call of ``module.name``."""
    calls: list[Path] = []
    real: Callable[..., Any] = getattr(module, name)

    def recording(path: Path, *args: Any, **kwargs: Any) -> Any:
        calls.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(module, name, recording)
    return calls


EXPECTED = [("shop/jobs.py", 10, "CB202"), ("shop/settings.py", 1, "CB101")]


def test_the_cache_lives_in_the_project_root_and_ignores_itself(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(capsys) == (1, EXPECTED)
    folder = shop / ".celery_boundary_cache"
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert json.loads((folder / "check.json").read_text())["files"].keys() == {
        "shop/__init__.py", "shop/jobs.py", "shop/flows.py", "shop/settings.py", "shop/util.py"}


def test_a_warm_run_reads_only_the_changed_file_and_finds_the_same(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check(capsys) == (1, EXPECTED)
    checked = spy(monkeypatch, warm, "check_file")
    assert check(capsys) == (1, EXPECTED)
    assert checked == []
    write(shop, "shop/flows.py", FLOW + "\n\ndef again() -> None:\n    total.delay([1])\n")
    assert check(capsys) == (1, [("shop/settings.py", 1, "CB101")])  # total is launched alone now
    assert checked == [Path("shop/flows.py")]


def test_a_one_file_check_takes_the_other_files_facts_from_the_cache(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "RACY_NS", 0)  # files written a moment ago count as settled
    assert check(capsys) == (1, EXPECTED)
    read = [spy(monkeypatch, module, "read_source") for module in (cache, warm, engine)]
    assert check(capsys, "shop/jobs.py") == (1, [("shop/jobs.py", 10, "CB202")])
    assert read == [[], [], []]  # not even jobs.py: its result is stored


#: A literal task name (CB205 compares it with the name every module of the project registers).
SENDER = 'from celery import current_app\n\ncurrent_app.send_task("shop.jobs.fetch")\n'


def test_a_one_file_check_parses_no_other_files_stored_result(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The names the other modules register are stored beside their result (its light facts): the
    result itself, JSON text in the cache, is parsed only for the file that is checked."""
    monkeypatch.setattr(cache, "RACY_NS", 0)
    write(shop, "shop/sender.py", SENDER)
    assert check(capsys) == (1, EXPECTED)
    parsed: list[str] = []
    real = warm._parsed
    monkeypatch.setattr(warm, "_parsed", lambda text: parsed.append(text) or real(text))
    assert check(capsys, "shop/sender.py") == (0, [])
    assert len(parsed) == 1
    write(shop, "shop/sender.py", SENDER.replace("fetch", "fetc"))  # now one letter off a stored name
    assert check(capsys, "shop/sender.py") == check(capsys, "--no-cache", "shop/sender.py") == (
        1, [("shop/sender.py", 3, "CB205")])


def test_damaged_light_facts_are_recomputed(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(shop, "shop/sender.py", SENDER.replace("fetch", "fetc"))
    assert check(capsys) == (1, [("shop/jobs.py", 10, "CB202"), ("shop/sender.py", 3, "CB205"),
                                 ("shop/settings.py", 1, "CB101")])
    stored = shop / ".celery_boundary_cache" / "check.json"
    document = json.loads(stored.read_text())
    light = document["files"]["shop/jobs.py"]["check"][4]
    light[[f.name for f in dataclasses.fields(ModuleFacts)].index("registered")] = [7]  # a number is no name
    stored.write_text(json.dumps(document))
    assert check(capsys, "shop/sender.py") == (1, [("shop/sender.py", 3, "CB205")])


def test_the_stat_fast_path_reads_no_file(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "RACY_NS", 0)  # files written a moment ago count as settled
    assert check(capsys) == (1, EXPECTED)
    read = spy(monkeypatch, cache, "read_source")
    assert check(capsys) == (1, EXPECTED)
    assert read == []


def test_a_recent_file_is_hashed_not_trusted_by_its_stat(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check(capsys) == (1, EXPECTED)
    settings = shop / "shop" / "settings.py"
    before = os.stat(settings)
    settings.write_text(SETTINGS.replace("pickle", "json__"))  # the same size
    os.utime(settings, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    assert check(capsys) == (1, [("shop/jobs.py", 10, "CB202")])


@pytest.mark.parametrize("content", [
    b"\x00\xffnot json", b"[]", b'{"stamp": "another tool"}', b"{" * 10_000,
    "damaged entry", "foreign entry", "packed text cut short", "packed text that unpacks to 20 MB",
])
def test_a_damaged_or_foreign_cache_is_rebuilt(
    shop: Path, capsys: pytest.CaptureFixture[str], content: bytes | str
) -> None:
    assert check(capsys) == (1, EXPECTED)
    stored = shop / ".celery_boundary_cache" / "check.json"
    if isinstance(content, bytes):
        stored.write_bytes(content)
    else:
        document = json.loads(stored.read_text())
        entry = document["files"]["shop/jobs.py"]
        if content == "damaged entry":  # a line number that is a string, deep inside the facts
            result = warm._parsed(entry["check"][1])
            result[3][2][0][2] = "10"
            entry["check"][1] = warm._packed(result)
        elif content == "packed text cut short":
            entry["check"][1] = entry["check"][1][:-10]
        elif content == "packed text that unpacks to 20 MB":  # 20 kB in the file
            entry["check"][1] = base64.b85encode(zlib.compress(b"0" * 20_000_000, 9)).decode()
        else:  # another file's result under this file's name
            entry["check"] = document["files"]["shop/settings.py"]["check"]
            entry["sha"] = document["files"]["shop/settings.py"]["sha"]
        stored.write_text(json.dumps(document))
    assert check(capsys) == (1, EXPECTED)
    assert check(capsys) == (1, EXPECTED)
    assert json.loads(stored.read_text())["stamp"] == cache.tool_stamp()


def test_another_configuration_or_version_recomputes(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check(capsys, "--select", "CB301") == (0, [])
    write(shop, "pyproject.toml", "[tool.celery_boundary]\nmax-task-logic = 0\n")
    assert check(capsys, "--select", "CB301") == (1, [("shop/jobs.py", 10, "CB301")])  # sum(): an aggregation
    checked = spy(monkeypatch, warm, "check_file")
    monkeypatch.setattr(celery_boundary, "__version__", "99.0")
    assert check(capsys, "--select", "CB301")[0] == 1
    assert len(checked) == 5


def test_no_cache_neither_reads_nor_writes_and_cache_dir_moves_it(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check(capsys, "--no-cache") == (1, EXPECTED)
    assert not (shop / ".celery_boundary_cache").exists()
    assert check(capsys, "--cache-dir", "elsewhere") == (1, EXPECTED)
    assert (shop / "elsewhere" / "check.json").is_file()
    write(shop, "pyproject.toml", '[tool.celery_boundary]\ncache-dir = "build/cb"\n')
    assert check(capsys) == (1, EXPECTED)
    assert (shop / "build" / "cb" / "check.json").is_file()
    assert not (shop / ".celery_boundary_cache").exists()


def test_a_folder_that_cannot_be_written_leaves_the_run_cold(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(shop, "taken", "a file where the folder would be\n")
    assert check(capsys, "--cache-dir", "taken") == (1, EXPECTED)
    assert check(capsys, "--cache-dir", "taken/below") == (1, EXPECTED)


def test_a_failed_write_leaves_the_previous_file_whole(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check(capsys) == (1, EXPECTED)
    stored = shop / ".celery_boundary_cache" / "check.json"
    before = stored.read_bytes()

    def interrupted(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", interrupted)
    write(shop, "shop/util.py", "def helper() -> int:\n    return 2\n")
    assert check(capsys) == (1, EXPECTED)
    assert stored.read_bytes() == before
    assert sorted(p.name for p in stored.parent.iterdir()) == [".gitignore", "check.json"]  # no temporary left


def test_concurrent_runs_each_read_a_whole_file(shop: Path) -> None:
    # Four processes at once, each writing the cache: each reads no file or a whole one, never half.
    command = [sys.executable, "-m", "celery_boundary.cli", "check", "-q", "--format", "json"]
    runs = [subprocess.Popen(command, cwd=shop, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(4)]
    outputs = [run.communicate() for run in runs]
    assert [run.returncode for run in runs] == [1] * 4, outputs
    assert all([(f["path"], f["line"], f["code"]) for f in json.loads(out)] == EXPECTED for out, _ in outputs)
    stored = json.loads((shop / ".celery_boundary_cache" / "check.json").read_text())
    assert len(stored["files"]) == 5
    assert sorted(p.name for p in (shop / ".celery_boundary_cache").iterdir()) == [".gitignore", "check.json"]


# The last run remembered whole (gate/run_memo.py) ------------------------------------------------


def test_the_same_command_over_unchanged_files_prints_the_remembered_findings(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "RACY_NS", 0)  # files written a moment ago count as settled
    assert check(capsys) == (1, EXPECTED)
    assert (shop / ".celery_boundary_cache" / "run.json").is_file()
    loaded: list[object] = []
    real_load = cache.Cache._load
    monkeypatch.setattr(cache.Cache, "_load", lambda self: loaded.append(self) or real_load(self))
    read = spy(monkeypatch, engine, "read_source")
    assert check(capsys) == (1, EXPECTED)
    assert loaded == [] and read == []  # neither the per-file cache nor any module was read
    assert check(capsys, "--select", "CB101") == (1, [("shop/settings.py", 1, "CB101")])  # another command
    assert len(loaded) == 1


def test_a_changed_file_drops_the_remembered_run(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "RACY_NS", 0)
    assert check(capsys) == (1, EXPECTED)
    write(shop, "shop/flows.py", FLOW + "\n\ndef again() -> None:\n    total.delay([1])\n")
    assert check(capsys) == (1, [("shop/settings.py", 1, "CB101")])  # total is launched alone now
    (shop / "shop" / "util.py").unlink()
    assert check(capsys) == (1, [("shop/settings.py", 1, "CB101")])
    write(shop, "shop/extra.py", "from celery import Celery\n\napp = Celery('x', task_serializer='pickle')\n")
    assert check(capsys) == (1, [("shop/extra.py", 3, "CB101"), ("shop/settings.py", 1, "CB101")])


def test_a_changed_deployment_file_drops_the_remembered_run(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The beat scheduler named in a Procfile decides CB401's advice: a file the rules read besides modules.
    monkeypatch.setattr(cache, "RACY_NS", 0)
    write(project, ".git/HEAD", "")
    write(project, "proj/celery.py", "from celery import Celery\n\napp = Celery('proj')\n"
                                     "app.conf.beat_schedule = {'tick': {'task': 'proj.tick', 'schedule': 60.0}}\n")
    status = main(["check", "-q", "--format", "json", "--select", "CB401"])
    first = json.loads(capsys.readouterr().out)
    assert status == 1 and "add 'options': {'expires': <seconds" in first[0]["message"]
    write(project, "Procfile", "beat: celery -A proj beat -S django\n")
    main(["check", "-q", "--format", "json", "--select", "CB401"])
    assert "add 'options': {'expire_seconds': <seconds" in json.loads(capsys.readouterr().out)[0]["message"]


@pytest.mark.parametrize("content", [b"\x00\xffnot json", b"{}", b'{"stamp": "x", "key": "y"}'])
def test_a_damaged_remembered_run_is_ignored(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    monkeypatch.setattr(cache, "RACY_NS", 0)
    assert check(capsys) == (1, EXPECTED)
    (shop / ".celery_boundary_cache" / "run.json").write_bytes(content)
    assert check(capsys) == (1, EXPECTED)
    document = json.loads((shop / ".celery_boundary_cache" / "run.json").read_text())
    assert document["findings"][0][0] == "shop/jobs.py"  # rewritten whole


def test_a_file_that_cannot_be_checked_is_still_reported_from_the_remembered_run(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "RACY_NS", 0)
    write(shop, "shop/broken.py", "from celery import shared_task\ndef (:\n")
    for _ in range(2):
        assert main(["check", "-q", "--format", "json", "--ignore", "CB001"]) == 1
        captured = capsys.readouterr()
        assert "shop/broken.py: skipped, cannot be parsed" in captured.err


WORDLIKE = st.text(alphabet="ab_1é·ß ", min_size=1, max_size=4).filter(lambda word: re.fullmatch(r"\w+", word))


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab_1é·ß .\n(", max_size=60), words=st.frozensets(WORDLIKE, min_size=1, max_size=24))
def test_stored_words_mention_a_name_exactly_when_the_text_does(text: str, words: frozenset[str]) -> None:
    """A one-file check asks whether each other file mentions a task of the checked file from the
    file's stored words (a few names one by one, many in a set); the text and the regular
    expression the words stand for give the same answer."""
    expected = re.search(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", text) is not None
    assert warm._names_in(warm._words(text.encode()), words) == expected
    assert warm._text_mentions(text, words) == expected  # the cold path, from the text
