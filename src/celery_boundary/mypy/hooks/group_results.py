"""``group(...).delay()`` / ``.apply_async()``: a ``GroupResult`` whose ``.get()`` is typed.

Celery 5.7's ``group.apply_async`` returns a ``GroupResult`` (a ``ResultSet``, not an
``AsyncResult``); celery-types 0.26 says ``AsyncResult[Any]``, and its ``GroupResult`` is not
generic. The plugin returns celery-types' own ``GroupResult`` — so ``res: GroupResult = g.delay()``
and every ``GroupResult`` annotation keep working — carrying in ``extra_attrs`` (serialized with
the type, like canvas nodes) the list the members' results arrive as through the result
serializer. ``.get()`` / ``.join()`` / ``.join_native()`` on such a result return that list; on any
other ``GroupResult`` (annotated, joined, built by hand) they stay as celery-types types them.

Hook phase: the ``GroupResult.get`` / ``join`` / ``join_native`` method hooks.
"""

from __future__ import annotations

from typing import Final

from mypy.plugin import CheckerPluginInterface, MethodContext
from mypy.types import ExtraAttrs, Instance, Type, get_proper_type

from celery_boundary.mypy.hooks.boundary import arrival_type
from celery_boundary.mypy.hooks.canvas_nodes import Node
from celery_boundary.mypy.metadata import GROUP_RESULT, Lookup
from celery_boundary.mypy.startup.settings import Settings

GROUP: Final = "celery.canvas.group"
#: The list ``.get()`` delivers (already as the result serializer delivers it).
ARRIVES: Final = "__celery_boundary_group_arrives__"
#: Method hooks are named after the receiver's class (mypy 1.20 / 2.4); these come from ResultSet.


def is_group(typ: Type) -> bool:
    proper = get_proper_type(typ)
    return isinstance(proper, Instance) and proper.type.has_base(GROUP)


def group_result(api: CheckerPluginInterface, settings: Settings, lookup: Lookup, node: Node) -> Type | None:
    """``GroupResult`` carrying ``list[<member results as they arrive>]``; None if unknown."""
    info = lookup(GROUP_RESULT)
    if info is None or node.result is None:
        return None
    arrived = arrival_type(api, settings, lookup, node.result, node.pydantic) or node.result
    return Instance(info, [], extra_attrs=ExtraAttrs({ARRIVES: arrived}, {ARRIVES}))


def type_group_get(ctx: MethodContext) -> Type:
    """``.get()`` on a result the plugin typed: the members' results, as they arrive."""
    proper = get_proper_type(ctx.type)
    if isinstance(proper, Instance) and proper.extra_attrs is not None and ARRIVES in proper.extra_attrs.attrs:
        return proper.extra_attrs.attrs[ARRIVES]
    return ctx.default_return_type
