"""Class names on the wire: markers, the importability rule, and subclass lookup without imports.

A worker can only rebuild a value whose class it can reach by the same name the producer wrote,
and it must reach it *without* importing anything named by the message: whoever can write to the
broker would otherwise choose which module the worker imports (an import gadget). So a name read
from a message is only ever matched against classes that already exist in the process.
"""

from __future__ import annotations

import weakref
from typing import Final

MARKER_PREFIX: Final = "cb:"
"""Prefix of our kombu markers, so ``{"__type__": "cb:..."}`` says who wrote it."""

_UNREACHABLE_MODULES: Final = frozenset({"__main__", "__mp_main__"})


def dotted_name(cls: type) -> str:
    """``pkg.mod.Outer.Inner``: the name a worker's import of ``pkg.mod`` makes reachable.

    A parametrised pydantic generic model is named after its origin and arguments
    (``pkg.mod.Box[int]``): pydantic gives ``Box[int]`` the ``__module__`` of whichever module
    parametrised it first (pydantic 2.14), which can differ between the producer and the worker.
    """
    origin, args = _generic_origin(cls)
    if origin is not None:
        return f"{dotted_name(origin)}[{', '.join(_argument_name(arg) for arg in args)}]"
    return f"{cls.__module__}.{cls.__qualname__}"


def _generic_origin(cls: type) -> tuple[type | None, tuple[object, ...]]:
    metadata = getattr(cls, "__pydantic_generic_metadata__", None)
    if isinstance(metadata, dict) and isinstance(metadata.get("origin"), type):
        return metadata["origin"], tuple(metadata.get("args", ()))
    return None, ()


def _argument_name(arg: object) -> str:
    if isinstance(arg, type) and not hasattr(arg, "__origin__"):
        return arg.__qualname__ if arg.__module__ == "builtins" else dotted_name(arg)
    return repr(arg)  # typing forms (list[int], Literal['a'], a TypeVar) repr the same in every process


def marker_for(cls: type) -> str:
    """The kombu marker of a registered class: stable across processes, derived from its name."""
    return MARKER_PREFIX + dotted_name(cls)


def explain_unreachable(cls: type) -> str | None:
    """Why a worker could not reach ``cls`` by name, or None when it can."""
    origin, args = _generic_origin(cls)
    if origin is not None:
        for part in (origin, *args):
            why = explain_unreachable(part) if isinstance(part, type) else None
            if why is not None:
                return why
        return None
    module = getattr(cls, "__module__", None)
    if not isinstance(module, str) or not module:
        return f"{cls!r} has no __module__, so no other process can find it by name"
    if module in _UNREACHABLE_MODULES:
        return (
            f"{cls.__qualname__} is defined in {module}, the script being run; a worker imports your "
            f"modules, not your script, so it would never see this class. Move it into an importable "
            f"module (for example the module that creates the Celery app)"
        )
    if "<locals>" in cls.__qualname__:
        return (
            f"{dotted_name(cls)} is defined inside a function; a worker that imports {module} never "
            f"runs that function, so it cannot rebuild the class. Define it at module level"
        )
    return None


def _walk_subclasses(base: type) -> list[type]:
    seen: set[type] = set()
    order: list[type] = []
    stack: list[type] = [base]
    while stack:
        cls = stack.pop()
        subclasses: list[type] = type.__subclasses__(cls)
        for sub in subclasses:
            if sub not in seen:
                seen.add(sub)
                order.append(sub)
                stack.append(sub)
    return order


class SubclassIndex:
    """Finds a subclass of ``base`` by dotted name among classes that already exist.

    Never imports: a name that no existing subclass carries is refused. Results are cached weakly,
    so classes created on the fly (parametrised pydantic generics) do not leak.
    """

    def __init__(self, base: type) -> None:
        self.base = base
        self._cache: weakref.WeakValueDictionary[str, type] = weakref.WeakValueDictionary()

    def find(self, name: object) -> type:
        if not isinstance(name, str):
            raise ValueError(f"expected the dotted name of a {dotted_name(self.base)} subclass, got {name!r}")
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        candidates = [self.base, *_walk_subclasses(self.base)]
        found = [cls for cls in candidates if dotted_name(cls) == name and explain_unreachable(cls) is None]
        if len(found) != 1:
            why = "no such class is loaded" if not found else f"{len(found)} loaded classes have that name"
            raise ValueError(
                f"refusing to decode {name!r} as a {dotted_name(self.base)}: {why}. celery-boundary never "
                f"imports a module named by a message; import the module that defines the class in the "
                f"worker (for example from the module that creates the Celery app)"
            )
        self._cache[name] = found[0]
        return found[0]
