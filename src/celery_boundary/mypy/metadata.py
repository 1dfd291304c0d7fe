"""Keys of the class metadata the plugin writes (mypy serializes ``TypeInfo.metadata`` in its cache)."""

from __future__ import annotations

from typing import Final

#: ``info.metadata[METADATA]`` holds this plugin's facts about a class.
METADATA: Final = "celery_boundary"
#: ``{"include_subclasses": bool}`` for a class decorated with ``@register_preserializer``.
PRESERIALIZER: Final = "preserializer"
#: The string of ``serializer = "..."`` in a Task subclass body.
SERIALIZER: Final = "serializer"
