"""What each kombu serializer is: its name, content type and the properties rules depend on.

How each one treats a given type lives in ``core.verdicts``; this module only names them.
Measured on kombu 5.7.0 (see docs/verdicts.md).
"""

from __future__ import annotations

from typing import Final

from celery_boundary.core.records import record


@record
class Serializer:
    name: str
    content_type: str
    #: Decoding a message can run arbitrary code (remote code execution from the broker).
    executes_code: bool
    #: ``kombu.utils.json.register_type`` registrations apply (json only).
    honours_register_type: bool
    #: We know what it carries; an unknown custom serializer gets *unknown* verdicts.
    known: bool = True


JSON: Final = Serializer("json", "application/json", False, True)
MSGPACK: Final = Serializer("msgpack", "application/x-msgpack", False, False)
YAML: Final = Serializer("yaml", "application/x-yaml", False, False)
PICKLE: Final = Serializer("pickle", "application/x-python-serialize", True, False)

KNOWN: Final[dict[str, Serializer]] = {s.name: s for s in (JSON, MSGPACK, YAML, PICKLE)}
BY_CONTENT_TYPE: Final[dict[str, Serializer]] = {s.content_type: s for s in KNOWN.values()}
DEFAULT: Final = JSON


def lookup(name: str) -> Serializer:
    """The serializer called ``name`` (or with that content type); unknown names are custom."""
    key = name.strip().lower()
    found = KNOWN.get(key) or BY_CONTENT_TYPE.get(key)
    if found is not None:
        return found
    return Serializer(name, f"application/x-{key}", False, False, known=False)
