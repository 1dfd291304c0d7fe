"""Names shared by the routing (plugin.py, loaded with mypy) and the modules it loads on first use.

Keys of the class metadata the plugin writes (mypy serializes ``TypeInfo.metadata`` in its
cache), the names hooks are routed on, and the type of the class lookup every hook is given:
plugin.py reads them here so that routing a name imports none of the modules that do the work.

Loaded with the plugin at start-up, read by the routing and by the hook modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeAlias

from mypy.nodes import TypeInfo

#: ``info.metadata[METADATA]`` holds this plugin's facts about a class.
METADATA: Final = "celery_boundary"
#: ``{"include_subclasses": bool}`` for a class decorated with ``@register_preserializer``.
PRESERIALIZER: Final = "preserializer"
#: The string of ``serializer = "..."`` in a Task subclass body.
SERIALIZER: Final = "serializer"

#: The callable an options form of a task decorator returns (hooks/tasks.py): mypy looks its
#: function hook up by this name when it is applied to the task function. A name, not an import
#: path: mypy prints it in messages about that call and stores it in its cache, so it stays as is.
FACTORY: Final = "celery_boundary.mypy.tasks.apply_task_options"
#: Task methods that take the task's arguments directly, and those that take ``args=``/``kwargs=``.
DIRECT: Final = frozenset({"delay", "si", "s", "delay_on_commit"})
PACKED: Final = frozenset({"apply_async", "signature", "subtask", "apply_async_on_commit", "send_task", "retry"})
#: celery-types 0.26's signature class, and the GroupResult methods that deliver its results.
SIGNATURE: Final = "celery.canvas.Signature"
GROUP_RESULT: Final = "celery.result.GroupResult"
GROUP_RESULT_METHODS: Final = frozenset(f"{GROUP_RESULT}.{name}" for name in ("get", "join", "join_native"))

#: How a hook finds a class by its fullname (``CeleryBoundaryPlugin.lookup_info``).
Lookup: TypeAlias = Callable[[str], TypeInfo | None]
