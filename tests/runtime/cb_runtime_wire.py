"""Helpers that push values through kombu's json serializer exactly as Celery does."""

from __future__ import annotations

import json
from typing import Any

from kombu.serialization import dumps, loads


def wire(value: Any) -> str:
    """The JSON text kombu writes for ``value`` (what sits on the broker)."""
    content_type, encoding, data = dumps(value, serializer="json")
    assert content_type == "application/json"
    return data if isinstance(data, str) else data.decode(encoding)


def round_trip(value: Any) -> Any:
    content_type, encoding, data = dumps(value, serializer="json")
    return loads(data, content_type, encoding)


def read(text: str) -> Any:
    """Decode a hand-written message body, as a worker would."""
    return loads(text, "application/json", "utf-8")


def envelope(value: Any) -> dict[str, Any]:
    """The ``{"__type__": ..., "__value__": ...}`` envelope kombu wrote for ``value``."""
    written: dict[str, Any] = json.loads(wire(value))
    assert written.keys() == {"__type__", "__value__"}, written
    return written
