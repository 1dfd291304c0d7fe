"""Two real Celery apps in one process: a task publishes with the serializer of the app whose
decorator made it, which is the app the mypy plugin judges it by (celery 5.7, kombu 5.7).

The same source is run (messages read back from kombu's in-memory transport) and checked by mypy
with the plugin and no ``app`` configured (both apps discovered).
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from kombu import Connection
from kombu.exceptions import EncodeError
from mypy import api

SOURCE = textwrap.dedent("""\
    from celery import Celery

    shipping = Celery("shipping", broker="memory://", set_as_current=False)
    legacy = Celery("legacy", broker="memory://", set_as_current=False, task_serializer="pickle")


    @shipping.task(name="twoapps_truth.label")
    def label(ids: set[int]) -> None: ...


    @legacy.task(name="twoapps_truth.reweigh")
    def reweigh(ids: set[int]) -> None: ...


    def send() -> None:
        reweigh.delay({1, 2})
        label.delay({1, 2})
    """)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "twoapps_truth.py").write_text(SOURCE)
    (tmp_path / "mypy.ini").write_text("[mypy]\nplugins = celery_boundary.mypy\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def module(project: Path) -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("twoapps_truth", project / "twoapps_truth.py")
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules["twoapps_truth"] = loaded
    try:
        spec.loader.exec_module(loaded)
        yield loaded
    finally:
        del sys.modules["twoapps_truth"]


def published(queue: str = "celery") -> list[str]:
    """The content types of the messages waiting in ``queue`` (kombu's memory transport is shared
    by every ``memory://`` connection of the process)."""
    types = []
    with Connection("memory://") as connection:
        channel = connection.default_channel
        # basic_get hands the message over undecoded: the worker's accept_content is not ours to test.
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            types.append(message.content_type)
    return types


def test_a_task_publishes_with_the_serializer_of_the_app_that_made_it(module: ModuleType) -> None:
    published()  # an empty queue to start from
    assert module.reweigh.app is module.legacy
    # shared=True (the default) registers the task in every app; the object imported stays legacy's.
    assert "twoapps_truth.reweigh" in module.shipping.tasks
    module.reweigh.delay({1, 2})
    assert published() == ["application/x-python-serialize"]
    with pytest.raises(EncodeError):
        module.label.delay({1, 2})
    module.label.delay([1, 2])
    assert published() == ["application/json"]


def test_the_plugin_judges_each_task_as_it_publishes(project: Path) -> None:
    stdout, stderr, _ = api.run(["--no-incremental", "--config-file", "mypy.ini", "twoapps_truth.py"])
    found = [line for line in stdout.splitlines() if ": error:" in line or ": note:" in line]
    assert len(found) == 1, stdout + stderr
    assert found[0].startswith(
        'twoapps_truth.py:17: error: "label.delay" argument "ids" (set[int]) cannot cross with the json serializer'
    )
