"""The mypy error codes of celery-boundary: celery-unserializable, celery-lossy, celery-canvas,
celery-unknown-task, celery-model-instance, celery-internal.

Defined once at module level so that ``# type: ignore[celery-lossy]`` and
``disable_error_code = celery-lossy`` work (mypy 1.20 / 2.4). Their records live in core/rules.py.

Loaded with the plugin at start-up (through guard.py); the hooks report them.
"""

from __future__ import annotations

from typing import Final

from mypy.errorcodes import ErrorCode

from celery_boundary.core import rules

UNSERIALIZABLE: Final = ErrorCode(
    "celery-unserializable", rules.get("celery-unserializable").summary, "Celery"
)
LOSSY: Final = ErrorCode("celery-lossy", rules.get("celery-lossy").summary, "Celery")
INTERNAL: Final = ErrorCode("celery-internal", rules.get("celery-internal").summary, "Celery")
CANVAS: Final = ErrorCode("celery-canvas", rules.get("celery-canvas").summary, "Celery")
UNKNOWN_TASK: Final = ErrorCode("celery-unknown-task", rules.get("celery-unknown-task").summary, "Celery")
MODEL_INSTANCE: Final = ErrorCode("celery-model-instance", rules.get("celery-model-instance").summary, "Celery")
