"""The start-up memory (mypy/startup/memory.py): a remembered scan gives exactly what a fresh scan gives.

Every edit in these tests goes through ``Tree``, which gives each changed file and folder a fresh,
distinct mtime in the past: two edits then never share a mtime, as they could within one tick of
the file system's clock (the case the racy rule exists for, tested on its own below).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mypy.options import Options

from celery_boundary.mypy.startup import appscan
from celery_boundary.mypy.startup import discovery
from celery_boundary.mypy.startup import settings as plugin_settings
from celery_boundary.mypy.startup.appscan import AppFacts, facts_from_json, scan_app
from celery_boundary.mypy.startup.discovery import discover_app
from celery_boundary.mypy.startup.memory import Memory, Observed, is_racy, memory_path

APP = 'from celery import Celery\n\napp = Celery("proj", task_serializer="{serializer}")\n'
REGISTERING = (
    "from kombu.utils.json import register_type\n\nfrom proj.money import Money\n\n"
    'register_type(Money, "money", str, Money)\n'
)


class Tree:
    """A project folder whose every change gets a new mtime, one millisecond after the last, an hour ago."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._clock = time.time_ns() - 3600 * 10**9

    def _settle(self, *paths: Path) -> None:
        for path in paths:
            self._clock += 1_000_000
            os.utime(path, ns=(self._clock, self._clock))

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        created = [p for p in [*reversed(path.parents), path] if not p.exists() and self.root in p.parents]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self._settle(*[p.parent for p in created], *created, path)

    def remove(self, name: str) -> None:
        path = self.root / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        self._settle(path.parent)


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    made = Tree(tmp_path / "project")
    made.root.mkdir()
    made.write("proj/__init__.py", "")
    made.write("proj/celery.py", APP.format(serializer="json"))
    made.write("proj/tasks.py", "from proj.celery import app\n")
    return made


def remembered(tree: Tree, store: Path) -> AppFacts:
    """Discovery through the memory at ``store``, saved afterwards (one mypy start)."""
    memory = Memory(str(store))
    facts = discover_app(tree.root, [tree.root], memory)
    memory.save()
    return facts


