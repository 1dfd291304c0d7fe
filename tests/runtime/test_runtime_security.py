"""Decoding never imports a module named by a message: no gadget for whoever can write to the broker.

``cb_runtime_gadget`` is importable (it sits next to this file) and defines ``Evil``, a subclass of
the registered ``Event`` base: a decoder that imported modules by name would build it. The tests
check that each hostile message is refused and that the module was not imported.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from cb_runtime_models import Event
from cb_runtime_wire import read
from kombu.exceptions import DecodeError
from pydantic import BaseModel

from celery_boundary.runtime import register_preserializer

GADGET = "cb_runtime_gadget"


class Note(BaseModel):
    text: str


register_preserializer(Note, include_subclasses=True)


def message(marker: str, value: Any) -> str:
    return json.dumps({"__type__": marker, "__value__": value})


@pytest.fixture
def gadget_not_loaded() -> Iterator[None]:
    assert importlib.util.find_spec(GADGET) is not None, "the gadget must be importable, or the test proves nothing"
    assert GADGET not in sys.modules
    yield
    assert GADGET not in sys.modules, "decoding a message imported a module it named"


@pytest.mark.usefixtures("gadget_not_loaded")
@pytest.mark.parametrize(
    "body",
    [
        # a subclass name in a module that is not loaded
        message("cb:cb_runtime_models.Event", {"class": f"{GADGET}.Evil", "value": {"at": "2026-01-01T00:00:00"}}),
        # a marker naming the gadget's class directly
        message(f"cb:{GADGET}.Evil", {"at": "2026-01-01T00:00:00"}),
        # a made-up module
        message("cb:cb_runtime_models.Event", {"class": "cb_no_such_module.Thing", "value": {}}),
    ],
    ids=["subclass-in-unloaded-module", "marker-of-unloaded-class", "made-up-module"],
)
def test_names_of_unloaded_modules_are_refused_without_importing(body: str) -> None:
    with pytest.raises(DecodeError):
        read(body)
    assert "cb_no_such_module" not in sys.modules


def test_the_refusal_says_why() -> None:
    body = message("cb:cb_runtime_models.Event", {"class": f"{GADGET}.Evil", "value": {"at": "2026-01-01T00:00:00"}})
    with pytest.raises(DecodeError, match=r"no such class is loaded.*never imports a module named by a message"):
        read(body)


def test_a_loaded_class_outside_the_registered_hierarchy_is_refused() -> None:
    """Address is loaded and a pydantic model, but not an Event: the name alone buys nothing."""
    body = message("cb:cb_runtime_models.Event", {"class": "cb_runtime_models.Address", "value": {"street": "a", "city": "b"}})
    with pytest.raises(DecodeError, match="refusing to decode 'cb_runtime_models.Address' as a cb_runtime_models.Event"):
        read(body)
    assert "cb_runtime_models" in sys.modules  # loaded: "not loaded" is not why it was refused


@pytest.mark.parametrize(
    "value",
    [["cb_runtime_models.Created", {}], {"class": "cb_runtime_models.Created"}, {"class": 7, "value": {}}],
    ids=["list", "missing-value", "non-string-name"],
)
def test_malformed_subclass_values_are_refused(value: Any) -> None:
    with pytest.raises(DecodeError):
        read(message("cb:cb_runtime_models.Event", value))


def test_two_loaded_classes_with_one_name_are_refused() -> None:
    twins = [type("Twin", (Note,), {"__module__": __name__, "__qualname__": "Twin"}) for _ in range(2)]
    try:
        with pytest.raises(DecodeError, match="2 loaded classes have that name"):
            read(message(f"cb:{__name__}.Note", {"class": f"{__name__}.Twin", "value": {"text": "t"}}))
    finally:
        del twins
        gc.collect()


def test_a_loaded_subclass_is_found() -> None:
    """The positive case, with a hand-written message: a loaded subclass by its dotted name."""
    body = message("cb:cb_runtime_models.Event", {"class": "cb_runtime_models.Archived", "value": {"at": "2026-01-01T00:00:00", "reason": "r", "shelf": 1}})
    arrived = read(body)
    assert type(arrived).__qualname__ == "Archived" and isinstance(arrived, Event)