def fresh(tree: Tree) -> AppFacts:
    return discover_app(tree.root, [tree.root])


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files discovery reads (those it could not answer from memory)."""
    seen: list[str] = []
    original = discovery._creates_app

    def counting(path: str, sources: object) -> tuple[bool, tuple[int, int]]:
        seen.append(os.path.basename(path))
        return original(path, sources)  # type: ignore[arg-type]

    monkeypatch.setattr(discovery, "_creates_app", counting)
    return seen


def test_an_unchanged_project_is_answered_from_memory(tree: Tree, tmp_path: Path, judged: list[str]) -> None:
    store = tmp_path / "memory.json"
    first = remembered(tree, store)
    assert sorted(judged) == ["__init__.py", "celery.py", "tasks.py"]
    judged.clear()
    assert remembered(tree, store) == first == fresh(tree)
    assert judged == ["__init__.py", "celery.py", "tasks.py"]  # fresh() alone read them
    assert first.discovered == ["proj.celery"] and first.task_serializer == "json"


def test_only_the_edited_file_is_read_again(tree: Tree, tmp_path: Path, judged: list[str]) -> None:
    store = tmp_path / "memory.json"
    remembered(tree, store)
    tree.write("proj/tasks.py", "from proj.celery import app\n\n# edited\n")
    judged.clear()
    remembered(tree, store)
    assert judged == ["tasks.py"]


def test_an_edited_app_module_is_scanned_again(tree: Tree, tmp_path: Path) -> None:
    store = tmp_path / "memory.json"
    assert remembered(tree, store).task_serializer == "json"
    tree.write("proj/celery.py", APP.format(serializer="pickle"))
    assert remembered(tree, store).task_serializer == "pickle"


def test_a_new_app_in_a_new_folder_is_found(tree: Tree, tmp_path: Path) -> None:
    store = tmp_path / "memory.json"
    remembered(tree, store)
    tree.write("worker/__init__.py", "")
    tree.write("worker/app.py", APP.format(serializer="msgpack"))
    facts = remembered(tree, store)
    assert facts.discovered == ["proj.celery", "worker.app"]
    assert facts == fresh(tree)


def test_a_module_edited_into_an_app_and_back_is_followed(tree: Tree, tmp_path: Path) -> None:
    store = tmp_path / "memory.json"
    remembered(tree, store)
    tree.write("proj/tasks.py", APP.format(serializer="yaml"))  # same folder, same names: only stamps differ
    assert remembered(tree, store).discovered == ["proj.celery", "proj.tasks"]
    tree.write("proj/tasks.py", "from proj.celery import app\n")
    assert remembered(tree, store).discovered == ["proj.celery"]


def test_a_removed_app_is_forgotten(tree: Tree, tmp_path: Path) -> None:
    store = tmp_path / "memory.json"
    tree.write("worker/app.py", APP.format(serializer="msgpack"))
    assert remembered(tree, store).discovered == ["proj.celery", "app"]
    tree.remove("worker")
    assert remembered(tree, store).discovered == ["proj.celery"]


def test_a_registration_in_an_imported_module_follows_edits(tree: Tree, tmp_path: Path) -> None:
    store = tmp_path / "memory.json"
    tree.write("proj/money.py", "class Money: ...\n")
    tree.write("proj/celery.py", APP.format(serializer="json") + "import proj.registry\n")
    assert remembered(tree, store).registrations == []
    tree.write("proj/registry.py", REGISTERING)  # a module the scan probed for and did not find
    names = [r.fullname for r in remembered(tree, store).registrations]
    assert names == ["proj.money.Money"]
    tree.write("proj/registry.py", "\n")
    assert remembered(tree, store).registrations == []


def test_a_file_from_the_same_tick_is_used_but_not_kept(tree: Tree, tmp_path: Path, judged: list[str]) -> None:
    store = tmp_path / "memory.json"
    remembered(tree, store)
    path = tree.root / "proj" / "tasks.py"
    path.write_text("from proj.celery import app\n\n# just written\n")
    # Later than any scan's start: inside the window in every run, however slow the machine.
    future = time.time_ns() + 3600 * 10**9
    os.utime(path, ns=(future, future))
    judged.clear()
    remembered(tree, store)
    assert judged == ["tasks.py"]
    judged.clear()
    remembered(tree, store)
    assert judged == ["tasks.py"], "a file written within the racy window must be read again"


def test_the_racy_window() -> None:
    started = 1_800_000_000_000_000_123
    assert is_racy(started - 50_000_000, started)
    assert not is_racy(started - 200_000_000, started)
    whole_second = (started // 10**9 - 1) * 10**9  # a coarse file system: two seconds
    assert is_racy(whole_second, started)
    assert not is_racy(whole_second - 2 * 10**9, started)
    assert not is_racy(-1, started)


@pytest.mark.parametrize(
    "stored",
    [
        "not json",
        "[]",
        json.dumps({"format": 999}),
        None,  # replaced below by a well-formed file with wrong types inside
        "inner",
    ],
)
def test_a_damaged_memory_is_ignored(tree: Tree, tmp_path: Path, stored: str | None) -> None:
    store = tmp_path / "memory.json"
    remembered(tree, store)
    assert json.loads(store.read_text())["folders"], "the memory under test holds folder listings"
    if stored is None:
        data = json.loads(store.read_text())
        for kind in ("folders", "apps", "scans"):
            data[kind] = {key: 7 for key in data[kind]} or {"x": 7}
        data["apps"] = {str(tree.root / "proj"): {"names": 3, "stamps": None, "creates": 1}}
        stored = json.dumps(data)
    elif stored == "inner":  # the right shapes, wrong things inside (names that are not strings)
        data = json.loads(store.read_text())
        data["folders"] = {folder: [entry[0], "proj", [1, 2]] for folder, entry in data["folders"].items()}
        data["apps"] = {folder: {**entry, "creates": [None]} for folder, entry in data["apps"].items()}
        stored = json.dumps(data)
    store.write_text(stored)
    assert remembered(tree, store) == fresh(tree)
    assert remembered(tree, store) == fresh(tree)


def test_an_unwritable_cache_folder_costs_nothing_but_time(tree: Tree, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = blocker / "celery_boundary" / "memory.json"  # a folder inside a file
    assert remembered(tree, store) == fresh(tree)


def test_no_memory_without_a_cache() -> None:
    assert memory_path(os.devnull, "/proj") is None
    assert memory_path("", "/proj") is None
    one, other = memory_path(".mypy_cache", "/a"), memory_path(".mypy_cache", "/b")
    assert one is not None and other is not None and one != other


def test_a_configured_app_is_remembered_and_follows_edits(tree: Tree, tmp_path: Path) -> None:
    store = tmp_path / "memory.json"
    calls: list[str] = []
    original = appscan._scan

    def counting(module: str, roots: list[Path], sources: object) -> AppFacts:
        calls.append(module)
        return original(module, roots, sources)  # type: ignore[arg-type]

    def scan() -> AppFacts:
        memory = Memory(str(store))
        facts = scan_app("proj.celery", [tree.root], memory=memory)
        memory.save()
        return facts

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(appscan, "_scan", counting)
        first = scan()
        assert scan() == first and calls == ["proj.celery"]
        tree.write("proj/celery.py", APP.format(serializer="yaml"))
        assert scan().task_serializer == "yaml" and len(calls) == 2


def test_versions_follow_an_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "celery-5.6.0.dist-info").mkdir(parents=True)
    old = time.time_ns() - 3600 * 10**9
    os.utime(site, ns=(old, old))
    earlier = tmp_path / "earlier"  # on sys.path before site, not there yet
    monkeypatch.setattr(sys, "path", [str(earlier), str(site)])
    store = tmp_path / "memory.json"

    def versions() -> dict[str, str]:
        memory = Memory(str(store))
        found = plugin_settings.read_versions(memory)
        memory.save()
        return found

    assert versions()["celery"] == "5.6.0"
    assert json.loads(store.read_text())["dists"] == {str(earlier): [-1, {}], str(site): [old, {"celery": "5.6.0"}]}
    shutil.rmtree(site / "celery-5.6.0.dist-info")
    (site / "celery-5.7.0.dist-info").mkdir()
    os.utime(site, ns=(old + 10**6, old + 10**6))
    assert versions()["celery"] == "5.7.0"
    (earlier / "celery-5.8.0.dist-info").mkdir(parents=True)
    os.utime(earlier, ns=(old + 2 * 10**6, old + 2 * 10**6))
    assert versions()["celery"] == "5.8.0"
    assert versions()["kombu"] == "absent"


def test_load_settings_writes_into_mypys_cache_folder(tree: Tree, tmp_path: Path) -> None:
    tree.write("mypy.ini", "[mypy]\nplugins = celery_boundary.mypy\n")
    options = Options()
    options.config_file = str(tree.root / "mypy.ini")
    options.cache_dir = str(tmp_path / "cache")
    first = plugin_settings.load_settings(options).config_data()
    assert list((tmp_path / "cache" / "celery_boundary").glob("startup-*.json"))
    assert plugin_settings.load_settings(options).config_data() == first
    options.incremental = False
    shutil.rmtree(tmp_path / "cache")
    assert plugin_settings.load_settings(options).config_data() == first
    assert not (tmp_path / "cache").exists(), "--no-incremental: mypy's cache rules, nothing written"


def test_a_failure_inside_the_memory_falls_back_to_a_fresh_read(
    tree: Tree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree.write("mypy.ini", "[mypy]\nplugins = celery_boundary.mypy\n")
    options = Options()
    options.config_file = str(tree.root / "mypy.ini")
    options.cache_dir = str(tmp_path / "cache")
    fresh_data = plugin_settings.load_settings(options).config_data()

    original = Memory.app_files

    def broken(self: Memory, *args: Any) -> list[str]:
        if self.path is not None:
            raise RuntimeError("a memory bug")
        return original(self, *args)

    monkeypatch.setattr(Memory, "app_files", broken)
    assert plugin_settings.load_settings(options).config_data() == fresh_data


# --- a property: whatever the edits, memory and a fresh scan agree -----------------------------
NAMES = ["proj/celery.py", "proj/tasks.py", "proj/sub/worker.py", "other/app.py", "proj/tests/app.py", "top.py"]
CONTENTS = [
    APP.format(serializer="json"),
    APP.format(serializer="pickle"),
    "from proj.celery import app\n",
    "import proj.registry\n" + APP.format(serializer="json"),
    "x = 1\n",
]
Edit = tuple[str, str, int]
EDITS = st.lists(
    st.tuples(st.sampled_from(["write", "remove", "registry"]), st.sampled_from(NAMES), st.integers(0, 4)),
    min_size=1,
    max_size=8,
)


@pytest.fixture
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="startup-memory-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_memory_and_a_fresh_scan_always_agree(scratch: Path, edits: list[Edit]) -> None:
    root = Path(tempfile.mkdtemp(dir=scratch))
    tree = Tree(root / "project")
    tree.root.mkdir()
    tree.write("proj/__init__.py", "")
    tree.write("proj/money.py", "class Money: ...\n")
    store = root / "memory.json"
    assert remembered(tree, store) == fresh(tree)
    for action, name, content in edits:
        if action == "write":
            tree.write(name, CONTENTS[content])
        elif action == "registry":
            tree.write("proj/registry.py", REGISTERING if content % 2 else "\n")
        elif (tree.root / name).exists():
            tree.remove(name)
        assert remembered(tree, store) == fresh(tree), edits


# --- the daemon's view: a later plugin instance that finds other settings -----------------------
def test_a_later_instance_that_finds_another_app_changes_the_version(monkeypatch: pytest.MonkeyPatch) -> None:
    from celery_boundary.mypy.startup import version

    for name in ("_watched", "_owner", "_found", "_moved"):
        monkeypatch.setattr(version, name, [])
    version.watch("proj/mypy.ini", (), "first")
    assert version.current() == version.VERSION
    version.watch("proj/mypy.ini", (), "first")  # dmypy run, nothing new
    assert version.current() == version.VERSION
    version.watch("proj/mypy.ini", (), "second")  # dmypy run after an app module was added
    moved = version.current()
    assert moved.startswith(f"{version.VERSION}+inputs.") and moved == version.current()
    version.watch("proj/mypy.ini", (), "first")  # ... and removed again: the daemon's settings hold
    assert version.current() == version.VERSION
    version.watch("other/mypy.ini", (), "other")  # another configuration owns the state
    assert version.current() == version.VERSION


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entries=st.lists(
        st.tuples(st.sampled_from(["folders", "apps", "scans", "dists"]), st.booleans(), JSON, JSON), max_size=6
    )
)
def test_any_stored_values_under_the_right_header_give_the_fresh_answer(
    scratch: Path, entries: list[tuple[str, bool, object, object]]
) -> None:
    """A stored file that passes the header check but holds anything at all: never an exception, and
    the fresh answer unless the damage is itself a well-formed fact (a listing of the wrong names
    under the right mtime is trusted, as mypy trusts its own cache). Keys are the project's real
    folders and scans; with ``keep`` an entry keeps its real mtime / stamps, so the damaged part is
    the part that gets used."""
    root = Path(tempfile.mkdtemp(dir=scratch))
    tree = Tree(root / "project")
    tree.root.mkdir()
    tree.write("proj/__init__.py", "")
    tree.write("proj/celery.py", APP.format(serializer="yaml"))
    store = root / "memory.json"
    remembered(tree, store)
    data = json.loads(store.read_text())
    lies = False
    for number, (kind, keep, one, other) in enumerate(entries):
        keys = list(data[kind]) or [str(tree.root / "proj")]
        key = keys[number % len(keys)]
        original = data[kind].get(key)
        value: object = one
        if keep and kind == "folders" and isinstance(original, list) and original:
            value = [original[0], one, other]
        elif keep and kind == "dists" and isinstance(original, list) and original:
            value = [original[0], one]
        elif keep and kind == "apps" and isinstance(original, dict):
            value = {**original, "creates": one} if number % 2 else {**original, "names": one}
        elif keep and kind == "scans" and isinstance(original, dict):
            value = {**original, "value": one}
        data[kind][key] = value
        lies = lies or well_formed(kind, value)
    store.write_text(json.dumps(data))
    found = remembered(tree, store)
    versions = plugin_settings.read_versions(Memory(str(store)))
    if not lies:
        assert found == fresh(tree)
        assert versions == plugin_settings.read_versions()


def well_formed(kind: str, value: object) -> bool:
    """The shape the memory stores for ``kind`` (its content may still be false)."""

    def names(item: object) -> bool:
        return isinstance(item, list) and all(isinstance(name, str) for name in item)

    if kind == "folders":
        return isinstance(value, list) and len(value) == 3 and names(value[1]) and names(value[2])
    if kind == "dists":
        return isinstance(value, list) and len(value) == 2 and isinstance(value[1], dict)
    if kind == "apps":
        return isinstance(value, dict) and names(value.get("names")) and names(value.get("creates"))
    try:
        assert isinstance(value, dict)
        Observed.load(value["observed"])
        facts_from_json(value["value"])
    except Exception:  # noqa: BLE001 - any failure means the memory ignores it
        return False
    return True
